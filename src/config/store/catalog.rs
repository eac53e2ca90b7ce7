//! The profiles as every command sees them: `cli.ini` with `auth.ini`
//! over it, remembering which file defines each profile.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::super::ini::{self, Document};
use super::super::profile::{self, PROFILE_PREFIX, Profile};
use crate::error::AuthError;

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

/// Both files, read and merged once.
pub(super) struct BothFiles {
    merged: Document,
    defined: HashMap<String, DefinedIn>,
}

impl BothFiles {
    /// cli.ini with auth.ini over it, remembering which defines what.
    pub(super) fn merge(cli: Document, auth: Document) -> BothFiles {
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

    pub(super) fn load(self, auth_path: &Path) -> Result<Loaded, AuthError> {
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

    pub(super) fn catalog(self) -> Catalog {
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
