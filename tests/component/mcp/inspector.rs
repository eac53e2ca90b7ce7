//! The official MCP Inspector (npm `@modelcontextprotocol/inspector` 2.12.0,
//! built on the TypeScript SDK 2.3.1) as a second client, driven as a person
//! trying the server by hand would: `npx mcp-inspector --cli COMMAND...
//! --method tools/call --tool-name T --tool-arg k=v`, once per call, through
//! the launcher and the stock `wasmtime` CLI. The Inspector validates every
//! tool result against the tool's `outputSchema`, errors included (issue
//! 19): the tests assert on what it prints, which must be the server's own
//! message on an error and never a schema complaint.
//!
//! It is installed with `npm ci` from `tests/inspector/`'s committed lock
//! into `target/mcp-inspector/`; the overrides there replace the packages
//! only its web UI and TUI load. Where `node` or `npm` is missing the tests
//! fail under `CI=true` and are skipped, saying so, elsewhere;
//! `CONTREE_SKIP_INSPECTOR` skips them on purpose (offline machines).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::thread;
use std::time::Duration;

use contree_host::MockApi;
use contree_host::harness::python::{run_limited, target_dir, workspace};
use serde_json::{Value, json};

use super::{HOSTILE_NAME, TOOLS, schema};
use crate::common::{assert_has, assert_no_token, require_tool, sha16, token};

/// Written after a complete `npm ci`: the lock file it installed.
const INSTALLED_LOCK: &str = ".installed-package-lock.json";
/// One Inspector run that takes longer is killed: a test fails, never hangs.
const RUN_LIMIT: Duration = Duration::from_secs(120);
/// What the Inspector printed for issue 19 instead of the server's message.
const SCHEMA_COMPLAINTS: [&str; 3] = [
    "must have required property",
    "must NOT have additional properties",
    "data must",
];

/// The installed Inspector: the folder `npx` runs in, and `npx` itself.
struct Installed {
    dir: PathBuf,
    npx: PathBuf,
}

/// `npm ci` into `target/mcp-inspector` when the committed lock differs
/// from the one last installed; once per test process.
fn installed() -> Option<&'static Installed> {
    static INSTALLED: OnceLock<Option<Installed>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            if std::env::var_os("CONTREE_SKIP_INSPECTOR").is_some() {
                eprintln!("CONTREE_SKIP_INSPECTOR is set: skipping the MCP Inspector checks");
                return None;
            }
            let purpose = "the MCP Inspector checks";
            let _node = require_tool("node", purpose)?;
            let npm = require_tool("npm", purpose)?;
            let npx = require_tool("npx", purpose)?;
            Some(Installed {
                dir: install(&npm),
                npx,
            })
        })
        .as_ref()
}

/// The files of `tests/inspector` (package.json, the lock, the stubs), as paths under it.
fn package_files(source: &Path) -> Vec<PathBuf> {
    let mut files = vec![
        PathBuf::from("package.json"),
        PathBuf::from("package-lock.json"),
    ];
    let stubs = fs::read_dir(source.join("stubs")).expect("tests/inspector/stubs");
    for stub in stubs {
        files.push(
            Path::new("stubs")
                .join(stub.expect("a stub folder").file_name())
                .join("package.json"),
        );
    }
    files
}

fn install(npm: &Path) -> PathBuf {
    let source = workspace().join("tests").join("inspector");
    let dir = target_dir().join("mcp-inspector");
    for file in package_files(&source) {
        let to = dir.join(&file);
        fs::create_dir_all(to.parent().expect("a file has a parent")).expect("mkdir mcp-inspector");
        fs::copy(source.join(&file), &to).unwrap_or_else(|e| {
            panic!(
                "copying tests/inspector/{} to {}: {e}",
                file.display(),
                to.display()
            )
        });
    }
    let lock = fs::read(dir.join("package-lock.json")).expect("copied lock");
    let installed = fs::read(dir.join(INSTALLED_LOCK)).ok();
    if installed.as_deref() != Some(&lock[..]) || !dir.join("node_modules").is_dir() {
        let _ = fs::remove_file(dir.join(INSTALLED_LOCK));
        let started = std::time::Instant::now();
        let mut cmd = Command::new(npm);
        cmd.current_dir(&dir)
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .env("npm_config_update_notifier", "false");
        let out = run_limited(cmd, Vec::new(), Duration::from_secs(600))
            .unwrap_or_else(|e| panic!("npm ci in {}: {e}", dir.display()));
        assert_eq!(
            out.code,
            0,
            "npm ci in {} failed; set CONTREE_SKIP_INSPECTOR=1 to skip offline\n{}\n{}",
            dir.display(),
            out.stdout,
            out.stderr
        );
        fs::write(dir.join(INSTALLED_LOCK), &lock).expect("marking the install complete");
        eprintln!("the MCP Inspector installed in {:.1?}", started.elapsed());
    }
    dir
}

/// How the Inspector starts the server.
#[derive(Clone, Copy)]
enum Host {
    Launcher,
    StockWasmtime,
}

/// One config home served over one host, with the environment the
/// Inspector gives the server (`-e KEY=VALUE`).
struct Server<'a> {
    inspector: &'a Installed,
    command: Vec<String>,
    env: Vec<(String, String)>,
    /// The Inspector's own HOME (its catalog and config files go there).
    home: PathBuf,
}

/// What the Inspector showed: its exit code, stdout and stderr.
struct Shown {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Shown {
    /// stdout as JSON: the Inspector pretty-prints the result there.
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "the Inspector printed no JSON result ({e}):\n{}\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

impl Server<'_> {
    fn new<'a>(
        inspector: &'a Installed,
        host: Host,
        wasmtime: Option<&Path>,
        config_home: &Path,
        scratch: &Path,
        env: &[(&str, &str)],
    ) -> Server<'a> {
        let config = config_home.display().to_string();
        let cache = contree_host::test_cache_dir()
            .parent()
            .expect("the cache dir has a parent")
            .display()
            .to_string();
        let mut pass: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        // The launcher's compile cache, or wasmtime's (`-C cache=y`).
        pass.push(("XDG_CACHE_HOME".into(), cache));
        let command = match host {
            Host::Launcher => {
                pass.push(("CONTREE_HOME".into(), config));
                vec![env!("CARGO_BIN_EXE_contree").to_string(), "mcp".into()]
            }
            Host::StockWasmtime => {
                let wasmtime = wasmtime.expect("the stock wasmtime CLI");
                let mut args = vec![
                    wasmtime.display().to_string(),
                    "run".into(),
                    "-S".into(),
                    "http".into(),
                    "-C".into(),
                    "cache=y".into(),
                    "--dir".into(),
                    config.clone(),
                    "--env".into(),
                    format!("CONTREE_HOME={config}"),
                ];
                // `--env NAME`: passed through from the environment the Inspector gives wasmtime.
                for (key, _) in env {
                    args.extend(["--env".to_string(), key.to_string()]);
                }
                args.extend([
                    contree_host::component_path().display().to_string(),
                    "mcp".into(),
                ]);
                args
            }
        };
        let home = scratch.join("inspector-home");
        fs::create_dir_all(&home).expect("the Inspector's HOME");
        Server {
            inspector,
            command,
            env: pass,
            home,
        }
    }

    /// `npx mcp-inspector --cli COMMAND... -e K=V... ARGS...`.
    fn inspect(&self, args: &[&str]) -> Shown {
        let mut cmd = Command::new(&self.inspector.npx);
        cmd.current_dir(&self.inspector.dir)
            .env_clear()
            .env("HOME", &self.home)
            // npx runs the installed bin; it never asks the registry.
            .env("npm_config_offline", "true")
            .env("npm_config_update_notifier", "false")
            .args(["mcp-inspector", "--cli"])
            .args(&self.command);
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        for (key, value) in &self.env {
            cmd.arg("-e").arg(format!("{key}={value}"));
        }
        cmd.args(args);
        let out = run_limited(cmd, Vec::new(), RUN_LIMIT)
            .unwrap_or_else(|e| panic!("running the Inspector {args:?}: {e}"));
        let shown = Shown {
            code: out.code,
            stdout: out.stdout,
            stderr: out.stderr,
        };
        for (what, text) in [("stdout", &shown.stdout), ("stderr", &shown.stderr)] {
            assert_no_token(&format!("the Inspector's {what} for {args:?}"), text);
            for complaint in SCHEMA_COMPLAINTS {
                assert!(
                    !text.contains(complaint),
                    "the Inspector complained about the schema ({args:?}):\n{}\n{}",
                    shown.stdout,
                    shown.stderr
                );
            }
        }
        shown
    }

    /// `tools/call` of `tool`, each argument as `--tool-arg k=v`.
    fn call(&self, tool: &str, arguments: &[&str]) -> Shown {
        let mut args = vec!["--method", "tools/call", "--tool-name", tool];
        if !arguments.is_empty() {
            args.push("--tool-arg");
            args.extend(arguments);
        }
        self.inspect(&args)
    }
}

/// A successful call's structured content, checked against the schema.
fn success(listing: &Value, tool: &str, shown: &Shown) -> Value {
    assert_eq!(
        shown.code, 0,
        "{tool} failed:\n{}\n{}",
        shown.stdout, shown.stderr
    );
    let result = shown.json();
    assert_eq!(result["isError"], false, "{result:#}");
    schema::check(listing, tool, &result);
    let text: Value = serde_json::from_str(result["content"][0]["text"].as_str().unwrap())
        .expect("the text block is the JSON");
    assert_eq!(text, result["structuredContent"]);
    result["structuredContent"].clone()
}

/// A tool error as the Inspector shows it: the server's message first, the
/// WIT variant as JSON second, exit code 5 (`tool_is_error`). Returns the
/// variant.
fn failure(listing: &Value, tool: &str, shown: &Shown, message: &str) -> Value {
    let result = shown.json();
    assert_eq!(result["isError"], true, "{result:#}");
    schema::check(listing, tool, &result);
    assert_eq!(
        result["content"][0]["text"], message,
        "the server's own message is what the user sees"
    );
    assert_eq!(shown.code, 5, "the Inspector's exit code for a tool error");
    assert!(
        shown
            .stderr
            .contains(&format!("Tool '{tool}' returned isError:true")),
        "{}",
        shown.stderr
    );
    let variant = result["content"][1]["text"].as_str().expect("the variant");
    serde_json::from_str(variant).expect("the variant is JSON")
}

/// Every tool's success, every error kind, a bad argument, an unknown tool,
/// and the three listings, over one host.
fn every_tool_and_error_through_the_inspector(host: Host) {
    let Some(inspector) = installed() else {
        return;
    };
    let wasmtime = match host {
        Host::Launcher => None,
        Host::StockWasmtime => match contree_host::wasmtime_cli() {
            Some(path) => Some(path),
            None => return, // said why; fails under CI=true
        },
    };
    let api = MockApi::start();
    let url = api.url();
    let dir = tempfile::tempdir().unwrap();
    let scratch = dir.path();
    let home = scratch.join("home");
    fs::create_dir_all(&home).unwrap();
    let good = token("ok");
    let server = |config: &Path, env: &[(&str, &str)]| {
        Server::new(inspector, host, wasmtime.as_deref(), config, scratch, env)
    };
    let main = server(
        &home,
        &[("CONTREE_TOKEN", &good), ("CONTREE_PROJECT", "proj-1")],
    );

    // A server that never answers: the core's bounded wait, run beside the rest.
    let hang = token("hang");
    let hang_home = scratch.join("hang");
    fs::create_dir_all(&hang_home).unwrap();
    let timeout = thread::scope(|scope| {
        let waiting = scope.spawn(|| {
            server(
                &hang_home,
                &[("CONTREE_TOKEN", &hang), ("CONTREE_PROJECT", "p")],
            )
            .call("save_profile", &["name=h", &format!("url={url}")])
        });

        let listing = main.inspect(&["--method", "tools/list", "--strict"]);
        assert_eq!(listing.code, 0, "{}\n{}", listing.stdout, listing.stderr);
        // `--strict` reports each schema portability problem ("Issue: ..."), and
        // exits 6 on an error-severity one: there is none.
        assert!(
            !listing.stderr.contains("Issue:"),
            "the Inspector's portability check: {}",
            listing.stderr
        );
        let listing = listing.json();
        let names: Vec<&str> = listing["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, TOOLS.map(|(tool, _)| tool));
        for method in ["resources/list", "prompts/list"] {
            let shown = main.inspect(&["--method", method]);
            let key = method.split('/').next().unwrap();
            assert_eq!(shown.code, 0, "{method}: {}", shown.stderr);
            assert_eq!(shown.json(), json!({ key: [] }), "{method}: none served");
        }

        // Every tool's success.
        let saved = success(
            &listing,
            "save_profile",
            &main.call("save_profile", &["name=a", &format!("url={url}")]),
        );
        assert_eq!(saved["profile"]["token_sha256"], sha16(&good));
        let jwt = main.call(
            "save_profile",
            &["name=j", &format!("url={url}"), "auth_type=jwt"],
        );
        assert_eq!(
            success(&listing, "save_profile", &jwt)["profile"]["type"],
            "jwt"
        );
        let listed = success(&listing, "list_profiles", &main.call("list_profiles", &[]));
        let statuses: Vec<(&str, &str)> = listed["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["name"].as_str().unwrap(), p["status"].as_str().unwrap()))
            .collect();
        assert_eq!(statuses, [("a", "ok"), ("j", "ok")]);
        let offline = main.call("list_profiles", &["offline=true"]);
        assert_eq!(
            success(&listing, "list_profiles", &offline)["profiles"][0]["status"],
            "offline"
        );
        let switched = main.call("switch_profile", &["name=j"]);
        assert_eq!(
            success(&listing, "switch_profile", &switched)["active"],
            "j"
        );
        let whoami = success(&listing, "whoami", &main.call("whoami", &[]));
        assert_eq!(whoami["profile"], "j", "the active profile answered");
        assert_eq!(whoami["permissions"]["list"], true);
        let removed = main.call("remove_profile", &["name=j"]);
        assert_eq!(success(&listing, "remove_profile", &removed)["active"], "a");

        // Every error kind, each shown with the server's message.
        let again = main.call("save_profile", &["name=a", &format!("url={url}")]);
        assert_eq!(
            failure(
                &listing,
                "save_profile",
                &again,
                "profile 'a' already exists: call save_profile again with overwrite: true to replace it"
            ),
            json!({"kind": "already-exists", "name": "a",
                   "next_step": "call save_profile again with overwrite: true to replace it"})
        );
        let missing = main.call("switch_profile", &["name=missing"]);
        assert_eq!(
            failure(
                &listing,
                "switch_profile",
                &missing,
                "profile 'missing' does not exist: call list_profiles to see the profiles' names"
            ),
            json!({"kind": "not-found", "name": "missing",
                   "next_step": "call list_profiles to see the profiles' names"})
        );
        let bad_argument = main.call("list_profiles", &["bogus=1"]);
        let invalid = failure(
            &listing,
            "list_profiles",
            &bad_argument,
            "unknown argument: this tool takes only offline",
        );
        assert_eq!(
            (&invalid["kind"], &invalid["field"]),
            (&json!("invalid-input"), &json!("arguments"))
        );
        let no_name = main.call("remove_profile", &[]);
        failure(
            &listing,
            "remove_profile",
            &no_name,
            "argument name is required",
        );
        let refused_net = main.call("save_profile", &["name=n", "url=http://127.0.0.1:1"]);
        assert_eq!(
            failure_kind(&listing, "save_profile", &refused_net),
            "network"
        );
        let refused = token("e401");
        let refusing = server(
            &home,
            &[("CONTREE_TOKEN", &refused), ("CONTREE_PROJECT", "proj-1")],
        );
        let verification = refusing.call("save_profile", &["name=r", &format!("url={url}")]);
        let failed = failure_variant(&listing, "save_profile", &verification);
        assert_eq!(
            (&failed["kind"], &failed["status"]),
            (&json!("verification-failed"), &json!(401))
        );
        // A server answering with terminal controls: shown escaped.
        let escape = token("escape");
        let escaping = server(
            &home,
            &[("CONTREE_TOKEN", &escape), ("CONTREE_PROJECT", "proj-1")],
        );
        let escaped = escaping.call("save_profile", &["name=e", &format!("url={url}")]);
        assert_eq!(
            failure_kind(&listing, "save_profile", &escaped),
            "verification-failed"
        );
        assert!(
            !escaped
                .stdout
                .chars()
                .any(|c| (c.is_control() && c != '\n') || is_bidi(c)),
            "raw controls reached the user: {:?}",
            escaped.stdout
        );
        let broken = scratch.join("broken");
        fs::create_dir_all(&broken).unwrap();
        fs::write(broken.join("auth.ini"), "[profile:x]\nurl = a\nurl = b\n").unwrap();
        let parse = server(&broken, &[]).call("list_profiles", &["offline=true"]);
        let parse = failure_variant(&listing, "list_profiles", &parse);
        assert_eq!(
            (&parse["kind"], &parse["line"]),
            (&json!("config-parse"), &json!(3))
        );
        // An auth.ini that is a folder: it cannot be read.
        let unreadable = scratch.join("unreadable");
        fs::create_dir_all(unreadable.join("auth.ini")).unwrap();
        let io = server(&unreadable, &[]).call("list_profiles", &["offline=true"]);
        let io_message = format!(
            "cannot read {}: it is a directory, not a file",
            unreadable.join("auth.ini").display()
        );
        assert_eq!(
            failure(&listing, "list_profiles", &io, &io_message)["kind"],
            "io"
        );
        let no_token = server(&home, &[]).call("save_profile", &["name=t", &format!("url={url}")]);
        let no_token = failure_variant(&listing, "save_profile", &no_token);
        assert_eq!(
            (&no_token["kind"], &no_token["field"]),
            (&json!("invalid-input"), &json!("token"))
        );

        // An unknown tool: the Inspector checks the listing itself.
        let unknown = main.call("no_such_tool", &[]);
        assert_ne!(unknown.code, 0);
        assert_has(&unknown.stderr, "Tool 'no_such_tool' not found");

        // A name holding C1 and bidi controls, from a hostile file.
        let hostile = scratch.join("hostile");
        fs::create_dir_all(&hostile).unwrap();
        fs::write(
            hostile.join("auth.ini"),
            format!("[profile:{HOSTILE_NAME}]\nurl = {url}\ntoken = {good}\ntype = jwt\n"),
        )
        .unwrap();
        let shown = server(&hostile, &[]).call("list_profiles", &["offline=true"]);
        let listed = success(&listing, "list_profiles", &shown);
        assert_eq!(
            listed["profiles"][0]["name"], HOSTILE_NAME,
            "the data is exact"
        );
        // The text an agent reads shows escapes. (The Inspector prints
        // structuredContent again with JSON.stringify, which writes C1 and
        // bidi raw: that is its display of the exact data, not our frame.)
        let text = shown.json()["content"][0]["text"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(text.contains("ev\\u202eil\\u0085"), "{text}");
        assert!(
            !text.chars().any(|c| c.is_control() || is_bidi(c)),
            "raw C1 or bidi controls in the text block: {text:?}"
        );

        (listing, waiting.join().expect("the hanging save's thread"))
    });
    let (listing, hung) = timeout;
    assert_eq!(failure_kind(&listing, "save_profile", &hung), "timeout");

    let ini = fs::read_to_string(home.join("auth.ini")).unwrap();
    assert!(ini.contains("[profile:a]") && !ini.contains("[profile:j]"));
    assert!(!hang_home.join("auth.ini").exists(), "nothing saved");
}

fn is_bidi(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// [`failure`] when the message is the core's and not asserted here.
fn failure_variant(listing: &Value, tool: &str, shown: &Shown) -> Value {
    let result = shown.json();
    let message = result["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!message.is_empty(), "an error has a message: {result:#}");
    failure(listing, tool, shown, &message)
}

fn failure_kind(listing: &Value, tool: &str, shown: &Shown) -> String {
    failure_variant(listing, tool, shown)["kind"]
        .as_str()
        .expect("a kind")
        .to_string()
}

#[test]
fn mcp_inspector_cli_shows_every_result_and_the_servers_own_errors_through_the_launcher() {
    every_tool_and_error_through_the_inspector(Host::Launcher);
}

#[test]
fn mcp_inspector_cli_shows_every_result_and_the_servers_own_errors_under_the_stock_wasmtime_cli() {
    every_tool_and_error_through_the_inspector(Host::StockWasmtime);
}
