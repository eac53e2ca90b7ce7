//! `contree auth switch NAME`: point `[DEFAULT] profile` at an existing
//! profile (SPEC §1 "switch / remove").

use super::args::SwitchArgs;
use super::console::{Console, EXIT_OK};
use super::log::Level;
use super::words::{self, At};
use crate::api::Context;
use crate::python::repr;

pub fn run(console: &mut Console<'_, '_>, context: &Context<'_>, args: &SwitchArgs) -> i32 {
    let name = &args.profile_name;
    match context.switch_profile(name) {
        Ok(warnings) => {
            console.log(Level::Info, &format!("Switched to profile {}", repr(name)));
            for warning in &warnings {
                console.log(Level::Warning, warning);
            }
            // The pointer changed, but this environment still picks another.
            if let Some(chosen) = context.profile_override.as_deref().filter(|o| o != name) {
                console.log(
                    Level::Warning,
                    &format!(
                        "CONTREE_PROFILE={} overrides it in this environment: unset CONTREE_PROFILE to use {}",
                        repr(chosen),
                        repr(name)
                    ),
                );
            }
            EXIT_OK
        }
        Err(err) => console.fail(&words::message(&err, At::Elsewhere)),
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::testing::{Cli, fake_api};
    use crate::test_support::assert_lacks;

    #[test]
    fn switch_rewrites_only_the_pointer() {
        let api = fake_api();
        let mut cli = Cli::new();
        let before =
            "[DEFAULT]\nprofile = a\n\n[profile:a]\ntoken = t1\n\n[profile:b]\ntoken = t2\n\n";
        cli.write("auth.ini", before);
        let out = cli.run(&api, &["auth", "switch", "b"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(out.stderr, "[INFO] Switched to profile 'b'\n");
        assert_eq!(
            cli.read("auth.ini"),
            before.replace("profile = a", "profile = b")
        );
        assert!(api.requests().is_empty());
    }

    #[test]
    fn switch_to_a_missing_profile_fails_and_changes_nothing() {
        let api = fake_api();
        let mut cli = Cli::new();
        cli.write("auth.ini", "[profile:a]\ntoken = t\n");
        let out = cli.run(&api, &["auth", "switch", "zz"]);
        assert_eq!(out.code, 1);
        // Issue 20 item 3: the same words as `rm`, and what to do next.
        assert_eq!(
            out.stderr,
            "[ERROR] Profile 'zz' does not exist: `contree auth ls` lists the profiles\n"
        );
        assert_eq!(cli.read("auth.ini"), "[profile:a]\ntoken = t\n");
    }

    /// Issue 20 item 7: a switch that this environment overrides says so.
    #[test]
    fn switch_warns_when_contree_profile_overrides_it() {
        let api = fake_api();
        let mut cli = Cli::new();
        cli.write(
            "auth.ini",
            "[profile:a]\ntoken = t1\n\n[profile:b]\ntoken = t2\n",
        );
        cli.env("CONTREE_PROFILE", "a");
        let out = cli.run(&api, &["auth", "switch", "b"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(
            out.stderr,
            "[INFO] Switched to profile 'b'\n[WARNING] CONTREE_PROFILE='a' overrides it in this environment: unset CONTREE_PROFILE to use 'b'\n"
        );
        let same = cli
            .env("CONTREE_PROFILE", "b")
            .run(&api, &["auth", "switch", "b"]);
        assert_lacks(&same.stderr, "[WARNING]");
    }
}
