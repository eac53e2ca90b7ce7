//! `contree auth switch NAME`: point `[DEFAULT] profile` at an existing
//! profile (SPEC §1 "switch / remove").

use super::args::SwitchArgs;
use super::console::{Console, EXIT_OK};
use super::log::Level;
use crate::api::Context;
use crate::python::repr;

pub fn run(console: &mut Console<'_, '_>, context: &Context<'_>, args: &SwitchArgs) -> i32 {
    match context.switch_profile(&args.profile_name) {
        Ok(warnings) => {
            console.log(
                Level::Info,
                &format!("Switched to profile {}", repr(&args.profile_name)),
            );
            for warning in &warnings {
                console.log(Level::Warning, warning);
            }
            EXIT_OK
        }
        Err(err) => console.fail(&err.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::testing::{Cli, fake_api};

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
        assert_eq!(out.stderr, "[ERROR] profile 'zz' does not exist\n");
        assert_eq!(cli.read("auth.ini"), "[profile:a]\ntoken = t\n");
    }
}
