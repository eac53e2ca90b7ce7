//! The profile store: reads `cli.ini` + `auth.ini`, and changes `auth.ini`
//! under a lock file with an atomic replace, so concurrent runs lose no
//! profile and a crash never leaves a half-written file.
//!
//! This is the only module that touches the file system. What it assumes of
//! the files is nothing (SPEC §5): a name from a file never becomes more than
//! one path component, a link is followed to the file it names and kept, a
//! FIFO or device is refused before it is opened, and every wait for the lock
//! ends within [`LOCK_WAIT`].

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs::{self, OpenOptions};
use std::hash::{BuildHasher, RandomState};
use std::io::{ErrorKind, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use super::ini::{self, Document};
use super::profile::{self, PROFILE_PREFIX, Profile};
use crate::error::AuthError;

/// Larger files are refused rather than read: 10,000 profiles take about 2 MiB.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// A lock file not refreshed for this long was left by a process that died
/// mid-write (a read-modify-write cycle takes milliseconds).
pub const STALE_LOCK_AGE: Duration = Duration::from_secs(10);
/// How long to wait for another run's lock before giving up.
pub const LOCK_WAIT: Duration = Duration::from_secs(15);
/// Set to `1` by a host that already makes new files private (the launcher
/// runs under umask 077): no warning when auth.ini is created.
pub const PRIVATE_FILES_VAR: &str = "CONTREE_PRIVATE_FILES";
/// How many times a read-modify-write cycle starts over after losing its lock.
const MAX_ATTEMPTS: usize = 3;
/// How many symbolic links are followed from auth.ini to its file (Linux's ELOOP limit).
const MAX_LINKS: usize = 40;

/// How the lock judges staleness and how long it waits; tests shorten both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockTiming {
    pub stale_after: Duration,
    pub wait: Duration,
}

impl Default for LockTiming {
    fn default() -> Self {
        LockTiming {
            stale_after: STALE_LOCK_AGE,
            wait: LOCK_WAIT,
        }
    }
}

/// Where the files are, and what the host said about them.
#[derive(Debug, Clone)]
pub struct Store {
    /// `CONTREE_HOME`: session databases live here.
    pub home: PathBuf,
    pub auth_path: PathBuf,
    pub cli_path: PathBuf,
    pub lock_timing: LockTiming,
    /// The host makes new files private ([`PRIVATE_FILES_VAR`]).
    pub private_files: bool,
    /// Things every face should show the user (see [`Store::take_warnings`]).
    warnings: Arc<Mutex<Vec<String>>>,
}

/// Which file defines a profile's section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefinedIn {
    AuthIni,
    CliIni,
    Both,
}

/// The profiles' names and where each is defined, read without reading any
/// value: what `remove` needs, so that a broken value elsewhere (a bad `%`,
/// an over-long expansion) does not stop it.
#[derive(Debug)]
pub struct Catalog {
    /// In file order (cli.ini's first, then auth.ini's new ones).
    pub names: Vec<String>,
    /// `[DEFAULT] profile`, or `default`.
    pub recorded_active: String,
    defined: HashMap<String, DefinedIn>,
}

impl Catalog {
    pub fn defined_in(&self, name: &str) -> Option<DefinedIn> {
        self.defined.get(name).copied()
    }
}

/// Profiles as every command sees them: `cli.ini` with `auth.ini` over it.
#[derive(Debug)]
pub struct Loaded {
    pub profiles: Vec<Profile>,
    /// `[DEFAULT] profile`, or `default`.
    pub recorded_active: String,
    defined: HashMap<String, DefinedIn>,
}

impl Loaded {
    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.name == name)
    }

    /// Which file defines the profile `name`.
    pub fn defined_in(&self, name: &str) -> Option<DefinedIn> {
        self.defined.get(name).copied()
    }
}

/// A profile name made safe to be a file name: one path component, so that
/// the session databases built from it stay in their folder (SPEC §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionStem(String);

impl SessionStem {
    /// `sessions-NAME.db-wal` must stay under the 255-byte file name limit.
    pub const MAX_BYTES: usize = 200;

    /// The name, or why it cannot be one path component.
    pub fn new(name: &str) -> Result<SessionStem, String> {
        if name.is_empty() {
            return Err("it is empty".into());
        }
        if name.len() > Self::MAX_BYTES {
            return Err(format!("longer than {} bytes", Self::MAX_BYTES));
        }
        if name.chars().any(char::is_control) {
            return Err("control characters (such as newlines or NUL) are not allowed".into());
        }
        if name.contains(['/', '\\']) {
            return Err("'/' and '\\' are not allowed (a name is not a path)".into());
        }
        if name == "." || name == ".." {
            return Err("'.' and '..' are not names".into());
        }
        Ok(SessionStem(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionStem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Both files, read and merged once.
struct BothFiles {
    merged: Document,
    defined: HashMap<String, DefinedIn>,
}

impl BothFiles {
    /// cli.ini with auth.ini over it, remembering which defines what.
    fn merge(cli: Document, auth: Document) -> BothFiles {
        let names = |doc: &Document| -> HashSet<String> {
            doc.sections()
                .iter()
                .filter_map(|s| s.name.strip_prefix(PROFILE_PREFIX).map(str::to_string))
                .collect()
        };
        let in_cli = names(&cli);
        let in_auth = names(&auth);
        let mut defined = HashMap::with_capacity(in_cli.len() + in_auth.len());
        for name in &in_cli {
            let place = if in_auth.contains(name) {
                DefinedIn::Both
            } else {
                DefinedIn::CliIni
            };
            defined.insert(name.clone(), place);
        }
        for name in in_auth {
            defined.entry(name).or_insert(DefinedIn::AuthIni);
        }
        let mut merged = cli;
        merged.merge_from(auth);
        BothFiles { merged, defined }
    }

    fn load(self, auth_path: &Path) -> Result<Loaded, AuthError> {
        let profiles =
            profile::read_profiles(&self.merged).map_err(|bad| AuthError::ConfigParse {
                path: auth_path.display().to_string(),
                line: 0,
                message: format!("[{}]: {}", ini::shown(&bad.section), bad.message),
            })?;
        Ok(Loaded {
            profiles,
            recorded_active: profile::recorded_active(&self.merged),
            defined: self.defined,
        })
    }

    fn catalog(self) -> Catalog {
        let names = self
            .merged
            .sections()
            .iter()
            .filter_map(|s| s.name.strip_prefix(PROFILE_PREFIX).map(str::to_string))
            .collect();
        Catalog {
            names,
            recorded_active: profile::recorded_active(&self.merged),
            defined: self.defined,
        }
    }
}

/// The whole read path over the two files' texts, as `load` and `catalog`
/// run it (parse, merge, interpolation, profiles), without a file system:
/// for the fuzz target. Errors are their one-line messages.
pub fn read_texts(cli: &str, auth: &str) -> (Result<Catalog, String>, Result<Loaded, String>) {
    let parse = |text: &str| Document::parse(text).map_err(|e| e.to_string());
    let both = || Ok::<_, String>(BothFiles::merge(parse(cli)?, parse(auth)?));
    let catalog = both().map(BothFiles::catalog);
    let loaded = both().and_then(|b| b.load(Path::new("auth.ini")).map_err(|e| e.to_string()));
    (catalog, loaded)
}

impl Store {
    /// `auth_path` defaults to `home/auth.ini`; `cli.ini` sits beside `auth.ini`.
    /// New files count as not private until [`Store::with_private_files`]
    /// says the host made them so.
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
            lock_timing: LockTiming::default(),
            private_files: false,
            warnings: Arc::default(),
        }
    }

    /// Says whether the host makes new files private (`CONTREE_PRIVATE_FILES=1`).
    pub fn with_private_files(mut self, private: bool) -> Store {
        self.private_files = private;
        self
    }

    /// The warnings gathered since the last call (for example that auth.ini
    /// was created with the host's default mode), for the face to show.
    pub fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut *self.warnings.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn warn(&self, message: String) {
        self.warnings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(message);
    }

    fn read_both(&self) -> Result<BothFiles, AuthError> {
        let cli = read_document(&self.cli_path)?;
        let auth = read_document(&self.auth_path)?;
        Ok(BothFiles::merge(cli, auth))
    }

    /// Every profile with its values; a value that cannot be read (a bad
    /// `%`, an expansion over 64 KiB) is an error naming its key and section.
    pub fn load(&self) -> Result<Loaded, AuthError> {
        self.read_both()?.load(&self.auth_path)
    }

    /// The profiles' names and where they are defined; no value is read.
    pub fn catalog(&self) -> Result<Catalog, AuthError> {
        Ok(self.read_both()?.catalog())
    }

    /// Runs one read-modify-write cycle of `auth.ini` under the lock. The
    /// file is rewritten only when `change` succeeds and the lock is still
    /// ours when the new file is about to replace the old one. A run that
    /// lost its lock (stalled past the stale age, or caught in a race of
    /// breakers) has written nothing; it starts over on the file as it is
    /// now, so its change lands on top of the newer one instead of over it.
    pub fn modify<T>(
        &self,
        mut change: impl FnMut(&mut Document) -> Result<T, AuthError>,
    ) -> Result<T, AuthError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.modify_once(&mut change) {
                Ok(result) => return Ok(result),
                Err(Attempt::LockLost(_)) if attempts < MAX_ATTEMPTS => {}
                Err(Attempt::LockLost(err) | Attempt::Failed(err)) => return Err(err),
            }
        }
    }

    fn modify_once<T>(
        &self,
        change: &mut impl FnMut(&mut Document) -> Result<T, AuthError>,
    ) -> Result<T, Attempt> {
        let lock = Lock::acquire(&self.auth_path, self.lock_timing)?;
        let target = resolve_links(&self.auth_path)?;
        remove_leftovers(&target, &lock);
        let existed = fs::symlink_metadata(&target).is_ok();
        let mut doc = read_document(&target)?;
        let result = change(&mut doc)?;
        // Refreshed before the (possibly slow) write and sync, checked again
        // right before the rename.
        lock.confirm().map_err(Attempt::LockLost)?;
        let mut lost = false;
        write_atomically(&target, doc.write().as_bytes(), || {
            lock.confirm().inspect_err(|_| lost = true)
        })
        .map_err(|err| {
            if lost {
                Attempt::LockLost(err)
            } else {
                Attempt::Failed(err)
            }
        })?;
        drop(lock);
        if !existed && !self.private_files {
            self.warn(format!(
                "{} was created with the host's default file mode, which may let other users read its tokens; run under `umask 077` (the Python CLI makes it 0600)",
                target.display()
            ));
        }
        Ok(result)
    }

    /// Deletes the session databases of a profile, both layouts
    /// (`cli/sessions/NAME.db` and `sessions-NAME.db`, each with `-wal` and
    /// `-shm`), all directly in CONTREE_HOME's folders; returns what was deleted.
    pub fn remove_session_databases(&self, stem: &SessionStem) -> Vec<String> {
        let sessions = self.home.join("cli").join("sessions");
        // A `cli` or `sessions` that is a link could lead out of CONTREE_HOME.
        let sessions_is_ours = is_real_dir(&self.home.join("cli")) && is_real_dir(&sessions);
        let mut bases = Vec::with_capacity(2);
        if sessions_is_ours {
            bases.push(sessions.join(format!("{stem}.db")));
        }
        bases.push(self.home.join(format!("sessions-{stem}.db")));
        let mut deleted = Vec::new();
        for base in bases {
            for suffix in ["", "-wal", "-shm"] {
                let mut path = base.clone().into_os_string();
                path.push(suffix);
                let path = PathBuf::from(path);
                // Only files: a directory or FIFO of that name is not a database.
                let is_file = fs::symlink_metadata(&path).is_ok_and(|m| !m.is_dir());
                if is_file && fs::remove_file(&path).is_ok() {
                    deleted.push(path.display().to_string());
                }
            }
        }
        deleted
    }
}

fn is_real_dir(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
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
fn resolve_links(path: &Path) -> Result<PathBuf, AuthError> {
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
fn read_document(path: &Path) -> Result<Document, AuthError> {
    let path = &resolve_links(path)?;
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
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    fs::File::open(path)
        .and_then(|file| Read::take(file, MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|err| io_error(path, "read", &err))?;
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

/// 16 random hex digits (the hasher's keys come from the host's randomness).
fn random_suffix() -> String {
    format!("{:016x}", RandomState::new().hash_one(SystemTime::now()))
}

/// `dir/NAME`, beside `path`.
fn sibling(path: &Path, name: String) -> PathBuf {
    path.with_file_name(name)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Is `name` one of our temporary files for `base`: `.BASE.<16 hex>.tmp`?
fn is_temp_name(name: &str, base: &str) -> bool {
    name.strip_prefix('.')
        .and_then(|n| n.strip_prefix(base))
        .and_then(|n| n.strip_prefix('.'))
        .and_then(|n| n.strip_suffix(".tmp"))
        .is_some_and(|hex| hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Under the lock: the temporary files a killed writer left beside the
/// target, and lock files a killed breaker left renamed (once stale).
fn remove_leftovers(target: &Path, lock: &Lock) {
    let base = file_name(target);
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(entries) = fs::read_dir(dir)
    {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_temp_name(&name, &base) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
    let lock_name = file_name(&lock.path);
    if let Some(dir) = lock.path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(entries) = fs::read_dir(dir)
    {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let claimed = name
                .strip_prefix(&lock_name)
                .and_then(|n| n.strip_prefix('.'))
                .is_some_and(|n| n.ends_with(".claim"));
            if claimed && age(&entry.path()).is_some_and(|a| a > lock.timing.stale_after) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

fn age(path: &Path) -> Option<Duration> {
    let modified = fs::symlink_metadata(path).and_then(|m| m.modified()).ok()?;
    SystemTime::now().duration_since(modified).ok()
}

/// Host file systems that cannot sync say so with these; everything else is a real failure.
fn sync_unsupported(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        ErrorKind::Unsupported | ErrorKind::InvalidInput | ErrorKind::PermissionDenied
    ) || err.raw_os_error() == Some(58) // ENOTSUP on WASI
}

/// Writes `bytes` to a temporary file beside `path` (the file itself, links
/// already followed), syncs it, asks `commit` whether it may still replace
/// `path`, renames it over `path` and syncs the folder.
fn write_atomically(
    path: &Path,
    bytes: &[u8],
    commit: impl FnOnce() -> Result<(), AuthError>,
) -> Result<(), AuthError> {
    let temp = sibling(
        path,
        format!(".{}.{}.tmp", file_name(path), random_suffix()),
    );
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(bytes)?;
        match file.sync_all() {
            Err(err) if !sync_unsupported(&err) => Err(err),
            _ => Ok(()),
        }
    })();
    let committed = written
        .map_err(|err| io_error(path, "write", &err))
        .and_then(|()| commit())
        .and_then(|()| fs::rename(&temp, path).map_err(|err| io_error(path, "write", &err)));
    if let Err(err) = committed {
        let _ = fs::remove_file(&temp);
        return Err(err);
    }
    // The rename is durable once the folder is synced; hosts that cannot
    // open or sync a folder (WASI may refuse) keep what POSIX promised.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        match fs::File::open(dir).and_then(|d| d.sync_all()) {
            Err(err) if !sync_unsupported(&err) && err.kind() != ErrorKind::IsADirectory => {
                return Err(io_error(
                    dir,
                    "sync (auth.ini was replaced, but may not survive a power loss)",
                    &err,
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Why one read-modify-write cycle ended without writing.
enum Attempt {
    /// Nothing was written because the lock was no longer ours: try again.
    LockLost(AuthError),
    Failed(AuthError),
}

impl From<AuthError> for Attempt {
    fn from(err: AuthError) -> Self {
        Attempt::Failed(err)
    }
}

/// What a lock file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Gone,
    /// A directory or anything else that no run of ours created.
    NotALockFile,
    Held {
        owner: String,
        modified: Option<SystemTime>,
    },
}

fn inspect(path: &Path) -> Result<Seen, std::io::Error> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(Seen::Gone),
        Err(err) => return Err(err),
    };
    if !meta.is_file() {
        return Ok(Seen::NotALockFile);
    }
    let mut owner = String::new();
    match fs::File::open(path) {
        Ok(file) => {
            let _ = Read::take(file, 256).read_to_string(&mut owner);
        }
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(Seen::Gone),
        Err(err) => return Err(err),
    }
    Ok(Seen::Held {
        owner,
        modified: meta.modified().ok(),
    })
}

/// How taking a lock file away by renaming it went.
#[derive(Debug, PartialEq, Eq)]
enum Claim {
    /// It was the one expected, and it is gone.
    Taken,
    /// Someone else's (a fresh lock took the old one's place): put back.
    NotExpected,
    /// There was none.
    Gone,
}

/// Takes the lock file away atomically (a rename to a name of our own), so
/// that of two runs doing it at once exactly one gets it; then checks it is
/// the one `expected` describes. A lock that is not is put back with a hard
/// link, which never replaces a lock created meanwhile (if it cannot be put
/// back, its owner finds it gone and does not commit).
fn claim(path: &Path, expected: &Seen) -> Result<Claim, std::io::Error> {
    let claimed = sibling(
        path,
        format!("{}.{}.claim", file_name(path), random_suffix()),
    );
    match fs::rename(path, &claimed) {
        Ok(()) => {}
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(Claim::Gone),
        Err(err) => return Err(err),
    }
    let seen = inspect(&claimed)?;
    if &seen == expected {
        let _ = fs::remove_file(&claimed);
        return Ok(Claim::Taken);
    }
    let _ = fs::hard_link(&claimed, path);
    let _ = fs::remove_file(&claimed);
    Ok(Claim::NotExpected)
}

/// `auth.ini.lock`, created exclusively and holding its owner's random id.
/// Only its owner deletes it; a lock not refreshed for
/// [`LockTiming::stale_after`] is broken by [`claim`].
struct Lock {
    path: PathBuf,
    owner: String,
    timing: LockTiming,
}

impl Lock {
    fn acquire(config: &Path, timing: LockTiming) -> Result<Lock, AuthError> {
        let mut path = config.as_os_str().to_owned();
        path.push(".lock");
        let path = PathBuf::from(path);
        let owner = format!("contree-auth {}{}", random_suffix(), random_suffix());
        let started = Instant::now();
        let mut pause = Duration::from_millis(2);
        let mut created_dir = false;
        let mut quick_retries = 0;
        loop {
            let mut again_now = false;
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut file) => {
                    let lock = Lock {
                        path,
                        owner,
                        timing,
                    };
                    // Dropping `lock` on failure removes what we created.
                    file.write_all(lock.owner.as_bytes())
                        .map_err(|e| io_error(&lock.path, "write the lock file", &e))?;
                    return Ok(lock);
                }
                Err(err) if err.kind() == ErrorKind::AlreadyExists => {
                    let seen =
                        inspect(&path).map_err(|e| io_error(&path, "read the lock file", &e))?;
                    match &seen {
                        Seen::Gone => again_now = true,
                        Seen::NotALockFile => {
                            return Err(AuthError::Io(format!(
                                "{} is not a lock file (a directory?); delete it and run the command again",
                                path.display()
                            )));
                        }
                        Seen::Held { modified, .. } if is_older(*modified, timing.stale_after) => {
                            claim(&path, &seen).map_err(|e| {
                                io_error(&path, "break the stale lock (delete it by hand if no contree run is active)", &e)
                            })?;
                            again_now = true;
                        }
                        Seen::Held { .. } => {}
                    }
                }
                Err(err) if err.kind() == ErrorKind::NotFound && !created_dir => {
                    created_dir = true;
                    if let Some(dir) = config.parent().filter(|d| !d.as_os_str().is_empty()) {
                        fs::create_dir_all(dir).map_err(|e| io_error(dir, "create", &e))?;
                    }
                    again_now = true;
                }
                Err(err) => return Err(io_error(&path, "create the lock file", &err)),
            }
            let waited = started.elapsed();
            if waited >= timing.wait {
                return Err(AuthError::Io(format!(
                    "{} is held by another contree run (waited {} s); if none is running, delete it",
                    path.display(),
                    timing.wait.as_secs_f32()
                )));
            }
            // Retrying at once is for a lock just broken or released; a
            // few in a row, and the loop sleeps like any other wait.
            if again_now && quick_retries < 3 {
                quick_retries += 1;
            } else {
                quick_retries = 0;
                std::thread::sleep(pause.min(timing.wait - waited));
                pause = (pause * 2).min(Duration::from_millis(50));
            }
        }
    }

    /// Just before a commit: the lock must still be ours (a run stalled past
    /// the stale age may have lost it), and it is refreshed so that nobody
    /// judges it stale while the rename happens.
    fn confirm(&self) -> Result<(), AuthError> {
        match inspect(&self.path) {
            Ok(Seen::Held { owner, .. }) if owner == self.owner => {
                if let Ok(file) = OpenOptions::new().append(true).open(&self.path) {
                    let _ = file.set_modified(SystemTime::now());
                }
                Ok(())
            }
            _ => Err(AuthError::Io(format!(
                "this run stalled for over {} s and another run took over {}; nothing was written (a newer change may be there): run the command again",
                self.timing.stale_after.as_secs_f32(),
                self.path.display()
            ))),
        }
    }
}

fn is_older(modified: Option<SystemTime>, limit: Duration) -> bool {
    modified.is_some_and(|m| {
        SystemTime::now()
            .duration_since(m)
            .is_ok_and(|age| age > limit)
    })
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Deleted only if still ours: after a takeover it is someone else's.
        if let Ok(seen @ Seen::Held { .. }) = inspect(&self.path)
            && matches!(&seen, Seen::Held { owner, .. } if *owner == self.owner)
        {
            let _ = claim(&self.path, &seen);
        }
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

    fn quick(home: &Path) -> Store {
        let mut store = Store::new(home.to_path_buf(), None).with_private_files(true);
        store.lock_timing = LockTiming {
            stale_after: Duration::from_millis(300),
            wait: Duration::from_secs(5),
        };
        store
    }

    fn set(store: &Store, key: &str) -> Result<(), AuthError> {
        store.modify(|doc| {
            doc.section_or_insert("s").set_raw(key, "1".into());
            Ok(())
        })
    }

    fn lock_path(home: &Path) -> PathBuf {
        home.join("auth.ini.lock")
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp") || n.contains(".lock"))
            .collect();
        names.sort();
        names
    }

    fn backdate(path: &Path, by: Duration) {
        OpenOptions::new()
            .append(true)
            .open(path)
            .unwrap()
            .set_modified(SystemTime::now() - by)
            .unwrap();
    }

    /// SPEC §5 "a writer whose lock was broken does not commit its stale
    /// snapshot": A reads, stalls past the stale age (once, as a SIGSTOP or
    /// VM pause would); B breaks A's lock and commits. A must not write its
    /// old snapshot over B's update: it starts over on the new file, so both
    /// updates are there.
    #[test]
    fn a_writer_stalled_past_the_stale_age_loses_no_update() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let home = temp_home();
        let store = quick(&home);
        set(&store, "before").unwrap();
        let attempts = Arc::new(AtomicUsize::new(0));
        let stalled = {
            let store = store.clone();
            let attempts = attempts.clone();
            std::thread::spawn(move || {
                store.modify(|doc| {
                    if attempts.fetch_add(1, Ordering::SeqCst) == 0 {
                        std::thread::sleep(Duration::from_millis(1500));
                    }
                    let saw_breaker = doc.section_or_insert("s").contains("breaker");
                    doc.section_or_insert("s").set_raw("stalled", "1".into());
                    Ok(saw_breaker)
                })
            })
        };
        std::thread::sleep(Duration::from_millis(800));
        set(&store, "breaker").unwrap();
        let saw_breaker = stalled.join().unwrap().unwrap();
        assert_eq!(attempts.load(Ordering::SeqCst), 2, "one start-over");
        assert!(saw_breaker, "the second attempt read the newer file");
        let text = fs::read_to_string(home.join("auth.ini")).unwrap();
        for key in ["before", "breaker", "stalled"] {
            assert!(text.contains(&format!("{key} = 1")), "{key} lost: {text}");
        }
        assert_eq!(leftovers(&home), Vec::<String>::new());
        fs::remove_dir_all(home).unwrap();
    }

    /// A writer that keeps losing its lock gives up with a clear error and
    /// writes nothing.
    #[test]
    fn a_writer_that_keeps_losing_its_lock_gives_up_without_writing() {
        let home = temp_home();
        let store = quick(&home);
        set(&store, "before").unwrap();
        let lock = lock_path(&home);
        let err = store
            .modify(|doc| {
                // Another run takes the lock over while this one works.
                fs::write(&lock, "contree-auth someone else").unwrap();
                doc.section_or_insert("s").set_raw("lost", "1".into());
                Ok(())
            })
            .unwrap_err();
        assert!(err.to_string().contains("nothing was written"), "{err}");
        assert!(
            !fs::read_to_string(home.join("auth.ini"))
                .unwrap()
                .contains("lost")
        );
        assert_eq!(
            fs::read_to_string(&lock).unwrap(),
            "contree-auth someone else"
        );
        fs::remove_dir_all(home).unwrap();
    }

    /// SPEC §5 "a stale lock is broken by an atomic rename so that two
    /// breakers cannot both win": the second breaker judged the old lock
    /// stale, but by the time it renames, the first one has already
    /// replaced it with its own fresh lock; that one is put back.
    #[test]
    fn a_second_breaker_puts_back_the_lock_it_did_not_judge() {
        let home = temp_home();
        let path = lock_path(&home);
        fs::write(&path, "old owner").unwrap();
        backdate(&path, Duration::from_secs(60));
        let judged = inspect(&path).unwrap();
        assert_eq!(claim(&path, &judged).unwrap(), Claim::Taken);
        assert!(!path.exists());
        // The first breaker now holds a fresh lock.
        fs::write(&path, "first breaker").unwrap();
        assert_eq!(claim(&path, &judged).unwrap(), Claim::NotExpected);
        assert_eq!(fs::read_to_string(&path).unwrap(), "first breaker");
        assert_eq!(claim(&path, &judged).unwrap(), Claim::NotExpected);
        fs::remove_file(&path).unwrap();
        assert_eq!(claim(&path, &judged).unwrap(), Claim::Gone);
        assert_eq!(leftovers(&home), Vec::<String>::new());
        fs::remove_dir_all(home).unwrap();
    }

    #[test]
    fn many_writers_breaking_a_stale_lock_at_once_lose_nothing() {
        let home = temp_home();
        let mut store = quick(&home);
        // Stale only for the killed run's lock, whatever the machine's load.
        store.lock_timing.stale_after = Duration::from_secs(5);
        store.lock_timing.wait = Duration::from_secs(30);
        fs::write(lock_path(&home), "killed run").unwrap();
        backdate(&lock_path(&home), Duration::from_secs(60));
        let writers: Vec<_> = (0..8)
            .map(|i| {
                let store = store.clone();
                std::thread::spawn(move || set(&store, &format!("w{i}")))
            })
            .collect();
        for writer in writers {
            writer.join().unwrap().unwrap();
        }
        let text = fs::read_to_string(home.join("auth.ini")).unwrap();
        for i in 0..8 {
            assert!(text.contains(&format!("w{i} = 1")), "w{i} lost: {text}");
        }
        assert_eq!(leftovers(&home), Vec::<String>::new());
        fs::remove_dir_all(home).unwrap();
    }

    /// SPEC §5 "every wait is bounded": a lock that is a directory used to
    /// spin at 100% CPU forever.
    #[test]
    fn a_lock_that_is_a_directory_fails_at_once() {
        let home = temp_home();
        fs::create_dir(lock_path(&home)).unwrap();
        let started = Instant::now();
        let err = set(&quick(&home), "x").unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(err.to_string().contains("not a lock file"), "{err}");
        assert!(!err.to_string().contains('\n'));
        fs::remove_dir_all(home).unwrap();
    }

    #[test]
    fn a_live_lock_is_waited_for_within_the_lock_wait_then_fails() {
        let home = temp_home();
        let mut store = quick(&home);
        store.lock_timing.wait = Duration::from_millis(400);
        store.lock_timing.stale_after = Duration::from_secs(60);
        fs::write(lock_path(&home), "a live run").unwrap();
        let started = Instant::now();
        let err = set(&store, "x").unwrap_err();
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(400) && took < Duration::from_secs(2),
            "{took:?}"
        );
        assert!(
            err.to_string().contains("held by another contree run"),
            "{err}"
        );
        assert_eq!(fs::read_to_string(lock_path(&home)).unwrap(), "a live run");
        fs::remove_dir_all(home).unwrap();
    }

    #[test]
    fn a_lock_that_is_not_ours_any_more_is_not_deleted() {
        let home = temp_home();
        let lock = Lock::acquire(&home.join("auth.ini"), LockTiming::default()).unwrap();
        fs::write(&lock.path, "someone else").unwrap();
        assert!(lock.confirm().is_err());
        drop(lock);
        assert_eq!(
            fs::read_to_string(lock_path(&home)).unwrap(),
            "someone else"
        );
        fs::remove_dir_all(home).unwrap();
    }

    #[test]
    fn temporary_files_of_a_killed_writer_are_removed_under_the_lock() {
        let home = temp_home();
        let killed = home.join(".auth.ini.0123456789abcdef.tmp");
        let claimed = home.join("auth.ini.lock.0123456789abcdef.claim");
        let unrelated = home.join(".auth.ini.notours.tmp");
        for file in [&killed, &claimed, &unrelated] {
            fs::write(file, "x").unwrap();
        }
        backdate(&claimed, Duration::from_secs(60));
        set(&quick(&home), "x").unwrap();
        assert!(!killed.exists() && !claimed.exists());
        assert!(unrelated.exists(), "only our own names are removed");
        fs::remove_dir_all(home).unwrap();
    }

    /// SPEC §5 "a symlinked auth.ini stays a symlink": the file it names is
    /// replaced atomically in its own folder.
    #[cfg(unix)]
    #[test]
    fn a_linked_auth_ini_stays_a_link_and_its_target_is_replaced() {
        let root = temp_home();
        let home = root.join("contree");
        let dotfiles = root.join("dotfiles");
        fs::create_dir_all(&home).unwrap();
        fs::create_dir_all(&dotfiles).unwrap();
        fs::write(dotfiles.join("auth.ini"), "[profile:a]\ntoken = t\n").unwrap();
        std::os::unix::fs::symlink("../dotfiles/auth.ini", home.join("auth.ini")).unwrap();
        let store = quick(&home);
        set(&store, "x").unwrap();
        let link = fs::symlink_metadata(home.join("auth.ini")).unwrap();
        assert!(
            link.file_type().is_symlink(),
            "the link was replaced by a file"
        );
        let text = fs::read_to_string(dotfiles.join("auth.ini")).unwrap();
        assert!(
            text.contains("[profile:a]") && text.contains("x = 1"),
            "{text}"
        );
        assert_eq!(leftovers(&home), Vec::<String>::new());
        assert_eq!(leftovers(&dotfiles), Vec::<String>::new());
        assert_eq!(store.load().unwrap().profiles[0].name, "a");
        // A chain of links, an absolute one among them.
        let second = root.join("second-link.ini");
        std::os::unix::fs::symlink(dotfiles.join("auth.ini"), &second).unwrap();
        fs::remove_file(home.join("auth.ini")).unwrap();
        std::os::unix::fs::symlink(&second, home.join("auth.ini")).unwrap();
        set(&store, "y").unwrap();
        assert!(
            fs::symlink_metadata(&second)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(
            fs::read_to_string(dotfiles.join("auth.ini"))
                .unwrap()
                .contains("y = 1")
        );
        // A loop is an error, not a hang.
        fs::remove_file(&second).unwrap();
        std::os::unix::fs::symlink(home.join("auth.ini"), &second).unwrap();
        let err = store.load().unwrap_err();
        assert!(err.to_string().contains("symbolic links"), "{err}");
        fs::remove_dir_all(root).unwrap();
    }

    /// SPEC §5 "a FIFO or other non-regular auth.ini is an error, never a hang".
    #[cfg(unix)]
    #[test]
    fn a_fifo_as_auth_ini_is_refused_without_opening_it() {
        let home = temp_home();
        for file in ["auth.ini", "cli.ini"] {
            let status = std::process::Command::new("mkfifo")
                .arg(home.join(file))
                .status()
                .expect("mkfifo (coreutils) is needed for this test");
            assert!(status.success());
            let store = quick(&home);
            let (done, result) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let _ = done.send((store.load().map(|_| ()), set(&store, "x")));
            });
            let (read, write) = result
                .recv_timeout(Duration::from_secs(5))
                .expect("reading a FIFO hung");
            let err = read.unwrap_err();
            assert!(err.to_string().contains("not a regular file"), "{err}");
            // A write reads only auth.ini.
            if file == "auth.ini" {
                let err = write.unwrap_err();
                assert!(err.to_string().contains("not a regular file"), "{err}");
            }
            fs::remove_file(home.join(file)).unwrap();
        }
        fs::remove_dir_all(home).unwrap();
    }

    /// SPEC §5 "creating auth.ini warns once that its mode follows the
    /// host's umask", unless the host said it makes files private.
    #[test]
    fn creating_auth_ini_warns_about_its_mode_once_unless_the_host_made_it_private() {
        let home = temp_home();
        let store = quick(&home).with_private_files(false);
        set(&store, "a").unwrap();
        let warnings = store.take_warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("auth.ini was created with the host's default file mode")
                && warnings[0].contains("umask 077"),
            "{warnings:?}"
        );
        set(&store, "b").unwrap();
        assert_eq!(store.take_warnings(), Vec::<String>::new());
        let private_home = temp_home();
        let store = quick(&private_home).with_private_files(true);
        set(&store, "a").unwrap();
        assert_eq!(store.take_warnings(), Vec::<String>::new());
        fs::remove_dir_all(home).unwrap();
        fs::remove_dir_all(private_home).unwrap();
    }

    #[test]
    fn loaded_and_catalog_know_which_file_defines_a_profile() {
        let home = temp_home();
        fs::write(
            home.join("cli.ini"),
            "[profile:c]\nurl = u\n[profile:both]\nurl = u\n",
        )
        .unwrap();
        fs::write(
            home.join("auth.ini"),
            "[profile:a]\ntoken = t\n[profile:both]\ntoken = t\n",
        )
        .unwrap();
        let store = quick(&home);
        let loaded = store.load().unwrap();
        let catalog = store.catalog().unwrap();
        for (name, place) in [
            ("a", DefinedIn::AuthIni),
            ("c", DefinedIn::CliIni),
            ("both", DefinedIn::Both),
        ] {
            assert_eq!(loaded.defined_in(name), Some(place), "{name}");
            assert_eq!(catalog.defined_in(name), Some(place), "{name}");
        }
        assert_eq!(catalog.names, ["c", "both", "a"]);
        fs::remove_dir_all(home).unwrap();
    }

    /// SPEC §5: a broken value fails the reading of values, not the catalog.
    #[test]
    fn a_broken_value_fails_load_but_not_the_catalog() {
        let home = temp_home();
        let mut text = String::from("[DEFAULT]\nv0 = xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n");
        for i in 1..=8 {
            let p = i - 1;
            text.push_str(&format!("v{i} = %(v{p})s%(v{p})s%(v{p})s%(v{p})s\n"));
        }
        text.push_str("[profile:bad]\ntoken = %(v8)s\n[profile:good]\ntoken = t\n");
        fs::write(home.join("auth.ini"), text).unwrap();
        let store = quick(&home);
        let err = store.load().unwrap_err().to_string();
        assert!(
            err.contains("[profile:bad]") && err.contains("64 KiB"),
            "{err}"
        );
        assert_eq!(store.catalog().unwrap().names, ["bad", "good"]);
        fs::remove_dir_all(home).unwrap();
    }

    #[test]
    fn session_stems_are_one_path_component() {
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "/abs/victim",
            "a/b",
            "a\\b",
            "a\0b",
            "a\nb",
            "\u{85}",
        ] {
            assert!(SessionStem::new(bad).is_err(), "{bad:?}");
        }
        assert!(SessionStem::new(&"x".repeat(SessionStem::MAX_BYTES + 1)).is_err());
        for good in ["default", "a b", "naïve", "a%b", "a]b", "..a", "x.."] {
            assert_eq!(SessionStem::new(good).unwrap().as_str(), good);
        }
    }

    #[test]
    fn session_databases_are_deleted_only_inside_their_folders() {
        let root = temp_home();
        let home = root.join("home");
        let outside = root.join("outside");
        fs::create_dir_all(home.join("cli/sessions")).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(home.join("cli/sessions/a.db"), "x").unwrap();
        fs::write(home.join("sessions-a.db-wal"), "x").unwrap();
        fs::write(outside.join("a.db"), "victim").unwrap();
        let store = quick(&home);
        let deleted = store.remove_session_databases(&SessionStem::new("a").unwrap());
        assert_eq!(deleted.len(), 2, "{deleted:?}");
        assert!(outside.join("a.db").exists());
        // A `sessions` folder that is a link out of CONTREE_HOME is not followed.
        #[cfg(unix)]
        {
            fs::remove_dir_all(home.join("cli/sessions")).unwrap();
            std::os::unix::fs::symlink(&outside, home.join("cli/sessions")).unwrap();
            let deleted = store.remove_session_databases(&SessionStem::new("a").unwrap());
            assert!(deleted.is_empty(), "{deleted:?}");
            assert!(outside.join("a.db").exists());
        }
        fs::remove_dir_all(root).unwrap();
    }
}
