//! The wasmtime embedding shared by the launcher and the tests: one engine
//! and one compiled component, instantiated afresh for every run with exactly
//! the arguments, environment, directories and stdio that the run asks for.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use wasmtime::component::Linker;
use wasmtime::{Engine, Store};
use wasmtime_wasi::p2::bindings::sync::{Command, CommandPre};
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder};

pub use crate::outcome::Outcome;
use crate::outgoing::Network;
use crate::runtime::cache::{self, CacheUse};
use crate::runtime::{Extension, Host};

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
    /// How the guest's requests travel: the CAs and proxies of the host's
    /// environment (the launcher's own; a test's sandbox's), never of
    /// [`RunSpec::env`].
    pub network: Arc<Network>,
}

/// A compiled, linked component, ready to run any number of times, from any
/// number of threads.
pub struct Runner {
    engine: Engine,
    pre: CommandPre<Host>,
    cache_use: CacheUse,
}

impl Runner {
    /// Compiles `wasm` (or loads it from `cache_dir`, see [`cache`]) and links it
    /// against WASI 0.2 and `wasi:http` outgoing requests.
    pub fn new(wasm: &[u8], cache_dir: Option<&Path>) -> anyhow::Result<Runner> {
        Runner::with_linker(wasm, cache_dir, |_| Ok(()))
    }

    /// [`Runner::new`], with `extend` applied to the linker last (the
    /// tests swap in a fault-injecting file system there).
    pub fn with_linker(
        wasm: &[u8],
        cache_dir: Option<&Path>,
        extend: impl FnOnce(&mut Linker<Host>) -> anyhow::Result<()>,
    ) -> anyhow::Result<Runner> {
        let engine = crate::runtime::engine()?;
        let (component, cache_use) = cache::load_component(&engine, wasm, cache_dir)?;
        let mut linker = crate::runtime::linker::<Host>(&engine)?;
        extend(&mut linker)?;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .context("linking the component")?;
        let pre = CommandPre::new(pre)
            .map_err(anyhow::Error::from)
            .context("the component does not export wasi:cli/run")?;
        Ok(Runner {
            engine,
            pre,
            cache_use,
        })
    }

    /// Like [`Runner::new`], reading the component from a file.
    pub fn from_file(path: &Path, cache_dir: Option<&Path>) -> anyhow::Result<Runner> {
        let wasm = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        Runner::new(&wasm, cache_dir)
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether the compiled code came from the cache.
    pub fn cache_use(&self) -> CacheUse {
        self.cache_use
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

    /// [`Runner::run`], the store carrying `extension` for what
    /// [`Runner::with_linker`] linked (a test's fault plan).
    pub fn run_with_extension(
        &self,
        spec: RunSpec,
        extension: Extension,
    ) -> anyhow::Result<Outcome> {
        self.run_inner(spec, |_| {}, Some(extension))
    }

    fn run_inner(
        &self,
        spec: RunSpec,
        customize: impl FnOnce(&mut WasiCtxBuilder),
        extension: Option<Extension>,
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

        let host = Host::for_run(builder, extension, spec.network);
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
