//! Profile names as file names: the session databases of a profile
//! (`CONTREE_HOME/cli/sessions/NAME.db` and `CONTREE_HOME/sessions-NAME.db`,
//! each with `-wal` and `-shm`), and the one length rule for names.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use super::files::is_real_dir;

/// No file system in use makes a file name longer than this (Linux, macOS
/// and Windows: 255 bytes).
const MAX_FILE_NAME_BYTES: usize = 255;

/// The longest name a new profile may have: the longest of its session
/// files, `sessions-NAME.db-wal`, must be a name that can exist. The one
/// length rule: `save` refuses longer names; a longer name another tool
/// saved is still listed, switched to and removed.
pub const MAX_NAME_BYTES: usize = MAX_FILE_NAME_BYTES - "sessions-".len() - ".db-wal".len();

/// The session database layouts: a folder under CONTREE_HOME, and the
/// file name's prefix and suffix around the profile name.
const LAYOUTS: [(&str, &str, &str); 2] = [("cli/sessions", "", ".db"), ("", "sessions-", ".db")];
const SUFFIXES: [&str; 3] = ["", "-wal", "-shm"];

/// A profile name made safe to be part of a file name: one path component,
/// so that the session databases built from it stay in their folder (SPEC §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionStem(String);

impl SessionStem {
    /// The name, or why it cannot be one path component. Any length: a
    /// file name that cannot exist is skipped when deleting.
    pub fn new(name: &str) -> Result<SessionStem, String> {
        if name.is_empty() {
            return Err("it is empty".into());
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

/// What deleting a profile's session databases did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SessionsDeleted {
    pub files: Vec<String>,
    /// For the user: file names that cannot exist were not looked for.
    pub warnings: Vec<String>,
}

/// Deletes the session databases of a profile, both layouts, all directly
/// in CONTREE_HOME's folders; a `cli` or `sessions` that is a link (it could
/// lead out of CONTREE_HOME) is not followed.
pub(super) fn remove_session_databases(home: &Path, stem: &SessionStem) -> SessionsDeleted {
    let mut done = SessionsDeleted::default();
    let mut impossible = 0;
    for (folder, prefix, suffix) in LAYOUTS {
        let dir = home.join(folder);
        let is_ours = folder.is_empty() || (is_real_dir(&home.join("cli")) && is_real_dir(&dir));
        if !is_ours {
            continue;
        }
        for extra in SUFFIXES {
            let name = format!("{prefix}{stem}{suffix}{extra}");
            if name.len() > MAX_FILE_NAME_BYTES {
                impossible += 1;
                continue;
            }
            let path: PathBuf = dir.join(name);
            // Only files: a directory or FIFO of that name is not a database.
            let is_file = fs::symlink_metadata(&path).is_ok_and(|m| !m.is_dir());
            if is_file && fs::remove_file(&path).is_ok() {
                done.files.push(path.display().to_string());
            }
        }
    }
    if impossible > 0 {
        done.warnings.push(format!(
            "profile {}: {impossible} of its session database file names would be over {MAX_FILE_NAME_BYTES} bytes, which no file system allows; they were not looked for",
            crate::python::repr(stem.as_str())
        ));
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TempDir, temp_dir};

    fn temp_root() -> TempDir {
        temp_dir("contree-sessions-")
    }

    /// SPEC §5 "`<name>` is one path component; anything else is refused".
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
        for good in ["default", "a b", "naïve", "a%b", "a]b", "..a", "x.."] {
            assert_eq!(SessionStem::new(good).unwrap().as_str(), good);
        }
        // Length is not a path question: a long name saved by another tool is removable.
        let long = "x".repeat(250);
        assert_eq!(SessionStem::new(&long).unwrap().as_str(), long);
    }

    #[test]
    fn the_longest_new_name_has_session_files_that_can_exist() {
        let longest = format!("sessions-{}.db-wal", "x".repeat(MAX_NAME_BYTES));
        assert_eq!(longest.len(), MAX_FILE_NAME_BYTES);
    }

    /// SPEC §5 "`remove` deletes only `CONTREE_HOME/cli/sessions/<name>.db{,-wal,-shm}`
    /// and `CONTREE_HOME/sessions-<name>.db{,-wal,-shm}`".
    #[test]
    fn session_databases_are_deleted_only_inside_their_folders() {
        let root = temp_root();
        let home = root.join("home");
        let outside = root.join("outside");
        fs::create_dir_all(home.join("cli/sessions")).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(home.join("cli/sessions/a.db"), "x").unwrap();
        fs::write(home.join("sessions-a.db-wal"), "x").unwrap();
        fs::write(outside.join("a.db"), "victim").unwrap();
        let stem = SessionStem::new("a").unwrap();
        let deleted = remove_session_databases(&home, &stem);
        assert_eq!(deleted.files.len(), 2, "{deleted:?}");
        assert!(deleted.warnings.is_empty());
        assert!(outside.join("a.db").exists());
        // A `sessions` folder that is a link out of CONTREE_HOME is not followed.
        #[cfg(unix)]
        {
            fs::remove_dir_all(home.join("cli/sessions")).unwrap();
            std::os::unix::fs::symlink(&outside, home.join("cli/sessions")).unwrap();
            let deleted = remove_session_databases(&home, &stem);
            assert!(deleted.files.is_empty(), "{deleted:?}");
            assert!(outside.join("a.db").exists());
        }
        fs::remove_dir_all(root).unwrap();
    }

    /// A session database whose file name cannot exist is skipped with a
    /// warning; those that can exist are still deleted.
    #[test]
    fn session_files_whose_names_cannot_exist_are_skipped_with_a_warning() {
        let root = temp_root();
        fs::create_dir_all(root.join("cli/sessions")).unwrap();
        // `NAME.db-wal` fits (251 bytes), `sessions-NAME.db` does not (256).
        let name = "y".repeat(244);
        fs::write(root.join(format!("cli/sessions/{name}.db")), "x").unwrap();
        let deleted = remove_session_databases(&root, &SessionStem::new(&name).unwrap());
        assert_eq!(deleted.files.len(), 1, "{deleted:?}");
        assert_eq!(deleted.warnings.len(), 1, "{deleted:?}");
        assert!(
            deleted.warnings[0].contains("3 of its session database file names")
                && deleted.warnings[0].contains("over 255 bytes"),
            "{:?}",
            deleted.warnings
        );
        fs::remove_dir_all(root).unwrap();
    }
}
