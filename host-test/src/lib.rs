//! Runs the `contree-auth` WASI component under wasmtime: the embedding shared
//! by the `contree` launcher and the tests, the sandbox the tests drive, and a
//! stand-in for the ConTree API's `whoami` endpoint.

pub mod cache;
pub mod launcher;
pub mod mock_api;
pub mod runner;
pub mod sandbox;
#[cfg(unix)]
pub mod terminal;
pub mod typed;

use std::path::{Path, PathBuf};

pub use cache::CacheUse;
pub use mock_api::{MockApi, Request};
pub use runner::{Outcome, RunSpec, Runner, Stdin, TRAP_EXIT_CODE};
pub use sandbox::Sandbox;

/// The guest component built by `build.rs`.
pub fn component_path() -> &'static Path {
    Path::new(env!("CONTREE_AUTH_WASM"))
}

/// The compile cache of [`Runner::shared`]. It is laid out like the
/// launcher's `$XDG_CACHE_HOME/contree-auth`, so tests that start the launcher
/// can set `XDG_CACHE_HOME` to its parent and skip compiling.
pub fn test_cache_dir() -> &'static Path {
    Path::new(env!("CONTREE_HOST_TEST_CACHE_DIR"))
}

/// The version of wasmtime this crate embeds.
pub const WASMTIME_VERSION: &str = env!("CONTREE_HOST_WASMTIME_VERSION");

/// The first `wasmtime` executable on `PATH`, if any.
pub fn wasmtime_cli() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("wasmtime"))
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
