//! Profiles as `contree_client.profiles` reads and writes them.

use super::ini::{self, Document, Section, WorkBudget};
pub use crate::secret::{Secret, token_sha256};

pub const DEFAULT_IAM_URL: &str = "https://api.tokenfactory.nebius.com/sandboxes";
pub const PROFILE_PREFIX: &str = "profile:";
pub const DEFAULT_PROFILE: &str = "default";
pub const AUTH_TYPE_IAM: &str = "iam";
pub const AUTH_TYPE_JWT: &str = "jwt";
/// The key that keeps a profile's consent to plain http:// (see
/// [`Profile::allow_insecure_http`]); the Python CLI ignores it.
pub const INSECURE_HTTP_KEY: &str = "allow_insecure_http";

/// How a profile authenticates: `iam` (bearer token + project, default URL)
/// or `jwt` (legacy: bearer token only, URL required).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthType {
    #[default]
    Iam,
    Jwt,
}

impl AuthType {
    pub const ALL: [AuthType; 2] = [AuthType::Iam, AuthType::Jwt];

    pub fn as_str(self) -> &'static str {
        match self {
            AuthType::Iam => AUTH_TYPE_IAM,
            AuthType::Jwt => AUTH_TYPE_JWT,
        }
    }

    /// A name given by a caller (flag, tool argument): exactly `iam` or `jwt`.
    pub fn parse(name: &str) -> Option<AuthType> {
        AuthType::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// As a file's `type` value reads: anything but `iam` behaves as `jwt`.
    pub fn from_file(text: &str) -> AuthType {
        if text == AUTH_TYPE_IAM {
            AuthType::Iam
        } else {
            AuthType::Jwt
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    /// As written in the file; anything but `iam` behaves as `jwt`.
    pub auth_type: String,
    pub url: String,
    pub project: Option<String>,
    pub token: Option<Secret>,
    /// The user's consent, given with `--allow-insecure-http` when saving, to
    /// send this token over plain http:// to a host that is not loopback;
    /// kept as `allow_insecure_http = true` in the profile's section, so that
    /// list and whoami honour it too.
    pub allow_insecure_http: bool,
}

impl Profile {
    pub fn is_iam(&self) -> bool {
        self.auth_type == AUTH_TYPE_IAM
    }

    /// The `Project` header whoami gets: iam profiles only.
    pub fn project_header(&self) -> Option<&str> {
        self.project.as_deref().filter(|_| self.is_iam())
    }

    pub fn token_sha256(&self) -> String {
        token_sha256(self.token.as_ref())
    }
}

/// A value that could not be read (a bad `%` in it), with its section.
#[derive(Debug)]
pub struct BadValue {
    pub section: String,
    pub message: String,
}

/// Every `[profile:NAME]` section, in file order, read as `load_profiles` does.
/// All the reading draws on one [`WorkBudget`], so that the work and memory
/// stay linear in the file's size whatever the file does.
pub fn read_profiles(doc: &Document) -> Result<Vec<Profile>, BadValue> {
    let mut budget = WorkBudget::default();
    doc.sections()
        .iter()
        .filter_map(|section| {
            let name = section.name.strip_prefix(PROFILE_PREFIX)?;
            Some(read_profile(doc, section, name, &mut budget))
        })
        .collect()
}

fn read_profile(
    doc: &Document,
    section: &Section,
    name: &str,
    budget: &mut WorkBudget,
) -> Result<Profile, BadValue> {
    let mut get = |key: &str| -> Result<Option<String>, BadValue> {
        doc.get_with(section, key, budget)
            .transpose()
            .map_err(|message| BadValue {
                section: section.name.clone(),
                message,
            })
    };
    let auth_type = get("type")?.unwrap_or_else(|| AUTH_TYPE_JWT.to_string());
    let default_url = if auth_type == AUTH_TYPE_IAM {
        DEFAULT_IAM_URL
    } else {
        ""
    };
    let url = get("url")?.unwrap_or_else(|| default_url.to_string());
    Ok(Profile {
        name: name.to_string(),
        url: url.trim_end_matches('/').to_string(),
        token: get("token")?.map(Secret::new),
        project: get("project")?,
        allow_insecure_http: get(INSECURE_HTTP_KEY)?.is_some_and(|v| is_true(&v)),
        auth_type,
    })
}

/// configparser's `getboolean` yes-words (its no-words and anything else: no).
fn is_true(value: &str) -> bool {
    ["1", "yes", "true", "on"]
        .iter()
        .any(|yes| value.trim().eq_ignore_ascii_case(yes))
}

/// The active profile recorded in the file: `[DEFAULT] profile`, else `default`.
pub fn recorded_active(doc: &Document) -> String {
    doc.defaults
        .raw("profile")
        .map(str::to_string)
        .unwrap_or_else(|| DEFAULT_PROFILE.to_string())
}

pub fn section_name(profile: &str) -> String {
    format!("{PROFILE_PREFIX}{profile}")
}

/// Writes the profile as `Profile.save` does (url, token, type, project),
/// plus the plain-http consent when there is one, keeping any other keys of
/// the section and its place in the file.
pub fn write_profile(doc: &mut Document, profile: &Profile) {
    let section = doc.section_or_insert(&section_name(&profile.name));
    section.set_raw("url", ini::escape(&profile.url));
    let token = profile.token.as_ref().map(Secret::expose).unwrap_or("");
    section.set_raw("token", ini::escape(token));
    section.set_raw("type", ini::escape(&profile.auth_type));
    match profile.project.as_deref().filter(|p| !p.is_empty()) {
        Some(project) => section.set_raw("project", ini::escape(project)),
        // a re-save without a project must not resurrect the old one
        None => section.remove("project"),
    }
    // Consent is given per save: a re-save without it withdraws it.
    if profile.allow_insecure_http {
        section.set_raw(INSECURE_HTTP_KEY, "true".to_string());
    } else {
        section.remove(INSECURE_HTTP_KEY);
    }
}

/// Sets `[DEFAULT] profile`, the pointer every command resolves.
pub fn set_active(doc: &mut Document, name: &str) {
    // Both tools read the pointer raw (`parser.defaults()`), so it is written raw.
    doc.defaults.set_raw("profile", name.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::assert_has;

    #[test]
    fn read_defaults_follow_the_reference() {
        let doc = Document::parse(
            "[DEFAULT]\nprofile = b\n[profile:a]\ntoken = t\n[profile:b]\ntype = iam\nurl = http://h/\n[other]\nx = 1\n[profile:c]\ntype = iam\n",
        )
        .unwrap();
        let profiles = read_profiles(&doc).unwrap();
        let names: Vec<_> = profiles.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(profiles[0].auth_type, "jwt");
        assert_eq!(profiles[0].url, "");
        assert_eq!(profiles[1].url, "http://h");
        assert_eq!(profiles[1].token, None);
        assert_eq!(profiles[2].url, DEFAULT_IAM_URL);
        assert_eq!(recorded_active(&doc), "b");
    }

    #[test]
    fn rewrite_drops_stale_project_and_keeps_other_keys() {
        let mut doc = Document::parse("[profile:a]\nurl = u\nproject = p\nextra = keep\n").unwrap();
        let profile = Profile {
            name: "a".into(),
            auth_type: "jwt".into(),
            url: "http://x".into(),
            project: None,
            token: Some(Secret::new("50%")),
            allow_insecure_http: false,
        };
        write_profile(&mut doc, &profile);
        assert_eq!(
            doc.write(),
            "[profile:a]\nurl = http://x\nextra = keep\ntoken = 50%%\ntype = jwt\n\n"
        );
    }

    #[test]
    fn the_plain_http_consent_is_a_key_of_the_section_written_per_save() {
        let mut doc = Document::parse("[profile:a]\nextra = keep\n").unwrap();
        let mut profile = Profile {
            name: "a".into(),
            auth_type: "jwt".into(),
            url: "http://10.0.0.1".into(),
            project: None,
            token: Some(Secret::new("t")),
            allow_insecure_http: true,
        };
        write_profile(&mut doc, &profile);
        assert_eq!(
            doc.write(),
            "[profile:a]\nextra = keep\nurl = http://10.0.0.1\ntoken = t\ntype = jwt\nallow_insecure_http = true\n\n"
        );
        assert!(read_profiles(&doc).unwrap()[0].allow_insecure_http);
        profile.allow_insecure_http = false;
        write_profile(&mut doc, &profile);
        assert!(!doc.write().contains(INSECURE_HTTP_KEY), "{}", doc.write());
        // Read as configparser's getboolean would: its yes-words only.
        for (value, consent) in [
            ("true", true),
            ("Yes", true),
            ("1", true),
            ("on", true),
            ("false", false),
            ("0", false),
            ("maybe", false),
            ("", false),
        ] {
            let doc =
                Document::parse(&format!("[profile:a]\nallow_insecure_http = {value}\n")).unwrap();
            assert_eq!(
                read_profiles(&doc).unwrap()[0].allow_insecure_http,
                consent,
                "{value:?}"
            );
        }
    }

    /// SPEC §5: a long `[DEFAULT]` value inherited by every profile is read
    /// once per profile; 10,000 profiles of a 4 MiB value were 40 GB.
    #[test]
    fn a_long_default_value_inherited_by_many_profiles_is_an_error_not_40_gb() {
        let mut text = format!("[DEFAULT]\ntoken = {}\n", "t".repeat(4 * 1024 * 1024));
        for i in 0..10_000 {
            text.push_str(&format!("[profile:p{i}]\n"));
        }
        let doc = Document::parse(&text).unwrap();
        let started = std::time::Instant::now();
        let err = read_profiles(&doc).unwrap_err();
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        assert_has(&err.message, "MiB of text in all");
        assert_has(&err.message, "'token'");
        // 10,000 ordinary profiles are far below the budget.
        let mut text = String::from("[DEFAULT]\ntype = jwt\nurl = https://example.com/sandboxes\n");
        for i in 0..10_000 {
            text.push_str(&format!("[profile:p{i}]\ntoken = {}\n", "t".repeat(300)));
        }
        assert_eq!(
            read_profiles(&Document::parse(&text).unwrap())
                .unwrap()
                .len(),
            10_000
        );
    }
}
