//! The environment the host passed in, and where the config directory is.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Environment variables, as the component received them.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl Environment {
    pub fn new(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        Environment {
            vars: vars.into_iter().collect(),
        }
    }

    /// A variable's value; an empty one counts as unset, as `os.getenv(x) or ...` does.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
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

    /// `CONTREE_HOME`, else `XDG_CONFIG_HOME/contree`, else `HOME/.config/contree`.
    pub fn contree_home(&self) -> Option<PathBuf> {
        if let Some(home) = self.get("CONTREE_HOME") {
            return Some(self.expand_user(home));
        }
        if let Some(xdg) = self.get("XDG_CONFIG_HOME") {
            return Some(self.expand_user(xdg).join("contree"));
        }
        self.get("HOME")
            .map(|home| PathBuf::from(home).join(".config").join("contree"))
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
}
