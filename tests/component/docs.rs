//! Issue 25 item 2: docs that are tests. Every ```` ```console ```` block of
//! README.md and docs/*.md runs here, as written, and what it shows must be
//! what the commands print; ```` ```sh ```` blocks are recipes this runner
//! does not run (each says which test runs it, or needs tools a user has).
//!
//! A console block is a transcript: `$ COMMAND` lines (a line ending in `\`,
//! or a following line starting with `> `, continues the command), each
//! followed by what it prints, stdout and stderr together as a terminal
//! shows them. The expected text may use snapbox's wildcards: `[..]` for
//! any text within a line, `...` alone on a line for any lines (never for
//! a `[WARNING]` or `[ERROR]` line: those must be shown). Every
//! command must exit 0: an example meant to fail says so in shell
//! (`cmd; echo "exit $?"`), so a command that fails as written fails here.
//!
//! Each `##` section is one scenario: a fresh machine (an empty `$HOME`, a
//! checkout holding the token files below and the component builds under
//! `target/guest*/`), one bash process for the section's blocks in order,
//! so variables, functions and `umask` carry over as in a user's terminal.
//! On `PATH`: `contree` (the launcher this test binary was built with),
//! `wasmtime` (the stock CLI) and the system's tools. The API is the
//! loopback stand-in (`MockApi`), reached through `CONTREE_URL`, which the
//! scenario sets; what the commands print is compared after two
//! substitutions: the stand-in's URL reads as the public API's
//! (`https://api.tokenfactory.nebius.com/sandboxes`), and `$HOME` as `~`.
//! `token.txt` holds a token the stand-in accepts, `limited-token.txt` one
//! without the `list` permission, `revoked-token.txt` one it refuses (401).
//! After a scenario, every
//! auth.ini it left must be mode 0600 in a 0700 folder, and no output may
//! hold a piece of a token.
//!
//! When a message changes, refresh the transcripts with
//! `SNAPSHOTS=overwrite cargo test -p contree-host --test component docs::`
//! (only the outputs that differ are rewritten; check the diff, and put
//! wildcards back where an output varies).

use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use contree_host::harness::python::{run_limited, workspace};
use contree_host::harness::support::{SECRET_MARK, assert_no_token, remember};
use contree_host::harness::tool_component_path;
use contree_host::{MockApi, component_path, wasmtime_cli};
use snapbox::IntoData as _;

/// The public API's URL, as the docs show it.
const PUBLIC_API: &str = "https://api.tokenfactory.nebius.com/sandboxes";
/// What separates one command's output from the next in the scenario's
/// merged stream (a byte no example prints).
const MARK: char = '\u{1e}';

/// One `$ COMMAND` of a console block and the output shown under it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    /// The command as bash gets it (continuations joined by newlines).
    command: String,
    /// The expected output, as written.
    expected: String,
    /// The byte range of `expected` in the document.
    span: std::ops::Range<usize>,
    /// The document's line of the `$`, for messages.
    line: usize,
}

/// The console blocks of one `##` section.
#[derive(Debug, Clone)]
struct Scenario {
    title: String,
    steps: Vec<Step>,
}

/// The console blocks of `text`, grouped by `##` section.
fn scenarios(text: &str) -> Vec<Scenario> {
    let mut out: Vec<Scenario> = Vec::new();
    let mut title = String::from("(top)");
    let mut in_console = false;
    let mut in_other_block = false;
    let mut offset = 0;
    let mut lines = text.split_inclusive('\n').enumerate().peekable();
    let mut steps: Vec<Step> = Vec::new();
    while let Some((n, raw)) = lines.next() {
        offset += raw.len();
        let line = raw.trim_end_matches('\n');
        if in_console {
            if line.starts_with("```") {
                in_console = false;
                continue;
            }
            if let Some(first) = line.strip_prefix("$ ") {
                let mut command = first.to_string();
                // Continuations: a trailing backslash, or PS2's `> `.
                loop {
                    let more = command.ends_with('\\')
                        || lines.peek().is_some_and(|(_, next)| next.starts_with("> "));
                    let Some((_, next)) = lines.peek() else { break };
                    if !more || next.starts_with("```") {
                        break;
                    }
                    let next = next.trim_end_matches('\n');
                    let next = next.strip_prefix("> ").unwrap_or(next).to_string();
                    offset += lines.next().expect("peeked").1.len();
                    command.push('\n');
                    command.push_str(&next);
                }
                steps.push(Step {
                    command,
                    expected: String::new(),
                    span: offset..offset,
                    line: n + 1,
                });
            } else {
                let step = steps
                    .last_mut()
                    .unwrap_or_else(|| panic!("line {}: a console block starts with `$ `", n + 1));
                step.expected.push_str(raw);
                step.span.end = offset;
                if !raw.ends_with('\n') {
                    step.expected.push('\n');
                }
            }
            continue;
        }
        if line.starts_with("```") {
            if in_other_block {
                in_other_block = false;
            } else if line == "```console" {
                in_console = true;
            } else {
                in_other_block = true;
            }
            continue;
        }
        if !in_other_block && let Some(heading) = line.strip_prefix("## ") {
            if !steps.is_empty() {
                out.push(Scenario {
                    title: title.clone(),
                    steps: std::mem::take(&mut steps),
                });
            }
            title = heading.trim().to_string();
        }
    }
    assert!(!in_console, "a console block is not closed");
    if !steps.is_empty() {
        out.push(Scenario { title, steps });
    }
    out
}

/// What a scenario's commands really printed, substituted as the docs show it.
#[derive(Debug)]
struct Ran {
    outputs: Vec<String>,
    codes: Vec<i32>,
}

/// A token the stand-in answers as `kind` (see `mock_api::Behaviour`),
/// fixed so that the docs can show its `token_sha256`, and marked for the
/// leak scan.
fn docs_token(kind: &str) -> String {
    let token = format!("{kind}-{SECRET_MARK}-docs-example-0123456789");
    remember(&token);
    token
}

/// Runs the scenario's commands in one bash on a fresh machine.
fn run_scenario(scenario: &Scenario, api: &MockApi) -> Ran {
    let machine = tempfile::tempdir().expect("a fresh machine");
    let home = machine.path().join("home");
    let checkout = machine.path().join("checkout");
    let bin = machine.path().join("bin");
    for dir in [&home, &bin] {
        std::fs::create_dir_all(dir).unwrap();
    }
    for (built, rel) in [
        (component_path(), "target/guest/contree_auth.wasm"),
        (
            tool_component_path(),
            "target/guest-tool/contree_auth_tool.wasm",
        ),
    ] {
        let to = checkout.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(built, &to).unwrap();
    }
    for (file, kind) in [
        ("token.txt", "ok"),
        ("limited-token.txt", "nolist"),
        ("revoked-token.txt", "e401"),
    ] {
        std::fs::write(checkout.join(file), format!("{}\n", docs_token(kind))).unwrap();
    }
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_contree"), bin.join("contree")).unwrap();
    let mut path = bin.display().to_string();
    if scenario
        .steps
        .iter()
        .any(|s| s.command.contains("wasmtime"))
    {
        let wasmtime = wasmtime_cli().expect("the stock wasmtime CLI, which an example runs");
        let _ = write!(path, ":{}", wasmtime.parent().unwrap().display());
    }
    path.push_str(":/usr/bin:/bin");

    let mut script = String::from("exec 2>&1\n");
    for step in &scenario.steps {
        let _ = writeln!(script, "{}", step.command);
        let _ = writeln!(script, "printf '{MARK}%s{MARK}' \"$?\"");
    }
    // The launcher's compile cache: the one the harness filled.
    let cache = contree_host::test_cache_dir().parent().unwrap();
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(&script)
        .current_dir(&checkout)
        .env_clear()
        .env("HOME", &home)
        .env("PATH", &path)
        .env("XDG_CACHE_HOME", cache)
        .env("CONTREE_URL", format!("{}/sandboxes", api.url()));
    let out = run_limited(cmd, Vec::new(), Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("section {:?}: {e}", scenario.title));
    assert_no_token(&format!("section {:?}", scenario.title), &out.stdout);

    let mut outputs = Vec::new();
    let mut codes = Vec::new();
    let mut rest = out.stdout.as_str();
    while let Some(at) = rest.find(MARK) {
        let after = &rest[at + MARK.len_utf8()..];
        let end = after.find(MARK).expect("a closed mark");
        outputs.push(shown(&rest[..at], &home, api));
        codes.push(after[..end].parse().expect("an exit code"));
        rest = &after[end + MARK.len_utf8()..];
    }
    assert_eq!(
        outputs.len(),
        scenario.steps.len(),
        "section {:?}: the shell stopped early: {rest}",
        scenario.title
    );
    for file in files_named(machine.path(), "auth.ini") {
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        let folder = file.parent().unwrap();
        assert_eq!(
            (mode(&file), mode(folder)),
            (0o600, 0o700),
            "section {:?} left {} and its folder with these modes",
            scenario.title,
            file.display()
        );
    }
    Ran { outputs, codes }
}

/// Output as the docs show it: the stand-in's URL as the public API's,
/// `$HOME` as `~`.
fn shown(output: &str, home: &Path, api: &MockApi) -> String {
    output
        .replace(&format!("{}/sandboxes", api.url()), PUBLIC_API)
        .replace(&home.display().to_string(), "~")
}

fn files_named(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            found.extend(files_named(&path, name));
        } else if kind.is_file() && entry.file_name() == name {
            found.push(path);
        }
    }
    found
}

/// Checks every console block of the document `name` (its text `text`);
/// the failures, one paragraph each, or the document rewritten with the
/// outputs that differed when `overwrite`.
fn check_document(name: &str, text: &str, overwrite: bool) -> Result<(), (Vec<String>, String)> {
    let api = MockApi::start();
    let mut failures = Vec::new();
    let mut rewrites: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let assert = snapbox::Assert::new();
    for scenario in scenarios(text) {
        let ran = run_scenario(&scenario, &api);
        for ((step, actual), code) in scenario.steps.iter().zip(&ran.outputs).zip(&ran.codes) {
            let at = format!("{name}:{} ({})", step.line, scenario.title);
            if *code != 0 {
                failures.push(format!(
                    "{at}: `{}` exited {code} as written:\n{actual}",
                    step.command
                ));
                continue;
            }
            // A wildcard may stand for an info line, never for a warning
            // or an error: those are shown as they are.
            for level in ["[WARNING]", "[ERROR]"] {
                let count = |text: &str| text.lines().filter(|l| l.contains(level)).count();
                if count(actual) != count(&step.expected) {
                    failures.push(format!(
                        "{at}: `{}` printed {} {level} line(s), the example shows {}:\n{actual}",
                        step.command,
                        count(actual),
                        count(&step.expected)
                    ));
                }
            }
            let matched = assert.try_eq(
                None,
                actual.as_str().into_data(),
                step.expected.as_str().into_data(),
            );
            if let Err(err) = matched {
                failures.push(format!("{at}: `{}`:\n{err}", step.command));
                rewrites.push((step.span.clone(), actual.clone()));
            }
        }
    }
    if failures.is_empty() {
        return Ok(());
    }
    let mut rewritten = text.to_string();
    if overwrite {
        for (span, actual) in rewrites.into_iter().rev() {
            rewritten.replace_range(span, &actual);
        }
    }
    Err((failures, rewritten))
}

/// The documents whose console blocks are tests: the README and docs/.
fn documents() -> Vec<PathBuf> {
    let root = workspace();
    let mut docs = vec![root.join("README.md")];
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    docs.extend(pages);
    docs
}

#[test]
fn every_console_example_of_the_readme_and_docs_prints_what_it_shows() {
    let overwrite = std::env::var("SNAPSHOTS").is_ok_and(|v| v == "overwrite");
    let mut failures = Vec::new();
    let mut blocks = 0;
    for path in documents() {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path
            .strip_prefix(workspace())
            .unwrap()
            .display()
            .to_string();
        blocks += scenarios(&text).len();
        if let Err((mut failed, rewritten)) = check_document(&name, &text, overwrite) {
            if overwrite {
                std::fs::write(&path, rewritten).unwrap();
            }
            failures.append(&mut failed);
        }
    }
    assert!(
        failures.is_empty(),
        "{} doc example(s) differ from what they print{}:\n\n{}",
        failures.len(),
        if overwrite { " (rewritten)" } else { "" },
        failures.join("\n\n")
    );
    assert!(blocks >= 3, "only {blocks} sections with console examples");
}

/// The runner itself: a transcript that shows the wrong output, one that
/// hides a warning behind `...`, and one whose command fails as written,
/// fail; wildcards match; state carries
/// from block to block within a section, not across sections.
#[test]
fn a_broken_example_fails_and_a_true_one_passes() {
    let doc = "\
# t\n\n## One\n\n```console\n$ x=1; echo \"x is $x\"\nx is 1\n```\n\n\
```sh\n$ false\n```\n\n```console\n$ echo $x \\\n>   two\n1 two\n$ contree -f json auth ls\n[INFO] Configured profiles\nNo profiles configured.\n\
$ contree auth --token-stdin -P p < token.txt\n...\n[INFO] Saved profile 'default' to ~/.config/contree/auth.ini\n\
$ contree auth ls --offline\n[..]\nNAME  TYPE  URL  PROJECT  TOKEN_SHA256  ACTIVE  STATUS\n\
default  iam  https://api.tokenfactory.nebius.com/sandboxes  p  [..]  true  offline\n```\n\n\
## Two\n\n```console\n$ echo \"${x:-unset}\"\nunset\n```\n";
    let parsed = scenarios(doc);
    assert_eq!(parsed.len(), 2, "{parsed:?}");
    assert_eq!(parsed[0].steps[1].command, "echo $x \\\n  two");
    check_document("good.md", doc, false).unwrap_or_else(|(f, _)| panic!("{}", f.join("\n")));

    let wrong = doc.replace("x is 1\n", "x is 2\n");
    let (failures, rewritten) = check_document("wrong.md", &wrong, true).unwrap_err();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0].starts_with("wrong.md:6 (One)"), "{failures:?}");
    assert_eq!(rewritten, doc, "overwrite restores the true output");

    let hidden = doc.replace(
        "$ contree auth --token-stdin -P p < token.txt",
        "$ contree auth --token-stdin -P p < limited-token.txt",
    );
    let (failures, _) = check_document("hidden.md", &hidden, false).unwrap_err();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0].contains("1 [WARNING] line(s)"), "{failures:?}");

    let failing = doc.replace(
        "$ echo \"${x:-unset}\"\nunset\n",
        "$ contree auth rm nosuch -y\n",
    );
    let (failures, _) = check_document("failing.md", &failing, false).unwrap_err();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0].contains("exited 1 as written"), "{failures:?}");
}

/// The `mcpServers` entries of the README's MCP section, as JSON.
fn readme_mcp_entries() -> Vec<serde_json::Value> {
    let readme = std::fs::read_to_string(workspace().join("README.md")).expect("README.md");
    let start = readme
        .find("\n## Agents: the MCP server\n")
        .expect("the MCP section");
    let section = &readme[start + 1..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    section
        .split("```json\n")
        .skip(1)
        .map(|block| {
            let block = &block[..block.find("```").expect("a closed block")];
            let entry: serde_json::Value =
                serde_json::from_str(block).unwrap_or_else(|e| panic!("not JSON ({e}):\n{block}"));
            entry["mcpServers"]["contree"].clone()
        })
        .collect()
}

/// Issue 25 item 3: both MCP client entries of the README, started as
/// written (only the placeholder paths and the token filled in) by the
/// official MCP Python SDK, save a profile into a 0600 auth.ini without a
/// warning about its mode. (The stock CLI's entry before this change had
/// no `umask 077` and no `CONTREE_PRIVATE_FILES`: auth.ini was 0644.)
#[test]
fn the_readme_mcp_entries_save_a_private_file_without_a_warning() {
    use crate::mcp::python;
    use serde_json::{Value, json};

    let entries = readme_mcp_entries();
    assert_eq!(entries.len(), 2, "the launcher's entry and the stock CLI's");
    let wasmtime = wasmtime_cli().expect("the stock wasmtime CLI");
    let api = MockApi::start();
    let token = docs_token("ok");
    for (n, entry) in entries.iter().enumerate() {
        let machine = tempfile::tempdir().unwrap();
        let home = machine.path().join("home");
        std::fs::create_dir(&home).unwrap();
        let config = home.join(".config/contree");
        let fill = |text: &str| {
            text.replace(
                "/path/to/contree_auth.wasm",
                &component_path().display().to_string(),
            )
            .replace("/path/to/contree", env!("CARGO_BIN_EXE_contree"))
            .replace("/home/me", &home.display().to_string())
        };
        let command = fill(entry["command"].as_str().expect("a command"));
        let args: Vec<String> = entry["args"]
            .as_array()
            .expect("args")
            .iter()
            .map(|a| fill(a.as_str().expect("a string")))
            .collect();
        let mut env = serde_json::Map::new();
        for (key, value) in entry["env"].as_object().expect("env") {
            let value = if key == "CONTREE_TOKEN" {
                token.clone()
            } else {
                fill(value.as_str().expect("a string"))
            };
            env.insert(key.clone(), json!(value));
        }
        assert!(env.contains_key("CONTREE_TOKEN"), "{entry}");
        // What the client's own environment would hold: a home, a PATH
        // with wasmtime on it, and the launcher's compile cache.
        env.insert("HOME".into(), json!(home.display().to_string()));
        let path = format!("{}:/usr/bin:/bin", wasmtime.parent().unwrap().display());
        env.insert("PATH".into(), json!(path));
        let cache = contree_host::test_cache_dir().parent().unwrap();
        env.insert("XDG_CACHE_HOME".into(), json!(cache.display().to_string()));

        let log = machine.path().join("frames.jsonl");
        let mut tee_args = vec![
            python::script("tee.py").display().to_string(),
            log.display().to_string(),
            "0".into(),
            "--".into(),
            command,
        ];
        tee_args.extend(args);
        let calls = json!([
            {"tool": "save_profile", "arguments": {"name": "work", "url": api.url(), "project": "p"}},
            {"tool": "list_profiles", "arguments": {"offline": true}},
        ]);
        let spec = json!({"sessions": [{
            "command": python::python().display().to_string(),
            "args": tee_args,
            "env": env,
            "mode": "session",
            "calls": calls,
        }]});
        let (code, stdout, stderr) = python::run_script("client.py", &[spec.to_string()]);
        let frames = std::fs::read_to_string(&log).unwrap_or_default();
        assert_eq!(code, 0, "entry {n}: {stderr}\n{frames}");
        assert_no_token(&format!("entry {n}'s frames"), &frames);
        let report: Value = serde_json::from_str(stdout.trim()).expect("the client's JSON");
        let results = &report["sessions"][0]["results"];
        assert_eq!(
            results[0]["isError"], false,
            "entry {n}: {results:#}\n{frames}"
        );
        assert_eq!(results[1]["isError"], false, "entry {n}: {results:#}");
        let server_stderr = python::server_stderr(&frames);
        assert!(
            !server_stderr
                .iter()
                .any(|l| l.contains("written with the host's default file mode")),
            "entry {n} warned: {server_stderr:?}"
        );
        let auth_ini = config.join("auth.ini");
        let mode = std::fs::metadata(&auth_ini)
            .unwrap_or_else(|e| panic!("entry {n}: {}: {e}", auth_ini.display()))
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "entry {n}");
    }
}
