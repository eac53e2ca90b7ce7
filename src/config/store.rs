//! The profile store: reads `cli.ini` + `auth.ini`, and changes `auth.ini`
//! under a lock file with an atomic replace, so concurrent runs lose no
//! profile and a crash never leaves a half-written file.
//!
//! This is the only module that touches the file system.

use std::fs::{self, OpenOptions};
use std::hash::{BuildHasher, RandomState};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use super::ini::Document;
use super::profile::{self, Profile};
use crate::error::AuthError;

/// Larger files are refused rather than read: 10,000 profiles take about 2 MiB.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// A lock file older than this was left by a process that died mid-write
/// (a read-modify-write cycle takes milliseconds).
pub const STALE_LOCK_AGE: Duration = Duration::from_secs(10);
/// How long to wait for another run's lock before giving up.
pub const LOCK_WAIT: Duration = Duration::from_secs(15);

/// Where the files are.
#[derive(Debug, Clone)]
pub struct Store {
    /// `CONTREE_HOME`: session databases live here.
    pub home: PathBuf,
    pub auth_path: PathBuf,
    pub cli_path: PathBuf,
}

/// Profiles as every command sees them: `cli.ini` with `auth.ini` over it.
#[derive(Debug)]
pub struct Loaded {
    pub profiles: Vec<Profile>,
    /// `[DEFAULT] profile`, or `default`.
    pub recorded_active: String,
}

impl Loaded {
    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.name == name)
    }
}

impl Store {
    /// `auth_path` defaults to `home/auth.ini`; `cli.ini` sits beside `auth.ini`.
    pub fn new(home: PathBuf, auth_path: Option<PathBuf>) -> Store {
        let auth_path = auth_path.unwrap_or_else(|| home.join("auth.ini"));
        let cli_path = auth_path
            .parent()
            .map(|dir| dir.join("cli.ini"))
            .unwrap_or_else(|| PathBuf::from("cli.ini"));
        Store {
            home,
            auth_path,
            cli_path,
        }
    }

    pub fn load(&self) -> Result<Loaded, AuthError> {
        let mut merged = read_document(&self.cli_path)?;
        let auth = read_document(&self.auth_path)?;
        merged.merge(&auth);
        let profiles = profile::read_profiles(&merged).map_err(|bad| AuthError::ConfigParse {
            path: self.auth_path.display().to_string(),
            line: 0,
            message: format!("[{}]: {}", bad.section, bad.message),
        })?;
        Ok(Loaded {
            profiles,
            recorded_active: profile::recorded_active(&merged),
        })
    }

    /// Runs one read-modify-write cycle of `auth.ini` under the lock. The
    /// file is rewritten only when `change` succeeds.
    pub fn modify<T>(
        &self,
        change: impl FnOnce(&mut Document) -> Result<T, AuthError>,
    ) -> Result<T, AuthError> {
        let _lock = Lock::acquire(&self.auth_path)?;
        let mut doc = read_document(&self.auth_path)?;
        let result = change(&mut doc)?;
        write_atomically(&self.auth_path, doc.write().as_bytes())?;
        Ok(result)
    }

    /// Deletes the session databases of a profile, both layouts; returns what was deleted.
    pub fn remove_session_databases(&self, name: &str) -> Vec<String> {
        let current = self
            .home
            .join("cli")
            .join("sessions")
            .join(format!("{name}.db"));
        let legacy = self.home.join(format!("sessions-{name}.db"));
        let mut deleted = Vec::new();
        for base in [current, legacy] {
            for suffix in ["", "-wal", "-shm"] {
                let mut path = base.clone().into_os_string();
                path.push(suffix);
                let path = PathBuf::from(path);
                if fs::remove_file(&path).is_ok() {
                    deleted.push(path.display().to_string());
                }
            }
        }
        deleted
    }
}

fn io_error(path: &Path, what: &str, err: &std::io::Error) -> AuthError {
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

/// Reads and parses a config file; a missing file is an empty document.
fn read_document(path: &Path) -> Result<Document, AuthError> {
    let parse_error = |line: usize, message: String| AuthError::ConfigParse {
        path: path.display().to_string(),
        line: u32::try_from(line).unwrap_or(u32::MAX),
        message,
    };
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(Document::default()),
        Err(err) => return Err(io_error(path, "read", &err)),
    };
    if metadata.is_dir() {
        return Err(AuthError::Io(format!(
            "cannot read {}: it is a directory, not a file",
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
    let bytes = fs::read(path).map_err(|err| io_error(path, "read", &err))?;
    let text = String::from_utf8(bytes).map_err(|err| {
        let valid = &err.as_bytes()[..err.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        parse_error(line, "not valid UTF-8 text".into())
    })?;
    Document::parse(&text).map_err(|err| parse_error(err.line, err.message))
}

/// A per-process random suffix for temporary and lock file contents.
fn random_suffix() -> String {
    format!("{:016x}", RandomState::new().hash_one(SystemTime::now()))
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), AuthError> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(".{file_name}.{}.tmp", random_suffix()));
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(bytes)?;
        // Not every host implements sync; the rename is what must be atomic.
        let _ = file.sync_all();
        drop(file);
        fs::rename(&temp, path)
    })();
    written.map_err(|err| {
        let _ = fs::remove_file(&temp);
        io_error(path, "write", &err)
    })
}

/// `auth.ini.lock`, created exclusively; deleted when dropped.
struct Lock {
    path: PathBuf,
}

impl Lock {
    fn acquire(config: &Path) -> Result<Lock, AuthError> {
        let mut path = config.as_os_str().to_owned();
        path.push(".lock");
        let path = PathBuf::from(path);
        let started = Instant::now();
        let mut pause = Duration::from_millis(2);
        let mut created_dir = false;
        loop {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut file) => {
                    let _ = file.write_all(random_suffix().as_bytes());
                    return Ok(Lock { path });
                }
                Err(err) if err.kind() == ErrorKind::AlreadyExists => {
                    if Self::is_stale(&path) {
                        let _ = fs::remove_file(&path);
                        continue;
                    }
                }
                Err(err) if err.kind() == ErrorKind::NotFound && !created_dir => {
                    created_dir = true;
                    if let Some(dir) = config.parent().filter(|d| !d.as_os_str().is_empty()) {
                        fs::create_dir_all(dir).map_err(|e| io_error(dir, "create", &e))?;
                    }
                    continue;
                }
                Err(err) => return Err(io_error(&path, "create the lock file", &err)),
            }
            if started.elapsed() > LOCK_WAIT {
                return Err(AuthError::Io(format!(
                    "{} is held by another contree run; if none is running, delete it",
                    path.display()
                )));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    fn is_stale(path: &Path) -> bool {
        let modified = fs::metadata(path).and_then(|m| m.modified());
        match modified {
            Ok(modified) => SystemTime::now()
                .duration_since(modified)
                .is_ok_and(|age| age > STALE_LOCK_AGE),
            // Gone already: the next create will tell.
            Err(_) => false,
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_home() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("contree-store-{}", random_suffix()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn modify_creates_file_and_leaves_no_lock_or_temp() {
        let home = temp_home();
        let store = Store::new(home.clone(), None);
        store
            .modify(|doc| {
                profile::set_active(doc, "default");
                Ok(())
            })
            .unwrap();
        let names: Vec<_> = fs::read_dir(&home)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["auth.ini"]);
        assert_eq!(
            fs::read_to_string(home.join("auth.ini")).unwrap(),
            "[DEFAULT]\nprofile = default\n\n"
        );
        fs::remove_dir_all(home).unwrap();
    }

    #[test]
    fn failed_change_leaves_file_untouched() {
        let home = temp_home();
        fs::write(home.join("auth.ini"), "[profile:a]\ntoken = t\n").unwrap();
        let store = Store::new(home.clone(), None);
        let err = store
            .modify(|_| Err::<(), _>(AuthError::NotFound("x".into())))
            .unwrap_err();
        assert_eq!(err, AuthError::NotFound("x".into()));
        assert_eq!(
            fs::read_to_string(home.join("auth.ini")).unwrap(),
            "[profile:a]\ntoken = t\n"
        );
        fs::remove_dir_all(home).unwrap();
    }

    #[test]
    fn errors_name_file_and_line() {
        let home = temp_home();
        fs::write(home.join("auth.ini"), b"[profile:a]\ntoken = t\n\xff\n").unwrap();
        let err = Store::new(home.clone(), None).load().unwrap_err();
        assert!(
            matches!(err, AuthError::ConfigParse { line: 3, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("auth.ini: line 3"), "{err}");
        fs::remove_dir_all(home).unwrap();
    }
}
