//! SPEC §3 / issue: the stock `wasmtime run -S http --dir H --env CONTREE_HOME=H`
//! invocation works, where the wasmtime CLI is on PATH.

use contree_host::{MockApi, Sandbox};

use crate::common::{check, json_rows, save, statuses};

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
        assert!(out.stderr.contains("--bogus"), "{}", out.stderr);
    }
}
