//! Typed calls of the functions the component's world exports, as
//! an embedding host makes them (`wasmtime::component::bindgen!` over the
//! `tool` world of `wit/`, which both builds implement; the WASI imports map
//! onto wasmtime-wasi's own bindings, so nothing is generated for them).

use std::path::{Path, PathBuf};

use anyhow::Context;
use wasmtime::{Engine, Store};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtxView, WasiHttpView};

use crate::runtime::Host;

wasmtime::component::bindgen!({
    path: "../wit",
    world: "contree:auth/tool@0.3.0",
    with: {
        "wasi:cli": wasmtime_wasi::p2::bindings::sync::cli,
        "wasi:clocks": wasmtime_wasi::p2::bindings::sync::clocks,
        "wasi:filesystem": wasmtime_wasi::p2::bindings::sync::filesystem,
        "wasi:io": wasmtime_wasi::p2::bindings::sync::io,
        "wasi:random": wasmtime_wasi::p2::bindings::sync::random,
        "wasi:http": wasmtime_wasi_http::p2::bindings::sync::http,
    },
});

// The world defines its types (`AuthError`, `SaveRequest`, ...) itself, so
// bindgen puts them here, public, beside `Tool`. Both builds export the same
// functions, so one set of bindings, one runner and one instance type serve
// the command build (beside `wasi:cli/run`, which [`crate::Runner`] calls)
// and the tool build alike.

/// How much of stdout and of stderr an instance keeps.
const CAPTURED_BYTES: usize = 1 << 20;

/// Either build of the component, compiled (or loaded from the compile
/// cache) and linked once for typed calls of its exports, the way a
/// capability host links it: WASI 0.2 and outgoing `wasi:http`, nothing else.
pub struct TypedRunner {
    engine: Engine,
    pre: ToolPre<TypedHost>,
}

/// The store of a [`Typed`] instance; its stdout and stderr are kept so
/// that tests can check what the typed functions wrote there.
pub struct TypedHost {
    host: Host,
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
}

impl WasiView for TypedHost {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        self.host.ctx()
    }
}

impl WasiHttpView for TypedHost {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        self.host.http()
    }
}

impl TypedRunner {
    /// Compiles (or loads from the compile cache) and links `wasm`. Linking
    /// fails if the component imports anything beyond WASI 0.2 and `wasi:http`.
    pub fn new(wasm: &[u8], cache_dir: Option<&Path>) -> anyhow::Result<TypedRunner> {
        let engine = crate::runtime::engine()?;
        let (component, _) = crate::runtime::cache::load_component(&engine, wasm, cache_dir)?;
        let linker = crate::runtime::linker::<TypedHost>(&engine)?;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .context("linking the component")?;
        let pre = ToolPre::new(pre)
            .map_err(anyhow::Error::from)
            .context("the component does not export the typed functions of contree:auth@0.3.0")?;
        Ok(TypedRunner { engine, pre })
    }

    /// A fresh instance seeing only `env` and `preopens`
    /// (`(host dir, guest path)`), its stdout and stderr captured.
    pub fn instantiate(
        &self,
        env: &[(String, String)],
        preopens: &[(PathBuf, String)],
    ) -> anyhow::Result<Typed> {
        let stdout = MemoryOutputPipe::new(CAPTURED_BYTES);
        let stderr = MemoryOutputPipe::new(CAPTURED_BYTES);
        let mut builder = WasiCtxBuilder::new();
        builder
            .envs(env)
            .stdout(stdout.clone())
            .stderr(stderr.clone());
        for (host, guest) in preopens {
            builder
                .preopened_dir(host, guest, FsPerms::ReadWrite)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("opening {} for the component", host.display()))?;
        }
        let host = TypedHost {
            host: Host::new(builder),
            stdout,
            stderr,
        };
        let mut store = Store::new(&self.engine, host);
        let bindings = self
            .pre
            .instantiate(&mut store)
            .map_err(anyhow::Error::from)
            .context("instantiating the component")?;
        Ok(Typed { store, bindings })
    }
}

/// One instance and its store. Each method is one export call; the outer
/// `Result` is a trap, the inner one the function's `result<_, auth-error>`.
pub struct Typed {
    store: Store<TypedHost>,
    bindings: Tool,
}

impl Typed {
    pub fn list_profiles(&mut self, offline: bool) -> wasmtime::Result<Result<Listing, AuthError>> {
        self.bindings.call_list_profiles(&mut self.store, offline)
    }

    pub fn save_profile(
        &mut self,
        request: &SaveRequest,
    ) -> wasmtime::Result<Result<SaveOutcome, AuthError>> {
        self.bindings.call_save_profile(&mut self.store, request)
    }

    pub fn switch_profile(&mut self, name: &str) -> wasmtime::Result<Result<(), AuthError>> {
        self.bindings.call_switch_profile(&mut self.store, name)
    }

    pub fn remove_profile(&mut self, name: &str) -> wasmtime::Result<Result<Removal, AuthError>> {
        self.bindings.call_remove_profile(&mut self.store, name)
    }

    pub fn whoami(
        &mut self,
        name: Option<&str>,
    ) -> wasmtime::Result<Result<WhoamiInfo, AuthError>> {
        self.bindings.call_whoami(&mut self.store, name)
    }

    /// Everything the instance wrote to stdout so far.
    pub fn stdout(&self) -> Vec<u8> {
        self.store.data().stdout.contents().to_vec()
    }

    /// Everything the instance wrote to stderr so far.
    pub fn stderr(&self) -> Vec<u8> {
        self.store.data().stderr.contents().to_vec()
    }
}
