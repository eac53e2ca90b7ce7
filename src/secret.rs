//! A token, and the fingerprint that stands for it wherever it would be
//! shown. A leaf: the profile model holds it and text safety
//! ([`crate::sanitize`]) redacts by it, so neither imports the other for it.

use std::fmt;

use sha2::{Digest, Sha256};

/// A token. Its `Debug` never shows it; [`Secret::expose`] is the one way to read it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(token: impl Into<String>) -> Self {
        Secret(token.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(sha256:{})", token_sha256(Some(self)))
    }
}

/// First 16 hex digits of the token's SHA-256, or `<no token>`.
pub fn token_sha256(token: Option<&Secret>) -> String {
    match token {
        Some(token) if !token.is_empty() => {
            let digest = Sha256::digest(token.expose().as_bytes());
            digest[..8].iter().map(|b| format!("{b:02x}")).collect()
        }
        _ => "<no token>".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_hash_is_sha256_prefix() {
        // sha256("secret") = 2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b
        assert_eq!(
            token_sha256(Some(&Secret::new("secret"))),
            "2bb80d537b1da3e3"
        );
        assert_eq!(token_sha256(Some(&Secret::new(""))), "<no token>");
        assert_eq!(token_sha256(None), "<no token>");
        assert!(!format!("{:?}", Secret::new("secret")).contains("secret\""));
    }
}
