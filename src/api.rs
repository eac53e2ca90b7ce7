//! The profile operations. The CLI (`cli/`) and the WIT export (`component.rs`)
//! are thin layers over these functions: they resolve inputs (flags,
//! environment, prompts) and present results, nothing more.

use std::borrow::Cow;

use crate::config::env::{Environment, PROJECT_VARS, TOKEN_VARS, URL_VARS};
use crate::config::ini::Document;
use crate::config::profile::{self, AuthType, DEFAULT_IAM_URL, DEFAULT_PROFILE, Profile, Secret};
use crate::config::store::{
    Catalog, DefinedIn, Loaded, MAX_NAME_BYTES, PRIVATE_FILES_VAR, SessionStem, Store, Written,
};
use crate::error::{AuthError, Fix};
use crate::http::{BaseUrl, Transport};
use crate::probe::{self, Probe};
use crate::whoami::{self, REQUIRED_PERMISSION, WhoAmI};

/// What every operation works with.
pub struct Context<'a> {
    pub store: Store,
    pub transport: &'a dyn Transport,
    /// `CONTREE_PROFILE`, which overrides the active profile recorded in the file.
    pub profile_override: Option<String>,
}

/// A profile as shown to people and hosts: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileView {
    pub name: String,
    pub auth_type: String,
    pub url: String,
    pub project: String,
    pub token_sha256: String,
    pub active: bool,
}

impl ProfileView {
    fn new(profile: &Profile, active: &str) -> ProfileView {
        ProfileView {
            name: profile.name.clone(),
            auth_type: profile.auth_type.clone(),
            url: profile.url.clone(),
            project: profile.project.clone().unwrap_or_default(),
            token_sha256: profile.token_sha256(),
            active: profile.name == active,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ProfileStatus {
    pub profile: ProfileView,
    pub probe: Probe,
}

#[derive(Debug, Clone)]
pub struct Listing {
    pub profiles: Vec<ProfileStatus>,
    pub active: String,
    pub active_exists: bool,
}

#[derive(Debug, Clone)]
pub struct SaveRequest {
    pub name: String,
    pub token: Secret,
    /// `None`: the default URL for iam; required for jwt.
    pub url: Option<String>,
    pub auth_type: AuthType,
    pub project: Option<String>,
    pub overwrite: bool,
    pub allow_insecure_http: bool,
}

/// A save request as a host's caller gives it: `token`, `url` and `project`
/// may be left out (`None` or empty) for the host's environment to supply,
/// so that an agent can save a profile without ever holding the token.
/// The WIT face builds it from the typed request, and the MCP face from a
/// tool call (with the token from the server's environment).
#[derive(Debug, Clone)]
pub struct SaveInput {
    pub name: String,
    pub token: Option<Secret>,
    pub url: Option<String>,
    pub auth_type: AuthType,
    pub project: Option<String>,
    pub overwrite: bool,
    pub allow_insecure_http: bool,
}

impl SaveInput {
    /// The request, with what was left out taken from `env` in the seed's
    /// order: the token from `CONTREE_TOKEN` then `NEBIUS_API_KEY`, the URL
    /// from `CONTREE_URL` then the auth type's default, the project from
    /// `CONTREE_PROJECT` then `NEBIUS_AI_PROJECT`. When a required value is
    /// in neither place, the error names the variables to set. The token
    /// itself never appears in an error.
    pub fn resolve(self, env: &Environment) -> Result<SaveRequest, AuthError> {
        let given = |value: Option<String>| value.filter(|v| !v.is_empty());
        let from_env = |names| env.first_of(names).map(|(_, value)| value.to_string());
        let token = self
            .token
            .filter(|t| !t.is_empty())
            .or_else(|| from_env(TOKEN_VARS).map(Secret::new))
            .ok_or_else(|| {
                AuthError::invalid("token", "no token given").with_fix(Fix::GiveToken)
            })?;
        // A URL or project left out everywhere may still come from the
        // profile being replaced; `save_profile` refuses what is missing then.
        let url = given(self.url).or_else(|| from_env(URL_VARS));
        let project = given(self.project).or_else(|| from_env(PROJECT_VARS));
        Ok(SaveRequest {
            name: self.name,
            token,
            url,
            auth_type: self.auth_type,
            project,
            overwrite: self.overwrite,
            allow_insecure_http: self.allow_insecure_http,
        })
    }
}

#[derive(Debug, Clone)]
pub struct SaveOutcome {
    pub profile: ProfileView,
    pub list_permission: bool,
    pub path: String,
    pub replaced: bool,
    /// For the user: auth.ini's mode follows the host's umask, and the like.
    pub warnings: Vec<String>,
    /// The values of the replaced profile that the request left out and
    /// that were kept ([`keep_saved_values`]).
    pub kept: Vec<Kept>,
    /// The active profile's name, and whether it exists: when not, the
    /// user should hear how to make this one active.
    pub active: String,
    pub active_exists: bool,
}

/// A saved value that replacing a profile kept, because the request left
/// it out: rotating a token keeps where the profile points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    Url,
    Project,
}

impl Kept {
    pub fn as_str(self) -> &'static str {
        match self {
            Kept::Url => "URL",
            Kept::Project => "project",
        }
    }

    /// What replacing a saved profile (its type, URL and project; empty
    /// when it has none) with a profile of `auth_type` keeps when the
    /// request leaves it out: the same type only, and a project for iam.
    pub fn of_saved(auth_type: AuthType, saved_type: &str, url: &str, project: &str) -> Vec<Kept> {
        if saved_type != auth_type.as_str() {
            return Vec::new();
        }
        let mut kept = Vec::new();
        if !url.is_empty() {
            kept.push(Kept::Url);
        }
        if auth_type == AuthType::Iam && !project.is_empty() {
            kept.push(Kept::Project);
        }
        kept
    }
}

#[derive(Debug, Clone)]
pub struct Removal {
    pub removed: String,
    pub active: String,
    pub deleted_files: Vec<String>,
    /// For the user: the profile stays listed from cli.ini, and the like.
    pub warnings: Vec<String>,
    /// Whether the removed profile was the one the file pointed at (then
    /// `active` is its successor, which the user should be told).
    pub was_active: bool,
}

impl<'a> Context<'a> {
    /// The one constructor every face uses: the config home from the
    /// environment (`CONTREE_HOME`, `XDG_CONFIG_HOME`, `HOME`, else a single
    /// preopened directory), else the directory of an explicit config file
    /// (`-c`); `CONTREE_PROFILE` as the active-profile override.
    pub fn new(
        env: &Environment,
        config: Option<&str>,
        transport: &'a dyn Transport,
    ) -> Result<Context<'a>, AuthError> {
        let config = config.map(|path| env.expand_user(path));
        let config_dir = config.as_ref().and_then(|c| c.parent());
        let home = match (env.config_home(), config_dir) {
            (Ok(home), _) => home,
            (Err(_), Some(dir)) => dir.to_path_buf(),
            (Err(why), None) => return Err(why),
        };
        // The files live beside `-c`, else in the home: that directory must
        // be granted, or every command would act on nothing.
        match config_dir {
            Some(dir) => env.check_reachable(dir, "-c/--config"),
            None => env.check_reachable(&home, env.home_source()),
        }?;
        let private_files = env.get(PRIVATE_FILES_VAR) == Some("1");
        Ok(Context {
            store: Store::new(home, config).with_private_files(private_files),
            transport,
            profile_override: env.get("CONTREE_PROFILE").map(str::to_string),
        })
    }
}

impl Context<'_> {
    /// The active profile's name ([`Context::active_over`] the file's pointer).
    pub fn active_profile(&self) -> Result<String, AuthError> {
        Ok(self.active_name(&self.store.load()?))
    }

    fn active_name(&self, loaded: &Loaded) -> String {
        self.active_over(&loaded.recorded_active)
    }

    /// `CONTREE_PROFILE` when set, else the pointer recorded in the file.
    fn active_over(&self, recorded: &str) -> String {
        self.profile_override
            .clone()
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| recorded.to_string())
    }

    /// Whether a profile of that name exists, reading the files as the
    /// reference does: a broken value anywhere is an error (as for list,
    /// switch and save in the Python CLI).
    pub fn profile_exists(&self, name: &str) -> Result<bool, AuthError> {
        Ok(self.saved_profile(name)?.is_some())
    }

    /// The profile of that name as saved (never its token), read as
    /// [`Context::profile_exists`] reads it.
    pub fn saved_profile(&self, name: &str) -> Result<Option<ProfileView>, AuthError> {
        let loaded = self.store.load()?;
        let active = self.active_name(&loaded);
        Ok(loaded.get(name).map(|p| ProfileView::new(p, &active)))
    }

    /// Whether a profile of that name is defined, reading no value: what
    /// `remove` asks, so that a profile whose value is broken (or one beside
    /// it) can still be removed and the file repaired with the tool.
    pub fn profile_defined(&self, name: &str) -> Result<bool, AuthError> {
        Ok(self.store.catalog()?.defined_in(name).is_some())
    }

    /// Every profile in file order with its status.
    pub fn list_profiles(&self, offline: bool) -> Result<Listing, AuthError> {
        self.list_named(offline, &[])
    }

    /// The named profiles (all of them when `names` is empty), in file
    /// order, with their statuses; only those are probed. A name that does
    /// not exist is an error.
    pub fn list_named(&self, offline: bool, names: &[String]) -> Result<Listing, AuthError> {
        let loaded = self.store.load()?;
        if let Some(missing) = names.iter().find(|n| loaded.get(n).is_none()) {
            return Err(AuthError::NotFound(missing.clone()));
        }
        let active = self.active_name(&loaded);
        let selected: Cow<'_, [Profile]> = if names.is_empty() {
            Cow::Borrowed(&loaded.profiles)
        } else {
            Cow::Owned(
                loaded
                    .profiles
                    .iter()
                    .filter(|p| names.contains(&p.name))
                    .cloned()
                    .collect(),
            )
        };
        let probes = probe::probe_all(self.transport, &selected, offline);
        let profiles = selected
            .iter()
            .zip(probes)
            .map(|(p, probe)| ProfileStatus {
                profile: ProfileView::new(p, &active),
                probe,
            })
            .collect();
        Ok(Listing {
            active_exists: loaded.get(&active).is_some(),
            active,
            profiles,
        })
    }

    /// Checks the request, verifies the token with whoami, then writes the profile.
    pub fn save_profile(
        &self,
        request: SaveRequest,
        progress: &mut dyn FnMut(&str),
    ) -> Result<SaveOutcome, AuthError> {
        validate_name(&request.name)?;
        let loaded = self.store.load()?;
        let saved = loaded.get(&request.name);
        if saved.is_some() && !request.overwrite {
            return Err(AuthError::AlreadyExists(request.name));
        }
        let (request, kept) = keep_saved_values(request, saved);
        let profile = checked_profile(&request)?;
        let whoami_request = whoami::request_for(&profile)?;
        self.store.check_writable()?;
        let token = profile.token.clone().unwrap_or_else(|| Secret::new(""));
        let whoami = whoami::verify(
            self.transport,
            &whoami_request,
            &token,
            &whoami::RetryPolicy::SAVE,
            progress,
        )?;

        let Written {
            value: (replaced, recorded_active),
            warnings,
        } = self.store.modify(|doc| {
            let section = profile::section_name(&profile.name);
            let replaced = doc.section(&section).is_some();
            if replaced && !request.overwrite {
                return Err(AuthError::AlreadyExists(profile.name.clone()));
            }
            let active = profile::recorded_active(doc);
            profile::set_active(doc, &active);
            profile::write_profile(doc, &profile);
            Ok((replaced, active))
        })?;
        let active = self.active_over(&recorded_active);
        // Read before the write: a profile other than this one that was there.
        let active_exists = active == profile.name || loaded.get(&active).is_some();
        Ok(SaveOutcome {
            profile: ProfileView::new(&profile, &active),
            list_permission: whoami.has_permission(REQUIRED_PERMISSION),
            path: self.store.auth_path.display().to_string(),
            replaced,
            warnings,
            kept,
            active,
            active_exists,
        })
    }

    /// Points `[DEFAULT] profile` at an existing profile, whatever the
    /// length of its name; returns the warnings for the user.
    pub fn switch_profile(&self, name: &str) -> Result<Vec<String>, AuthError> {
        check_pointer(name)?;
        // One read of both files: whether the profile exists (its values
        // readable, as the reference reads them) and whether cli.ini defines it.
        let loaded = self.store.load()?;
        if loaded.get(name).is_none() {
            return Err(AuthError::NotFound(name.to_string()));
        }
        let in_cli_ini = matches!(
            loaded.defined_in(name),
            Some(DefinedIn::CliIni | DefinedIn::Both)
        );
        let written = self.store.modify(|doc| {
            // Checked again under the lock: another run may have removed it
            // since, and a pointer to no profile must not be written.
            if !in_cli_ini && doc.section(&profile::section_name(name)).is_none() {
                return Err(AuthError::NotFound(name.to_string()));
            }
            profile::set_active(doc, name);
            Ok(())
        })?;
        Ok(written.warnings)
    }

    /// Deletes the profile and its session databases. When it was the
    /// active one, the first remaining profile (or `default`) takes over.
    /// No value is read (a broken value elsewhere must not stop a removal),
    /// and a name from a file is checked before any path is built from it.
    pub fn remove_profile(&self, name: &str) -> Result<Removal, AuthError> {
        let stem = removable_stem(name)?;
        let catalog = self.store.catalog()?;
        let mut warnings = Vec::new();
        match catalog.defined_in(name) {
            None => return Err(AuthError::NotFound(name.to_string())),
            Some(DefinedIn::CliIni) => {
                return Err(AuthError::invalid(
                    "name",
                    format!(
                        "profile {} is defined only in {}, which this tool never writes; it was not removed (delete its section there by hand)",
                        crate::python::repr(name),
                        self.store.cli_path.display()
                    ),
                ));
            }
            Some(DefinedIn::Both) => warnings.push(format!(
                "profile {} is also defined in {}: it stays listed from there, without its token",
                crate::python::repr(name),
                self.store.cli_path.display()
            )),
            Some(DefinedIn::AuthIni) => {}
        }
        let written = self.store.modify(|doc| {
            // Another run may have removed it since the catalog was read.
            if !doc.remove_section(&profile::section_name(name)) {
                return Err(AuthError::NotFound(name.to_string()));
            }
            let mut active = profile::recorded_active(doc);
            let was_active = active == name;
            if was_active {
                // The first profile that remains, from the file as it is
                // under the lock (another run may have changed it since
                // the catalog was read).
                active = remaining_profiles(&catalog, doc)
                    .find(|&other| other != name)
                    .unwrap_or(DEFAULT_PROFILE)
                    .to_string();
            }
            profile::set_active(doc, &active);
            Ok((active, was_active))
        })?;
        warnings.extend(written.warnings);
        let sessions = self.store.remove_session_databases(&stem);
        warnings.extend(sessions.warnings);
        let (active, was_active) = written.value;
        Ok(Removal {
            removed: name.to_string(),
            active,
            deleted_files: sessions.files,
            warnings,
            was_active,
        })
    }

    /// whoami for a saved profile (the active one when `name` is `None`).
    pub fn whoami(
        &self,
        name: Option<&str>,
        progress: &mut dyn FnMut(&str),
    ) -> Result<WhoAmI, AuthError> {
        let loaded = self.store.load()?;
        let name = name
            .map(str::to_string)
            .unwrap_or_else(|| self.active_name(&loaded));
        let profile = loaded
            .get(&name)
            .ok_or_else(|| AuthError::NotFound(name.clone()))?;
        let request = whoami::request_for(profile)?;
        let token = profile
            .token
            .as_ref()
            .ok_or_else(|| AuthError::invalid("token", "no token saved"))?;
        whoami::verify(
            self.transport,
            &request,
            token,
            &whoami::RetryPolicy::SAVE,
            progress,
        )
    }
}

/// Replacing a profile of the same type with a request that leaves out its
/// URL or project keeps the saved ones (and the consent to plain http that
/// goes with the URL), so that rotating a token (`contree auth -p NAME -y
/// --token-stdin`) needs nothing else. Python's contree-cli asks for them
/// again instead; a given value, or one from the environment, still wins.
fn keep_saved_values(
    mut request: SaveRequest,
    saved: Option<&Profile>,
) -> (SaveRequest, Vec<Kept>) {
    let Some(saved) = saved else {
        return (request, Vec::new());
    };
    let saved_project = saved.project.as_deref().unwrap_or("");
    let keepable = Kept::of_saved(
        request.auth_type,
        &saved.auth_type,
        &saved.url,
        saved_project,
    );
    let missing = |value: &Option<String>| value.as_deref().is_none_or(|v| v.trim().is_empty());
    let mut kept = Vec::new();
    for value in keepable {
        match value {
            Kept::Url if missing(&request.url) => {
                request.url = Some(saved.url.clone());
                request.allow_insecure_http |= saved.allow_insecure_http;
            }
            Kept::Project if missing(&request.project) => {
                request.project = Some(saved_project.to_string());
            }
            _ => continue,
        }
        kept.push(value);
    }
    (request, kept)
}

/// The profile a save request describes, with every value checked so that
/// the INI file (and the Python CLI reading it) gets back exactly what was given.
fn checked_profile(request: &SaveRequest) -> Result<Profile, AuthError> {
    let name = &request.name;
    let quoted = crate::python::repr(name);
    let is_iam = request.auth_type == AuthType::Iam;
    let token = Secret::new(request.token.expose().trim());
    if token.is_empty() {
        return Err(
            AuthError::invalid("token", format!("No token given for profile {quoted}"))
                .with_fix(Fix::GiveToken),
        );
    }
    check_value("token", token.expose())?;
    let url = match request
        .url
        .as_deref()
        .map(|u| u.trim().trim_end_matches('/'))
    {
        Some(url) if !url.is_empty() => url.to_string(),
        _ if is_iam => DEFAULT_IAM_URL.to_string(),
        _ => {
            return Err(
                AuthError::invalid("url", "URL is required for JWT auth").with_fix(Fix::GiveUrl)
            );
        }
    };
    check_value("url", &url)?;
    let project = if is_iam {
        let project = request
            .project
            .clone()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| {
                AuthError::invalid(
                    "project",
                    // Saving is how a profile gets one: no "run `contree auth`".
                    format!("No project given for IAM profile {quoted}"),
                )
                .with_fix(Fix::GiveProject)
            })?;
        check_value("project", &project)?;
        Some(project)
    } else {
        None
    };
    // The consent is kept only where it is needed: plain http:// to a host
    // that is not loopback (whoami::request_for refuses the rest without it).
    let allow_insecure_http = request.allow_insecure_http
        && BaseUrl::parse(&url).is_ok_and(|url| url.needs_insecure_consent());
    Ok(Profile {
        name: name.clone(),
        auth_type: request.auth_type.as_str().to_string(),
        url,
        project,
        token: Some(token),
        allow_insecure_http,
    })
}

/// The session-file stem of a profile to remove: the name must be one path
/// component, wherever it came from (a flag, auth.ini, cli.ini).
fn removable_stem(name: &str) -> Result<SessionStem, AuthError> {
    SessionStem::new(name).map_err(|why| {
        AuthError::invalid(
            "name",
            format!(
                "invalid profile name {}: {why}; nothing was removed (edit the file by hand to delete it)",
                crate::python::repr(name)
            ),
        )
    })
}

/// Profile names in the order `list` shows them, for auth.ini as it is now:
/// the catalog's names (read before the lock) that cli.ini defines or the
/// document still holds, then any the document gained since.
fn remaining_profiles<'a>(
    catalog: &'a Catalog,
    doc: &'a Document,
) -> impl Iterator<Item = &'a str> + 'a {
    let in_doc = |name: &str| doc.section(&profile::section_name(name)).is_some();
    let known = catalog
        .names
        .iter()
        .map(String::as_str)
        .filter(move |name| {
            matches!(
                catalog.defined_in(name),
                Some(DefinedIn::CliIni | DefinedIn::Both)
            ) || in_doc(name)
        });
    let gained = doc
        .sections()
        .iter()
        .filter_map(|section| section.name.strip_prefix(profile::PROFILE_PREFIX))
        .filter(move |name| catalog.defined_in(name).is_none());
    known.chain(gained)
}

/// The rule for the name of a new profile (SPEC §5, for every face).
/// Names become section headers and session file names: one path component
/// ([`SessionStem`]) whose session files can exist ([`MAX_NAME_BYTES`]), and
/// nothing the INI format or the pointer would change.
pub fn validate_name(name: &str) -> Result<(), AuthError> {
    if name.len() > MAX_NAME_BYTES {
        return Err(bad_name(
            name,
            &format!("longer than {MAX_NAME_BYTES} bytes (its session files could not exist)"),
        ));
    }
    if let Err(why) = SessionStem::new(name) {
        return Err(bad_name(name, &why));
    }
    if name.contains(['[', ']']) {
        return Err(bad_name(name, "'[' and ']' are not allowed"));
    }
    check_pointer(name)
}

/// A name the active-profile pointer can hold: both tools read it raw
/// (a `%` would be interpolated, spaces trimmed). Any length: a profile
/// another tool saved with a long name can be switched to.
fn check_pointer(name: &str) -> Result<(), AuthError> {
    if name.is_empty() {
        return Err(bad_name(name, "it is empty"));
    }
    if name.chars().any(char::is_control) {
        return Err(bad_name(
            name,
            "control characters (such as newlines or NUL) are not allowed",
        ));
    }
    if name.contains('%') {
        return Err(bad_name(name, "'%' is not allowed"));
    }
    if name.trim() != name {
        return Err(bad_name(name, "leading or trailing spaces are not allowed"));
    }
    Ok(())
}

fn bad_name(name: &str, why: &str) -> AuthError {
    AuthError::invalid(
        "name",
        format!("invalid profile name {}: {why}", crate::python::repr(name)),
    )
}

/// A value must survive the INI format unchanged: one line (tabs are fine).
fn check_value(field: &str, value: &str) -> Result<(), AuthError> {
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(AuthError::invalid(
            field,
            format!("the {field} contains a control character (such as a newline)"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(name: &str, token: &str, auth_type: AuthType) -> SaveRequest {
        SaveRequest {
            name: name.into(),
            token: Secret::new(token),
            url: Some("http://127.0.0.1:1/".into()),
            auth_type,
            project: Some("p".into()),
            overwrite: false,
            allow_insecure_http: false,
        }
    }

    #[test]
    fn checks_values_before_anything_is_sent() {
        assert!(checked_profile(&request("a", "", AuthType::Iam)).is_err());
        assert!(checked_profile(&request("a", "t\nx", AuthType::Iam)).is_err());
        let jwt = checked_profile(&request("a", "t", AuthType::Jwt)).unwrap();
        assert_eq!(jwt.url, "http://127.0.0.1:1");
        assert_eq!(jwt.project, None);
        let mut no_project = request("a", "t", AuthType::Iam);
        no_project.project = None;
        assert_eq!(
            checked_profile(&no_project).unwrap_err().to_string(),
            "No project given for IAM profile 'a'"
        );
    }

    fn input(token: Option<&str>, auth_type: AuthType) -> SaveInput {
        SaveInput {
            name: "a".into(),
            token: token.map(Secret::new),
            url: None,
            auth_type,
            project: None,
            overwrite: false,
            allow_insecure_http: false,
        }
    }

    fn env(pairs: &[(&str, &str)]) -> Environment {
        Environment::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn save_input_takes_what_is_left_out_from_the_environment_in_the_seed_order() {
        let all = env(&[
            ("CONTREE_TOKEN", "tok-contree"),
            ("NEBIUS_API_KEY", "tok-nebius"),
            ("CONTREE_URL", "http://127.0.0.1:9"),
            ("CONTREE_PROJECT", "p-contree"),
            ("NEBIUS_AI_PROJECT", "p-nebius"),
        ]);
        let request = input(None, AuthType::Iam).resolve(&all).unwrap();
        assert_eq!(request.token.expose(), "tok-contree");
        assert_eq!(request.url.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(request.project.as_deref(), Some("p-contree"));
        // The second variable of each pair, when the first is unset or empty.
        let seconds = env(&[
            ("CONTREE_TOKEN", ""),
            ("NEBIUS_API_KEY", "tok-nebius"),
            ("NEBIUS_AI_PROJECT", "p-nebius"),
        ]);
        let request = input(None, AuthType::Iam).resolve(&seconds).unwrap();
        assert_eq!(request.token.expose(), "tok-nebius");
        assert_eq!(request.url, None, "the iam default is checked_profile's");
        assert_eq!(request.project.as_deref(), Some("p-nebius"));
        // What the caller gives wins; an empty value counts as left out.
        let mut given = input(Some("tok-given"), AuthType::Iam);
        given.project = Some("p-given".into());
        given.url = Some(String::new());
        let request = given.resolve(&all).unwrap();
        assert_eq!(request.token.expose(), "tok-given");
        assert_eq!(request.project.as_deref(), Some("p-given"));
        assert_eq!(request.url.as_deref(), Some("http://127.0.0.1:9"));
    }

    #[test]
    fn save_input_names_the_variables_when_nothing_is_set() {
        let none = env(&[]);
        // The token is refused at once; a URL or project only once no
        // replaced profile supplies it ([`keep_saved_values`]).
        let err = |auth_type, token: Option<&str>| match input(token, auth_type).resolve(&none) {
            Err(err) => err,
            Ok(request) => checked_profile(&request).unwrap_err(),
        };
        let said = |auth_type, token| {
            let err = err(auth_type, token);
            (err.fix(), err.with_next_step())
        };
        assert_eq!(
            said(AuthType::Iam, None),
            (
                Some(Fix::GiveToken),
                "no token given: pass one, or set CONTREE_TOKEN (or NEBIUS_API_KEY)".into()
            )
        );
        assert_eq!(
            said(AuthType::Iam, Some("t")),
            (
                Some(Fix::GiveProject),
                "No project given for IAM profile 'a': pass one, or set CONTREE_PROJECT (or NEBIUS_AI_PROJECT)".into()
            )
        );
        assert_eq!(
            said(AuthType::Jwt, Some("t")),
            (
                Some(Fix::GiveUrl),
                "URL is required for JWT auth: pass one, or set CONTREE_URL".into()
            )
        );
        // A jwt profile needs no project.
        let jwt = env(&[("CONTREE_URL", "http://127.0.0.1:9")]);
        assert!(input(Some("t"), AuthType::Jwt).resolve(&jwt).is_ok());
    }

    /// Issue 25 item 6: replacing a profile of the same type keeps the
    /// saved URL and project the request left out (with the URL's consent
    /// to plain http); given values win; another type keeps nothing.
    #[test]
    fn replacing_a_profile_keeps_the_saved_url_and_project_left_out() {
        let saved = Profile {
            name: "a".into(),
            auth_type: "iam".into(),
            url: "http://10.0.0.1:8080".into(),
            project: Some("p-saved".into()),
            token: Some(Secret::new("old")),
            allow_insecure_http: true,
        };
        let mut bare = request("a", "new", AuthType::Iam);
        (bare.url, bare.project, bare.overwrite) = (None, None, true);
        let (kept_request, kept) = keep_saved_values(bare.clone(), Some(&saved));
        assert_eq!(kept, [Kept::Url, Kept::Project]);
        assert_eq!(kept_request.url.as_deref(), Some("http://10.0.0.1:8080"));
        assert_eq!(kept_request.project.as_deref(), Some("p-saved"));
        assert!(kept_request.allow_insecure_http);
        let profile = checked_profile(&kept_request).unwrap();
        assert_eq!(profile.token.unwrap().expose(), "new");

        let given = request("a", "new", AuthType::Iam);
        let (same, kept) = keep_saved_values(given.clone(), Some(&saved));
        assert!(kept.is_empty());
        assert_eq!((same.url, same.project), (given.url, given.project));

        let mut jwt = bare.clone();
        jwt.auth_type = AuthType::Jwt;
        assert!(keep_saved_values(jwt, Some(&saved)).1.is_empty());
        assert!(keep_saved_values(bare, None).1.is_empty());
    }

    #[test]
    fn names_that_would_break_the_file_are_refused() {
        for name in ["", "a]b", "a\nb", "../x", "a/b", " a", "a%b"] {
            assert!(validate_name(name).is_err(), "{name:?}");
        }
        for name in ["default", "work-2", "naïve", "a b"] {
            assert!(validate_name(name).is_ok(), "{name:?}");
        }
    }

    /// One length rule for new names ([`MAX_NAME_BYTES`], from the session
    /// file names), stated once: the longest is saved, one byte more is not.
    #[test]
    fn a_new_name_is_at_most_max_name_bytes_long() {
        assert!(validate_name(&"x".repeat(MAX_NAME_BYTES)).is_ok());
        let err = validate_name(&"x".repeat(MAX_NAME_BYTES + 1)).unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("longer than {MAX_NAME_BYTES} bytes")),
            "{err}"
        );
    }
}

#[cfg(test)]
mod remove_tests {
    use std::fs;
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::http::fake::FakeTransport;
    use crate::http::{Outcome, Request};
    use crate::testing::{TempDir, temp_dir};

    fn no_network(_: &Request) -> Outcome {
        panic!("remove must not touch the network")
    }

    fn temp_root() -> TempDir {
        let dir = temp_dir("contree-remove-");
        fs::create_dir_all(dir.join("home")).unwrap();
        dir
    }

    fn context<'a>(home: &Path, transport: &'a FakeTransport) -> Context<'a> {
        Context {
            store: Store::new(home.to_path_buf(), None).with_private_files(true),
            transport,
            profile_override: None,
        }
    }

    #[test]
    fn a_name_from_a_file_that_is_a_path_deletes_nothing() {
        let root = temp_root();
        let home = root.join("home");
        let victim_dir = root.join("victims");
        fs::create_dir_all(&victim_dir).unwrap();
        let absolute = victim_dir.join("victim");
        // `home/cli/sessions/../../x.db` is `root/x.db`.
        let climbing = root.join("x.db");
        let victims = [
            climbing.clone(),
            root.join("x.db-wal"),
            PathBuf::from(format!("{}.db", absolute.display())),
            PathBuf::from(format!("{}.db-wal", absolute.display())),
        ];
        for victim in &victims {
            fs::write(victim, "victim").unwrap();
        }
        let auth = format!(
            "[DEFAULT]\nprofile = ok\n\n[profile:../../x]\ntoken = t\n\n[profile:{}]\ntoken = t\n\n[profile:ok]\ntoken = t\n\n",
            absolute.display()
        );
        fs::write(home.join("auth.ini"), &auth).unwrap();
        fs::write(home.join("cli.ini"), "[profile:..\\..\\y]\nurl = u\n").unwrap();
        let offline = FakeTransport::new(no_network);
        let context = context(&home, &offline);
        for name in [
            "../../x".to_string(),
            absolute.display().to_string(),
            "..\\..\\y".to_string(),
        ] {
            let err = context.remove_profile(&name).unwrap_err();
            assert!(
                matches!(&err, AuthError::InvalidInput { field, .. } if field == "name"),
                "{name}: {err:?}"
            );
            assert!(err.to_string().contains("nothing was removed"), "{err}");
        }
        for victim in &victims {
            assert!(victim.exists(), "{} was deleted", victim.display());
        }
        assert_eq!(fs::read_to_string(home.join("auth.ini")).unwrap(), auth);
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_profile_only_cli_ini_defines_is_not_reported_removed() {
        let root = temp_root();
        let home = root.join("home");
        fs::write(home.join("cli.ini"), "[profile:c]\nurl = http://h\n").unwrap();
        fs::write(home.join("auth.ini"), "[profile:a]\ntoken = t\n").unwrap();
        let offline = FakeTransport::new(no_network);
        let context = context(&home, &offline);
        let err = context.remove_profile("c").unwrap_err();
        assert!(
            err.to_string().contains("defined only in") && err.to_string().contains("cli.ini"),
            "{err}"
        );
        assert_eq!(
            fs::read_to_string(home.join("auth.ini")).unwrap(),
            "[profile:a]\ntoken = t\n"
        );
        assert!(context.store.load().unwrap().get("c").is_some());
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_profile_in_both_files_loses_its_auth_section_with_a_warning() {
        let root = temp_root();
        let home = root.join("home");
        fs::write(home.join("cli.ini"), "[profile:b]\nurl = http://h\n").unwrap();
        fs::write(home.join("auth.ini"), "[profile:b]\ntoken = t\n").unwrap();
        let offline = FakeTransport::new(no_network);
        let removal = context(&home, &offline).remove_profile("b").unwrap();
        assert_eq!(removal.warnings.len(), 1, "{:?}", removal.warnings);
        assert!(removal.warnings[0].contains("stays listed"));
        let text = fs::read_to_string(home.join("auth.ini")).unwrap();
        assert!(!text.contains("[profile:b]"), "{text}");
        fs::remove_dir_all(root).unwrap();
    }

    /// Every profile `list` shows can be switched to and removed, whatever
    /// the length of its name (the Python CLI saves any name); session
    /// files whose names cannot exist are skipped with a warning.
    #[test]
    fn a_profile_with_a_250_byte_name_can_be_switched_to_and_removed() {
        let root = temp_root();
        let home = root.join("home");
        let long = "n".repeat(250);
        fs::write(
            home.join("auth.ini"),
            format!("[profile:{long}]\ntoken = t\n\n[profile:ok]\ntoken = t\n\n"),
        )
        .unwrap();
        let offline = FakeTransport::new(no_network);
        let context = context(&home, &offline);
        let listed = context.list_profiles(true).unwrap();
        assert!(listed.profiles.iter().any(|p| p.profile.name == long));
        assert_eq!(context.switch_profile(&long).unwrap(), Vec::<String>::new());
        assert_eq!(context.store.load().unwrap().recorded_active, long);
        let removal = context.remove_profile(&long).unwrap();
        assert_eq!(removal.active, "ok");
        assert_eq!(removal.warnings.len(), 1, "{:?}", removal.warnings);
        assert!(
            removal.warnings[0].contains("over 255 bytes"),
            "{:?}",
            removal.warnings
        );
        assert!(context.store.load().unwrap().get(&long).is_none());
        fs::remove_dir_all(root).unwrap();
    }

    /// SPEC §5: an over-long expansion in another profile (which used to
    /// trap every command) does not stop `remove`.
    #[test]
    fn remove_works_while_another_profile_has_a_broken_value() {
        let root = temp_root();
        let home = root.join("home");
        let mut text = format!("[DEFAULT]\nprofile = gone\nv0 = {}\n", "x".repeat(32));
        for i in 1..=8 {
            let p = i - 1;
            text.push_str(&format!("v{i} = %(v{p})s%(v{p})s%(v{p})s%(v{p})s\n"));
        }
        text.push_str("\n[profile:broken]\ntoken = %(v8)s\n\n[profile:gone]\ntoken = t\n\n");
        fs::write(home.join("auth.ini"), text).unwrap();
        fs::write(home.join("sessions-gone.db"), "x").unwrap();
        let offline = FakeTransport::new(no_network);
        let context = context(&home, &offline);
        assert!(context.store.load().is_err(), "reading values still fails");
        let removal = context.remove_profile("gone").unwrap();
        assert_eq!(removal.active, "broken");
        assert_eq!(removal.deleted_files.len(), 1);
        let removal = context.remove_profile("broken").unwrap();
        assert_eq!(removal.active, DEFAULT_PROFILE);
        assert!(context.store.load().unwrap().profiles.is_empty());
        fs::remove_dir_all(root).unwrap();
    }
}
