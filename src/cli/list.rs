//! `contree auth list` (`ls`, `profiles`): every profile with its status
//! (SPEC §1 "list"), and `--check` for CI: exit 1 unless every listed
//! profile is `ok`, saying why for each one that is not.

use super::args::ListArgs;
use super::console::{Console, EXIT_FAILURE, EXIT_OK};
use super::log::Level;
use super::words::{self, At};
use crate::api::{Context, Listing, ProfileStatus};
use crate::output::{self, Row, Value};
use crate::probe::{Probe, ProbeStatus};
use crate::python::repr;

pub fn run(console: &mut Console<'_, '_>, context: &Context<'_>, args: &ListArgs) -> i32 {
    let listing = match context.list_named(args.offline, &args.names) {
        Ok(listing) => listing,
        Err(err) => return console.fail(&words::message(&err, At::Elsewhere)),
    };
    // The table marks the active profile in its ACTIVE column (no `*`).
    if listing.active_exists {
        console.log(
            Level::Info,
            &format!("Configured profiles (active: {})", repr(&listing.active)),
        );
    } else {
        console.log(Level::Info, "Configured profiles");
    }
    if listing.profiles.is_empty() {
        if console.format.is_machine() {
            console.note("No profiles configured.");
            console.print(console.format.empty());
        } else {
            console.print("No profiles configured.\n");
        }
        return if args.check {
            console.fail("--check: no profiles configured, so none is ok")
        } else {
            EXIT_OK
        };
    }
    // Only a listing of every profile is about the active one: `ls --check
    // ci` in a CI job asks about `ci` alone.
    if !listing.active_exists && args.names.is_empty() {
        // Said with the fix: which setting names it, and how to change it.
        let fix = if context.profile_override.is_some() {
            "CONTREE_PROFILE names it: set CONTREE_PROFILE to one of the profiles below, or unset it"
        } else {
            "choose one of the profiles below with `contree auth switch NAME`"
        };
        console.log(
            Level::Warning,
            &format!(
                "Active profile {} does not exist in config; {fix}",
                repr(&listing.active)
            ),
        );
    }
    // Issue 25 item 6: where the rows cannot say why (the table formats;
    // stdout keeps the Python CLI's rows), one line per profile that is not
    // ok says it on stderr; `--check` says it as errors instead.
    let say_why = !console.format.is_machine() && !console.format.has_detail() && !args.check;
    let rows = rows(&listing, console.format.has_detail());
    let text = output::render(console.format, &rows, console.stdout_is_terminal());
    console.print(&text);
    for entry in &listing.profiles {
        let Some(why) = not_ok(entry) else {
            continue;
        };
        if say_why && entry.probe.status != ProbeStatus::Offline {
            console.log(Level::Warning, &why);
        } else {
            console.log(Level::Debug, &why);
        }
    }
    if args.check {
        return check(console, &listing);
    }
    EXIT_OK
}

/// `Profile 'NAME' is not ok (status S): why`, for a profile with a reason.
fn not_ok(entry: &ProfileStatus) -> Option<String> {
    let why = reason(&entry.probe)?;
    Some(format!(
        "Profile {} is not ok (status {}): {why}",
        repr(&entry.profile.name),
        entry.probe.status.as_str()
    ))
}

/// `--check`: one error line per profile that is not `ok`, as `gh auth status` does.
fn check(console: &mut Console<'_, '_>, listing: &Listing) -> i32 {
    let failing: Vec<_> = listing
        .profiles
        .iter()
        .filter(|entry| entry.probe.status != ProbeStatus::Ok)
        .collect();
    for entry in &failing {
        let line = not_ok(entry).unwrap_or_else(|| {
            format!(
                "Profile {} is not ok (status {}): no detail",
                repr(&entry.profile.name),
                entry.probe.status.as_str()
            )
        });
        console.log(Level::Error, &line);
    }
    if failing.is_empty() {
        return EXIT_OK;
    }
    console.fail(&format!(
        "--check: {} of {} profiles are not ok; save a working token with `contree auth -p NAME -y`",
        failing.len(),
        listing.profiles.len()
    ));
    EXIT_FAILURE
}

/// A probe's reason, with the next step in this face's words when the
/// profile's values say what it is (`ls` takes no `--allow-insecure-http`:
/// the profile is saved again with it).
fn reason(probe: &Probe) -> Option<String> {
    probe.reason(|fix| words::spell(fix, At::Elsewhere))
}

/// One row per profile, keys in the reference's order (plus `detail` where the format allows).
fn rows(listing: &Listing, with_detail: bool) -> Vec<Row> {
    listing
        .profiles
        .iter()
        .map(|entry| {
            let p = &entry.profile;
            let mut row: Row = vec![
                ("name", p.name.as_str().into()),
                ("type", p.auth_type.as_str().into()),
                ("url", p.url.as_str().into()),
                ("project", p.project.as_str().into()),
                ("token_sha256", p.token_sha256.as_str().into()),
                ("active", Value::Bool(p.active)),
                ("status", entry.probe.status.as_str().into()),
            ];
            if with_detail {
                let detail = reason(&entry.probe).unwrap_or_default();
                row.push(("detail", detail.as_str().into()));
            }
            row
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::cli::testing::{Cli, fake_api};
    use crate::test_support::{assert_ends, assert_has, assert_lacks, assert_starts};

    const THREE: &str = "[DEFAULT]\nprofile = b\n\n\
        [profile:a]\nurl = http://127.0.0.1:9\ntoken = tok-ok\ntype = jwt\n\n\
        [profile:b]\nurl = http://127.0.0.1:9\ntoken = tok-nolist\ntype = iam\nproject = p\n\n\
        [profile:c]\nurl = http://127.0.0.1:9\ntoken = tok-bad\ntype = jwt\n\n";

    #[test]
    fn table_lists_in_file_order_with_statuses_and_the_active_marker() {
        let api = fake_api();
        let mut cli = Cli::new();
        cli.write("auth.ini", THREE);
        let out = cli.run(&api, &["auth", "ls"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let lines: Vec<_> = out.stdout.lines().collect();
        assert_eq!(lines.len(), 4, "{}", out.stdout);
        assert_starts(lines[0], "NAME  TYPE  URL");
        let status = |line: &str| line.split_whitespace().last().unwrap_or("").to_string();
        assert_eq!(
            lines[1..].iter().map(|l| status(l)).collect::<Vec<_>>(),
            ["ok", "inactive", "error"]
        );
        assert!(lines[2].contains("true"), "b is active: {}", lines[2]);
        assert_eq!(api.requests().len(), 3);
    }

    /// Issue 20 items 3 and 5: the INFO line says which profile is active
    /// (the table has no `*`), and advice names flags `ls` knows of.
    #[test]
    fn the_listing_says_what_is_active_and_advises_only_what_ls_can_do() {
        let api = fake_api();
        let mut cli = Cli::new();
        cli.write(
            "auth.ini",
            &format!(
                "{THREE}[profile:far]\nurl = http://example.invalid\ntoken = tok-ok\ntype = jwt\n"
            ),
        );
        let out = cli.run(
            &api,
            &["-L", "debug", "-f", "json", "auth", "ls", "--check", "far"],
        );
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert_starts(&out.stderr, "[INFO] Configured profiles (active: 'b')\n");
        assert_lacks(&out.stderr, "*");
        assert_lacks(&out.stderr, "pass --allow-insecure-http");
        assert_lacks(&out.stdout, "pass --allow-insecure-http");
        assert_has(
            &out.stderr,
            "save the profile again with `contree auth --allow-insecure-http`",
        );
        let mut dangling = Cli::new();
        dangling.write(
            "auth.ini",
            "[DEFAULT]\nprofile = gone\n\n[profile:a]\ntoken = t\n",
        );
        let out = dangling.run(&api, &["auth", "ls", "-O"]);
        assert_has(
            &out.stderr,
            "[WARNING] Active profile 'gone' does not exist in config; choose one of the profiles below with `contree auth switch NAME`\n",
        );
        // Naming profiles asks about those only (`ls --check ci` in CI).
        let named = dangling.run(&api, &["auth", "ls", "-O", "a"]);
        assert_eq!(named.code, 0, "{}", named.stderr);
        assert_lacks(&named.stderr, "[WARNING]");
    }

    #[test]
    fn offline_makes_no_request_and_says_offline() {
        let api = fake_api();
        let mut cli = Cli::new();
        cli.write("auth.ini", THREE);
        let out = cli.run(&api, &["-f", "csv", "auth", "ls", "-O"]);
        assert_eq!(out.code, 0);
        assert!(api.requests().is_empty());
        assert_eq!(out.stdout.matches(",offline").count(), 3, "{}", out.stdout);
    }

    #[test]
    fn contree_profile_overrides_the_pointer_and_a_missing_active_is_warned() {
        let api = fake_api();
        let mut cli = Cli::new();
        cli.write("auth.ini", THREE);
        cli.env("CONTREE_PROFILE", "gone");
        let out = cli.run(&api, &["-f", "json", "auth", "ls", "-O"]);
        assert_eq!(out.code, 0);
        assert_has(
            &out.stderr,
            "[WARNING] Active profile 'gone' does not exist in config; CONTREE_PROFILE names it: set CONTREE_PROFILE to one of the profiles below, or unset it\n",
        );
        assert_eq!(out.stdout.matches("\"active\": true").count(), 0);
    }

    #[test]
    fn check_exits_1_naming_each_profile_that_is_not_ok() {
        let api = fake_api();
        let mut cli = Cli::new();
        cli.write("auth.ini", THREE);
        let out = cli.run(&api, &["auth", "ls", "--check"]);
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert_has(
            &out.stderr,
            "[ERROR] Profile 'b' is not ok (status inactive): no 'list' permission: sandboxes are disabled\n",
        );
        assert_has(
            &out.stderr,
            "[ERROR] Profile 'c' is not ok (status error): HTTP 401: invalid token\n",
        );
        assert_ends(
            &out.stderr,
            "[ERROR] --check: 2 of 3 profiles are not ok; save a working token with `contree auth -p NAME -y`\n",
        );
        assert_lacks(&out.stderr, "Profile 'a' is");
    }

    #[test]
    fn check_of_named_profiles_probes_only_those() {
        let api = fake_api();
        let mut cli = Cli::new();
        cli.write("auth.ini", THREE);
        let out = cli.run(&api, &["-f", "json", "auth", "ls", "--check", "a"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
        assert_eq!(api.requests().len(), 1);
        let missing = cli.run(&api, &["auth", "ls", "--check", "a", "zz"]);
        assert_eq!(missing.code, 1);
        assert_has(
            &missing.stderr,
            "[ERROR] Profile 'zz' does not exist: `contree auth ls` lists the profiles\n",
        );
        let empty = Cli::new().run(&api, &["auth", "ls", "--check"]);
        assert_eq!(empty.code, 1, "no profile is not a pass: {}", empty.stderr);
    }

    /// Issue 25 item 6: in a table, one stderr line per profile that is
    /// not ok says why (the table keeps the Python CLI's columns); machine
    /// formats keep it in their rows; `--offline` has nothing to say.
    #[test]
    fn a_table_listing_says_on_stderr_why_each_profile_is_not_ok() {
        let api = fake_api();
        let mut cli = Cli::new();
        cli.write("auth.ini", THREE);
        let out = cli.run(&api, &["auth", "ls"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let why: Vec<_> = out
            .stderr
            .lines()
            .filter(|l| l.starts_with("[WARNING] "))
            .collect();
        assert_eq!(
            why,
            [
                "[WARNING] Profile 'b' is not ok (status inactive): no 'list' permission: sandboxes are disabled",
                "[WARNING] Profile 'c' is not ok (status error): HTTP 401: invalid token",
            ],
            "{}",
            out.stderr
        );
        assert_lacks(&out.stdout, "invalid token");
        for quiet in [
            &["-f", "json", "auth", "ls"][..],
            &["auth", "ls", "-O"],
            &["-f", "plain", "auth", "ls"],
        ] {
            let out = cli.run(&api, quiet);
            assert_lacks(&out.stderr, "is not ok");
        }
        let json = cli.run(&api, &["-f", "json", "auth", "ls"]);
        assert_has(&json.stdout, "invalid token");
    }
}
