//! The wasmtime embedding shared by the launcher and the harness: one engine
//! and one compiled component, instantiated afresh for every run with exactly
//! the arguments, environment, directories and stdio that the run asks for.

pub mod cache;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use anyhow::Context;
use wasmtime::component::{Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::filesystem::WasiFilesystemCtxView;
use wasmtime_wasi::p2::bindings::sync::{Command, CommandPre};
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use self::cache::CacheUse;
use crate::harness::faults::Faults;

/// The exit code reported when the guest traps (a Rust panic in the guest
/// aborts, which is a trap).
pub const TRAP_EXIT_CODE: i32 = 101;

/// Captured output beyond this is an error of the guest's write.
const CAPTURE_LIMIT: usize = 64 << 20;

/// What the guest sees on its standard input.
#[derive(Clone, Debug)]
pub enum Stdin {
    Bytes(Vec<u8>),
    /// The launcher's own standard input (a terminal stays a terminal).
    Inherit,
}

impl Default for Stdin {
    fn default() -> Self {
        Stdin::Bytes(Vec::new())
    }
}

/// One run of the component.
#[derive(Clone, Debug, Default)]
pub struct RunSpec {
    /// The guest's argv, `argv[0]` included.
    pub args: Vec<String>,
    /// The guest's whole environment: nothing is inherited.
    pub env: Vec<(String, String)>,
    /// `(host directory, guest path)`, readable and writable.
    pub preopens: Vec<(PathBuf, String)>,
    pub stdin: Stdin,
    /// Capture stdout/stderr into the [`Outcome`]; otherwise inherit them
    /// (or take what [`Runner::run_with`] sets).
    pub capture: bool,
}

/// How a run ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// 0 when `run` returned ok, 1 when it returned an error, the code given to
    /// `wasi:cli/exit`, or [`TRAP_EXIT_CODE`] on a trap.
    pub code: i32,
    /// Lossy UTF-8; empty unless captured.
    pub stdout: String,
    /// Lossy UTF-8; empty unless captured. A trap's text is appended.
    pub stderr: String,
    /// The trap, with its wasm backtrace, when the guest trapped.
    pub trap: Option<String>,
}

impl Outcome {
    pub fn success(&self) -> bool {
        self.code == 0 && self.trap.is_none()
    }
}

/// The wasmtime configuration shared by the launcher, the tests and the
/// compile cache (a cached entry is only valid for the same configuration).
pub fn engine() -> anyhow::Result<Engine> {
    let config = Config::new();
    Engine::new(&config).map_err(anyhow::Error::from)
}

/// A compiled, linked component, ready to run any number of times, from any
/// number of threads.
pub struct Runner {
    engine: Engine,
    pre: CommandPre<Host>,
    /// The same linked component, for calls of its typed exports.
    typed_pre: crate::typed::ContreeAuthPre<Host>,
    cache_use: CacheUse,
}

impl Runner {
    /// Compiles `wasm` (or loads it from `cache_dir`, see [`cache`]) and links it
    /// against WASI 0.2 and `wasi:http` outgoing requests.
    pub fn new(wasm: &[u8], cache_dir: Option<&Path>) -> anyhow::Result<Runner> {
        Runner::with_linker(wasm, cache_dir, |_| Ok(()))
    }

    /// [`Runner::new`], with `extend` applied to the linker last (the test
    /// harness swaps in its fault-injecting file system there).
    pub(crate) fn with_linker(
        wasm: &[u8],
        cache_dir: Option<&Path>,
        extend: impl FnOnce(&mut Linker<Host>) -> anyhow::Result<()>,
    ) -> anyhow::Result<Runner> {
        let engine = engine()?;
        let (component, cache_use) = cache::load_component(&engine, wasm, cache_dir)?;
        let mut linker = linker::<Host>(&engine)?;
        extend(&mut linker)?;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .context("linking the component")?;
        let typed_pre = crate::typed::ContreeAuthPre::new(pre.clone())
            .map_err(anyhow::Error::from)
            .context("the component does not export the typed functions")?;
        let pre = CommandPre::new(pre)
            .map_err(anyhow::Error::from)
            .context("the component does not export wasi:cli/run")?;
        Ok(Runner {
            engine,
            pre,
            typed_pre,
            cache_use,
        })
    }

    /// Like [`Runner::new`], reading the component from a file.
    pub fn from_file(path: &Path, cache_dir: Option<&Path>) -> anyhow::Result<Runner> {
        let wasm = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        Runner::new(&wasm, cache_dir)
    }

    /// The runner of [`crate::harness::component_path`] (for tests), built
    /// once per process, with the compile cache [`crate::harness::test_cache_dir`] so that test binaries after
    /// the first skip compilation.
    pub fn shared() -> anyhow::Result<&'static Runner> {
        static SHARED: OnceLock<Result<Runner, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| {
                Runner::from_file(
                    crate::harness::component_path(),
                    Some(crate::harness::test_cache_dir()),
                )
                .map_err(|err| format!("{err:#}"))
            })
            .as_ref()
            .map_err(|err| anyhow::anyhow!("{err}"))
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether the compiled code came from the cache.
    pub fn cache_use(&self) -> CacheUse {
        self.cache_use
    }

    /// A fresh instance for typed calls of the world's functions, seeing
    /// only `env` and `preopens` (`(host dir, guest path)`); stdio is discarded.
    pub fn typed(
        &self,
        env: &[(String, String)],
        preopens: &[(PathBuf, String)],
    ) -> anyhow::Result<crate::typed::Typed> {
        let mut builder = WasiCtxBuilder::new();
        builder.envs(env);
        for (host, guest) in preopens {
            builder
                .preopened_dir(host, guest, FsPerms::ReadWrite)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("opening {} for the component", host.display()))?;
        }
        let host = Host::new(builder.build());
        let mut store = Store::new(&self.engine, host);
        let bindings = self
            .typed_pre
            .instantiate(&mut store)
            .map_err(anyhow::Error::from)
            .context("instantiating the component")?;
        Ok(crate::typed::Typed { store, bindings })
    }

    /// Runs `wasi:cli/run` once. An error means the run could not be set up
    /// (for example a preopen that does not exist); whatever the guest does,
    /// traps included, ends up in the [`Outcome`].
    pub fn run(&self, spec: RunSpec) -> anyhow::Result<Outcome> {
        self.run_with(spec, |_| {})
    }

    /// [`Runner::run`], with `customize` applied to the WASI context last
    /// (the launcher replaces stdout and stderr with watched streams).
    pub fn run_with(
        &self,
        spec: RunSpec,
        customize: impl FnOnce(&mut WasiCtxBuilder),
    ) -> anyhow::Result<Outcome> {
        self.run_inner(spec, customize, None)
    }

    /// [`Runner::run`] under the test's fault plan; heeded only by a runner
    /// that links the harness's fault injector
    /// ([`crate::harness::faults::faulty_runner`]).
    pub(crate) fn run_with_faults(
        &self,
        spec: RunSpec,
        faults: Arc<Faults>,
    ) -> anyhow::Result<Outcome> {
        self.run_inner(spec, |_| {}, Some(faults))
    }

    fn run_inner(
        &self,
        spec: RunSpec,
        customize: impl FnOnce(&mut WasiCtxBuilder),
        faults: Option<Arc<Faults>>,
    ) -> anyhow::Result<Outcome> {
        let mut builder = WasiCtxBuilder::new();
        builder.args(&spec.args).envs(&spec.env);
        for (host, guest) in &spec.preopens {
            builder
                .preopened_dir(host, guest, FsPerms::ReadWrite)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("opening {} for the component", host.display()))?;
        }
        match spec.stdin {
            Stdin::Bytes(bytes) => {
                builder.stdin(MemoryInputPipe::new(bytes));
            }
            Stdin::Inherit => {
                builder.inherit_stdin();
            }
        }
        let captured = if spec.capture {
            let stdout = MemoryOutputPipe::new(CAPTURE_LIMIT);
            let stderr = MemoryOutputPipe::new(CAPTURE_LIMIT);
            builder.stdout(stdout.clone()).stderr(stderr.clone());
            Some((stdout, stderr))
        } else {
            builder.inherit_stdout().inherit_stderr();
            None
        };
        customize(&mut builder);

        let mut host = Host::new(builder.build());
        host.faults = faults;
        let mut store = Store::new(&self.engine, host);
        let command: Command = self
            .pre
            .instantiate(&mut store)
            .map_err(anyhow::Error::from)
            .context("instantiating the component")?;
        let result = command.wasi_cli_run().call_run(&mut store);
        drop(store);

        let (code, trap) = match result {
            Ok(Ok(())) => (0, None),
            Ok(Err(())) => (1, None),
            Err(err) => match err.downcast_ref::<I32Exit>() {
                Some(exit) => (exit.0, None),
                // `{:#}`: the wasm backtrace and the trap, not the host's stack.
                None => (TRAP_EXIT_CODE, Some(format!("{err:#}"))),
            },
        };
        let (stdout, mut stderr) = match captured {
            Some((out, err)) => (lossy(&out), lossy(&err)),
            None => (String::new(), String::new()),
        };
        if let Some(trap) = &trap {
            if !stderr.is_empty() && !stderr.ends_with('\n') {
                stderr.push('\n');
            }
            stderr.push_str("trap: ");
            stderr.push_str(trap);
            stderr.push('\n');
        }
        Ok(Outcome {
            code,
            stdout,
            stderr,
            trap,
        })
    }
}

fn lossy(pipe: &MemoryOutputPipe) -> String {
    String::from_utf8_lossy(&pipe.contents()).into_owned()
}

/// What every host here grants a component: WASI 0.2 and outgoing
/// `wasi:http`, nothing else (the typed tool host links the same).
pub(crate) fn linker<T: WasiView + WasiHttpView + 'static>(
    engine: &Engine,
) -> anyhow::Result<Linker<T>> {
    let mut linker = Linker::<T>::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(anyhow::Error::from)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker)
        .map_err(anyhow::Error::from)?;
    Ok(linker)
}

/// A store's WASI and `wasi:http` state (the launcher, the harness and the
/// typed hosts all use it).
pub(crate) struct Host {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    /// Always `None` outside the test harness's fault runs.
    faults: Option<Arc<Faults>>,
}

impl Host {
    pub(crate) fn new(wasi: WasiCtx) -> Host {
        Host {
            wasi,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            faults: None,
        }
    }

    /// The file system state and the run's fault plan, borrowed together
    /// (for the harness's fault-injecting `wasi:filesystem/types`).
    pub(crate) fn filesystem_and_faults(
        &mut self,
    ) -> (WasiFilesystemCtxView<'_>, Option<Arc<Faults>>) {
        let view = WasiFilesystemCtxView {
            ctx: self.wasi.filesystem(),
            table: &mut self.table,
        };
        (view, self.faults.clone())
    }
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for Host {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: Default::default(),
        }
    }
}
