//! The component's two faces: `wasi:cli/run` (the CLI) and the typed
//! `contree:auth/profiles` interface. Both build a [`Context`] from what the
//! host passed (environment, preopens, `wasi:http`) and call [`crate::api`].

use std::io::{BufReader, Write};

use crate::api::{self, Context, ProfileView};
use crate::cli;
use crate::config::env::Environment;
use crate::config::profile::{AuthType, Secret};
use crate::error::AuthError;
use crate::http::wasi::WasiHttp;
use crate::probe::ProbeStatus;

wit_bindgen::generate!({
    path: "wit",
    world: "contree-auth",
});

use exports::contree::auth::profiles as wit;

struct Component;

impl wasip2::exports::cli::run::Guest for Component {
    fn run() -> Result<(), ()> {
        let args: Vec<String> = std::env::args().collect();
        let env = Environment::new(std::env::vars());
        let stdin = std::io::stdin();
        let mut stdin = BufReader::new(stdin.lock());
        let mut stdout = std::io::stdout().lock();
        let mut stderr = std::io::stderr().lock();
        let mut io = cli::Io {
            stdin: &mut stdin,
            stdout: &mut stdout,
            stderr: &mut stderr,
            stdout_is_terminal: wasip2::cli::terminal_stdout::get_terminal_stdout().is_some(),
        };
        let code = cli::run(&args, &env, &mut io, &WasiHttp);
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

wasip2::cli::command::export!(Component);

/// The context the environment points at, as for the CLI without `-c`.
fn context(transport: &WasiHttp) -> Result<Context<'_>, wit::AuthError> {
    let env = Environment::new(std::env::vars());
    Ok(Context::new(&env, None, transport)?)
}

impl From<AuthError> for wit::AuthError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::NotFound(name) => wit::AuthError::NotFound(name),
            AuthError::AlreadyExists(name) => wit::AuthError::AlreadyExists(name),
            AuthError::InvalidInput { field, message } => {
                wit::AuthError::InvalidInput(wit::InvalidField { field, message })
            }
            AuthError::ConfigParse {
                path,
                line,
                message,
            } => wit::AuthError::ConfigParse(wit::ParseError {
                path,
                line,
                message,
            }),
            AuthError::VerificationFailed { status, message } => {
                wit::AuthError::VerificationFailed(wit::HttpFailure { status, message })
            }
            AuthError::Network(m) => wit::AuthError::Network(m),
            AuthError::Timeout(m) => wit::AuthError::Timeout(m),
            AuthError::Io(m) => wit::AuthError::Io(m),
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
    wit::Profile {
        auth_type: auth_type(&view.auth_type),
        name: view.name,
        url: view.url,
        project: view.project,
        token_sha256: view.token_sha256,
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
                    detail: entry.probe.detail,
                })
                .collect(),
            active: listing.active,
            active_exists: listing.active_exists,
        })
    }

    fn save_profile(request: wit::SaveRequest) -> Result<wit::SaveOutcome, wit::AuthError> {
        let request = api::SaveRequest {
            name: request.name,
            token: Secret::new(request.token),
            url: request.url,
            auth_type: match request.auth_type {
                wit::AuthType::Iam => AuthType::Iam,
                wit::AuthType::Jwt => AuthType::Jwt,
            },
            project: request.project,
            overwrite: request.overwrite,
            allow_insecure_http: request.allow_insecure_http,
        };
        let outcome = context(&WasiHttp)?.save_profile(request, &mut |_| {})?;
        Ok(wit::SaveOutcome {
            profile: profile(outcome.profile),
            list_permission: outcome.list_permission,
            path: outcome.path,
            replaced: outcome.replaced,
        })
    }

    fn switch_profile(name: String) -> Result<(), wit::AuthError> {
        Ok(context(&WasiHttp)?.switch_profile(&name)?)
    }

    fn remove_profile(name: String) -> Result<wit::Removal, wit::AuthError> {
        let removal = context(&WasiHttp)?.remove_profile(&name)?;
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
            permissions: info.permissions,
            limits: info.limits,
            operations_stat: info.operations_stat,
        })
    }
}

export!(Component);
