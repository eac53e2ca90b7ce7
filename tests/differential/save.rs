//! `contree auth` (save): every way a profile gets written, and every way a
//! save is refused, run by both tools; after each step the files are
//! cross-read (`Twin::assert_same_state`).

use crate::twin::Twin;

const SAVED: &str = "auth accepted, profile";

#[test]
fn saves_from_flags_env_and_prompts_write_the_same_profiles() {
    let mut t = Twin::new();
    let url = t.url();

    // iam, everything on the command line.
    let tok = t.token("ok");
    let p = t.both_save(&t.save("a", &tok));
    p.same_code()
        .same_log("INFO")
        .same_log("ERROR")
        .same_log("WARNING");
    p.both_say("auth accepted, profile 'a' saved to -> $CONTREE_HOME/auth.ini");
    t.assert_same_state("iam from flags");

    // jwt; the trailing slash of the URL is dropped.
    let tok = t.token("ok");
    let p = t.both_save(&t.save("j", &tok).url(&format!("{url}/")).jwt());
    p.same_code().same_log("INFO").both_say(SAVED);
    t.assert_same_state("jwt with a trailing slash");

    // Everything from the environment: CONTREE_TOKEN beats NEBIUS_API_KEY.
    let (tok, other) = (t.token("ok"), t.token("e401"));
    let env = [
        ("CONTREE_TOKEN", tok.as_str()),
        ("NEBIUS_API_KEY", other.as_str()),
        ("CONTREE_URL", url.as_str()),
        ("NEBIUS_AI_PROJECT", "nebius-proj"),
    ];
    let p = t.both(&["auth", "-p", "env1"], &env, "");
    p.same_code().same_log("INFO");
    p.both_say("Using token from CONTREE_TOKEN")
        .both_say("Using URL from CONTREE_URL");
    p.both_say("Using project from NEBIUS_AI_PROJECT");
    t.assert_same_state("from CONTREE_TOKEN, CONTREE_URL, NEBIUS_AI_PROJECT");

    // NEBIUS_API_KEY alone; CONTREE_PROJECT beats NEBIUS_AI_PROJECT.
    let tok = t.token("ok");
    let env = [
        ("NEBIUS_API_KEY", tok.as_str()),
        ("CONTREE_URL", url.as_str()),
        ("CONTREE_PROJECT", "contree-proj"),
        ("NEBIUS_AI_PROJECT", "nebius-proj"),
    ];
    let p = t.both(&["auth", "-p", "env2"], &env, "");
    p.same_code()
        .same_log("INFO")
        .both_say("Using token from NEBIUS_API_KEY");
    p.both_say("Using project from CONTREE_PROJECT");
    t.assert_same_state("from NEBIUS_API_KEY, CONTREE_PROJECT");

    // Flags beat the environment.
    let (tok, env_tok) = (t.token("ok"), t.token("e401"));
    let env = [
        ("CONTREE_TOKEN", env_tok.as_str()),
        ("CONTREE_URL", "http://127.0.0.1:9"),
        ("CONTREE_PROJECT", "env-proj"),
    ];
    let p = t.both(
        &[
            "auth",
            "-p",
            "flags",
            "--token",
            &tok,
            "-u",
            &url,
            "-P",
            "flag-proj",
        ],
        &env,
        "",
    );
    p.same_code().same_log("INFO");
    t.assert_same_state("flags over the environment");

    // The project prompt, then the URL prompt of jwt.
    let tok = t.token("ok");
    let p = t.both(
        &["auth", "-p", "asked", "--token", &tok, "-u", &url],
        &[],
        "prompted-proj\n",
    );
    p.same_code().both_say("Project ID: ").both_say(SAVED);
    t.assert_same_state("project from the prompt");
    let tok = t.token("ok");
    let p = t.both(
        &["auth", "-p", "jasked", "--type", "jwt", "--token", &tok],
        &[],
        &format!("{url}/\n"),
    );
    p.same_code().both_say("URL: ").both_say(SAVED);
    t.assert_same_state("URL from the prompt");

    // The token prompt (no terminal: both read the line from stdin).
    let tok = t.token("ok");
    let p = t.both(
        &["auth", "-p", "tasked", "-u", &url, "-P", "p1"],
        &[],
        &format!("{tok}\n"),
    );
    p.same_code().both_say("Token: ").both_say(SAVED);
    t.assert_same_state("token from the prompt");

    // The default profile; it is the active one.
    let tok = t.token("ok");
    let p = t.both(&["auth", "--token", &tok, "-u", &url, "-P", "pd"], &[], "");
    p.same_code()
        .both_say("auth accepted, profile 'default' saved");
    // `-p ''` is the default profile too.
    let tok = t.token("ok");
    let p = t.both(
        &[
            "auth", "-p", "", "-y", "--token", &tok, "-u", &url, "-P", "pd2",
        ],
        &[],
        "",
    );
    p.same_code()
        .both_say("auth accepted, profile 'default' saved");
    t.assert_same_state("the default profile");

    // Names with spaces and non-ASCII letters.
    for name in ["my profile", "прод-1"] {
        let tok = t.token("ok");
        let p = t.both_save(&t.save(name, &tok).project("p"));
        p.same_code().same_log("INFO");
    }
    t.assert_same_state("names with a space and with Cyrillic");

    // A token without the `list` permission is saved, with a warning.
    let tok = t.token("nolist");
    let p = t.both_save(&t.save("nl", &tok).project("p-nolist"));
    p.same_code().same_log("WARNING").same_log("INFO");
    p.both_say(
        "Warning: token is valid but sandboxes are disabled on p-nolist (no 'list' permission).",
    );
    let tok = t.token("nolistkey");
    let p = t.both(
        &[
            "auth", "-p", "nlk", "--type", "jwt", "--token", &tok, "-u", &url,
        ],
        &[],
        "",
    );
    p.same_code().same_log("WARNING");
    p.both_say(&format!(
        "Warning: token is valid but sandboxes are disabled on {url} (no 'list' permission)."
    ));
    t.assert_same_state("no list permission");
}

#[test]
fn overwriting_asks_and_only_y_overwrites() {
    let mut t = Twin::new();
    let url = t.url();
    let first = t.token("ok");
    t.both_ok(&t.save("a", &first).args());

    // No, end of input, an empty line (the default is N), anything but y.
    for answer in ["N\n", "", "\n", "yes\n"] {
        let tok = t.token("ok");
        let p = t.both(
            &["auth", "-p", "a", "--token", &tok, "-u", &url, "-P", "p2"],
            &[],
            answer,
        );
        p.same_code()
            .both_say("Profile 'a' already exists. Overwrite? [y/N] ")
            .both_say("Aborted.");
        assert_eq!(p.py.code, 1, "{}", p.dump());
    }
    t.assert_same_state("every answer but y");

    // An answer that is neither y nor n asks again; then `Y` overwrites, and
    // an iam profile re-saved as jwt loses its project.
    let tok = t.token("ok");
    let p = t.both(
        &[
            "auth", "-p", "a", "--type", "jwt", "--token", &tok, "-u", &url,
        ],
        &[],
        "maybe\nY\n",
    );
    p.same_code()
        .same_log("INFO")
        .both_say("Updating token for profile 'a' (type: jwt)");
    p.both_say("Please answer one of: y, n");
    assert_eq!(p.py.code, 0, "{}", p.dump());
    t.assert_same_state("Y overwrites; jwt drops the project");

    // -y and --force overwrite without asking.
    let tok = t.token("ok");
    let p = t.both(
        &[
            "auth", "-p", "a", "-y", "--token", &tok, "-u", &url, "-P", "p3",
        ],
        &[],
        "",
    );
    p.same_code().same_log("INFO");
    t.assert_same_state("-y");
    let tok = t.token("nolist");
    let p = t.both(
        &[
            "auth", "-p", "a", "--force", "--token", &tok, "-u", &url, "-P", "p4",
        ],
        &[],
        "",
    );
    p.same_code().same_log("WARNING");
    t.assert_same_state("--force");
}

#[test]
fn refused_saves_exit_1_with_the_same_message_and_change_nothing() {
    let mut t = Twin::new();
    let url = t.url();
    let keep = t.token("ok");
    t.both_ok(&t.save("keep", &keep).args());

    let cases: Vec<(&str, String, &str)> = vec![
        (
            "e401",
            t.token("e401"),
            "Token verification failed: HTTP 401: invalid token. Profile not changed.",
        ),
        (
            "e403",
            t.token("e403"),
            "Token verification failed: HTTP 403: forbidden. Profile not changed.",
        ),
        (
            "unknown token",
            t.token("nobody"),
            "Token verification failed: HTTP 401: unknown token. Profile not changed.",
        ),
    ];
    // Both a new profile and an existing one (with -y) stay as they were.
    for (i, (what, tok, message)) in cases.iter().enumerate() {
        let profile = if i % 2 == 0 { "keep" } else { "fresh" };
        let p = t.both(
            &[
                "auth", "-p", profile, "-y", "--token", tok, "-u", &url, "-P", "p9",
            ],
            &[],
            "",
        );
        p.same_code().both_say(message).same_log("ERROR");
        assert_eq!(p.py.code, 1, "{what}\n{}", p.dump());
    }
    t.assert_same_state("after the refusals");

    // Bodies that are not JSON: see `differences`.
}

#[test]
fn input_checks_before_any_request() {
    let mut t = Twin::new();
    let url = t.url();
    let tok = t.token("ok");

    // jwt with no URL anywhere and an empty answer to the prompt.
    let p = t.both(
        &["auth", "-p", "j", "--type", "jwt", "--token", &tok],
        &[],
        "\n",
    );
    p.same_code()
        .both_say("URL is required for JWT auth")
        .same_log("ERROR");
    assert_eq!(p.py.code, 1);

    // iam with an empty answer to the project prompt.
    let p = t.both(&["auth", "-p", "i", "--token", &tok, "-u", &url], &[], "\n");
    p.same_code();
    assert_eq!(p.py.code, 1, "{}", p.dump());

    // A URL that is not http(s).
    let p = t.both(
        &[
            "auth",
            "-p",
            "s",
            "--token",
            &tok,
            "-u",
            "ftp://127.0.0.1/x",
            "-P",
            "p1",
        ],
        &[],
        "",
    );
    p.same_code();
    assert_eq!(p.py.code, 1, "{}", p.dump());

    // Usage errors exit 2 (the wording is argparse's there, clap's here).
    for args in [
        vec!["auth", "--type", "saml"],
        vec!["auth", "switch"],
        vec!["auth", "frobnicate"],
    ] {
        let p = t.both(&args, &[], "");
        p.same_code();
        assert_eq!(p.py.code, 2, "{}", p.dump());
    }
    assert!(
        t.api.requests().is_empty(),
        "a request was made: {:?}",
        t.api.requests()
    );
    t.assert_same_state("nothing written");
}

#[test]
fn a_config_path_from_c_is_used_for_save_and_list() {
    let t = Twin::new();
    let url = t.url();
    t.write_both("alt/.keep", "");
    let tok = t.token("ok");
    let py_path = t.py.path("alt/my-auth.ini").to_string_lossy().into_owned();
    let our_path = t
        .ours
        .path("alt/my-auth.ini")
        .to_string_lossy()
        .into_owned();
    let py = t.py_raw(
        &[
            "-o", "json", "-c", &py_path, "auth", "-p", "c", "--token", &tok, "-u", &url, "-P",
            "pc",
        ],
        &[],
        "",
    );
    let ours = crate::common::ours(
        &t.ours,
        &[
            "-f", "json", "-c", &our_path, "auth", "-p", "c", "--token", &tok, "-u", &url, "-P",
            "pc",
        ],
    );
    assert_eq!(
        (py.code, ours.code),
        (0, 0),
        "{}{}",
        crate::common::show("python", &py),
        crate::common::show("ours", &ours)
    );
    assert!(t.py.read_file("auth.ini").is_none() && t.ours.read_file("auth.ini").is_none());
    let loaded = crate::python::load_profiles(&[
        t.py.path("alt/my-auth.ini").as_path(),
        t.ours.path("alt/my-auth.ini").as_path(),
    ]);
    assert_eq!(loaded[1], loaded[0]);

    let py = t.py_raw(&["-o", "json", "-c", &py_path, "auth", "ls", "-O"], &[], "");
    let ours = crate::common::ours(&t.py, &["-f", "json", "-c", &py_path, "auth", "ls", "-O"]);
    let py_rows: Vec<_> = crate::common::rows_of(&py.stdout)
        .into_iter()
        .map(crate::differences::py_row)
        .collect();
    let our_rows: Vec<_> = crate::common::rows_of(&ours.stdout)
        .into_iter()
        .map(crate::differences::our_row)
        .collect();
    assert_eq!(py_rows.len(), 1, "{}", py.stdout);
    assert_eq!(our_rows, py_rows);
}
