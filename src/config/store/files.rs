//! Reading the config files as the store trusts them: not at all (SPEC §5).
//! A link is followed to the file it names (and kept), a FIFO or device is
//! refused before it is opened, a file over [`MAX_FILE_BYTES`] is refused.

use std::fs;
use std::io::{ErrorKind, Read};
use std::path::{Component, Path, PathBuf};

use super::super::ini::Document;
use super::base::{io_error, random_id};
use crate::error::AuthError;

/// Larger files are refused rather than read: 10,000 profiles take about 2 MiB.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// How many symbolic links are followed from auth.ini to its file (Linux's ELOOP limit).
const MAX_LINKS: usize = 40;

pub(super) fn is_real_dir(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

/// `path` with `.` and `..` taken out by their names (a link's relative
/// target is joined to the link's folder; WASI preopens refuse a `..` that
/// climbs out of them, so the path must not carry one).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other),
        }
    }
    out
}

/// The file a path names once its links are followed (dotfile managers link
/// auth.ini); the path itself when it is not a link or does not exist.
pub(super) fn resolve_links(path: &Path) -> Result<PathBuf, AuthError> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = fs::read_link(&current).map_err(|e| {
                    if e.kind() == ErrorKind::PermissionDenied {
                        // wasmtime will not say where an absolute link points.
                        AuthError::Io(format!(
                            "cannot follow the link {}: the host does not let the component read it (WASI hosts refuse links to absolute paths); make it a relative link (`ln -sr`) and give the component the folder it points into",
                            current.display()
                        ))
                    } else {
                        io_error(&current, "follow the link", &e)
                    }
                })?;
                let base = current.parent().unwrap_or(Path::new(""));
                current = normalize(&base.join(target));
            }
            Ok(_) => return Ok(current),
            Err(err) if err.kind() == ErrorKind::NotFound => return Ok(current),
            Err(err) => return Err(io_error(&current, "read", &err)),
        }
    }
    Err(AuthError::Io(format!(
        "cannot read {}: more than {MAX_LINKS} symbolic links in a row",
        path.display()
    )))
}

/// Reads and parses a config file; a missing file is an empty document.
/// `beat` runs between the file operations (the writer's lock heartbeat).
pub(super) fn read_document(path: &Path, beat: &dyn Fn()) -> Result<Document, AuthError> {
    read_resolved(&resolve_links(path)?, beat)
}

/// [`read_document`] of a path whose links are already followed.
pub(super) fn read_resolved(path: &Path, beat: &dyn Fn()) -> Result<Document, AuthError> {
    beat();
    let parse_error = |line: usize, message: String| AuthError::ConfigParse {
        path: path.display().to_string(),
        line: u32::try_from(line).unwrap_or(u32::MAX),
        message,
    };
    // Looked at before it is opened: opening a FIFO would wait for a writer forever.
    let metadata = match fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(Document::default()),
        Err(err) => return Err(io_error(path, "read", &err)),
    };
    beat();
    if metadata.is_dir() {
        return Err(AuthError::Io(format!(
            "cannot read {}: it is a directory, not a file",
            path.display()
        )));
    }
    if !metadata.is_file() {
        return Err(AuthError::Io(format!(
            "cannot read {}: it is not a regular file (a FIFO, socket or device?); refusing to open it",
            path.display()
        )));
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(parse_error(
            0,
            format!(
                "the file is {} bytes, over the {MAX_FILE_BYTES}-byte limit for a config file",
                metadata.len()
            ),
        ));
    }
    beat();
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    let file = fs::File::open(path).map_err(|err| io_error(path, "read", &err))?;
    let mut file = Read::take(file, MAX_FILE_BYTES + 1);
    // Straight into `bytes`, 64 KiB at a time, with a heartbeat before each.
    loop {
        beat();
        match (&mut file).take(64 * 1024).read_to_end(&mut bytes) {
            Ok(0) => break,
            Ok(_) => {}
            Err(err) => return Err(io_error(path, "read", &err)),
        }
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(parse_error(
            0,
            format!("the file grew over the {MAX_FILE_BYTES}-byte limit while it was read"),
        ));
    }
    let text = String::from_utf8(bytes).map_err(|err| {
        let valid = &err.as_bytes()[..err.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        parse_error(line, "not valid UTF-8 text".into())
    })?;
    Document::parse(&text).map_err(|err| parse_error(err.line, err.message))
}

/// Issue 20 item 2: what would stop the write is found out before the
/// token is sent anywhere. Where the folder of auth.ini exists, a probe file
/// is created and removed there (named like the store's temporary files, so
/// one a crash leaves behind is removed by the next write); where it does
/// not, its nearest existing ancestor must be a folder the store can create
/// it in.
pub(super) fn check_writable(auth_path: &Path) -> Result<(), AuthError> {
    let Some(dir) = auth_path.parent() else {
        return Ok(());
    };
    let shown =
        |path: &Path| crate::sanitize::escape_controls(&path.to_string_lossy()).into_owned();
    let refuse = |path: &Path, why: String| {
        Err(AuthError::Io(format!(
            "cannot write the config in {}: {why}; nothing was sent",
            shown(path)
        )))
    };
    let mut existing = dir;
    while std::fs::symlink_metadata(existing).is_err() {
        match existing.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => existing = parent,
            _ => return Ok(()),
        }
    }
    if !std::fs::metadata(existing).is_ok_and(|m| m.is_dir()) {
        return refuse(dir, format!("{} is not a directory", shown(existing)));
    }
    if existing != dir {
        // The store creates the missing folders when it writes.
        return Ok(());
    }
    let file_name = auth_path
        .file_name()
        .map_or("auth.ini".into(), |n| n.to_string_lossy());
    let probe = dir.join(format!(".{file_name}.{}.tmp", random_id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(file) => {
            drop(file);
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(err) => refuse(dir, err.to_string()),
    }
}
