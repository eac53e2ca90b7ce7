//! SPEC §1 "switch / remove".

use contree_host::{MockApi, Sandbox};

use crate::common::{assert_has, run, run_with_stdin, save};

fn two_profiles() -> (Sandbox, MockApi) {
    let api = MockApi::start();
    let sb = Sandbox::new();
    save(&sb, &api, "a", "ok");
    save(&sb, &api, "b", "ok");
    (sb, api)
}

#[test]
fn switch_rewrites_only_the_default_pointer() {
    let (sb, _api) = two_profiles();
    let before = sb.read_file("auth.ini").unwrap();
    let out = run(&sb, &["auth", "switch", "b"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("[INFO] Switched to profile 'b'"));
    let after = sb.read_file("auth.ini").unwrap();
    assert_eq!(
        after,
        before.replace("profile = default\n", "profile = b\n")
    );
}

#[test]
fn switch_to_a_missing_profile_fails() {
    let (sb, _api) = two_profiles();
    let before = sb.read_file("auth.ini").unwrap();
    let out = run(&sb, &["auth", "switch", "ghost"]);
    assert_eq!(out.code, 1);
    // Issue 20 item 3: the same words as `rm`, and what to do next.
    assert_has(
        &out.stderr,
        "[ERROR] Profile 'ghost' does not exist: `contree auth ls` lists the profiles",
    );
    assert_eq!(sb.read_file("auth.ini").unwrap(), before);
}

#[test]
fn remove_asks_and_anything_but_y_aborts() {
    let (sb, _api) = two_profiles();
    let before = sb.read_file("auth.ini").unwrap();
    for answer in ["", "\n", "n\n"] {
        let out = run_with_stdin(&sb, &["auth", "remove", "a"], answer);
        assert_eq!(out.code, 1);
        // Issue 20 item 4: prompts go to stderr, stdout stays data.
        assert!(
            out.stderr.contains("Remove profile 'a'? [y/N] ") && out.stderr.contains("Aborted."),
            "{}",
            out.stderr
        );
        assert_eq!(out.stdout, "");
    }
    assert_eq!(sb.read_file("auth.ini").unwrap(), before);
    let out = run_with_stdin(&sb, &["auth", "remove", "a"], "y\n");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("[INFO] Removed profile 'a'"));
    assert!(!sb.read_file("auth.ini").unwrap().contains("[profile:a]"));
}

#[test]
fn remove_aliases_and_force() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    for name in ["a", "b", "c"] {
        save(&sb, &api, name, "ok");
    }
    for (alias, name) in [("rm", "a"), ("del", "b"), ("remove", "c")] {
        let out = run(&sb, &["auth", alias, name, "-y"]);
        assert_eq!(out.code, 0, "{alias}: {}", out.stderr);
    }
    assert_eq!(
        sb.read_file("auth.ini").unwrap(),
        "[DEFAULT]\nprofile = default\n\n"
    );
}

#[test]
fn remove_missing_profile_fails() {
    let (sb, _api) = two_profiles();
    let out = run(&sb, &["auth", "rm", "ghost", "-y"]);
    assert_eq!(out.code, 1);
    assert_has(&out.stderr, "[ERROR] Profile 'ghost' does not exist");
}

#[test]
fn remove_active_profile_moves_pointer_to_first_remaining() {
    let (sb, _api) = two_profiles();
    run(&sb, &["auth", "switch", "b"]);
    run(&sb, &["auth", "rm", "b", "-y"]);
    assert!(
        sb.read_file("auth.ini")
            .unwrap()
            .starts_with("[DEFAULT]\nprofile = a\n")
    );
    run(&sb, &["auth", "rm", "a", "-y"]);
    assert_eq!(
        sb.read_file("auth.ini").unwrap(),
        "[DEFAULT]\nprofile = default\n\n"
    );
}

#[test]
fn remove_deletes_session_databases_of_both_layouts() {
    let (sb, _api) = two_profiles();
    let files = [
        "cli/sessions/a.db",
        "cli/sessions/a.db-wal",
        "cli/sessions/a.db-shm",
        "sessions-a.db",
        "sessions-a.db-wal",
        "sessions-a.db-shm",
    ];
    for file in files {
        sb.write_file(file, "x");
    }
    sb.write_file("cli/sessions/b.db", "keep");
    sb.write_file("sessions-b.db", "keep");
    let out = run(&sb, &["auth", "rm", "a", "-y"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for file in files {
        assert!(sb.read_file(file).is_none(), "{file} still there");
    }
    assert!(sb.read_file("cli/sessions/b.db").is_some() && sb.read_file("sessions-b.db").is_some());
}
