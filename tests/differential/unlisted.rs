//! UNLISTED DIFFERENCES: places where our component behaves unlike the
//! reference and neither SPEC §4 nor the README's "Differences" table says so.
//!
//! Each test asserts the REFERENCE behaviour, so it fails until the component
//! is changed or the difference is documented (then the test moves to
//! `differences.rs`, with the difference named there). All of them are
//! fixed in the component now; they stay as regression tests.

use crate::twin::Twin;

/// `-u http://` (argparse strips the trailing slashes: `http:`). Python:
/// `base_url has no hostname: 'http:'`; ours called the scheme empty.
#[test]
fn a_url_without_a_host_is_refused_with_the_reference_message() {
    let mut t = Twin::new();
    let tok = t.token("ok");
    let p = t.both(
        &[
            "auth", "-p", "x", "--token", &tok, "-u", "http://", "-P", "p1",
        ],
        &[],
        "",
    );
    p.same_code()
        .same_log("ERROR")
        .both_say("base_url has no hostname: 'http:'");
    assert_eq!(p.py.code, 1);
}

/// A 3xx answer to whoami on save. Python: `Token verification failed:
/// unexpected HTTP status 302. Profile not changed.` (its `HTTP N: reason`
/// form is for 4xx/5xx); ours printed `HTTP 302: .`.
#[test]
fn a_redirect_on_save_gives_the_reference_message() {
    let mut t = Twin::new();
    let tok = t.token("redirect");
    let p = t.both_save(&t.save("x", &tok));
    p.same_code().same_log("ERROR");
    p.both_say("Token verification failed: unexpected HTTP status 302. Profile not changed.");
}

/// `auth switch 'a%b'`: Python refuses (`invalid interpolation syntax in
/// 'a%b' at position 1`, exit 1, file untouched). Ours said `Switched` and
/// wrote `profile = a%%b`, but both tools read the `[DEFAULT] profile`
/// pointer raw (`parser.defaults()`), so afterwards NO profile is active,
/// for Python and for us.
#[test]
fn switching_to_a_name_with_percent_matches_the_reference() {
    let mut t = Twin::new();
    let tok = t.token("ok");
    t.write_both(
        "auth.ini",
        &format!(
            "[profile:a%b]\ntype = jwt\nurl = {}\ntoken = {tok}\n",
            t.url()
        ),
    );
    let p = t.both(&["auth", "switch", "a%b"], &[], "");
    p.same_code();
    assert_eq!(p.py.code, 1, "{}", p.dump());
    t.assert_same_state("switch a%b");
}

/// A token with leading or trailing spaces (a careless paste). Python
/// verifies and saves it (configparser strips the spaces when it is read
/// back); ours refuses it: `the token has leading or trailing spaces`.
#[test]
fn a_token_with_surrounding_spaces_is_saved_like_the_reference() {
    let mut t = Twin::new();
    let tok = format!(" {} ", t.token("ok"));
    let p = t.both_save(&t.save("x", &tok));
    p.same_code().same_log("ERROR");
    assert_eq!(p.py.code, 0, "{}", p.dump());
    t.assert_same_state("token with spaces");
}

/// A tab inside a value (here the project). Python writes and reads it back
/// unchanged; ours refuses it: `the project contains a control character
/// (such as a newline)`. (The README lists newlines as refused, not tabs.)
#[test]
fn a_tab_inside_a_value_is_saved_like_the_reference() {
    let mut t = Twin::new();
    let tok = t.token("ok");
    let p = t.both_save(&t.save("x", &tok).project("team\tproject"));
    p.same_code().same_log("ERROR");
    assert_eq!(p.py.code, 0, "{}", p.dump());
    t.assert_same_state("a tab in the project");
}

/// A project that is not Latin-1 (`проект`). Python cannot send it as the
/// `Project` header: `Token verification failed: 'latin-1' codec can't encode
/// characters in position 0-5: ordinal not in range(256). Profile not
/// changed.`, exit 1; ours sends it (as UTF-8) and saves the profile.
#[test]
fn a_project_that_is_not_latin_1_is_refused_like_the_reference() {
    let mut t = Twin::new();
    let tok = t.token("ok");
    let p = t.both_save(&t.save("x", &tok).project("проект"));
    p.same_code()
        .both_say("Token verification failed: ")
        .both_say("Profile not changed.");
    assert_eq!(p.py.code, 1, "{}", p.dump());
    t.assert_same_state("a non-Latin-1 project");
}
