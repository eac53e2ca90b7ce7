//! The CLI's spelling of the core's next steps ([`Fix`]): the flags and
//! commands of `contree`. The core says what went wrong; this module adds
//! only how to get past it here, chosen by the error's data, never by its
//! text.

use crate::error::{AuthError, Fix, with_step};
use crate::python::repr;

/// Where the fix is given: while saving, the flags are at hand; from `ls`,
/// `switch` or `rm`, a profile is fixed by saving it again.
#[derive(Debug, Clone, Copy)]
pub enum At<'a> {
    /// `contree auth` (save): where the URL came from (`-u/--url`, a
    /// variable, or the prompt) and the URL itself.
    Save { url_source: &'a str, url: &'a str },
    /// Any other command.
    Elsewhere,
}

/// What gives the token instead of the prompt.
pub const TOKEN_ADVICE: &str = "pipe it with --token-stdin, or set CONTREE_TOKEN";
/// What gives the project instead of the prompt.
pub const PROJECT_ADVICE: &str = "pass -P/--project or set CONTREE_PROJECT";
/// What gives the URL instead of the prompt.
pub const URL_ADVICE: &str = "pass -u/--url or set CONTREE_URL";

/// The next step in this face's words.
pub fn spell(fix: &Fix, at: At<'_>) -> String {
    match (fix, at) {
        (Fix::ListProfiles, _) => "`contree auth ls` lists the profiles".into(),
        (Fix::Overwrite, _) => "pass -y/--force to overwrite it".into(),
        (Fix::GiveToken, _) => TOKEN_ADVICE.into(),
        (Fix::GiveUrl, _) => URL_ADVICE.into(),
        (Fix::GiveProject, _) => PROJECT_ADVICE.into(),
        (Fix::UseHttpScheme | Fix::CheckUrl, At::Save { url_source, .. }) => {
            format!("check {url_source}")
        }
        (Fix::UseHttpScheme | Fix::CheckUrl, At::Elsewhere) => {
            "save the profile again with a working URL: `contree auth -p NAME -u URL -y`".into()
        }
        (Fix::AllowInsecureHttp, At::Save { .. }) => {
            "use https://, or pass --allow-insecure-http".into()
        }
        (Fix::AllowInsecureHttp, At::Elsewhere) => {
            "use https://, or save the profile again with `contree auth --allow-insecure-http`"
                .into()
        }
        // The launcher always grants the home; this is the stock CLI's spelling.
        (Fix::GrantConfigDir { dir }, _) => format!(
            "create it and pass it to the host: mkdir -p {dir} && wasmtime run --dir {dir} ..."
        ),
        (Fix::NameConfigHome, _) => "preopen only the config directory, or pass CONTREE_HOME too \
             (wasmtime run --dir DIR --env CONTREE_HOME=DIR)"
            .into(),
    }
}

/// The one line the CLI shows for a core error: the core's message, then
/// this face's next step.
pub fn message(err: &AuthError, at: At<'_>) -> String {
    match (err.fix(), at) {
        // A scheme the user typed or set: name where it came from.
        (Some(Fix::UseHttpScheme), At::Save { url_source, url }) => format!(
            "{url_source} needs a URL that starts with http:// or https:// (got {})",
            repr(url)
        ),
        (fix, _) => with_step(err, fix.as_ref(), |fix| spell(fix, at)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 25 item 4: the faces never read an error's text to decide what
    /// to say; every next step comes from [`Fix`]. The known cases
    /// (`listing_advice`'s search for "pass --allow-insecure-http", save's
    /// search for "scheme") must not come back.
    #[test]
    fn no_face_matches_on_an_errors_text() {
        let faces = [
            ("cli/mod.rs", include_str!("mod.rs")),
            ("cli/save.rs", include_str!("save.rs")),
            ("cli/list.rs", include_str!("list.rs")),
            ("cli/switch.rs", include_str!("switch.rs")),
            ("cli/remove.rs", include_str!("remove.rs")),
            ("cli/console.rs", include_str!("console.rs")),
            ("cli/words.rs", include_str!("words.rs")),
            ("mcp/mod.rs", include_str!("../mcp/mod.rs")),
            ("mcp/tools.rs", include_str!("../mcp/tools.rs")),
            ("component.rs", include_str!("../component.rs")),
        ];
        // Text searches on what an error or a probe said.
        let searches = [
            "message.contains(",
            "message.find(",
            "message.starts_with(",
            "detail.contains(",
            "detail.find(",
            "detail.starts_with(",
            "to_string().contains(",
            "to_string().find(",
            "contains(\"scheme\")",
            "\"pass --allow-insecure-http\"",
        ];
        for (name, source) in faces {
            // Tests may look at text; the code may not.
            let code = source.split("#[cfg(test)]").next().unwrap_or(source);
            for search in searches {
                assert!(
                    !code.contains(search),
                    "{name} searches an error's text ({search})"
                );
            }
        }
    }

    #[test]
    fn each_fix_is_spelled_in_this_faces_flags() {
        let save = At::Save {
            url_source: "CONTREE_URL",
            url: "example.com",
        };
        assert_eq!(
            message(&AuthError::AlreadyExists("a".into()), save),
            "profile 'a' already exists: pass -y/--force to overwrite it"
        );
        assert_eq!(
            message(&AuthError::NotFound("a".into()), At::Elsewhere),
            "profile 'a' does not exist: `contree auth ls` lists the profiles"
        );
        let scheme = AuthError::invalid("url", "unsupported").with_fix(Fix::UseHttpScheme);
        assert_eq!(
            message(&scheme, save),
            "CONTREE_URL needs a URL that starts with http:// or https:// (got 'example.com')"
        );
        let insecure = AuthError::invalid("url", "refusing").with_fix(Fix::AllowInsecureHttp);
        assert_eq!(
            message(&insecure, save),
            "refusing: use https://, or pass --allow-insecure-http"
        );
        assert_eq!(
            spell(&Fix::AllowInsecureHttp, At::Elsewhere),
            "use https://, or save the profile again with `contree auth --allow-insecure-http`"
        );
        assert_eq!(
            message(&AuthError::Io("disk".into()), At::Elsewhere),
            "disk"
        );
    }
}
