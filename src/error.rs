//! The one error type of every profile operation; it maps one to one onto the
//! WIT `auth-error` variant, and its `Display` is the CLI's one-line message.

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
}

impl AuthError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AuthError::InvalidInput {
            field: field.to_string(),
            message: message.into(),
        }
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
            AuthError::Network(message) | AuthError::Timeout(message) | AuthError::Io(message) => {
                f.write_str(message)
            }
        }
    }
}

impl std::error::Error for AuthError {}
