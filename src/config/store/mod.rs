//! The profile store: reads `cli.ini` + `auth.ini`, and changes `auth.ini`
//! under a lock with an atomic, conditional replace, so concurrent runs lose
//! no profile and a crash never leaves a half-written file.
//!
//! This is the only code that touches the file system, in rooms by job:
//! `base` (file names, ids and I/O-error wording: the leaf the others stand
//! on), `files` (links and the read rules), `catalog` (the two files
//! merged), `lock` (the lock protocol), `atomic` (the replace), `sessions`
//! (names as file names). What it assumes of the files is nothing (SPEC §5): a name
//! from a file never becomes more than one path component, a link is
//! followed to the file it names and kept, a FIFO or device is refused
//! before it is opened, and every wait for the lock ends within [`LOCK_WAIT`].

mod atomic;
mod base;
mod catalog;
mod files;
mod lock;
mod sessions;

use std::path::PathBuf;

use self::atomic::Attempt;
use self::lock::Lock;
use super::ini::Document;
use crate::error::AuthError;

pub use self::catalog::{Catalog, DefinedIn, Loaded, read_texts};
pub use self::lock::{LockTiming, is_working_file};
pub use self::sessions::{MAX_NAME_BYTES, SessionStem, SessionsDeleted};

/// Set to `1` by a host that already makes new files private (the launcher
/// runs under umask 077): no warning when auth.ini is written.
pub const PRIVATE_FILES_VAR: &str = "CONTREE_PRIVATE_FILES";
/// How many times a read-modify-write cycle starts over after losing its lock.
const MAX_ATTEMPTS: usize = 3;

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
}

/// What a write returned, and what the user should be told about it
/// (such as: auth.ini's mode follows the host's umask).
#[derive(Debug)]
pub struct Written<T> {
    pub value: T,
    pub warnings: Vec<String>,
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
        }
    }

    /// Says whether the host makes new files private (`CONTREE_PRIVATE_FILES=1`).
    pub fn with_private_files(mut self, private: bool) -> Store {
        self.private_files = private;
        self
    }

    /// Reads both files; nothing is written or locked, so a read-only
    /// config folder lists fine (SPEC §7).
    fn read_both(&self) -> Result<catalog::BothFiles, AuthError> {
        let cli = files::read_document(&self.cli_path, &|| {})?;
        let auth = files::read_document(&self.auth_path, &|| {})?;
        Ok(catalog::BothFiles::merge(cli, auth))
    }

    /// Every profile with its values; a value that cannot be read (a bad
    /// `%`, an expansion over 64 KiB) is an error naming its key and section.
    pub fn load(&self) -> Result<Loaded, AuthError> {
        self.read_both()?.load(&self.auth_path)
    }

    /// Whether a write of auth.ini could go through, found out before a
    /// save sends its token anywhere (see [`files::check_writable`]).
    pub fn check_writable(&self) -> Result<(), AuthError> {
        // The folder the write happens in: a link's target's, as in `modify_once`.
        files::check_writable(&files::resolve_links(&self.auth_path)?)
    }

    /// The profiles' names and where they are defined; no value is read.
    pub fn catalog(&self) -> Result<Catalog, AuthError> {
        Ok(self.read_both()?.catalog())
    }

    /// Runs one read-modify-write cycle of `auth.ini` under the lock. The
    /// file is rewritten only when `change` succeeds and the lock is still
    /// ours at the rename that commits. A run that lost its lock (stalled
    /// past the stale interval) has written nothing; it starts over on the file
    /// as it is now, so its change lands on top of the newer one instead of
    /// over it.
    pub fn modify<T>(
        &self,
        mut change: impl FnMut(&mut Document) -> Result<T, AuthError>,
    ) -> Result<Written<T>, AuthError> {
        let mut attempts = 0;
        let value = loop {
            attempts += 1;
            match self.modify_once(&mut change) {
                Ok(value) => break value,
                Err(Attempt::LockLost(_)) if attempts < MAX_ATTEMPTS => {}
                Err(Attempt::LockLost(err) | Attempt::Failed(err)) => return Err(err),
            }
        };
        let mut warnings = Vec::new();
        // SPEC §5: every atomic rewrite makes a new file, whose mode WASI
        // cannot set: rewriting a 0600 file is the common case.
        if !self.private_files {
            warnings.push(format!(
                "{} was written with the host's default file mode, which may let other users read its tokens; run under `umask 077` and say so with {PRIVATE_FILES_VAR}=1 (the Python CLI keeps it 0600)",
                self.auth_path.display()
            ));
        }
        Ok(Written { value, warnings })
    }

    fn modify_once<T>(
        &self,
        change: &mut impl FnMut(&mut Document) -> Result<T, AuthError>,
    ) -> Result<T, Attempt> {
        // The lock sits beside the file a link names, where the rename happens.
        let target = files::resolve_links(&self.auth_path)?;
        let mut lock = Lock::acquire(&target, &self.lock_timing)?;
        lock::remove_leftovers(&target, &lock);
        let mut doc = files::read_resolved(&target, &|| lock.beat())?;
        let result = change(&mut doc)?;
        lock.beat();
        atomic::replace(&mut lock, &target, doc.write().as_bytes())?;
        Ok(result)
    }

    /// Deletes the session databases of a profile, both layouts
    /// (`cli/sessions/NAME.db` and `sessions-NAME.db`, each with `-wal` and
    /// `-shm`), all directly in CONTREE_HOME's folders.
    pub fn remove_session_databases(&self, stem: &SessionStem) -> SessionsDeleted {
        sessions::remove_session_databases(&self.home, stem)
    }
}

#[cfg(test)]
mod tests {
    use std::fs::{self, OpenOptions};
    use std::path::Path;
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::config::profile;
    use crate::testing::{TempDir, temp_dir};

    fn temp_home() -> TempDir {
        temp_dir("contree-store-")
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
        assert_eq!(
            leftovers(&home),
            Vec::<String>::new(),
            "no lock, no new file"
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
            ..LockTiming::default()
        };
        store
    }

    fn set(store: &Store, key: &str) -> Result<(), AuthError> {
        store
            .modify(|doc| {
                doc.section_or_insert("s").set_raw(key, "1".into());
                Ok(())
            })
            .map(|_| ())
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
    /// snapshot": A reads, stalls past the stale interval (once, as a SIGSTOP or
    /// VM pause would); B breaks A's lock and commits. A must not write its
    /// old snapshot over B's update: it starts over on the new file, so both
    /// updates are there. The two threads hand over by channels, not by
    /// sleeps: A holds its lock until B has committed, however slow the
    /// machine (B itself watches it for the 300 ms stale interval).
    #[test]
    fn a_writer_stalled_past_the_stale_age_loses_no_update() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::mpsc::channel;
        const HANDOVER: Duration = Duration::from_secs(60);
        let home = temp_home();
        let store = quick(&home);
        set(&store, "before").unwrap();
        let attempts = Arc::new(AtomicUsize::new(0));
        let (holding, a_holds) = channel();
        let (b_committed, committed) = channel::<()>();
        let stalled = {
            let store = store.clone();
            let attempts = attempts.clone();
            std::thread::spawn(move || {
                store.modify(|doc| {
                    if attempts.fetch_add(1, Ordering::SeqCst) == 0 {
                        holding.send(()).unwrap();
                        committed
                            .recv_timeout(HANDOVER)
                            .expect("the breaker commits");
                    }
                    let saw_breaker = doc.section_or_insert("s").contains("breaker");
                    doc.section_or_insert("s").set_raw("stalled", "1".into());
                    Ok(saw_breaker)
                })
            })
        };
        a_holds
            .recv_timeout(HANDOVER)
            .expect("the stalled writer holds its lock");
        set(&store, "breaker").unwrap();
        b_committed.send(()).unwrap();
        let saw_breaker = stalled.join().unwrap().unwrap().value;
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
    fn many_writers_breaking_a_stale_lock_at_once_lose_nothing() {
        let home = temp_home();
        let mut store = quick(&home);
        // Stale only for the killed run's lock, whatever the machine's load.
        store.lock_timing.stale_after = Duration::from_secs(5);
        store.lock_timing.wait = Duration::from_secs(30);
        let killed = lock_path(&home).join("0123456789abcdef.new");
        fs::create_dir(lock_path(&home)).unwrap();
        fs::write(&killed, "[profile:half").unwrap();
        backdate(&killed, Duration::from_secs(60));
        OpenOptions::new()
            .read(true)
            .open(lock_path(&home))
            .unwrap()
            .set_modified(SystemTime::now() - Duration::from_secs(60))
            .unwrap();
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
    fn leftovers_of_killed_writers_and_breakers_are_removed_under_the_lock() {
        let home = temp_home();
        // A breaker killed after its rename, before it deleted the lock.
        let broken = home.join("auth.ini.lock.0123456789abcdef.stale");
        fs::create_dir(&broken).unwrap();
        fs::write(broken.join("fedcba9876543210.new"), "[profile:half").unwrap();
        // What older versions left.
        let killed = home.join(".auth.ini.0123456789abcdef.tmp");
        let claimed = home.join("auth.ini.lock.0123456789abcdef.claim");
        let unrelated = home.join(".auth.ini.notours.tmp");
        for file in [&killed, &claimed, &unrelated] {
            fs::write(file, "x").unwrap();
        }
        set(&quick(&home), "x").unwrap();
        assert!(!killed.exists() && !claimed.exists() && !broken.exists());
        assert!(unrelated.exists(), "only our own names are removed");
        fs::remove_dir_all(home).unwrap();
    }

    /// SPEC §7 "no temp or lock file is left for the next run": a commit
    /// that fails (the file turned into a folder) leaves the old state, and
    /// neither the lock nor the new file.
    #[test]
    fn a_failed_commit_leaves_no_lock_and_no_new_file() {
        let home = temp_home();
        let store = quick(&home);
        let err = store
            .modify(|doc| {
                fs::create_dir_all(home.join("auth.ini/in-the-way")).unwrap();
                doc.section_or_insert("s").set_raw("x", "1".into());
                Ok(())
            })
            .unwrap_err();
        assert!(err.to_string().contains("cannot write"), "{err}");
        assert!(!err.to_string().contains('\n'));
        assert_eq!(leftovers(&home), Vec::<String>::new());
        assert!(home.join("auth.ini/in-the-way").is_dir());
        fs::remove_dir_all(home).unwrap();
    }

    /// SPEC §5 "a writer whose lock was broken does not commit its stale
    /// snapshot": a writer whose lock is taken away each time (as a breaker
    /// would) gives up after its attempts, with a clear error, having
    /// written nothing.
    #[test]
    fn a_writer_that_keeps_losing_its_lock_gives_up_without_writing() {
        let home = temp_home();
        let store = quick(&home);
        set(&store, "before").unwrap();
        let mut attempts = 0;
        let err = store
            .modify(|doc| {
                attempts += 1;
                // Another run breaks the lock and holds its own.
                let away = home.join(format!("auth.ini.lock.{:016x}.stale", attempts));
                fs::rename(lock_path(&home), &away).unwrap();
                fs::create_dir(lock_path(&home)).unwrap();
                fs::write(lock_path(&home).join("aaaaaaaaaaaaaaaa.new"), "theirs").unwrap();
                doc.section_or_insert("s").set_raw("lost", "1".into());
                Ok(())
            })
            .unwrap_err();
        assert_eq!(attempts, 3);
        assert!(err.to_string().contains("nothing was written"), "{err}");
        let text = fs::read_to_string(home.join("auth.ini")).unwrap();
        assert!(!text.contains("lost") && text.contains("before"), "{text}");
        assert_eq!(
            fs::read_to_string(lock_path(&home).join("aaaaaaaaaaaaaaaa.new")).unwrap(),
            "theirs",
            "the other run's lock is not touched"
        );
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

    /// SPEC §5 "every run that writes auth.ini warns once that its mode
    /// follows the host's umask ... Rewriting a 0600 file is the common
    /// case, not only creating one", unless the host said it makes files
    /// private.
    #[test]
    fn every_write_of_auth_ini_warns_once_about_its_mode_unless_the_host_made_it_private() {
        let home = temp_home();
        let store = quick(&home).with_private_files(false);
        let change = |doc: &mut Document| {
            doc.section_or_insert("s").set_raw("a", "1".into());
            Ok(())
        };
        for _create_then_rewrite in 0..2 {
            let warnings = store.modify(change).unwrap().warnings;
            assert_eq!(warnings.len(), 1, "{warnings:?}");
            assert!(
                warnings[0].contains("auth.ini was written with the host's default file mode")
                    && warnings[0].contains("umask 077"),
                "{warnings:?}"
            );
        }
        let private_home = temp_home();
        let store = quick(&private_home).with_private_files(true);
        assert_eq!(store.modify(change).unwrap().warnings, Vec::<String>::new());
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
}
