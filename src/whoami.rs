//! `GET /v1/whoami`: building the request, reading the answer, and the
//! save-time verification with its bounded retries.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::config::profile::{Secret, token_sha256};
use crate::error::AuthError;
use crate::http::{BaseUrl, MAX_BODY_BYTES, Outcome, Request, Transport};

pub const USER_AGENT: &str = concat!(
    "contree-auth/",
    env!("CARGO_PKG_VERSION"),
    " (wasm32-wasip2)"
);
pub const WHOAMI_PATH: &str = "/v1/whoami";
/// The permission without which sandboxes are disabled on the project.
pub const REQUIRED_PERMISSION: &str = "list";

/// Save-time verification gives up after this long in all...
pub const VERIFY_BUDGET: Duration = Duration::from_secs(30);
/// ...spread over at most this many attempts of at most `VERIFY_ATTEMPT_TIMEOUT` each.
pub const VERIFY_ATTEMPTS: u32 = 3;
pub const VERIFY_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause before the second attempt; doubled before the third.
const RETRY_PAUSE: Duration = Duration::from_millis(500);

pub fn request(url: &BaseUrl, token: &Secret, project: Option<&str>) -> Request {
    let mut headers = vec![(
        "Authorization".to_string(),
        format!("Bearer {}", token.expose()),
    )];
    if let Some(project) = project {
        headers.push(("Project".to_string(), project.to_string()));
    }
    headers.push(("User-Agent".to_string(), USER_AGENT.to_string()));
    Request {
        url: url.clone(),
        path: WHOAMI_PATH.to_string(),
        headers,
    }
}

/// The parts of `WhoAmIResponse` we use; missing parts are empty.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WhoAmI {
    pub token_uuid: String,
    pub token_expiration: Option<i64>,
    pub permissions: Vec<(String, bool)>,
    pub limits: Vec<(String, i64)>,
    pub operations_stat: Vec<(String, i64)>,
}

impl WhoAmI {
    fn from_json(value: &Value) -> WhoAmI {
        let map_of = |key: &str| value.get(key).and_then(Value::as_object);
        let numbers = |key: &str| -> Vec<(String, i64)> {
            map_of(key)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_i64()?)))
                        .collect()
                })
                .unwrap_or_default()
        };
        WhoAmI {
            token_uuid: value
                .get("token_uuid")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            token_expiration: value.get("token_expiration").and_then(Value::as_i64),
            permissions: map_of("permissions")
                .map(|m| m.iter().map(|(k, v)| (k.clone(), truthy(v))).collect())
                .unwrap_or_default(),
            limits: numbers("limits"),
            operations_stat: numbers("operations_stat"),
        }
    }

    pub fn has_permission(&self, name: &str) -> bool {
        self.permissions
            .iter()
            .any(|(k, granted)| k == name && *granted)
    }
}

/// Python's `bool()` of a JSON value, as `check_permission` applies it.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// What one whoami answer means.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// 2xx with JSON (a body that is JSON but not an object has no permissions).
    Valid(WhoAmI),
    /// A non-2xx answer, with the server's `error` or body text.
    Rejected {
        status: u16,
        message: String,
    },
    /// 2xx whose body is not JSON (HTML from a proxy, say).
    NotJson {
        status: u16,
    },
    BodyTooLarge {
        status: u16,
    },
    Timeout,
    Network(String),
}

impl Verdict {
    pub fn read(outcome: Outcome, token: &Secret) -> Verdict {
        match outcome {
            Outcome::Response { status, body } if (200..300).contains(&status) => {
                match serde_json::from_slice::<Value>(&body) {
                    Ok(value) => Verdict::Valid(WhoAmI::from_json(&value)),
                    Err(_) => Verdict::NotJson { status },
                }
            }
            Outcome::Response { status, body } => Verdict::Rejected {
                status,
                message: match error_message(&body, token) {
                    message if message.is_empty() => reason_phrase(status).to_string(),
                    message => message,
                },
            },
            Outcome::BodyTooLarge { status } => Verdict::BodyTooLarge { status },
            Outcome::Timeout => Verdict::Timeout,
            Outcome::Failed(reason) => Verdict::Network(redact(&reason, token)),
        }
    }

    /// Worth another attempt: the server may answer differently in a moment.
    fn is_transient(&self) -> bool {
        match self {
            Verdict::Rejected { status, .. } => *status == 429 || (500..600).contains(status),
            Verdict::Timeout | Verdict::Network(_) => true,
            _ => false,
        }
    }

    /// A one-line reason, for `detail` and error messages.
    pub fn describe(&self, timeout: Duration) -> String {
        match self {
            Verdict::Valid(_) => "valid".to_string(),
            Verdict::Rejected { status, message } => format!("HTTP {status}: {message}"),
            Verdict::NotJson { status } => format!("HTTP {status}, but the body is not JSON"),
            Verdict::BodyTooLarge { status } => {
                format!(
                    "HTTP {status}, but the body is over {} KiB",
                    MAX_BODY_BYTES / 1024
                )
            }
            Verdict::Timeout => format!("no answer within {} s", timeout.as_secs_f64()),
            Verdict::Network(reason) => reason.clone(),
        }
    }
}

/// What to say for a status whose body says nothing.
fn reason_phrase(status: u16) -> &'static str {
    match status {
        300..=399 => "a redirect, which is not followed (is the URL right?)",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found (is the URL the ConTree API?)",
        429 => "Too Many Requests",
        500..=599 => "server error",
        _ => "no error message",
    }
}

/// The `error` field of a JSON error body, else the body text, as one short line.
fn error_message(body: &[u8], token: &Secret) -> String {
    let text = String::from_utf8_lossy(body);
    let message = match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => match map.get("error") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => text.into_owned(),
        },
        _ => text.into_owned(),
    };
    let one_line: String = message.split_whitespace().collect::<Vec<_>>().join(" ");
    let short: String = one_line.chars().take(200).collect();
    redact(&short, token)
}

/// Shorter tokens are not real ones, and would match ordinary words.
const MIN_REDACTED_LEN: usize = 6;

/// A server that echoes the token back must not make us print it.
fn redact(text: &str, token: &Secret) -> String {
    if token.expose().len() < MIN_REDACTED_LEN || !text.contains(token.expose()) {
        return text.to_string();
    }
    text.replace(
        token.expose(),
        &format!("<token sha256:{}>", token_sha256(Some(token))),
    )
}

/// Save-time verification: a few attempts for transient failures, all
/// within [`VERIFY_BUDGET`]. `progress` hears about each retry.
pub fn verify(
    transport: &dyn Transport,
    request: &Request,
    token: &Secret,
    progress: &mut dyn FnMut(&str),
) -> Result<WhoAmI, AuthError> {
    let started = Instant::now();
    let mut pause = RETRY_PAUSE;
    let mut attempt = 1;
    loop {
        let timeout = VERIFY_ATTEMPT_TIMEOUT.min(VERIFY_BUDGET.saturating_sub(started.elapsed()));
        let outcome = transport
            .send_all(std::slice::from_ref(request), timeout)
            .pop()
            .unwrap_or(Outcome::Timeout);
        let verdict = Verdict::read(outcome, token);
        let time_left = VERIFY_BUDGET.saturating_sub(started.elapsed());
        if verdict.is_transient()
            && attempt < VERIFY_ATTEMPTS
            && time_left > pause + Duration::from_secs(1)
        {
            progress(&format!(
                "whoami: {}; retrying in {:.1} s (attempt {} of {VERIFY_ATTEMPTS})",
                verdict.describe(timeout),
                pause.as_secs_f64(),
                attempt + 1
            ));
            std::thread::sleep(pause);
            pause *= 2;
            attempt += 1;
            continue;
        }
        let url = format!("{}{}", request.url.authority, request.url.path);
        return match verdict {
            Verdict::Valid(whoami) => Ok(whoami),
            Verdict::Rejected { status, message } => {
                Err(AuthError::VerificationFailed { status, message })
            }
            Verdict::NotJson { status } => Err(AuthError::VerificationFailed {
                status,
                message: "the body is not JSON (is the URL the ConTree API?)".to_string(),
            }),
            Verdict::BodyTooLarge { status } => Err(AuthError::VerificationFailed {
                status,
                message: format!("the body is over {} KiB", MAX_BODY_BYTES / 1024),
            }),
            Verdict::Timeout => Err(AuthError::Timeout(format!(
                "no answer from {url} within {} s",
                started.elapsed().as_secs()
            ))),
            Verdict::Network(reason) => {
                Err(AuthError::Network(format!("cannot reach {url}: {reason}")))
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Secret {
        Secret::new("tok-123")
    }

    #[test]
    fn verdicts() {
        let ok = Outcome::Response {
            status: 200,
            body: br#"{"token_uuid":"u","permissions":{"list":true},"limits":{"n":3}}"#.to_vec(),
        };
        let Verdict::Valid(w) = Verdict::read(ok, &secret()) else {
            panic!()
        };
        assert!(w.has_permission("list"));
        assert_eq!(w.limits, [("n".to_string(), 3)]);
        let array = Outcome::Response {
            status: 200,
            body: b"[1]".to_vec(),
        };
        let Verdict::Valid(w) = Verdict::read(array, &secret()) else {
            panic!()
        };
        assert!(!w.has_permission("list"));
        let html = Outcome::Response {
            status: 200,
            body: b"<html>".to_vec(),
        };
        assert_eq!(
            Verdict::read(html, &secret()),
            Verdict::NotJson { status: 200 }
        );
        let denied = Outcome::Response {
            status: 401,
            body: br#"{"error":"bad tok-123"}"#.to_vec(),
        };
        let Verdict::Rejected {
            status: 401,
            message,
        } = Verdict::read(denied, &secret())
        else {
            panic!()
        };
        assert!(message.starts_with("bad <token sha256:"), "{message}");
    }
}
