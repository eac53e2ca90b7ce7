//! Two config homes side by side, one per tool, and one mock API both talk
//! to: a scenario runs each command on both and then cross-reads the files.

use std::path::Path;

use contree_host::harness::support::Save;
use contree_host::{MockApi, Outcome, Sandbox};
use serde_json::Value;

use crate::common::{check, ours, rows_of, show};
use crate::differences::{self, NO_PROFILES, our_format, py_format};
use crate::python::{self, Loaded};

pub struct Twin {
    pub api: MockApi,
    /// The Python CLI's home.
    pub py: Sandbox,
    /// Our component's home.
    pub ours: Sandbox,
}

/// One command run by both tools.
pub struct Pair {
    pub label: String,
    pub py: Outcome,
    pub ours: Outcome,
}

/// Python's own `-o json auth ls` of its home.
pub struct PyListing {
    /// The rows as Python printed them.
    pub rows_raw: Vec<Value>,
    /// The rows in our spelling (see `differences::py_row`).
    pub rows: Vec<Value>,
}

impl Default for Twin {
    fn default() -> Self {
        Twin::new()
    }
}

impl Twin {
    pub fn new() -> Twin {
        let mut ours = Sandbox::new();
        // The Python CLI makes auth.ini 0600 itself; WASI cannot, so ours
        // warns unless the host made files private (README "Differences",
        // proven in the component suite). The messages compared here are the
        // rest, as under the launcher, which sets this.
        ours.env("CONTREE_PRIVATE_FILES", "1");
        Twin {
            api: MockApi::start(),
            py: Sandbox::new(),
            ours,
        }
    }

    pub fn url(&self) -> String {
        self.api.url()
    }

    pub fn token(&self, kind: &str) -> String {
        crate::common::token(kind)
    }

    /// Writes the same file into both homes.
    pub fn write_both(&self, rel: &str, contents: &str) {
        self.py.write_file(rel, contents);
        self.ours.write_file(rel, contents);
    }

    /// `auth -p NAME --token TOKEN -u URL -P p1` against this twin's mock.
    pub fn save(&self, name: &str, token: &str) -> Save {
        Save::new(token, &self.url()).name(name).project("p1")
    }

    /// A save run by both tools, with no extra environment and empty stdin.
    pub fn both_save(&mut self, save: &Save) -> Pair {
        self.both(&save.args(), &[], "")
    }

    /// Runs `contree -o json ARGS` (Python) and `contree -f json ARGS` (ours),
    /// each in its own home, with the same extra environment and stdin.
    pub fn both(&mut self, args: &[impl AsRef<str>], env: &[(&str, &str)], stdin: &str) -> Pair {
        let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
        let label = format!("{args:?} env={env:?} stdin={stdin:?}");
        let mut py_args: Vec<String> = py_format("json").to_vec();
        py_args.extend(args.iter().map(|a| a.to_string()));
        let py = self.py_raw(
            &py_args.iter().map(String::as_str).collect::<Vec<_>>(),
            env,
            stdin,
        );

        let mut our_args: Vec<String> = our_format("json").to_vec();
        our_args.extend(args.iter().map(|a| a.to_string()));
        let home = self.ours.home().to_string_lossy().into_owned();
        self.ours.env("HOME", home);
        for (k, v) in env {
            self.ours.env(*k, *v);
        }
        let ours = check(
            self.ours
                .run_with_stdin(our_args.iter(), stdin.as_bytes().to_vec()),
        );
        for (k, _) in env {
            self.ours.remove_env(k);
        }
        Pair {
            py: normalize_paths(py, self.py.home()),
            ours: normalize_paths(ours, self.ours.home()),
            label,
        }
    }

    /// [`Twin::both`], asserting that both succeed (callers check the files
    /// with [`Twin::assert_same_state`] when the setup is done).
    pub fn both_ok(&mut self, args: &[impl AsRef<str>]) -> Pair {
        let pair = self.both(args, &[], "");
        assert_eq!((pair.py.code, pair.ours.code), (0, 0), "{}", pair.dump());
        pair
    }

    /// The Python CLI with these exact arguments, in its home.
    pub fn py_raw(&self, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Outcome {
        let home = self.py.home().to_string_lossy().into_owned();
        let mut full = vec![
            ("CONTREE_HOME".to_string(), home.clone()),
            ("HOME".to_string(), home),
        ];
        full.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        python::run_cli(&args, &full, stdin.as_bytes())
    }

    /// Python's `-o json auth ls EXTRA...` of its own home.
    pub fn py_list(&self, extra: &[&str]) -> PyListing {
        let mut args = vec!["-o", "json", "auth", "ls"];
        args.extend(extra);
        listing_of(self.py_raw(&args, &[], ""))
    }

    /// Our `-f json auth ls EXTRA...` of `home` (either tool's), rows as printed.
    pub fn our_list_raw(&self, home: &Path, extra: &[&str]) -> Vec<Value> {
        let sandbox = if home == self.py.home() {
            &self.py
        } else {
            &self.ours
        };
        let mut args = vec!["-f", "json", "auth", "ls"];
        args.extend(extra);
        let out = ours(sandbox, &args);
        assert_eq!(out.code, 0, "our listing failed:\n{}", show("ours", &out));
        let rows = rows_of(&out.stdout);
        if rows.is_empty() {
            assert!(out.stderr.contains(NO_PROFILES), "{}", show("ours", &out));
        }
        rows
    }

    /// Our rows of `home`, without what only we print.
    pub fn our_list(&self, home: &Path, extra: &[&str]) -> Vec<Value> {
        self.our_list_raw(home, extra)
            .into_iter()
            .map(differences::our_row)
            .collect()
    }

    /// After a step: the two homes hold the same profiles, and each tool
    /// reads the other's file as its own.
    ///
    /// - (b) Python's `load_profiles` gives the same profiles, tokens, URLs,
    ///   types, projects and active profile for our auth.ini as for its own;
    /// - (a) our `-f json auth ls --offline` of Python's home gives the rows
    ///   of Python's own `-o json auth ls --offline`;
    /// - (c) so does ours of our own home.
    pub fn assert_same_state(&self, context: &str) {
        let py_file = self.py.path("auth.ini");
        let our_file = self.ours.path("auth.ini");
        let (loaded, mut listings) =
            python::load_and_list(&[&py_file, &our_file], &[&py_file], self.py.home());
        let listing = listings.remove(0);
        assert!(
            matches!(loaded[0], Loaded::Ok { .. }),
            "{context}: Python cannot read its own file: {:?}",
            loaded[0]
        );
        assert_eq!(
            loaded[1],
            loaded[0],
            "{context}: load_profiles of our auth.ini (left) vs of Python's (right)\n--- ours:\n{}\n--- python:\n{}",
            self.ours.read_file("auth.ini").unwrap_or_default(),
            self.py.read_file("auth.ini").unwrap_or_default(),
        );

        let reference = listing_of(listing).rows;
        let ours_of_py = self.our_list(self.py.home(), &["--offline"]);
        assert_eq!(
            ours_of_py,
            reference,
            "{context}: our listing of Python's file (left) vs Python's listing (right)\n{}",
            self.py.read_file("auth.ini").unwrap_or_default()
        );
        let ours_of_ours = self.our_list(self.ours.home(), &["--offline"]);
        assert_eq!(
            ours_of_ours, reference,
            "{context}: our listing of our file (left) vs Python's of its own (right)"
        );
    }
}

/// The rows of a Python `-o json` listing that succeeded.
fn listing_of(outcome: Outcome) -> PyListing {
    assert_eq!(
        outcome.code,
        0,
        "Python's listing failed:\n{}",
        show("python", &outcome)
    );
    let rows_raw = rows_of(&outcome.stdout);
    if rows_raw.is_empty() {
        assert_eq!(
            outcome.stdout.trim(),
            NO_PROFILES,
            "{}",
            show("python", &outcome)
        );
    }
    let rows = rows_raw.iter().cloned().map(differences::py_row).collect();
    PyListing { rows_raw, rows }
}

impl Pair {
    /// Both outcomes, for assertion messages.
    pub fn dump(&self) -> String {
        format!(
            "{}\n{}{}",
            self.label,
            show("python", &self.py),
            show("ours", &self.ours)
        )
    }

    /// The same exit code from both.
    pub fn same_code(&self) -> &Self {
        assert_eq!(
            self.ours.code,
            self.py.code,
            "exit codes differ (ours, python)\n{}",
            self.dump()
        );
        self
    }

    /// Both printed `message` (on stdout or stderr; home paths read `$CONTREE_HOME`).
    pub fn both_say(&self, message: &str) -> &Self {
        for (who, out) in [("python", &self.py), ("ours", &self.ours)] {
            // Ours in the reference's words (README "Differences").
            let capitalized = differences::capitalized(message);
            let said = |text: &str| {
                let ours = differences::in_python_words(text);
                text.contains(message)
                    || (who == "ours" && (ours.contains(message) || ours.contains(&capitalized)))
            };
            assert!(
                said(&out.stdout) || said(&out.stderr),
                "{who} did not say {message:?}\n{}",
                self.dump()
            );
        }
        self
    }

    /// Both logged the same lines at this level (`ERROR`, `WARNING`, `INFO`).
    pub fn same_log(&self, level: &str) -> &Self {
        let prefix = format!("[{level}]");
        // Ours in the reference's words, the case of each message's first
        // letter aside (README "Differences").
        let lines = |stderr: &str| -> Vec<String> {
            stderr
                .lines()
                .filter(|l| l.starts_with(&prefix))
                .map(differences::uncapitalized)
                .collect()
        };
        assert_eq!(
            lines(&differences::in_python_words(&self.ours.stderr)),
            lines(&self.py.stderr),
            "[{level}] lines differ (ours, python)\n{}",
            self.dump()
        );
        self
    }
}

fn normalize_paths(mut out: Outcome, home: &Path) -> Outcome {
    let home = home.to_string_lossy();
    out.stdout = out.stdout.replace(home.as_ref(), "$CONTREE_HOME");
    out.stderr = out.stderr.replace(home.as_ref(), "$CONTREE_HOME");
    out
}
