//! HTTP as the rest of the component sees it: GET requests sent together,
//! each ending in an [`Outcome`] by a deadline. [`wasi`] is the only code
//! that touches `wasi:http`; tests and other hosts can supply another
//! [`Transport`].

#[cfg(test)]
pub mod fake;
pub mod url;
#[cfg(target_arch = "wasm32")]
pub mod wasi;

use std::time::Duration;

pub use url::BaseUrl;

/// Bodies larger than this are cut off and reported, never buffered whole.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Request {
    pub url: BaseUrl,
    /// Appended to the base path, e.g. `/v1/whoami`.
    pub path: String,
    pub headers: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Response {
        status: u16,
        body: Vec<u8>,
    },
    /// No complete answer before the deadline.
    Timeout,
    /// The body went past [`MAX_BODY_BYTES`].
    BodyTooLarge {
        status: u16,
    },
    /// The connection was refused, or closed before any answer: the server
    /// did not process the request, so trying again can help.
    ConnectionLost(String),
    /// DNS, TLS, protocol errors and the like: a reason for people. Trying
    /// again within seconds would meet the same failure.
    Failed(String),
}

/// The words for a failed TLS handshake. `code` names the host's error
/// code; `certificate` says the host refused the server's certificate;
/// `machine_trust` that the host trusts this machine's CAs (it set
/// [`MACHINE_TRUST_VAR`](crate::config::env::MACHINE_TRUST_VAR)). Another
/// host may trust only roots built into it, and says nothing more than
/// "TLS failed" whatever the cause, so the likely cause and its fix are
/// named.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub fn tls_failure(code: &str, certificate: bool, machine_trust: bool) -> String {
    match (machine_trust, certificate) {
        (true, true) => "TLS failed: the server's certificate is not trusted by this machine's \
             store, SSL_CERT_FILE or SSL_CERT_DIR (add its CA to one of them)"
            .to_string(),
        (true, false) => format!("TLS failed ({code})"),
        // The fix first: a detail is cut at `whoami::MAX_MESSAGE_CHARS`.
        (false, _) => format!(
            "TLS failed: the server's certificate may not be trusted by this host; run it with \
             the contree launcher and SSL_CERT_FILE/SSL_CERT_DIR, or use the host's own CA \
             setting ({code})"
        ),
    }
}

pub trait Transport {
    /// Sends every request at once and waits for all of them, but never
    /// longer than `timeout` in all; the outcomes are in request order.
    fn send_all(&self, requests: &[Request], timeout: Duration) -> Vec<Outcome>;
}

#[cfg(test)]
mod tests {
    use super::tls_failure;

    #[test]
    fn a_tls_failure_names_the_store_to_look_at_under_a_host_that_trusts_the_machine() {
        let refused = tls_failure("ErrorCode::TlsCertificateError", true, true);
        assert!(
            refused.contains("not trusted by this machine's store"),
            "{refused}"
        );
        assert!(
            refused.contains("SSL_CERT_FILE or SSL_CERT_DIR"),
            "{refused}"
        );
        assert!(!refused.contains("launcher"), "{refused}");
        let protocol = tls_failure("ErrorCode::TlsProtocolError", false, true);
        assert_eq!(protocol, "TLS failed (ErrorCode::TlsProtocolError)");
    }

    #[test]
    fn under_another_host_a_tls_failure_says_the_host_may_not_trust_the_certificate() {
        for certificate in [false, true] {
            let text = tls_failure("ErrorCode::TlsProtocolError", certificate, false);
            assert!(text.ends_with(" (ErrorCode::TlsProtocolError)"), "{text}");
            assert!(
                text.chars().count() <= crate::whoami::MAX_MESSAGE_CHARS,
                "{text}"
            );
            assert!(text.contains("may not be trusted by this host"), "{text}");
            assert!(text.contains("contree launcher"), "{text}");
            assert!(text.contains("SSL_CERT_FILE"), "{text}");
        }
    }
}
