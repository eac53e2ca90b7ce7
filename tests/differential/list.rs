//! `auth ls`: the same file listed by both tools, probing the mock API and
//! offline, in every output format.

use serde_json::Value;

use crate::common::{ours, rows_of, show};
use crate::differences::{self, listing_text};
use crate::twin::Twin;

/// Profiles covering every answer Python can be given safely (never a 5xx or
/// a hang: it retries those forever).
fn mixed(t: &Twin) -> String {
    let u = t.url();
    let mut ini = String::from("[DEFAULT]\nprofile = jwt-ok\n\n");
    let profiles = [
        ("iam-ok", "iam", "ok", "p1"),
        ("jwt-ok", "jwt", "ok", ""),
        ("nolist", "iam", "nolist", "p2"),
        ("nolistkey", "jwt", "nolistkey", ""),
        ("rejected", "iam", "e401", "p3"),
        ("forbidden", "jwt", "e403", ""),
        ("unknown", "jwt", "nobody", ""),
        ("notjson", "jwt", "notjson", ""),
        ("empty", "jwt", "empty", ""),
        ("redirect", "jwt", "redirect", ""),
    ];
    for (name, kind, token_kind, project) in profiles {
        ini.push_str(&format!(
            "[profile:{name}]\nurl = {u}\ntoken = {}\ntype = {kind}\n",
            t.token(token_kind)
        ));
        if !project.is_empty() {
            ini.push_str(&format!("project = {project}\n"));
        }
        ini.push('\n');
    }
    // Saved without a token (as `Profile.save` writes a missing one).
    ini.push_str(&format!(
        "[profile:notoken]\nurl = {u}\ntoken = \ntype = jwt\n\n"
    ));
    ini
}

#[test]
fn probes_give_the_same_statuses() {
    let t = Twin::new();
    t.write_both("auth.ini", &mixed(&t));
    let py = t.py_list(&[]);
    let ours_rows = t.our_list(t.ours.home(), &[]);
    let status = |rows: &[Value]| -> Vec<(String, String)> {
        rows.iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap().into(),
                    r["status"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    assert_eq!(
        status(&ours_rows),
        status(&py.rows),
        "statuses (ours, python)"
    );
    assert_eq!(ours_rows, py.rows);
    // Offline, nothing is probed and a profile without a token is still `error`.
    t.api.clear_requests();
    t.assert_same_state("offline listing of the mixed file");
    assert!(
        t.api.requests().is_empty(),
        "an offline listing made a request"
    );
    let py = t.py_list(&["--offline"]);
    assert_eq!(py.rows.last().unwrap()["status"], "error");
}

#[test]
fn contree_profile_picks_the_active_row() {
    let mut t = Twin::new();
    t.write_both("auth.ini", &mixed(&t));
    for (profile, warns) in [("nolist", false), ("missing-one", true)] {
        let py = t.py_raw(
            &["-o", "json", "auth", "ls", "-O"],
            &[("CONTREE_PROFILE", profile)],
            "",
        );
        t.ours.env("CONTREE_PROFILE", profile);
        let ours_out = ours(&t.ours, &["-f", "json", "auth", "ls", "-O"]);
        t.ours.remove_env("CONTREE_PROFILE");
        assert_eq!(
            (py.code, ours_out.code),
            (0, 0),
            "{}{}",
            show("python", &py),
            show("ours", &ours_out)
        );
        let py_rows: Vec<Value> = rows_of(&py.stdout)
            .into_iter()
            .map(differences::py_row)
            .collect();
        let our_rows: Vec<Value> = rows_of(&ours_out.stdout)
            .into_iter()
            .map(differences::our_row)
            .collect();
        assert_eq!(our_rows, py_rows, "CONTREE_PROFILE={profile}");
        let active: Vec<&str> = py_rows
            .iter()
            .filter(|r| r["active"] == true)
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(active, if warns { vec![] } else { vec![profile] });
        let warning = format!("'{profile}' does not exist");
        assert_eq!(
            py.stderr.contains(&warning),
            warns,
            "{}",
            show("python", &py)
        );
        assert_eq!(
            ours_out.stderr.contains(&warning),
            warns,
            "{}",
            show("ours", &ours_out)
        );
    }
}

#[test]
fn every_format_prints_the_same_offline_listing() {
    let mut t = Twin::new();
    let url = t.url();
    let (a, b, c) = (t.token("ok"), t.token("ok"), t.token("ok"));
    t.both_ok(&[
        "auth",
        "-p",
        "first",
        "--token",
        &a,
        "-u",
        &url,
        "-P",
        "proj, with \"quotes\"",
    ]);
    t.both_ok(&[
        "auth", "-p", "second", "--type", "jwt", "--token", &b, "-u", &url,
    ]);
    t.both_ok(&t.save("прод", &c).project("p-3").args());
    t.both_ok(&["auth", "switch", "second"]);
    t.assert_same_state("the profiles to list");
    // One file, listed by both: the layout must match byte for byte.
    // (Python cannot save a non-Latin-1 project, see `unlisted`: written here.)
    let more = "[profile:notoken]\nurl = http://127.0.0.1:9\ntype = jwt\n\n\
                [profile:юникод]\nurl = http://127.0.0.1:9/é\ntoken = t\ntype = iam\nproject = проект-é\n";
    t.write_both("auth.ini", &(t.py.read_file("auth.ini").unwrap() + more));
    for format in [
        "default",
        "table",
        "csv",
        "tsv",
        "plain",
        "toml",
        "json",
        "json-pretty",
    ] {
        let py = t.py_raw(&["-o", format, "auth", "ls", "--offline"], &[], "");
        let ours_out = ours(&t.ours, &["-f", format, "auth", "ls", "--offline"]);
        assert_eq!(
            (py.code, ours_out.code),
            (0, 0),
            "{format}\n{}{}",
            show("python", &py),
            show("ours", &ours_out)
        );
        assert_eq!(
            listing_text(&ours_out.stdout, format, false),
            listing_text(&py.stdout, format, true),
            "{format} (ours, python)"
        );
        assert!(
            ours_out.stdout.lines().count() > 3,
            "{format}: {}",
            ours_out.stdout
        );
    }
}
