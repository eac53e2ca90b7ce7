//! The official MCP Python SDK (PyPI `mcp`, pinned), installed once into
//! `<workspace>/target/py-venv-mcp-<version>` by the harness's shared venv
//! maker (`contree_host::harness::python`), and the driver scripts of
//! `tests/mcp/` run with it. There is no silent skip: without python3 and
//! pip these tests fail.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use contree_host::harness::python::{self, Packages, run_limited};

pub const SDK_VERSION: &str = "2.3.0";
/// A client run that takes longer is killed: a test fails rather than hangs.
const RUN_LIMIT: Duration = Duration::from_secs(240);

const SDK: Packages<'static> = Packages {
    name: "py-venv-mcp-2.3.0",
    requirements: &["mcp==2.3.0"],
    check: "import importlib.metadata as m, mcp.client.stdio, mcp_types.version; \
            assert m.version('mcp') == '2.3.0'",
};

pub use python::workspace;

/// A script of `tests/mcp/`.
pub fn script(name: &str) -> PathBuf {
    workspace().join("tests/mcp").join(name)
}

/// The venv's interpreter (panics with the reason if it cannot be made).
pub fn python() -> PathBuf {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        python::venv(&SDK)
            .unwrap_or_else(|e| panic!("the MCP Python SDK {SDK_VERSION} is not available: {e}"))
    })
    .join("bin/python")
}

/// `python SCRIPT ARGS...` in the venv, with only `PATH` from our
/// environment; returns (exit code, stdout, stderr).
pub fn run_script(name: &str, args: &[String]) -> (i32, String, String) {
    let mut cmd = Command::new(python());
    cmd.arg(script(name)).args(args).env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    let out =
        run_limited(cmd, Vec::new(), RUN_LIMIT).unwrap_or_else(|e| panic!("running {name}: {e}"));
    (out.code, out.stdout, out.stderr)
}

/// The lines a server wrote to its stderr, from tee.py's record of a
/// session (`{"dir": "err", "text": ...}` frames).
pub fn server_stderr(frames: &str) -> Vec<String> {
    frames
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|frame| frame["dir"] == "err")
        .filter_map(|frame| frame["text"].as_str().map(str::to_string))
        .collect()
}
