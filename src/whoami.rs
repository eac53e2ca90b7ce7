//! `GET /v1/whoami`: building the request, reading the answer, and the
//! save-time verification with its bounded retries.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::config::profile::{Profile, Secret};
use crate::error::AuthError;
use crate::http::{BaseUrl, MAX_BODY_BYTES, Outcome, Request, Transport};
use crate::sanitize::{self, Redactor};

pub const USER_AGENT: &str = concat!(
    "contree-auth/",
    env!("CARGO_PKG_VERSION"),
    " (wasm32-wasip2)"
);
pub const WHOAMI_PATH: &str = "/v1/whoami";
/// The permission without which sandboxes are disabled on the project.
pub const REQUIRED_PERMISSION: &str = "list";

/// How long save-time verification may take, and how it spends that time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Gives up after this long in all...
    pub budget: Duration,
    /// ...spread over at most this many attempts...
    pub attempts: u32,
    /// ...of at most this long each.
    pub attempt_timeout: Duration,
    /// Pause before the second attempt; doubled before each next one.
    pub first_pause: Duration,
    /// No retry unless at least this much of the budget is left after the pause.
    pub min_attempt: Duration,
}

impl RetryPolicy {
    /// The production policy: 3 attempts within 30 s.
    pub const SAVE: RetryPolicy = RetryPolicy {
        budget: Duration::from_secs(30),
        attempts: 3,
        attempt_timeout: Duration::from_secs(10),
        first_pause: Duration::from_millis(500),
        min_attempt: Duration::from_secs(1),
    };
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::SAVE
    }
}

/// Server text in a message is cut to this many characters (after redaction).
pub const MAX_MESSAGE_CHARS: usize = 200;

/// The whoami request a profile sends, with everything checked first: a
/// token, a project for iam, a URL that parses and may carry a token (https,
/// or http to a literal loopback unless `allow_insecure_http`), and header
/// values HTTP can carry (Latin-1, no control characters). The one place
/// save, list and whoami turn a profile into a request.
pub fn request_for(profile: &Profile, allow_insecure_http: bool) -> Result<Request, AuthError> {
    let token = profile
        .token
        .as_ref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| AuthError::invalid("token", "no token saved"))?;
    let project = profile.project_header();
    if profile.is_iam() && project.unwrap_or("").is_empty() {
        return Err(AuthError::invalid(
            "project",
            "no project configured for this iam profile",
        ));
    }
    if profile.url.is_empty() {
        return Err(AuthError::invalid("url", "no URL configured"));
    }
    // The messages quote the URL, which could hold the token by mistake.
    let url_error = |m: String| AuthError::invalid("url", sanitize::redact(&m, token));
    let url = BaseUrl::parse(&profile.url).map_err(url_error)?;
    url.check_transport_security(allow_insecure_http)
        .map_err(url_error)?;
    for (field, value) in [
        ("token", token.expose()),
        ("project", project.unwrap_or("")),
    ] {
        check_header_value(field, value)?;
    }
    Ok(request(&url, token, project))
}

/// A header value HTTP can carry. Tabs are fine; other control characters
/// would end the header (or be refused by the host) and are refused here.
fn check_header_value(field: &str, value: &str) -> Result<(), AuthError> {
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(AuthError::invalid(
            field,
            format!(
                "the {field} contains a control character, which cannot be sent in an HTTP header"
            ),
        ));
    }
    // HTTP header values are Latin-1; the reference fails the same way.
    if value.chars().any(|c| u32::from(c) > 0xFF) {
        return Err(AuthError::VerificationFailed {
            status: 0,
            message: format!(
                "the {field} cannot be sent in an HTTP header: only Latin-1 characters are allowed"
            ),
        });
    }
    Ok(())
}

fn request(url: &BaseUrl, token: &Secret, project: Option<&str>) -> Request {
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
    /// Every string of the answer is the server's: a token it echoes as a
    /// uuid or a key is redacted like one in an error message.
    fn from_json(value: &Value, redactor: &Redactor) -> WhoAmI {
        let clean = |text: &str| redactor.redact(text).into_owned();
        let map_of = |key: &str| value.get(key).and_then(Value::as_object);
        let numbers = |key: &str| -> Vec<(String, i64)> {
            map_of(key)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((clean(k), v.as_i64()?)))
                        .collect()
                })
                .unwrap_or_default()
        };
        WhoAmI {
            token_uuid: clean(
                value
                    .get("token_uuid")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
            ),
            token_expiration: value.get("token_expiration").and_then(Value::as_i64),
            permissions: map_of("permissions")
                .map(|m| m.iter().map(|(k, v)| (clean(k), truthy(v))).collect())
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
    /// What an outcome means, with every text in it cleaned of the tokens
    /// (all those the server may have seen) and of terminal controls.
    pub fn read(outcome: Outcome, redactor: &Redactor) -> Verdict {
        match outcome {
            Outcome::Response { status, body } if (200..300).contains(&status) => {
                match serde_json::from_slice::<Value>(&body) {
                    Ok(value) => Verdict::Valid(WhoAmI::from_json(&value, redactor)),
                    Err(_) => Verdict::NotJson { status },
                }
            }
            Outcome::Response { status, body } => Verdict::Rejected {
                status,
                message: match error_message(&body, redactor) {
                    message if message.is_empty() => reason_phrase(status).to_string(),
                    message => message,
                },
            },
            Outcome::BodyTooLarge { status } => Verdict::BodyTooLarge { status },
            Outcome::Timeout => Verdict::Timeout,
            Outcome::Failed(reason) => {
                Verdict::Network(sanitize::server_text(&reason, redactor, MAX_MESSAGE_CHARS))
            }
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

/// The `error` field of a JSON error body, else the body text, as one short
/// line: tokens redacted before it is shortened, controls escaped.
fn error_message(body: &[u8], redactor: &Redactor) -> String {
    let text = String::from_utf8_lossy(body);
    let message = match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => match map.get("error") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => text.into_owned(),
        },
        _ => text.into_owned(),
    };
    sanitize::server_text(&message, redactor, MAX_MESSAGE_CHARS)
}

/// Save-time verification: a few attempts for transient failures (no
/// answer, connection errors, 429, 5xx; never another 4xx), all within
/// `policy.budget`. `progress` hears about each retry.
pub fn verify(
    transport: &dyn Transport,
    request: &Request,
    token: &Secret,
    policy: &RetryPolicy,
    progress: &mut dyn FnMut(&str),
) -> Result<WhoAmI, AuthError> {
    let started = Instant::now();
    let redactor = Redactor::new(&[token]);
    let mut pause = policy.first_pause;
    let mut attempt = 1;
    loop {
        let timeout = policy
            .attempt_timeout
            .min(policy.budget.saturating_sub(started.elapsed()));
        let outcome = transport
            .send_all(std::slice::from_ref(request), timeout)
            .pop()
            .unwrap_or(Outcome::Timeout);
        let verdict = Verdict::read(outcome, &redactor);
        let time_left = policy.budget.saturating_sub(started.elapsed());
        if verdict.is_transient()
            && attempt < policy.attempts
            && time_left > pause + policy.min_attempt
        {
            progress(&format!(
                "whoami: {}; retrying in {:.1} s (attempt {} of {})",
                verdict.describe(timeout),
                pause.as_secs_f64(),
                attempt + 1,
                policy.attempts
            ));
            std::thread::sleep(pause);
            pause *= 2;
            attempt += 1;
            continue;
        }
        let url = format!("{}{}", request.url.authority, request.url.path);
        let url = redactor.redact(&url);
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
                "no answer from {url} within {:.0} s",
                started.elapsed().as_secs_f64()
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
    use std::cell::RefCell;
    use std::collections::VecDeque;

    fn secret() -> Secret {
        Secret::new("tok-123")
    }

    /// Answers from a script (then `Timeout`), and sleeps out the deadline
    /// on a `Timeout` as a server that never answers would make it.
    struct Scripted {
        answers: RefCell<VecDeque<Outcome>>,
        timeouts: RefCell<Vec<Duration>>,
    }

    impl Scripted {
        fn new(answers: impl IntoIterator<Item = Outcome>) -> Scripted {
            Scripted {
                answers: RefCell::new(answers.into_iter().collect()),
                timeouts: RefCell::new(Vec::new()),
            }
        }

        fn attempts(&self) -> usize {
            self.timeouts.borrow().len()
        }
    }

    impl Transport for Scripted {
        fn send_all(&self, requests: &[Request], timeout: Duration) -> Vec<Outcome> {
            self.timeouts.borrow_mut().push(timeout);
            let outcome = self
                .answers
                .borrow_mut()
                .pop_front()
                .unwrap_or(Outcome::Timeout);
            if outcome == Outcome::Timeout {
                std::thread::sleep(timeout);
            }
            requests.iter().map(|_| outcome.clone()).collect()
        }
    }

    /// The production rule, shrunk a hundredfold.
    const FAST: RetryPolicy = RetryPolicy {
        budget: Duration::from_millis(300),
        attempts: 3,
        attempt_timeout: Duration::from_millis(100),
        first_pause: Duration::from_millis(10),
        min_attempt: Duration::from_millis(20),
    };

    fn jwt(token: &str, url: &str) -> Profile {
        Profile {
            name: "p".into(),
            auth_type: "jwt".into(),
            url: url.into(),
            project: None,
            token: Some(Secret::new(token)),
        }
    }

    fn status(status: u16, body: &str) -> Outcome {
        Outcome::Response {
            status,
            body: body.as_bytes().to_vec(),
        }
    }

    fn run(transport: &Scripted, policy: &RetryPolicy) -> (Result<WhoAmI, AuthError>, Vec<String>) {
        let token = secret();
        let request = request_for(&jwt(token.expose(), "http://127.0.0.1:9"), false).unwrap();
        let mut notes = Vec::new();
        let result = verify(transport, &request, &token, policy, &mut |n| {
            notes.push(n.to_string())
        });
        (result, notes)
    }

    /// A 308-character token, as the issue measured.
    fn long_token() -> Secret {
        let body: String = (0..300)
            .map(|i| char::from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[i * 11 % 36]))
            .collect();
        Secret::new(format!("eyJhbGci{body}"))
    }

    /// Every 12-character run of `token` found in `text`.
    fn fragments(text: &str, token: &Secret) -> Vec<String> {
        let chars: Vec<char> = token.expose().chars().collect();
        chars
            .windows(sanitize::MIN_FRAGMENT)
            .map(|w| w.iter().collect::<String>())
            .filter(|w| text.contains(w.as_str()))
            .collect()
    }

    #[test]
    fn save_verification_gives_up_within_its_budget_after_at_most_n_attempts() {
        for policy in [
            FAST,
            RetryPolicy {
                attempts: 100,
                ..FAST
            },
            RetryPolicy {
                attempt_timeout: Duration::from_secs(5),
                ..FAST
            },
        ] {
            let hang = Scripted::new([]);
            let started = Instant::now();
            let (result, notes) = run(&hang, &policy);
            let elapsed = started.elapsed();
            assert!(
                matches!(result, Err(AuthError::Timeout(ref m)) if m.starts_with("no answer from 127.0.0.1:9")),
                "{result:?}"
            );
            assert!(
                elapsed < policy.budget + Duration::from_millis(150),
                "{elapsed:?} for {policy:?}"
            );
            let timeouts = hang.timeouts.borrow();
            assert!(timeouts.len() <= policy.attempts as usize, "{timeouts:?}");
            assert!(timeouts.iter().sum::<Duration>() <= policy.budget);
            assert!(timeouts.iter().all(|&t| t <= policy.attempt_timeout));
            assert_eq!(notes.len(), timeouts.len() - 1, "one note per retry");
        }
        let hang = Scripted::new([]);
        run(&hang, &FAST).0.unwrap_err();
        assert_eq!(hang.attempts(), 3, "FAST leaves room for all three");
    }

    #[test]
    fn the_production_policy_is_three_attempts_of_ten_seconds_within_thirty() {
        let policy = RetryPolicy::default();
        assert_eq!(policy, RetryPolicy::SAVE);
        assert_eq!(
            (policy.budget, policy.attempts, policy.attempt_timeout),
            (Duration::from_secs(30), 3, Duration::from_secs(10))
        );
    }

    #[test]
    fn only_connection_errors_timeouts_429_and_5xx_are_retried() {
        let transient = [
            Outcome::Failed("connection refused".into()),
            Outcome::Timeout,
            status(500, r#"{"error":"boom"}"#),
            status(502, "bad gateway"),
            status(503, ""),
            status(429, r#"{"error":"slow down"}"#),
        ];
        for outcome in transient {
            let always = Scripted::new(std::iter::repeat_n(outcome.clone(), 5));
            run(&always, &FAST).0.unwrap_err();
            assert_eq!(always.attempts(), 3, "{outcome:?} is retried");
            let once = Scripted::new([outcome.clone(), status(200, "{}")]);
            run(&once, &FAST).0.unwrap();
            assert_eq!(once.attempts(), 2, "{outcome:?} then success");
        }
        let final_answers = [
            status(400, ""),
            status(401, r#"{"error":"invalid token"}"#),
            status(403, ""),
            status(404, ""),
            status(418, ""),
            status(302, ""),
            status(200, "<html>"),
            Outcome::BodyTooLarge { status: 200 },
        ];
        for outcome in final_answers {
            let script = Scripted::new([outcome.clone(), status(200, "{}")]);
            let (result, notes) = run(&script, &FAST);
            result.unwrap_err();
            assert_eq!(script.attempts(), 1, "{outcome:?} is not retried");
            assert!(notes.is_empty());
        }
    }

    #[test]
    fn request_for_checks_every_value_before_anything_is_sent() {
        let iam = |project: Option<&str>| Profile {
            auth_type: "iam".into(),
            project: project.map(str::to_string),
            ..jwt("tok-123", "http://127.0.0.1:9/base/")
        };
        let request = request_for(&iam(Some("proj")), false).unwrap();
        assert_eq!(request.url.path, "/base");
        assert_eq!(request.path, WHOAMI_PATH);
        assert_eq!(
            request.headers[..2],
            [
                ("Authorization".into(), "Bearer tok-123".into()),
                ("Project".to_string(), "proj".to_string())
            ]
        );
        let no_header = request_for(&jwt("t-é\tx", "http://localhost"), false).unwrap();
        assert!(!no_header.headers.iter().any(|(k, _)| k == "Project"));

        let field = |result: Result<Request, AuthError>| match result {
            Err(AuthError::InvalidInput { field, .. }) => field,
            Err(AuthError::VerificationFailed { status: 0, message }) => {
                format!("latin-1: {message}")
            }
            other => panic!("{other:?}"),
        };
        let mut no_token = jwt("", "http://127.0.0.1");
        assert_eq!(field(request_for(&no_token, false)), "token");
        no_token.token = None;
        assert_eq!(field(request_for(&no_token, false)), "token");
        assert_eq!(field(request_for(&iam(None), false)), "project");
        assert_eq!(field(request_for(&iam(Some("")), false)), "project");
        assert_eq!(field(request_for(&jwt("t", ""), false)), "url");
        assert_eq!(field(request_for(&jwt("t", "ftp://h"), false)), "url");
        assert_eq!(
            field(request_for(&jwt("t", "http://10.0.0.1"), false)),
            "url"
        );
        assert!(request_for(&jwt("t", "http://10.0.0.1"), true).is_ok());
        assert_eq!(
            field(request_for(&jwt("t", "http://localhost.evil.com"), false)),
            "url"
        );
        for token in ["a\nb", "a\rb", "a\u{0}b", "a\u{7f}b", "a\u{85}b"] {
            assert_eq!(
                field(request_for(&jwt(token, "http://127.0.0.1"), false)),
                "token"
            );
        }
        assert_eq!(
            field(request_for(&iam(Some("p\r\nX-Evil: 1")), false)),
            "project"
        );
        assert!(
            field(request_for(&jwt("токен", "http://127.0.0.1"), false))
                .starts_with("latin-1: the token ")
        );
        assert!(
            field(request_for(&iam(Some("проект")), false)).starts_with("latin-1: the project ")
        );
    }

    #[test]
    fn an_echoed_token_is_redacted_before_the_message_is_shortened() {
        let token = long_token();
        let echoes = [
            status(
                401,
                &format!(
                    r#"{{"error":"invalid token {} for this project"}}"#,
                    token.expose()
                ),
            ),
            status(401, &format!("<html>bad bearer {}</html>", token.expose())),
            status(
                500,
                &format!(r#"{{"error":{{"token":"{}"}}}}"#, token.expose()),
            ),
            Outcome::Failed(format!("proxy said: {} rejected", token.expose())),
        ];
        for outcome in echoes {
            let verdict = Verdict::read(outcome.clone(), &Redactor::new(&[&token]));
            let text = verdict.describe(Duration::from_secs(1));
            assert!(fragments(&text, &token).is_empty(), "{text}");
            assert!(text.contains(&sanitize::marker(&token)), "{text}");
            // verify's error and retry notes, too.
            let request = request_for(&jwt(token.expose(), "http://127.0.0.1:9"), false).unwrap();
            let script = Scripted::new(std::iter::repeat_n(outcome, 3));
            let mut notes = String::new();
            let err =
                verify(&script, &request, &token, &FAST, &mut |n| notes.push_str(n)).unwrap_err();
            let shown = format!("{err} {err:?} {notes}");
            assert!(fragments(&shown, &token).is_empty(), "{shown}");
        }
        // A token pasted into the URL by mistake is not quoted back either.
        for url in [
            format!("ftp://h/{}", token.expose()),
            format!("http://h:{}", token.expose()),
            format!("http://10.0.0.1/{}", token.expose()),
        ] {
            let err = request_for(&jwt(token.expose(), &url), false).unwrap_err();
            assert!(fragments(&err.to_string(), &token).is_empty(), "{err}");
        }
        let in_path = format!("http://127.0.0.1:9/{}", token.expose());
        let request = request_for(&jwt(token.expose(), &in_path), false).unwrap();
        let refused = Scripted::new(std::iter::repeat_n(Outcome::Failed("refused".into()), 3));
        let err = verify(&refused, &request, &token, &FAST, &mut |_| {}).unwrap_err();
        assert!(fragments(&err.to_string(), &token).is_empty(), "{err}");
        // A 2xx answer's strings are the server's too.
        let echo = status(
            200,
            &format!(
                r#"{{"token_uuid":"{0}","permissions":{{"{0}":true,"list":true}},"limits":{{"{0}":1}},"operations_stat":{{"{0}":2}}}}"#,
                token.expose()
            ),
        );
        let Verdict::Valid(whoami) = Verdict::read(echo, &Redactor::new(&[&token])) else {
            panic!()
        };
        assert!(whoami.has_permission("list"));
        assert!(
            fragments(&format!("{whoami:?}"), &token).is_empty(),
            "{whoami:?}"
        );
    }

    #[test]
    fn terminal_controls_in_a_server_message_are_escaped() {
        let body =
            "{\"error\":\"\\u001b]52;c;cm0gLXJmIH4=\\u0007 \\u202eevil\\u009b\\nnext line\"}";
        let verdict = Verdict::read(status(401, body), &Redactor::new(&[&secret()]));
        assert_eq!(
            verdict,
            Verdict::Rejected {
                status: 401,
                message: "\\x1b]52;c;cm0gLXJmIH4=\\x07 \\u202eevil\\x9b next line".into()
            }
        );
        let Verdict::Network(reason) =
            Verdict::read(Outcome::Failed("a\u{1b}[2Jb".into()), &Redactor::new(&[]))
        else {
            panic!()
        };
        assert_eq!(reason, "a\\x1b[2Jb");
    }

    #[test]
    fn verdicts() {
        let ok = Outcome::Response {
            status: 200,
            body: br#"{"token_uuid":"u","permissions":{"list":true},"limits":{"n":3}}"#.to_vec(),
        };
        let Verdict::Valid(w) = Verdict::read(ok, &Redactor::new(&[&secret()])) else {
            panic!()
        };
        assert!(w.has_permission("list"));
        assert_eq!(w.limits, [("n".to_string(), 3)]);
        let array = Outcome::Response {
            status: 200,
            body: b"[1]".to_vec(),
        };
        let Verdict::Valid(w) = Verdict::read(array, &Redactor::new(&[&secret()])) else {
            panic!()
        };
        assert!(!w.has_permission("list"));
        let html = Outcome::Response {
            status: 200,
            body: b"<html>".to_vec(),
        };
        assert_eq!(
            Verdict::read(html, &Redactor::new(&[&secret()])),
            Verdict::NotJson { status: 200 }
        );
        let denied = Outcome::Response {
            status: 401,
            body: br#"{"error":"bad tok-123"}"#.to_vec(),
        };
        let Verdict::Rejected {
            status: 401,
            message,
        } = Verdict::read(denied, &Redactor::new(&[&secret()]))
        else {
            panic!()
        };
        assert!(message.starts_with("bad <token sha256:"), "{message}");
    }
}
