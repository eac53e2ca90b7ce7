//! `contree auth remove NAME` (`rm`, `del`): delete a profile and its
//! session databases, after asking unless `-y` (SPEC §1 "switch / remove").

use super::args::RemoveArgs;
use super::console::{Console, EXIT_OK};
use super::log::Level;
use super::words::{self, At};
use crate::api::Context;
use crate::error::AuthError;
use crate::python::repr;

pub fn run(console: &mut Console<'_, '_>, context: &Context<'_>, args: &RemoveArgs) -> i32 {
    let name = args.profile_name.as_str();
    // The core's words (the log line starts them with a capital P, as
    // the reference does), then this face's next step.
    let fail = |console: &mut Console<'_, '_>, err: &AuthError| {
        console.fail(&words::message(err, At::Elsewhere))
    };
    match context.profile_defined(name) {
        Ok(true) => {}
        Ok(false) => return fail(console, &AuthError::NotFound(name.to_string())),
        Err(err) => return fail(console, &err),
    }
    if !args.force
        && let Err(code) =
            console.confirm_or_abort(&format!("Remove profile {}?", repr(name)), "remove it")
    {
        return code;
    }
    match context.remove_profile(name) {
        Ok(removal) => {
            for file in &removal.deleted_files {
                console.log(Level::Debug, &format!("Deleted session database {file}"));
            }
            for warning in &removal.warnings {
                console.log(Level::Warning, warning);
            }
            console.log(Level::Info, &format!("Removed profile {}", repr(name)));
            // Issue 20 item 7: a change of the active profile is said aloud.
            if removal.was_active {
                console.log(
                    Level::Info,
                    &format!("The active profile is now {}", repr(&removal.active)),
                );
            }
            EXIT_OK
        }
        Err(err) => fail(console, &err),
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::testing::{Cli, fake_api};
    use crate::test_support::assert_ends;

    const TWO: &str =
        "[DEFAULT]\nprofile = a\n\n[profile:a]\ntoken = t1\n\n[profile:b]\ntoken = t2\n\n";

    #[test]
    fn remove_active_profile_moves_pointer_to_first_remaining() {
        let api = fake_api();
        let mut cli = Cli::new();
        cli.write("auth.ini", TWO);
        let out = cli.run(&api, &["auth", "rm", "a", "-y"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        // Issue 20 item 7: the new active profile is named.
        assert_eq!(
            out.stderr,
            "[INFO] Removed profile 'a'\n[INFO] The active profile is now 'b'\n"
        );
        assert_eq!(
            cli.read("auth.ini"),
            "[DEFAULT]\nprofile = b\n\n[profile:b]\ntoken = t2\n\n"
        );
        let last = cli.run(&api, &["auth", "del", "b", "-y"]);
        assert_eq!(last.code, 0);
        assert_ends(&last.stderr, "[INFO] The active profile is now 'default'\n");
        assert_eq!(cli.read("auth.ini"), "[DEFAULT]\nprofile = default\n\n");
    }

    #[test]
    fn remove_asks_first_and_anything_but_y_keeps_the_profile() {
        let api = fake_api();
        for (answer, code) in [("y\n", 0), ("n\n", 1), ("", 1)] {
            let mut cli = Cli::new();
            cli.write("auth.ini", TWO);
            cli.stdin(answer);
            let out = cli.run(&api, &["auth", "remove", "b"]);
            assert_eq!(out.code, code, "{answer:?}");
            assert!(out.stderr.starts_with("Remove profile 'b'? [y/N] "));
            assert_eq!(out.stdout, "", "prompts are not data");
            assert_eq!(cli.read("auth.ini").contains("[profile:b]"), code == 1);
        }
    }

    #[test]
    fn remove_deletes_session_databases_of_both_layouts() {
        let api = fake_api();
        let mut cli = Cli::new();
        cli.write("auth.ini", TWO);
        std::fs::create_dir_all(cli.path("cli/sessions")).unwrap();
        for file in [
            "cli/sessions/b.db",
            "cli/sessions/b.db-wal",
            "sessions-b.db-shm",
            "sessions-a.db",
        ] {
            cli.write(file, "x");
        }
        let out = cli.run(&api, &["-L", "debug", "auth", "rm", "b", "-y"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(
            out.stderr
                .matches("[DEBUG] Deleted session database")
                .count(),
            3
        );
        assert!(!cli.exists("cli/sessions/b.db") && !cli.exists("sessions-b.db-shm"));
        assert!(
            cli.exists("sessions-a.db"),
            "another profile's database stays"
        );
    }

    #[test]
    fn remove_of_a_missing_profile_fails_with_the_reference_message() {
        let api = fake_api();
        let mut cli = Cli::new();
        cli.write("auth.ini", TWO);
        let out = cli.run(&api, &["auth", "rm", "zz", "-y"]);
        assert_eq!(out.code, 1);
        assert_eq!(
            out.stderr,
            "[ERROR] Profile 'zz' does not exist: `contree auth ls` lists the profiles\n"
        );
        assert_eq!(cli.read("auth.ini"), TWO);
    }
}
