//! The store's lowest room: how its files are named (a path's last
//! component, the random ids of working files) and how a failed file call
//! is worded. `files`, `lock` and `atomic` stand on it; it stands on none
//! of them.

use std::hash::{BuildHasher, RandomState};
use std::io::ErrorKind;
use std::path::Path;
use std::time::SystemTime;

use crate::error::AuthError;

pub(super) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// 16 random hex digits (the hasher's keys come from the host's randomness).
pub(super) fn random_id() -> String {
    format!("{:016x}", RandomState::new().hash_one(SystemTime::now()))
}

pub(super) fn io_error(path: &Path, what: &str, err: &std::io::Error) -> AuthError {
    let hint = if err.kind() == ErrorKind::PermissionDenied || err.raw_os_error() == Some(76) {
        " (is its directory preopened, e.g. `wasmtime run --dir DIR`?)"
    } else {
        ""
    };
    AuthError::Io(format!(
        "cannot {what} {}: {}{hint}",
        path.display(),
        describe(err)
    ))
}

fn describe(err: &std::io::Error) -> String {
    match err.kind() {
        ErrorKind::NotFound => "no such file or directory".into(),
        ErrorKind::PermissionDenied => "permission denied".into(),
        ErrorKind::IsADirectory => "it is a directory".into(),
        _ => err.to_string(),
    }
}
