//! The ConTree API faked through the [`Transport`] seam, for native tests:
//! it records every request and answers each with the test's own function,
//! so each test keeps its own answer table and nothing else is written twice.

use std::cell::RefCell;
use std::time::Duration;

use super::{Outcome, Request, Transport};

pub struct FakeTransport<F> {
    answer: F,
    seen: RefCell<Vec<Request>>,
}

impl<F: Fn(&Request) -> Outcome> FakeTransport<F> {
    pub fn new(answer: F) -> Self {
        FakeTransport {
            answer,
            seen: RefCell::new(Vec::new()),
        }
    }

    /// Every request sent so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.seen.borrow().clone()
    }
}

impl<F: Fn(&Request) -> Outcome> Transport for FakeTransport<F> {
    fn send_all(&self, requests: &[Request], _timeout: Duration) -> Vec<Outcome> {
        self.seen.borrow_mut().extend(requests.iter().cloned());
        requests.iter().map(&self.answer).collect()
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
