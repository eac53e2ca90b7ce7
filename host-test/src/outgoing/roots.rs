//! The CAs the launcher trusts: what this machine trusts, as
//! `rustls-native-certs` reads it. `SSL_CERT_FILE` (a PEM bundle) and
//! `SSL_CERT_DIR` (directories, `:`-separated, of PEM files, such as the
//! hashed directories `openssl rehash` makes): when either is set, the roots
//! come from them alone, as with OpenSSL-based tools pointed at them;
//! otherwise from the system store (`/etc/ssl/certs` and the like, the
//! keychain, the Windows store). The built-in webpki roots are used only
//! where the machine has no store at all.
//!
//! Loaded on the first `https://` request and kept for the run: a run that
//! makes none (`auth ls --offline`) never reads them.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use rustls::{ClientConfig, RootCertStore};

pub const CERT_FILE_VAR: &str = "SSL_CERT_FILE";
pub const CERT_DIR_VAR: &str = "SSL_CERT_DIR";

/// Where the roots come from, and the TLS client built from them once.
#[derive(Debug, Default)]
pub struct Roots {
    file: Option<PathBuf>,
    dirs: Vec<PathBuf>,
    config: OnceLock<Result<Arc<ClientConfig>, String>>,
}

impl Roots {
    pub fn from_vars(var: &dyn Fn(&str) -> Option<String>) -> Roots {
        let set = |name| var(name).filter(|v: &String| !v.is_empty());
        Roots {
            file: set(CERT_FILE_VAR).map(PathBuf::from),
            dirs: set(CERT_DIR_VAR)
                .map(|dirs| {
                    std::env::split_paths(&dirs)
                        .filter(|p| !p.as_os_str().is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            config: OnceLock::new(),
        }
    }

    /// The TLS client configuration, built on the first call. An error says
    /// which variable named files that hold no certificate.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, String> {
        self.config
            .get_or_init(|| {
                let roots = self.load()?;
                let provider = Arc::new(rustls::crypto::ring::default_provider());
                let config = ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .map_err(|err| format!("TLS set-up failed: {err}"))?
                    .with_root_certificates(roots)
                    .with_no_client_auth();
                Ok(Arc::new(config))
            })
            .clone()
    }

    fn load(&self) -> Result<RootCertStore, String> {
        let mut store = RootCertStore::empty();
        if self.file.is_none() && self.dirs.is_empty() {
            let found = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(found.certs);
            if store.is_empty() {
                store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            }
            return Ok(store);
        }
        let mut errors = Vec::new();
        let mut sources = Vec::new();
        if let Some(file) = &self.file {
            let found = rustls_native_certs::load_certs_from_paths(Some(file), None);
            store.add_parsable_certificates(found.certs);
            errors.extend(found.errors);
            sources.push(format!("{CERT_FILE_VAR}={}", file.display()));
        }
        for dir in &self.dirs {
            let found = rustls_native_certs::load_certs_from_paths(None, Some(dir));
            store.add_parsable_certificates(found.certs);
            errors.extend(found.errors);
            sources.push(format!("{CERT_DIR_VAR}={}", dir.display()));
        }
        if store.is_empty() {
            let why = errors
                .first()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default();
            return Err(format!(
                "no CA certificate could be read from {}{why}",
                sources.join(" or ")
            ));
        }
        Ok(store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_that_hold_no_certificate_are_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let missing = dir.path().join("missing");
        let roots = Roots::from_vars(&|name| match name {
            CERT_FILE_VAR => Some(empty.display().to_string()),
            CERT_DIR_VAR => Some(missing.display().to_string()),
            _ => None,
        });
        let err = roots.client_config().unwrap_err();
        assert!(err.contains("SSL_CERT_FILE="), "{err}");
        assert!(err.contains("SSL_CERT_DIR="), "{err}");
        // Built once: the same answer without reading again.
        assert_eq!(roots.client_config().unwrap_err(), err);
    }

    #[test]
    fn without_the_variables_the_machine_store_or_webpki_is_used() {
        let roots = Roots::from_vars(&|_| None);
        assert!(roots.load().is_ok_and(|store| !store.is_empty()));
    }
}
