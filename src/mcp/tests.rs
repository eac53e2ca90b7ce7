//! `serve` over in-memory streams, with a fake `whoami` server and a
//! temporary config home. End-to-end runs under wasmtime with the Python
//! SDK and the MCP Inspector are in `tests/component/mcp/`.
//!
//! Every tool result any test here produces is checked against its tool's
//! `outputSchema` by a JSON Schema validator ([`schema_violations`]), so no
//! tool can drift from the schema it declares.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::*;
use crate::http::fake::FakeTransport;
use crate::http::{Outcome, Request};
use crate::test_support::{assert_has, assert_starts, schema_violations};
use crate::testing::{TempDir, assert_no_fragment, temp_dir};

const TOKEN: &str = "ok-SeCrEt-0123456789abcdefghijklmnopqrstuv";

/// Answers by the bearer token's prefix: `ok` 200 with `list`, `nolist`
/// 200 without, `hang` no answer, anything else 401 with a body that echoes
/// the token.
fn answer(r: &Request) -> Outcome {
    let auth = r.bearer();
    let body = |list: bool| {
        json!({"token_uuid": "uuid-1", "token_expiration": 1893456000,
               "permissions": {"list": list}, "limits": {"sandboxes": 5},
               "operations_stat": {"runs": 2}})
        .to_string()
        .into_bytes()
    };
    if auth.starts_with("ok") {
        Outcome::response(200, body(true))
    } else if auth.starts_with("hang") {
        Outcome::Timeout
    } else if auth.starts_with("nolist") {
        Outcome::response(200, body(false))
    } else {
        Outcome::response(401, format!("{{\"error\":\"bad token {auth}\"}}"))
    }
}

fn temp_home() -> TempDir {
    temp_dir("contree-mcp-")
}

struct Run {
    replies: Vec<Value>,
    log: String,
    code: i32,
}

fn request(id: u64, method: &str, params: Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string()
}

fn call(id: u64, tool: &str, arguments: Value) -> String {
    request(
        id,
        "tools/call",
        json!({"name": tool, "arguments": arguments}),
    )
}

fn serve_lines(lines: &[String], env: &[(&str, &str)], home: Option<&PathBuf>) -> Run {
    let home = home.map(|h| ("CONTREE_HOME".to_string(), h.display().to_string()));
    let env = Environment::new(
        env.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .chain(home),
    );
    let input = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
    let mut stdin = input.as_bytes();
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let api = FakeTransport::new(answer);
    let context = Context::new(&env, None, &api);
    let code = serve(&mut stdin, &mut stdout, &mut stderr, &env, context);
    let stdout = String::from_utf8(stdout).expect("stdout is UTF-8");
    let log = String::from_utf8(stderr).expect("stderr is UTF-8");
    for text in [&stdout, &log] {
        assert_no_fragment("the server's output", text, TOKEN);
    }
    assert!(
        stdout.is_ascii(),
        "frames are ASCII, controls escaped: {stdout}"
    );
    let replies: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    check_tool_results(lines, &replies);
    Run { replies, log, code }
}

/// [`schema_violations`] for the result of every `tools/call` among `lines`.
fn check_tool_results(lines: &[String], replies: &[Value]) {
    let listing = tools::list();
    for request in lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
    {
        if request["method"] != "tools/call" {
            continue;
        }
        let Some(result) = replies
            .iter()
            .find(|r| r["id"] == request["id"])
            .and_then(|r| r.get("result"))
        else {
            continue; // a protocol error: no tool ran
        };
        let name = &request["params"]["name"];
        let tool = listing["tools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == *name)
            .unwrap_or_else(|| panic!("a result from a tool that is not listed: {name}"));
        let violations = schema_violations(tool, result);
        assert!(
            violations.is_empty(),
            "{name}: the result does not match its outputSchema: {violations:?}\n{result}"
        );
    }
}

fn error_code(reply: &Value) -> i64 {
    reply["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("not an error: {reply}"))
}

#[test]
fn handshake_answers_the_clients_revision_or_the_newest() {
    let mut lines: Vec<String> = PROTOCOL_VERSIONS
        .iter()
        .enumerate()
        .map(|(i, v)| request(i as u64, "initialize", json!({"protocolVersion": v})))
        .collect();
    lines.push(request(
        10,
        "initialize",
        json!({"protocolVersion": "2099-01-01"}),
    ));
    lines.push(request(11, "initialize", json!({})));
    let run = serve_lines(&lines, &[], None);
    assert_eq!(run.code, 0);
    for (i, version) in PROTOCOL_VERSIONS.iter().enumerate() {
        assert_eq!(run.replies[i]["id"], json!(i));
        assert_eq!(run.replies[i]["result"]["protocolVersion"], *version);
        assert_eq!(run.replies[i]["result"]["serverInfo"]["name"], SERVER_NAME);
        assert!(run.replies[i]["result"]["capabilities"]["tools"].is_object());
    }
    assert_eq!(run.replies[4]["result"]["protocolVersion"], "2025-11-25");
    assert_eq!(error_code(&run.replies[5]), jsonrpc::INVALID_PARAMS);
}

#[test]
fn bad_lines_and_unknown_methods_get_json_rpc_errors_and_the_session_goes_on() {
    let lines = vec![
        "this is not JSON".to_string(),
        request(1, "resources/list", json!({})),
        request(2, "no/such/method", json!({})),
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.to_string(),
        String::new(),
        "[]".to_string(),
        request(3, "ping", json!({})),
        r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":[1]}"#.to_string(),
        request(5, "tools/call", json!({"name": 5})),
        request(6, "tools/call", json!({"name": "nope"})),
        request(7, "tools/call", json!({"name": "whoami", "arguments": "x"})),
        request(8, "tools/list", json!({"cursor": "x"})),
    ];
    let run = serve_lines(&lines, &[], None);
    assert_eq!(run.code, 0, "end of input exits 0");
    let codes: Vec<Value> = run
        .replies
        .iter()
        .map(|r| r.get("error").map_or(json!("ok"), |e| e["code"].clone()))
        .collect();
    assert_eq!(
        codes,
        [
            json!(-32700),
            json!(-32601),
            json!(-32601),
            json!(-32600),
            json!("ok"),
            json!(-32602),
            json!(-32602),
            json!(-32602),
            json!(-32602),
            json!(-32602),
        ],
        "{:#?}",
        run.replies
    );
    assert_eq!(run.replies[0]["id"], Value::Null);
    assert_eq!(run.replies[1]["id"], 1);
    let unknown_tool = &run.replies[7]["error"];
    assert_eq!(
        unknown_tool["message"],
        "Unknown tool: the tools are list_profiles, whoami, switch_profile, remove_profile, save_profile"
    );
    assert_eq!(unknown_tool["data"]["tools"], json!(tools::names()));
    assert_eq!(run.replies[4]["result"], json!({}));
    assert_starts(&run.log, "[INFO] contree mcp:");
}

#[test]
fn the_stateless_2026_07_28_revision_is_served_too() {
    let meta = |v: &str| json!({"io.modelcontextprotocol/protocolVersion": v});
    let lines = vec![
        request(
            1,
            "server/discover",
            json!({"_meta": meta(MODERN_PROTOCOL_VERSION)}),
        ),
        request(
            2,
            "tools/list",
            json!({"_meta": meta(MODERN_PROTOCOL_VERSION)}),
        ),
        request(
            3,
            "tools/call",
            json!({"name": "switch_profile", "arguments": {"name": "x"},
                   "_meta": meta(MODERN_PROTOCOL_VERSION)}),
        ),
        request(4, "tools/list", json!({"_meta": meta("2099-01-01")})),
        request(5, "tools/list", json!({})),
    ];
    let run = serve_lines(&lines, &[], None);
    let discover = &run.replies[0]["result"];
    let versions = discover["supportedVersions"].as_array().unwrap();
    assert!(versions.contains(&json!("2026-07-28")) && versions.contains(&json!("2025-11-25")));
    assert_eq!(discover["resultType"], "complete");
    assert!(discover["capabilities"]["tools"].is_object());
    assert_eq!(
        discover["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        SERVER_NAME
    );
    let listing = &run.replies[1]["result"];
    assert_eq!(listing["tools"].as_array().unwrap().len(), 5);
    assert_eq!(
        (
            &listing["resultType"],
            &listing["cacheScope"],
            &listing["ttlMs"]
        ),
        (&json!("complete"), &json!("public"), &json!(0))
    );
    let called = &run.replies[2]["result"];
    assert_eq!(called["isError"], true);
    assert_eq!(called["resultType"], "complete");
    let refused = &run.replies[3]["error"];
    assert_eq!(refused["code"], jsonrpc::UNSUPPORTED_PROTOCOL_VERSION);
    assert_eq!(refused["data"]["requested"], "2099-01-01");
    assert_eq!(refused["data"]["supported"], json!(supported_versions()));
    assert!(
        run.replies[4]["result"].get("resultType").is_none(),
        "handshake-era results keep their old shape"
    );
}

#[test]
fn tool_descriptions_are_the_wit_doc_comments() {
    let run = serve_lines(&[request(1, "tools/list", json!({}))], &[], None);
    let tools = run.replies[0]["result"]["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "list_profiles",
            "whoami",
            "switch_profile",
            "remove_profile",
            "save_profile"
        ]
    );
    for (tool, function) in tools.iter().zip([
        "list-profiles",
        "whoami",
        "switch-profile",
        "remove-profile",
        "save-profile",
    ]) {
        let doc = wit_docs::function_doc(wit_docs::WIT_SOURCE, function)
            .unwrap()
            .replace("`switch-profile`", "`switch_profile`");
        let description = tool["description"].as_str().unwrap();
        assert!(description.starts_with(&doc), "{description}");
        // An agent calls tools: no description names a WIT function instead.
        for wit_name in [
            "list-profiles",
            "switch-profile",
            "remove-profile",
            "save-profile",
        ] {
            assert!(
                !description.contains(wit_name),
                "{}: names {wit_name}: {description}",
                tool["name"]
            );
        }
        assert_eq!(tool["inputSchema"]["type"], "object");
        assert_eq!(tool["outputSchema"]["type"], "object");
    }
    let save = &tools[4];
    // The WIT doc wraps its lines; the words are what an agent reads.
    let save_description = save["description"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(save_description.contains("CONTREE_TOKEN, else NEBIUS_API_KEY"));
    assert!(
        save_description.contains("until `switch_profile` picks another"),
        "{save_description}"
    );
    assert!(
        tools[1]["description"]
            .as_str()
            .unwrap()
            .contains("The result's `profile`")
    );
    let properties = save["inputSchema"]["properties"].as_object().unwrap();
    assert!(
        !properties.keys().any(|k| k.contains("token")),
        "no token argument"
    );
    let hint = |i: usize, key: &str| tools[i]["annotations"][key].as_bool().unwrap();
    assert!(hint(0, "readOnlyHint") && hint(1, "readOnlyHint"));
    assert!(hint(3, "destructiveHint") && !hint(3, "readOnlyHint"));
    assert!(hint(0, "openWorldHint") && hint(4, "openWorldHint"));
    assert!(!hint(2, "openWorldHint") && !hint(3, "openWorldHint"));
}

fn structured(reply: &Value) -> &Value {
    let result = &reply["result"];
    assert_eq!(result["isError"], false, "{reply}");
    let text: Value = serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(
        text, result["structuredContent"],
        "text mirrors the structure"
    );
    &result["structuredContent"]
}

/// A tool error's WIT `auth-error` variant, read from its second text
/// block; the first is the core's message.
fn tool_error(reply: &Value) -> Value {
    let result = &reply["result"];
    assert_eq!(result["isError"], true, "{reply}");
    assert!(
        result.get("structuredContent").is_none(),
        "an error carries no structuredContent: {reply}"
    );
    assert!(
        result["content"][0]["text"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    let variant = result["content"][1]["text"]
        .as_str()
        .expect("a second text block");
    serde_json::from_str(variant).unwrap_or_else(|e| panic!("not JSON ({e}): {variant}"))
}

/// A tool error's message: its first text block.
fn error_message(reply: &Value) -> &str {
    reply["result"]["content"][0]["text"].as_str().unwrap()
}

#[test]
fn every_tool_works_through_the_core() {
    let home = temp_home();
    let env = [("CONTREE_TOKEN", TOKEN), ("CONTREE_PROJECT", "proj-1")];
    let url = "http://127.0.0.1:9";
    let lines = vec![
        call(1, "save_profile", json!({"name": "a", "url": url})),
        call(
            2,
            "save_profile",
            json!({"name": "b", "url": url, "auth_type": "jwt"}),
        ),
        call(3, "list_profiles", json!({})),
        call(4, "switch_profile", json!({"name": "b"})),
        call(5, "whoami", json!({})),
        call(6, "remove_profile", json!({"name": "b"})),
        call(7, "list_profiles", json!({"offline": true})),
        call(8, "whoami", json!({"name": "a"})),
    ];
    let run = serve_lines(&lines, &env, Some(&home));
    // Each tool succeeds here at least once, so serve_lines validated a
    // success of every tool against its outputSchema: a new tool must join.
    for tool in tools::names() {
        assert!(
            lines
                .iter()
                .any(|l| l.contains(&format!("\"name\":\"{tool}\""))),
            "{tool} is never called here"
        );
    }
    let saved = structured(&run.replies[0]);
    assert_eq!(saved["profile"]["name"], "a");
    assert_eq!(saved["profile"]["project"], "proj-1");
    assert_eq!(saved["list_permission"], true);
    assert_eq!(saved["replaced"], false);
    let jwt = structured(&run.replies[1]);
    assert_eq!(jwt["profile"]["type"], "jwt");
    assert_eq!(jwt["profile"]["project"], "");
    let listing = structured(&run.replies[2]);
    let statuses: Vec<(&str, &str)> = listing["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["status"].as_str().unwrap()))
        .collect();
    assert_eq!(statuses, [("a", "ok"), ("b", "ok")]);
    assert_eq!(structured(&run.replies[3])["active"], "b");
    let whoami = structured(&run.replies[4]);
    assert_eq!(whoami["profile"], "b", "the active one answered");
    assert_eq!(whoami["token_uuid"], "uuid-1");
    assert_eq!(whoami["permissions"]["list"], true);
    assert_eq!(whoami["limits"]["sandboxes"], 5);
    let removal = structured(&run.replies[5]);
    assert_eq!(removal["removed"], "b");
    assert_eq!(removal["active"], "a");
    let after = structured(&run.replies[6]);
    assert_eq!(after["profiles"].as_array().unwrap().len(), 1);
    assert_eq!(after["profiles"][0]["status"], "offline");
    assert_eq!(structured(&run.replies[7])["profile"], "a", "the named one");
    assert_has(&run.log, "[INFO] Using token from CONTREE_TOKEN");
    let ini = std::fs::read_to_string(home.join("auth.ini")).unwrap();
    assert!(ini.contains(TOKEN), "the token is saved, only never shown");
    let _ = std::fs::remove_dir_all(home);
}

#[test]
fn operation_errors_are_tool_results_with_the_error_variant() {
    let home = temp_home();
    let url = "http://127.0.0.1:9";
    let bad = "e401-SeCrEt-0123456789abcdefghijklmnopqrstuv";
    let with_token = [("CONTREE_TOKEN", TOKEN), ("CONTREE_PROJECT", "p")];
    let run = serve_lines(
        &[
            call(1, "save_profile", json!({"name": "a", "url": url})),
            call(2, "save_profile", json!({"name": "a", "url": url})),
            call(3, "switch_profile", json!({"name": "missing"})),
            call(4, "remove_profile", json!({})),
            call(5, "list_profiles", json!({"offline": "yes"})),
            call(6, "whoami", json!({"name": "a", "token": "x"})),
            call(7, "save_profile", json!({"name": "bad/name", "url": url})),
            call(8, "save_profile", json!({"name": "c", "url": "ftp://x"})),
        ],
        &with_token,
        Some(&home),
    );
    structured(&run.replies[0]);
    // Issue 25 item 4: every error says what to do next, in this face's
    // words (its tools and arguments), beside the WIT variant.
    assert_eq!(
        tool_error(&run.replies[1]),
        json!({"kind": "already-exists", "name": "a",
               "next_step": "call save_profile again with overwrite: true to replace it"})
    );
    assert_eq!(
        error_message(&run.replies[1]),
        "profile 'a' already exists: call save_profile again with overwrite: true to replace it"
    );
    assert_eq!(
        tool_error(&run.replies[2]),
        json!({"kind": "not-found", "name": "missing",
               "next_step": "call list_profiles to see the profiles' names"})
    );
    assert_eq!(
        error_message(&run.replies[2]),
        "profile 'missing' does not exist: call list_profiles to see the profiles' names",
        "the core's message, then the next step"
    );
    assert_eq!(
        tool_error(&run.replies[7])["next_step"],
        "pass a url that starts with http:// or https://"
    );
    for (i, field) in [
        (3, "name"),
        (4, "offline"),
        (5, "arguments"),
        (6, "name"),
        (7, "url"),
    ] {
        let err = tool_error(&run.replies[i]);
        assert_eq!(err["kind"], "invalid-input", "{err}");
        assert_eq!(err["field"], field, "{err}");
    }

    // A token the server refuses: its echo never comes back.
    let run = serve_lines(
        &[call(1, "save_profile", json!({"name": "z", "url": url}))],
        &[("NEBIUS_API_KEY", bad), ("CONTREE_PROJECT", "p")],
        Some(&home),
    );
    let err = tool_error(&run.replies[0]);
    assert_eq!(err["kind"], "verification-failed");
    assert_eq!(err["status"], 401);
    assert_no_fragment("the reply", &run.replies[0].to_string(), bad);

    // No token in the environment, and no config home at all.
    let run = serve_lines(&[call(1, "save_profile", json!({}))], &[], Some(&home));
    let err = tool_error(&run.replies[0]);
    assert_eq!(
        (err["kind"].as_str(), err["field"].as_str()),
        (Some("invalid-input"), Some("token"))
    );
    assert_has(
        err["next_step"].as_str().unwrap(),
        "set CONTREE_TOKEN (or NEBIUS_API_KEY) in this MCP server's environment",
    );
    let run = serve_lines(&[call(1, "list_profiles", json!({}))], &[], None);
    assert_eq!(tool_error(&run.replies[0])["kind"], "io");

    // A server that never answers: the core's bounded wait, as a timeout error.
    let run = serve_lines(
        &[call(1, "save_profile", json!({"name": "h", "url": url}))],
        &[
            ("CONTREE_TOKEN", "hang-SeCrEt-0123456789abcdefghijkl"),
            ("CONTREE_PROJECT", "p"),
        ],
        Some(&home),
    );
    assert_eq!(tool_error(&run.replies[0])["kind"], "timeout");
    let _ = std::fs::remove_dir_all(home);
}

#[test]
fn an_over_long_line_is_refused_and_the_next_request_answered() {
    let lines = vec![
        "x".repeat(jsonrpc::MAX_LINE_BYTES + 10),
        request(1, "ping", json!({})),
    ];
    let run = serve_lines(&lines, &[], None);
    assert_eq!(error_code(&run.replies[0]), jsonrpc::INVALID_REQUEST);
    assert_eq!(run.replies[1]["result"], json!({}));
}

#[test]
fn contree_mcp_is_a_top_level_command_with_help() {
    let args = |line: &str| -> Vec<String> { line.split(' ').map(String::from).collect() };
    let cli = crate::cli::args::parse(&args("contree mcp")).unwrap();
    assert!(matches!(cli.command, crate::cli::args::Command::Mcp { .. }));
    let help = crate::cli::args::parse(&args("contree mcp --help")).unwrap_err();
    assert_eq!(help.exit_code(), 0);
    let text = help.render().to_string();
    assert!(text.contains("Model Context Protocol"), "{text}");
    assert!(text.contains("mcpServers"), "{text}");
    // Issue 25 item 3: the stock CLI's entry keeps tokens private, and
    // says so, so that following it silences the mode warning.
    assert_has(&text, "umask 077 && exec wasmtime run -S http");
    assert_has(&text, "--env CONTREE_PRIVATE_FILES=1");
}

#[test]
fn the_cli_dispatches_mcp_to_the_server() {
    let mut stdin: &[u8] = b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n";
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let mut io = crate::cli::Io {
        stdin: &mut stdin,
        stdout: &mut stdout,
        stderr: &mut stderr,
        stdout_is_terminal: false,
        stdin_is_terminal: false,
    };
    let api = FakeTransport::new(answer);
    let args: Vec<String> = ["contree", "mcp"].map(String::from).to_vec();
    let code = crate::cli::run(&args, &Environment::default(), &mut io, &api);
    assert_eq!(code, 0);
    assert_eq!(
        String::from_utf8(stdout).unwrap(),
        "{\"id\":1,\"jsonrpc\":\"2.0\",\"result\":{}}\n"
    );
}

#[test]
fn the_schema_check_refuses_what_the_inspector_refused() {
    // Issue 19: errors used to carry the variant as structuredContent, which
    // no tool's outputSchema admits; the MCP Inspector then showed
    // "data must have required property 'active'" instead of the message.
    let listing = tools::list();
    let switch = &listing["tools"][2];
    assert_eq!(switch["name"], "switch_profile");
    let old_error = json!({
        "content": [{"type": "text", "text": "profile 'x' does not exist"}],
        "structuredContent": {"kind": "not-found", "name": "x"},
        "isError": true,
    });
    let violations = schema_violations(switch, &old_error);
    assert!(
        violations
            .iter()
            .any(|v| v.contains("\"active\" is a required property")),
        "{violations:?}"
    );
    let drifted = json!({"structuredContent": {"active": 5}, "isError": false});
    assert!(!schema_violations(switch, &drifted).is_empty());
    let bare_success = json!({"content": [], "isError": false});
    assert!(!schema_violations(switch, &bare_success).is_empty());
    for tool in listing["tools"].as_array().unwrap() {
        for schema in ["inputSchema", "outputSchema"] {
            assert!(
                jsonschema::meta::is_valid(&tool[schema]),
                "{} {schema}",
                tool["name"]
            );
        }
    }
}

#[test]
fn c1_and_bidi_characters_never_travel_raw() {
    // A hostile auth.ini: a name holding C1 controls and bidi overrides
    // (the core refuses to write one, but a file can hold anything).
    let home = temp_home();
    let name = "ev\u{202e}il\u{85}\u{9b}2J\u{2066}";
    std::fs::write(
        home.join("auth.ini"),
        format!(
            "[DEFAULT]\nprofile = {name}\n\n[profile:{name}]\n\
             url = http://127.0.0.1:9\ntoken = {TOKEN}\ntype = jwt\n"
        ),
    )
    .unwrap();
    let run = serve_lines(
        &[
            call(1, "list_profiles", json!({"offline": true})),
            call(2, "remove_profile", json!({"name": name})),
        ],
        &[],
        Some(&home),
    );
    // serve_lines saw ASCII-only frames; what a client decodes from them:
    let listing = structured(&run.replies[0]);
    assert_eq!(listing["profiles"][0]["name"], name, "the data is exact");
    assert_eq!(listing["active"], name);
    let text = run.replies[0]["result"]["content"][0]["text"]
        .as_str()
        .unwrap();
    assert!(
        text.contains("ev\\u202eil\\u0085\\u009b2J\\u2066"),
        "{text}"
    );
    let message = error_message(&run.replies[1]);
    let variant = run.replies[1]["result"]["content"][1]["text"]
        .as_str()
        .unwrap();
    assert_eq!(tool_error(&run.replies[1])["field"], "name");
    assert!(message.contains("ev\\u202eil\\x85"), "{message}");
    for shown in [text, message, variant] {
        assert!(
            !shown.chars().any(crate::sanitize::is_unsafe),
            "a text block holds a raw control: {shown:?}"
        );
    }
    let _ = std::fs::remove_dir_all(home);
}

/// Issue 25 item 3: a save, switch or remove that writes auth.ini where
/// the host has not promised private files says so at `[WARNING]`, never
/// at `[INFO]` (the stock CLI's MCP path said it at `[INFO]`); a host that
/// passes `CONTREE_PRIVATE_FILES=1` gets no warning.
#[test]
fn a_write_without_private_files_warns_at_warning_level() {
    let url = "http://127.0.0.1:9";
    let lines = [
        call(1, "save_profile", json!({"name": "a", "url": url})),
        call(2, "save_profile", json!({"name": "b", "url": url})),
        call(3, "switch_profile", json!({"name": "b"})),
        call(4, "remove_profile", json!({"name": "b"})),
    ];
    let home = temp_home();
    let env = [("CONTREE_TOKEN", TOKEN), ("CONTREE_PROJECT", "p")];
    let run = serve_lines(&lines, &env, Some(&home));
    assert_eq!(
        run.log.matches("[WARNING] ").count(),
        4,
        "one warning per write: {}",
        run.log
    );
    for line in run.log.lines().filter(|l| l.contains("default file mode")) {
        assert_starts(line, "[WARNING] ");
        assert_has(line, "CONTREE_PRIVATE_FILES=1");
    }
    let _ = std::fs::remove_dir_all(home);

    let home = temp_home();
    let private = [
        ("CONTREE_TOKEN", TOKEN),
        ("CONTREE_PROJECT", "p"),
        ("CONTREE_PRIVATE_FILES", "1"),
    ];
    let run = serve_lines(&lines, &private, Some(&home));
    assert!(!run.log.contains("[WARNING]"), "{}", run.log);
    assert!(!run.log.contains("file mode"), "{}", run.log);
    let _ = std::fs::remove_dir_all(home);
}

/// Issue 25 item 4: a probe refused for plain http to another machine
/// names this face's fix (`allow_insecure_http`), not the CLI's flag.
#[test]
fn a_listing_detail_names_the_tool_argument_not_the_cli_flag() {
    let home = temp_home();
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join("auth.ini"),
        "[profile:far]\nurl = http://10.0.0.1\ntoken = ok-x\ntype = jwt\n",
    )
    .unwrap();
    let run = serve_lines(&[call(1, "list_profiles", json!({}))], &[], Some(&home));
    let detail = structured(&run.replies[0])["profiles"][0]["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert_has(&detail, "refusing to send the token over plain http://");
    assert_has(&detail, "allow_insecure_http: true");
    assert!(!detail.contains("--allow-insecure-http"), "{detail}");
    let _ = std::fs::remove_dir_all(home);
}

/// Issue 25 item 6: an agent rotates a token with `overwrite` alone (the
/// saved URL and project are kept, and the log says so); a first save
/// while no profile is active says which tool makes it active.
#[test]
fn a_token_is_rotated_with_overwrite_alone_and_first_steps_are_said() {
    let home = temp_home();
    let url = "http://127.0.0.1:9";
    let first = serve_lines(
        &[call(1, "save_profile", json!({"name": "a", "url": url}))],
        &[("CONTREE_TOKEN", TOKEN), ("CONTREE_PROJECT", "proj-1")],
        Some(&home),
    );
    structured(&first.replies[0]);
    assert_has(
        &first.log,
        "[INFO] No profile is active ('default' does not exist): call switch_profile with name 'a' to make this one active",
    );
    let rotated = serve_lines(
        &[call(
            1,
            "save_profile",
            json!({"name": "a", "overwrite": true}),
        )],
        &[("CONTREE_TOKEN", "ok-rotated-0123456789abcdef")],
        Some(&home),
    );
    let saved = structured(&rotated.replies[0]);
    assert_eq!(saved["replaced"], true);
    assert_eq!(saved["profile"]["project"], "proj-1");
    assert_eq!(saved["profile"]["url"], url);
    assert_has(
        &rotated.log,
        "[INFO] Kept the saved URL and project of profile 'a'",
    );
    let ini = std::fs::read_to_string(home.join("auth.ini")).unwrap();
    assert!(ini.contains("token = ok-rotated-0123456789abcdef"), "{ini}");
    let _ = std::fs::remove_dir_all(home);
}
