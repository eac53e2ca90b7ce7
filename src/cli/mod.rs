//! The text front end: resolves every input (flag > environment > prompt),
//! calls the shared operations of [`crate::api`], and prints what the
//! reference CLI prints. Data goes to stdout, log lines to stderr.

pub mod args;
pub mod log;

use std::io::{BufRead, Write};
use std::path::PathBuf;

use self::args::{AuthAction, AuthArgs, Command};
use self::log::Level;
use crate::api::{Context, Listing, SaveRequest};
use crate::config::env::Environment;
use crate::config::profile::{AUTH_TYPE_IAM, DEFAULT_PROFILE, Secret};
use crate::config::store::Store;
use crate::error::AuthError;
use crate::http::Transport;
use crate::output::{self, Format, Row, Value};
use crate::python::repr;

pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILURE: i32 = 1;
pub const EXIT_USAGE: i32 = 2;

/// The streams of one run.
pub struct Io<'a> {
    pub stdin: &'a mut dyn BufRead,
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn Write,
    pub stdout_is_terminal: bool,
}

/// Runs one command line (argv[0] included) and returns the exit code.
pub fn run(args: &[String], env: &Environment, io: &mut Io<'_>, transport: &dyn Transport) -> i32 {
    let cli = match args::parse(args) {
        Ok(cli) => cli,
        Err(err) => {
            let text = err.render().to_string();
            let stream: &mut dyn Write = if err.use_stderr() {
                io.stderr
            } else {
                io.stdout
            };
            let _ = stream.write_all(text.as_bytes());
            return err.exit_code();
        }
    };
    let auth = match cli.command {
        Command::Auth(auth) => auth,
        Command::Mcp { .. } => {
            let store = locate_store(env, cli.config.as_deref());
            return crate::mcp::serve(io.stdin, io.stdout, io.stderr, env, store, transport);
        }
    };
    let format = Format::parse(&cli.format).unwrap_or(Format::Default);
    let mut front = Front {
        io,
        level: Level::parse(&cli.log_level),
        format,
    };
    let Some(store) = locate_store(env, cli.config.as_deref()) else {
        front.log(
            Level::Error,
            "cannot find the config directory: set CONTREE_HOME (or HOME) and give the component access to it (wasmtime run --dir DIR --env CONTREE_HOME=DIR)",
        );
        return EXIT_FAILURE;
    };
    let context = Context {
        store,
        transport,
        profile_override: env.get("CONTREE_PROFILE").map(str::to_string),
    };
    let code = match auth.action {
        None => front.save(&context, env, auth),
        Some(AuthAction::List { offline, .. }) => front.list(&context, offline),
        Some(AuthAction::Switch { profile_name, .. }) => front.switch(&context, &profile_name),
        Some(AuthAction::Remove {
            profile_name,
            force,
            ..
        }) => front.remove(&context, &profile_name, force),
    };
    let _ = front.io.stdout.flush();
    code
}

fn locate_store(env: &Environment, config: Option<&str>) -> Option<Store> {
    let config = config.map(|path| env.expand_user(path));
    let home = env
        .contree_home()
        .or_else(|| config.as_ref().and_then(|c| c.parent().map(PathBuf::from)))?;
    Some(Store::new(home, config))
}

struct Front<'io, 'a> {
    io: &'io mut Io<'a>,
    level: Level,
    format: Format,
}

impl Front<'_, '_> {
    fn log(&mut self, level: Level, message: &str) {
        if level >= self.level {
            let _ = writeln!(self.io.stderr, "[{}] {message}", level.label());
        }
    }

    fn fail(&mut self, message: &str) -> i32 {
        self.log(Level::Error, message);
        EXIT_FAILURE
    }

    fn print(&mut self, text: &str) {
        let _ = self.io.stdout.write_all(text.as_bytes());
    }

    /// A line from stdin after a prompt; `None` at end of input.
    fn prompt(&mut self, prompt: &str, on_stderr: bool) -> Option<String> {
        let stream: &mut dyn Write = if on_stderr {
            self.io.stderr
        } else {
            self.io.stdout
        };
        let _ = stream.write_all(prompt.as_bytes());
        let _ = stream.flush();
        let mut line = String::new();
        match self.io.stdin.read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim_end_matches(['\n', '\r']).to_string()),
        }
    }

    /// The reference's `ask(title, "y", "n", default="n")`: true only for y/Y.
    fn confirm(&mut self, title: &str) -> bool {
        loop {
            let Some(answer) = self.prompt(&format!("{title} [y/N] "), false) else {
                return false;
            };
            match answer.trim().to_lowercase().as_str() {
                "y" => return true,
                "" | "n" => return false,
                _ => self.print("Please answer one of: y, n\n"),
            }
        }
    }

    /// Flag > environment variables (logging which one) > nothing.
    fn flag_or_env(
        &mut self,
        flag: Option<String>,
        env: &Environment,
        names: &[&str],
        what: &str,
    ) -> Option<String> {
        if let Some(value) = flag.filter(|v| !v.is_empty()) {
            return Some(value);
        }
        let (name, value) = names.iter().find_map(|name| Some((name, env.get(name)?)))?;
        self.log(Level::Info, &format!("Using {what} from {name}"));
        Some(value.to_string())
    }

    fn save(&mut self, context: &Context<'_>, env: &Environment, auth: AuthArgs) -> i32 {
        let name = auth
            .profile
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| DEFAULT_PROFILE.to_string());
        if let Err(err) = crate::api::validate_name(&name) {
            return self.fail(&err.to_string());
        }
        let exists = match context.profile_exists(&name) {
            Ok(exists) => exists,
            Err(err) => return self.fail(&err.to_string()),
        };
        let action = if exists { "Updating" } else { "Setting" };
        self.log(
            Level::Info,
            &format!(
                "{action} token for profile {} (type: {})",
                repr(&name),
                auth.auth_type
            ),
        );
        if exists
            && !auth.force
            && !self.confirm(&format!(
                "Profile {} already exists. Overwrite?",
                repr(&name)
            ))
        {
            self.print("Aborted.\n");
            return EXIT_FAILURE;
        }

        let token = if auth.token_stdin {
            let mut text = String::new();
            if self.io.stdin.read_to_string(&mut text).is_err() {
                return self.fail("--token-stdin: standard input is not UTF-8 text");
            }
            text.trim_end_matches(['\n', '\r']).to_string()
        } else {
            match self.flag_or_env(
                auth.token,
                env,
                &["CONTREE_TOKEN", "NEBIUS_API_KEY"],
                "token",
            ) {
                Some(token) => token,
                None => match self.prompt("Token: ", true) {
                    Some(token) => token,
                    None => {
                        return self
                            .fail("no token given: standard input ended at the 'Token:' prompt");
                    }
                },
            }
        };
        let is_iam = auth.auth_type == AUTH_TYPE_IAM;
        let url = match self.flag_or_env(auth.url, env, &["CONTREE_URL"], "URL") {
            Some(url) => Some(url),
            None if is_iam => None,
            None => match self.prompt("URL: ", false).map(|u| u.trim().to_string()) {
                Some(url) if !url.trim_end_matches('/').is_empty() => Some(url),
                _ => return self.fail("URL is required for JWT auth"),
            },
        };
        let project = if is_iam {
            match self.flag_or_env(
                auth.project,
                env,
                &["CONTREE_PROJECT", "NEBIUS_AI_PROJECT"],
                "project",
            ) {
                Some(project) => Some(project),
                None => self
                    .prompt("Project ID: ", false)
                    .map(|p| p.trim().to_string()),
            }
        } else {
            None
        };

        let request = SaveRequest {
            name: name.clone(),
            token: Secret::new(token),
            url,
            auth_type: auth.auth_type.clone(),
            project,
            overwrite: exists,
            allow_insecure_http: auth.allow_insecure_http,
        };
        let mut notes = Vec::new();
        let saved = context.save_profile(request, &mut |note| notes.push(note.to_string()));
        for note in notes {
            self.log(Level::Info, &note);
        }
        match saved {
            Ok(outcome) => {
                if !outcome.list_permission {
                    let label = if outcome.profile.project.is_empty() {
                        outcome.profile.url.clone()
                    } else {
                        outcome.profile.project.clone()
                    };
                    self.log(
                        Level::Warning,
                        &format!(
                            "Warning: token is valid but sandboxes are disabled on {label} (no 'list' permission). The profile will be saved but no commands will work until the service is enabled."
                        ),
                    );
                }
                self.log(
                    Level::Info,
                    &format!(
                        "auth accepted, profile {} saved to -> {}",
                        repr(&name),
                        outcome.path
                    ),
                );
                EXIT_OK
            }
            Err(
                err @ (AuthError::VerificationFailed { .. }
                | AuthError::Network(_)
                | AuthError::Timeout(_)),
            ) => self.fail(&format!(
                "Token verification failed: {err}. Profile not changed."
            )),
            Err(err) => self.fail(&err.to_string()),
        }
    }

    fn list(&mut self, context: &Context<'_>, offline: bool) -> i32 {
        self.log(Level::Info, "Configured profiles (* stands for active)");
        let listing = match context.list_profiles(offline) {
            Ok(listing) => listing,
            Err(err) => return self.fail(&err.to_string()),
        };
        if listing.profiles.is_empty() {
            if self.format.is_machine() {
                let _ = writeln!(self.io.stderr, "No profiles configured.");
                let empty = self.format.empty();
                self.print(empty);
            } else {
                self.print("No profiles configured.\n");
            }
            return EXIT_OK;
        }
        if !listing.active_exists {
            self.log(
                Level::Warning,
                &format!(
                    "Active profile {} does not exist in config",
                    repr(&listing.active)
                ),
            );
        }
        for entry in &listing.profiles {
            if let Some(detail) = &entry.probe.detail {
                let message = format!(
                    "profile {}: {}: {detail}",
                    repr(&entry.profile.name),
                    entry.probe.status.as_str()
                );
                self.log(Level::Debug, &message);
            }
        }
        let rows = rows(&listing, self.format.has_detail());
        let text = output::render(self.format, &rows, self.io.stdout_is_terminal);
        self.print(&text);
        EXIT_OK
    }

    fn switch(&mut self, context: &Context<'_>, name: &str) -> i32 {
        match context.switch_profile(name) {
            Ok(()) => {
                self.log(Level::Info, &format!("Switched to profile {}", repr(name)));
                EXIT_OK
            }
            Err(err) => self.fail(&err.to_string()),
        }
    }

    fn remove(&mut self, context: &Context<'_>, name: &str, force: bool) -> i32 {
        match context.profile_exists(name) {
            Ok(true) => {}
            Ok(false) => return self.fail(&format!("Profile {} does not exist", repr(name))),
            Err(err) => return self.fail(&err.to_string()),
        }
        if !force && !self.confirm(&format!("Remove profile {}?", repr(name))) {
            self.print("Aborted.\n");
            return EXIT_FAILURE;
        }
        match context.remove_profile(name) {
            Ok(removal) => {
                for file in &removal.deleted_files {
                    self.log(Level::Debug, &format!("Deleted session database {file}"));
                }
                self.log(Level::Info, &format!("Removed profile {}", repr(name)));
                EXIT_OK
            }
            Err(AuthError::NotFound(_)) => {
                self.fail(&format!("Profile {} does not exist", repr(name)))
            }
            Err(err) => self.fail(&err.to_string()),
        }
    }
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
                row.push(("detail", entry.probe.detail.as_deref().unwrap_or("").into()));
            }
            row
        })
        .collect()
}
