//! [`Transport`] over `wasi:http/outgoing-handler`: one `wasi:io/poll` loop
//! in one thread advances whichever request is ready. Each request has its
//! own deadline, counted from when it is first sent and watched by a clock
//! pollable; requests wait for a free slot without being charged for it.
//! No busy waiting; a server that accepts and never answers costs nothing
//! but its request's deadline.
//!
//! How many requests are in flight is bounded by what the host allows. A
//! host out of file descriptors says so in its own way: wasmtime-wasi-http
//! 48's default sender maps every connect error (EMFILE included) to
//! `connection-refused`, and a DNS lookup that cannot get a descriptor to
//! `dns-error`; the launcher's own sender says `connection-limit-reached`.
//! So a refusal or a DNS error while other requests are in flight is taken
//! as "no free slot": the request goes back to the queue, uncharged, and the
//! cap comes down to what is in flight. Only a refusal with nothing else in
//! flight is the server's answer. Each request that ends raises the cap by
//! one again, up to [`MAX_IN_FLIGHT`].

use std::time::Duration;

use wasip2::clocks::monotonic_clock::{self, Instant};
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, FutureIncomingResponse, IncomingBody, IncomingResponse, Method,
    OutgoingRequest, RequestOptions, Scheme as WasiScheme,
};
use wasip2::io::poll::{self, Pollable};
use wasip2::io::streams::{InputStream, StreamError};

use super::url::Scheme;
use super::{KEPT_HEADERS, MAX_BODY_BYTES, Outcome, Request, Retry, Transport};
use crate::config::env::MACHINE_TRUST_VAR;

/// Requests in flight at most, when the host has the sockets for them.
pub const MAX_IN_FLIGHT: usize = 256;
const READ_CHUNK: u64 = 64 * 1024;
/// How long a request waits before asking again when the host has no slot
/// and nothing of ours is in flight to free one (charged to its deadline).
const NO_SLOT_PAUSE: Duration = Duration::from_millis(50);

pub struct WasiHttp;

/// One request's progress. Field order is drop order: a pollable must go
/// before the resource it watches, a stream before its body.
enum Progress {
    /// Waiting to be sent (again) at `not_before`.
    Queued {
        not_before: Instant,
    },
    Waiting {
        pollable: Pollable,
        future: FutureIncomingResponse,
    },
    Reading {
        pollable: Pollable,
        stream: InputStream,
        _body: IncomingBody,
        _response: IncomingResponse,
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    Done(Outcome),
}

/// How a step of a request ended.
enum Ended {
    Still(Progress),
    /// The host's error, before it is read as an outcome: some mean "no slot".
    Error(ErrorCode),
    Outcome(Outcome),
}

impl Progress {
    fn pollable(&self) -> Option<&Pollable> {
        match self {
            Progress::Waiting { pollable, .. } | Progress::Reading { pollable, .. } => {
                Some(pollable)
            }
            _ => None,
        }
    }
}

/// One request: its progress, attempts so far, and its deadline once sent.
struct Slot {
    progress: Progress,
    attempts: u32,
    sent: Option<Instant>,
}

struct Batch<'a> {
    requests: &'a [Request],
    timeout: u64,
    retry: &'a Retry<'a>,
    slots: Vec<Slot>,
    cap: usize,
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

impl Transport for WasiHttp {
    fn send_each(
        &self,
        requests: &[Request],
        timeout: Duration,
        retry: &Retry<'_>,
    ) -> Vec<Outcome> {
        let now = monotonic_clock::now();
        let mut batch = Batch {
            requests,
            timeout: nanos(timeout),
            retry,
            slots: requests
                .iter()
                .map(|_| Slot {
                    progress: Progress::Queued { not_before: now },
                    attempts: 0,
                    sent: None,
                })
                .collect(),
            cap: MAX_IN_FLIGHT,
        };
        batch.run();
        batch
            .slots
            .into_iter()
            .map(|slot| match slot.progress {
                Progress::Done(outcome) => outcome,
                _ => Outcome::Timeout,
            })
            .collect()
    }
}

impl Batch<'_> {
    fn in_flight(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| s.progress.pollable().is_some())
            .count()
    }

    fn deadline(&self, index: usize) -> Option<Instant> {
        self.slots[index]
            .sent
            .map(|sent| sent.saturating_add(self.timeout))
    }

    fn run(&mut self) {
        loop {
            let now = monotonic_clock::now();
            self.expire(now);
            self.start_ready(now);
            let waiting: Vec<usize> = (0..self.slots.len())
                .filter(|&i| self.slots[i].progress.pollable().is_some())
                .collect();
            // The next time something is due without a pollable of its own:
            // a deadline in flight, or a queued retry's pause ending.
            let due = (0..self.slots.len())
                .filter_map(|i| match &self.slots[i].progress {
                    Progress::Waiting { .. } | Progress::Reading { .. } => self.deadline(i),
                    Progress::Queued { not_before } if *not_before > now => Some(*not_before),
                    _ => None,
                })
                .min();
            let timer = due.map(monotonic_clock::subscribe_instant);
            let mut pollables: Vec<&Pollable> = waiting
                .iter()
                .filter_map(|&i| self.slots[i].progress.pollable())
                .collect();
            pollables.extend(timer.as_ref());
            if pollables.is_empty() {
                break;
            }
            let ready = poll::poll(&pollables);
            drop(pollables);
            for r in ready {
                if let Some(&index) = waiting.get(r as usize) {
                    let current = std::mem::replace(
                        &mut self.slots[index].progress,
                        Progress::Done(Outcome::Timeout),
                    );
                    self.end_step(index, advance(current));
                }
            }
        }
    }

    /// Requests in flight past their own deadline end as `Timeout`
    /// (dropping the future cancels the host's request).
    fn expire(&mut self, now: Instant) {
        for index in 0..self.slots.len() {
            let in_flight = self.slots[index].progress.pollable().is_some();
            if in_flight && self.deadline(index).is_some_and(|d| d <= now) {
                self.slots[index].progress = Progress::Done(Outcome::Timeout);
                self.cap = (self.cap + 1).min(MAX_IN_FLIGHT);
            }
        }
    }

    /// Sends queued requests, in order, while there are free slots.
    fn start_ready(&mut self, now: Instant) {
        let mut in_flight = self.in_flight();
        for index in 0..self.slots.len() {
            if in_flight >= self.cap {
                return;
            }
            let Progress::Queued { not_before } = self.slots[index].progress else {
                continue;
            };
            if not_before > now {
                continue;
            }
            let sent = *self.slots[index].sent.get_or_insert(now);
            let remaining = sent.saturating_add(self.timeout).saturating_sub(now);
            if remaining == 0 {
                self.slots[index].progress = Progress::Done(Outcome::Timeout);
                continue;
            }
            self.slots[index].attempts += 1;
            let ended = match send(&self.requests[index], remaining) {
                Ok(future) => Ended::Still(Progress::Waiting {
                    pollable: future.subscribe(),
                    future,
                }),
                Err(code) => Ended::Error(code),
            };
            self.end_step(index, ended);
            if self.slots[index].progress.pollable().is_some() {
                in_flight += 1;
            }
        }
    }

    /// Files what one step of request `index` came to: still going, back
    /// to the queue (no slot, or a retry), or done.
    fn end_step(&mut self, index: usize, ended: Ended) {
        let now = monotonic_clock::now();
        let outcome = match ended {
            Ended::Still(progress) => {
                self.slots[index].progress = progress;
                return;
            }
            Ended::Error(code) => {
                if let Some(progress) = self.no_slot(index, &code, now) {
                    self.slots[index].progress = progress;
                    return;
                }
                outcome_of_error(&code)
            }
            Ended::Outcome(outcome) => outcome,
        };
        self.cap = (self.cap + 1).min(MAX_IN_FLIGHT);
        let slot = &self.slots[index];
        let elapsed = Duration::from_nanos(now.saturating_sub(slot.sent.unwrap_or(now)));
        self.slots[index].progress = match (self.retry)(&outcome, slot.attempts, elapsed) {
            Some(pause) => Progress::Queued {
                not_before: now.saturating_add(nanos(pause)),
            },
            None => Progress::Done(outcome),
        };
    }

    /// The queued state of a request the host had no slot for, or `None`
    /// when `code` is the server's (or the network's) answer.
    fn no_slot(&mut self, index: usize, code: &ErrorCode, now: Instant) -> Option<Progress> {
        let others = self.in_flight();
        let limit = matches!(code, ErrorCode::ConnectionLimitReached);
        let maybe_limit = matches!(code, ErrorCode::ConnectionRefused | ErrorCode::DnsError(_));
        let slot = &mut self.slots[index];
        if others > 0 && (limit || maybe_limit) {
            // Not charged, not an attempt: it starts afresh when a slot frees.
            slot.attempts -= 1;
            slot.sent = None;
            self.cap = others;
            return Some(Progress::Queued { not_before: now });
        }
        if limit {
            // Nothing of ours to wait for: ask again shortly, charged.
            slot.attempts -= 1;
            return Some(Progress::Queued {
                not_before: now.saturating_add(nanos(NO_SLOT_PAUSE)),
            });
        }
        None
    }
}

fn send(request: &Request, remaining: u64) -> Result<FutureIncomingResponse, ErrorCode> {
    let invalid = |what: &str| ErrorCode::InternalError(Some(format!("invalid {what}")));
    let headers: Vec<(String, Vec<u8>)> = request
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), latin1(value)))
        .collect();
    let fields = Fields::from_list(&headers)
        .map_err(|_| invalid("header (a control character in a value?)"))?;
    let outgoing = OutgoingRequest::new(fields);
    outgoing
        .set_method(&Method::Get)
        .map_err(|_| invalid("method"))?;
    let scheme = match request.url.scheme {
        Scheme::Http => WasiScheme::Http,
        Scheme::Https => WasiScheme::Https,
    };
    outgoing
        .set_scheme(Some(&scheme))
        .map_err(|_| invalid("scheme"))?;
    outgoing
        .set_authority(Some(&request.url.authority))
        .map_err(|_| invalid("host"))?;
    let path = format!("{}{}", request.url.path, request.path);
    outgoing
        .set_path_with_query(Some(&path))
        .map_err(|_| invalid("path"))?;
    // The poll loop enforces the deadline; these let the host give up too.
    let options = RequestOptions::new();
    let _ = options.set_connect_timeout(Some(remaining));
    let _ = options.set_first_byte_timeout(Some(remaining));
    let _ = options.set_between_bytes_timeout(Some(remaining));
    outgoing_handler::handle(outgoing, Some(options))
}

/// A header value's bytes as the reference's `http.client` sends them:
/// Latin-1, one byte a character (`whoami::request_for` refuses anything
/// above U+00FF, so nothing is lost).
fn latin1(value: &str) -> Vec<u8> {
    value
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

fn advance(progress: Progress) -> Ended {
    match progress {
        Progress::Waiting { pollable, future } => {
            drop(pollable);
            match future.get() {
                Some(Ok(Ok(response))) => start_reading(response),
                Some(Ok(Err(code))) => Ended::Error(code),
                Some(Err(())) => Ended::Outcome(Outcome::Failed("response already taken".into())),
                None => Ended::Still(Progress::Waiting {
                    pollable: future.subscribe(),
                    future,
                }),
            }
        }
        // Bindings drop in reverse order: the stream (a child of the body)
        // and the pollable must be bound last so they go first.
        Progress::Reading {
            _response,
            _body,
            stream,
            pollable,
            status,
            headers,
            mut body,
        } => loop {
            match stream.read(READ_CHUNK) {
                Ok(chunk) if chunk.is_empty() => {
                    return Ended::Still(Progress::Reading {
                        pollable,
                        stream,
                        _body,
                        _response,
                        status,
                        headers,
                        body,
                    });
                }
                Ok(chunk) => {
                    body.extend_from_slice(&chunk);
                    if body.len() > MAX_BODY_BYTES {
                        return Ended::Outcome(Outcome::BodyTooLarge { status });
                    }
                }
                Err(StreamError::Closed) => {
                    return Ended::Outcome(Outcome::Response {
                        status,
                        headers,
                        body,
                    });
                }
                Err(StreamError::LastOperationFailed(err)) => {
                    return match wasip2::http::types::http_error_code(&err) {
                        Some(code) => Ended::Outcome(outcome_of_error(&code)),
                        None => Ended::Outcome(Outcome::Failed(format!(
                            "reading the response failed: {}",
                            err.to_debug_string()
                        ))),
                    };
                }
            }
        },
        other => Ended::Still(other),
    }
}

fn start_reading(response: IncomingResponse) -> Ended {
    let status = response.status();
    let headers = kept_headers(&response.headers());
    let unavailable = || Ended::Outcome(Outcome::Failed("response body unavailable".into()));
    let Ok(body) = response.consume() else {
        return unavailable();
    };
    let Ok(stream) = body.stream() else {
        return unavailable();
    };
    Ended::Still(Progress::Reading {
        pollable: stream.subscribe(),
        stream,
        _body: body,
        _response: response,
        status,
        headers,
        body: Vec::new(),
    })
}

/// The first value of each of [`KEPT_HEADERS`], read as Latin-1.
fn kept_headers(fields: &Fields) -> Vec<(String, String)> {
    KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            let value = fields.get(name).into_iter().next()?;
            Some((
                name.to_string(),
                value.iter().map(|&b| char::from(b)).collect(),
            ))
        })
        .collect()
}

fn outcome_of_error(code: &ErrorCode) -> Outcome {
    let reason = match code {
        ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::HttpResponseTimeout
        | ErrorCode::DnsTimeout => return Outcome::Timeout,
        ErrorCode::ConnectionRefused => {
            return Outcome::ConnectionLost("connection refused".to_string());
        }
        ErrorCode::ConnectionTerminated => {
            return Outcome::ConnectionLost("connection closed before an answer".to_string());
        }
        // wasmtime reports a connection reset by the server (before or while
        // it answers) as a protocol error, which it cannot tell from a reply
        // that is not HTTP; both are worth one more try within the budget.
        ErrorCode::HttpProtocolError => {
            return Outcome::ConnectionLost(
                "the connection was reset, or the answer was not HTTP".to_string(),
            );
        }
        ErrorCode::DnsError(_) | ErrorCode::DestinationNotFound => "host not found".to_string(),
        ErrorCode::DestinationUnavailable | ErrorCode::DestinationIpUnroutable => {
            "host unreachable".to_string()
        }
        ErrorCode::TlsProtocolError
        | ErrorCode::TlsCertificateError
        | ErrorCode::TlsAlertReceived(_) => super::tls_failure(
            &format!("{code:?}"),
            matches!(code, ErrorCode::TlsCertificateError),
            std::env::var(MACHINE_TRUST_VAR).is_ok_and(|v| v == "1"),
        ),
        ErrorCode::HttpRequestDenied => "the host does not allow outgoing HTTP".to_string(),
        ErrorCode::InternalError(Some(message)) => message.clone(),
        other => format!("{other:?}"),
    };
    Outcome::Failed(reason)
}
