//! [`Transport`] over `wasi:http/outgoing-handler`: every request is started
//! at once, then one `wasi:io/poll` loop advances whichever is ready, with a
//! clock pollable as the hard deadline. One thread, no busy waiting; a
//! server that accepts and never answers costs nothing but the deadline.

use std::time::Duration;

use wasip2::clocks::monotonic_clock;
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, FutureIncomingResponse, IncomingBody, IncomingResponse, Method,
    OutgoingRequest, RequestOptions, Scheme as WasiScheme,
};
use wasip2::io::poll::{self, Pollable};
use wasip2::io::streams::{InputStream, StreamError};

use super::url::Scheme;
use super::{MAX_BODY_BYTES, Outcome, Request, Transport};
use crate::config::env::MACHINE_TRUST_VAR;

/// More requests than this wait for a free slot.
const MAX_IN_FLIGHT: usize = 32;
const READ_CHUNK: u64 = 64 * 1024;

pub struct WasiHttp;

/// One request's progress. Field order is drop order: a pollable must go
/// before the resource it watches, a stream before its body.
enum Progress {
    Queued,
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
        body: Vec<u8>,
    },
    Done(Outcome),
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

impl Transport for WasiHttp {
    fn send_all(&self, requests: &[Request], timeout: Duration) -> Vec<Outcome> {
        let nanos = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
        let deadline = monotonic_clock::now().saturating_add(nanos);
        let mut progress: Vec<Progress> = requests.iter().map(|_| Progress::Queued).collect();
        let mut next = 0;
        loop {
            let in_flight = progress.iter().filter(|p| p.pollable().is_some()).count();
            let free = MAX_IN_FLIGHT.saturating_sub(in_flight);
            for _ in 0..free.min(requests.len() - next) {
                let remaining = deadline.saturating_sub(monotonic_clock::now());
                progress[next] = start(&requests[next], remaining);
                next += 1;
            }
            let waiting: Vec<usize> = (0..progress.len())
                .filter(|&i| progress[i].pollable().is_some())
                .collect();
            if waiting.is_empty() {
                break;
            }
            let timer = monotonic_clock::subscribe_instant(deadline);
            let mut pollables: Vec<&Pollable> = waiting
                .iter()
                .filter_map(|&i| progress[i].pollable())
                .collect();
            pollables.push(&timer);
            let ready = poll::poll(&pollables);
            drop(pollables);
            if ready.iter().any(|&r| r as usize == waiting.len()) {
                break;
            }
            for r in ready {
                let index = waiting[r as usize];
                let current = std::mem::replace(&mut progress[index], Progress::Queued);
                progress[index] = advance(current);
            }
        }
        progress
            .into_iter()
            .map(|p| match p {
                Progress::Done(outcome) => outcome,
                _ => Outcome::Timeout,
            })
            .collect()
    }
}

fn start(request: &Request, remaining: u64) -> Progress {
    match send(request, remaining) {
        Ok(future) => Progress::Waiting {
            pollable: future.subscribe(),
            future,
        },
        Err(code) => Progress::Done(outcome_of_error(&code)),
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

fn advance(progress: Progress) -> Progress {
    match progress {
        Progress::Waiting { pollable, future } => {
            drop(pollable);
            match future.get() {
                Some(Ok(Ok(response))) => start_reading(response),
                Some(Ok(Err(code))) => Progress::Done(outcome_of_error(&code)),
                Some(Err(())) => Progress::Done(Outcome::Failed("response already taken".into())),
                None => Progress::Waiting {
                    pollable: future.subscribe(),
                    future,
                },
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
            mut body,
        } => loop {
            match stream.read(READ_CHUNK) {
                Ok(chunk) if chunk.is_empty() => {
                    return Progress::Reading {
                        pollable,
                        stream,
                        _body,
                        _response,
                        status,
                        body,
                    };
                }
                Ok(chunk) => {
                    body.extend_from_slice(&chunk);
                    if body.len() > MAX_BODY_BYTES {
                        return Progress::Done(Outcome::BodyTooLarge { status });
                    }
                }
                Err(StreamError::Closed) => {
                    return Progress::Done(Outcome::Response { status, body });
                }
                Err(StreamError::LastOperationFailed(err)) => {
                    let outcome = match wasip2::http::types::http_error_code(&err) {
                        Some(code) => outcome_of_error(&code),
                        None => Outcome::Failed(format!(
                            "reading the response failed: {}",
                            err.to_debug_string()
                        )),
                    };
                    return Progress::Done(outcome);
                }
            }
        },
        other => other,
    }
}

fn start_reading(response: IncomingResponse) -> Progress {
    let status = response.status();
    let Ok(body) = response.consume() else {
        return Progress::Done(Outcome::Failed("response body unavailable".into()));
    };
    let Ok(stream) = body.stream() else {
        return Progress::Done(Outcome::Failed("response body unavailable".into()));
    };
    Progress::Reading {
        pollable: stream.subscribe(),
        stream,
        _body: body,
        _response: response,
        status,
        body: Vec::new(),
    }
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
