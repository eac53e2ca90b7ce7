//! Every place where this project differs from the Python CLI on purpose, each
//! named once, with where it is documented. The comparisons elsewhere in the
//! suite normalize only through this module; anything else must match.
//!
//! The tests at the bottom show each difference on both tools, so a change on
//! either side (or a difference disappearing) is noticed.

use serde_json::Value;

use crate::common::{assert_has, assert_row, ours, rows_of};
use crate::twin::Twin;

/// SPEC §4 / README "Differences": the listing status without a probe.
pub const PY_OFFLINE_STATUS: &str = "offline mode";
pub const OUR_OFFLINE_STATUS: &str = "offline";

/// README "Differences": the format flag. Python spells it `-o/--format/--output`;
/// ours is `-f/--format` and accepts `-o/--output` too.
pub fn py_format(format: &str) -> [String; 2] {
    ["-o".into(), format.into()]
}
pub fn our_format(format: &str) -> [String; 2] {
    ["-f".into(), format.into()]
}

/// SPEC §4 / README: ours adds a `detail` key to the json rows (a reason for
/// `error`/`timeout`); it is dropped before comparing.
pub const DETAIL_KEY: &str = "detail";

/// A Python listing row, in our spelling (only the offline status changes).
pub fn py_row(mut row: Value) -> Value {
    if row["status"] == PY_OFFLINE_STATUS {
        row["status"] = OUR_OFFLINE_STATUS.into();
    }
    row
}

/// One of our listing rows without what only we print.
pub fn our_row(mut row: Value) -> Value {
    if let Some(map) = row.as_object_mut() {
        map.remove(DETAIL_KEY);
    }
    row
}

/// A listing's text in `format`, as printed by Python (`py`) or by us, with
/// only the differences above taken out: Python's offline status spelled
/// ours, our `detail` member dropped (it is the last member of a row in json,
/// json-pretty, plain and toml; the table formats have no such column).
pub fn listing_text(text: &str, format: &str, py: bool) -> String {
    if py {
        return text.replace(PY_OFFLINE_STATUS, OUR_OFFLINE_STATUS);
    }
    // Line endings are kept as printed (csv and tsv may end lines with \r\n).
    let mut out: Vec<String> = Vec::new();
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\r', '\n']);
        let end = &line[body.len()..];
        match format {
            "json" => match body.rfind(&format!(", \"{DETAIL_KEY}\": ")) {
                Some(at) if body.ends_with('}') => out.push(format!("{}}}{end}", &body[..at])),
                _ => out.push(line.to_string()),
            },
            "json-pretty"
                if body
                    .trim_start()
                    .starts_with(&format!("\"{DETAIL_KEY}\": ")) =>
            {
                // The member before it loses its comma.
                if let Some(last) = out.last_mut()
                    && let Some(at) = last.rfind(',')
                {
                    last.remove(at);
                }
            }
            // plain pads keys (`detail:      x`); toml writes `detail = "x"`.
            "plain" if body.starts_with(&format!("{DETAIL_KEY}:")) => {}
            "toml" if body.starts_with(&format!("{DETAIL_KEY} =")) => {}
            _ => out.push(line.to_string()),
        }
    }
    out.concat()
}

/// SPEC §1 "list": with no profiles Python prints `No profiles configured.` on
/// stdout whatever the format; with a machine format (json, json-pretty, csv,
/// tsv, toml) ours prints it on stderr so stdout stays parseable.
pub const NO_PROFILES: &str = "No profiles configured.";

/// README "Differences": an iam profile without a project. Python's probe
/// refuses to build a client for it and shows `no url`, even though the
/// url is there; ours shows `error` with a detail.
pub const PY_NO_URL_STATUS: &str = "no url";

/// SPEC §1 save step 7 and README: a whoami answer that is JSON but not an
/// object (`[1,2]`). Python fails (`Could not parse /v1/whoami response:
/// expected a JSON object, got list`, exit 1) and lists it as `error`; ours
/// takes it as "no `list` permission": saved with the warning, listed `inactive`.
pub const PY_ARRAY_BODY_ERROR: &str =
    "Could not parse /v1/whoami response: expected a JSON object, got list";

/// README "Differences" (bad JSON body on save): both refuse with exit 1 and
/// `Token verification failed: ... Profile not changed.`, each with its own
/// reason in the middle: Python's is its JSON decoder's message.
pub const PY_NOT_JSON_REASON: &str = "Expecting value: line 1 column 1 (char 0)";
pub const OUR_NOT_JSON_REASON: &str = "the body is not JSON";

/// SPEC §2 ("a value containing `%` must be written as `%%`"): ours saves a
/// token, project or URL containing `%` escaped; Python's writer refuses it
/// after the token was verified (`invalid interpolation syntax in ...`, exit 1).
/// Python's reader reads our escaped value back exactly.
pub const PY_PERCENT_ERROR: &str = "invalid interpolation syntax in";

/// README "Differences": end of input at a prompt. Python dies with an
/// `EOFError` traceback; ours prints a one-line error. Both exit 1.
pub const PY_EOF_TRACEBACK: &str = "EOFError";

/// README "Differences": `--token-stdin` exists only here.
pub const OUR_ONLY_FLAG: &str = "--token-stdin";

#[test]
fn offline_status_is_spelled_offline_here_and_offline_mode_in_python() {
    let mut twin = Twin::new();
    twin.both_ok(&twin.save("a", &twin.token("ok")).args());
    let py = twin.py_list(&["--offline"]);
    let ours = twin.our_list_raw(twin.py.home(), &["--offline"]);
    assert_eq!(py.rows_raw[0]["status"], PY_OFFLINE_STATUS);
    assert_eq!(ours[0]["status"], OUR_OFFLINE_STATUS);
}

#[test]
fn format_flag_is_f_here_and_o_in_python_and_we_accept_both() {
    let mut twin = Twin::new();
    twin.both_ok(&twin.save("a", &twin.token("ok")).args());
    // Ours: -f, -o and --output give the same rows.
    let with_f = ours(&twin.py, &["-f", "json", "auth", "ls", "-O"]);
    let with_o = ours(&twin.py, &["-o", "json", "auth", "ls", "-O"]);
    let with_output = ours(&twin.py, &["--output", "json", "auth", "ls", "-O"]);
    assert_eq!(with_f.code, 0, "{}", with_f.stderr);
    assert_eq!(with_f.stdout, with_o.stdout);
    assert_eq!(with_f.stdout, with_output.stdout);
    // Python: -o works, -f is not a global option (it is `--force` of some
    // subcommands), so `-f json` is a usage error.
    let py_o = twin.py_raw(&["-o", "json", "auth", "ls", "-O"], &[], "");
    assert_eq!(py_o.code, 0, "{}", py_o.stderr);
    assert_eq!(rows_of(&py_o.stdout).len(), 1);
    let py_f = twin.py_raw(&["-f", "json", "auth", "ls", "-O"], &[], "");
    assert_eq!(py_f.code, 2, "{}", py_f.stderr);
    assert_has(&py_f.stderr, "invalid choice: 'json'");
}

#[test]
fn json_rows_carry_a_detail_key_here_only() {
    let twin = Twin::new();
    let bad = twin.token("e401");
    twin.write_both(
        "auth.ini",
        &format!(
            "[profile:bad]\ntype = jwt\nurl = {}\ntoken = {bad}\n",
            twin.url()
        ),
    );
    let py = twin.py_list(&[]);
    let ours = twin.our_list_raw(twin.ours.home(), &[]);
    assert!(py.rows_raw[0].get(DETAIL_KEY).is_none());
    assert!(
        ours[0][DETAIL_KEY]
            .as_str()
            .is_some_and(|d| d.contains("401")),
        "{}",
        ours[0]
    );
    assert_eq!(py.rows_raw[0]["status"], "error");
    assert_eq!(ours[0]["status"], "error");
}

#[test]
fn no_profiles_message_goes_to_stderr_here_with_a_machine_format() {
    let twin = Twin::new();
    let py = twin.py_raw(&["-o", "json", "auth", "ls"], &[], "");
    let ours_out = ours(&twin.ours, &["-f", "json", "auth", "ls"]);
    assert_eq!((py.code, ours_out.code), (0, 0));
    assert_eq!(py.stdout.trim(), NO_PROFILES);
    assert_eq!(ours_out.stdout, "");
    assert_has(&ours_out.stderr, NO_PROFILES);
    // With the default format both print it on stdout.
    let py = twin.py_raw(&["auth", "ls"], &[], "");
    let ours_out = ours(&twin.ours, &["auth", "ls"]);
    assert_eq!(py.stdout.trim(), NO_PROFILES);
    assert_eq!(ours_out.stdout.trim(), NO_PROFILES);
}

#[test]
fn iam_profile_without_project_is_no_url_in_python_and_error_here() {
    let twin = Twin::new();
    let tok = twin.token("ok");
    twin.write_both(
        "auth.ini",
        &format!(
            "[profile:np]\ntype = iam\nurl = {}\ntoken = {tok}\n",
            twin.url()
        ),
    );
    let py = twin.py_list(&[]);
    let ours = twin.our_list_raw(twin.ours.home(), &[]);
    assert_eq!(py.rows_raw[0]["status"], PY_NO_URL_STATUS);
    assert_eq!(ours[0]["status"], "error");
    assert!(
        ours[0][DETAIL_KEY]
            .as_str()
            .is_some_and(|d| d.contains("project")),
        "{}",
        ours[0]
    );
    // Offline, both agree.
    twin.assert_same_state("iam without project");
}

#[test]
fn a_json_body_that_is_not_an_object_is_saved_here_and_refused_by_python() {
    let mut twin = Twin::new();
    let tok = twin.token("array");
    let pair = twin.both_save(&twin.save("arr", &tok));
    assert_eq!(pair.py.code, 1, "{}", pair.dump());
    assert!(
        pair.py.stderr.contains(PY_ARRAY_BODY_ERROR),
        "{}",
        pair.dump()
    );
    assert_eq!(pair.ours.code, 0, "{}", pair.dump());
    assert!(
        pair.ours
            .stderr
            .contains("The token is valid but sandboxes are disabled on p1"),
        "{}",
        pair.dump()
    );
    assert!(twin.py.read_file("auth.ini").is_none());
    assert!(
        twin.ours
            .read_file("auth.ini")
            .unwrap()
            .contains("[profile:arr]")
    );

    // Listed: `error` in Python, `inactive` here.
    twin.write_both("auth.ini", &twin.ours.read_file("auth.ini").unwrap());
    let py = twin.py_list(&[]);
    let ours = twin.our_list_raw(twin.ours.home(), &[]);
    assert_eq!(py.rows_raw[0]["status"], "error");
    assert_eq!(ours[0]["status"], "inactive");
}

#[test]
fn a_body_that_is_not_json_is_refused_by_both_in_their_own_words() {
    let mut twin = Twin::new();
    for kind in ["notjson", "empty"] {
        let tok = twin.token(kind);
        let pair = twin.both_save(&twin.save("x", &tok));
        pair.same_code()
            .both_say("[ERROR] Token verification failed: ")
            .both_say(". Profile not changed.");
        assert_eq!(pair.py.code, 1, "{}", pair.dump());
        assert!(
            pair.py.stderr.contains(PY_NOT_JSON_REASON),
            "{}",
            pair.dump()
        );
        assert!(
            pair.ours.stderr.contains(OUR_NOT_JSON_REASON),
            "{}",
            pair.dump()
        );
    }
    twin.assert_same_state("nothing saved");
}

#[test]
fn a_value_with_percent_is_saved_escaped_here_and_refused_by_pythons_writer() {
    let mut twin = Twin::new();
    let tok = format!("{}-100%-sure", twin.token("ok"));
    let url = format!("{}/a%20b", twin.url());
    let pair = twin.both_save(&twin.save("pct", &tok).url(&url).project("p%1"));
    assert_eq!(pair.py.code, 1, "{}", pair.dump());
    assert!(pair.py.stderr.contains(PY_PERCENT_ERROR), "{}", pair.dump());
    assert_eq!(pair.ours.code, 0, "{}", pair.dump());
    assert!(twin.py.read_file("auth.ini").is_none());
    // What we wrote, Python's reader reads back exactly.
    let loaded = crate::python::load_profiles(&[twin.ours.path("auth.ini").as_path()]);
    let crate::python::Loaded::Ok { profiles, .. } = &loaded[0] else {
        panic!("{loaded:?}")
    };
    assert_eq!(profiles.len(), 1);
    assert_eq!(profiles[0].token.as_deref(), Some(tok.as_str()));
    assert_eq!(profiles[0].url, url);
    assert_eq!(profiles[0].project.as_deref(), Some("p%1"));
    // And Python's listing of our file gives our rows.
    twin.write_both("auth.ini", &twin.ours.read_file("auth.ini").unwrap());
    twin.assert_same_state("our file with % values, in both homes");
}

#[test]
fn end_of_input_at_a_prompt_is_a_traceback_in_python_and_one_line_here() {
    let mut twin = Twin::new();
    // No --project, no project variable, empty stdin: the project prompt hits EOF.
    let pair = twin.both(
        &[
            "auth",
            "-p",
            "a",
            "--token",
            &twin.token("ok"),
            "-u",
            &twin.url(),
        ],
        &[],
        "",
    );
    assert_eq!((pair.py.code, pair.ours.code), (1, 1), "{}", pair.dump());
    assert!(pair.py.stderr.contains(PY_EOF_TRACEBACK), "{}", pair.dump());
    assert!(!pair.ours.stderr.contains("Traceback"), "{}", pair.dump());
    assert_eq!(
        pair.ours
            .stderr
            .lines()
            .filter(|l| l.starts_with("[ERROR]"))
            .count(),
        1,
        "{}",
        pair.dump()
    );
    twin.assert_same_state("after EOF at the project prompt");
}

#[test]
fn token_stdin_exists_here_only() {
    let mut twin = Twin::new();
    let tok = twin.token("ok");
    let args = [
        "auth",
        "-p",
        "a",
        OUR_ONLY_FLAG,
        "-u",
        &twin.url(),
        "-P",
        "p1",
    ];
    let pair = twin.both(&args, &[], &format!("{tok}\n"));
    assert_eq!(pair.py.code, 2, "{}", pair.dump());
    assert!(
        pair.py
            .stderr
            .contains("unrecognized arguments: --token-stdin"),
        "{}",
        pair.dump()
    );
    assert_eq!(pair.ours.code, 0, "{}", pair.dump());
}

#[test]
fn rotating_a_token_keeps_the_saved_url_and_project_here_and_asks_again_in_python() {
    let mut twin = Twin::new();
    let first = twin.token("ok");
    twin.both_ok(&twin.save("a", &first).args());
    let tok = twin.token("ok");
    // The same command in both: only the new token, nothing on stdin.
    let pair = twin.both(&["auth", "-p", "a", "-y", "--token", &tok], &[], "");
    assert_eq!(pair.py.code, 1, "{}", pair.dump());
    assert!(pair.py.stderr.contains(PY_EOF_TRACEBACK), "{}", pair.dump());
    assert_eq!(pair.ours.code, 0, "{}", pair.dump());
    assert_has(
        &pair.ours.stderr,
        &format!("{OUR_KEPT_LINE}URL and project of profile 'a'"),
    );
    // Python, told the saved URL and project, writes what we wrote.
    let url = twin.url();
    let py = twin.py_raw(
        &[
            "auth", "-p", "a", "-y", "--token", &tok, "-u", &url, "-P", "p1",
        ],
        &[],
        "",
    );
    assert_eq!(py.code, 0, "{}", py.stderr);
    twin.assert_same_state("a token rotated here, and in Python with the saved values given");
}

/// README "Differences": names Python writes even though they corrupt the
/// file or a session path (`[`, `]`, `/`, `\`, newlines); ours refuses them.
pub const OUR_BAD_NAME_ERROR: &str = "Invalid profile name";

#[test]
fn names_that_corrupt_the_file_are_written_by_python_and_refused_here() {
    for name in ["a/b", "x]y", "back\\slash"] {
        let mut twin = Twin::new();
        let tok = twin.token("ok");
        let pair = twin.both_save(&twin.save(name, &tok));
        assert_eq!(pair.py.code, 0, "{}", pair.dump());
        assert_eq!(pair.ours.code, 1, "{}", pair.dump());
        assert!(
            pair.ours.stderr.contains(OUR_BAD_NAME_ERROR),
            "{}",
            pair.dump()
        );
        assert!(twin.ours.read_file("auth.ini").is_none());
    }
}

/// README "Differences": on a rewrite Python keeps only what its reader
/// understood: unknown sections and keys are dropped, `[DEFAULT]` and
/// cli.ini values are copied into every profile. Ours changes only what the
/// command changes. Both files still read the same.
pub const KEPT_ONLY_HERE: [&str; 3] = ["[cli]", "editor = vim", "color = blue"];

#[test]
fn a_rewrite_keeps_unknown_sections_and_cli_ini_values_here_only() {
    let mut twin = Twin::new();
    let url = twin.url();
    let tok = twin.token("ok");
    let auth = format!(
        "[DEFAULT]\nprofile = old\ntype = jwt\n\n[cli]\neditor = vim\n\n[profile:old]\ntoken = {tok}\ncolor = blue\n"
    );
    twin.write_both("auth.ini", &auth);
    twin.write_both("cli.ini", &format!("[profile:old]\nurl = {url}\n"));
    twin.assert_same_state("before the rewrite");
    let new = twin.token("ok");
    let pair = twin.both_save(&twin.save("new", &new));
    pair.same_code().same_log("INFO");
    twin.assert_same_state("after a save next to unknown sections and cli.ini values");
    let (py_file, our_file) = (
        twin.py.read_file("auth.ini").unwrap(),
        twin.ours.read_file("auth.ini").unwrap(),
    );
    for kept in KEPT_ONLY_HERE {
        assert!(our_file.contains(kept), "we dropped {kept:?}:\n{our_file}");
        assert!(!py_file.contains(kept), "Python kept {kept:?}:\n{py_file}");
    }
    assert!(
        py_file.contains(&format!("url = {url}\ntoken = {tok}")),
        "Python copies cli.ini's url:\n{py_file}"
    );
    assert!(
        !our_file.contains("[profile:old]\nurl"),
        "we copied cli.ini's url:\n{our_file}"
    );
}

/// DOCUMENTED: a whoami answer over 1 MiB (the mock's `big` token: 3 MiB).
/// Python buffers and accepts it; we cut bodies off at 1 MiB and refuse
/// (issue "nothing lost, nothing leaked"; README "Differences").
#[test]
fn a_whoami_answer_over_1_mib_is_refused_here_and_accepted_by_python() {
    let mut t = Twin::new();
    let tok = t.token("big");
    let p = t.both_save(&t.save("big", &tok).jwt());
    assert_eq!((p.py.code, p.ours.code), (0, 1), "{}", p.dump());
    assert!(p.ours.stderr.contains("over 1024 KiB"), "{}", p.dump());
    t.write_both(
        "auth.ini",
        &format!(
            "[profile:big]\ntype = jwt\nurl = {}\ntoken = {tok}\n",
            t.url()
        ),
    );
    let py = t.py_list(&[]);
    assert_eq!(py.rows[0]["status"], "ok");
    assert_eq!(t.our_list(t.ours.home(), &[])[0]["status"], "error");
}

/// DOCUMENTED: an auth.ini that starts with a UTF-8 byte-order mark (as some
/// editors write it). configparser refuses it (`MissingSectionHeaderError`);
/// we skip the mark, and a rewrite drops it.
#[test]
fn a_byte_order_mark_is_skipped_here_and_refused_by_python() {
    let mut t = Twin::new();
    let tok = t.token("ok");
    t.write_both(
        "auth.ini",
        &format!(
            "\u{feff}[DEFAULT]\nprofile = a\n\n[profile:a]\ntype = jwt\nurl = {}\ntoken = {tok}\n",
            t.url()
        ),
    );
    let p = t.both(&["auth", "switch", "a"], &[], "");
    assert_eq!((p.py.code, p.ours.code), (1, 0), "{}", p.dump());
    assert!(
        !t.ours
            .read_file("auth.ini")
            .unwrap()
            .starts_with('\u{feff}')
    );
}

/// DOCUMENTED (README "Files", "Differences"): the plain-http consent. A
/// profile saved here with `--allow-insecure-http` for a host that is not a
/// literal loopback address (`127.1` reaches the mock, but only the strict
/// dotted quad counts as loopback) keeps `allow_insecure_http = true` in its
/// section. Python 0.9.4 reads that file as if the key were not there and
/// lists the profile `ok`, as it lists any plain-http profile; it drops the
/// key when it rewrites the file, after which ours refuses plain http again.
#[test]
fn the_plain_http_consent_key_is_read_past_by_python_and_dropped_on_its_rewrite() {
    let t = Twin::new();
    let url = format!("http://127.1:{}", t.api.addr().port());
    let tok = t.token("ok");
    let saved = contree_host::harness::support::Save::new(&tok, &url)
        .name("lan")
        .jwt()
        .arg("--allow-insecure-http")
        .run(&t.ours);
    assert_eq!(saved.code, 0, "{}", saved.stderr);
    let our_file = t.ours.read_file("auth.ini").unwrap();
    assert!(
        our_file.contains("allow_insecure_http = true\n"),
        "{our_file}"
    );
    let loaded = crate::python::load_profiles(&[&t.ours.path("auth.ini")]);
    let crate::python::Loaded::Ok { profiles, .. } = &loaded[0] else {
        panic!("Python cannot read our file: {:?}", loaded[0])
    };
    assert_eq!(
        (profiles[0].url.as_str(), profiles[0].token.as_deref()),
        (url.as_str(), Some(tok.as_str()))
    );
    t.py.write_file("auth.ini", &our_file);
    assert_eq!(t.py_list(&[]).rows[0]["status"], "ok");
    assert_eq!(t.our_list(t.ours.home(), &[])[0]["status"], "ok");

    let switched = t.py_raw(&["auth", "switch", "lan"], &[], "");
    assert_eq!(switched.code, 0, "{}", switched.stderr);
    let py_file = t.py.read_file("auth.ini").unwrap();
    assert!(!py_file.contains("allow_insecure_http"), "{py_file}");
    let rows = t.our_list_raw(t.py.home(), &[]);
    assert_row(&rows[0], "error", "plain http://");
}

/// README "Differences", the message rows (issue 20 item 3): our log lines
/// in the reference's words, so that the scenarios compare everything else
/// line for line. Each rule is one documented difference:
/// - every message starts with a capital (`switch` said `profile 'x' does
///   not exist` where `rm` said `Profile`): compared from the second letter;
/// - a message ends with what to do next (`: ...`, `; ...`): cut here;
/// - `Saved profile 'x' to PATH` was `auth accepted, profile 'x' saved to -> PATH`;
/// - the no-`list` warning has no doubled `Warning:` label;
/// - `ls` names the active profile, where it promised a `*` no row shows;
/// - state changes said aloud (the new active profile after `rm`, a
///   `switch` that `CONTREE_PROFILE` overrides) are lines Python does not print.
pub fn in_python_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        if OUR_EXTRA_LINES.iter().any(|extra| body.starts_with(extra)) {
            continue;
        }
        let mut body = body.to_string();
        for (ours, python) in OUR_WORDS {
            body = body.replace(ours, python);
        }
        if body.starts_with("[INFO] Configured profiles") {
            body = "[INFO] Configured profiles (* stands for active)".to_string();
        }
        if let Some(saved) = body.strip_prefix("[INFO] Saved profile ")
            && let Some((name, path)) = saved.rsplit_once("' to ")
        {
            body = format!("[INFO] auth accepted, profile {name}' saved to -> {path}");
        }
        for next_step in OUR_NEXT_STEPS {
            if let Some(at) = body.find(next_step) {
                body.truncate(at);
            }
        }
        out.push_str(&body);
        out.push_str(end);
    }
    out
}

/// A line for comparison: the case of the message's first letter aside.
pub fn uncapitalized(line: &str) -> String {
    match line.split_once("] ") {
        Some((level, message)) => {
            let mut chars = message.chars();
            let first: String = chars
                .next()
                .map(|c| c.to_lowercase().collect())
                .unwrap_or_default();
            format!("{level}] {first}{}", chars.as_str())
        }
        None => line.to_string(),
    }
}

/// `message` with its first letter in upper case, as ours starts every message.
pub fn capitalized(message: &str) -> String {
    let mut chars = message.chars();
    let first: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    format!("{first}{}", chars.as_str())
}

/// Lines only we print (issue 25 item 6: what comes next after a save,
/// and, in a table listing, why a profile is not ok).
const OUR_EXTRA_LINES: [&str; 6] = [
    "[INFO] The active profile is now ",
    "[WARNING] CONTREE_PROFILE=",
    OUR_KEPT_LINE,
    "[INFO] No profile is active (",
    "[INFO] CONTREE_PROFILE=",
    "[WARNING] Profile '",
];

/// README "Differences" (issue 25 item 6): replacing a profile keeps the
/// saved URL and project that nothing gives; Python asks for them again.
pub const OUR_KEPT_LINE: &str = "[INFO] Kept the saved ";

/// Our wording, and the reference's.
const OUR_WORDS: [(&str, &str); 2] = [
    (
        "[WARNING] The token is valid but sandboxes are disabled on ",
        "[WARNING] Warning: token is valid but sandboxes are disabled on ",
    ),
    (
        " (no 'list' permission): the profile is saved, but no command will work until the service is enabled there.",
        " (no 'list' permission). The profile will be saved but no commands will work until the service is enabled.",
    ),
];

/// Where our advice on what to do next starts (cut for comparison).
const OUR_NEXT_STEPS: [&str; 5] = [
    ": check -u/--url",
    ": `contree auth ls` lists the profiles",
    ": pass -u/--url or set CONTREE_URL",
    "; CONTREE_PROFILE names it",
    "; choose one of the profiles below",
];
