//! `contree auth`: save a profile (SPEC §1, "Save, step by step").
//!
//! Where each value comes from is decided in one place,
//! [`SaveOptions::resolve`]: the flag, else the environment variables in
//! order, else a prompt (or, for the iam URL, the core's default). The
//! operation itself (checks, whoami, the write) is [`Context::save_profile`].

use super::args::SaveArgs;
use super::console::{Console, EXIT_OK, Prompt, SECRET_PROMPT};
use super::log::Level;
use super::words::{self, At, PROJECT_ADVICE, TOKEN_ADVICE, URL_ADVICE};
use crate::api::{Context, Kept, SaveRequest};
use crate::config::env::{Environment, HIDDEN_INPUT_VAR, PROJECT_VARS, TOKEN_VARS, URL_VARS};
use crate::config::profile::{AuthType, DEFAULT_PROFILE, Secret};
use crate::error::AuthError;
use crate::python::repr;

/// Where one value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Given {
    Flag(String),
    /// The variable's name is logged, never its value.
    Env(&'static str, String),
    /// Neither flag nor variable: ask for it.
    Ask,
}

impl Given {
    /// Flag > the first set variable of `names` > ask. Empty values count as unset.
    fn pick(flag: Option<String>, env: &Environment, names: &[&'static str]) -> Given {
        if let Some(value) = flag.filter(|v| !v.is_empty()) {
            return Given::Flag(value);
        }
        env.first_of(names).map_or(Given::Ask, |(name, value)| {
            Given::Env(name, value.to_string())
        })
    }

    /// The value, logging which variable it came from; `None` means ask.
    fn take(self, console: &mut Console<'_, '_>, what: &str) -> Option<String> {
        match self {
            Given::Flag(value) => Some(value),
            Given::Env(name, value) => {
                console.log(Level::Info, &format!("Using {what} from {name}"));
                Some(value)
            }
            Given::Ask => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenInput {
    Given(Given),
    /// `--token-stdin`: all of standard input.
    Stdin,
}

/// Everything `contree auth` was told, before anyone is asked anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveOptions {
    pub name: String,
    pub auth_type: AuthType,
    pub token: TokenInput,
    pub url: Given,
    /// Always [`Given::Ask`] for jwt, which has no project.
    pub project: Given,
    pub force: bool,
    pub allow_insecure_http: bool,
}

impl SaveOptions {
    /// Flags over environment variables, for every value. No I/O.
    pub fn resolve(args: SaveArgs, env: &Environment) -> SaveOptions {
        let token = if args.token_stdin {
            TokenInput::Stdin
        } else {
            TokenInput::Given(Given::pick(args.token, env, TOKEN_VARS))
        };
        let project = match args.auth_type {
            AuthType::Iam => Given::pick(args.project, env, PROJECT_VARS),
            AuthType::Jwt => Given::Ask,
        };
        SaveOptions {
            name: args
                .profile
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| DEFAULT_PROFILE.to_string()),
            auth_type: args.auth_type,
            token,
            url: Given::pick(args.url, env, URL_VARS),
            project,
            force: args.force,
            allow_insecure_http: args.allow_insecure_http,
        }
    }
}

pub fn run(
    console: &mut Console<'_, '_>,
    context: &Context<'_>,
    env: &Environment,
    args: SaveArgs,
) -> i32 {
    let options = SaveOptions::resolve(args, env);
    let name = options.name.clone();
    if let Err(err) = crate::api::validate_name(&name) {
        return console.fail(&format!("{err} (-p/--profile)"));
    }
    let url_source = match &options.url {
        Given::Flag(_) => "-u/--url",
        Given::Env(name, _) => name,
        Given::Ask => "the URL",
    };
    let saved = match context.saved_profile(&name) {
        Ok(saved) => saved,
        Err(err) => return console.fail(&words::message(&err, At::Elsewhere)),
    };
    let exists = saved.is_some();
    // Replacing a profile of the same type keeps its URL and project when
    // nothing gives them (the core's rule): nothing to ask for.
    let keeps = saved.map_or_else(Vec::new, |s| {
        Kept::of_saved(options.auth_type, &s.auth_type, &s.url, &s.project)
    });
    let action = if exists { "Updating" } else { "Setting" };
    console.log(
        Level::Info,
        &format!(
            "{action} token for profile {} (type: {})",
            repr(&name),
            options.auth_type.as_str()
        ),
    );
    if exists && !options.force {
        let question = format!("Profile {} already exists. Overwrite?", repr(&name));
        if let Err(code) = console.confirm_or_abort(&question, "overwrite it") {
            return code;
        }
    }
    // Only a host that said so hides what is typed (a component cannot).
    let hidden_input = env.get(HIDDEN_INPUT_VAR) == Some("1");
    let request = match ask_for_the_rest(console, options, exists, &keeps, hidden_input) {
        Ok(request) => request,
        Err(code) => return code,
    };

    let given_url = request.url.clone().unwrap_or_default();
    let mut notes = Vec::new();
    let saved = context.save_profile(request, &mut |note| notes.push(note.to_string()));
    for note in notes {
        console.log(Level::Info, &note);
    }
    let outcome = match saved {
        Ok(outcome) => outcome,
        Err(
            err @ (AuthError::VerificationFailed { .. }
            | AuthError::Network(_)
            | AuthError::Timeout(_)),
        ) => {
            return console.fail(&format!(
                "Token verification failed: {err}. Profile not changed."
            ));
        }
        Err(err) => {
            let at = At::Save {
                url_source,
                url: &given_url,
            };
            return console.fail(&words::message(&err, at));
        }
    };
    if !outcome.list_permission {
        let label = if outcome.profile.project.is_empty() {
            &outcome.profile.url
        } else {
            &outcome.profile.project
        };
        console.log(
            Level::Warning,
            &format!(
                "The token is valid but sandboxes are disabled on {label} (no 'list' permission): the profile is saved, but no command will work until the service is enabled there."
            ),
        );
    }
    console.log(
        Level::Info,
        &format!("Saved profile {} to {}", repr(&name), outcome.path),
    );
    if !outcome.kept.is_empty() {
        let (what, flags): (Vec<_>, Vec<_>) = outcome
            .kept
            .iter()
            .map(|&kept| {
                let flag = match kept {
                    Kept::Url => "-u/--url",
                    Kept::Project => "-P/--project",
                };
                (kept.as_str(), flag)
            })
            .unzip();
        console.log(
            Level::Info,
            &format!(
                "Kept the saved {} of profile {} (pass {} to change {})",
                what.join(" and "),
                repr(&name),
                flags.join(" or "),
                if what.len() == 1 { "it" } else { "them" }
            ),
        );
    }
    if !outcome.active_exists {
        console.log(
            Level::Info,
            &how_to_activate(context, &outcome.active, &name),
        );
    }
    for warning in &outcome.warnings {
        console.log(Level::Warning, warning);
    }
    EXIT_OK
}

/// Issue 25 item 6: a save while no profile is active says how to make
/// this one active (`CONTREE_PROFILE`, when set, picks the active one).
fn how_to_activate(context: &Context<'_>, active: &str, name: &str) -> String {
    if context.profile_override.is_some() {
        format!(
            "CONTREE_PROFILE={} names no profile: set CONTREE_PROFILE={} to use this one",
            repr(active),
            repr(name)
        )
    } else {
        format!(
            "No profile is active ({} does not exist): `contree auth switch {}` makes this one active",
            repr(active),
            shell_word(name)
        )
    }
}

/// A name as a shell word: as it is when it needs no quoting.
fn shell_word(name: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_.@+".contains(c);
    if !name.is_empty() && name.chars().all(plain) {
        name.to_string()
    } else {
        repr(name)
    }
}

const URL_PROMPT: &str = "URL: ";
const PROJECT_PROMPT: &str = "Project ID: ";

/// Why `contree auth` will not ask for the token on this terminal.
pub const VISIBLE_TOKEN_PROMPT: &str = "Not asking for the token here: this host would show it on the screen as it is typed. \
     Pipe it with --token-stdin, set CONTREE_TOKEN (wasmtime run --env CONTREE_TOKEN), \
     or run the `contree` launcher, which hides it";

/// Token, URL and project, in the reference's order, prompting for what
/// neither a flag nor the environment gave. `Err` is the exit code.
fn ask_for_the_rest(
    console: &mut Console<'_, '_>,
    options: SaveOptions,
    exists: bool,
    // What the core keeps of the profile being replaced: not asked for.
    keeps: &[Kept],
    hidden_input: bool,
) -> Result<SaveRequest, i32> {
    let token = match options.token {
        TokenInput::Stdin => match console.read_stdin() {
            Some(text) => text.trim_end_matches(['\n', '\r']).to_string(),
            None => return Err(console.fail("--token-stdin: standard input is not UTF-8 text")),
        },
        TokenInput::Given(given) => match given.take(console, "token") {
            Some(token) => token,
            // On a terminal whose echo nobody switches off, the token would
            // show as it is typed: refuse, and say how to give it safely.
            None if console.stdin_is_terminal() && !hidden_input => {
                return Err(console.fail(VISIBLE_TOKEN_PROMPT));
            }
            None => match console.ask(Prompt::Secret(SECRET_PROMPT)) {
                Some(token) => token,
                None => {
                    return Err(console.ended_at(
                        SECRET_PROMPT,
                        "pipe the token with --token-stdin, or set CONTREE_TOKEN",
                    ));
                }
            },
        },
    };
    // Refused before any other prompt: nothing else is worth asking for.
    if token.trim().is_empty() {
        return Err(console.fail(&format!("The token is empty: {TOKEN_ADVICE}")));
    }
    let is_iam = options.auth_type == AuthType::Iam;
    let url = match options.url.take(console, "URL") {
        Some(url) => Some(url),
        // The core fills in the saved URL, or the public API's for iam.
        None if is_iam || keeps.contains(&Kept::Url) => None,
        None => match console
            .ask(Prompt::Line(URL_PROMPT))
            .map(|u| u.trim().to_string())
        {
            Some(url) if !url.trim_end_matches('/').is_empty() => Some(url),
            Some(_) => {
                return Err(console.fail(&format!("URL is required for JWT auth: {URL_ADVICE}")));
            }
            None => return Err(console.ended_at(URL_PROMPT, URL_ADVICE)),
        },
    };
    let project = if is_iam {
        match options.project.take(console, "project") {
            Some(project) => Some(project),
            None if keeps.contains(&Kept::Project) => None,
            None => match console.ask(Prompt::Line(PROJECT_PROMPT)) {
                Some(project) => Some(project.trim().to_string()),
                None => return Err(console.ended_at(PROJECT_PROMPT, PROJECT_ADVICE)),
            },
        }
    } else {
        None
    };
    Ok(SaveRequest {
        name: options.name,
        token: Secret::new(token),
        url,
        auth_type: options.auth_type,
        project,
        // Asked (or forced) above; the core re-checks under the lock. A
        // forced save replaces a profile a concurrent run saved meanwhile.
        overwrite: exists || options.force,
        allow_insecure_http: options.allow_insecure_http,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::testing::{Cli, fake_api};
    use crate::test_support::{assert_ends, assert_has, assert_lacks};

    fn env(pairs: &[(&str, &str)]) -> Environment {
        Environment::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    /// `contree auth --token TOKEN -u URL -P PROJECT` against the fake API.
    fn saving<'a>(token: &'a str, project: &'a str) -> Vec<&'a str> {
        vec![
            "auth",
            "--token",
            token,
            "-u",
            "http://127.0.0.1:9",
            "-P",
            project,
        ]
    }

    fn args(token: Option<&str>, url: Option<&str>, project: Option<&str>) -> SaveArgs {
        SaveArgs {
            token: token.map(String::from),
            url: url.map(String::from),
            project: project.map(String::from),
            ..SaveArgs::default()
        }
    }

    #[test]
    fn token_precedence_flag_then_contree_token_then_nebius_api_key_then_prompt() {
        let both = env(&[("CONTREE_TOKEN", "c"), ("NEBIUS_API_KEY", "n")]);
        let nebius = env(&[("NEBIUS_API_KEY", "n")]);
        let empty_contree = env(&[("CONTREE_TOKEN", ""), ("NEBIUS_API_KEY", "n")]);
        let cases = [
            (&both, Some("f"), Given::Flag("f".into())),
            (&both, None, Given::Env("CONTREE_TOKEN", "c".into())),
            (&nebius, None, Given::Env("NEBIUS_API_KEY", "n".into())),
            (
                &empty_contree,
                None,
                Given::Env("NEBIUS_API_KEY", "n".into()),
            ),
            (&both, Some(""), Given::Env("CONTREE_TOKEN", "c".into())),
            (&env(&[]), None, Given::Ask),
        ];
        for (env, flag, expected) in cases {
            let options = SaveOptions::resolve(args(flag, None, None), env);
            assert_eq!(options.token, TokenInput::Given(expected), "{flag:?}");
        }
    }

    #[test]
    fn url_and_project_precedence_flag_then_env_then_ask() {
        let all = env(&[
            ("CONTREE_URL", "http://env"),
            ("CONTREE_PROJECT", "cp"),
            ("NEBIUS_AI_PROJECT", "np"),
        ]);
        let flags = SaveOptions::resolve(args(None, Some("http://flag"), Some("fp")), &all);
        assert_eq!(flags.url, Given::Flag("http://flag".into()));
        assert_eq!(flags.project, Given::Flag("fp".into()));
        let from_env = SaveOptions::resolve(args(None, None, None), &all);
        assert_eq!(from_env.url, Given::Env("CONTREE_URL", "http://env".into()));
        assert_eq!(from_env.project, Given::Env("CONTREE_PROJECT", "cp".into()));
        let nebius =
            SaveOptions::resolve(args(None, None, None), &env(&[("NEBIUS_AI_PROJECT", "np")]));
        assert_eq!(nebius.project, Given::Env("NEBIUS_AI_PROJECT", "np".into()));
        let mut jwt = args(None, None, Some("ignored"));
        jwt.auth_type = AuthType::Jwt;
        assert_eq!(SaveOptions::resolve(jwt, &all).project, Given::Ask);
        let nothing = SaveOptions::resolve(args(None, None, None), &env(&[]));
        assert_eq!((nothing.url, nothing.project), (Given::Ask, Given::Ask));
        assert_eq!(nothing.name, "default");
    }

    #[test]
    fn save_verifies_with_whoami_then_writes_the_reference_layout() {
        let api = fake_api();
        let mut cli = Cli::new();
        let out = cli.run(
            &api,
            &[
                "auth",
                "--token",
                "tok-ok",
                "-u",
                "http://127.0.0.1:9/",
                "-P",
                "proj-1",
            ],
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        let seen = api.requests();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].path, "/v1/whoami");
        assert_eq!(seen[0].header("authorization"), Some("Bearer tok-ok"));
        assert_eq!(seen[0].header("project"), Some("proj-1"));
        assert_eq!(
            cli.read("auth.ini"),
            "[DEFAULT]\nprofile = default\n\n[profile:default]\nurl = http://127.0.0.1:9\ntoken = tok-ok\ntype = iam\nproject = proj-1\n\n"
        );
        assert_eq!(
            out.stderr,
            format!(
                "[INFO] Setting token for profile 'default' (type: iam)\n[INFO] Saved profile 'default' to {}\n",
                cli.path("auth.ini")
            )
        );
        assert_eq!(out.stdout, "");
    }

    #[test]
    fn every_write_of_auth_ini_warns_once_that_its_mode_is_the_hosts_unless_the_host_made_it_private()
     {
        let api = fake_api();
        let mut cli = Cli::new();
        cli.env("CONTREE_PRIVATE_FILES", "");
        let warning = format!(
            "[WARNING] {} was written with the host's default file mode",
            cli.path("auth.ini")
        );
        // Created, then rewritten (SPEC §5: rewriting is the common case).
        for args in [
            saving("tok-ok", "p"),
            [saving("tok-ok", "p"), vec!["-y"]].concat(),
        ] {
            let out = cli.run(&api, &args);
            assert_eq!(out.code, 0, "{}", out.stderr);
            assert_eq!(out.stderr.matches(&warning).count(), 1, "{}", out.stderr);
            assert_has(&out.stderr, "umask 077");
        }
        cli.env("CONTREE_PRIVATE_FILES", "1");
        let private = cli.run(&api, &[saving("tok-ok", "p"), vec!["-y"]].concat());
        assert_lacks(&private.stderr, "[WARNING]");
    }

    /// A forced save (`-y`) of a profile that a concurrent run saves while
    /// this one verifies its token replaces it instead of failing with
    /// "already exists" (the existence check ran before the lock).
    #[test]
    fn a_forced_save_racing_a_concurrent_save_of_the_same_name_replaces_it() {
        let mut cli = Cli::new();
        let auth_ini = cli.path("auth.ini");
        let api = fake_api();
        let racing =
            crate::http::fake::FakeTransport::new(move |request: &crate::http::Request| {
                use crate::http::Transport;
                // The concurrent run commits while this one waits for whoami.
                std::fs::write(&auth_ini, "[profile:default]\ntoken = concurrent\n").unwrap();
                api.send_all(std::slice::from_ref(request), std::time::Duration::ZERO)
                    .remove(0)
            });
        let out = cli.run(&racing, &[saving("tok-ok", "p"), vec!["-y"]].concat());
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(cli.read("auth.ini").contains("token = tok-ok"));
        // Not forced, nobody asked: the concurrent profile is kept.
        std::fs::remove_file(cli.path("auth.ini")).unwrap();
        let out = cli.run(&racing, &saving("tok-ok", "p"));
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert_has(&out.stderr, "already exists");
        assert!(cli.read("auth.ini").contains("token = concurrent"));
    }

    #[test]
    fn values_from_the_environment_are_logged_by_name_never_by_value() {
        let api = fake_api();
        let mut cli = Cli::new();
        cli.env("NEBIUS_API_KEY", "tok-ok")
            .env("CONTREE_URL", "http://127.0.0.1:9")
            .env("NEBIUS_AI_PROJECT", "p");
        let out = cli.run(&api, &["auth"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        for line in [
            "[INFO] Using token from NEBIUS_API_KEY\n",
            "[INFO] Using URL from CONTREE_URL\n",
            "[INFO] Using project from NEBIUS_AI_PROJECT\n",
        ] {
            assert!(out.stderr.contains(line), "{line}: {}", out.stderr);
        }
        assert_lacks(&out.stderr, "tok-ok");
    }

    /// Issue 20 item 4: every prompt on stderr, as getpass does; answers
    /// piped on stdin still work, and stdout holds no prompt.
    #[test]
    fn prompts_go_to_stderr_and_piped_answers_work() {
        let api = fake_api();
        let mut cli = Cli::new();
        cli.stdin("tok-ok\nproj-2\n");
        let out = cli.run(&api, &["auth", "-u", "http://127.0.0.1:9"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_has(
            &out.stderr,
            "(type: iam)\nToken: \nProject ID: \n[INFO] Saved",
        );
        assert_eq!(out.stdout, "");
        assert_eq!(api.requests()[0].header("project"), Some("proj-2"));
    }

    /// Issue 20 item 4: a prompt that meets the end of input is one line
    /// naming the flag or variable that gives the value; nothing is sent.
    #[test]
    fn end_of_input_at_any_prompt_names_the_flag_or_variable_instead() {
        let api = fake_api();
        let url = "http://127.0.0.1:9";
        let cases: [(&[&str], &str); 3] = [
            (
                &["auth", "-u", url, "-P", "p"],
                "Standard input ended at the 'Token' prompt: pipe the token with --token-stdin, or set CONTREE_TOKEN",
            ),
            (
                &["auth", "--token", "tok-ok", "-u", url],
                "Standard input ended at the 'Project ID' prompt: pass -P/--project or set CONTREE_PROJECT",
            ),
            (
                &["auth", "--type", "jwt", "--token", "tok-ok"],
                "Standard input ended at the 'URL' prompt: pass -u/--url or set CONTREE_URL",
            ),
        ];
        for (argv, says) in cases {
            let mut cli = Cli::new();
            let out = cli.run(&api, argv);
            assert_eq!(out.code, 1, "{argv:?}");
            assert!(
                out.stderr.ends_with(&format!(": \n[ERROR] {says}\n")),
                "{argv:?}: {}",
                out.stderr
            );
            assert_eq!(out.stdout, "");
        }
        let existing = Cli::new();
        existing.write("auth.ini", "[profile:default]\ntoken = old\n");
        let mut existing = existing;
        let out = existing.run(&api, &saving("tok-ok", "p"));
        out.refused("[y/N] \n[ERROR] Aborted. Standard input ended at the 'Profile 'default' already exists. Overwrite?' question: pass -y/--force to overwrite it without asking\n");
        assert!(api.requests().is_empty());
    }

    /// Issue 20 item 1: where nobody hides what is typed, the token prompt
    /// is refused before anything is asked or sent, naming the safe ways.
    #[test]
    fn on_a_terminal_the_token_is_asked_for_only_where_the_host_hides_it() {
        let api = fake_api();
        let mut cli = Cli::new();
        cli.terminal(true).stdin("tok-ok\n");
        let out = cli.run(&api, &["auth", "-u", "http://127.0.0.1:9", "-P", "p"]);
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(!out.stderr.contains("Token:"), "no prompt: {}", out.stderr);
        assert_ends(&out.stderr, &format!("[ERROR] {VISIBLE_TOKEN_PROMPT}\n"));
        for way in ["--token-stdin", "CONTREE_TOKEN", "launcher"] {
            assert!(VISIBLE_TOKEN_PROMPT.contains(way), "{way}");
        }
        assert!(api.requests().is_empty());
        assert!(!cli.exists("auth.ini"));

        // The launcher says it hides the token: the prompt is shown.
        cli.env(HIDDEN_INPUT_VAR, "1");
        let out = cli.run(&api, &["auth", "-u", "http://127.0.0.1:9", "-P", "p"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_has(&out.stderr, SECRET_PROMPT);

        // A pipe is not a person typing: the line is read as before.
        let mut piped = Cli::new();
        piped.stdin("tok-ok\n");
        let out = piped.run(&api, &["auth", "-u", "http://127.0.0.1:9", "-P", "p"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
    }

    #[test]
    fn jwt_prompts_for_the_url_and_refuses_an_empty_one() {
        let api = fake_api();
        let mut cli = Cli::new();
        cli.stdin("tok-ok\nhttp://127.0.0.1:9/\n");
        let out = cli.run(&api, &["auth", "--type", "jwt"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_has(&out.stderr, "Token: \nURL: \n[INFO]");
        assert_eq!(out.stdout, "");
        assert!(cli.read("auth.ini").contains("type = jwt\n"));
        assert!(!cli.read("auth.ini").contains("project"));

        let mut empty = Cli::new();
        empty.stdin("tok-ok\n\n");
        let out = empty.run(&api, &["auth", "--type", "jwt"]);
        out.refused("[ERROR] URL is required for JWT auth: pass -u/--url or set CONTREE_URL\n");
        assert!(!empty.exists("auth.ini"));
    }

    #[test]
    fn token_stdin_reads_the_whole_pipe() {
        let api = fake_api();
        let mut cli = Cli::new();
        cli.stdin("tok-ok\r\n");
        let out = cli.run(
            &api,
            &[
                "auth",
                "--token-stdin",
                "--type",
                "jwt",
                "-u",
                "http://127.0.0.1:9",
            ],
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(
            api.requests()[0].header("authorization"),
            Some("Bearer tok-ok")
        );
        assert!(!out.stderr.contains("Token:"), "no prompt: {}", out.stderr);
    }

    #[test]
    fn existing_profile_asks_before_overwriting_and_anything_but_y_aborts() {
        let api = fake_api();
        for (answer, code) in [
            ("y\n", 0),
            ("Y\n", 0),
            ("n\n", 1),
            ("\n", 1),
            ("", 1),
            ("maybe\nn\n", 1),
        ] {
            let mut cli = Cli::new();
            cli.write("auth.ini", "[profile:default]\ntoken = old\n");
            cli.stdin(answer);
            let out = cli.run(&api, &saving("tok-ok", "p"));
            assert_eq!(out.code, code, "{answer:?}: {}", out.stderr);
            assert_has(
                &out.stderr,
                "Profile 'default' already exists. Overwrite? [y/N] ",
            );
            assert!(
                out.stderr
                    .contains("[INFO] Updating token for profile 'default'")
            );
            if code == 1 {
                assert_has(&out.stderr, "Aborted.");
                assert_eq!(out.stdout, "");
                assert_eq!(cli.read("auth.ini"), "[profile:default]\ntoken = old\n");
            } else {
                assert!(cli.read("auth.ini").contains("token = tok-ok"));
            }
        }
        let mut forced = Cli::new();
        forced.write("auth.ini", "[profile:default]\ntoken = old\n");
        let out = forced.run(&api, &[saving("tok-ok", "p"), vec!["-y"]].concat());
        assert_eq!((out.code, out.stdout.as_str()), (0, ""));
    }

    #[test]
    fn rejected_token_is_reported_and_nothing_is_written() {
        let api = fake_api();
        let mut cli = Cli::new();
        let out = cli.run(&api, &saving("tok-bad", "p"));
        out.refused(
            "[ERROR] Token verification failed: HTTP 401: invalid token. Profile not changed.\n",
        );
        assert!(!cli.exists("auth.ini"));
    }

    #[test]
    fn input_checks_come_before_any_request() {
        let api = fake_api();
        let cases: [(&[&str], &str); 4] = [
            (
                &["auth", "--token", "tok-ok", "-u", "http://127.0.0.1:9"],
                "pass -P/--project or set CONTREE_PROJECT",
            ),
            (
                &["auth", "--token", " ", "-P", "p"],
                "[ERROR] The token is empty: pipe it with --token-stdin, or set CONTREE_TOKEN\n",
            ),
            (
                &["auth", "--token", "tok-ok", "-P", "p", "-u", "ftp://h"],
                "[ERROR] -u/--url needs a URL that starts with http:// or https:// (got 'ftp://h')\n",
            ),
            (
                &["auth", "-p", "a/b", "--token", "tok-ok", "-P", "p"],
                "[ERROR] Invalid profile name 'a/b'",
            ),
        ];
        for (argv, message) in cases {
            let mut cli = Cli::new();
            let out = cli.run(&api, argv);
            assert_eq!(out.code, 1, "{argv:?}");
            assert!(out.stderr.contains(message), "{argv:?}: {}", out.stderr);
        }
        assert!(api.requests().is_empty());
    }

    /// Issue 20 item 3: an empty token is refused before any other prompt;
    /// a URL without a scheme names the variable it came from; an empty
    /// project answer says which flag or variable gives it.
    #[test]
    fn refusals_say_what_to_pass_next() {
        let api = fake_api();
        let mut cli = Cli::new();
        cli.stdin("\nproj\n");
        let out = cli.run(&api, &["auth", "-u", "http://127.0.0.1:9"]);
        assert_eq!(out.code, 1);
        assert_lacks(&out.stderr, "Project ID");
        assert_ends(
            &out.stderr,
            "[ERROR] The token is empty: pipe it with --token-stdin, or set CONTREE_TOKEN\n",
        );

        let mut cli = Cli::new();
        cli.env("CONTREE_URL", "example.com");
        let out = cli.run(&api, &["auth", "--token", "tok-ok", "-P", "p"]);
        assert_ends(
            &out.stderr,
            "[ERROR] CONTREE_URL needs a URL that starts with http:// or https:// (got 'example.com')\n",
        );
        assert_lacks(&out.stderr, "base_url");

        let mut cli = Cli::new();
        cli.stdin("\n");
        let out = cli.run(
            &api,
            &["auth", "--token", "tok-ok", "-u", "http://127.0.0.1:9"],
        );
        out.refused("for IAM profile 'default': pass -P/--project or set CONTREE_PROJECT\n");
        assert_lacks(&out.stderr, "Run `contree auth`");
        assert!(api.requests().is_empty());
    }

    /// Issue 20 item 2: a folder the file cannot be written in is found
    /// out before the token is sent anywhere.
    #[test]
    fn save_checks_it_can_write_before_sending_the_token() {
        let api = fake_api();
        let mut cli = Cli::new();
        std::os::unix::fs::symlink("nowhere", cli.path("gone")).unwrap();
        let config = cli.path("gone/auth.ini");
        let argv = [
            "-c",
            config.as_str(),
            "auth",
            "--token",
            "tok-ok",
            "-u",
            "http://127.0.0.1:9",
            "-P",
            "p",
        ];
        let out = cli.run(&api, &argv);
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert_ends(
            &out.stderr,
            &format!(
                "[ERROR] Cannot write the config in {}: {} is not a directory; nothing was sent\n",
                cli.path("gone"),
                cli.path("gone")
            ),
        );
        assert!(api.requests().is_empty(), "the token was sent");
        // A folder that is there and writable: the probe leaves nothing behind.
        let out = cli.run(&api, &saving("tok-ok", "p"));
        assert_eq!(out.code, 0, "{}", out.stderr);
        let names: Vec<_> = std::fs::read_dir(cli.path(""))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    }

    /// A linked auth.ini is written in the folder its link points into:
    /// that is the folder the check looks at, before the token goes anywhere.
    #[test]
    fn the_write_check_follows_a_linked_auth_ini() {
        let api = fake_api();
        let mut cli = Cli::new();
        std::os::unix::fs::symlink("nowhere", cli.path("gone")).unwrap();
        std::os::unix::fs::symlink("gone/auth.ini", cli.path("auth.ini")).unwrap();
        let out = cli.run(&api, &saving("tok-ok", "p"));
        out.refused(&format!(
            "[ERROR] Cannot write the config in {}: {} is not a directory; nothing was sent\n",
            cli.path("gone"),
            cli.path("gone")
        ));
        assert!(api.requests().is_empty(), "the token was sent");
    }

    /// A valid token without the `list` permission warns and saves; issue
    /// 20 item 3: the lines read plainly (no doubled label, no `saved to ->`).
    #[test]
    fn valid_token_without_list_permission_warns_and_saves() {
        let api = fake_api();
        let mut cli = Cli::new();
        let out = cli.run(&api, &saving("tok-nolist", "proj-9"));
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_has(
            &out.stderr,
            "[WARNING] The token is valid but sandboxes are disabled on proj-9 (no 'list' permission): the profile is saved",
        );
        assert_ends(
            &out.stderr,
            &format!(
                "[INFO] Saved profile 'default' to {}\n",
                cli.path("auth.ini")
            ),
        );
        for bad in ["Warning: ", "-> ", "auth accepted"] {
            assert_lacks(&out.stderr, bad);
        }
        assert!(cli.read("auth.ini").contains("token = tok-nolist"));
    }

    /// Issue 25 item 6: rotating the token of a saved profile from a pipe
    /// needs no prompt: its URL and project are kept, and a log line says
    /// so (the Python CLI asks for them again).
    #[test]
    fn rotating_a_token_from_a_pipe_keeps_the_saved_url_and_project() {
        let api = fake_api();
        let mut cli = Cli::new();
        let before = "[DEFAULT]\nprofile = personal\n\n[profile:personal]\nurl = http://127.0.0.1:9\ntoken = tok-old\ntype = iam\nproject = proj-7\n\n";
        cli.write("auth.ini", before);
        cli.stdin("tok-ok\n");
        let out = cli.run(&api, &["auth", "-p", "personal", "-y", "--token-stdin"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_lacks(&out.stderr, "Project ID");
        assert_has(
            &out.stderr,
            "[INFO] Kept the saved URL and project of profile 'personal' (pass -u/--url or -P/--project to change them)\n",
        );
        assert_eq!(cli.read("auth.ini"), before.replace("tok-old", "tok-ok"));
        assert_eq!(api.requests()[0].header("project"), Some("proj-7"));
        // A value given still wins, and is not said to be kept.
        cli.stdin("tok-ok\n");
        let out = cli.run(
            &api,
            &[
                "auth",
                "-p",
                "personal",
                "-y",
                "--token-stdin",
                "-P",
                "proj-8",
            ],
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_has(
            &out.stderr,
            "[INFO] Kept the saved URL of profile 'personal' (pass -u/--url to change it)\n",
        );
        assert!(cli.read("auth.ini").contains("project = proj-8\n"));
        // Another type keeps nothing: a jwt profile asks for its URL.
        let mut other = Cli::new();
        other.write("auth.ini", before);
        other.stdin("tok-ok\n");
        let out = other.run(
            &api,
            &[
                "auth",
                "-p",
                "personal",
                "-y",
                "--type",
                "jwt",
                "--token-stdin",
            ],
        );
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert_has(&out.stderr, "'URL' prompt");
    }

    /// Issue 25 item 6: a first save under a name while no profile is
    /// active says how to make it active; otherwise nothing is said.
    #[test]
    fn a_save_while_no_profile_is_active_says_how_to_make_it_active() {
        let api = fake_api();
        let mut cli = Cli::new();
        let out = cli.run(
            &api,
            &[saving("tok-ok", "p"), vec!["-p", "personal"]].concat(),
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_ends(
            &out.stderr,
            "[INFO] No profile is active ('default' does not exist): `contree auth switch personal` makes this one active\n",
        );
        cli.run(&api, &["auth", "switch", "personal"]);
        let out = cli.run(&api, &[saving("tok-ok", "p"), vec!["-p", "work"]].concat());
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_lacks(&out.stderr, "is active");
        let mut fresh = Cli::new();
        let out = fresh.run(&api, &saving("tok-ok", "p"));
        assert_lacks(&out.stderr, "No profile is active");
        let mut overridden = Cli::new();
        overridden.env("CONTREE_PROFILE", "ci");
        let out = overridden.run(&api, &saving("tok-ok", "p"));
        assert_has(
            &out.stderr,
            "CONTREE_PROFILE='ci' names no profile: set CONTREE_PROFILE='default' to use this one",
        );
    }
}
