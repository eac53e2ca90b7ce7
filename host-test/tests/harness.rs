//! The harness against the real component: plumbing only, the behaviour of
//! `contree auth` is tested in the workspace's own tests.

use std::path::Path;

use contree_host::{MockApi, Sandbox};

/// Issue 27: no file of `host-test/src/` imports, through any chain, a file
/// that imports it (the rule and its known exceptions: the guest crate's
/// `test_support::import_graph`).
#[test]
fn the_host_crate_has_no_import_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    contree_auth::test_support::import_graph::assert_no_circles(&src, &[]);
}

#[test]
fn help_runs_without_trap() {
    let sandbox = Sandbox::new();
    let out = sandbox.run(["--help"]);
    assert_eq!(out.trap, None);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("auth"), "{out:?}");
}

#[test]
fn usage_error_exits_2() {
    let out = Sandbox::new().run(["--no-such-option"]);
    assert_eq!((out.code, out.trap), (2, None), "{}", out.stderr);
}

#[test]
fn files_in_the_home_are_visible_both_ways() {
    let mut sandbox = Sandbox::new();
    let api = MockApi::start();
    sandbox.env("CONTREE_TOKEN", "ok-harness");
    let out = sandbox.run([
        "auth",
        "--type",
        "jwt",
        "--url",
        &api.url(),
        "-p",
        "harness",
    ]);
    assert_eq!((out.code, out.trap.as_deref()), (0, None), "{out:?}");
    let ini = sandbox.read_file("auth.ini").expect("auth.ini written");
    assert!(ini.contains("[profile:harness]"), "{ini}");
    // File modes come from the umask, which the launcher sets and the test
    // process does not: tests/launcher.rs checks them.
    let requests = api.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].token(), Some("ok-harness"));

    sandbox.write_file("cli.ini", "");
    let out = sandbox.run(["-f", "json", "auth", "ls", "--offline"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("\"harness\""), "{out:?}");
}

#[test]
fn stock_wasmtime_agrees_when_present() {
    let sandbox = Sandbox::new();
    match sandbox.run_stock_wasmtime(["--help"]) {
        None => {
            assert!(contree_host::wasmtime_cli().is_none());
            eprintln!("wasmtime is not on PATH: skipping the stock CLI check");
        }
        Some(out) => assert_eq!((out.code, out.trap), (0, None), "{}", out.stderr),
    }
}
