//! The official MCP Python SDK (PyPI `mcp`, pinned), installed once into
//! `<workspace>/target/py-venv-mcp-<version>` by the tests themselves, and
//! the driver scripts of `tests/mcp/` run with it.
//!
//! Made at most once per test process (a `OnceLock`) and once per machine
//! at a time (a lock file beside it); marked ready only when the install
//! finished and the SDK imports, so a half-built venv is rebuilt. There is
//! no silent skip: without python3 and pip these tests fail.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

pub const SDK_VERSION: &str = "2.3.0";
const READY_MARK: &str = ".contree-mcp-ready";
const INSTALL_LIMIT: Duration = Duration::from_secs(600);
/// A client run that takes longer is killed: a test fails rather than hangs.
const RUN_LIMIT: Duration = Duration::from_secs(240);

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host-test/ has a parent")
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace().join(dir), // joining an absolute path replaces it
        None => workspace().join("target"),
    }
}

/// A script of `tests/mcp/`.
pub fn script(name: &str) -> PathBuf {
    workspace().join("tests/mcp").join(name)
}

/// The venv's interpreter (panics with the reason if it cannot be made).
pub fn python() -> PathBuf {
    static VENV: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match VENV.get_or_init(prepare) {
        Ok(dir) => dir.join("bin/python"),
        Err(e) => panic!("the MCP Python SDK {SDK_VERSION} is not available: {e}"),
    }
}

fn prepare() -> Result<PathBuf, String> {
    let target = target_dir();
    fs::create_dir_all(&target).map_err(|e| format!("creating {}: {e}", target.display()))?;
    let dir = target.join(format!("py-venv-mcp-{SDK_VERSION}"));
    if usable(&dir) {
        return Ok(dir);
    }
    let lock_path = target.join(format!("py-venv-mcp-{SDK_VERSION}.lock"));
    let lock =
        File::create(&lock_path).map_err(|e| format!("creating {}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("locking {}: {e}", lock_path.display()))?;
    if usable(&dir) {
        return Ok(dir);
    }
    if dir.exists() {
        fs::remove_dir_all(&dir)
            .map_err(|e| format!("removing the half-built {}: {e}", dir.display()))?;
    }
    eprintln!(
        "mcp: creating {} with python3 and pip (once)",
        dir.display()
    );
    let started = Instant::now();
    let mut venv = Command::new("python3");
    venv.arg("-m").arg("venv").arg(&dir);
    checked(venv, "python3 -m venv")?;
    let mut pip = Command::new(dir.join("bin/python"));
    pip.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ])
    .arg(format!("mcp=={SDK_VERSION}"));
    checked(pip, "pip install mcp")?;
    if !importable(&dir) {
        return Err(format!(
            "{} was installed but mcp {SDK_VERSION} does not import",
            dir.display()
        ));
    }
    fs::write(dir.join(READY_MARK), SDK_VERSION)
        .map_err(|e| format!("marking the venv ready: {e}"))?;
    eprintln!("mcp: venv ready in {:.1?}", started.elapsed());
    drop(lock);
    Ok(dir)
}

fn usable(dir: &Path) -> bool {
    dir.join(READY_MARK).is_file() && importable(dir)
}

fn importable(dir: &Path) -> bool {
    let check = format!(
        "import importlib.metadata as m, mcp.client.stdio, mcp_types.version; \
         assert m.version('mcp') == '{SDK_VERSION}'"
    );
    Command::new(dir.join("bin/python"))
        .args(["-c", &check])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn checked(cmd: Command, what: &str) -> Result<(), String> {
    let (code, stdout, stderr) = run_limited(cmd, INSTALL_LIMIT)?;
    if code != 0 {
        return Err(format!("{what} exited {code}:\n{stdout}{stderr}"));
    }
    Ok(())
}

/// `python SCRIPT ARGS...` in the venv, with only `PATH` from our
/// environment; returns (exit code, stdout, stderr).
pub fn run_script(name: &str, args: &[String]) -> (i32, String, String) {
    let mut cmd = Command::new(python());
    cmd.arg(script(name)).args(args).env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    run_limited(cmd, RUN_LIMIT).unwrap_or_else(|e| panic!("running {name}: {e}"))
}

/// Runs to completion with everything captured, killing it after `limit`.
fn run_limited(mut cmd: Command, limit: Duration) -> Result<(i32, String, String), String> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("starting {cmd:?}: {e}"))?;
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = err_reader.join().unwrap_or_default();
            return Err(format!(
                "still running after {limit:?}, killed; stderr so far:\n{}",
                String::from_utf8_lossy(&stderr)
            ));
        }
        thread::sleep(Duration::from_millis(20));
    };
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    let stdout = text(out_reader.join().unwrap_or_default());
    let stderr = text(err_reader.join().unwrap_or_default());
    let _ = std::io::stderr().flush();
    Ok((status.code().unwrap_or(-1), stdout, stderr))
}
