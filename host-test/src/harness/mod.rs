//! The test harness: nothing here ships in the `contree` launcher. A
//! sandboxed config home to run the component in, a loopback stand-in for the
//! ConTree API, and the helpers every test suite shares.

pub mod debian;
pub mod faults;
pub mod local_server;
pub mod mock_api;
pub mod python;
pub mod registry;
pub mod sandbox;
pub mod support;
pub mod tinyproxy;
pub mod tokens;
pub mod wassette;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::runner::Runner;
use crate::typed::TypedRunner;

/// The guest component built by `build.rs`.
pub fn component_path() -> &'static Path {
    Path::new(env!("CONTREE_AUTH_WASM"))
}

/// The tool-shaped build (`--no-default-features`: no `wasi:cli/run`, no
/// `exit-with-code`, the WIT docs in a `package-docs` section), built by
/// `build.rs` beside [`component_path`].
pub fn tool_component_path() -> &'static Path {
    Path::new(env!("CONTREE_AUTH_TOOL_WASM"))
}

/// The runner of [`component_path`], built once per process, with the
/// compile cache [`test_cache_dir`] so that test binaries after the first
/// skip compilation.
pub fn shared_runner() -> anyhow::Result<&'static Runner> {
    static SHARED: OnceLock<Result<Runner, String>> = OnceLock::new();
    SHARED
        .get_or_init(|| {
            Runner::from_file(component_path(), Some(test_cache_dir()))
                .map_err(|err| format!("{err:#}"))
        })
        .as_ref()
        .map_err(|err| anyhow::anyhow!("{err}"))
}

/// The same component, linked for typed calls of its exports.
pub fn shared_typed_runner() -> &'static TypedRunner {
    static SHARED: OnceLock<Result<TypedRunner, String>> = OnceLock::new();
    shared_typed(&SHARED, component_path(), test_cache_dir())
}

/// The runner of [`tool_component_path`], with a compile cache beside the
/// command build's.
pub fn shared_tool_runner() -> &'static TypedRunner {
    static SHARED: OnceLock<Result<TypedRunner, String>> = OnceLock::new();
    let cache = test_cache_dir().with_file_name("contree-auth-tool");
    shared_typed(&SHARED, tool_component_path(), &cache)
}

/// The typed runner of `wasm` held in `shared`, built on first use.
fn shared_typed(
    shared: &'static OnceLock<Result<TypedRunner, String>>,
    wasm: &Path,
    cache: &Path,
) -> &'static TypedRunner {
    let runner = shared.get_or_init(|| {
        let bytes = std::fs::read(wasm).map_err(|e| e.to_string())?;
        TypedRunner::new(&bytes, Some(cache)).map_err(|err| format!("{err:#}"))
    });
    runner
        .as_ref()
        .unwrap_or_else(|err| panic!("loading {}: {err}", wasm.display()))
}

/// The compile cache of [`shared_runner`]. It is laid out like the
/// launcher's `$XDG_CACHE_HOME/contree-auth`, so tests that start the launcher
/// can set `XDG_CACHE_HOME` to its parent and skip compiling.
pub fn test_cache_dir() -> &'static Path {
    Path::new(env!("CONTREE_HOST_TEST_CACHE_DIR"))
}

/// The stock `wasmtime` CLI: on `PATH`, else installed under `target/`
/// (see [`python::stock_wasmtime`]).
pub fn wasmtime_cli() -> Option<PathBuf> {
    python::stock_wasmtime()
}

/// The first executable called `name` on `PATH`.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}
