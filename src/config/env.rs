//! The environment the host passed in, and where the config directory is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{AuthError, Fix};

/// The variables that name the config home, in the order they are tried
/// (the launcher passes exactly these through).
pub const HOME_VARIABLES: [&str; 3] = ["CONTREE_HOME", "XDG_CONFIG_HOME", "HOME"];

/// Save-time fallbacks, in order of precedence. Only saving a profile (the
/// CLI's `contree auth`, MCP's `save_profile`) reads them.
pub const TOKEN_VARS: &[&str] = &["CONTREE_TOKEN", "NEBIUS_API_KEY"];
pub const URL_VARS: &[&str] = &["CONTREE_URL"];
pub const PROJECT_VARS: &[&str] = &["CONTREE_PROJECT", "NEBIUS_AI_PROJECT"];

/// Set to `1` by a host that switches terminal echo off while the token is
/// typed (the `contree` launcher does). A component cannot do it itself, so
/// without this promise the token is never asked for on a terminal.
pub const HIDDEN_INPUT_VAR: &str = "CONTREE_HIDDEN_INPUT";

/// Environment variables, as the component received them, and the
/// directories the host preopened (their guest paths).
#[derive(Debug, Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
    preopens: Vec<PathBuf>,
    /// Whether files are reached only through `preopens` (under WASI); a
    /// native run (the unit tests) reaches every path.
    sandboxed: bool,
}

impl Environment {
    pub fn new(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        Environment {
            vars: vars.into_iter().collect(),
            preopens: Vec::new(),
            sandboxed: false,
        }
    }

    /// The guest paths of the directories the host preopened.
    /// Files are then reached only through them, as under WASI.
    pub fn with_preopens(mut self, preopens: impl IntoIterator<Item = PathBuf>) -> Self {
        self.preopens = preopens.into_iter().collect();
        self.sandboxed = true;
        self
    }

    /// Whether `dir` can be opened: WASI opens a path only through a
    /// preopened directory that holds it (an absolute path by its prefix, a
    /// relative one through `.`).
    pub fn reachable(&self, dir: &Path) -> bool {
        !self.sandboxed
            || self
                .preopens
                .iter()
                .any(|open| dir.starts_with(open) || (open == Path::new(".") && dir.is_relative()))
    }

    /// `Ok` when `dir` (the directory of the config, named by `source`: a
    /// variable or `-c`) is [`reachable`](Self::reachable); otherwise one
    /// line saying so, with the directory to grant as its [`Fix`] (each
    /// face spells how its host grants one). Every command fails on it,
    /// before anything is read, asked or sent: without it `ls` would see no
    /// profiles and `save` would verify a token it cannot write.
    pub fn check_reachable(&self, dir: &Path, source: &str) -> Result<(), AuthError> {
        if self.reachable(dir) {
            return Ok(());
        }
        let dir = crate::sanitize::escape_controls(&dir.to_string_lossy()).into_owned();
        Err(AuthError::NotGranted {
            message: format!(
                "cannot reach the config directory {dir} (from {source}): the host grants no directory that holds it"
            ),
            fix: Fix::GrantConfigDir { dir },
        })
    }

    /// The variable the config home comes from (see [`Environment::contree_home`]).
    pub fn home_source(&self) -> &'static str {
        self.first_of(&HOME_VARIABLES)
            .map_or("the only preopened directory", |(name, _)| name)
    }

    /// A variable's value; an empty one counts as unset, as `os.getenv(x) or ...` does.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The first of `names` that is set (and not empty), with its name.
    pub fn first_of(&self, names: &[&'static str]) -> Option<(&'static str, &str)> {
        names.iter().find_map(|&name| Some((name, self.get(name)?)))
    }

    /// `~` and `~/...` expanded against `HOME`, as Python's `expanduser`.
    pub fn expand_user(&self, path: &str) -> PathBuf {
        match (path.strip_prefix('~'), self.get("HOME")) {
            (Some(""), Some(home)) => PathBuf::from(home),
            (Some(rest), Some(home)) if rest.starts_with('/') => {
                PathBuf::from(format!("{home}{rest}"))
            }
            _ => PathBuf::from(path),
        }
    }

    /// `CONTREE_HOME`, else `XDG_CONFIG_HOME/contree`, else
    /// `HOME/.config/contree`, else the one directory the host preopened.
    ///
    /// The last rule is for capability hosts (SPEC section 6), which grant a
    /// directory but pass no environment: with a single preopen there is
    /// nowhere else the config could be. With several, guessing could write
    /// tokens into the wrong one, so there is no home.
    pub fn contree_home(&self) -> Option<PathBuf> {
        if let Some(home) = self.get("CONTREE_HOME") {
            return Some(self.expand_user(home));
        }
        if let Some(xdg) = self.get("XDG_CONFIG_HOME") {
            return Some(self.expand_user(xdg).join("contree"));
        }
        if let Some(home) = self.get("HOME") {
            return Some(PathBuf::from(home).join(".config").join("contree"));
        }
        match self.preopens.as_slice() {
            [only] => Some(only.clone()),
            _ => None,
        }
    }

    /// [`Environment::contree_home`], or a one-line error whose [`Fix`]
    /// says what the host should pass.
    pub fn config_home(&self) -> Result<PathBuf, AuthError> {
        self.contree_home().ok_or_else(|| {
            let message = match self.preopens.len() {
                0 => "cannot find the config directory: the host preopened no directory and \
                      passed none of CONTREE_HOME, XDG_CONFIG_HOME and HOME"
                    .to_string(),
                n => format!(
                    "cannot find the config directory: the host preopened {n} directories \
                     and passed none of CONTREE_HOME, XDG_CONFIG_HOME and HOME to say which one holds it"
                ),
            };
            AuthError::NotGranted {
                message,
                fix: Fix::NameConfigHome,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Environment {
        Environment::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn home_precedence() {
        let all = env(&[
            ("CONTREE_HOME", "/c"),
            ("XDG_CONFIG_HOME", "/x"),
            ("HOME", "/h"),
        ]);
        assert_eq!(all.contree_home(), Some(PathBuf::from("/c")));
        let xdg = env(&[
            ("CONTREE_HOME", ""),
            ("XDG_CONFIG_HOME", "/x"),
            ("HOME", "/h"),
        ]);
        assert_eq!(xdg.contree_home(), Some(PathBuf::from("/x/contree")));
        let home = env(&[("HOME", "/h")]);
        assert_eq!(
            home.contree_home(),
            Some(PathBuf::from("/h/.config/contree"))
        );
        assert_eq!(env(&[]).contree_home(), None);
        let tilde = env(&[("CONTREE_HOME", "~/c"), ("HOME", "/h")]);
        assert_eq!(tilde.contree_home(), Some(PathBuf::from("/h/c")));
    }

    fn preopened(pairs: &[(&str, &str)], dirs: &[&str]) -> Environment {
        env(pairs).with_preopens(dirs.iter().map(PathBuf::from))
    }

    #[test]
    fn single_preopen_is_the_config_home_when_no_home_variable_is_passed() {
        let one = preopened(&[], &["/granted"]);
        assert_eq!(one.contree_home(), Some(PathBuf::from("/granted")));
        assert_eq!(one.config_home().ok(), Some(PathBuf::from("/granted")));
        // An empty variable counts as unset, as everywhere else.
        let empty = preopened(&[("HOME", ""), ("CONTREE_HOME", "")], &["/granted"]);
        assert_eq!(empty.contree_home(), Some(PathBuf::from("/granted")));
        // A relative guest path is kept as the host named it.
        let dot = preopened(&[], &["."]);
        assert_eq!(dot.contree_home(), Some(PathBuf::from(".")));
    }

    #[test]
    fn a_home_variable_wins_over_a_single_preopen() {
        for (var, expected) in [
            ("CONTREE_HOME", "/v"),
            ("XDG_CONFIG_HOME", "/v/contree"),
            ("HOME", "/v/.config/contree"),
        ] {
            let e = preopened(&[(var, "/v")], &["/granted"]);
            assert_eq!(e.contree_home(), Some(PathBuf::from(expected)), "{var}");
        }
    }

    /// Issue 20 item 2: a home the host did not grant is an error naming
    /// the `--dir` to pass, not an empty config.
    #[test]
    fn a_config_home_no_preopen_holds_is_reported_with_the_dir_to_pass() {
        let granted = preopened(&[("HOME", "/h")], &["/h/.config/contree"]);
        let home = granted.contree_home().unwrap();
        assert_eq!(
            granted.check_reachable(&home, granted.home_source()),
            Ok(())
        );
        let parent = preopened(&[("HOME", "/h")], &["/h"]);
        assert!(parent.reachable(&parent.contree_home().unwrap()));
        let root = preopened(&[("HOME", "/h")], &["/"]);
        assert!(root.reachable(Path::new("/h/.config/contree")));

        let elsewhere = preopened(&[("HOME", "/h")], &["/tmp/x", "/h/.config/contreex"]);
        let home = elsewhere.contree_home().unwrap();
        let err = elsewhere
            .check_reachable(&home, elsewhere.home_source())
            .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("(from HOME)"), "{message}");
        assert_eq!(
            err.fix(),
            Some(Fix::GrantConfigDir {
                dir: "/h/.config/contree".into()
            })
        );
        // The core names no host's command: each face spells the grant.
        assert!(!message.contains("wasmtime"), "{message}");
        assert!(!message.contains('\n'));
        let none = preopened(&[("CONTREE_HOME", "/c\u{1b}[2J")], &[]);
        let message = none
            .check_reachable(&none.contree_home().unwrap(), none.home_source())
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("/c\\x1b[2J (from CONTREE_HOME)"),
            "{message}"
        );
        // Relative paths go through `.`; natively every path is reachable.
        assert!(preopened(&[], &["."]).reachable(Path::new("cfg")));
        assert!(!preopened(&[], &["."]).reachable(Path::new("/abs")));
        assert!(env(&[]).reachable(Path::new("/anywhere")));
    }

    #[test]
    fn several_preopens_without_a_home_variable_name_the_variables_to_pass() {
        let two = preopened(&[("CONTREE_PROFILE", "x")], &["/a", "/b"]);
        assert_eq!(two.contree_home(), None);
        let err = two.config_home().unwrap_err();
        assert_eq!(err.fix(), Some(Fix::NameConfigHome));
        let message = err.with_next_step();
        for var in HOME_VARIABLES {
            assert!(message.contains(var), "{message}");
        }
        assert!(message.contains("2 directories"), "{message}");
        assert!(!message.contains('\n'));
        let none = preopened(&[], &[]);
        let message = none.config_home().unwrap_err().with_next_step();
        assert!(message.contains("preopened no directory"), "{message}");
        for var in HOME_VARIABLES {
            assert!(message.contains(var), "{message}");
        }
    }
}
