//! Small helpers: test tokens, runs of our component that prove no trap and no
//! token leak, JSON rows.

use contree_host::{Outcome, Sandbox};
use serde_json::Value;

/// Every test token contains this, so any output of ours holding it is a leak.
pub const SECRET_MARK: &str = "SeCrEt";

/// A token the mock API answers by its `kind` prefix (see `MockApi`).
pub fn token(kind: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!(
        "{kind}-{SECRET_MARK}-{}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs our component on the sandbox's home and checks what every run must satisfy.
pub fn ours(sandbox: &Sandbox, args: &[&str]) -> Outcome {
    check(sandbox.run_with_stdin(args.iter().copied(), Vec::new()))
}

pub fn check(outcome: Outcome) -> Outcome {
    assert!(
        outcome.trap.is_none(),
        "our component trapped: {:?}",
        outcome.trap
    );
    for (name, text) in [("stdout", &outcome.stdout), ("stderr", &outcome.stderr)] {
        assert!(
            !text.contains(SECRET_MARK),
            "a token leaked on our {name}: {text}"
        );
    }
    outcome
}

/// The JSON lines of a `json` listing (other lines, such as Python's
/// `No profiles configured.` on stdout, are not rows).
pub fn rows_of(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter(|line| line.starts_with('{'))
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line}: {e}")))
        .collect()
}

/// The `token_sha256` of a token: the first 16 hex digits of its SHA-256.
pub fn sha16(token: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Outcome as text, for assertion messages.
pub fn show(who: &str, out: &Outcome) -> String {
    format!(
        "--- {who}: exit {}\n[stdout]\n{}[stderr]\n{}",
        out.code, out.stdout, out.stderr
    )
}
