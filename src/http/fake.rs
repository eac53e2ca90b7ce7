//! The ConTree API faked through the [`Transport`] seam, for native tests:
//! it records every request and answers each with the test's own function,
//! so each test keeps its own answer table and nothing else is written twice.

use std::cell::RefCell;
use std::time::Duration;

use super::{Outcome, Request, Retry, Transport};

pub struct FakeTransport<'a> {
    answer: Box<Answer<'a>>,
    seen: RefCell<Vec<Request>>,
    timeouts: RefCell<Vec<Duration>>,
}

/// How the fake answers one call: every request sent together, the deadline.
type Answer<'a> = dyn Fn(&[Request], Duration) -> Vec<Outcome> + 'a;

impl<'a> FakeTransport<'a> {
    /// Answers each request on its own with `answer`.
    pub fn new(answer: impl Fn(&Request) -> Outcome + 'a) -> Self {
        FakeTransport::batch(move |requests, _| requests.iter().map(&answer).collect())
    }

    /// Answers the requests sent together at once (a server that sees them
    /// all, or a test that watches the deadline).
    pub fn batch(answer: impl Fn(&[Request], Duration) -> Vec<Outcome> + 'a) -> Self {
        FakeTransport {
            answer: Box::new(answer),
            seen: RefCell::new(Vec::new()),
            timeouts: RefCell::new(Vec::new()),
        }
    }

    /// Every request sent so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.seen.borrow().clone()
    }

    /// The deadline of every call so far, in order (one per `send_each`;
    /// its retries are not calls).
    pub fn timeouts(&self) -> Vec<Duration> {
        self.timeouts.borrow().clone()
    }
}

impl Transport for FakeTransport<'_> {
    /// Time is counted, not waited: a retried request's pause, and a
    /// `Timeout`'s whole deadline, move its own elapsed time, which `retry`
    /// is told. Each retry is one more call with that request alone.
    fn send_each(
        &self,
        requests: &[Request],
        timeout: Duration,
        retry: &Retry<'_>,
    ) -> Vec<Outcome> {
        self.seen.borrow_mut().extend(requests.iter().cloned());
        self.timeouts.borrow_mut().push(timeout);
        let first = (self.answer)(requests, timeout);
        first
            .into_iter()
            .zip(requests)
            .map(|(mut outcome, request)| {
                let mut attempts = 1;
                let mut elapsed = Duration::ZERO;
                loop {
                    if outcome == Outcome::Timeout {
                        elapsed += timeout.saturating_sub(elapsed);
                    }
                    let Some(pause) = retry(&outcome, attempts, elapsed) else {
                        return outcome;
                    };
                    elapsed += pause;
                    attempts += 1;
                    self.seen.borrow_mut().push(request.clone());
                    let left = timeout.saturating_sub(elapsed);
                    outcome = (self.answer)(std::slice::from_ref(request), left)
                        .pop()
                        .unwrap_or(Outcome::Timeout);
                }
            })
            .collect()
    }
}

impl Request {
    /// A header's value; names are case-insensitive.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The bearer token (empty when there is none).
    pub fn bearer(&self) -> &str {
        self.header("authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("")
    }
}
