//! The lock of auth.ini: a directory `auth.ini.lock` created exclusively
//! beside the file it guards (links already followed), holding one file,
//! `<id>.new` (`<id>` random, the owner's). Created empty with the lock, it
//! is the owner's heartbeat (its modification time) and, once written
//! through the handle kept open, the new auth.ini (see `atomic.rs`).
//!
//! Why a directory: the commit is `rename(auth.ini.lock/<id>.new, auth.ini)`,
//! which succeeds only while this owner's directory is the lock. A writer
//! whose lock was broken (renamed away) or replaced finds no such path (the
//! file is created once, with the lock, never again), so the check and the
//! act are one system call and a stale snapshot is never committed.
//!
//! Liveness is judged by what a waiter sees, never by whose clock is right
//! (SPEC §8): a lock that does not change at all while a waiter watches it
//! for [`LockTiming::stale_after`] (1 s, on the waiter's own monotonic
//! clock) was left by a run that died, whatever time its heartbeat claims
//! (an hour ahead after a clock stepped back, or behind on another
//! machine's clock). Any change counts as life: a heartbeat's time moving
//! either way, an owner's file added, removed or replaced (a new owner after
//! a break), its length. A heartbeat that is already old is watched too: it
//! may be a live writer's whose clock is behind ours. The owner refreshes
//! its heartbeat between all of its steps, so a live writer, however slow
//! each call, keeps its lock. Where the file system keeps only whole seconds
//! (FAT, ext3), successive heartbeats can look alike for up to 2 s, so a
//! lock whose every time is a whole second is watched [`COARSE_TIME_SLACK`]
//! longer.
//!
//! A dead lock is broken by renaming the dead owner's file, by its name, to
//! a unique name (of two breakers, one rename wins, and a late one cannot
//! touch a newer owner's lock, which holds another name), then the emptied
//! directory is removed.
//!
//! Waiting takes its clocks and sleeper from [`LockTiming::clock`] (see
//! ARCHITECTURE.md "Time as a dependency"), so tests state exactly what
//! happens at 1 s without waiting for it.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::base::{file_name, io_error, random_id};
use crate::error::AuthError;

/// A lock seen unchanged for this long was left by a run that died: the
/// owner beats between every file operation, each of which takes
/// milliseconds (hundreds on a very slow disk).
pub const STALE_INTERVAL: Duration = Duration::from_secs(1);
/// How much longer a lock is watched when all its times are whole seconds:
/// a file system that keeps 1 s (ext3) or 2 s (FAT) shows heartbeats within
/// the same second as one.
pub const COARSE_TIME_SLACK: Duration = Duration::from_secs(2);
/// How long to wait for another run's live lock before giving up.
pub const LOCK_WAIT: Duration = Duration::from_secs(15);

/// The lock directory of the config file named `file_name`.
fn lock_name(file_name: &str) -> String {
    format!("{file_name}.lock")
}

/// Whether `name`, in the folder of the config file named `file_name`, is
/// one of the store's own working files: the lock directory, a lock broken
/// away (`auth.ini.lock.<hex>.stale`), or what older versions left
/// (`auth.ini.lock.<hex>.claim`, `.auth.ini.<hex>.tmp`). The one definition
/// the component's clean-up and the launcher's view of a config folder share.
pub fn is_working_file(name: &str, file_name: &str) -> bool {
    let lock = lock_name(file_name);
    name == lock
        || broken_lock_hex(name, &lock).is_some()
        || legacy_leftover(name, file_name, &lock)
}

/// `LOCK.<16 hex>.stale`: a lock taken away to be deleted.
fn broken_lock_hex<'a>(name: &'a str, lock: &str) -> Option<&'a str> {
    name.strip_prefix(lock)
        .and_then(|n| n.strip_prefix('.'))
        .and_then(|n| n.strip_suffix(".stale"))
        .filter(|hex| is_id(hex))
}

/// Lock files broken by older versions (`LOCK.<hex>.claim`) and their
/// temporary files (`.FILE.<hex>.tmp`).
fn legacy_leftover(name: &str, file_name: &str, lock: &str) -> bool {
    let claim = name
        .strip_prefix(lock)
        .and_then(|n| n.strip_prefix('.'))
        .and_then(|n| n.strip_suffix(".claim"));
    let temp = name
        .strip_prefix('.')
        .and_then(|n| n.strip_prefix(file_name))
        .and_then(|n| n.strip_prefix('.'))
        .and_then(|n| n.strip_suffix(".tmp"));
    claim.or(temp).is_some_and(is_id)
}

fn is_id(hex: &str) -> bool {
    hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The clocks and the sleeper a lock waits with.
pub trait Clock: fmt::Debug + Send + Sync {
    /// The waiter's own monotonic clock: what the stale interval and the
    /// wait are counted on (it never steps back, and no file carries it).
    fn monotonic(&self) -> Instant;
    /// The wall clock a heartbeat is stamped with: what people read in
    /// `ls -l`, and what older versions, which judge a lock by its age, see.
    fn wall(&self) -> SystemTime;
    fn sleep(&self, pause: Duration);
}

/// The host's clocks.
#[derive(Debug)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn monotonic(&self) -> Instant {
        Instant::now()
    }

    fn wall(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, pause: Duration) {
        std::thread::sleep(pause);
    }
}

/// How long a lock must be seen unchanged to be judged dead, how long a
/// waiter waits, and with what clocks.
#[derive(Debug, Clone)]
pub struct LockTiming {
    pub stale_after: Duration,
    pub wait: Duration,
    pub clock: Arc<dyn Clock>,
}

impl Default for LockTiming {
    fn default() -> Self {
        LockTiming {
            stale_after: STALE_INTERVAL,
            wait: LOCK_WAIT,
            clock: Arc::new(SystemClock),
        }
    }
}

/// What is at the lock's path.
#[derive(Debug)]
enum Seen {
    Gone,
    /// A link, FIFO or device: no run of ours made it.
    NotALock,
    /// A lock directory (or an older version's lock file).
    Held(Sight),
}

/// What a waiter sees of a lock, compared whole between two looks: any
/// difference is a sign of life.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sight {
    /// The modification time of the directory (or of an older version's
    /// lock file).
    modified: Option<SystemTime>,
    /// Each entry's name, modification time and length, by name: the
    /// owner's heartbeat, and who the owner is.
    entries: Vec<(String, Option<SystemTime>, u64)>,
}

impl Sight {
    /// The owners' files it holds (one, or none while it is being made).
    fn owners(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|(name, _, _)| name)
            .filter(|name| is_owner_file(name))
            .cloned()
            .collect()
    }

    /// How long it must be seen unchanged to be judged dead: longer when
    /// every time in it is a whole second (a coarse file system).
    fn watch_for(&self, stale_after: Duration) -> Duration {
        let mut times = std::iter::once(self.modified).chain(self.entries.iter().map(|e| e.1));
        let whole_seconds = times.all(|time| {
            time.and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                .is_some_and(|since| since.subsec_nanos() == 0)
        });
        if whole_seconds {
            stale_after + COARSE_TIME_SLACK
        } else {
            stale_after
        }
    }
}

/// Whether `name` is an owner's file, `<16 hex>.new`.
fn is_owner_file(name: &str) -> bool {
    name.strip_suffix(".new").is_some_and(is_id)
}

fn inspect(path: &Path) -> std::io::Result<Seen> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(Seen::Gone),
        Err(err) => return Err(err),
    };
    if meta.is_file() {
        return Ok(Seen::Held(Sight {
            modified: meta.modified().ok(),
            entries: Vec::new(),
        }));
    }
    if !meta.is_dir() {
        return Ok(Seen::NotALock);
    }
    let entries = match fs::read_dir(path) {
        Ok(entries) => entries,
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(Seen::Gone),
        Err(err) => return Err(err),
    };
    let mut sight = Sight {
        modified: meta.modified().ok(),
        entries: Vec::new(),
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        // An entry deleted meanwhile is seen without a time: a change too.
        let meta = entry.metadata().ok();
        let modified = meta.as_ref().and_then(|m| m.modified().ok());
        sight
            .entries
            .push((name, modified, meta.map_or(0, |m| m.len())));
    }
    sight.entries.sort();
    Ok(Seen::Held(sight))
}

/// The lock, held: only its owner deletes it (on drop).
#[derive(Debug)]
pub(super) struct Lock {
    dir: PathBuf,
    id: String,
    /// `<id>.new`, kept open: one call refreshes the heartbeat, and the new
    /// text is written through it.
    file: Option<File>,
    timing: LockTiming,
    /// The new file replaced the config file.
    committed: bool,
}

impl Lock {
    /// Takes the lock of `target` (the config file, links followed),
    /// waiting for a live owner at most [`LockTiming::wait`] and breaking a
    /// lock seen unchanged for [`LockTiming::stale_after`].
    pub fn acquire(target: &Path, timing: &LockTiming) -> Result<Lock, AuthError> {
        let dir = target.with_file_name(lock_name(&file_name(target)));
        let clock = &timing.clock;
        let started = clock.monotonic();
        let mut pause = Duration::from_millis(2);
        let mut made_parent = false;
        let mut quick_retries = 0;
        // What was seen of the lock, and since when it has not changed.
        let mut watched: Option<(Sight, Instant)> = None;
        loop {
            let mut again_now = false;
            match fs::create_dir(&dir) {
                Ok(()) => match Lock::own(&dir, timing) {
                    Ok(Some(lock)) => return Ok(lock),
                    // Our new directory vanished: someone deleted it by hand.
                    Ok(None) => again_now = true,
                    Err(err) => return Err(err),
                },
                Err(err) if err.kind() == ErrorKind::AlreadyExists => {
                    // The lock stood still from the look that began the
                    // watch (done by `since`) to this one (begun at `looked`).
                    let looked = clock.monotonic();
                    let seen = inspect(&dir).map_err(|e| io_error(&dir, "read the lock", &e))?;
                    match seen {
                        Seen::Gone => again_now = true,
                        Seen::NotALock => {
                            return Err(AuthError::Io(format!(
                                "{} is not a lock (a link or a special file); delete it and run the command again",
                                dir.display()
                            )));
                        }
                        Seen::Held(sight) => match watched.take() {
                            Some((before, since)) if before == sight => {
                                let still = looked.saturating_duration_since(since);
                                if still >= sight.watch_for(timing.stale_after) {
                                    break_lock(&dir, &sight)?;
                                    again_now = true;
                                } else {
                                    watched = Some((before, since));
                                }
                            }
                            // First seen, or changed: a live owner, or a new one.
                            _ => watched = Some((sight, clock.monotonic())),
                        },
                    }
                }
                Err(err) if err.kind() == ErrorKind::NotFound && !made_parent => {
                    made_parent = true;
                    if let Some(parent) = dir.parent().filter(|d| !d.as_os_str().is_empty()) {
                        fs::create_dir_all(parent).map_err(|e| io_error(parent, "create", &e))?;
                    }
                    again_now = true;
                }
                Err(err) => return Err(io_error(&dir, "create the lock", &err)),
            }
            let waited = clock.monotonic().duration_since(started);
            if waited >= timing.wait {
                return Err(AuthError::Io(format!(
                    "{} is held by another contree run (waited {} s); if none is running, delete it",
                    dir.display(),
                    timing.wait.as_secs_f32()
                )));
            }
            // At once after a lock was broken or released, a few times in a
            // row; else the loop sleeps like any other wait.
            if again_now && quick_retries < 3 {
                quick_retries += 1;
            } else {
                quick_retries = 0;
                clock.sleep(pause.min(timing.wait - waited));
                pause = (pause * 2).min(Duration::from_millis(50));
            }
        }
    }

    /// Creates the owner's file in the directory just created. `None` when
    /// the directory is gone; on an error the directory is removed, so a
    /// failed write leaves no lock behind.
    fn own(dir: &Path, timing: &LockTiming) -> Result<Option<Lock>, AuthError> {
        Lock::own_with(dir, timing, |path| {
            OpenOptions::new().write(true).create_new(true).open(path)
        })
    }

    /// [`Lock::own`] with the file's creation given (tests make it fail).
    fn own_with(
        dir: &Path,
        timing: &LockTiming,
        create: impl FnOnce(&Path) -> std::io::Result<File>,
    ) -> Result<Option<Lock>, AuthError> {
        let id = random_id();
        let path = dir.join(format!("{id}.new"));
        match create(&path) {
            Ok(file) => Ok(Some(Lock {
                dir: dir.to_path_buf(),
                id,
                file: Some(file),
                timing: timing.clone(),
                committed: false,
            })),
            Err(err) if err.kind() == ErrorKind::NotFound => Ok(None),
            Err(err) => {
                let _ = retry_once(|| fs::remove_dir(dir));
                Err(io_error(dir, "write the lock", &err))
            }
        }
    }

    /// Refreshes the heartbeat; called between every two steps of a write.
    /// A failure is not an error: at worst the lock is judged stale and
    /// broken, and then this run cannot commit.
    pub fn beat(&self) {
        if let Some(file) = self.file.as_ref().filter(|_| !self.committed) {
            let _ = file.set_modified(self.timing.clock.wall());
        }
    }

    /// The owner's file, inside the lock: its path can replace the config
    /// file only while the lock is this owner's.
    pub fn new_file(&self) -> PathBuf {
        self.dir.join(format!("{}.new", self.id))
    }

    /// The owner's file, open for writing the new text.
    pub fn file(&self) -> Option<&File> {
        self.file.as_ref()
    }

    /// The new file is the config file now: it is no longer beaten, and
    /// releasing the lock removes the empty directory.
    pub fn committed(&mut self) {
        self.committed = true;
    }

    /// The lock's own directory (for the clean-up of its neighbours).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Lock {
    /// Deletes the owner's file (a name only this owner uses), then the
    /// directory: a lock that is no longer ours (broken and replaced) does
    /// not hold that file, and is not touched.
    fn drop(&mut self) {
        drop(self.file.take());
        let ours = self.committed || {
            let path = self.new_file();
            let removed = retry_once(|| fs::remove_file(&path).map(|()| true)).or_else(|err| {
                if err.kind() == ErrorKind::NotFound {
                    Ok(false)
                } else {
                    Err(err)
                }
            });
            removed.is_ok_and(|removed| removed)
        };
        if ours {
            let _ = retry_once(|| fs::remove_dir(&self.dir));
        }
    }
}

fn remove_if_there(path: &Path) -> std::io::Result<()> {
    retry_once(|| match fs::remove_file(path) {
        Err(err) if err.kind() == ErrorKind::NotFound => Ok(()),
        other => other,
    })
}

/// A clean-up step is tried twice: one failed call (an interrupted system
/// call, an injected fault) must not leave a lock for the next run.
fn retry_once<T>(mut step: impl FnMut() -> std::io::Result<T>) -> std::io::Result<T> {
    step().or_else(|_| step())
}

/// Breaks a lock judged dead (`judged`, as it was seen unchanged). What is
/// renamed away (atomic: of two breakers, one gets it, the other finds it
/// gone) is the judged owner's file itself, by its name, so a breaker that
/// comes late can never take a newer owner's lock: that lock holds another
/// name. The emptied directory is then removed (which fails if a newer
/// owner is already in it). The dead owner, if it ever wakes up, finds its
/// file's path gone and cannot commit. A directory with no owner's file
/// (its run killed before it made one, or things nobody of ours put there)
/// is removed, or else renamed away if it is still exactly as judged; an
/// older version's lock file is renamed away.
fn break_lock(dir: &Path, judged: &Sight) -> Result<(), AuthError> {
    let stale_name = || dir.with_file_name(format!("{}.{}.stale", file_name(dir), random_id()));
    let refused = |err: &std::io::Error| {
        io_error(
            dir,
            "break the stale lock (delete it by hand if no contree run is active)",
            err,
        )
    };
    let owners = judged.owners();
    for owner in &owners {
        let away = stale_name();
        match fs::rename(dir.join(owner), &away) {
            Ok(()) => remove_broken(&away),
            // Another breaker was first: the directory may be someone's now.
            Err(err) if err.kind() == ErrorKind::NotFound => return Ok(()),
            Err(err) => return Err(refused(&err)),
        }
    }
    let foreign = match fs::remove_dir(dir) {
        Ok(()) => return Ok(()),
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(()),
        // An older version's lock file.
        Err(_) if fs::symlink_metadata(dir).is_ok_and(|m| m.is_file()) => false,
        Err(_) if !owners.is_empty() => return Ok(()),
        Err(_) => true,
    };
    // Not empty, with no owner of ours: only if nobody touched it meanwhile.
    if foreign && !matches!(inspect(dir), Ok(Seen::Held(now)) if now == *judged) {
        return Ok(());
    }
    let away = stale_name();
    match fs::rename(dir, &away) {
        Ok(()) => {
            remove_broken(&away);
            Ok(())
        }
        Err(err) if err.kind() == ErrorKind::NotFound => Ok(()),
        Err(err) => Err(refused(&err)),
    }
}

/// Deletes a broken lock: its owner's file, then the directory (an older
/// version's lock is a file). Anything else in it stays, and so does the
/// directory.
fn remove_broken(path: &Path) {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return;
    };
    if !meta.is_dir() {
        let _ = remove_if_there(path);
        return;
    }
    if let Ok(entries) = fs::read_dir(path) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_owner_file(&name) {
                let _ = remove_if_there(&entry.path());
            }
        }
    }
    let _ = retry_once(|| fs::remove_dir(path));
}

/// Under the lock: what killed writers and breakers left beside `target`
/// (locks broken away, an older version's temporary and claimed files).
/// The heartbeat is refreshed between every two file operations.
pub(super) fn remove_leftovers(target: &Path, lock: &Lock) {
    let base = file_name(target);
    let lock_name = file_name(lock.dir());
    let Some(dir) = target.parent() else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    lock.beat();
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        // Each entry may have cost a call to the host (a slow disk).
        lock.beat();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name != lock_name && is_working_file(&name, &base) {
            remove_broken(&entry.path());
        }
    }
    lock.beat();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TempDir;
    use std::sync::Mutex;

    /// Clocks that move only when slept on, the wall clock as far as the
    /// monotonic one; `on_sleep` plays the other runs at the new wall time.
    struct FakeClock {
        start: Instant,
        wall_start: SystemTime,
        elapsed: Mutex<Duration>,
        slept: Mutex<Vec<Duration>>,
        #[allow(clippy::type_complexity)]
        on_sleep: Mutex<Option<Box<dyn FnMut(SystemTime) + Send>>>,
    }

    impl Default for FakeClock {
        fn default() -> Self {
            FakeClock {
                start: Instant::now(),
                wall_start: SystemTime::now(),
                elapsed: Mutex::default(),
                slept: Mutex::default(),
                on_sleep: Mutex::default(),
            }
        }
    }

    impl FakeClock {
        fn slept(&self) -> Duration {
            self.slept.lock().unwrap().iter().sum()
        }
    }

    impl fmt::Debug for FakeClock {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("FakeClock")
        }
    }

    impl Clock for FakeClock {
        fn monotonic(&self) -> Instant {
            self.start + *self.elapsed.lock().unwrap()
        }

        fn wall(&self) -> SystemTime {
            self.wall_start + *self.elapsed.lock().unwrap()
        }

        fn sleep(&self, pause: Duration) {
            *self.elapsed.lock().unwrap() += pause;
            self.slept.lock().unwrap().push(pause);
            let now = self.wall();
            if let Some(hook) = self.on_sleep.lock().unwrap().as_mut() {
                hook(now);
            }
        }
    }

    fn fake() -> (Arc<FakeClock>, LockTiming) {
        let clock = Arc::new(FakeClock::default());
        let timing = LockTiming {
            stale_after: STALE_INTERVAL,
            wait: LOCK_WAIT,
            clock: clock.clone(),
        };
        (clock, timing)
    }

    fn temp_dir() -> TempDir {
        crate::testing::temp_dir("contree-lock-")
    }

    /// A lock as a killed run leaves it: its directory and half-written new
    /// file, last touched at `at`.
    fn killed_runs_lock(dir: &Path, at: SystemTime) -> PathBuf {
        let lock = dir.join("auth.ini.lock");
        fs::create_dir(&lock).unwrap();
        fs::write(lock.join("0123456789abcdef.new"), "[profile:half").unwrap();
        touch(&lock.join("0123456789abcdef.new"), at);
        File::open(&lock).unwrap().set_modified(at).unwrap();
        lock
    }

    fn touch(path: &Path, at: SystemTime) {
        File::options()
            .append(true)
            .open(path)
            .unwrap()
            .set_modified(at)
            .unwrap();
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// The longest a waiter sleeps between two looks at a lock.
    const LONGEST_PAUSE: Duration = Duration::from_millis(50);

    /// SPEC §7 "a lock whose owner is gone is recovered quickly" and §8 "a
    /// heartbeat from the future ... belongs to a dead writer if it does not
    /// move": a killed run's lock, whatever time its heartbeat claims (an
    /// hour ahead, as a clock stepped back leaves it; an hour behind; just
    /// now), is broken once it has been seen unchanged for the stale
    /// interval, and nothing of the killed run is left. Before, the one from
    /// the future was waited for 15 s and failed, and an old one was broken
    /// without a look (so a live writer with a slow clock lost its lock).
    #[test]
    fn a_heartbeat_that_stands_still_is_broken_after_the_stale_interval_whatever_its_time() {
        let hour = Duration::from_secs(3600);
        // What the heartbeat claims: the waiter's time, plus, minus.
        let claims = [
            ("an hour ahead", hour, Duration::ZERO),
            ("an hour behind", Duration::ZERO, hour),
            ("just now", Duration::ZERO, Duration::ZERO),
        ];
        for (what, plus, minus) in claims {
            let (clock, timing) = fake();
            let dir = temp_dir();
            killed_runs_lock(&dir, clock.wall() + plus - minus);
            let lock = Lock::acquire(&dir.join("auth.ini"), &timing)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            let slept = clock.slept();
            assert!(
                slept >= STALE_INTERVAL && slept < STALE_INTERVAL + LONGEST_PAUSE,
                "{what}: broken after {slept:?}"
            );
            let inside = names(lock.dir());
            assert_eq!(inside.len(), 1, "{inside:?}");
            assert!(inside[0].ends_with(".new") && inside[0] != "0123456789abcdef.new");
            drop(lock);
            assert_eq!(names(&dir), Vec::<String>::new(), "the lock is released");
            fs::remove_dir_all(dir).unwrap();
        }
    }

    /// An owner that beats every 300 ms for 5 s, then releases its lock.
    fn live_owner(
        clock: &FakeClock,
        lock_dir: &Path,
        stamp: impl Fn(SystemTime) -> SystemTime + Send + 'static,
    ) {
        let start = clock.wall();
        let owner = lock_dir.join("0123456789abcdef.new");
        let lock_dir = lock_dir.to_path_buf();
        let mut last_beat = start;
        let mut released = false;
        *clock.on_sleep.lock().unwrap() = Some(Box::new(move |now| {
            if released {
                return;
            }
            assert!(owner.exists(), "a live owner's lock was broken");
            if now.duration_since(start).unwrap() >= Duration::from_secs(5) {
                fs::remove_dir_all(&lock_dir).unwrap();
                released = true;
            } else if now.duration_since(last_beat).unwrap() >= Duration::from_millis(300) {
                touch(&owner, stamp(now));
                last_beat = now;
            }
        }));
    }

    /// SPEC §8: a heartbeat that moves is a live owner's, whatever time it
    /// claims: an owner whose clock is an hour ahead of the waiter's, or an
    /// hour behind (another machine on a shared config home, or the
    /// owner's clock stepped back while it writes: its heartbeats go back in
    /// time), keeps its lock for 5 s, and the waiter takes it once it is
    /// released. Before, the one an hour behind was broken at once.
    #[test]
    fn a_heartbeat_that_moves_is_never_broken_whatever_time_it_claims() {
        let hour = Duration::from_secs(3600);
        for behind in [false, true] {
            let (clock, timing) = fake();
            let dir = temp_dir();
            let start = clock.wall();
            let skewed = move |t: SystemTime| if behind { t - hour } else { t + hour };
            let lock_dir = killed_runs_lock(&dir, skewed(start));
            live_owner(&clock, &lock_dir, skewed);
            let lock = Lock::acquire(&dir.join("auth.ini"), &timing).unwrap();
            let waited = clock.slept();
            assert!(
                waited >= Duration::from_secs(5) && waited < Duration::from_millis(5100),
                "behind: {behind}: {waited:?}"
            );
            drop(lock);
            fs::remove_dir_all(dir).unwrap();
        }
    }

    /// What "changed" means includes who owns the lock: a waiter watched a
    /// dead owner's lock for half the stale interval when another run broke
    /// it and took it, its file and folder bearing the very same times (a
    /// copied folder, a coarse clock). The new owner's lock is watched
    /// afresh, for the whole interval, before it is judged dead.
    #[test]
    fn a_new_owner_after_a_break_is_a_change_even_with_the_same_times() {
        let (clock, timing) = fake();
        let dir = temp_dir();
        let start = clock.wall();
        let lock_dir = killed_runs_lock(&dir, start);
        let newer = lock_dir.join("fedcba9876543210.new");
        let (hook_lock, hook_newer) = (lock_dir.clone(), newer.clone());
        let mut taken_at = None;
        *clock.on_sleep.lock().unwrap() = Some(Box::new(move |now| {
            let since = now.duration_since(start).unwrap();
            if taken_at.is_none() && since >= Duration::from_millis(500) {
                fs::remove_file(hook_lock.join("0123456789abcdef.new")).unwrap();
                fs::write(&hook_newer, "").unwrap();
                touch(&hook_newer, start);
                File::open(&hook_lock).unwrap().set_modified(start).unwrap();
                taken_at = Some(since);
            }
            if let Some(taken) = taken_at.filter(|_| since < Duration::from_millis(1400)) {
                assert!(
                    hook_newer.exists(),
                    "broken {since:?} in, taken at {taken:?}"
                );
            }
        }));
        let lock = Lock::acquire(&dir.join("auth.ini"), &timing).unwrap();
        assert!(!newer.exists());
        let slept = clock.slept();
        assert!(
            slept >= Duration::from_millis(1500) && slept < Duration::from_millis(1600),
            "{slept:?}"
        );
        drop(lock);
        fs::remove_dir_all(dir).unwrap();
    }

    /// Where the file system keeps whole seconds (ext3, FAT), heartbeats
    /// within one second look alike: a live owner beating every 300 ms is
    /// not broken for its 5 s, while a dead one is broken once seen
    /// unchanged for the stale interval plus the slack (3 s in all).
    /// Before, the live one was broken, its heartbeat rounded down past
    /// 1 s of age.
    #[test]
    fn on_a_file_system_of_whole_seconds_a_live_owner_keeps_its_lock() {
        let whole = |t: SystemTime| {
            let since = t.duration_since(SystemTime::UNIX_EPOCH).unwrap();
            SystemTime::UNIX_EPOCH + Duration::from_secs(since.as_secs())
        };
        for live in [true, false] {
            let (clock, timing) = fake();
            let dir = temp_dir();
            let lock_dir = killed_runs_lock(&dir, whole(clock.wall()));
            if live {
                live_owner(&clock, &lock_dir, whole);
            }
            drop(Lock::acquire(&dir.join("auth.ini"), &timing).unwrap());
            let slept = clock.slept();
            let expected = if live {
                Duration::from_secs(5)
            } else {
                STALE_INTERVAL + COARSE_TIME_SLACK
            };
            assert!(
                slept >= expected && slept < expected + Duration::from_millis(100),
                "live: {live}: {slept:?}"
            );
            fs::remove_dir_all(dir).unwrap();
        }
    }

    /// SPEC §7 "the lock of a live writer, however slow its disk, is never
    /// broken": an owner that beats every 300 ms keeps its lock for 5 s;
    /// the waiter gets it once it is released.
    #[test]
    fn the_lock_of_a_slow_but_live_writer_is_never_broken() {
        let (clock, timing) = fake();
        let dir = temp_dir();
        let start = clock.wall();
        let lock_dir = killed_runs_lock(&dir, start);
        let owner = lock_dir.join("0123456789abcdef.new");
        let mut last_beat = start;
        let mut released_at = None;
        let seen_owner = lock_dir.clone();
        *clock.on_sleep.lock().unwrap() = Some(Box::new(move |now| {
            let elapsed = now.duration_since(start).unwrap();
            if released_at.is_none() {
                // Never broken while its owner lives.
                assert!(seen_owner.join("0123456789abcdef.new").exists());
            }
            if elapsed >= Duration::from_secs(5) && released_at.is_none() {
                fs::remove_dir_all(&seen_owner).unwrap();
                released_at = Some(now);
            } else if released_at.is_none()
                && now.duration_since(last_beat).unwrap() >= Duration::from_millis(300)
            {
                touch(&owner, now);
                last_beat = now;
            }
        }));
        let lock = Lock::acquire(&dir.join("auth.ini"), &timing).unwrap();
        let waited = clock.wall().duration_since(start).unwrap();
        assert!(
            waited >= Duration::from_secs(5) && waited < Duration::from_millis(5100),
            "{waited:?}"
        );
        drop(lock);
        fs::remove_dir_all(dir).unwrap();
    }

    /// SPEC §5 "every wait is bounded": a live lock is waited for exactly
    /// the lock wait, then the error says who holds it; the lock stays.
    #[test]
    fn a_live_lock_is_waited_for_the_lock_wait_then_fails_and_stays() {
        let (clock, timing) = fake();
        let dir = temp_dir();
        let start = clock.wall();
        let lock_dir = killed_runs_lock(&dir, start);
        let owner = lock_dir.join("0123456789abcdef.new");
        *clock.on_sleep.lock().unwrap() = Some(Box::new(move |now| touch(&owner, now)));
        let err = Lock::acquire(&dir.join("auth.ini"), &timing).unwrap_err();
        assert_eq!(clock.slept(), LOCK_WAIT);
        assert!(
            err.to_string().contains("held by another contree run"),
            "{err}"
        );
        assert!(lock_dir.join("0123456789abcdef.new").exists());
        fs::remove_dir_all(dir).unwrap();
    }

    /// SPEC §5 "a lock that cannot be taken or broken fails within the lock
    /// wait with a clear error": a link at the lock's path, at once.
    #[cfg(unix)]
    #[test]
    fn a_lock_path_that_is_a_link_fails_at_once() {
        let (clock, timing) = fake();
        let dir = temp_dir();
        std::os::unix::fs::symlink("elsewhere", dir.join("auth.ini.lock")).unwrap();
        let err = Lock::acquire(&dir.join("auth.ini"), &timing).unwrap_err();
        assert!(err.to_string().contains("not a lock"), "{err}");
        assert!(!err.to_string().contains('\n'));
        assert_eq!(*clock.slept.lock().unwrap(), Vec::<Duration>::new());
        fs::remove_dir_all(dir).unwrap();
    }

    /// A lock directory left empty (its run killed before it wrote the
    /// owner file) or an older version's lock file is judged as a lock is:
    /// broken once seen unchanged for the stale interval.
    #[test]
    fn an_empty_lock_directory_and_an_old_lock_file_are_broken_once_seen_unchanged() {
        let (clock, timing) = fake();
        let dir = temp_dir();
        let old = clock.wall() - Duration::from_secs(5);
        fs::create_dir(dir.join("auth.ini.lock")).unwrap();
        File::open(dir.join("auth.ini.lock"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        drop(Lock::acquire(&dir.join("auth.ini"), &timing).unwrap());
        fs::write(dir.join("auth.ini.lock"), "contree-auth 0123").unwrap();
        touch(&dir.join("auth.ini.lock"), old);
        drop(Lock::acquire(&dir.join("auth.ini"), &timing).unwrap());
        assert_eq!(names(&dir), Vec::<String>::new());
        let slept = clock.slept();
        assert!(
            slept >= 2 * STALE_INTERVAL && slept < 2 * (STALE_INTERVAL + LONGEST_PAUSE),
            "{slept:?}"
        );
        fs::remove_dir_all(dir).unwrap();
    }

    /// SPEC §5 "only its owner deletes it": an owner whose lock was broken
    /// and taken by another run deletes nothing of the new one on drop.
    #[test]
    fn an_owner_whose_lock_was_taken_over_deletes_nothing_of_the_new_one() {
        let (clock, timing) = fake();
        let dir = temp_dir();
        let lock = Lock::acquire(&dir.join("auth.ini"), &timing).unwrap();
        // Stalled past the stale interval; another run breaks it and takes over.
        clock.sleep(Duration::from_secs(2));
        let other = Lock::acquire(&dir.join("auth.ini"), &timing).unwrap();
        fs::write(other.new_file(), "the other run's file").unwrap();
        drop(lock);
        assert_eq!(
            fs::read_to_string(other.new_file()).unwrap(),
            "the other run's file"
        );
        drop(other);
        assert_eq!(names(&dir), Vec::<String>::new());
        fs::remove_dir_all(dir).unwrap();
    }

    /// "A failed write of the owner file must not leave a lock behind": a
    /// full disk when the owner's file is created removes the directory
    /// just made, and the error is one line.
    #[test]
    fn a_failed_write_of_the_owners_file_leaves_no_lock() {
        let (_clock, timing) = fake();
        let dir = temp_dir();
        let lock = dir.join("auth.ini.lock");
        fs::create_dir(&lock).unwrap();
        let err = Lock::own_with(&lock, &timing, |_| {
            Err(std::io::Error::from_raw_os_error(28)) // ENOSPC
        })
        .unwrap_err();
        assert!(err.to_string().contains("cannot write the lock"), "{err}");
        assert!(!err.to_string().contains('\n'));
        assert_eq!(names(&dir), Vec::<String>::new());
        fs::remove_dir_all(dir).unwrap();
    }

    /// SPEC §5 "a stale lock is broken by an atomic rename so that two
    /// breakers cannot both win": two waiters judged the same dead lock
    /// stale; the first broke it and holds a fresh lock when the second
    /// acts. The second renames the dead owner's file by its name, finds
    /// it gone, and leaves the first one's lock alone.
    #[test]
    fn a_late_second_breaker_never_takes_the_first_breakers_fresh_lock() {
        let (clock, timing) = fake();
        let dir = temp_dir();
        let lock_dir = killed_runs_lock(&dir, clock.wall() - Duration::from_secs(5));
        let judged = match inspect(&lock_dir).unwrap() {
            Seen::Held(sight) => sight,
            other => panic!("{other:?}"),
        };
        assert_eq!(judged.owners(), ["0123456789abcdef.new"]);
        let first = Lock::acquire(&dir.join("auth.ini"), &timing).unwrap();
        break_lock(&lock_dir, &judged).unwrap();
        assert!(
            first.new_file().exists(),
            "the first breaker's lock was taken"
        );
        drop(first);
        assert_eq!(names(&dir), Vec::<String>::new());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn working_file_names_are_the_stores_own_and_nothing_else() {
        for ours in [
            "auth.ini.lock",
            "auth.ini.lock.0123456789abcdef.stale",
            "auth.ini.lock.0123456789abcdef.claim",
            ".auth.ini.0123456789abcdef.tmp",
        ] {
            assert!(is_working_file(ours, "auth.ini"), "{ours}");
        }
        for theirs in [
            "auth.ini",
            "cli.ini",
            "auth.ini.lockx",
            "auth.ini.lock.notours.stale",
            ".auth.ini.1234.tmp",
            "notes.tmp",
            "x.ini.lock",
        ] {
            assert!(!is_working_file(theirs, "auth.ini"), "{theirs}");
        }
    }
}
