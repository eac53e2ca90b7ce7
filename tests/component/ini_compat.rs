//! SPEC §2: the configparser rules the reader honours, and the errors that
//! leave the file untouched.

use contree_host::{MockApi, Sandbox};

use crate::common::{assert_has, json_rows, run, save, sha16};

/// Rows of `-f json auth ls -O` for an auth.ini (and an optional cli.ini).
fn read(auth: &str, cli: Option<&str>) -> Vec<serde_json::Value> {
    let sb = Sandbox::new();
    sb.write_file("auth.ini", auth);
    if let Some(cli) = cli {
        sb.write_file("cli.ini", cli);
    }
    let out = run(&sb, &["-f", "json", "auth", "ls", "-O"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    json_rows(&out.stdout)
}

#[test]
fn keys_are_case_insensitive_and_colon_or_equals_separate() {
    let rows = read(
        "[profile:a]\nURL: http://h\nToken=t\nTYPE :  iam\nProject= p\n",
        None,
    );
    assert_eq!(rows[0]["url"], "http://h");
    assert_eq!(rows[0]["token_sha256"], sha16("t"));
    assert_eq!(rows[0]["type"], "iam");
    assert_eq!(rows[0]["project"], "p");
}

#[test]
fn full_line_comments_are_skipped_and_inline_ones_are_part_of_the_value() {
    let rows = read(
        "# top\n; also\n[profile:a]\n# inside\nproject = p # kept\ntoken = t\n",
        None,
    );
    assert_eq!(rows[0]["project"], "p # kept");
}

#[test]
fn indented_lines_continue_the_value() {
    let rows = read("[profile:a]\nproject = first\n   second\ntoken = t\n", None);
    assert_eq!(rows[0]["project"], "first\nsecond");
}

#[test]
fn default_keys_are_inherited_by_every_profile() {
    let rows = read(
        "[DEFAULT]\ntype = iam\nproject = shared\n\n[profile:a]\ntoken = t\n[profile:b]\ntoken = u\nproject = own\n",
        None,
    );
    assert_eq!(
        (rows[0]["type"].as_str(), rows[0]["project"].as_str()),
        (Some("iam"), Some("shared"))
    );
    assert_eq!(
        rows[0]["url"],
        "https://api.tokenfactory.nebius.com/sandboxes"
    );
    assert_eq!(rows[1]["project"], "own");
}

#[test]
fn double_percent_reads_as_percent() {
    let rows = read("[profile:a]\ntoken = 100%%\nproject = %(token)s!\n", None);
    assert_eq!(rows[0]["token_sha256"], sha16("100%"));
    assert_eq!(rows[0]["project"], "100%!");
}

#[test]
fn crlf_line_endings_are_accepted() {
    let rows = read(
        "[DEFAULT]\r\nprofile = a\r\n\r\n[profile:a]\r\ntoken = t\r\ntype = jwt\r\nurl = http://h\r\n",
        None,
    );
    assert_eq!(rows[0]["url"], "http://h");
    assert_eq!(rows[0]["active"], true);
}

#[test]
fn missing_type_is_jwt_and_defaults_follow_the_type() {
    let rows = read(
        "[profile:j]\ntoken = t\n[profile:i]\ntype = iam\ntoken = t\n[other]\nx = 1\n",
        None,
    );
    assert_eq!(
        rows.len(),
        2,
        "sections that are not profiles are not listed"
    );
    assert_eq!(
        (rows[0]["type"].as_str(), rows[0]["url"].as_str()),
        (Some("jwt"), Some(""))
    );
    assert_eq!(
        rows[1]["url"],
        "https://api.tokenfactory.nebius.com/sandboxes"
    );
}

#[test]
fn cli_ini_is_merged_under_auth_ini() {
    let rows = read(
        "[profile:a]\ntoken = t\nurl = http://auth\n",
        Some(
            "[profile:a]\nurl = http://cli\nproject = from-cli\ntype = iam\n[profile:c]\ntype = jwt\n",
        ),
    );
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["url"], "http://auth", "auth.ini wins per key");
    assert_eq!(rows[0]["project"], "from-cli");
    assert_eq!(rows[0]["type"], "iam");
    assert_eq!(rows[1]["name"], "c");
}

#[test]
fn malformed_files_fail_with_file_and_line_and_stay_untouched() {
    let api = MockApi::start();
    let cases = [
        ("[profile:a]\ntoken = 1\ntoken = 2\n", 3),
        ("[profile:a]\n[profile:b]\n[profile:a]\n", 3),
        ("token = 1\n[profile:a]\n", 1),
        ("[profile:a]\nthis line is nothing\n", 2),
        ("[profile:a]\nurl = ok\n\u{0}\u{1}binary\n", 3),
    ];
    for (text, line) in cases {
        let sb = Sandbox::new();
        sb.write_file("auth.ini", text);
        for args in [
            &["auth", "ls", "-O"][..],
            &["auth", "switch", "a"],
            &["auth", "rm", "a", "-y"],
        ] {
            let out = run(&sb, args);
            assert_eq!(out.code, 1, "{text:?} {args:?}");
            let expected = format!("auth.ini: line {line}:");
            assert!(
                out.stderr.contains(&expected),
                "{expected:?} not in {}",
                out.stderr
            );
            assert_eq!(
                out.stderr
                    .lines()
                    .filter(|l| l.starts_with("[ERROR]"))
                    .count(),
                1
            );
        }
        let tok = crate::common::token("ok");
        let out = run(
            &sb,
            &["auth", "-y", "--token", &tok, "-u", &api.url(), "-P", "p"],
        );
        assert_eq!(out.code, 1);
        assert_eq!(sb.read_file("auth.ini").unwrap(), text, "file untouched");
    }
}

#[test]
fn non_utf8_and_directories_are_clear_errors() {
    let sb = Sandbox::new();
    sb.write_file("auth.ini", b"[profile:a]\ntoken = \xff\xfe\n");
    let out = run(&sb, &["auth", "ls"]);
    assert_eq!(out.code, 1);
    assert_has(&out.stderr, "line 2: not valid UTF-8");
    let sb = Sandbox::new();
    std::fs::create_dir(sb.path("auth.ini")).unwrap();
    let out = run(&sb, &["auth", "ls"]);
    assert_eq!(out.code, 1);
    assert_has(&out.stderr, "is a directory");
}

#[test]
fn what_we_write_we_read_back() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    let tok = save(&sb, &api, "rt", "ok");
    let out = run(&sb, &["-f", "json", "auth", "ls", "-O"]);
    let row = &json_rows(&out.stdout)[0];
    assert_eq!(row["token_sha256"], sha16(&tok));
    assert_eq!(row["url"], api.url());
}
