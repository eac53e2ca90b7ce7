//! A third host: Python, embedding the component with wasmtime-py
//! (`tests/python/host.py`, PyPI `wasmtime` pinned in `python_env`), with
//! `wasi:http` against the mock API on 127.0.0.1. Every function the
//! `contree:auth@0.3.0` worlds export is called, and every error a host must be
//! able to tell apart: not-found, invalid input, already-exists and a
//! verification failure. Both builds are loaded: the command build and the
//! tool build (which gets no environment, only its one preopen: SPEC §6).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use contree_host::{MockApi, Sandbox};
use serde_json::{Value, json};

use crate::common::{SECRET_MARK, sha16, token};
use crate::python_env;

/// Runs `calls` through `host.py` and returns one JSON value per call.
fn python_calls(
    venv: &Path,
    wasm: &Path,
    home: &Path,
    env: &[(&str, &str)],
    calls: &Value,
) -> Vec<Value> {
    python_host(venv, wasm, home, env, calls, false).0
}

/// Runs `calls` through `host.py` (under `umask 077` when `private`, as
/// the embedding recipe says); one JSON value per call, and its stderr.
fn python_host(
    venv: &Path,
    wasm: &Path,
    home: &Path,
    env: &[(&str, &str)],
    calls: &Value,
    private: bool,
) -> (Vec<Value>, String) {
    let script = python_env::workspace().join("tests/python/host.py");
    let umask = if private { "umask 077 && " } else { "" };
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("{umask}exec \"$@\""))
        .arg("sh")
        .arg(venv.join("bin/python"))
        .arg(script)
        .arg(wasm)
        .arg(home)
        .args(env.iter().map(|(k, v)| format!("{k}={v}")))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python starts");
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(calls.to_string().as_bytes())
        .expect("writing the calls");
    let out = child.wait_with_output().expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "host.py failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    for text in [&stdout, &stderr] {
        assert!(
            !text.contains(SECRET_MARK),
            "a token reached the host: {text}"
        );
    }
    let values = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("host.py prints JSON lines"))
        .collect();
    (values, stderr.into_owned())
}

/// Issue 25 item 3: the embedding recipe of docs/embedding.md as a host
/// runs it, under `umask 077` with `CONTREE_PRIVATE_FILES=1` in the
/// component's environment: a save and a switch write auth.ini 0600 and
/// log no warning about its mode; without the variable, every write warns.
#[test]
fn python_host_under_umask_077_with_private_files_saves_0600_without_a_warning() {
    let Some(venv) = python_env::venv("the wasmtime-py privacy test") else {
        return;
    };
    let api = MockApi::start();
    let ok = token("ok");
    let warning = "written with the host's default file mode";
    for private in [true, false] {
        let sb = Sandbox::new();
        let home = sb.home().to_str().expect("UTF-8 temp path").to_string();
        let mut env = vec![("CONTREE_HOME", home.as_str())];
        if private {
            env.push(("CONTREE_PRIVATE_FILES", "1"));
        }
        let calls = json!([save(&api, "work", &ok), {"fn": "switch-profile", "args": ["work"]}]);
        let wasm = contree_host::component_path();
        let (r, stderr) = python_host(venv, wasm, sb.home(), &env, &calls, true);
        assert!(r.iter().all(|v| v.get("ok").is_some()), "{r:?}");
        assert_eq!(sb.mode("auth.ini"), Some(0o600), "under umask 077");
        let warned = stderr.lines().filter(|l| l.contains(warning)).count();
        if private {
            assert_eq!(warned, 0, "{stderr}");
        } else {
            assert_eq!(warned, 2, "one per write: {stderr}");
            assert!(
                stderr
                    .lines()
                    .all(|l| !l.contains(warning) || l.starts_with("[WARNING] "))
            );
        }
    }
}

fn save(api: &MockApi, name: &str, token: &str) -> Value {
    json!({"fn": "save-profile", "args": [{
        "name": name, "token": token, "url": api.url(), "auth-type": "iam",
        "project": "proj-1", "overwrite": false, "allow-insecure-http": false,
    }]})
}

#[test]
fn python_host_calls_every_function_and_tells_errors_apart() {
    let Some(venv) = python_env::venv("the wasmtime-py host test") else {
        return;
    };
    let api = MockApi::start();
    let ok = token("ok");
    let builds = [
        ("command", contree_host::component_path(), true),
        ("tool", contree_host::harness::tool_component_path(), false),
    ];
    for (build, wasm, pass_home) in builds {
        let sb = Sandbox::new();
        let home = sb.home().to_str().expect("UTF-8 temp path").to_string();
        // The tool build gets no environment: its one preopen is the config home.
        let env: Vec<(&str, &str)> = if pass_home {
            vec![("CONTREE_HOME", home.as_str())]
        } else {
            vec![]
        };
        let calls = json!([
            {"fn": "list-profiles", "args": [true]},
            save(&api, "work", &ok),
            save(&api, "work", &ok),
            save(&api, "bad]name", &ok),
            save(&api, "denied", &token("e401")),
            {"fn": "list-profiles", "args": [false]},
            {"fn": "switch-profile", "args": ["ghost"]},
            {"fn": "whoami", "args": [null]},
            {"fn": "whoami", "args": ["ghost"]},
            {"fn": "remove-profile", "args": ["work"]},
            {"fn": "remove-profile", "args": ["work"]},
            {"fn": "switch-profile", "args": ["work"]},
        ]);
        let r = python_calls(venv, wasm, sb.home(), &env, &calls);
        assert_eq!(r.len(), 12, "{build}: {r:?}");

        assert_eq!(
            r[0],
            json!({"ok": {"profiles": [], "active": null, "missing-active": "default"}}),
            "{build}"
        );
        let saved = &r[1]["ok"];
        assert_eq!(
            saved["profile"]["token-sha256"],
            json!(sha16(&ok)),
            "{build}"
        );
        assert_eq!(saved["profile"]["auth-type"], "iam", "{build}");
        assert_eq!(saved["list-permission"], true, "{build}");
        assert_eq!(
            r[2],
            json!({"err": {"tag": "already-exists", "val": "work"}}),
            "{build}"
        );
        assert_eq!(r[3]["err"]["tag"], "invalid-input", "{build}");
        assert_eq!(r[3]["err"]["val"]["field"], "name", "{build}");
        assert_eq!(r[4]["err"]["tag"], "verification-failed", "{build}");
        assert_eq!(r[4]["err"]["val"]["status"], 401, "{build}");
        let listing = &r[5]["ok"];
        assert_eq!(listing["active"], json!(null), "{build}: {listing}");
        assert_eq!(listing["missing-active"], "default", "{build}");
        assert_eq!(listing["profiles"][0]["status"], "ok", "{build}");
        assert_eq!(listing["profiles"].as_array().map(Vec::len), Some(1));
        assert_eq!(
            r[6],
            json!({"err": {"tag": "not-found", "val": "ghost"}}),
            "{build}"
        );
        // No name and the active `default` does not exist.
        assert_eq!(r[7]["err"]["tag"], "not-found", "{build}");
        assert_eq!(r[8]["err"]["tag"], "not-found", "{build}");
        assert_eq!(r[9]["ok"]["removed"], "work", "{build}");
        assert_eq!(r[10]["err"]["tag"], "not-found", "{build}");
        assert_eq!(r[11]["err"]["tag"], "not-found", "{build}");

        // whoami of a saved profile, by name and as the active one.
        let calls = json!([
            save(&api, "default", &ok),
            {"fn": "whoami", "args": [null]},
            {"fn": "whoami", "args": ["default"]},
        ]);
        let r = python_calls(venv, wasm, sb.home(), &env, &calls);
        for who in [&r[1]["ok"], &r[2]["ok"]] {
            assert!(
                who["permissions"]
                    .as_array()
                    .is_some_and(|p| p.contains(&json!({"name": "list", "granted": true}))),
                "{build}: {who}"
            );
            assert_eq!(
                who["limits"],
                json!([{"name": "max_instances", "value": 10}]),
                "{build}"
            );
            assert!(who["token-expiration"].is_i64(), "{build}: {who}");
        }
        let ini = sb
            .read_file("auth.ini")
            .expect("auth.ini written in the preopen");
        assert!(ini.contains("[profile:default]"), "{build}: {ini}");
    }
}
