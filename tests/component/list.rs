//! SPEC §1 "list".

use std::time::{Duration, Instant};

use contree_host::{MockApi, Sandbox};

use crate::common::{assert_has, json_rows, run, save, sha16, statuses, token};

#[test]
fn each_status_ok_inactive_timeout_error() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    for (name, kind) in [
        ("good", "ok"),
        ("nolist", "nolist"),
        ("slow", "ok"),
        ("bad", "ok"),
    ] {
        save(&sb, &api, name, kind);
    }
    // Turn two saved profiles into a hanging one and a rejected one.
    let ini = sb.read_file("auth.ini").unwrap();
    let mut lines: Vec<String> = ini.lines().map(str::to_string).collect();
    let mut section = String::new();
    for line in &mut lines {
        if line.starts_with('[') {
            section = line.clone();
        } else if line.starts_with("token = ") && section == "[profile:slow]" {
            *line = format!("token = {}", token("hang"));
        } else if line.starts_with("token = ") && section == "[profile:bad]" {
            *line = format!("token = {}", token("e401"));
        }
    }
    sb.write_file("auth.ini", lines.join("\n") + "\n");
    sb.write_file(
        "auth.ini",
        sb.read_file("auth.ini").unwrap()
            + "[profile:notoken]\ntype = jwt\nurl = http://127.0.0.1:9\n",
    );
    let out = run(&sb, &["-f", "json", "auth", "ls"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let expected = [
        ("good", "ok"),
        ("nolist", "inactive"),
        ("slow", "timeout"),
        ("bad", "error"),
        ("notoken", "error"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(statuses(&out.stdout), expected);
    let rows = json_rows(&out.stdout);
    assert!(
        rows[3]["detail"].as_str().unwrap().contains("401"),
        "{}",
        rows[3]
    );
    assert_eq!(rows[4]["token_sha256"], "<no token>");
}

#[test]
fn refused_connection_is_error() {
    let sb = Sandbox::new();
    let refusing = contree_host::harness::support::refusing_port();
    let closed = refusing.port();
    sb.write_file(
        "auth.ini",
        format!(
            "[profile:gone]\ntype = jwt\nurl = http://127.0.0.1:{closed}\ntoken = {}\n",
            token("ok")
        ),
    );
    let out = run(&sb, &["-f", "json", "auth", "ls"]);
    assert_eq!(
        statuses(&out.stdout),
        [("gone".to_string(), "error".to_string())]
    );
}

#[test]
fn profiles_that_never_answer_time_out_together_in_about_two_seconds() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    let mut ini = String::from("[DEFAULT]\nprofile = p0\n\n");
    for i in 0..8 {
        ini.push_str(&format!(
            "[profile:p{i}]\nurl = {}\ntoken = {}\ntype = jwt\n\n",
            api.url(),
            token("hang")
        ));
    }
    sb.write_file("auth.ini", ini);
    let started = Instant::now();
    let out = run(&sb, &["-f", "json", "auth", "ls"]);
    let took = started.elapsed();
    assert!(
        statuses(&out.stdout).iter().all(|(_, s)| s == "timeout"),
        "{}",
        out.stdout
    );
    assert_eq!(statuses(&out.stdout).len(), 8);
    assert!(
        took < Duration::from_secs(6),
        "8 hanging probes took {took:?}, not about 2 s"
    );
    assert!(
        took >= Duration::from_millis(1900),
        "gave up early: {took:?}"
    );
}

#[test]
fn rows_have_the_reference_keys_in_order_and_the_token_hash() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    let tok = save(&sb, &api, "default", "ok");
    let out = run(&sb, &["-f", "json", "auth", "ls"]);
    let row = &json_rows(&out.stdout)[0];
    let keys: Vec<&str> = row
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    // serde_json sorts keys; check order on the raw line instead.
    let line = out.stdout.lines().next().unwrap();
    let mut at = 0;
    for key in [
        "name",
        "type",
        "url",
        "project",
        "token_sha256",
        "active",
        "status",
    ] {
        let found = line[at..]
            .find(&format!("\"{key}\":"))
            .unwrap_or_else(|| panic!("{key} out of order: {line}"));
        at += found;
    }
    assert!(keys.contains(&"detail"));
    assert_eq!(row["token_sha256"], sha16(&tok));
    assert_eq!(row["active"], true);
    assert_eq!(row["project"], "proj-1");
    assert_eq!(row["type"], "iam");
}

#[test]
fn offline_makes_no_request_and_says_offline() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    save(&sb, &api, "a", "ok");
    api.clear_requests();
    for flag in ["--offline", "-O"] {
        let out = run(&sb, &["-f", "json", "auth", "list", flag]);
        assert_eq!(
            statuses(&out.stdout),
            [("a".to_string(), "offline".to_string())]
        );
    }
    assert!(api.requests().is_empty());
}

#[test]
fn probes_send_project_for_iam_and_not_for_jwt() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    sb.write_file(
        "auth.ini",
        format!(
            "[profile:i]\ntype = iam\nurl = {u}\nproject = pi\ntoken = {}\n[profile:j]\ntype = jwt\nurl = {u}\ntoken = {}\n",
            token("ok"),
            token("ok"),
            u = api.url()
        ),
    );
    let out = run(&sb, &["-f", "json", "auth", "profiles"]);
    assert_eq!(out.code, 0);
    let mut projects: Vec<Option<String>> = api
        .requests()
        .iter()
        .map(|r| r.header("project").map(String::from))
        .collect();
    projects.sort();
    assert_eq!(projects, [None, Some("pi".to_string())]);
}

#[test]
fn active_marker_follows_default_profile_then_contree_profile() {
    let api = MockApi::start();
    let mut sb = Sandbox::new();
    save(&sb, &api, "a", "ok");
    save(&sb, &api, "b", "ok");
    let actives = |stdout: &str| -> Vec<bool> {
        json_rows(stdout)
            .iter()
            .map(|r| r["active"] == true)
            .collect()
    };
    let out = run(&sb, &["-f", "json", "auth", "ls", "-O"]);
    assert_eq!(
        actives(&out.stdout),
        [false, false],
        "active is 'default', which does not exist"
    );
    assert_has(
        &out.stderr,
        "[WARNING] Active profile 'default' does not exist in config",
    );
    run(&sb, &["auth", "switch", "b"]);
    let out = run(&sb, &["-f", "json", "auth", "ls", "-O"]);
    assert_eq!(actives(&out.stdout), [false, true]);
    assert!(!out.stderr.contains("does not exist"));
    sb.env("CONTREE_PROFILE", "a");
    let out = run(&sb, &["-f", "json", "auth", "ls", "-O"]);
    assert_eq!(actives(&out.stdout), [true, false]);
    sb.env("CONTREE_PROFILE", "ghost");
    let out = run(&sb, &["-f", "json", "auth", "ls", "-O"]);
    assert_has(&out.stderr, "'ghost' does not exist");
}

#[test]
fn no_profiles_message_and_parseable_stdout() {
    let sb = Sandbox::new();
    let out = run(&sb, &["auth", "ls"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "No profiles configured.\n")
    );
    for (format, stdout) in [
        ("json", ""),
        ("json-pretty", "[]\n"),
        ("csv", ""),
        ("tsv", ""),
        ("toml", ""),
    ] {
        let out = run(&sb, &["-f", format, "auth", "ls"]);
        assert_eq!((out.code, out.stdout.as_str()), (0, stdout), "{format}");
        assert!(
            out.stderr.contains("No profiles configured."),
            "{format}: {}",
            out.stderr
        );
    }
}

#[test]
fn save_time_variables_are_ignored_by_list() {
    let api = MockApi::start();
    let mut sb = Sandbox::new();
    save(&sb, &api, "a", "ok");
    sb.env("CONTREE_TOKEN", token("e401"))
        .env("CONTREE_URL", "http://127.0.0.1:9");
    let out = run(&sb, &["-f", "json", "auth", "ls"]);
    assert_eq!(statuses(&out.stdout), [("a".to_string(), "ok".to_string())]);
}
