//! Issue "agent runtimes and CI", item 6: the README's CI job
//! (`tests/ci/credentials-job.sh`) run as written under the stock wasmtime
//! CLI against the loopback API: green for a working token, red with the
//! reason for a rejected one or one without the `list` permission.

use std::process::Command;
use std::time::Duration;

use contree_host::harness::python::run_limited;
use contree_host::{MockApi, component_path, wasmtime_cli};

use crate::common::{assert_has, check, token};

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
        let mut cmd = Command::new("bash");
        cmd.arg(&job)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("WASMTIME", &wasmtime)
            .env("CONTREE_AUTH_WASM", component_path())
            .env("CONTREE_TOKEN", token(kind))
            .env("CONTREE_PROJECT", "proj-ci")
            .env("CONTREE_URL", api.url());
        let out = run_limited(cmd, Vec::new(), Duration::from_secs(120)).expect("the job runs");
        let out = check(out);
        assert_eq!(out.code, code, "{kind}: {}{}", out.stdout, out.stderr);
        assert_has(&format!("{}{}", out.stdout, out.stderr), says);
    }
    let projects: Vec<_> = api
        .requests()
        .iter()
        .map(|r| r.header("project").unwrap_or_default().to_string())
        .collect();
    assert!(projects.iter().all(|p| p == "proj-ci"), "{projects:?}");
}
