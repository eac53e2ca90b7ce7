//! Shared by every test: a run that also proves no trap and no token leak.

use contree_host::{MockApi, Outcome, Sandbox};

/// Every test token contains this, so any output holding it is a leak.
pub const SECRET_MARK: &str = "SeCrEt";

/// A token the mock API answers by its `kind` prefix (see `MockApi`).
pub fn token(kind: &str) -> String {
    format!("{kind}-{SECRET_MARK}-{}", rand_suffix())
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Runs the component and checks what every run must satisfy.
pub fn run(sandbox: &Sandbox, args: &[&str]) -> Outcome {
    check(sandbox.run(args.iter().copied()))
}

pub fn run_with_stdin(sandbox: &Sandbox, args: &[&str], stdin: &str) -> Outcome {
    check(sandbox.run_with_stdin(args.iter().copied(), stdin.as_bytes().to_vec()))
}

pub fn check(outcome: Outcome) -> Outcome {
    assert!(
        outcome.trap.is_none(),
        "the component trapped: {:?}",
        outcome.trap
    );
    for (name, text) in [("stdout", &outcome.stdout), ("stderr", &outcome.stderr)] {
        assert!(
            !text.contains(SECRET_MARK),
            "a token leaked on {name}: {text}"
        );
    }
    outcome
}

/// Saves a profile non-interactively against the mock; panics unless it worked.
pub fn save(sandbox: &Sandbox, api: &MockApi, name: &str, kind: &str) -> String {
    let tok = token(kind);
    let out = run(
        sandbox,
        &[
            "auth",
            "-p",
            name,
            "-y",
            "--token",
            &tok,
            "-u",
            &api.url(),
            "-P",
            "proj-1",
        ],
    );
    assert_eq!(out.code, 0, "save {name} failed: {}", out.stderr);
    tok
}

/// Rows of `-f json` output.
pub fn json_rows(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line}: {e}")))
        .collect()
}

/// `name -> status` of a JSON listing.
pub fn statuses(stdout: &str) -> Vec<(String, String)> {
    json_rows(stdout)
        .iter()
        .map(|row| {
            (
                row["name"].as_str().unwrap_or("").to_string(),
                row["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

pub fn sha16(token: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
