//! The atomic replace of the config file, conditional on the lock: the new
//! text is written and synced into the lock owner's file inside the lock
//! directory, then renamed over the file. The rename is the commit, and it
//! is also the check that the lock is still this run's (see `lock.rs`).

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::Path;

use super::base::io_error;
use super::lock::Lock;
use crate::error::AuthError;

/// Why a commit did not happen.
pub(super) enum Attempt {
    /// Nothing was written because the lock was no longer ours: try again.
    LockLost(AuthError),
    Failed(AuthError),
}

impl From<AuthError> for Attempt {
    fn from(err: AuthError) -> Self {
        Attempt::Failed(err)
    }
}

/// Host file systems that cannot sync say so with these; everything else is a real failure.
fn sync_unsupported(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        ErrorKind::Unsupported | ErrorKind::InvalidInput | ErrorKind::PermissionDenied
    ) || err.raw_os_error() == Some(58) // ENOTSUP on WASI
}

/// Replaces `target` (the file itself, links already followed) with
/// `bytes`, only while `lock` is still held: the text goes into the lock's
/// own file, which is then renamed over `target`. On any failure `target`
/// is untouched, and dropping the lock removes the file.
pub(super) fn replace(lock: &mut Lock, target: &Path, bytes: &[u8]) -> Result<(), Attempt> {
    let written = match lock.file() {
        Some(mut file) => (|| {
            file.write_all(bytes)?;
            lock.beat();
            match file.sync_all() {
                Err(err) if !sync_unsupported(&err) => Err(err),
                _ => Ok(()),
            }
        })(),
        None => Err(ErrorKind::NotFound.into()),
    };
    lock.beat();
    match written.and_then(|()| fs::rename(lock.new_file(), target)) {
        Ok(()) => lock.committed(),
        // The lock's directory is gone, or is another run's: it was broken.
        Err(err) if err.kind() == ErrorKind::NotFound => {
            return Err(Attempt::LockLost(lock_lost(lock)));
        }
        Err(err) => return Err(Attempt::Failed(io_error(target, "write", &err))),
    }
    // The rename is durable once the folder is synced; hosts that cannot
    // open or sync a folder (WASI may refuse) keep what POSIX promised.
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        match fs::File::open(dir).and_then(|d| d.sync_all()) {
            Err(err) if !sync_unsupported(&err) && err.kind() != ErrorKind::IsADirectory => {
                return Err(Attempt::Failed(io_error(
                    dir,
                    "sync (auth.ini was replaced, but may not survive a power loss)",
                    &err,
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

fn lock_lost(lock: &Lock) -> AuthError {
    AuthError::Io(format!(
        "this run stalled and another run took over {}; nothing was written (a newer change may be there): run the command again",
        lock.dir().display()
    ))
}
