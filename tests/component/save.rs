//! SPEC §1 "Save, step by step".

use contree_host::{MockApi, Sandbox};

use crate::common::{Save, assert_has, run_with_stdin, save, token};

/// Environment variables of one case.
type Env<'a> = &'a [(&'a str, &'a str)];

#[test]
fn save_verifies_with_whoami_then_writes_the_reference_layout() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    let tok = token("ok");
    let out = Save::new(&tok, &format!("{}/", api.url())).run(&sb);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let requests = api.requests();
    assert_eq!(requests.len(), 1);
    let req = &requests[0];
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("GET", "/v1/whoami")
    );
    assert_eq!(req.token(), Some(tok.as_str()));
    assert_eq!(req.header("project"), Some("proj-1"));
    assert!(
        req.header("user-agent")
            .unwrap_or("")
            .starts_with("contree-auth/"),
        "{:?}",
        req.headers
    );
    assert_eq!(
        sb.read_file("auth.ini").unwrap(),
        format!(
            "[DEFAULT]\nprofile = default\n\n[profile:default]\nurl = {}\ntoken = {tok}\ntype = iam\nproject = proj-1\n\n",
            api.url()
        )
    );
    assert_has(
        &out.stderr,
        "[INFO] Setting token for profile 'default' (type: iam)",
    );
    let saved = format!(
        "[INFO] Saved profile 'default' to {}",
        sb.path("auth.ini").display()
    );
    assert_has(&out.stderr, &saved);
}

#[test]
fn token_precedence_flag_then_contree_token_then_nebius_api_key_then_prompt() {
    let api = MockApi::start();
    let (flag, contree, nebius, typed) = (token("ok"), token("ok"), token("ok"), token("ok"));
    let both: Env = &[("CONTREE_TOKEN", &contree), ("NEBIUS_API_KEY", &nebius)];
    // (environment, --token flag, token whoami sees, where stderr says it came from)
    let cases: [(Env, Option<&str>, &str, Option<&str>); 4] = [
        (both, Some(&flag), &flag, None),
        (both, None, &contree, Some("Using token from CONTREE_TOKEN")),
        (
            &[("NEBIUS_API_KEY", &nebius)],
            None,
            &nebius,
            Some("Using token from NEBIUS_API_KEY"),
        ),
        (&[], None, &typed, Some("Token: ")),
    ];
    let sources = ["Using token from", "Token: "];
    for (env, flag, expected, source) in cases {
        let mut sb = Sandbox::new();
        for (k, v) in env {
            sb.env(*k, *v);
        }
        let save = Save::new("", &api.url()).project("p").no_token();
        let save = match flag {
            Some(flag) => save.token(flag),
            None => save,
        };
        api.clear_requests();
        let out = save.run_with_stdin(&sb, &format!("{typed}\n"));
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(api.requests()[0].token(), Some(expected));
        match source {
            Some(source) => assert!(
                out.stderr.contains(source),
                "{source:?} not in {}",
                out.stderr
            ),
            // The flag wins silently: no variable named, no prompt.
            None => assert!(
                sources.iter().all(|s| !out.stderr.contains(s)),
                "{}",
                out.stderr
            ),
        }
    }
}

#[test]
fn url_precedence_flag_then_contree_url_then_iam_default() {
    let api = MockApi::start();
    let other = MockApi::start();
    let mut sb = Sandbox::new();
    sb.env("CONTREE_URL", format!("{}/", other.url()));
    let tok = token("ok");
    let out = Save::new(&tok, &api.url()).project("p").run(&sb);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!((api.requests().len(), other.requests().len()), (1, 0));
    let out = Save::bare().token(&tok).project("p").yes().run(&sb);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_has(&out.stderr, "Using URL from CONTREE_URL");
    assert_eq!(other.requests().len(), 1);
    assert!(
        sb.read_file("auth.ini")
            .unwrap()
            .contains(&format!("url = {}\n", other.url())),
        "trailing / stripped"
    );
}

#[test]
fn jwt_prompts_for_url_and_an_empty_answer_is_an_error() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    let jwt = Save::bare().token(&token("ok")).jwt();
    let out = jwt.run_with_stdin(&sb, "\n");
    assert_eq!(out.code, 1);
    assert_has(&out.stderr, "URL: ");
    assert_has(&out.stderr, "[ERROR] URL is required for JWT auth");
    let out = jwt.run_with_stdin(&sb, &format!("{}\n", api.url()));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let ini = sb.read_file("auth.ini").unwrap();
    assert!(
        ini.contains("type = jwt\n") && !ini.contains("project"),
        "{ini}"
    );
    assert_eq!(
        api.requests()[0].header("project"),
        None,
        "jwt sends no Project header"
    );
}

#[test]
fn project_precedence_flag_then_contree_project_then_nebius_ai_project_then_prompt() {
    let api = MockApi::start();
    // (environment, -P flag, project whoami sees)
    let cases: [(Env, Option<&str>, &str); 4] = [
        (
            &[("CONTREE_PROJECT", "env1"), ("NEBIUS_AI_PROJECT", "env2")],
            Some("flag"),
            "flag",
        ),
        (
            &[("CONTREE_PROJECT", "env1"), ("NEBIUS_AI_PROJECT", "env2")],
            None,
            "env1",
        ),
        (&[("NEBIUS_AI_PROJECT", "env2")], None, "env2"),
        (&[], None, "typed"),
    ];
    for (env, flag, expected) in cases {
        let mut sb = Sandbox::new();
        for (k, v) in env {
            sb.env(*k, *v);
        }
        let save = Save::new(&token("ok"), &api.url()).no_project();
        let save = match flag {
            Some(flag) => save.project(flag),
            None => save,
        };
        api.clear_requests();
        let out = save.run_with_stdin(&sb, "  typed \n");
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(api.requests()[0].header("project"), Some(expected));
    }
}

#[test]
fn existing_profile_asks_before_overwriting_and_anything_but_y_aborts() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    save(&sb, &api, "work", "ok");
    let before = sb.read_file("auth.ini").unwrap();
    let again = |answer: &str| {
        Save::new(&token("ok"), &api.url())
            .name("work")
            .project("p2")
            .run_with_stdin(&sb, answer)
    };
    for answer in ["n\n", "\n", "", "no\n"] {
        let out = again(answer);
        assert_eq!(out.code, 1, "answer {answer:?}");
        // Issue 20 item 4: prompts go to stderr, stdout stays data.
        assert_has(
            &out.stderr,
            "Profile 'work' already exists. Overwrite? [y/N] ",
        );
        assert_has(&out.stderr, "Aborted.");
        assert_eq!(out.stdout, "");
        assert_eq!(sb.read_file("auth.ini").unwrap(), before);
    }
    let out = again("Y\n");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_has(&out.stderr, "Updating token for profile 'work'");
    assert!(sb.read_file("auth.ini").unwrap().contains("project = p2"));
}

#[test]
fn bad_input_is_rejected_before_any_request() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    let save = Save::new(&token("ok"), &api.url()).project("p");
    let cases = [
        (
            save.clone().token(""),
            "\n",
            "The token is empty: pipe it with --token-stdin, or set CONTREE_TOKEN",
        ),
        (
            save.clone().no_project(),
            "\n",
            "No project given for IAM profile 'default': pass -P/--project or set CONTREE_PROJECT",
        ),
        (
            save.clone().url("ftp://h"),
            "",
            "-u/--url needs a URL that starts with http:// or https:// (got 'ftp://h')",
        ),
        (save.clone().url("https://"), "", "base_url has no hostname"),
        (
            save.clone().url("http://example.invalid:1"),
            "",
            "--allow-insecure-http",
        ),
    ];
    for (save, stdin, message) in cases {
        let out = save.run_with_stdin(&sb, stdin);
        assert_eq!(out.code, 1, "{:?}", save.args());
        assert_has(&out.stderr, message);
        assert_eq!(
            out.stderr.lines().filter(|l| l.contains("[ERROR]")).count(),
            1
        );
    }
    assert!(api.requests().is_empty());
    assert!(sb.read_file("auth.ini").is_none(), "nothing written");
}

#[test]
fn profile_names_and_values_that_would_break_the_file_are_refused() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    for (name, project) in [("a]b", "p"), ("../x", "p"), ("ok", "two\nlines")] {
        let out = Save::new(&token("ok"), &api.url())
            .name(name)
            .project(project)
            .run(&sb);
        assert_eq!(out.code, 1, "{name:?} {project:?}");
        assert!(
            out.stderr.starts_with("[ERROR]") || out.stderr.contains("[ERROR]"),
            "{}",
            out.stderr
        );
    }
    assert!(sb.read_file("auth.ini").is_none());
}

#[test]
fn non_2xx_fails_verification_and_leaves_the_profile_unchanged() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    save(&sb, &api, "default", "ok");
    let before = sb.read_file("auth.ini").unwrap();
    let out = Save::new(&token("e401"), &api.url()).yes().run(&sb);
    assert_eq!(out.code, 1);
    assert_has(
        &out.stderr,
        "[ERROR] Token verification failed: HTTP 401: invalid token. Profile not changed.",
    );
    assert_eq!(sb.read_file("auth.ini").unwrap(), before);
}

#[test]
fn a_body_that_is_not_json_is_an_error_and_nothing_is_written() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    for kind in ["notjson", "empty"] {
        let out = Save::new(&token(kind), &api.url()).run(&sb);
        assert_eq!(out.code, 1, "{kind}");
        assert_has(&out.stderr, "not JSON");
    }
    assert!(sb.read_file("auth.ini").is_none());
}

#[test]
fn no_list_permission_warns_and_still_saves() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    for (name, kind) in [("a", "nolist"), ("b", "nolistkey"), ("c", "array")] {
        let out = Save::new(&token(kind), &api.url())
            .name(name)
            .project("proj-9")
            .run(&sb);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_has(
            &out.stderr,
            "[WARNING] The token is valid but sandboxes are disabled on proj-9 (no 'list' permission): the profile is saved",
        );
        assert!(
            sb.read_file("auth.ini")
                .unwrap()
                .contains(&format!("[profile:{name}]"))
        );
    }
}

/// SPEC §1 step 6: a 503 once is retried and the profile saved; a 500
/// every time fails with the server's message, within the budget (more:
/// `network_load`, `hostile_servers::what_the_api_client_retries_is_tried_again_within_the_limit`).
#[test]
fn server_errors_are_retried_within_the_budget() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    let out = Save::new(&token("flaky"), &api.url()).run(&sb);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_has(
        &out.stderr,
        "whoami: HTTP 503: unavailable; retrying in 0.1 s",
    );
    assert_eq!(api.requests().len(), 2);
    api.clear_requests();
    let out = Save::new(&token("e500"), &api.url()).name("x").run(&sb);
    assert_eq!(out.code, 1);
    assert_has(
        &out.stderr,
        "Token verification failed: HTTP 500: boom. Profile not changed.",
    );
    // The API client's ladder within 10 s: at most seven attempts (fewer
    // when each attempt is slow, on a loaded machine).
    let sent = api.requests().len();
    assert!((3..=7).contains(&sent), "{sent}: {}", out.stderr);
}

#[test]
fn saving_keeps_other_profiles_sections_and_the_active_pointer() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    sb.write_file(
        "auth.ini",
        "[DEFAULT]\nprofile = other\n\n[profile:other]\nurl = http://x\ntoken = keep%%me\ntype = jwt\ncolor = blue\n\n[cli]\neditor = vim\n\n",
    );
    let tok = save(&sb, &api, "new", "ok");
    let ini = sb.read_file("auth.ini").unwrap();
    assert_eq!(
        ini,
        format!(
            "[DEFAULT]\nprofile = other\n\n[profile:other]\nurl = http://x\ntoken = keep%%me\ntype = jwt\ncolor = blue\n\n[cli]\neditor = vim\n\n[profile:new]\nurl = {}\ntoken = {tok}\ntype = iam\nproject = proj-1\n\n",
            api.url()
        )
    );
}

#[test]
fn end_of_input_at_the_token_prompt_is_a_clear_error() {
    let sb = Sandbox::new();
    let out = run_with_stdin(&sb, &["auth", "-u", "http://127.0.0.1:9", "-P", "p"], "");
    assert_eq!(out.code, 1);
    assert_has(&out.stderr, "Token: ");
    assert_has(
        &out.stderr,
        "[ERROR] Standard input ended at the 'Token' prompt: pipe the token with --token-stdin, or set CONTREE_TOKEN",
    );
}

#[test]
fn token_stdin_reads_the_token_from_a_pipe() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    let tok = token("ok");
    let out = Save::new(&tok, &api.url())
        .no_token()
        .arg("--token-stdin")
        .run_with_stdin(&sb, &format!("{tok}\n"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(api.requests()[0].token(), Some(tok.as_str()));
}

#[test]
fn percent_in_a_value_is_written_as_double_percent() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    let tok = format!("{}%x", token("ok"));
    let out = Save::new(&tok, &api.url()).project("100%").run(&sb);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let ini = sb.read_file("auth.ini").unwrap();
    assert!(
        ini.contains("%%x\n") && ini.contains("project = 100%%\n"),
        "{ini}"
    );
    assert_eq!(api.requests()[0].header("project"), Some("100%"));
}

/// Issue 25 item 6: rotating the token of a saved iam profile from a pipe,
/// as the README shows it, asks nothing: the saved URL and project are
/// kept, and a log line says so (it stopped at `Project ID:`).
#[test]
fn rotating_a_token_from_a_pipe_keeps_the_saved_url_and_project() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    let old = save(&sb, &api, "personal", "ok");
    let before = sb.read_file("auth.ini").unwrap();
    let tok = token("ok");
    let out = run_with_stdin(
        &sb,
        &["auth", "-p", "personal", "-y", "--token-stdin"],
        &format!("{tok}\n"),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.contains("Project ID"), "{}", out.stderr);
    assert_has(
        &out.stderr,
        "[INFO] Kept the saved URL and project of profile 'personal'",
    );
    assert_eq!(
        sb.read_file("auth.ini").unwrap(),
        before.replace(&old, &tok)
    );
    assert_eq!(
        api.requests().last().unwrap().header("project"),
        Some("proj-1")
    );
}
