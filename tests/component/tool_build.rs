//! SPEC §6, the tool-shaped build (`--no-default-features`, the `tool` world):
//! what it imports and exports as `wasm-tools` reads it, the WIT docs carried
//! inside it (and inside the command build), typed functions that never write to stdout, and the
//! single-preopen config-home rule, in the tool build and the CLI alike.

use std::path::{Path, PathBuf};
use std::process::Command;

use contree_host::harness::{
    shared_runner, shared_tool_runner, shared_typed_runner, tool_component_path,
};
use contree_host::typed::{AuthError, TypedRunner};
use contree_host::{MockApi, RunSpec, Sandbox};

use crate::common::{SECRET_MARK, json_rows, request, sha16, token};
use crate::python_env;

/// `wasm-tools ARGS...`, which must succeed.
fn wasm_tools(tool: &Path, args: &[&str]) -> String {
    let out = Command::new(tool)
        .args(args)
        .output()
        .expect("wasm-tools runs");
    assert!(
        out.status.success(),
        "wasm-tools {args:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// The `import` and `export` lines of the component's own world.
fn world_items(wit: &str) -> (Vec<String>, Vec<String>) {
    let world = wit
        .split("world root {")
        .nth(1)
        .and_then(|rest| rest.split("\n}").next())
        .expect("a root world");
    let items = |keyword: &str| -> Vec<String> {
        world
            .lines()
            .filter_map(|l| l.trim().strip_prefix(keyword))
            .map(|l| l.trim_end_matches(';').to_string())
            .collect()
    };
    (items("import "), items("export "))
}

/// The typed functions, which each world exports itself (WIT 0.3.0), so
/// that Wassette shows their doc comments.
use contree_host::harness::support::TYPED_FUNCTIONS as FUNCTIONS;

/// `NAME` of each `NAME: func(...)` export line.
fn function_names(exports: &[String]) -> Vec<&str> {
    exports
        .iter()
        .map(|e| {
            e.split_once(": func(")
                .unwrap_or_else(|| panic!("not a function export: {e}"))
                .0
        })
        .collect()
}

/// The body of `interface NAME { ... }` in the printed WIT.
fn interface_body<'a>(wit: &'a str, name: &str) -> &'a str {
    wit.split(&format!("interface {name} {{"))
        .nth(1)
        .and_then(|rest| rest.split("\n  }").next())
        .unwrap_or_else(|| panic!("no interface {name} in:\n{wit}"))
}

#[test]
fn tool_build_imports_only_stable_wasi_and_exports_no_cli_run() {
    let Some(tools) = python_env::wasm_tools("the tool build's import check") else {
        return;
    };
    let wit_dir = python_env::workspace().join("wit");
    let tool = tool_component_path();
    let command = contree_host::component_path();

    let printed = wasm_tools(&tools, &["component", "wit", path_str(tool)]);
    let (imports, exports) = world_items(&printed);
    assert_eq!(function_names(&exports), FUNCTIONS, "{printed}");
    assert!(!imports.is_empty());
    for import in &imports {
        assert!(
            import.starts_with("wasi:") && import.contains("@0.2."),
            "not a WASI 0.2 import: {import}"
        );
    }
    let exit = interface_body(&printed, "exit");
    assert!(exit.contains("exit: func"), "{exit}");
    assert!(!exit.contains("exit-with-code"), "{exit}");
    // It fits the world it claims.
    wasm_tools(
        &tools,
        &[
            "component",
            "targets",
            path_str(&wit_dir),
            path_str(tool),
            "--world",
            "tool",
        ],
    );

    // The command build is the contrast: the CLI export, and exit code 2.
    let printed = wasm_tools(&tools, &["component", "wit", path_str(command)]);
    let (_, mut exports) = world_items(&printed);
    let run = exports.pop();
    assert_eq!(run.as_deref(), Some("wasi:cli/run@0.2.12"), "{printed}");
    assert_eq!(function_names(&exports), FUNCTIONS, "{printed}");
    assert!(interface_body(&printed, "exit").contains("exit-with-code"));
    wasm_tools(
        &tools,
        &[
            "component",
            "targets",
            path_str(&wit_dir),
            path_str(command),
            "--world",
            "command",
        ],
    );
}

/// Joins doc-comment text the way it reads, whatever the line breaks.
fn words(text: &str) -> String {
    text.lines()
        .map(|l| l.trim().trim_start_matches("///").trim())
        .collect::<Vec<_>>()
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn both_builds_carry_the_wit_docs() {
    let Some(tools) = python_env::wasm_tools("the tool build's docs check") else {
        return;
    };
    let wit_dir = python_env::workspace().join("wit");
    // The docs as written in wit/, read by wasm-tools itself.
    let resolve: serde_json::Value = serde_json::from_str(&wasm_tools(
        &tools,
        &["component", "wit", path_str(&wit_dir), "--json"],
    ))
    .expect("JSON");
    let package = resolve["packages"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "contree:auth@0.3.0"))
        .expect("the contree:auth package");
    let tool = package["worlds"]["tool"].as_u64().expect("the tool world") as usize;
    let exports = resolve["worlds"][tool]["exports"]
        .as_object()
        .expect("the tool world's exports");
    let functions: Vec<(&String, &serde_json::Value)> = exports
        .iter()
        .map(|(name, item)| (name, &item["function"]))
        .collect();
    let mut names: Vec<&str> = functions.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    let mut expected = FUNCTIONS;
    expected.sort_unstable();
    assert_eq!(names, expected);

    let package_docs = package["docs"]["contents"].as_str().expect("package docs");
    for wasm in [tool_component_path(), contree_host::component_path()] {
        let printed = words(&wasm_tools(&tools, &["component", "wit", path_str(wasm)]));
        assert!(
            printed.contains(&words(package_docs)),
            "{}: {printed}",
            wasm.display()
        );
        for (name, function) in &functions {
            let docs = function["docs"]["contents"]
                .as_str()
                .unwrap_or_else(|| panic!("`{name}` has no doc comment in wit/"));
            // Printed as the export's own doc comment, where Wassette reads it.
            let expected = format!("{} export {name}: func(", words(docs));
            assert!(
                printed.contains(&expected),
                "the docs of `{name}` are not in {}:\n{expected}\n---\n{printed}",
                wasm.display()
            );
        }
    }
}

fn preopen(dir: &Path) -> (PathBuf, String) {
    (dir.to_path_buf(), path_str(dir).to_string())
}

#[test]
fn typed_functions_never_write_to_stdout_and_single_preopen_is_the_config_home() {
    typed_calls_with_one_preopen(shared_tool_runner(), "tool");
}

/// One typed runner serves both builds: the command build's typed calls keep
/// the tool build's promises (no stdout, a single preopen is the home).
#[test]
fn the_command_build_s_typed_calls_keep_the_same_promises() {
    typed_calls_with_one_preopen(shared_typed_runner(), "command");
}

fn typed_calls_with_one_preopen(runner: &TypedRunner, build: &str) {
    let api = MockApi::start();
    let sb = Sandbox::new();
    // No environment at all, one preopen: as Wassette grants storage.
    let mut host = runner
        .instantiate(&[], &[preopen(sb.home())])
        .unwrap_or_else(|e| panic!("the {build} build links with WASI 0.2 and wasi:http: {e:#}"));

    let tok = token("ok");
    let saved = host
        .save_profile(&request(&api, "work", &tok))
        .unwrap()
        .unwrap();
    assert_eq!(saved.profile.token_sha256, Some(sha16(&tok)));
    assert_eq!(saved.path, sb.path("auth.ini").display().to_string());
    assert!(sb.read_file("auth.ini").unwrap().contains("[profile:work]"));
    assert!(matches!(
        host.save_profile(&request(&api, "work", &tok)).unwrap(),
        Err(AuthError::AlreadyExists(_))
    ));
    assert!(matches!(
        host.save_profile(&request(&api, "x", &token("e401")))
            .unwrap(),
        Err(AuthError::VerificationFailed(_))
    ));
    let listing = host.list_profiles(false).unwrap().unwrap();
    assert_eq!(listing.profiles.len(), 1);
    host.switch_profile("work").unwrap().unwrap();
    assert!(matches!(
        host.switch_profile("ghost").unwrap(),
        Err(AuthError::NotFound(_))
    ));
    let who = host.whoami(None).unwrap().unwrap();
    assert!(!who.token_uuid.is_empty());
    assert_eq!(
        host.remove_profile("work").unwrap().unwrap().removed,
        "work"
    );

    assert_eq!(
        String::from_utf8_lossy(&host.stdout()),
        "",
        "a typed function of the {build} build wrote to stdout"
    );
    assert!(!String::from_utf8_lossy(&host.stderr()).contains(SECRET_MARK));
}

/// Issue 25 item 4: under a tool host (Wassette lists the tools before it
/// applies the storage grant), a config home that no grant holds names
/// Wassette's grant, not `wasmtime run --dir`.
#[test]
fn an_ungranted_config_home_names_the_tool_hosts_grant() {
    let sb = Sandbox::new();
    let home = path_str(sb.home()).to_string();
    let mut host = shared_tool_runner()
        .instantiate(&[("HOME".to_string(), home.clone())], &[])
        .unwrap();
    match host.list_profiles(true).unwrap() {
        Err(AuthError::Io(message)) => {
            assert!(
                message.contains("cannot reach the config directory"),
                "{message}"
            );
            assert!(
                message.contains(&format!(
                    "wassette permission grant storage COMPONENT_ID fs://{home}/.config/contree --access read,write"
                )),
                "{message}"
            );
            assert!(!message.contains("wasmtime run"), "{message}");
        }
        other => panic!("expected an io error, got {other:?}"),
    }
}

#[test]
fn several_preopens_and_no_home_variable_is_an_error_naming_the_variables() {
    let one = Sandbox::new();
    let two = Sandbox::new();
    one.write_file("auth.ini", "[profile:a]\ntoken = t\n");
    let mut host = shared_tool_runner()
        .instantiate(&[], &[preopen(one.home()), preopen(two.home())])
        .unwrap();
    match host.list_profiles(true).unwrap() {
        Err(AuthError::Io(message)) => {
            for var in ["CONTREE_HOME", "XDG_CONFIG_HOME", "HOME"] {
                assert!(message.contains(var), "{message}");
            }
        }
        other => panic!("expected an io error naming the variables, got {other:?}"),
    }
    // Nothing was written in either directory.
    assert_eq!(two.read_file("auth.ini"), None);
    assert_eq!(
        one.read_file("auth.ini").as_deref(),
        Some("[profile:a]\ntoken = t\n")
    );

    // A home variable settles it.
    let home = path_str(one.home()).to_string();
    let mut host = shared_tool_runner()
        .instantiate(
            &[("CONTREE_HOME".to_string(), home)],
            &[preopen(one.home()), preopen(two.home())],
        )
        .unwrap();
    let listing = host.list_profiles(true).unwrap().unwrap();
    assert_eq!(listing.profiles[0].profile.name, "a");
}

#[test]
fn the_cli_also_takes_a_single_preopen_as_the_config_home() {
    let sb = Sandbox::new();
    sb.write_file(
        "auth.ini",
        "[profile:a]\ntype = jwt\nurl = http://127.0.0.1:9\ntoken = t\n",
    );
    let outcome = shared_runner()
        .unwrap()
        .run(RunSpec {
            args: ["contree", "-f", "json", "auth", "ls", "--offline"]
                .map(String::from)
                .to_vec(),
            env: vec![],
            preopens: vec![preopen(sb.home())],
            capture: true,
            ..RunSpec::default()
        })
        .unwrap();
    assert_eq!(outcome.code, 0, "{outcome:?}");
    let rows = json_rows(&outcome.stdout);
    assert_eq!(rows.len(), 1, "{outcome:?}");
    assert_eq!(rows[0]["name"], "a");
}

/// The stock CLI calls a typed function of either build by its name
/// (`wasmtime run --invoke`), the world exporting it directly (WIT 0.3.0).
#[test]
fn stock_wasmtime_invokes_the_typed_functions_of_both_builds() {
    let Some(wasmtime) = contree_host::harness::wasmtime_cli() else {
        eprintln!("the stock wasmtime CLI is not available: skipping --invoke");
        return;
    };
    let sb = Sandbox::new();
    sb.write_file(
        "auth.ini",
        "[profile:a]\ntype = jwt\nurl = http://127.0.0.1:9\ntoken = t\n",
    );
    let home = path_str(sb.home());
    for wasm in [contree_host::component_path(), tool_component_path()] {
        let out = Command::new(&wasmtime)
            .args(["run", "-S", "http", "--dir", home])
            .args(["--invoke", "list-profiles(true)"])
            .arg(wasm)
            .env_clear()
            .output()
            .expect("wasmtime runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}: {}",
            wasm.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        // WAVE: the one preopen is the config home, no variable needed.
        assert!(stdout.starts_with("ok("), "{stdout}");
        assert!(stdout.contains("name: \"a\""), "{stdout}");
        assert!(stdout.contains("status: offline"), "{stdout}");
    }
}
