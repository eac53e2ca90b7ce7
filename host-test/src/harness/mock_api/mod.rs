//! A loopback HTTP/1.1 server standing in for the ConTree API's
//! `GET /v1/whoami`. The bearer token picks the behaviour: its text before the
//! first `-` (`ok-alice` behaves as `ok`), see [`MockApi`].
//!
//! This file is the server plumbing (accepting, reading requests, sending
//! answers, stopping); [`behaviour`] is the table of what each token gets;
//! [`body`] writes the whoami JSON, once.

pub mod behaviour;
pub mod body;

pub use behaviour::Behaviour;
pub use body::{TOKEN_EXPIRATION, uuid_of};

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use self::behaviour::Action;

/// How often blocked connection threads look at the stop flag.
const TICK: Duration = Duration::from_millis(20);
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 1 << 20;
const TRICKLE_EVERY: Duration = Duration::from_millis(300);
const STREAM_EVERY: Duration = Duration::from_millis(20);
const STREAM_CHUNK: usize = 512;

/// One request as the server received it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// The request target as sent, query included.
    pub path: String,
    /// Lower-cased names; repeated headers are joined with `, `.
    pub headers: BTreeMap<String, String>,
    /// When the request head was complete.
    pub at: Instant,
}

impl Request {
    /// A header by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The token of an `Authorization: Bearer TOKEN` header.
    pub fn token(&self) -> Option<&str> {
        bearer(self.header("authorization")?)
    }
}

/// The mock server; it stops, closing every connection, when dropped.
///
/// What each token gets is [`Behaviour`]'s table; any path not ending in
/// `/v1/whoami` answers 404. Every answer waits [`MockApi::set_latency_ms`]
/// first, and is sent with `Connection: close`.
pub struct MockApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

pub(crate) struct Shared {
    pub(crate) port: u16,
    stop: AtomicBool,
    latency_ms: AtomicU64,
    pub(crate) slow_ms: AtomicU64,
    pub(crate) requests: Mutex<Vec<Request>>,
    pub(crate) flaky_seen: Mutex<HashSet<String>>,
    /// Clones of open connections, shut down on drop to wake their threads.
    conns: Mutex<HashMap<u64, TcpStream>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    next_conn: AtomicU64,
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking connection thread must not take the server down with it.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl MockApi {
    /// Starts on an ephemeral loopback port.
    pub fn start() -> MockApi {
        MockApi::start_on(0).expect("binding the mock API on 127.0.0.1")
    }

    /// Starts on `127.0.0.1:port` (0 for an ephemeral port).
    pub fn start_on(port: u16) -> io::Result<MockApi> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
        widen_backlog(&listener);
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            port: addr.port(),
            stop: AtomicBool::new(false),
            latency_ms: AtomicU64::new(0),
            slow_ms: AtomicU64::new(500),
            requests: Mutex::new(Vec::new()),
            flaky_seen: Mutex::new(HashSet::new()),
            conns: Mutex::new(HashMap::new()),
            workers: Mutex::new(Vec::new()),
            next_conn: AtomicU64::new(0),
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name("mock-api-accept".into())
                .spawn(move || accept_loop(&listener, &shared))?
        };
        Ok(MockApi {
            addr,
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A delay before every answer.
    pub fn set_latency_ms(&self, ms: u64) {
        self.shared.latency_ms.store(ms, Ordering::SeqCst);
    }

    /// How long `slow` tokens wait (500 ms unless set).
    pub fn set_slow_ms(&self, ms: u64) {
        self.shared.slow_ms.store(ms, Ordering::SeqCst);
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.shared.requests).clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }
}

impl Drop for MockApi {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for conn in lock(&self.shared.conns).values() {
            let _ = conn.shutdown(Shutdown::Both);
        }
        // Wakes the blocking accept; if even that fails, leave the thread be
        // rather than hang the drop.
        let woken = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok();
        if let Some(acceptor) = self.acceptor.take()
            && woken
        {
            let _ = acceptor.join();
        }
        let workers = std::mem::take(&mut *lock(&self.shared.workers));
        for worker in workers {
            let _ = worker.join();
        }
    }
}

/// Hundreds of clients connect at once (a listing of many profiles): a
/// backlog as long as the kernel allows keeps their SYNs from being dropped
/// and retried a second later. Linux takes a second `listen` as a resize.
fn widen_backlog(listener: &TcpListener) {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a valid listening socket; listen() only changes its backlog.
        unsafe {
            libc::listen(listener.as_raw_fd(), 4096);
        }
    }
    #[cfg(not(unix))]
    let _ = listener;
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let stream = match stream {
            Ok(stream) => stream,
            Err(_) => {
                // Out of descriptors, most likely: let some connections finish.
                thread::sleep(TICK);
                continue;
            }
        };
        let id = shared.next_conn.fetch_add(1, Ordering::SeqCst);
        if let Ok(clone) = stream.try_clone() {
            lock(&shared.conns).insert(id, clone);
        }
        let worker = {
            let shared = Arc::clone(shared);
            thread::Builder::new()
                .name("mock-api-conn".into())
                .spawn(move || {
                    serve(&shared, stream);
                    lock(&shared.conns).remove(&id);
                })
        };
        let mut workers = lock(&shared.workers);
        workers.retain(|w| !w.is_finished());
        if let Ok(worker) = worker {
            workers.push(worker);
        } else {
            lock(&shared.conns).remove(&id);
        }
    }
}

impl Shared {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Sleeps `total`, or less if the server stops; false if it stopped.
    pub(crate) fn sleep(&self, total: Duration) -> bool {
        let end = Instant::now() + total;
        loop {
            if self.stopped() {
                return false;
            }
            let now = Instant::now();
            if now >= end {
                return true;
            }
            thread::sleep((end - now).min(TICK));
        }
    }
}

fn serve(shared: &Shared, mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(TICK));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_nodelay(true);

    let request = match read_request(shared, &mut stream) {
        Ok(Some(request)) => request,
        Ok(None) => return,
        Err(reply) => {
            let _ = send(&mut stream, &reply);
            return;
        }
    };
    lock(&shared.requests).push(request.clone());

    if !shared.sleep(Duration::from_millis(
        shared.latency_ms.load(Ordering::SeqCst),
    )) {
        return;
    }
    match behaviour::decide(shared, &request) {
        Action::Reply(reply) => {
            let _ = send(&mut stream, &reply);
        }
        Action::Hang => while shared.sleep(TICK) {},
        Action::Trickle => trickle(shared, &mut stream),
        Action::Stream => stream_forever(shared, &mut stream),
        Action::Reset => return reset(stream),
    }
    let _ = stream.shutdown(Shutdown::Write);
}

/// `Ok(None)`: the client went away or the server stopped.
fn read_request(shared: &Shared, stream: &mut TcpStream) -> Result<Option<Request>, Reply> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_len = loop {
        if let Some(pos) = find(&buf, b"\r\n\r\n") {
            break pos + 4;
        }
        if buf.len() > MAX_HEAD {
            return Err(Reply::json(431, r#"{"error":"request head too large"}"#));
        }
        match read_some(shared, stream, &mut chunk) {
            Some(0) | None => return Ok(None),
            Some(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let at = Instant::now();
    let head = String::from_utf8_lossy(&buf[..head_len]).into_owned();
    let mut lines = head.split("\r\n");
    let mut parts = lines.next().unwrap_or_default().split(' ');
    let (Some(method), Some(path), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(Reply::json(400, r#"{"error":"bad request line"}"#));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(Reply::json(400, r#"{"error":"not HTTP/1.x"}"#));
    }
    let mut headers = BTreeMap::<String, String>::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return Err(Reply::json(400, r#"{"error":"bad header line"}"#));
        };
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim();
        headers
            .entry(name)
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(value);
            })
            .or_insert_with(|| value.to_string());
    }

    // The body is read and dropped, so that closing doesn't reset the connection.
    let body_len: usize = match headers.get("content-length") {
        Some(v) => v
            .parse()
            .map_err(|_| Reply::json(400, r#"{"error":"bad content-length"}"#))?,
        None => 0,
    };
    if body_len > MAX_BODY {
        return Err(Reply::json(413, r#"{"error":"body too large"}"#));
    }
    let mut have = buf.len() - head_len;
    while have < body_len {
        match read_some(shared, stream, &mut chunk) {
            Some(0) | None => return Ok(None),
            Some(n) => have += n,
        }
    }

    Ok(Some(Request {
        method: method.to_string(),
        path: path.to_string(),
        headers,
        at,
    }))
}

/// One read, retried across timeouts; `None` on error or stop.
fn read_some(shared: &Shared, stream: &mut TcpStream, chunk: &mut [u8]) -> Option<usize> {
    loop {
        if shared.stopped() {
            return None;
        }
        match stream.read(chunk) {
            Ok(n) => return Some(n),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(_) => return None,
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// One HTTP answer.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    pub(crate) fn json(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            body: body.into(),
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        410 => "Gone",
        413 => "Content Too Large",
        425 => "Too Early",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

fn send(stream: &mut TcpStream, reply: &Reply) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nDate: {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reason(reply.status),
        http_date(std::time::SystemTime::now()),
        reply.content_type,
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(&reply.body)?;
    stream.flush()
}

/// An IMF-fixdate (`Tue, 08 Dec 2026 03:23:00 GMT`), as servers send `Date`.
pub(crate) fn http_date(at: std::time::SystemTime) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = at
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (mut days, time) = (secs / 86_400, secs % 86_400);
    let weekday = DAYS[(days % 7) as usize];
    let leap = |y: u64| (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let mut year = 1970;
    while days >= if leap(year) { 366 } else { 365 } {
        days -= if leap(year) { 366 } else { 365 };
        year += 1;
    }
    let lengths = [
        31,
        if leap(year) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let mut month = 0;
    while days >= lengths[month] {
        days -= lengths[month];
        month += 1;
    }
    format!(
        "{weekday}, {:02} {} {year} {:02}:{:02}:{:02} GMT",
        days + 1,
        MONTHS[month],
        time / 3600,
        time / 60 % 60,
        time % 60
    )
}

fn trickle(shared: &Shared, stream: &mut TcpStream) {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                Content-Length: 1000000000\r\nConnection: close\r\n\r\n";
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    while stream.write_all(b" ").is_ok() && shared.sleep(TRICKLE_EVERY) {}
}

/// A 200 whose chunked body never ends: a JSON object that is never
/// closed, then whitespace, slowly enough that only a deadline ends it.
fn stream_forever(shared: &Shared, stream: &mut TcpStream) {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    let chunk = |data: &[u8]| [format!("{:x}\r\n", data.len()).as_bytes(), data, b"\r\n"].concat();
    if stream.write_all(head.as_bytes()).is_err()
        || stream
            .write_all(&chunk(br#"{"permissions":{"list":true}"#))
            .is_err()
    {
        return;
    }
    let spaces = chunk(&[b' '; STREAM_CHUNK]);
    while stream.write_all(&spaces).is_ok() && shared.sleep(STREAM_EVERY) {}
}

/// Closes with a TCP reset (`SO_LINGER` of 0), as a crashing server or a
/// middlebox does: the client sees the connection reset, not an answer.
fn reset(stream: TcpStream) {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: a valid socket descriptor and a correctly sized option value.
        unsafe {
            libc::setsockopt(
                stream.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                std::ptr::addr_of!(linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            );
        }
    }
    drop(stream);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(api: &MockApi, path: &str, token: Option<&str>) -> TcpStream {
        let mut stream = TcpStream::connect(api.addr()).unwrap();
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\n{auth}Project: p1\r\n\r\n",
            api.addr()
        )
        .unwrap();
        stream
    }

    /// Status, headers, body of a complete (closed) response.
    fn fetch(api: &MockApi, path: &str, token: Option<&str>) -> (u16, String, Vec<u8>) {
        let mut stream = get(api, path, token);
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        let end = find(&raw, b"\r\n\r\n").unwrap();
        let head = String::from_utf8(raw[..end].to_vec()).unwrap();
        let status = head[9..12].parse().unwrap();
        (status, head, raw[end + 4..].to_vec())
    }

    fn text(body: &[u8]) -> &str {
        std::str::from_utf8(body).unwrap()
    }

    #[test]
    fn ok_answers_whoami_and_records_the_request() {
        let api = MockApi::start();
        assert!(api.url().starts_with("http://127.0.0.1:"));
        assert!(!api.url().ends_with('/'));
        let (status, head, body) = fetch(&api, "/v1/whoami", Some("ok-alice"));
        assert_eq!(status, 200);
        assert!(head.contains("Content-Type: application/json"));
        assert!(head.contains("Connection: close"));
        let body = text(&body);
        assert!(body.contains(r#""list":true"#), "{body}");
        assert!(body.contains(&uuid_of("ok-alice")));

        let requests = api.requests();
        assert_eq!(requests.len(), 1);
        let r = &requests[0];
        assert_eq!(r.method, "GET");
        assert_eq!(r.path, "/v1/whoami");
        assert_eq!(r.token(), Some("ok-alice"));
        assert_eq!(r.headers.get("project").map(String::as_str), Some("p1"));
        assert_eq!(r.header("Authorization"), Some("Bearer ok-alice"));
    }

    #[test]
    fn answers_by_token_prefix() {
        let api = MockApi::start();
        let cases: &[(&str, u16, &str)] = &[
            ("nolist-x", 200, r#""list":false"#),
            ("nolistkey", 200, r#""permissions":{}"#),
            ("array", 200, "[1,2]"),
            ("notjson-1", 200, "<html>hi</html>"),
            ("e401", 401, "invalid token"),
            (
                "e401echo-abc",
                401,
                "invalid token e401echo-abc for this project",
            ),
            ("e403-a", 403, "forbidden"),
            ("e500", 500, "boom"),
            ("e429", 429, "error"),
            ("whatever", 401, "unknown token"),
        ];
        for (token, want_status, want_body) in cases {
            let (status, _, body) = fetch(&api, "/v1/whoami", Some(token));
            assert_eq!(status, *want_status, "{token}");
            assert!(text(&body).contains(want_body), "{token}: {}", text(&body));
        }
        let (status, _, body) = fetch(&api, "/v1/whoami", Some("empty"));
        assert_eq!((status, body.len()), (200, 0));
        let (status, _, _) = fetch(&api, "/v1/whoami", None);
        assert_eq!(status, 401);
        let (status, _, _) = fetch(&api, "/v1/other", Some("ok"));
        assert_eq!(status, 404);
        let (status, _, _) = fetch(&api, "/sandboxes/v1/whoami?x=1", Some("ok"));
        assert_eq!(status, 200);
        let (status, head, _) = fetch(&api, "/v1/whoami", Some("redirect"));
        assert_eq!(status, 302);
        assert!(head.contains(&format!("Location: {}/v1/whoami-other", api.url())));
        let (status, _, body) = fetch(&api, "/v1/whoami", Some("big"));
        assert_eq!((status, body.len()), (200, 3 << 20));
        assert!(body.ends_with(b"\"}"));
    }

    #[test]
    fn flaky_fails_once_per_token() {
        let api = MockApi::start();
        assert_eq!(fetch(&api, "/v1/whoami", Some("flaky-a")).0, 503);
        assert_eq!(fetch(&api, "/v1/whoami", Some("flaky-a")).0, 200);
        assert_eq!(fetch(&api, "/v1/whoami", Some("flaky-a")).0, 200);
        assert_eq!(fetch(&api, "/v1/whoami", Some("flaky-b")).0, 503);
    }

    #[test]
    fn retry_after_answers_come_once_or_always_with_a_date() {
        let api = MockApi::start();
        for (token, status) in [
            ("busy-a", 503),
            ("ratelimited-a", 429),
            ("early-a", 425),
            ("gone-a", 410),
        ] {
            let (first, head, _) = fetch(&api, "/v1/whoami", Some(token));
            assert_eq!(first, status, "{token}");
            if status == 503 || status == 429 {
                assert!(head.lines().any(|l| l == "Retry-After: 1"), "{head}");
            }
            assert_eq!(fetch(&api, "/v1/whoami", Some(token)).0, 200, "{token}");
        }
        for _ in 0..2 {
            let (status, head, _) = fetch(&api, "/v1/whoami", Some("later"));
            assert_eq!(status, 503);
            assert!(head.lines().any(|l| l == "Retry-After: 3600"), "{head}");
        }
        let (status, head, _) = fetch(&api, "/v1/whoami", Some("laterdate"));
        assert_eq!(status, 503);
        let header = |name: &str| {
            head.lines()
                .find_map(|l| l.strip_prefix(name))
                .unwrap()
                .to_string()
        };
        assert!(header("Retry-After: ").ends_with(" GMT"), "{head}");
        assert!(header("Date: ").ends_with(" GMT"), "{head}");
        let epoch = std::time::UNIX_EPOCH;
        assert_eq!(
            http_date(epoch + Duration::from_secs(1_796_700_180)),
            "Tue, 08 Dec 2026 03:23:00 GMT"
        );
        assert_eq!(
            http_date(epoch + Duration::from_secs(951_782_400)),
            "Tue, 29 Feb 2000 00:00:00 GMT"
        );
    }

    #[test]
    fn hang_never_answers_and_closes_when_dropped() {
        let api = MockApi::start();
        let mut stream = get(&api, "/v1/whoami", Some("hang-1"));
        stream
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut buf = [0u8; 16];
        let err = stream.read(&mut buf).unwrap_err();
        assert!(matches!(
            err.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ));
        assert_eq!(api.requests().len(), 1);

        let started = Instant::now();
        drop(api);
        assert!(started.elapsed() < Duration::from_secs(1));
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        // Closed: end of stream (or a reset), not a timeout.
        match stream.read(&mut buf) {
            Ok(n) => assert_eq!(n, 0),
            Err(e) => assert!(!matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            )),
        }
    }

    #[test]
    fn trickle_sends_headers_then_dribbles() {
        let api = MockApi::start();
        let mut stream = get(&api, "/v1/whoami", Some("trickle"));
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut raw = Vec::new();
        let mut buf = [0u8; 1024];
        while find(&raw, b"\r\n\r\n").is_none_or(|end| raw.len() < end + 4 + 2) {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0);
            raw.extend_from_slice(&buf[..n]);
        }
        assert!(raw.starts_with(b"HTTP/1.1 200 OK\r\n"));
        let started = Instant::now();
        drop(api);
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn slow_and_latency_delay_the_answer() {
        let api = MockApi::start();
        api.set_slow_ms(150);
        let started = Instant::now();
        assert_eq!(fetch(&api, "/v1/whoami", Some("slow-1")).0, 200);
        assert!(started.elapsed() >= Duration::from_millis(150));

        api.set_latency_ms(100);
        let started = Instant::now();
        assert_eq!(fetch(&api, "/v1/whoami", Some("e401")).0, 401);
        assert!(started.elapsed() >= Duration::from_millis(100));
    }

    #[test]
    fn serves_connections_concurrently() {
        let api = MockApi::start();
        api.set_slow_ms(300);
        let started = Instant::now();
        thread::scope(|s| {
            for i in 0..300 {
                let api = &api;
                s.spawn(move || {
                    let token = format!("slow-{i}");
                    assert_eq!(fetch(api, "/v1/whoami", Some(&token)).0, 200);
                });
            }
        });
        // One after another would take 90 s; generous for a loaded machine.
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(api.requests().len(), 300);
    }

    #[test]
    fn stream_sends_a_chunked_body_that_never_ends() {
        let api = MockApi::start();
        let mut stream = get(&api, "/v1/whoami", Some("stream-1"));
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        // Well past one chunk: it keeps coming.
        while raw.len() < 4 * STREAM_CHUNK {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0, "the stream ended");
            raw.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&raw);
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(text.contains("Transfer-Encoding: chunked"), "{text}");
        assert!(text.contains(r#"{"permissions":{"list":true}"#), "{text}");
        let started = Instant::now();
        drop(api);
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn reset_answers_nothing_and_resets_the_connection() {
        let api = MockApi::start();
        let mut stream = get(&api, "/v1/whoami", Some("reset-1"));
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut buf = [0u8; 64];
        let err = stream.read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
        assert_eq!(api.requests().len(), 1);
    }

    #[test]
    fn echoall_echoes_every_token_the_server_has_seen() {
        let api = MockApi::start();
        let (first, second) = thread::scope(|s| {
            let a = s.spawn(|| fetch(&api, "/v1/whoami", Some("echoall-a")));
            let b = s.spawn(|| fetch(&api, "/v1/whoami", Some("echoall-b")));
            (a.join().unwrap(), b.join().unwrap())
        });
        for (status, _, body) in [first, second] {
            assert_eq!(status, 401);
            let body = text(&body);
            assert!(
                body.contains("echoall-a") && body.contains("echoall-b"),
                "{body}"
            );
        }
    }
}
