//! Issue "agent runtimes and CI", item 6: the README's CI job
//! (`tests/ci/credentials-job.sh`) run as written under the stock wasmtime
//! CLI against the loopback API: green for a working token, red with the
//! reason for a rejected one or one without the `list` permission.

use std::process::Command;
use std::time::Duration;

use contree_host::harness::python::run_limited;
use contree_host::{MockApi, component_path, wasmtime_cli};

use crate::common::{assert_has, assert_lacks, check, token};

/// Runs the CI job as written with these secrets.
fn run_job(
    job: &std::path::Path,
    wasmtime: &std::path::Path,
    token: &str,
    project: &str,
    url: &str,
) -> contree_host::Outcome {
    let mut cmd = Command::new("bash");
    cmd.arg(job)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("WASMTIME", wasmtime)
        .env("CONTREE_AUTH_WASM", component_path())
        .env("CONTREE_TOKEN", token)
        .env("CONTREE_PROJECT", project)
        .env("CONTREE_URL", url);
    let out = run_limited(cmd, Vec::new(), Duration::from_secs(120)).expect("the job runs");
    check(out)
}

/// Issue 20 item 9: the README shows the job exactly as the file has it.
#[test]
fn the_readme_ci_block_is_the_job_as_written() {
    let root = contree_host::harness::python::workspace();
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let job = std::fs::read_to_string(root.join("tests/ci/credentials-job.sh")).expect("the job");
    let body = &job[job.find("set -euo pipefail").expect("the job's body")..];
    assert!(
        readme.contains(&format!("```bash\n{body}```\n")),
        "README's CI block differs from tests/ci/credentials-job.sh"
    );
}

#[test]
fn ci_job_passes_for_a_working_token_and_fails_fast_saying_why_otherwise() {
    let Some(wasmtime) = wasmtime_cli() else {
        eprintln!("the stock wasmtime CLI is not available: skipping the CI job check");
        return;
    };
    let api = MockApi::start();
    let job = contree_host::harness::python::workspace().join("tests/ci/credentials-job.sh");
    let cases = [
        ("ok", 0, "\"status\": \"ok\""),
        (
            "nolist",
            1,
            "[ERROR] Profile 'ci' is not ok (status inactive): no 'list' permission",
        ),
        (
            "e401",
            1,
            "Token verification failed: HTTP 401: invalid token. Profile not changed.",
        ),
    ];
    for (kind, code, says) in cases {
        let out = run_job(&job, &wasmtime, &token(kind), "proj-ci", &api.url());
        assert_eq!(out.code, code, "{kind}: {}{}", out.stdout, out.stderr);
        assert_has(&format!("{}{}", out.stdout, out.stderr), says);
        // Issue 20 item 9: umask 077 and CONTREE_PRIVATE_FILES=1, no false warning.
        assert!(
            !out.stderr.contains("default file mode"),
            "{kind}: {}",
            out.stderr
        );
        assert!(
            !out.stderr.contains("Active profile"),
            "{kind}: {}",
            out.stderr
        );
    }
    // Issue 20 item 3: a missing secret names the variable to set, at once.
    let requests = api.requests().len();
    for (tok, project, says) in [
        (token("ok"), "", "pass -P/--project or set CONTREE_PROJECT"),
        (
            String::new(),
            "proj-ci",
            "pipe the token with --token-stdin, or set CONTREE_TOKEN",
        ),
    ] {
        let out = run_job(&job, &wasmtime, &tok, project, &api.url());
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert_has(&out.stderr, says);
        assert_lacks(&out.stderr, "Run `contree auth`");
    }
    assert_eq!(api.requests().len(), requests, "nothing was sent");
    let projects: Vec<_> = api
        .requests()
        .iter()
        .map(|r| r.header("project").unwrap_or_default().to_string())
        .collect();
    assert!(projects.iter().all(|p| p == "proj-ci"), "{projects:?}");
}
