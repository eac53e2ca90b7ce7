//! The helpers of `contree_host::harness::support` (shared with the
//! component suite), and `ours`: a run of our component that proves no trap
//! and no token leak.

use contree_host::{Outcome, Sandbox};

pub use contree_host::harness::support::{
    assert_has, assert_row, check, rows_of, sha16, show, token,
};

/// Runs our component on the sandbox's home and checks what every run must satisfy.
pub fn ours(sandbox: &Sandbox, args: &[&str]) -> Outcome {
    check(sandbox.run_with_stdin(args.iter().copied(), Vec::new()))
}
