//! The wasmtime pieces every host here is built from, and nothing else: the
//! engine's configuration, the linker (WASI 0.2 and outgoing `wasi:http`),
//! the store's state ([`Host`], whose requests go through the launcher's
//! own sender, `crate::outgoing`) and the on-disk compile cache. The runner,
//! the typed bindings and the test support build on these; this module
//! imports none of them.

pub mod cache;
mod host;

use wasmtime::component::Linker;
use wasmtime::{Config, Engine};
use wasmtime_wasi::WasiView;
use wasmtime_wasi_http::WasiHttpView;

pub use host::{Extension, Host};

/// The wasmtime configuration shared by the launcher, the tests and the
/// compile cache (a cached entry is only valid for the same configuration).
pub fn engine() -> anyhow::Result<Engine> {
    let config = Config::new();
    Engine::new(&config).map_err(anyhow::Error::from)
}

/// What every host here grants a component: WASI 0.2 and outgoing
/// `wasi:http`, nothing else (the typed tool host links the same).
pub fn linker<T: WasiView + WasiHttpView + 'static>(engine: &Engine) -> anyhow::Result<Linker<T>> {
    let mut linker = Linker::<T>::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(anyhow::Error::from)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker)
        .map_err(anyhow::Error::from)?;
    Ok(linker)
}
