//! SPEC §8, last bullet: the other ConTree tools that read auth.ini,
//! contree-mcp 0.5.0 (`contree_mcp.config.Config`) and contree-sdk 0.3.6
//! (`read_ini_profile`), read what our component writes as we meant it, and
//! we read what contree-mcp writes (contree-sdk only reads).
//!
//! Both are installed from PyPI into their own venv under `target/`, and
//! read through `other_tools.py`, which imports each tool's own reader and
//! prints JSON with tokens as `token_sha256` prefixes. What we meant is our
//! own offline listing (`-f json auth ls --offline`) and the file's
//! `[DEFAULT] profile` pointer.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use contree_host::harness::python::{self, Packages, run_limited, workspace};
use contree_host::harness::support::{Save, assert_no_token, remember};
use contree_host::{MockApi, Sandbox};
use serde_json::{Value, json};

use crate::common::{ours, rows_of, sha16, token};
use crate::python::controlled_env;

const TOOLS: Packages<'static> = Packages {
    name: "py-venv-contree-mcp-0.5.0-sdk-0.3.6",
    requirements: &["contree-mcp==0.5.0", "contree-sdk==0.3.6"],
    check: "import importlib.metadata as m, contree_mcp.config, contree_sdk._internals.utils.auth_ini; \
            assert m.version('contree-mcp') == '0.5.0' and m.version('contree-sdk') == '0.3.6'",
};

/// Where the other tool's rule differs from ours and is not ours to change;
/// each is asserted to still hold (docs/python-differences.md has a line
/// for each), so an entry that stops being true fails instead of lingering.
pub const KNOWN: [(&str, &str); 2] = [
    (
        "mcp-drops-keys",
        "contree-mcp's Config rewrites the whole file with only token, url, type and project: \
         the allow_insecure_http consent (and any other key) of every profile is lost",
    ),
    (
        "mcp-no-percent",
        "contree-mcp's Config writes with configparser's BasicInterpolation, whose set() \
         refuses a literal %: it cannot write a % token, nor rewrite a file holding one",
    ),
];

fn known(id: &str) -> &'static str {
    KNOWN
        .iter()
        .find(|(k, _)| *k == id)
        .map(|(_, why)| *why)
        .unwrap_or_else(|| panic!("no known difference {id}"))
}

/// The venv, or `None` (said why) outside CI when it cannot be installed.
fn tools() -> Option<PathBuf> {
    python::venv_or_skip(
        &TOOLS,
        "reading our auth.ini with contree-mcp and contree-sdk",
    )
}

/// `other_tools.py` with `spec` on stdin and only `env` (plus `PATH`).
fn script(venv: &Path, env: &[(&str, &Path)], spec: &Value) -> Value {
    let mut cmd = Command::new(venv.join("bin/python"));
    cmd.arg(workspace().join("tests/differential/other_tools.py"));
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.display().to_string()))
        .collect();
    controlled_env(&mut cmd, &env);
    let out = run_limited(cmd, spec.to_string().into_bytes(), Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("running other_tools.py: {e}"));
    assert_no_token("other_tools.py's stdout", &out.stdout);
    assert_no_token("other_tools.py's stderr", &out.stderr);
    assert_eq!(out.code, 0, "other_tools.py failed:\n{}", out.stderr);
    serde_json::from_str(out.stdout.trim())
        .unwrap_or_else(|e| panic!("other_tools.py printed no JSON ({e}):\n{}", out.stdout))
}

/// What we meant: our offline listing's rows, keyed as the script prints them.
fn meant(sb: &Sandbox) -> Vec<Value> {
    let out = ours(sb, &["-f", "json", "auth", "ls", "--offline"]);
    assert_eq!(out.code, 0, "our listing: {}", out.stderr);
    rows_of(&out.stdout)
        .into_iter()
        .map(|row| {
            let project = row["project"].as_str().filter(|p| !p.is_empty());
            json!({
                "name": row["name"],
                "type": row["type"],
                "url": row["url"],
                "project": project,
                "token_sha256": row["token_sha256"],
            })
        })
        .collect()
}

/// The file's `[DEFAULT] profile`, which every tool resolves (`default` if unset).
fn pointer(sb: &Sandbox) -> String {
    let ini = sb.read_file("auth.ini").expect("auth.ini was written");
    ini.lines()
        .take_while(|line| !line.starts_with("[profile:"))
        .find_map(|line| line.strip_prefix("profile = "))
        .unwrap_or("default")
        .to_string()
}

fn without_name(profile: &Value) -> Value {
    let mut p = profile.clone();
    p.as_object_mut().expect("an object").remove("name");
    p
}

/// Each tool's reading of `sb`'s auth.ini (found through `env`), against
/// what we meant; every difference, as one line each.
fn differences(venv: &Path, sb: &Sandbox, env: &[(&str, &Path)]) -> Vec<String> {
    let rows = meant(sb);
    let active = pointer(sb);
    let names: Vec<&str> = rows.iter().filter_map(|r| r["name"].as_str()).collect();
    let read = script(venv, env, &json!({ "read": names }));
    let mut diffs = Vec::new();
    let mut differ = |what: &str, theirs: &Value, ours: &Value| {
        if theirs != ours {
            diffs.push(format!("{what}: theirs {theirs}, ours {ours}"));
        }
    };
    let file = sb.path("auth.ini").to_string_lossy().into_owned();
    let active_row = rows.iter().find(|r| r["name"] == active.as_str());
    let mcp = &read["mcp"];
    differ("contree-mcp's file", &mcp["file"], &json!(file));
    differ("contree-mcp's profiles", &mcp["profiles"], &json!(rows));
    differ("contree-mcp's active_name", &mcp["active"], &json!(active));
    match active_row {
        Some(row) => differ("contree-mcp's resolve()", &mcp["resolved"], row),
        None => differ(
            "contree-mcp's resolve() token",
            &mcp["resolved"]["token_sha256"],
            &Value::Null,
        ),
    }
    let sdk = &read["sdk"];
    differ("contree-sdk's file", &sdk["file"], &json!(file));
    let active_fields = active_row.map(without_name).unwrap_or(Value::Null);
    differ(
        "contree-sdk's read_ini_profile()",
        &sdk["active"],
        &active_fields,
    );
    for row in &rows {
        let name = row["name"].as_str().expect("a name");
        let theirs = &sdk["by_name"][name];
        differ(
            &format!("contree-sdk's read_ini_profile({name:?})"),
            theirs,
            &without_name(row),
        );
    }
    diffs
}

fn assert_read_as_meant(venv: &Path, sb: &Sandbox, step: &str) {
    let env = [("CONTREE_HOME", sb.home())];
    let diffs = differences(venv, sb, &env);
    assert!(
        diffs.is_empty(),
        "after {step}, the other tools read our auth.ini otherwise:\n{}\nthe file:\n{}",
        diffs.join("\n"),
        redacted(sb)
    );
}

/// The file with its token values hidden, for failure messages.
fn redacted(sb: &Sandbox) -> String {
    let ini = sb.read_file("auth.ini").unwrap_or_default();
    ini.lines()
        .map(|l| match l.split_once(" = ") {
            Some(("token", v)) => format!("token = <sha256 {}>", sha16(v)),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn saved(out: contree_host::Outcome, what: &str) {
    assert_eq!(out.code, 0, "saving {what}: {}", out.stderr);
}

/// `http://127.1:PORT`: the mock on loopback, but not the literal dotted
/// quad, so plain http needs `--allow-insecure-http` and the consent is
/// written into the profile.
fn insecure_url(api: &MockApi) -> String {
    format!("http://127.1:{}", api.addr().port())
}

/// A token with `%` in it, which the file must hold as `%%`.
fn percent_token() -> String {
    let t = format!("{}%25%x", token("ok"));
    remember(&t);
    t
}

/// A profile name with a space and non-ASCII letters (a section name, read raw).
const LAN: &str = "lån c";

#[test]
fn contree_mcp_and_contree_sdk_read_our_profiles_as_we_meant_them() {
    let Some(venv) = tools() else { return };
    let api = MockApi::start();
    let sb = Sandbox::new();

    saved(
        Save::new(&token("ok"), &api.url())
            .name("default")
            .project("pa")
            .run(&sb),
        "an iam profile",
    );
    assert_read_as_meant(&venv, &sb, "an iam save");

    let pct = percent_token();
    saved(
        Save::new(&pct, &api.url()).name("b").jwt().run(&sb),
        "a jwt profile with a % token",
    );
    let ini = sb.read_file("auth.ini").unwrap();
    assert!(ini.contains(&pct.replace('%', "%%")), "{}", redacted(&sb));
    // What we meant is the token as given, not as escaped.
    let b = meant(&sb).into_iter().find(|r| r["name"] == "b").unwrap();
    assert_eq!(b["token_sha256"], json!(sha16(&pct)));
    assert_read_as_meant(&venv, &sb, "a jwt save with a % token");

    saved(
        Save::new(&token("ok"), &insecure_url(&api))
            .name(LAN)
            .project("prøject-ü")
            .arg("--allow-insecure-http")
            .run(&sb),
        "a plain-http profile with consent",
    );
    assert!(
        sb.read_file("auth.ini")
            .unwrap()
            .contains("allow_insecure_http = true")
    );
    assert_read_as_meant(&venv, &sb, "a save with --allow-insecure-http");

    for name in ["b", LAN] {
        let out = ours(&sb, &["auth", "switch", name]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(pointer(&sb), name);
        assert_read_as_meant(&venv, &sb, &format!("switch {name}"));
    }

    // Not the active one, then the active one (the pointer moves on).
    for (name, left) in [("default", 2), (LAN, 1)] {
        let out = ours(&sb, &["auth", "rm", name, "-y"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(meant(&sb).len(), left);
        assert_read_as_meant(&venv, &sb, &format!("rm {name}"));
    }
    assert_eq!(
        pointer(&sb),
        "b",
        "removing the active {LAN} moved the pointer"
    );
}

/// Both tools find the file as we do without `CONTREE_HOME`: under
/// `$XDG_CONFIG_HOME/contree`, else `~/.config/contree`.
#[test]
fn contree_mcp_and_contree_sdk_find_our_file_by_the_same_xdg_rules() {
    let Some(venv) = tools() else { return };
    let api = MockApi::start();
    let sb = Sandbox::new();
    saved(
        Save::new(&percent_token(), &api.url()).name("x").run(&sb),
        "an iam profile",
    );
    let out = ours(&sb, &["auth", "switch", "x"]);
    assert_eq!(out.code, 0, "{}", out.stderr);

    let outside = tempfile::tempdir().expect("a temporary directory");
    let xdg = outside.path().join("xdg");
    let home = outside.path().join("home");
    fs::create_dir_all(&xdg).unwrap();
    fs::create_dir_all(home.join(".config")).unwrap();
    std::os::unix::fs::symlink(sb.home(), xdg.join("contree")).unwrap();
    std::os::unix::fs::symlink(sb.home(), home.join(".config/contree")).unwrap();
    let nowhere = outside.path().join("nowhere");
    for (rule, env, dir) in [
        (
            "XDG_CONFIG_HOME",
            vec![
                ("XDG_CONFIG_HOME", xdg.as_path()),
                ("HOME", nowhere.as_path()),
            ],
            xdg.join("contree"),
        ),
        (
            "HOME",
            vec![("HOME", home.as_path())],
            home.join(".config/contree"),
        ),
    ] {
        let diffs = differences(&venv, &sb, &env);
        // The file names differ only by the link each rule went through.
        let file = dir.join("auth.ini").to_string_lossy().into_owned();
        let expected: Vec<String> = ["contree-mcp's file", "contree-sdk's file"]
            .iter()
            .map(|what| {
                format!(
                    "{what}: theirs {}, ours {}",
                    json!(file),
                    json!(sb.path("auth.ini").to_string_lossy())
                )
            })
            .collect();
        assert_eq!(diffs, expected, "found through {rule}");
    }
}

/// The other direction: contree-mcp's `Config` writes auth.ini too (on
/// `config[name] = ...` and `del config[name]`); we list what it wrote.
#[test]
fn we_read_what_contree_mcp_writes_and_its_rewrite_rules_are_known() {
    let Some(venv) = tools() else { return };
    let api = MockApi::start();
    let sb = Sandbox::new();
    saved(
        Save::new(&token("ok"), &insecure_url(&api))
            .name("lan")
            .project("pl")
            .arg("--allow-insecure-http")
            .run(&sb),
        "a plain-http profile with consent",
    );
    let env = [("CONTREE_HOME", sb.home())];
    let (w, j) = (token("ok"), token("ok"));
    let spec = json!({
        "mcp_write": [
            {"name": "w", "url": format!("{}/", api.url()), "token": w, "type": "iam", "project": "pw"},
            {"name": "j", "url": api.url(), "token": j, "type": "jwt", "project": null},
        ],
        "mcp_delete": ["lan"],
    });
    let written = script(&venv, &env, &spec);
    assert_eq!(
        written["written"],
        json!([{"ok": true}, {"ok": true}, {"ok": true}])
    );
    let expected = vec![
        json!({"name": "w", "type": "iam", "url": api.url(), "project": "pw", "token_sha256": sha16(&w)}),
        json!({"name": "j", "type": "jwt", "url": api.url(), "project": null, "token_sha256": sha16(&j)}),
    ];
    assert_eq!(meant(&sb), expected, "our listing of contree-mcp's file");
    // The pointer was never set; deleting a profile that is not active leaves it.
    assert_eq!(pointer(&sb), "default");

    // Its rewrite drops our consent (a known difference).
    let out = ours(&sb, &["auth", "switch", "w"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    saved(
        Save::new(&token("ok"), &insecure_url(&api))
            .name("lan")
            .project("pl")
            .arg("--allow-insecure-http")
            .run(&sb),
        "the plain-http profile again",
    );
    let t = token("ok");
    let spec = json!({"mcp_write": [{"name": "w2", "url": api.url(), "token": t, "type": "jwt"}]});
    assert_eq!(script(&venv, &env, &spec)["written"], json!([{"ok": true}]));
    let ini = sb.read_file("auth.ini").unwrap();
    assert!(
        !ini.contains("allow_insecure_http"),
        "contree-mcp kept the consent: drop the known difference `{}`\n{}",
        known("mcp-drops-keys"),
        redacted(&sb)
    );
    let names: Vec<Value> = meant(&sb).iter().map(|r| r["name"].clone()).collect();
    assert_eq!(names, [json!("w"), json!("j"), json!("lan"), json!("w2")]);
    assert_eq!(pointer(&sb), "w");

    // It cannot write a % token, nor rewrite our file once it holds one
    // (a known difference); the file is left as it was.
    let pct = percent_token();
    let spec = json!({"mcp_write": [{"name": "p", "url": api.url(), "token": pct, "type": "jwt"}]});
    assert_eq!(
        script(&venv, &env, &spec)["written"],
        json!([{"error": "ValueError"}]),
        "{}",
        known("mcp-no-percent")
    );
    saved(
        Save::new(&pct, &api.url()).name("p").jwt().run(&sb),
        "a % token",
    );
    let before = sb.read_file("auth.ini").unwrap();
    let spec = json!({"mcp_write": [{"name": "w3", "url": api.url(), "token": token("ok"), "type": "jwt"}], "mcp_delete": ["w2"]});
    assert_eq!(
        script(&venv, &env, &spec)["written"],
        json!([{"error": "ValueError"}, {"error": "ValueError"}]),
        "{}",
        known("mcp-no-percent")
    );
    assert_eq!(
        sb.read_file("auth.ini").unwrap(),
        before,
        "a refused write changed the file"
    );
    // And it still reads what it cannot write.
    assert_read_as_meant(&venv, &sb, "the % token next to contree-mcp's profiles");
}
