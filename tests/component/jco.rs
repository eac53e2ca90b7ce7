//! SPEC §3, a second host: the same component transpiled by `jco` and run by
//! Node.js through `@bytecodealliance/preview2-shim` (`tests/js/run.mjs`):
//! the `wasi:cli/run` export (`-f json auth ls --offline`) and a typed call of
//! `contree:auth/profiles@0.1.0` (`listProfiles(true)`, `switchProfile`).
//! Skipped where `node` or `npm` is not on PATH, or when `CONTREE_SKIP_JCO` is set.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::SystemTime;

#[test]
fn jco_transpiled_component_runs_under_node() {
    if std::env::var_os("CONTREE_SKIP_JCO").is_some() {
        eprintln!("CONTREE_SKIP_JCO is set: skipping the jco/Node.js host check");
        return;
    }
    let (Some(node), Some(npm)) = (on_path("node"), on_path("npm")) else {
        eprintln!("node or npm is not on PATH: skipping the jco/Node.js host check");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host-test lives inside the workspace");
    let js = root.join("tests").join("js");

    if needs_install(&js) {
        let out = Command::new(&npm)
            .current_dir(root)
            .args(["ci", "--prefix"])
            .arg(&js)
            .args(["--no-audit", "--no-fund", "--loglevel=error"])
            .output()
            .expect("npm starts");
        assert!(
            out.status.success(),
            "npm ci --prefix tests/js failed ({}); set CONTREE_SKIP_JCO=1 to skip offline\n{}",
            out.status,
            both(&out)
        );
    }

    let wasm = contree_host::component_path();
    let out = Command::new(&node)
        .current_dir(root)
        .arg(js.join("run.mjs"))
        .arg(wasm)
        .output()
        .expect("node starts");
    assert!(
        out.status.success(),
        "node tests/js/run.mjs {} failed ({})\n{}",
        wasm.display(),
        out.status,
        both(&out)
    );
    // Shown with --nocapture: versions, the CLI's stdout, the typed results.
    println!("{}", String::from_utf8_lossy(&out.stdout));
}

/// `node_modules` is missing, or older than `package-lock.json`.
fn needs_install(js: &Path) -> bool {
    let lock = mtime(&js.join("package-lock.json"));
    // npm writes this hidden lockfile last, when an install completes.
    let installed = mtime(&js.join("node_modules").join(".package-lock.json"));
    match (installed, lock) {
        (Some(installed), Some(lock)) => installed < lock,
        _ => true,
    }
}

fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The first `name` executable on PATH (`name.cmd` / `name.exe` on Windows).
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let names: Vec<String> = if cfg!(windows) {
        vec![format!("{name}.exe"), format!("{name}.cmd")]
    } else {
        vec![name.to_string()]
    };
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|candidate| candidate.is_file())
}

fn both(out: &Output) -> String {
    format!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
