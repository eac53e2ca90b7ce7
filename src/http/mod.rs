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

pub trait Transport {
    /// Sends every request at once and waits for all of them, but never
    /// longer than `timeout` in all; the outcomes are in request order.
    fn send_all(&self, requests: &[Request], timeout: Duration) -> Vec<Outcome>;
}
