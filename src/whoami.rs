//! `GET /v1/whoami`: building the request, reading the answer, and the
//! save-time verification with its bounded retries.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::config::profile::{Profile, Secret};
use crate::error::AuthError;
use crate::http::url::UrlError;
use crate::http::{BaseUrl, MAX_BODY_BYTES, Outcome, Request, Transport, date};
use crate::sanitize::{self, Redactor};

pub const USER_AGENT: &str = concat!(
    "contree-auth/",
    env!("CARGO_PKG_VERSION"),
    " (wasm32-wasip2)"
);
pub const WHOAMI_PATH: &str = "/v1/whoami";
/// The permission without which sandboxes are disabled on the project.
pub const REQUIRED_PERMISSION: &str = "list";

/// How long verification may take, and how it spends that time.
///
/// What the API's own client does (contree-client 0.4.4, which the Python
/// contree-cli uses: `RetryPolicy` in `contree_client/runtime.py`, the loop
/// in `base.py`'s `call`): it retries a connection error (refused, reset,
/// and timeouts too) and the statuses 410, 425, 429 and every 5xx; before
/// each retry it sleeps the answer's `Retry-After` (delta-seconds, or an
/// HTTP-date less the local wall clock; negative is 0) when there is one,
/// else the next of 0.1, 0.2, 0.5, 1, 2, 5 s (then 5 s again); at most 10
/// attempts. The CLI gives it no deadline, so a `Retry-After: 3600` is slept
/// through and a server that never answers is waited for again and again.
///
/// Ours retries the same things on the same ladder, within bounds: all of
/// it fits in `budget` (SPEC §7); a timeout is not retried (it spent the
/// time a retry would need); a `Retry-After` that does not fit in what is
/// left ends the wait at once with when to try again ([`Next::TooLong`]);
/// an HTTP-date is compared with the answer's own `Date` first, so a local
/// clock that is off does not stretch or cut the wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Gives up after this long in all, retries and pauses included...
    pub budget: Duration,
    /// ...spread over at most this many attempts...
    pub attempts: u32,
    /// ...of at most this long each.
    pub attempt_timeout: Duration,
    /// The pause before the 2nd, 3rd, ... attempt when the server names
    /// none; the last one repeats.
    pub delays: &'static [Duration],
    /// No retry unless at least this much of the budget is left after the pause.
    pub min_attempt: Duration,
}

/// contree-client's `RETRY_DELAYS`.
const API_CLIENT_DELAYS: [Duration; 6] = [
    Duration::from_millis(100),
    Duration::from_millis(200),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(5),
];

impl RetryPolicy {
    /// The production policy for save and whoami (SPEC §1 step 6, §7): the
    /// API client's retries within 10 s, so that a save ends within 12 s
    /// whatever the server does (never answers, trickles, streams forever,
    /// answers 503 again and again).
    pub const SAVE: RetryPolicy = RetryPolicy {
        budget: Duration::from_secs(10),
        attempts: 10,
        attempt_timeout: Duration::from_secs(10),
        delays: &API_CLIENT_DELAYS,
        min_attempt: Duration::from_secs(1),
    };

    /// One `list` probe: the same retries, inside its own 2 s (SPEC §8).
    pub const PROBE: RetryPolicy = RetryPolicy {
        budget: Duration::from_secs(2),
        attempts: 10,
        attempt_timeout: Duration::from_secs(2),
        delays: &API_CLIENT_DELAYS,
        min_attempt: Duration::from_millis(250),
    };

    /// What follows `outcome`, the answer to attempt number `attempt`,
    /// `elapsed` after the first one was sent; `wall` is the local wall
    /// clock, for a `Retry-After` date when the answer has no `Date`.
    pub fn next(
        &self,
        outcome: &Outcome,
        attempt: u32,
        elapsed: Duration,
        wall: SystemTime,
    ) -> Next {
        if !retryable(outcome) {
            return Next::Stop;
        }
        let left = self.budget.saturating_sub(elapsed);
        let asked = retry_after(outcome, wall);
        if let Some(wait) = asked
            && wait + self.min_attempt > left
        {
            return Next::TooLong(wait);
        }
        if attempt >= self.attempts {
            return Next::Stop;
        }
        let ladder = self.delays[(attempt as usize - 1).min(self.delays.len() - 1)];
        let pause = asked.unwrap_or(ladder);
        if pause + self.min_attempt > left {
            return Next::Stop;
        }
        Next::Retry {
            pause,
            asked: asked.is_some(),
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::SAVE
    }
}

/// What [`RetryPolicy::next`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Send again after `pause`; `asked`: the server's `Retry-After`.
    Retry { pause: Duration, asked: bool },
    /// The outcome is final.
    Stop,
    /// The server asked to wait this long, more than is left.
    TooLong(Duration),
}

/// What the API's own client retries: a lost connection, 410, 425, 429, 5xx.
fn retryable(outcome: &Outcome) -> bool {
    match outcome {
        Outcome::ConnectionLost(_) => true,
        Outcome::Response { status, .. } => matches!(status, 410 | 425 | 429 | 500..=599),
        _ => false,
    }
}

/// The answer's `Retry-After` as a wait from now (RFC 9110 §10.2.3):
/// delta-seconds, or an HTTP-date less the answer's `Date` (else `wall`).
/// A wait in the past is none; a value that is neither is ignored, as the
/// API client ignores it.
pub fn retry_after(outcome: &Outcome, wall: SystemTime) -> Option<Duration> {
    let value = outcome.header("retry-after")?.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        // Python's float() also reads "inf" and "nan"; the client drops them.
        return seconds
            .is_finite()
            .then(|| Duration::try_from_secs_f64(seconds.max(0.0)).ok())
            .flatten();
    }
    let at = date::parse(value)?;
    let now = outcome
        .header("date")
        .and_then(date::parse)
        .unwrap_or_else(|| unix_seconds(wall));
    Some(Duration::from_secs(u64::try_from(at - now).unwrap_or(0)))
}

fn unix_seconds(wall: SystemTime) -> i64 {
    match wall.duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// Time as verification sees it: how long since it started, a pause, and
/// the wall clock (for a `Retry-After` date). Production passes
/// [`SystemClock`]; tests pass a clock they move by hand, so they state
/// exactly what happens at 10 s without waiting 10 s.
pub trait Clock {
    /// Time since the clock started (monotonic).
    fn elapsed(&self) -> Duration;
    fn sleep(&self, pause: Duration);
    fn wall(&self) -> SystemTime;
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

    fn wall(&self) -> SystemTime {
        SystemTime::now()
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
            Outcome::Response { status, body, .. } if (200..300).contains(&status) => {
                match serde_json::from_slice::<Value>(&body) {
                    Ok(value) => Verdict::Valid(WhoAmI::from_json(&value, redactor)),
                    Err(_) => Verdict::NotJson { status },
                }
            }
            Outcome::Response { status, body, .. } => Verdict::Rejected {
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
        410 => "Gone",
        425 => "Too Early",
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
/// between them, fit in `policy.budget` as `clock` measures it; what the
/// API's own client retries is tried again (at most `policy.attempts` times
/// in all, see [`RetryPolicy`]), any other answer is final. `progress`
/// hears about each retry.
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
    let mut attempt = 1;
    loop {
        let timeout = policy.attempt_timeout.min(time_left());
        let outcome = transport
            .send_all(std::slice::from_ref(request), timeout)
            .pop()
            .unwrap_or(Outcome::Timeout);
        let next = policy.next(&outcome, attempt, clock.elapsed(), clock.wall());
        let verdict = Verdict::read(outcome, &redactor);
        match next {
            Next::Retry { pause, asked } => {
                progress(&format!(
                    "whoami: {}; retrying in {:.1} s{} (attempt {} of at most {})",
                    verdict.describe(timeout),
                    pause.as_secs_f64(),
                    if asked { ", as the server asks" } else { "" },
                    attempt + 1,
                    policy.attempts
                ));
                clock.sleep(pause);
                attempt += 1;
            }
            Next::TooLong(wait) => {
                let retry_at = unix_seconds(clock.wall()).saturating_add_unsigned(wait.as_secs());
                return answer(verdict, request, &redactor, clock).map_err(|err| match err {
                    AuthError::VerificationFailed { status, message } => {
                        AuthError::VerificationFailed {
                            status,
                            message: format!(
                                "{message}; the server asks to wait {} s before trying again, \
                                 longer than this check waits ({} s): try again after {}",
                                wait.as_secs(),
                                policy.budget.as_secs(),
                                date::format_utc(retry_at)
                            ),
                        }
                    }
                    other => other,
                });
            }
            Next::Stop => return answer(verdict, request, &redactor, clock),
        }
    }
}

/// What a final verdict means for the caller.
fn answer(
    verdict: Verdict,
    request: &Request,
    redactor: &Redactor,
    clock: &dyn Clock,
) -> Result<WhoAmI, AuthError> {
    let url = format!("{}{}", request.url.authority, request.url.path);
    let url = redactor.redact(&url);
    Err(match verdict {
        Verdict::Valid(whoami) => return Ok(whoami),
        Verdict::Rejected { status, message } => AuthError::VerificationFailed { status, message },
        Verdict::NotJson { status } => AuthError::VerificationFailed {
            status,
            message: "the body is not JSON (is the URL the ConTree API?)".to_string(),
        },
        Verdict::BodyTooLarge { status } => AuthError::VerificationFailed {
            status,
            message: format!("the body is over {} KiB", MAX_BODY_BYTES / 1024),
        },
        Verdict::Timeout => AuthError::Timeout(format!(
            "no complete answer from {url} within {:.0} s",
            clock.elapsed().as_secs_f64()
        )),
        Verdict::Network { reason, .. } => {
            AuthError::Network(format!("cannot reach {url}: {reason}"))
        }
    })
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

        /// 2026-12-08 03:23:00 UTC when the clock starts.
        fn wall(&self) -> SystemTime {
            UNIX_EPOCH + Duration::from_secs(WALL_START) + self.now.get()
        }
    }

    const WALL_START: u64 = 1_796_700_180;

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
        Outcome::response(status, body.as_bytes())
    }

    /// An answer with these headers.
    fn with(status: u16, headers: &[(&str, &str)]) -> Outcome {
        Outcome::Response {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: br#"{"error":"unavailable"}"#.to_vec(),
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
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
    fn the_production_policy_is_the_api_clients_within_ten_seconds() {
        let policy = RetryPolicy::default();
        assert_eq!(policy, RetryPolicy::SAVE);
        assert_eq!(
            (policy.budget, policy.attempts, policy.attempt_timeout),
            (Duration::from_secs(10), 10, Duration::from_secs(10))
        );
        assert_eq!(
            policy.delays,
            [ms(100), ms(200), ms(500), ms(1000), ms(2000), ms(5000)]
        );
        assert_eq!(RetryPolicy::PROBE.budget, Duration::from_secs(2));
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

    /// The API client's ladder (0.1, 0.2, 0.5, 1, 2, 5 s) until the next
    /// pause would not leave 1 s of the 10: seven attempts, 8.8 s.
    #[test]
    fn a_lost_connection_is_retried_on_the_api_clients_ladder_within_the_budget() {
        let down = Scripted::new(std::iter::repeat_n(refused(), 20));
        let (result, notes) = run(&down, &RetryPolicy::SAVE);
        match result {
            Err(AuthError::Network(message)) => {
                assert_eq!(message, "cannot reach 127.0.0.1:9: connection refused")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            down.sleeps(),
            [ms(100), ms(200), ms(500), ms(1000), ms(2000), ms(5000)]
        );
        assert_eq!(
            down.timeouts(),
            [
                ms(10000),
                ms(9900),
                ms(9700),
                ms(9200),
                ms(8200),
                ms(6200),
                ms(1200)
            ]
        );
        assert_eq!(down.clock.elapsed(), ms(8800));
        assert_eq!(
            notes[..2],
            [
                "whoami: connection refused; retrying in 0.1 s (attempt 2 of at most 10)",
                "whoami: connection refused; retrying in 0.2 s (attempt 3 of at most 10)",
            ]
        );
        assert_eq!(notes.len(), 6);
        // Refused twice, then a server that never answers: the last attempt
        // gets what is left of the budget, and no more.
        let then_hang = Scripted::new([refused(), refused()]);
        let (result, _) = run(&then_hang, &RetryPolicy::SAVE);
        assert!(matches!(result, Err(AuthError::Timeout(_))), "{result:?}");
        assert_eq!(then_hang.timeouts(), [ms(10000), ms(9900), ms(9700)]);
        assert_eq!(then_hang.clock.elapsed(), secs(10.0));
        // Refused once, then an answer.
        let back = Scripted::new([refused(), status(200, "{}")]);
        run(&back, &RetryPolicy::SAVE).0.unwrap();
        assert_eq!((back.attempts(), back.sleeps()), (2, vec![ms(100)]));
    }

    /// Issue 24 item 3: a load balancer mid-deploy answers 503 with
    /// `Retry-After: 1` once; the save waits the second it asks and saves.
    /// Fails on the old code, which gave up at the 503.
    #[test]
    fn a_503_or_429_with_retry_after_waits_as_asked_then_succeeds() {
        for code in [503, 429, 425, 410, 500] {
            let script = Scripted::new([with(code, &[("retry-after", "1")]), status(200, "{}")]);
            let (result, notes) = run(&script, &RetryPolicy::SAVE);
            result.unwrap();
            assert_eq!(script.sleeps(), [secs(1.0)], "{code}");
            assert_eq!(script.attempts(), 2);
            assert!(
                notes[0].contains("retrying in 1.0 s, as the server asks"),
                "{notes:?}"
            );
            assert!(
                notes[0].starts_with(&format!("whoami: HTTP {code}: ")),
                "{notes:?}"
            );
        }
        // No Retry-After: the ladder. A fraction, or a date in the past, as read.
        let script = Scripted::new([
            status(503, ""),
            with(503, &[("Retry-After", "0.3")]),
            with(503, &[("retry-after", "Tue, 08 Dec 2026 03:00:00 GMT")]),
            with(503, &[("retry-after", "soon")]),
            status(200, "{}"),
        ]);
        run(&script, &RetryPolicy::SAVE).0.unwrap();
        assert_eq!(script.sleeps(), [ms(100), ms(300), ms(0), ms(1000)]);
    }

    /// A `Retry-After` date is read against the answer's own `Date` when it
    /// has one (a local clock an hour off changes nothing), else against the
    /// local wall clock (the fake's starts at 03:23:00).
    #[test]
    fn a_retry_after_date_is_read_against_the_answers_date_else_the_wall_clock() {
        let script = Scripted::new([
            with(
                503,
                &[
                    ("date", "Tue, 08 Dec 2026 02:23:00 GMT"),
                    ("retry-after", "Tue, 08 Dec 2026 02:23:03 GMT"),
                ],
            ),
            with(503, &[("retry-after", "Tue, 08 Dec 2026 03:23:05 GMT")]),
            status(200, "{}"),
        ]);
        run(&script, &RetryPolicy::SAVE).0.unwrap();
        // 03:23:05 less the wall clock, which the first pause moved to 03:23:03.
        assert_eq!(script.sleeps(), [secs(3.0), secs(2.0)]);
    }

    /// A `Retry-After` that does not fit in what is left ends the wait at
    /// once (no pause, no second request) with when to try again.
    #[test]
    fn a_retry_after_longer_than_the_time_left_fails_at_once_saying_when_to_try_again() {
        let cases = [
            (
                with(503, &[("retry-after", "3600")]),
                "2026-12-08 04:23:00 UTC",
                3600,
            ),
            (
                with(
                    429,
                    &[
                        ("date", "Tue, 08 Dec 2026 03:20:00 GMT"),
                        ("retry-after", "Tue, 08 Dec 2026 03:50:00 GMT"),
                    ],
                ),
                "2026-12-08 03:53:00 UTC",
                1800,
            ),
            (
                with(503, &[("retry-after", "10")]),
                "2026-12-08 03:23:10 UTC",
                10,
            ),
        ];
        for (outcome, when, wait) in cases {
            let script = Scripted::new([outcome, status(200, "{}")]);
            let (result, notes) = run(&script, &RetryPolicy::SAVE);
            let Err(AuthError::VerificationFailed { status, message }) = result else {
                panic!("{result:?}")
            };
            assert!(status == 503 || status == 429);
            assert_eq!(
                message,
                format!(
                    "unavailable; the server asks to wait {wait} s before trying again, \
                     longer than this check waits (10 s): try again after {when}"
                )
            );
            assert_eq!((script.attempts(), script.sleeps()), (1, vec![]));
            assert!(notes.is_empty());
        }
        // 9 s fits (1 s is left for the attempt).
        let script = Scripted::new([with(503, &[("retry-after", "9")]), status(200, "{}")]);
        run(&script, &RetryPolicy::SAVE).0.unwrap();
        // Later in the budget, less fits: at 8.8 s a 2 s wait is too long.
        let mut late: Vec<Outcome> = std::iter::repeat_n(refused(), 6).collect();
        late.push(with(503, &[("retry-after", "2")]));
        let script = Scripted::new(late);
        let err = run(&script, &RetryPolicy::SAVE).0.unwrap_err();
        assert!(
            err.to_string()
                .contains("try again after 2026-12-08 03:23:10 UTC"),
            "{err}"
        );
    }

    /// Every script of three answers, under both policies: the clock never
    /// passes the budget, and no attempt waits longer than allowed.
    #[test]
    fn the_budget_bounds_the_whole_verification_not_each_attempt() {
        let kinds = [
            refused(),
            Outcome::Timeout,
            status(503, ""),
            with(503, &[("retry-after", "1")]),
            with(429, &[("retry-after", "1.9")]),
            with(503, &[("retry-after", "3600")]),
            status(200, "{}"),
        ];
        for policy in [RetryPolicy::SAVE, RetryPolicy::PROBE] {
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
        // A server that answers 500 forever gets at most `attempts`.
        let few = RetryPolicy {
            attempts: 3,
            ..RetryPolicy::SAVE
        };
        let always = Scripted::new(std::iter::repeat_n(status(500, ""), 20));
        run(&always, &few).0.unwrap_err();
        assert_eq!(always.attempts(), 3);
    }

    /// SPEC §1 step 6: what the API's own client retries (a lost
    /// connection, 5xx, 429, 425, 410) is retried; nothing else is: other
    /// 4xx, timeouts (they spent the budget), DNS or TLS failures, bad bodies.
    #[test]
    fn what_the_api_client_retries_is_retried_and_nothing_else() {
        let retried = [
            refused(),
            Outcome::ConnectionLost("connection closed before an answer".into()),
            status(500, r#"{"error":"boom"}"#),
            status(502, "bad gateway"),
            status(503, ""),
            status(429, r#"{"error":"slow down"}"#),
            status(425, ""),
            status(410, ""),
        ];
        for outcome in retried {
            let script = Scripted::new([outcome.clone(), status(200, "{}")]);
            let (result, notes) = run(&script, &RetryPolicy::SAVE);
            result.unwrap();
            assert_eq!(script.attempts(), 2, "{outcome:?} is retried");
            assert_eq!(notes.len(), 1);
        }
        let final_answers = [
            Outcome::Timeout,
            Outcome::Failed("host not found".into()),
            Outcome::Failed("TLS failed (TlsCertificateError)".into()),
            status(400, ""),
            status(401, r#"{"error":"invalid token"}"#),
            status(403, ""),
            status(404, ""),
            status(418, ""),
            status(302, ""),
            status(200, "<html>"),
            Outcome::BodyTooLarge { status: 200 },
            Outcome::BodyTooLarge { status: 503 },
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
        let ok = Outcome::response(
            200,
            br#"{"token_uuid":"u","permissions":{"list":true},"limits":{"n":3}}"#.to_vec(),
        );
        let Verdict::Valid(w) = Verdict::read(ok, &Redactor::new(&[&secret()])) else {
            panic!()
        };
        assert!(w.has_permission("list"));
        assert_eq!(w.limits, [("n".to_string(), 3)]);
        let array = Outcome::response(200, b"[1]".to_vec());
        let Verdict::Valid(w) = Verdict::read(array, &Redactor::new(&[&secret()])) else {
            panic!()
        };
        assert!(!w.has_permission("list"));
        let html = Outcome::response(200, b"<html>".to_vec());
        assert_eq!(
            Verdict::read(html, &Redactor::new(&[&secret()])),
            Verdict::NotJson { status: 200 }
        );
        let denied = Outcome::response(401, br#"{"error":"bad tok-123"}"#.to_vec());
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
