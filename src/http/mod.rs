//! HTTP as the rest of the component sees it: GET requests sent together,
//! each ending in an [`Outcome`] by its own deadline. [`wasi`] is the only
//! code that touches `wasi:http`; tests and other hosts can supply another
//! [`Transport`].

pub mod date;
#[cfg(test)]
pub mod fake;
pub mod url;
#[cfg(target_arch = "wasm32")]
pub mod wasi;

use std::time::Duration;

pub use url::BaseUrl;

/// Bodies larger than this are cut off and reported, never buffered whole.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The response headers kept: those the retry rules read. Others are
/// dropped as they arrive, so a server cannot make us hold many of them.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub const KEPT_HEADERS: [&str; 2] = ["retry-after", "date"];

#[derive(Debug, Clone, PartialEq, Eq)]
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
        /// The [`KEPT_HEADERS`] the server sent: lower-case names, values
        /// as text (Latin-1).
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// No complete answer before the deadline.
    Timeout,
    /// The body went past [`MAX_BODY_BYTES`].
    BodyTooLarge { status: u16 },
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

impl Outcome {
    /// An answer without the headers the retry rules read.
    pub fn response(status: u16, body: impl Into<Vec<u8>>) -> Outcome {
        Outcome::Response {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// A kept response header by name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        match self {
            Outcome::Response { headers, .. } => headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str()),
            _ => None,
        }
    }
}

/// Whether a finished request is sent again, and after what pause: given
/// its outcome, how many attempts it has had (1 after the first), and how
/// long since it was first sent. `None` makes the outcome final.
pub type Retry<'a> = dyn Fn(&Outcome, u32, Duration) -> Option<Duration> + 'a;

pub trait Transport {
    /// Sends every request and waits for all of them; the outcomes are in
    /// request order. Each request gets its own `timeout`, counted from
    /// when it is first sent: a request waiting for a free connection slot
    /// (the host has only so many sockets) is not charged for the wait.
    /// A request that `retry` sends again keeps its first deadline.
    fn send_each(&self, requests: &[Request], timeout: Duration, retry: &Retry<'_>)
    -> Vec<Outcome>;

    /// [`Transport::send_each`] with every outcome final.
    fn send_all(&self, requests: &[Request], timeout: Duration) -> Vec<Outcome> {
        self.send_each(requests, timeout, &|_, _, _| None)
    }
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
