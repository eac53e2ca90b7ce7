//! SPEC §3, a second host: the same component transpiled by jco's transpiler
//! (`@bytecodealliance/jco-transpile`) and run by Node.js through
//! `@bytecodealliance/preview2-shim` (`tests/js/run.mjs`): the `wasi:cli/run`
//! export (`-f json auth ls --offline`), typed calls of the functions the
//! `contree:auth@0.3.0` worlds export, and the tool build under SPEC §6's
//! single-preopen rule.
//!
//! The packages are installed with `npm ci` from the committed lock file into
//! `target/js-host/` (generated files stay under `target/`). Where `node` or
//! `npm` is missing the test fails under `CI=true` and is skipped, saying so,
//! elsewhere; `CONTREE_SKIP_JCO` skips it on purpose (offline machines).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use contree_host::harness::python::{target_dir, workspace};

use crate::common::require_tool;

/// The files of `tests/js` the host needs, copied beside `node_modules`.
const HOST_FILES: [&str; 4] = [
    "package.json",
    "package-lock.json",
    "no-binaryen/package.json",
    "run.mjs",
];
/// Written after a complete `npm ci`: the lock file it installed.
const INSTALLED_LOCK: &str = ".installed-package-lock.json";

#[test]
fn jco_transpiled_component_runs_under_node() {
    if std::env::var_os("CONTREE_SKIP_JCO").is_some() {
        eprintln!("CONTREE_SKIP_JCO is set: skipping the jco/Node.js host check");
        return;
    }
    let purpose = "the jco/Node.js host check";
    let (Some(node), Some(npm)) = (require_tool("node", purpose), require_tool("npm", purpose))
    else {
        return;
    };
    let root = &workspace();
    let host_dir = install(root, &npm);

    let wasm = contree_host::component_path();
    let tool = contree_host::harness::tool_component_path();
    // Under `umask 077`, with CONTREE_PRIVATE_FILES=1 given to the
    // component (run.mjs), as docs/embedding.md's recipe says: the write
    // leaves auth.ini 0600 (run.mjs checks) and no warning about its mode.
    let out = Command::new("sh")
        .arg("-c")
        .arg("umask 077 && exec \"$@\"")
        .arg("sh")
        .arg(&node)
        .current_dir(&host_dir)
        .arg(host_dir.join("run.mjs"))
        .arg(wasm)
        .arg(tool)
        .output()
        .expect("node starts");
    assert!(
        out.status.success(),
        "node run.mjs {} {} failed ({})\n{}",
        wasm.display(),
        tool.display(),
        out.status,
        both(&out)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("jco host: all checks passed"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("written with the host's default file mode"),
        "the component was told files are private, yet warned:\n{stderr}"
    );
    // Shown with --nocapture: versions, the CLI's stdout, the typed results.
    println!("{stdout}");
}

/// Copies the host files into `target/js-host` and runs `npm ci` there when
/// the lock file differs from the one last installed.
fn install(root: &Path, npm: &Path) -> PathBuf {
    let source = root.join("tests").join("js");
    let dir = target_dir().join("js-host");
    for file in HOST_FILES {
        let to = dir.join(file);
        fs::create_dir_all(to.parent().expect("a file has a parent")).expect("mkdir js-host");
        fs::copy(source.join(file), &to)
            .unwrap_or_else(|e| panic!("copying tests/js/{file} to {}: {e}", to.display()));
    }
    let lock = fs::read(dir.join("package-lock.json")).expect("copied lock");
    let installed = fs::read(dir.join(INSTALLED_LOCK)).ok();
    if installed.as_deref() != Some(&lock[..]) || !dir.join("node_modules").is_dir() {
        let _ = fs::remove_file(dir.join(INSTALLED_LOCK));
        let out = Command::new(npm)
            .current_dir(&dir)
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .output()
            .expect("npm starts");
        assert!(
            out.status.success(),
            "npm ci in {} failed ({}); set CONTREE_SKIP_JCO=1 to skip offline\n{}",
            dir.display(),
            out.status,
            both(&out)
        );
        fs::write(dir.join(INSTALLED_LOCK), &lock).expect("marking the install complete");
    }
    dir
}

fn both(out: &Output) -> String {
    format!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
