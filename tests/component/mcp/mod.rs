//! SPEC §6: `contree mcp`, driven by clients nobody here wrote: the
//! official MCP Python SDK (pinned) and the official MCP Inspector's CLI
//! (`inspector.rs`), through the launcher and the stock `wasmtime` CLI.
//! Every frame the server writes to the SDK is recorded by
//! `tests/mcp/tee.py` and scanned: stdout holds only JSON-RPC messages, in
//! ASCII (C1 and bidi controls escaped), and no 12-character piece of any
//! test token appears anywhere. Every tool result is validated against its
//! tool's `outputSchema` (`schema.rs`).

mod inspector;
pub(crate) mod python;
mod schema;

use std::path::{Path, PathBuf};

use contree_host::MockApi;
use serde_json::{Value, json};

use crate::common::{assert_no_token, remember, token};

/// How the server is started.
#[derive(Clone)]
enum Host {
    Launcher,
    StockWasmtime(PathBuf),
}

/// One server: a host, a config home, and the environment it is given.
struct Server {
    host: Host,
    home: PathBuf,
    env: Vec<(String, String)>,
    log: PathBuf,
    inject: bool,
}

impl Server {
    fn new(host: &Host, home: &Path, log: PathBuf) -> Server {
        Server {
            host: host.clone(),
            home: home.to_path_buf(),
            env: Vec::new(),
            log,
            inject: false,
        }
    }

    fn env(mut self, key: &str, value: &str) -> Server {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Also send a bad line and an unknown method mid-session (see tee.py).
    fn inject(mut self) -> Server {
        self.inject = true;
        self
    }

    /// A session of `tests/mcp/client.py`.
    fn session(&self, mode: &str, calls: Value) -> Value {
        let tee = python::script("tee.py");
        let mut args: Vec<String> = vec![
            tee.display().to_string(),
            self.log.display().to_string(),
            if self.inject { "1" } else { "0" }.to_string(),
            "--".to_string(),
        ];
        let home = self.home.display().to_string();
        let mut env = serde_json::Map::new();
        match &self.host {
            Host::Launcher => {
                args.extend([env!("CARGO_BIN_EXE_contree").to_string(), "mcp".into()]);
                let cache = contree_host::test_cache_dir()
                    .parent()
                    .expect("the cache dir has a parent");
                env.insert("CONTREE_HOME".into(), json!(home));
                env.insert("HOME".into(), json!(home));
                env.insert("XDG_CACHE_HOME".into(), json!(cache.display().to_string()));
                for (k, v) in &self.env {
                    env.insert(k.clone(), json!(v));
                }
            }
            Host::StockWasmtime(wasmtime) => {
                args.extend([
                    wasmtime.display().to_string(),
                    "run".into(),
                    "-S".into(),
                    "http".into(),
                    "--dir".into(),
                    home.clone(),
                    "--env".into(),
                    format!("CONTREE_HOME={home}"),
                ]);
                for (k, v) in &self.env {
                    args.extend(["--env".to_string(), format!("{k}={v}")]);
                }
                args.extend([
                    contree_host::component_path().display().to_string(),
                    "mcp".into(),
                ]);
            }
        }
        json!({
            "command": python::python().display().to_string(),
            "args": args,
            "env": env,
            "mode": mode,
            "calls": calls,
        })
    }
}

/// Runs the SDK client over these sessions; returns each session's report,
/// once every tool result in it has been checked against its tool's
/// `outputSchema`.
fn drive(sessions: Vec<Value>, parallel: bool) -> Vec<Value> {
    let spec = json!({"sessions": sessions, "parallel": parallel}).to_string();
    let (code, stdout, stderr) = python::run_script("client.py", &[spec]);
    assert_eq!(code, 0, "the MCP client failed:\n{stderr}");
    let report: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("the client printed no JSON ({e}):\n{stdout}\n{stderr}"));
    let reports = report["sessions"].as_array().expect("sessions").clone();
    for (session, report) in sessions.iter().zip(&reports) {
        schema::check_session(&report["tools"], &session["calls"], &report["results"]);
    }
    reports
}

fn call(tool: &str, arguments: Value) -> Value {
    json!({"tool": tool, "arguments": arguments})
}

/// A successful tool result's structured content (the text block mirrors it).
fn structured(result: &Value) -> &Value {
    assert_eq!(result["isError"], false, "{result:#}");
    let text = result["content"][0]["text"].as_str().expect("a text block");
    let parsed: Value = serde_json::from_str(text).expect("the text block is JSON");
    assert_eq!(parsed, result["structuredContent"]);
    &result["structuredContent"]
}

/// A tool error's WIT `auth-error` variant: the JSON of its second text
/// block (the first is the message). It carries no `structuredContent`,
/// which would not match the tool's `outputSchema`.
fn tool_error(result: &Value) -> Value {
    assert_eq!(result["isError"], true, "{result:#}");
    assert!(result.get("structuredContent").is_none(), "{result:#}");
    let text = result["content"][0]["text"].as_str().expect("a text block");
    assert!(!text.is_empty());
    let variant = result["content"][1]["text"]
        .as_str()
        .expect("a second text block");
    serde_json::from_str(variant).expect("the second text block is JSON")
}

/// What the server wrote and read, as recorded by tee.py.
struct Frames(Vec<(String, String)>);

impl Frames {
    fn read(log: &Path) -> Frames {
        let text = std::fs::read_to_string(log)
            .unwrap_or_else(|e| panic!("reading {}: {e}", log.display()));
        Frames(
            text.lines()
                .map(|line| {
                    let v: Value = serde_json::from_str(line).expect("tee.py writes JSON lines");
                    (
                        v["dir"].as_str().unwrap().into(),
                        v["text"].as_str().unwrap().into(),
                    )
                })
                .collect(),
        )
    }

    fn out(&self) -> Vec<Value> {
        self.0
            .iter()
            .filter(|(dir, _)| dir == "out")
            .map(|(_, text)| {
                assert!(text.ends_with('\n'), "one message per line: {text:?}");
                serde_json::from_str(text).unwrap_or_else(|e| {
                    panic!("stdout held something else than JSON ({e}): {text}")
                })
            })
            .collect()
    }

    /// Every rule every session keeps: stdout is JSON-RPC only, no piece of
    /// any token anywhere, and the end of input ends the server with 0.
    fn check(&self, tokens: &[&str]) {
        for message in self.out() {
            assert_eq!(message["jsonrpc"], "2.0", "{message}");
        }
        for (dir, text) in &self.0 {
            if dir == "out" {
                assert!(text.is_ascii(), "a frame is not ASCII-escaped: {text:?}");
            }
        }
        for token in tokens {
            remember(token);
        }
        for (dir, text) in &self.0 {
            assert_no_token(&format!("the {dir} stream"), text);
        }
        let exits: Vec<&str> = self
            .0
            .iter()
            .filter(|(dir, _)| dir == "exit")
            .map(|(_, code)| code.as_str())
            .collect();
        assert!(!exits.is_empty(), "the server did not end");
        assert!(exits.iter().all(|c| *c == "0"), "exit codes {exits:?}");
    }

    /// The server's answers to the injected bad line and unknown method.
    fn injected_answers(&self) -> Vec<i64> {
        self.out()
            .iter()
            .filter(|m| m["id"].is_null() || m["id"] == "inject-unknown")
            .map(|m| m["error"]["code"].as_i64().expect("an error"))
            .collect()
    }
}

/// The `///` doc comment above `name: func` in the WIT file, read here
/// independently of the component's own reader, with the WIT functions it
/// names written as the MCP tools an agent calls.
fn wit_doc(name: &str) -> String {
    TOOLS
        .iter()
        .fold(raw_wit_doc(name), |doc, (tool, function)| {
            doc.replace(&format!("`{function}`"), &format!("`{tool}`"))
        })
}

fn raw_wit_doc(name: &str) -> String {
    let wit = std::fs::read_to_string(python::workspace().join("wit/contree-auth.wit"))
        .expect("reading the WIT file");
    let mut doc = Vec::new();
    for line in wit.lines().map(str::trim) {
        if let Some(text) = line.strip_prefix("///") {
            doc.push(text.strip_prefix(' ').unwrap_or(text).to_string());
        } else if line
            .strip_prefix("export ")
            .unwrap_or(line)
            .starts_with(&format!("{name}:"))
        {
            return doc.join("\n").trim().to_string();
        } else if !line.starts_with('@') {
            doc.clear();
        }
    }
    panic!("{name} is not in the WIT file");
}

/// A profile name with a bidi override, C1 controls (NEL, CSI) and an isolate.
const HOSTILE_NAME: &str = "ev\u{202e}il\u{85}\u{9b}2J\u{2066}";

const TOOLS: [(&str, &str); 5] = [
    ("list_profiles", "list-profiles"),
    ("whoami", "whoami"),
    ("switch_profile", "switch-profile"),
    ("remove_profile", "remove-profile"),
    ("save_profile", "save-profile"),
];

fn check_tool_listing(listing: &Value) {
    let tools = listing["tools"].as_array().expect("tools");
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, TOOLS.map(|(tool, _)| tool));
    for (tool, (_, function)) in tools.iter().zip(TOOLS) {
        let description = tool["description"].as_str().unwrap();
        let doc = wit_doc(function);
        assert!(!doc.is_empty());
        assert!(
            description.starts_with(&doc),
            "{function}: the description is not the WIT doc comment:\n{description}\n---\n{doc}"
        );
        for (_, wit_name) in TOOLS.iter().filter(|(tool, wit)| tool != wit) {
            assert!(
                !description.contains(wit_name),
                "{function}: the description names the WIT function {wit_name}, not its tool"
            );
        }
        assert_eq!(tool["inputSchema"]["type"], "object");
        assert_eq!(tool["outputSchema"]["type"], "object");
        let input = tool["inputSchema"]["properties"].as_object().unwrap();
        assert!(
            !input.keys().any(|k| k.contains("token")),
            "no tool takes a token"
        );
    }
    let hints = |i: usize| {
        let a = &tools[i]["annotations"];
        [
            "readOnlyHint",
            "destructiveHint",
            "idempotentHint",
            "openWorldHint",
        ]
        .map(|k| {
            a[k].as_bool()
                .unwrap_or_else(|| panic!("{k} of {}", names[i]))
        })
    };
    assert_eq!(hints(0), [true, false, true, true], "list_profiles");
    assert_eq!(hints(1), [true, false, true, true], "whoami");
    assert_eq!(hints(2), [false, false, true, false], "switch_profile");
    assert_eq!(hints(3), [false, true, true, false], "remove_profile");
    assert_eq!(hints(4), [false, true, true, true], "save_profile");
    let save = tools[4]["description"].as_str().unwrap();
    assert!(
        save.contains("CONTREE_TOKEN") && save.contains("NEBIUS_API_KEY"),
        "{save}"
    );
}

/// Every tool, and every error an agent can meet, over one host.
fn every_tool_and_error(host: &Host) {
    let api = MockApi::start();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let url = api.url();
    let good = token("ok");
    let refused = token("e401");
    let log = dir.path().join("frames.jsonl");
    let server = Server::new(host, &home, log.clone())
        .env("CONTREE_TOKEN", &good)
        .env("CONTREE_PROJECT", "proj-1")
        .inject();
    let calls = json!([
        {"list_tools": true},
        call("save_profile", json!({"name": "a", "url": url})),
        call("save_profile", json!({"name": "a", "url": url})),
        call("save_profile", json!({"name": "a", "url": url, "overwrite": true})),
        call("save_profile", json!({"name": "bad/name", "url": url})),
        call("save_profile", json!({"name": "j", "url": url, "auth_type": "jwt"})),
        call("save_profile", json!({"name": "n", "url": "http://127.0.0.1:1"})),
        call("list_profiles", json!({})),
        call("list_profiles", json!({"offline": true})),
        call("whoami", json!({"name": "a"})),
        call("whoami", json!({"name": "missing"})),
        call("switch_profile", json!({"name": "j"})),
        call("switch_profile", json!({"name": "missing"})),
        call("remove_profile", json!({"name": "j"})),
        call("remove_profile", json!({"name": "j"})),
        call("list_profiles", json!({"bogus": 1})),
        call("no_such_tool", json!({})),
        {"ping": true},
    ]);
    let broken_home = dir.path().join("broken");
    std::fs::create_dir_all(&broken_home).unwrap();
    std::fs::write(
        broken_home.join("auth.ini"),
        "[profile:x]\nurl = a\nurl = b\n",
    )
    .unwrap();
    // A file can hold what the core would never write: C1 and bidi controls.
    let hostile_home = dir.path().join("hostile");
    std::fs::create_dir_all(&hostile_home).unwrap();
    std::fs::write(
        hostile_home.join("auth.ini"),
        format!("[profile:{HOSTILE_NAME}]\nurl = {url}\ntoken = {good}\ntype = jwt\n"),
    )
    .unwrap();
    let sessions = vec![
        server.session("session", calls),
        Server::new(host, &home, log.clone())
            .env("NEBIUS_API_KEY", &refused)
            .env("CONTREE_PROJECT", "proj-1")
            .session(
                "session",
                json!([call("save_profile", json!({"name": "r", "url": url}))]),
            ),
        Server::new(host, &home, log.clone()).session(
            "session",
            json!([call("save_profile", json!({"name": "t", "url": url}))]),
        ),
        Server::new(host, &broken_home, log.clone()).session(
            "session",
            json!([call("list_profiles", json!({"offline": true}))]),
        ),
        Server::new(host, &hostile_home, log.clone()).session(
            "session",
            json!([call("list_profiles", json!({"offline": true}))]),
        ),
    ];
    let reports = drive(sessions, false);
    let frames = Frames::read(&log);
    frames.check(&[&good, &refused]);
    assert_eq!(
        frames.injected_answers(),
        [-32700, -32601],
        "a bad line gets -32700 and an unknown method -32601"
    );

    let main = &reports[0];
    assert_eq!(main["protocol_version"], "2025-11-25");
    assert_eq!(main["server_info"]["name"], "contree-auth");
    let r = main["results"].as_array().unwrap();
    check_tool_listing(&r[0]);
    let saved = structured(&r[1]);
    assert_eq!(saved["profile"]["name"], "a");
    assert_eq!(
        saved["profile"]["token_sha256"],
        crate::common::sha16(&good)
    );
    assert_eq!(saved["list_permission"], true);
    // Issue 25 item 4: the next step, in this face's words, for an agent.
    assert_eq!(
        tool_error(&r[2]),
        json!({"kind": "already-exists", "name": "a",
               "next_step": "call save_profile again with overwrite: true to replace it"})
    );
    assert_eq!(
        r[2]["content"][0]["text"],
        "profile 'a' already exists: call save_profile again with overwrite: true to replace it",
        "the core's message first, then the next step"
    );
    assert_eq!(structured(&r[3])["replaced"], true);
    let invalid = tool_error(&r[4]);
    assert_eq!(
        (&invalid["kind"], &invalid["field"]),
        (&json!("invalid-input"), &json!("name"))
    );
    assert_eq!(structured(&r[5])["profile"]["type"], "jwt");
    assert_eq!(tool_error(&r[6])["kind"], "network", "a refused connection");
    let listing = structured(&r[7]);
    let rows: Vec<(&str, &str)> = listing["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["status"].as_str().unwrap()))
        .collect();
    assert_eq!(rows, [("a", "ok"), ("j", "ok")]);
    assert_eq!(structured(&r[8])["profiles"][0]["status"], "offline");
    let whoami = structured(&r[9]);
    assert_eq!(whoami["profile"], "a", "which profile answered");
    assert_eq!(whoami["permissions"]["list"], true);
    assert!(whoami["token_expiration"].is_i64());
    assert_eq!(
        tool_error(&r[10]),
        json!({"kind": "not-found", "name": "missing",
               "next_step": "call list_profiles to see the profiles' names"})
    );
    assert_eq!(structured(&r[11])["active"], "j");
    assert_eq!(tool_error(&r[12])["kind"], "not-found");
    let removal = structured(&r[13]);
    assert_eq!(
        (&removal["removed"], &removal["active"]),
        (&json!("j"), &json!("a"))
    );
    assert_eq!(tool_error(&r[14])["kind"], "not-found");
    let unknown_argument = tool_error(&r[15]);
    assert_eq!(unknown_argument["field"], "arguments");
    assert_eq!(r[16]["rpc_error"]["code"], -32602, "an unknown tool");
    let unknown = r[16]["rpc_error"]["message"].as_str().unwrap();
    for (tool, _) in TOOLS {
        assert!(
            unknown.contains(tool),
            "the valid names are listed: {unknown}"
        );
    }
    assert_eq!(r[17], json!({}), "ping");

    let refused = tool_error(&reports[1]["results"][0]);
    assert_eq!(
        (&refused["kind"], &refused["status"]),
        (&json!("verification-failed"), &json!(401))
    );
    let no_token = tool_error(&reports[2]["results"][0]);
    assert_eq!(
        (&no_token["kind"], &no_token["field"]),
        (&json!("invalid-input"), &json!("token"))
    );
    let parse = tool_error(&reports[3]["results"][0]);
    assert_eq!(parse["kind"], "config-parse");
    assert_eq!(parse["line"], 3);

    // Frames were ASCII (Frames::check); decoded, the data is exact and the
    // text an agent or a person reads shows the controls as escapes.
    let hostile = &reports[4]["results"][0];
    assert_eq!(structured(hostile)["profiles"][0]["name"], HOSTILE_NAME);
    let text = hostile["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("ev\\u202eil\\u0085"), "{text}");

    let ini = std::fs::read_to_string(home.join("auth.ini")).unwrap();
    assert!(
        ini.contains("[profile:a]") && !ini.contains("[profile:j]") && !ini.contains("[profile:r]")
    );
}

#[test]
fn mcp_sdk_session_calls_every_tool_and_gets_errors_as_tool_errors_through_the_launcher() {
    every_tool_and_error(&Host::Launcher);
}

#[test]
fn mcp_sdk_session_calls_every_tool_under_the_stock_wasmtime_cli() {
    let Some(wasmtime) = contree_host::wasmtime_cli() else {
        eprintln!("wasmtime is not on PATH: skipping the MCP check under the stock CLI");
        return;
    };
    every_tool_and_error(&Host::StockWasmtime(wasmtime));
}

#[test]
fn mcp_sdk_client_in_its_default_auto_mode_discovers_and_speaks_2026_07_28() {
    let api = MockApi::start();
    let dir = tempfile::tempdir().unwrap();
    let good = token("ok");
    let log = dir.path().join("frames.jsonl");
    let server = Server::new(&Host::Launcher, dir.path(), log.clone())
        .env("CONTREE_TOKEN", &good)
        .env("CONTREE_PROJECT", "proj-1")
        .inject();
    let reports = drive(
        vec![server.session(
            "auto",
            json!([
                {"list_tools": true},
                call("save_profile", json!({"name": "auto", "url": api.url()})),
                call("list_profiles", json!({})),
                call("remove_profile", json!({"name": "nope"})),
            ]),
        )],
        false,
    );
    let frames = Frames::read(&log);
    frames.check(&[&good]);
    assert_eq!(frames.injected_answers(), [-32700, -32601]);
    let report = &reports[0];
    let r = report["results"].as_array().unwrap();
    check_tool_listing(&r[0]);
    assert_eq!(structured(&r[1])["profile"]["name"], "auto");
    assert_eq!(structured(&r[2])["profiles"][0]["status"], "ok");
    assert_eq!(tool_error(&r[3])["kind"], "not-found");
    // The SDK probed `server/discover` and, offered 2026-07-28, stayed
    // stateless: no handshake, the revision stamped in every request.
    let requests: Vec<Value> = frames
        .0
        .iter()
        .filter(|(dir, _)| dir == "in")
        .filter_map(|(_, text)| serde_json::from_str::<Value>(text).ok())
        .filter(|m| m["method"].is_string())
        .collect();
    let methods: Vec<&str> = requests
        .iter()
        .map(|m| m["method"].as_str().unwrap())
        .collect();
    assert_eq!(methods[0], "server/discover", "{methods:?}");
    assert!(!methods.contains(&"initialize"), "{methods:?}");
    for request in &requests {
        assert_eq!(
            request["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"],
            "2026-07-28"
        );
    }
    assert_eq!(report["protocol_version"], "2026-07-28");
    assert_eq!(report["server_info"]["name"], "contree-auth");
}

#[test]
fn mcp_two_servers_saving_at_once_lose_no_profile() {
    let api = MockApi::start();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let log = dir.path().join("frames.jsonl");
    const EACH: usize = 6;
    let tokens: Vec<String> = (0..2).map(|_| token("ok")).collect();
    let sessions = tokens
        .iter()
        .enumerate()
        .map(|(server, tok)| {
            let calls: Vec<Value> = (0..EACH)
                .map(|i| {
                    call(
                        "save_profile",
                        json!({"name": format!("s{server}-{i}"), "url": api.url()}),
                    )
                })
                .collect();
            Server::new(&Host::Launcher, &home, log.clone())
                .env("CONTREE_TOKEN", tok)
                .env("CONTREE_PROJECT", "proj-1")
                .session("session", Value::Array(calls))
        })
        .collect();
    let reports = drive(sessions, true);
    for report in &reports {
        for result in report["results"].as_array().unwrap() {
            structured(result);
        }
    }
    let listing = drive(
        vec![Server::new(&Host::Launcher, &home, log.clone()).session(
            "session",
            json!([call("list_profiles", json!({"offline": true}))]),
        )],
        false,
    );
    let frames = Frames::read(&log);
    let token_refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    frames.check(&token_refs);
    let rows = structured(&listing[0]["results"][0])["profiles"].clone();
    let mut seen: Vec<(String, String)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["token_sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    seen.sort();
    let mut want: Vec<(String, String)> = (0..2)
        .flat_map(|s| (0..EACH).map(move |i| (s, i)))
        .map(|(s, i)| (format!("s{s}-{i}"), crate::common::sha16(&tokens[s])))
        .collect();
    want.sort();
    assert_eq!(
        seen, want,
        "every profile of both servers, each with its own token"
    );
}

/// Issue 25 item 3 under wasmtime with no promise of private files (as the
/// stock CLI runs `contree mcp`): every tool that writes auth.ini says so
/// at `[WARNING]`, never `[INFO]` (it said it at `[INFO]`); a host that
/// passes `CONTREE_PRIVATE_FILES=1` gets no warning.
#[test]
fn a_write_over_mcp_warns_about_the_file_mode_at_warning_level() {
    let api = MockApi::start();
    let mut sb = contree_host::Sandbox::new();
    let tok = token("ok");
    sb.env("CONTREE_TOKEN", tok.as_str())
        .env("CONTREE_PROJECT", "p");
    let request = |id: u64, tool: &str, arguments: Value| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
               "params": {"name": tool, "arguments": arguments}})
        .to_string()
    };
    let lines = [
        request(1, "save_profile", json!({"name": "a", "url": api.url()})),
        request(2, "switch_profile", json!({"name": "a"})),
    ]
    .join("\n")
        + "\n";
    let out = crate::common::run_with_stdin(&sb, &["mcp"], &lines);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_no_token("the server's log", &out.stderr);
    let mode_lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("default file mode"))
        .collect();
    assert_eq!(mode_lines.len(), 2, "{}", out.stderr);
    for line in mode_lines {
        assert!(line.starts_with("[WARNING] "), "{line}");
        assert!(line.contains("CONTREE_PRIVATE_FILES=1"), "{line}");
    }
    sb.env("CONTREE_PRIVATE_FILES", "1");
    let out = crate::common::run_with_stdin(&sb, &["mcp"], &lines.replace("\"a\"", "\"b\""));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.contains("file mode"), "{}", out.stderr);
    assert!(!out.stderr.contains("[WARNING]"), "{}", out.stderr);
}
