//! `auth switch` and `auth remove`, run by both tools on the same profiles.

use crate::twin::Twin;

/// Three profiles saved by each tool: a (iam), b (jwt), c (iam, no list).
fn three(t: &mut Twin) {
    let url = t.url();
    let (a, b, c) = (t.token("ok"), t.token("ok"), t.token("nolist"));
    t.both_ok(&t.save("a", &a).project("pa").args());
    t.both_ok(&[
        "auth", "-p", "b", "--type", "jwt", "--token", &b, "-u", &url,
    ]);
    t.both_ok(&t.save("c", &c).project("pc").args());
    t.assert_same_state("three profiles");
}

#[test]
fn switch_sets_the_active_profile_and_refuses_unknown_names() {
    let mut t = Twin::new();
    three(&mut t);
    for name in ["b", "c", "a"] {
        let p = t.both(&["auth", "switch", name], &[], "");
        p.same_code()
            .same_log("INFO")
            .both_say(&format!("Switched to profile '{name}'"));
        assert_eq!(p.py.code, 0, "{}", p.dump());
        t.assert_same_state(&format!("switch {name}"));
    }
    let p = t.both(&["auth", "switch", "nope"], &[], "");
    p.same_code()
        .same_log("ERROR")
        .both_say("profile 'nope' does not exist");
    assert_eq!(p.py.code, 1);
    t.assert_same_state("switch to a missing profile");

    // The switch survives a later save of another profile.
    let p = t.both(&["auth", "switch", "b"], &[], "");
    p.same_code();
    let tok = t.token("ok");
    t.both_ok(&t.save("d", &tok).project("pd").args());
    t.assert_same_state("switch, then save another profile");
}

#[test]
fn remove_asks_refuses_unknown_names_and_moves_the_active_pointer() {
    let mut t = Twin::new();
    three(&mut t);
    let p = t.both(&["auth", "switch", "b"], &[], "");
    p.same_code();

    let p = t.both(&["auth", "remove", "nope"], &[], "");
    p.same_code()
        .same_log("ERROR")
        .both_say("Profile 'nope' does not exist");
    assert_eq!(p.py.code, 1);

    for answer in ["n\n", ""] {
        let p = t.both(&["auth", "remove", "c"], &[], answer);
        p.same_code()
            .both_say("Remove profile 'c'? [y/N] ")
            .both_say("Aborted.");
        assert_eq!(p.py.code, 1, "{}", p.dump());
    }
    t.assert_same_state("remove answered no");

    // Not the active one: the pointer stays.
    let p = t.both(&["auth", "rm", "c", "-y"], &[], "");
    p.same_code()
        .same_log("INFO")
        .both_say("Removed profile 'c'");
    t.assert_same_state("rm c -y");

    // The active one, confirmed on stdin: the first remaining becomes active
    // (CONTREE_PROFILE plays no part in that).
    let p = t.both(&["auth", "del", "b"], &[("CONTREE_PROFILE", "a")], "y\n");
    p.same_code().both_say("Removed profile 'b'");
    assert_eq!(p.py.code, 0, "{}", p.dump());
    t.assert_same_state("del active b");

    // The last one: the pointer falls back to `default`.
    let p = t.both(&["auth", "remove", "a", "--force"], &[], "");
    p.same_code().both_say("Removed profile 'a'");
    t.assert_same_state("remove the last profile");
    let p = t.both(&["auth", "ls"], &[], "");
    p.same_code().both_say(crate::differences::NO_PROFILES);
}

#[test]
fn remove_deletes_the_profiles_session_databases() {
    let mut t = Twin::new();
    three(&mut t);
    let files = [
        "cli/sessions/c.db",
        "cli/sessions/c.db-wal",
        "cli/sessions/c.db-shm",
    ];
    let others = ["cli/sessions/a.db", "sessions-b.db"];
    for f in files.iter().chain(&others) {
        t.write_both(f, "not really sqlite");
    }
    let p = t.both(&["auth", "rm", "c", "-y"], &[], "");
    p.same_code();
    for f in files {
        assert!(t.py.read_file(f).is_none(), "Python left {f}");
        assert!(t.ours.read_file(f).is_none(), "we left {f}");
    }
    // Other profiles' databases stay (Python moves the legacy one into cli/sessions/).
    assert!(
        t.py.read_file("cli/sessions/a.db").is_some()
            && t.ours.read_file("cli/sessions/a.db").is_some()
    );
    assert!(
        t.py.read_file("cli/sessions/b.db").is_some() || t.py.read_file("sessions-b.db").is_some()
    );
    assert!(t.ours.read_file("sessions-b.db").is_some());
    t.assert_same_state("rm c with session databases");

    // The legacy layout: sessions-NAME.db in CONTREE_HOME is gone too.
    t.write_both("sessions-a.db", "legacy");
    // (Python moves sessions-a.db into cli/sessions/ only when that is free.)
    std::fs::remove_file(t.py.path("cli/sessions/a.db")).unwrap();
    let p = t.both(&["auth", "rm", "a", "-y"], &[], "");
    p.same_code();
    for f in ["sessions-a.db", "cli/sessions/a.db"] {
        assert!(t.py.read_file(f).is_none(), "Python left {f}");
        assert!(t.ours.read_file(f).is_none(), "we left {f}");
    }
}
