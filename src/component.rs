//! The component's two faces: `wasi:cli/run` (the CLI, `command` feature
//! only) and the typed functions the world exports. Both build a
//! [`Context`] from what the host passed (environment, preopens, `wasi:http`)
//! and call [`crate::api`].
//!
//! The cargo feature picks the world of `wit/`: `command` (default) exports
//! `wasi:cli/run` too; without it the build is the `tool` world, whose only
//! exports are the typed functions, none of which writes to stdout.

use std::io::Write;
use std::path::PathBuf;

use crate::api::{self, Context, ProfileView};
use crate::cli::log::Level;
use crate::config::env::{Environment, PROJECT_VARS, TOKEN_VARS, URL_VARS};
use crate::config::profile::{self, AuthType, Secret};
use crate::config::variables::one_of;
use crate::error::{AuthError, Fix, with_step};
use crate::http::wasi::WasiHttp;
use crate::probe::ProbeStatus;

/// The WASI interfaces the worlds import: bindings come from `wasip2`.
macro_rules! generate_world {
    ($world:tt) => {
        wit_bindgen::generate!({
            path: "wit",
            world: $world,
            with: {
                "wasi:cli/environment@0.2.12": wasip2::cli::environment,
                "wasi:cli/exit@0.2.12": wasip2::cli::exit,
                "wasi:cli/stdin@0.2.12": wasip2::cli::stdin,
                "wasi:cli/stdout@0.2.12": wasip2::cli::stdout,
                "wasi:cli/stderr@0.2.12": wasip2::cli::stderr,
                "wasi:cli/terminal-input@0.2.12": wasip2::cli::terminal_input,
                "wasi:cli/terminal-output@0.2.12": wasip2::cli::terminal_output,
                "wasi:cli/terminal-stdin@0.2.12": wasip2::cli::terminal_stdin,
                "wasi:cli/terminal-stdout@0.2.12": wasip2::cli::terminal_stdout,
                "wasi:cli/terminal-stderr@0.2.12": wasip2::cli::terminal_stderr,
                "wasi:clocks/monotonic-clock@0.2.12": wasip2::clocks::monotonic_clock,
                "wasi:clocks/wall-clock@0.2.12": wasip2::clocks::wall_clock,
                "wasi:filesystem/types@0.2.12": wasip2::filesystem::types,
                "wasi:filesystem/preopens@0.2.12": wasip2::filesystem::preopens,
                "wasi:io/error@0.2.12": wasip2::io::error,
                "wasi:io/poll@0.2.12": wasip2::io::poll,
                "wasi:io/streams@0.2.12": wasip2::io::streams,
                "wasi:random/insecure-seed@0.2.12": wasip2::random::insecure_seed,
                "wasi:http/types@0.2.12": wasip2::http::types,
                "wasi:http/outgoing-handler@0.2.12": wasip2::http::outgoing_handler,
            },
        });
    };
}

/// The world's types and its `Guest` trait: the typed functions are exported
/// by the world itself (see `wit/`), so they live at the root of the bindings.
/// Generated code: wit-bindgen lints its own modules off (`clippy::all`), but
/// not a world's root (the flattened `save-profile` export takes 14 arguments).
#[allow(clippy::all)]
mod wit {
    #[cfg(feature = "command")]
    generate_world!("contree:auth/command@0.3.0");
    #[cfg(not(feature = "command"))]
    generate_world!("contree:auth/tool@0.3.0");
}

struct Component;

#[cfg(feature = "command")]
impl wit::exports::wasi::cli::run::Guest for Component {
    fn run() -> Result<(), ()> {
        use std::io::{BufReader, Write};

        let args: Vec<String> = std::env::args().collect();
        let env = environment();
        let stdin = std::io::stdin();
        let mut stdin = BufReader::new(stdin.lock());
        let mut stdout = std::io::stdout().lock();
        let mut stderr = std::io::stderr().lock();
        let mut io = crate::cli::Io {
            stdin: &mut stdin,
            stdout: &mut stdout,
            stderr: &mut stderr,
            stdout_is_terminal: wasip2::cli::terminal_stdout::get_terminal_stdout().is_some(),
            stdin_is_terminal: wasip2::cli::terminal_stdin::get_terminal_stdin().is_some(),
        };
        let code = crate::cli::run(&args, &env, &mut io, &WasiHttp);
        let _ = stdout.flush();
        let _ = stderr.flush();
        match code {
            0 => Ok(()),
            1 => Err(()),
            code => {
                // Usage errors exit 2, which `exit(err)` cannot say.
                wasip2::cli::exit::exit_with_code(u8::try_from(code).unwrap_or(1));
                Err(())
            }
        }
    }
}

/// The environment variables and the guest paths of the preopened
/// directories, which `config::env` turns into the config home.
fn environment() -> Environment {
    let preopens = wasip2::filesystem::preopens::get_directories()
        .into_iter()
        .map(|(_descriptor, path)| PathBuf::from(path));
    Environment::new(std::env::vars()).with_preopens(preopens)
}

/// The context the environment points at, as for the CLI without `-c`.
fn context(transport: &WasiHttp) -> Result<Context<'_>, wit::AuthError> {
    Ok(Context::new(&environment(), None, transport)?)
}

/// The typed functions never write to stdout; what the user should be told
/// (such as: auth.ini was written with the host's default file mode) goes
/// to stderr as log lines, where hosts collect a component's logs.
fn warn(warnings: &[String]) {
    let mut stderr = std::io::stderr();
    for warning in warnings {
        let _ = stderr.write_all(Level::Warning.line(warning).as_bytes());
    }
}

/// The next step in this face's words: the typed functions, their
/// request fields, and how the host at hand grants what is missing. The
/// tool build is served by hosts that turn exports into tools (Wassette);
/// the command build by `wasmtime run` and embeddings that preopen.
fn spell(fix: &Fix) -> String {
    const TOOL_HOST: bool = cfg!(not(feature = "command"));
    let grant = |dir: &str| {
        if TOOL_HOST {
            format!(
                "grant it to this component: wassette permission grant storage COMPONENT_ID fs://{dir} --access read,write"
            )
        } else {
            format!("create it and preopen it (wasmtime run --dir {dir} ...)")
        }
    };
    let host_env = if TOOL_HOST {
        "in the host's environment (with Wassette: a granted environment variable or a secret)"
    } else {
        "in the host's environment"
    };
    match fix {
        Fix::ListProfiles => "call list-profiles to see the profiles' names".into(),
        Fix::Overwrite => "call save-profile again with overwrite set to true".into(),
        Fix::GiveToken => format!("set token, or {} {host_env}", one_of(TOKEN_VARS)),
        Fix::GiveUrl => format!("set url, or {} {host_env}", one_of(URL_VARS)),
        Fix::GiveProject => format!("set project, or {} {host_env}", one_of(PROJECT_VARS)),
        Fix::UseHttpScheme => "give a url that starts with http:// or https://".into(),
        Fix::CheckUrl => {
            "give a working url (for a saved profile: save-profile again with it and overwrite set to true)"
                .into()
        }
        Fix::AllowInsecureHttp => {
            "use an https:// url, or call save-profile again with allow-insecure-http (and overwrite) set to true"
                .into()
        }
        Fix::GrantConfigDir { dir } => grant(dir),
        Fix::NameConfigHome if TOOL_HOST => {
            "grant this component one storage directory only, or grant it CONTREE_HOME: wassette permission grant environment-variable COMPONENT_ID CONTREE_HOME"
                .into()
        }
        Fix::NameConfigHome => {
            "preopen only the config directory, or pass CONTREE_HOME (wasmtime run --dir DIR --env CONTREE_HOME=DIR ...)"
                .into()
        }
    }
}

impl From<AuthError> for wit::AuthError {
    fn from(err: AuthError) -> Self {
        // `not-found` and `already-exists` are their own next steps (the
        // variant says which call fixes them); the text variants carry it.
        let fix = err.fix();
        match err {
            AuthError::NotFound(name) => wit::AuthError::NotFound(name),
            AuthError::AlreadyExists(name) => wit::AuthError::AlreadyExists(name),
            AuthError::InvalidInput { field, message, .. } => {
                wit::AuthError::InvalidInput(wit::InvalidField {
                    field,
                    message: with_step(message, fix.as_ref(), spell),
                })
            }
            AuthError::ConfigParse {
                path,
                line,
                message,
            } => wit::AuthError::ConfigParse(wit::ParseError {
                path,
                // The core says 0 for "not about one line".
                line: (line != 0).then_some(line),
                message,
            }),
            AuthError::VerificationFailed { status, message } => {
                wit::AuthError::VerificationFailed(wit::HttpFailure {
                    // The core says 0 when no request was made.
                    status: (status != 0).then_some(status),
                    message,
                })
            }
            AuthError::Network(m) => wit::AuthError::Network(m),
            AuthError::Timeout(m) => wit::AuthError::Timeout(m),
            AuthError::Io(m) => wit::AuthError::Io(m),
            AuthError::NotGranted { message, .. } => {
                wit::AuthError::Io(with_step(message, fix.as_ref(), spell))
            }
        }
    }
}

fn auth_type(name: &str) -> wit::AuthType {
    match AuthType::from_file(name) {
        AuthType::Iam => wit::AuthType::Iam,
        AuthType::Jwt => wit::AuthType::Jwt,
    }
}

fn profile(view: ProfileView) -> wit::Profile {
    // The core's views carry the CLI's text: "" for no project and the
    // `<no token>` placeholder for no token; WIT says none.
    let no_token = profile::token_sha256(None);
    wit::Profile {
        auth_type: auth_type(&view.auth_type),
        name: view.name,
        url: view.url,
        project: Some(view.project).filter(|p| !p.is_empty()),
        token_sha256: Some(view.token_sha256).filter(|sha| *sha != no_token),
        active: view.active,
    }
}

impl wit::Guest for Component {
    fn list_profiles(offline: bool) -> Result<wit::Listing, wit::AuthError> {
        let listing = context(&WasiHttp)?.list_profiles(offline)?;
        Ok(wit::Listing {
            profiles: listing
                .profiles
                .into_iter()
                .map(|entry| wit::ProfileStatus {
                    profile: profile(entry.profile),
                    status: match entry.probe.status {
                        ProbeStatus::Ok => wit::ProbeStatus::Ok,
                        ProbeStatus::Inactive => wit::ProbeStatus::Inactive,
                        ProbeStatus::Timeout => wit::ProbeStatus::Timeout,
                        ProbeStatus::Error => wit::ProbeStatus::Error,
                        ProbeStatus::Offline => wit::ProbeStatus::Offline,
                    },
                    detail: entry.probe.reason(spell),
                })
                .collect(),
            active: listing.active_exists.then(|| listing.active.clone()),
            missing_active: (!listing.active_exists).then_some(listing.active),
        })
    }

    fn save_profile(request: wit::SaveRequest) -> Result<wit::SaveOutcome, wit::AuthError> {
        let env = environment();
        // What the caller left out comes from the host's environment (a
        // Wassette secret, for example), by the core's rule.
        let request = api::SaveInput {
            name: request.name,
            token: request.token.map(Secret::new),
            url: request.url,
            auth_type: match request.auth_type {
                wit::AuthType::Iam => AuthType::Iam,
                wit::AuthType::Jwt => AuthType::Jwt,
            },
            project: request.project,
            overwrite: request.overwrite,
            allow_insecure_http: request.allow_insecure_http,
        }
        .resolve(&env)?;
        let context = Context::new(&env, None, &WasiHttp)?;
        let outcome = context.save_profile(request, &mut |_| {})?;
        warn(&outcome.warnings);
        Ok(wit::SaveOutcome {
            profile: profile(outcome.profile),
            list_permission: outcome.list_permission,
            path: outcome.path,
            replaced: outcome.replaced,
        })
    }

    fn switch_profile(name: String) -> Result<(), wit::AuthError> {
        let context = context(&WasiHttp)?;
        warn(&context.switch_profile(&name)?);
        Ok(())
    }

    fn remove_profile(name: String) -> Result<wit::Removal, wit::AuthError> {
        let context = context(&WasiHttp)?;
        let removal = context.remove_profile(&name)?;
        warn(&removal.warnings);
        Ok(wit::Removal {
            removed: removal.removed,
            active: removal.active,
            deleted_files: removal.deleted_files,
        })
    }

    fn whoami(name: Option<String>) -> Result<wit::WhoamiInfo, wit::AuthError> {
        let info = context(&WasiHttp)?.whoami(name.as_deref(), &mut |_| {})?;
        Ok(wit::WhoamiInfo {
            token_uuid: info.token_uuid,
            token_expiration: info.token_expiration,
            permissions: info
                .permissions
                .into_iter()
                .map(|(name, granted)| wit::Permission { name, granted })
                .collect(),
            limits: named_counts(info.limits),
            operations_stat: named_counts(info.operations_stat),
        })
    }
}

fn named_counts(pairs: Vec<(String, i64)>) -> Vec<wit::NamedCount> {
    pairs
        .into_iter()
        .map(|(name, value)| wit::NamedCount { name, value })
        .collect()
}

wit::export!(Component with_types_in wit);
