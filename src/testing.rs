//! What the crate's own unit tests share, written once: a long test token,
//! the leak scan over it, and temporary directories that go away even when
//! a test panics.

use std::ops::Deref;
use std::path::{Path, PathBuf};

use crate::config::profile::Secret;
use crate::sanitize::MIN_FRAGMENT;

/// A 308-character token, as the issue measured.
pub fn long_token() -> Secret {
    let body: String = (0..300)
        .map(|i| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[i * 7 % 36]))
        .collect();
    Secret::new(format!("eyJhbGci{body}"))
}

/// Every run of [`MIN_FRAGMENT`] characters of `token` found in `text`
/// (SPEC §5: none may be shown).
pub fn fragments(text: &str, token: &str) -> Vec<String> {
    let chars: Vec<char> = token.chars().collect();
    chars
        .windows(MIN_FRAGMENT)
        .map(|w| w.iter().collect::<String>())
        .filter(|w| text.contains(w.as_str()))
        .collect()
}

/// Panics, naming `what`, if `text` holds a piece of `token`.
pub fn assert_no_fragment(what: &str, text: &str, token: &str) {
    let found = fragments(text, token);
    assert!(found.is_empty(), "{what} shows {:?}: {text}", found[0]);
}

/// A fresh directory under the system's temporary directory, removed when
/// dropped (a panicking test included). Derefs to its path.
pub struct TempDir {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

/// A [`TempDir`] whose name starts with `prefix`.
pub fn temp_dir(prefix: &str) -> TempDir {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("creating a temporary directory");
    TempDir {
        path: dir.path().to_path_buf(),
        _dir: dir,
    }
}

impl Deref for TempDir {
    type Target = PathBuf;

    fn deref(&self) -> &PathBuf {
        &self.path
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}
