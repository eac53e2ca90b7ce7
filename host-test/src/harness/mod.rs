//! The test harness: nothing here ships in the `contree` launcher. A
//! sandboxed config home to run the component in, a loopback stand-in for the
//! ConTree API, and the helpers every test suite shares.

pub mod faults;
pub mod mock_api;
pub mod python;
pub mod sandbox;
pub mod support;
pub mod wassette;

use std::path::{Path, PathBuf};

/// The guest component built by `build.rs`.
pub fn component_path() -> &'static Path {
    Path::new(env!("CONTREE_AUTH_WASM"))
}

/// The compile cache of [`crate::Runner::shared`]. It is laid out like the
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
