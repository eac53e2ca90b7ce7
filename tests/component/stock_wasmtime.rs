//! SPEC §3 / issue: the stock `wasmtime run -S http --dir H --env CONTREE_HOME=H`
//! invocation works, where the wasmtime CLI is on PATH.

use contree_host::{MockApi, Sandbox};

use crate::common::{assert_has, assert_lacks, check, json_rows, save, statuses, token};

#[test]
fn stock_wasmtime_cli_lists_saves_and_reports_usage_errors() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    save(&sb, &api, "a", "ok");
    let Some(out) = sb.run_stock_wasmtime(["-f", "json", "auth", "ls"]) else {
        eprintln!("wasmtime is not on PATH: skipping the stock CLI check");
        return;
    };
    let out = check(out);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(statuses(&out.stdout), [("a".to_string(), "ok".to_string())]);
    assert_eq!(json_rows(&out.stdout)[0]["active"], false);
    if let Some(out) = sb.run_stock_wasmtime(["auth", "switch", "a"]) {
        assert_eq!(check(out).code, 0);
    }
    if let Some(out) = sb.run_stock_wasmtime(["auth", "--bogus"]) {
        let out = check(out);
        assert_ne!(out.code, 0);
        assert_has(&out.stderr, "--bogus");
    }
}

/// Issue 20 item 2: a config home that no preopen holds is an error naming
/// the `--dir` to pass, for every command, in the embedded runtime and the
/// stock CLI alike; `save` fails before the token is sent anywhere.
#[test]
fn a_config_home_the_host_did_not_grant_fails_every_command_naming_the_dir() {
    let api = MockApi::start();
    let mut sb = Sandbox::new();
    // The sandbox preopens its home; HOME names a directory outside it.
    let outside = format!("{}-outside", sb.home().display());
    sb.env("CONTREE_HOME", "").env("HOME", &outside);
    let tok = token("ok");
    let url = api.url();
    let commands: [&[&str]; 5] = [
        &["auth", "ls"],
        &["-f", "json", "auth", "ls", "--offline"],
        &["auth", "switch", "a"],
        &["auth", "rm", "a", "-y"],
        &["auth", "--token", &tok, "-u", &url, "-P", "p"],
    ];
    let expected_dir = format!("--dir {outside}/.config/contree ");
    for args in commands {
        let runs =
            std::iter::once(Some(sb.run(args))).chain(std::iter::once(sb.run_stock_wasmtime(args)));
        for out in runs.flatten() {
            let out = check(out);
            assert_eq!(out.code, 1, "{args:?}: {}", out.stderr);
            assert_eq!(out.stdout, "", "{args:?}");
            assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {}", out.stderr);
            assert_has(&out.stderr, "(from HOME)");
            assert_has(&out.stderr, &expected_dir);
            assert_lacks(&out.stderr, "No profiles");
        }
    }
    assert!(api.requests().is_empty(), "the token was sent");
}

// The README's stock-CLI section runs as written in `docs::` (the console
// examples of README.md and docs/), with its auth.ini checked for 0600.

/// Issue 20 item 2: `save` finds out that it cannot write (here the folder
/// of `-c` is a dangling link) before the token is sent, under the
/// embedded runtime and the stock CLI alike.
#[test]
fn save_checks_it_can_write_before_the_token_is_sent() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    std::os::unix::fs::symlink("nowhere", sb.path("gone")).unwrap();
    let config = sb.path("gone/auth.ini").display().to_string();
    let tok = token("ok");
    let url = api.url();
    let args = [
        "-c", &config, "auth", "--token", &tok, "-u", &url, "-P", "p",
    ];
    let runs =
        std::iter::once(Some(sb.run(args))).chain(std::iter::once(sb.run_stock_wasmtime(args)));
    for out in runs.flatten() {
        let out = check(out);
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert_has(&out.stderr, "is not a directory; nothing was sent");
    }
    assert!(api.requests().is_empty(), "the token was sent");
}
