//! `GET /v1/whoami`: building the request, reading the answer, and the
//! save-time verification with its bounded retries.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::config::profile::{Profile, Secret};
use crate::error::AuthError;
use crate::http::url::UrlError;
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
    /// Gives up after this long in all, retries and pauses included...
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
    /// The production policy (SPEC §7): at most 3 attempts within 10 s, so
    /// that a save ends within 12 s whatever the server does (never
    /// answers, trickles, streams forever). Only a lost connection is
    /// tried again: see [`Verdict::retry_can_help`].
    pub const SAVE: RetryPolicy = RetryPolicy {
        budget: Duration::from_secs(10),
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

/// Time as verification sees it: how long since it started, and a pause.
/// Production passes [`SystemClock`]; tests pass a clock they move by hand,
/// so they state exactly what happens at 10 s without waiting 10 s.
pub trait Clock {
    /// Time since the clock started (monotonic).
    fn elapsed(&self) -> Duration;
    fn sleep(&self, pause: Duration);
}

/// The machine's monotonic clock, started when made.
pub struct SystemClock(Instant);

impl SystemClock {
    pub fn start() -> SystemClock {
        SystemClock(Instant::now())
    }
}

impl Clock for SystemClock {
    fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }

    fn sleep(&self, pause: Duration) {
        std::thread::sleep(pause);
    }
}

/// Server text in a message is cut to this many characters (after redaction).
pub const MAX_MESSAGE_CHARS: usize = 200;

/// The whoami request a profile sends, with everything checked first: a
/// token, a project for iam, a URL that parses and may carry a token (https,
/// or http to a literal loopback, or plain http the profile was saved with
/// consent for: [`Profile::allow_insecure_http`]), and header values HTTP can
/// carry (Latin-1, no control characters). The one place save, list and
/// whoami turn a profile into a request.
pub fn request_for(profile: &Profile) -> Result<Request, AuthError> {
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
    let url_error = |e: UrlError| {
        AuthError::invalid("url", sanitize::redact(&e.message, token)).with_fix(e.fix)
    };
    let url = BaseUrl::parse(&profile.url).map_err(url_error)?;
    url.check_transport_security(profile.allow_insecure_http)
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
    /// No answer at all; `lost`: the connection was refused or closed first.
    Network {
        reason: String,
        lost: bool,
    },
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
            Outcome::ConnectionLost(reason) => Verdict::Network {
                reason: sanitize::server_text(&reason, redactor, MAX_MESSAGE_CHARS),
                lost: true,
            },
            Outcome::Failed(reason) => Verdict::Network {
                reason: sanitize::server_text(&reason, redactor, MAX_MESSAGE_CHARS),
                lost: false,
            },
        }
    }

    /// Worth another attempt (SPEC §7): only a connection refused or closed
    /// before any answer, which a server restarting or a busy listener
    /// causes and which costs no time. A timeout would spend the budget
    /// again; a 5xx or 429 is an answer, and its server asked for time we
    /// do not have (the reference retries those forever).
    pub fn retry_can_help(&self) -> bool {
        matches!(self, Verdict::Network { lost: true, .. })
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
            Verdict::Network { reason, .. } => reason.clone(),
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

/// Save-time verification on the system clock: see [`verify_with`].
pub fn verify(
    transport: &dyn Transport,
    request: &Request,
    token: &Secret,
    policy: &RetryPolicy,
    progress: &mut dyn FnMut(&str),
) -> Result<WhoAmI, AuthError> {
    verify_with(
        transport,
        request,
        token,
        policy,
        &SystemClock::start(),
        progress,
    )
}

/// Save-time verification: every wait of every attempt, and the pauses
/// between them, fit in `policy.budget` as `clock` measures it; a lost
/// connection is tried again (at most `policy.attempts` times in all), any
/// other answer is final. `progress` hears about each retry.
pub fn verify_with(
    transport: &dyn Transport,
    request: &Request,
    token: &Secret,
    policy: &RetryPolicy,
    clock: &dyn Clock,
    progress: &mut dyn FnMut(&str),
) -> Result<WhoAmI, AuthError> {
    let redactor = Redactor::new(&[token]);
    let time_left = || policy.budget.saturating_sub(clock.elapsed());
    let mut pause = policy.first_pause;
    let mut attempt = 1;
    loop {
        let timeout = policy.attempt_timeout.min(time_left());
        let outcome = transport
            .send_all(std::slice::from_ref(request), timeout)
            .pop()
            .unwrap_or(Outcome::Timeout);
        let verdict = Verdict::read(outcome, &redactor);
        if verdict.retry_can_help()
            && attempt < policy.attempts
            && time_left() >= pause + policy.min_attempt
        {
            progress(&format!(
                "whoami: {}; retrying in {:.1} s (attempt {} of {})",
                verdict.describe(timeout),
                pause.as_secs_f64(),
                attempt + 1,
                policy.attempts
            ));
            clock.sleep(pause);
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
                "no complete answer from {url} within {:.0} s",
                clock.elapsed().as_secs_f64()
            ))),
            Verdict::Network { reason, .. } => {
                Err(AuthError::Network(format!("cannot reach {url}: {reason}")))
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{fragments, long_token};
    use std::cell::{Cell, RefCell};
    use std::collections::VecDeque;
    use std::rc::Rc;

    use crate::http::fake::FakeTransport;

    fn secret() -> Secret {
        Secret::new("tok-123")
    }

    /// A clock moved by hand: sleeping moves it, and so does a server that
    /// never answers ([`Scripted`] spends the whole wait).
    #[derive(Default)]
    struct FakeClock {
        now: Cell<Duration>,
        sleeps: RefCell<Vec<Duration>>,
    }

    impl FakeClock {
        fn advance(&self, by: Duration) {
            self.now.set(self.now.get() + by);
        }
    }

    impl Clock for FakeClock {
        fn elapsed(&self) -> Duration {
            self.now.get()
        }

        fn sleep(&self, pause: Duration) {
            self.sleeps.borrow_mut().push(pause);
            self.advance(pause);
        }
    }

    /// Answers from a script (then `Timeout`). Every answer comes at once,
    /// except `Timeout`, which spends the whole wait on the fake clock, as a
    /// server that never answers (or trickles, or streams forever) makes it.
    struct Scripted {
        fake: FakeTransport<'static>,
        clock: Rc<FakeClock>,
    }

    impl Scripted {
        fn new(answers: impl IntoIterator<Item = Outcome>) -> Scripted {
            let clock = Rc::new(FakeClock::default());
            let spent = clock.clone();
            let answers: RefCell<VecDeque<Outcome>> = RefCell::new(answers.into_iter().collect());
            let fake = FakeTransport::batch(move |requests, timeout| {
                let outcome = answers.borrow_mut().pop_front().unwrap_or(Outcome::Timeout);
                if outcome == Outcome::Timeout {
                    spent.advance(timeout);
                }
                requests.iter().map(|_| outcome.clone()).collect()
            });
            Scripted { fake, clock }
        }

        fn attempts(&self) -> usize {
            self.fake.timeouts().len()
        }

        fn timeouts(&self) -> Vec<Duration> {
            self.fake.timeouts()
        }

        fn sleeps(&self) -> Vec<Duration> {
            self.clock.sleeps.borrow().clone()
        }
    }

    fn jwt(token: &str, url: &str) -> Profile {
        Profile {
            name: "p".into(),
            auth_type: "jwt".into(),
            url: url.into(),
            project: None,
            token: Some(Secret::new(token)),
            allow_insecure_http: false,
        }
    }

    fn status(status: u16, body: &str) -> Outcome {
        Outcome::Response {
            status,
            body: body.as_bytes().to_vec(),
        }
    }

    fn refused() -> Outcome {
        Outcome::ConnectionLost("connection refused".into())
    }

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    /// `verify_with` on the script's own fake clock.
    fn run(transport: &Scripted, policy: &RetryPolicy) -> (Result<WhoAmI, AuthError>, Vec<String>) {
        let token = secret();
        let request = request_for(&jwt(token.expose(), "http://127.0.0.1:9")).unwrap();
        let mut notes = Vec::new();
        let result = verify_with(
            &transport.fake,
            &request,
            &token,
            policy,
            &*transport.clock,
            &mut |n| notes.push(n.to_string()),
        );
        (result, notes)
    }

    #[test]
    fn the_production_policy_is_three_attempts_within_ten_seconds() {
        let policy = RetryPolicy::default();
        assert_eq!(policy, RetryPolicy::SAVE);
        assert_eq!(
            (policy.budget, policy.attempts, policy.attempt_timeout),
            (Duration::from_secs(10), 3, Duration::from_secs(10))
        );
    }

    /// SPEC §7: a server that never answers (or trickles, or streams
    /// forever: the transport reports all three as `Timeout` at the
    /// deadline) costs one attempt, and the error comes at 10 s exactly.
    #[test]
    fn a_server_that_never_answers_gets_one_attempt_and_fails_at_ten_seconds() {
        let hang = Scripted::new([]);
        let (result, notes) = run(&hang, &RetryPolicy::SAVE);
        match result {
            Err(AuthError::Timeout(message)) => {
                assert_eq!(message, "no complete answer from 127.0.0.1:9 within 10 s")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(hang.timeouts(), [secs(10.0)]);
        assert_eq!(hang.clock.elapsed(), secs(10.0));
        assert!(hang.sleeps().is_empty() && notes.is_empty(), "{notes:?}");
    }

    #[test]
    fn a_lost_connection_is_tried_three_times_after_half_a_second_then_a_second() {
        let down = Scripted::new(std::iter::repeat_n(refused(), 5));
        let (result, notes) = run(&down, &RetryPolicy::SAVE);
        match result {
            Err(AuthError::Network(message)) => {
                assert_eq!(message, "cannot reach 127.0.0.1:9: connection refused")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(down.timeouts(), [secs(10.0), secs(9.5), secs(8.5)]);
        assert_eq!(down.sleeps(), [secs(0.5), secs(1.0)]);
        assert_eq!(down.clock.elapsed(), secs(1.5));
        assert_eq!(
            notes,
            [
                "whoami: connection refused; retrying in 0.5 s (attempt 2 of 3)",
                "whoami: connection refused; retrying in 1.0 s (attempt 3 of 3)",
            ]
        );
        // Refused twice, then a server that never answers: the last attempt
        // gets what is left of the budget, and no more.
        let then_hang = Scripted::new([refused(), refused()]);
        let (result, _) = run(&then_hang, &RetryPolicy::SAVE);
        assert!(matches!(result, Err(AuthError::Timeout(_))), "{result:?}");
        assert_eq!(then_hang.timeouts(), [secs(10.0), secs(9.5), secs(8.5)]);
        assert_eq!(then_hang.clock.elapsed(), secs(10.0));
        // Refused once, then an answer.
        let back = Scripted::new([refused(), status(200, "{}")]);
        run(&back, &RetryPolicy::SAVE).0.unwrap();
        assert_eq!((back.attempts(), back.sleeps()), (2, vec![secs(0.5)]));
    }

    /// With attempts to spare, the budget decides: pauses of 0.5, 1, 2 and
    /// 4 s fit in 10 s (a retry needs 1 s left after its pause), 8 s more
    /// would not.
    #[test]
    fn the_budget_bounds_the_whole_verification_not_each_attempt() {
        let many = RetryPolicy {
            attempts: 100,
            ..RetryPolicy::SAVE
        };
        let down = Scripted::new(std::iter::repeat_n(refused(), 100));
        run(&down, &many).0.unwrap_err();
        assert_eq!(down.attempts(), 5);
        assert_eq!(down.sleeps(), [secs(0.5), secs(1.0), secs(2.0), secs(4.0)]);
        assert_eq!(down.clock.elapsed(), secs(7.5));
        // Every script of three answers, under both policies: the clock
        // never passes the budget, and no attempt waits longer than allowed.
        let kinds = [
            refused(),
            Outcome::Timeout,
            status(503, ""),
            status(200, "{}"),
        ];
        for policy in [RetryPolicy::SAVE, many] {
            for a in &kinds {
                for b in &kinds {
                    for c in &kinds {
                        let script = Scripted::new([a.clone(), b.clone(), c.clone()]);
                        run(&script, &policy).0.ok();
                        assert!(
                            script.clock.elapsed() <= policy.budget,
                            "{a:?} {b:?} {c:?}: {:?}",
                            script.clock.elapsed()
                        );
                        assert!(script.attempts() <= policy.attempts as usize);
                        assert!(
                            script
                                .timeouts()
                                .iter()
                                .all(|&t| t <= policy.attempt_timeout)
                        );
                    }
                }
            }
        }
    }

    /// SPEC §7 over §1 step 6: a retry only where it can help. A 5xx or 429
    /// is an answer, a timeout would spend the budget again, and DNS or TLS
    /// failures do not heal in a second.
    #[test]
    fn only_a_lost_connection_is_retried() {
        let lost = [
            refused(),
            Outcome::ConnectionLost("connection closed before an answer".into()),
        ];
        for outcome in lost {
            let always = Scripted::new(std::iter::repeat_n(outcome.clone(), 5));
            run(&always, &RetryPolicy::SAVE).0.unwrap_err();
            assert_eq!(always.attempts(), 3, "{outcome:?} is retried");
        }
        let final_answers = [
            Outcome::Timeout,
            Outcome::Failed("host not found".into()),
            Outcome::Failed("TLS failed (TlsCertificateError)".into()),
            status(500, r#"{"error":"boom"}"#),
            status(502, "bad gateway"),
            status(503, ""),
            status(429, r#"{"error":"slow down"}"#),
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
            let (result, notes) = run(&script, &RetryPolicy::SAVE);
            result.unwrap_err();
            assert_eq!(script.attempts(), 1, "{outcome:?} is not retried");
            assert!(notes.is_empty() && script.sleeps().is_empty());
        }
    }

    #[test]
    fn request_for_checks_every_value_before_anything_is_sent() {
        let iam = |project: Option<&str>| Profile {
            auth_type: "iam".into(),
            project: project.map(str::to_string),
            ..jwt("tok-123", "http://127.0.0.1:9/base/")
        };
        let request = request_for(&iam(Some("proj"))).unwrap();
        assert_eq!(request.url.path, "/base");
        assert_eq!(request.path, WHOAMI_PATH);
        assert_eq!(
            request.headers[..2],
            [
                ("Authorization".into(), "Bearer tok-123".into()),
                ("Project".to_string(), "proj".to_string())
            ]
        );
        let no_header = request_for(&jwt("t-é\tx", "http://localhost")).unwrap();
        assert!(!no_header.headers.iter().any(|(k, _)| k == "Project"));

        let field = |result: Result<Request, AuthError>| match result {
            Err(AuthError::InvalidInput { field, .. }) => field,
            Err(AuthError::VerificationFailed { status: 0, message }) => {
                format!("latin-1: {message}")
            }
            other => panic!("{other:?}"),
        };
        let mut no_token = jwt("", "http://127.0.0.1");
        assert_eq!(field(request_for(&no_token)), "token");
        no_token.token = None;
        assert_eq!(field(request_for(&no_token)), "token");
        assert_eq!(field(request_for(&iam(None))), "project");
        assert_eq!(field(request_for(&iam(Some("")))), "project");
        assert_eq!(field(request_for(&jwt("t", ""))), "url");
        assert_eq!(field(request_for(&jwt("t", "ftp://h"))), "url");
        assert_eq!(field(request_for(&jwt("t", "http://10.0.0.1"))), "url");
        let consented = Profile {
            allow_insecure_http: true,
            ..jwt("t", "http://10.0.0.1")
        };
        assert!(request_for(&consented).is_ok());
        assert_eq!(
            field(request_for(&jwt("t", "http://localhost.evil.com"))),
            "url"
        );
        for token in ["a\nb", "a\rb", "a\u{0}b", "a\u{7f}b", "a\u{85}b"] {
            assert_eq!(field(request_for(&jwt(token, "http://127.0.0.1"))), "token");
        }
        assert_eq!(field(request_for(&iam(Some("p\r\nX-Evil: 1")))), "project");
        assert!(
            field(request_for(&jwt("токен", "http://127.0.0.1")))
                .starts_with("latin-1: the token ")
        );
        assert!(field(request_for(&iam(Some("проект")))).starts_with("latin-1: the project "));
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
            // Retried: the retry notes quote it too.
            Outcome::ConnectionLost(format!("reset by {}", token.expose())),
        ];
        for outcome in echoes {
            let verdict = Verdict::read(outcome.clone(), &Redactor::new(&[&token]));
            let text = verdict.describe(Duration::from_secs(1));
            assert!(fragments(&text, token.expose()).is_empty(), "{text}");
            assert!(text.contains(&sanitize::marker(&token)), "{text}");
            // verify's error and retry notes, too.
            let request = request_for(&jwt(token.expose(), "http://127.0.0.1:9")).unwrap();
            let script = Scripted::new(std::iter::repeat_n(outcome, 3));
            let mut notes = String::new();
            let err = verify_with(
                &script.fake,
                &request,
                &token,
                &RetryPolicy::SAVE,
                &*script.clock,
                &mut |n| notes.push_str(n),
            )
            .unwrap_err();
            let shown = format!("{err} {err:?} {notes}");
            assert!(fragments(&shown, token.expose()).is_empty(), "{shown}");
        }
        // A token pasted into the URL by mistake is not quoted back either.
        for url in [
            format!("ftp://h/{}", token.expose()),
            format!("http://h:{}", token.expose()),
            format!("http://10.0.0.1/{}", token.expose()),
        ] {
            let err = request_for(&jwt(token.expose(), &url)).unwrap_err();
            assert!(
                fragments(&err.to_string(), token.expose()).is_empty(),
                "{err}"
            );
        }
        let in_path = format!("http://127.0.0.1:9/{}", token.expose());
        let request = request_for(&jwt(token.expose(), &in_path)).unwrap();
        let down = Scripted::new(std::iter::repeat_n(refused(), 3));
        let err = verify_with(
            &down.fake,
            &request,
            &token,
            &RetryPolicy::SAVE,
            &*down.clock,
            &mut |_| {},
        )
        .unwrap_err();
        assert!(
            fragments(&err.to_string(), token.expose()).is_empty(),
            "{err}"
        );
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
            fragments(&format!("{whoami:?}"), token.expose()).is_empty(),
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
        let Verdict::Network { reason, .. } =
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
