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
// bindgen puts them here, public, beside `Tool`.

/// The names the bindings go by for the command build (both builds export
/// the same functions, so one set of bindings serves both).
pub type ContreeAuth = Tool;
pub type ContreeAuthPre<T> = ToolPre<T>;

/// One instance and its store. Each method is one export call; the outer
/// `Result` is a trap, the inner one the function's `result<_, auth-error>`.
pub struct Typed {
    store: Store<Host>,
    bindings: Tool,
}

/// The five calls, for [`Typed`] and [`ToolTyped`] alike.
macro_rules! typed_calls {
    () => {
        pub fn list_profiles(
            &mut self,
            offline: bool,
        ) -> wasmtime::Result<Result<Listing, AuthError>> {
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

        pub fn remove_profile(
            &mut self,
            name: &str,
        ) -> wasmtime::Result<Result<Removal, AuthError>> {
            self.bindings.call_remove_profile(&mut self.store, name)
        }

        pub fn whoami(
            &mut self,
            name: Option<&str>,
        ) -> wasmtime::Result<Result<WhoamiInfo, AuthError>> {
            self.bindings.call_whoami(&mut self.store, name)
        }
    };
}

impl Typed {
    typed_calls!();
}

/// The command build, compiled and linked once for typed calls of its
/// exports (beside `wasi:cli/run`, which [`crate::Runner`] calls).
pub struct TypedRunner {
    engine: Engine,
    pre: ContreeAuthPre<Host>,
}

impl TypedRunner {
    /// Compiles (or loads from the compile cache) and links `wasm`.
    pub fn new(wasm: &[u8], cache_dir: Option<&Path>) -> anyhow::Result<TypedRunner> {
        let engine = crate::runtime::engine()?;
        let (component, _) = crate::runtime::cache::load_component(&engine, wasm, cache_dir)?;
        let linker = crate::runtime::linker::<Host>(&engine)?;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .context("linking the component")?;
        let pre = ContreeAuthPre::new(pre)
            .map_err(anyhow::Error::from)
            .context("the component does not export the typed functions")?;
        Ok(TypedRunner { engine, pre })
    }

    /// A fresh instance seeing only `env` and `preopens`
    /// (`(host dir, guest path)`); stdio is discarded.
    pub fn instantiate(
        &self,
        env: &[(String, String)],
        preopens: &[(PathBuf, String)],
    ) -> anyhow::Result<Typed> {
        let mut builder = WasiCtxBuilder::new();
        builder.envs(env);
        preopen(&mut builder, preopens)?;
        let mut store = Store::new(&self.engine, Host::new(builder.build()));
        let bindings = self
            .pre
            .instantiate(&mut store)
            .map_err(anyhow::Error::from)
            .context("instantiating the component")?;
        Ok(Typed { store, bindings })
    }
}

fn preopen(builder: &mut WasiCtxBuilder, preopens: &[(PathBuf, String)]) -> anyhow::Result<()> {
    for (host, guest) in preopens {
        builder
            .preopened_dir(host, guest, FsPerms::ReadWrite)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("opening {} for the component", host.display()))?;
    }
    Ok(())
}

/// The tool-shaped build, linked the way a capability host links it: WASI 0.2
/// and outgoing `wasi:http`, nothing else. Compiled once per process.
pub struct ToolRunner {
    engine: Engine,
    pre: ToolPre<ToolHost>,
}

/// The store of a [`ToolRunner`] instance; its stdout and stderr are kept so
/// that tests can check what the typed functions wrote there.
pub struct ToolHost {
    host: Host,
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
}

impl WasiView for ToolHost {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        self.host.ctx()
    }
}

impl WasiHttpView for ToolHost {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        self.host.http()
    }
}

impl ToolRunner {
    /// Compiles (or loads from the compile cache) and links `wasm`. Linking
    /// fails if the component imports anything beyond WASI 0.2 and `wasi:http`.
    pub fn new(wasm: &[u8], cache_dir: Option<&Path>) -> anyhow::Result<ToolRunner> {
        let engine = crate::runtime::engine()?;
        let (component, _) = crate::runtime::cache::load_component(&engine, wasm, cache_dir)?;
        let linker = crate::runtime::linker::<ToolHost>(&engine)?;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .context("linking the tool component")?;
        let pre = ToolPre::new(pre).map_err(anyhow::Error::from).context(
            "the tool component does not export the typed functions of contree:auth@0.3.0",
        )?;
        Ok(ToolRunner { engine, pre })
    }

    /// A fresh instance seeing only `env` and `preopens` (`(host dir, guest path)`).
    pub fn instantiate(
        &self,
        env: &[(String, String)],
        preopens: &[(PathBuf, String)],
    ) -> anyhow::Result<ToolTyped> {
        let stdout = MemoryOutputPipe::new(1 << 20);
        let stderr = MemoryOutputPipe::new(1 << 20);
        let mut builder = WasiCtxBuilder::new();
        builder
            .envs(env)
            .stdout(stdout.clone())
            .stderr(stderr.clone());
        preopen(&mut builder, preopens)?;
        let host = ToolHost {
            host: Host::new(builder.build()),
            stdout,
            stderr,
        };
        let mut store = Store::new(&self.engine, host);
        let bindings = self
            .pre
            .instantiate(&mut store)
            .map_err(anyhow::Error::from)
            .context("instantiating the tool component")?;
        Ok(ToolTyped { store, bindings })
    }
}

/// An instance of the tool build: the same calls as [`Typed`], and what the
/// instance wrote to stdout and stderr.
pub struct ToolTyped {
    store: Store<ToolHost>,
    bindings: Tool,
}

impl ToolTyped {
    typed_calls!();

    /// Everything the instance wrote to stdout so far.
    pub fn stdout(&self) -> Vec<u8> {
        self.store.data().stdout.contents().to_vec()
    }

    /// Everything the instance wrote to stderr so far.
    pub fn stderr(&self) -> Vec<u8> {
        self.store.data().stderr.contents().to_vec()
    }
}
