//! The one error type of every profile operation; it maps onto the WIT
//! `auth-error` variant, and its `Display` says what went wrong. What to do
//! next is data ([`Fix`], from [`AuthError::fix`]): the core words it in
//! terms of the request ([`Fix::words`]) and each face (CLI, MCP, WIT)
//! spells it in its own flags or fields. No face reads an error's text.

use std::fmt;

use crate::python::repr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// No profile of that name (the name).
    NotFound(String),
    /// The profile exists and overwriting was not allowed (the name).
    AlreadyExists(String),
    InvalidInput {
        field: String,
        message: String,
        /// What gets past the refusal, when something does.
        fix: Option<Fix>,
    },
    /// `line` is 1-based, 0 when the problem is the whole file.
    ConfigParse {
        path: String,
        line: u32,
        message: String,
    },
    /// whoami answered, but not with a usable 2xx.
    VerificationFailed {
        status: u16,
        message: String,
    },
    Network(String),
    Timeout(String),
    Io(String),
    /// The host did not grant what the operation needs (the config
    /// directory); the WIT face reports it as `io`.
    NotGranted {
        message: String,
        fix: Fix,
    },
}

/// The next step after an error, in terms of the request rather than of
/// one face's flags: the CLI spells [`Fix::Overwrite`] `-y/--force`, MCP
/// `overwrite: true`, WIT the `overwrite` field of the save-request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fix {
    /// The name matches no profile: list them to see the names.
    ListProfiles,
    /// A profile of that name exists: ask to overwrite it.
    Overwrite,
    /// Give a token, or set one of `TOKEN_VARS` where the operation runs.
    GiveToken,
    /// Give a URL, or set one of `URL_VARS`.
    GiveUrl,
    /// Give a project, or set one of `PROJECT_VARS`.
    GiveProject,
    /// The URL's scheme is not http or https.
    UseHttpScheme,
    /// The URL is malformed otherwise.
    CheckUrl,
    /// Plain http:// to another machine: use https://, or save the profile
    /// again with the consent to send the token in clear text.
    AllowInsecureHttp,
    /// The host grants no directory that holds the config home `dir`.
    GrantConfigDir { dir: String },
    /// No config home can be told from what the host passed: say which
    /// (a home variable, or one granted directory).
    NameConfigHome,
}

impl Fix {
    /// The next step in the core's words, for a face that has no spelling
    /// of its own.
    pub fn words(&self) -> String {
        use crate::config::variables::{
            HOME_VARIABLES, PROJECT_VARS, TOKEN_VARS, URL_VARS, one_of,
        };
        match self {
            Fix::ListProfiles => "list the profiles to see their names".into(),
            Fix::Overwrite => "set overwrite to replace it".into(),
            Fix::GiveToken => format!("pass one, or set {}", one_of(TOKEN_VARS)),
            Fix::GiveUrl => format!("pass one, or set {}", one_of(URL_VARS)),
            Fix::GiveProject => format!("pass one, or set {}", one_of(PROJECT_VARS)),
            Fix::UseHttpScheme => "give a URL that starts with http:// or https://".into(),
            Fix::CheckUrl => "check the URL".into(),
            Fix::AllowInsecureHttp => {
                "use https://, or save the profile again allowing insecure http".into()
            }
            Fix::GrantConfigDir { dir } => {
                format!("create {dir} and grant it to the host (read and write)")
            }
            Fix::NameConfigHome => format!(
                "grant the host one directory, or pass {}",
                HOME_VARIABLES.join(", ")
            ),
        }
    }
}

impl AuthError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AuthError::InvalidInput {
            field: field.to_string(),
            message: message.into(),
            fix: None,
        }
    }

    /// The same error with `fix` as its next step (for `InvalidInput`; the
    /// other variants' next steps follow from the variant).
    pub fn with_fix(mut self, next: Fix) -> Self {
        if let AuthError::InvalidInput { fix, .. } = &mut self {
            *fix = Some(next);
        }
        self
    }

    /// What to do next, when there is something to do.
    pub fn fix(&self) -> Option<Fix> {
        match self {
            AuthError::NotFound(_) => Some(Fix::ListProfiles),
            AuthError::AlreadyExists(_) => Some(Fix::Overwrite),
            AuthError::InvalidInput { fix, .. } => fix.clone(),
            AuthError::NotGranted { fix, .. } => Some(fix.clone()),
            _ => None,
        }
    }

    /// The message and the next step in the core's words: what a face
    /// with no spelling of its own shows.
    pub fn with_next_step(&self) -> String {
        with_step(self, self.fix().as_ref(), Fix::words)
    }
}

/// `message`, then the next step as one face spells it: how every face
/// joins the two.
pub fn with_step(
    message: impl fmt::Display,
    fix: Option<&Fix>,
    spell: impl FnOnce(&Fix) -> String,
) -> String {
    match fix {
        Some(fix) => format!("{message}: {}", spell(fix)),
        None => message.to_string(),
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::NotFound(name) => write!(f, "profile {} does not exist", repr(name)),
            AuthError::AlreadyExists(name) => write!(f, "profile {} already exists", repr(name)),
            AuthError::InvalidInput { message, .. } => f.write_str(message),
            AuthError::ConfigParse {
                path,
                line: 0,
                message,
            } => write!(f, "{path}: {message}"),
            AuthError::ConfigParse {
                path,
                line,
                message,
            } => write!(f, "{path}: line {line}: {message}"),
            AuthError::VerificationFailed { status: 0, message } => f.write_str(message),
            // The reference reports statuses below 400 this way (not `HTTP N: reason`).
            AuthError::VerificationFailed { status, .. }
                if *status < 400 && !(200..300).contains(status) =>
            {
                write!(f, "unexpected HTTP status {status}")
            }
            AuthError::VerificationFailed { status, message } => {
                write!(f, "HTTP {status}: {message}")
            }
            AuthError::Network(message)
            | AuthError::Timeout(message)
            | AuthError::Io(message)
            | AuthError::NotGranted { message, .. } => f.write_str(message),
        }
    }
}

impl std::error::Error for AuthError {}
