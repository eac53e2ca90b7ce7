//! The behaviour table: what the mock answers, by the bearer token's text
//! before its first `-` (`ok-alice` behaves as `ok`).

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::body::{self, Permissions};
use super::{Reply, Request, Shared, lock};

const BIG_BODY: usize = 3 << 20;

/// | prefix | answer |
/// | --- | --- |
/// | `ok` | 200, a full whoami JSON with `permissions.list = true` |
/// | `nolist` | 200, the same with `list: false` |
/// | `nolistkey` | 200, `permissions: {}` |
/// | `array` | 200, `[1,2]` |
/// | `notjson` | 200, `<html>hi</html>` as text/html |
/// | `empty` | 200, empty body |
/// | `e401` / `e403` / `e500` / `e429` | that status, JSON `{"error": ...}` |
/// | `e401echo`, `echo` | 401, `{"error": "invalid token TOKEN for this project"}`: a proxy echoing the token |
/// | `echook` | 200, a whoami JSON whose `token_uuid` and a permission name are the token |
/// | `escape` | 401 whose error holds OSC 52, bidi overrides, C1, DEL and a newline before `[INFO] forged` |
/// | `flaky` | 503 the first time this exact token is seen, then as `ok` |
/// | `busy` | 503 with `Retry-After: 1` the first time this exact token is seen, then as `ok` (a load balancer mid-deploy) |
/// | `ratelimited` | 429 with `Retry-After: 1` the first time, then as `ok` |
/// | `early` / `gone` | 425 / 410 the first time, then as `ok` |
/// | `later` | 503 with `Retry-After: 3600`, always |
/// | `laterdate` | 503 with `Retry-After` an HTTP-date an hour after its `Date`, always |
/// | `slow` | as `ok` after [`super::MockApi::set_slow_ms`] (default 500 ms) |
/// | `hang` | reads the request, never answers |
/// | `trickle` | headers, then one body byte every 300 ms, forever |
/// | `stream` | 200, a chunked body that never ends: `{"permissions":{"list":true}` then 512 spaces every 20 ms (25 KiB/s: the 1 MiB cap is 40 s away) |
/// | `reset` | reads the request, then resets the connection without an answer |
/// | `echoall` | 401 echoing every token this server has seen, once it has seen two (or after 1 s) |
/// | `big` | 200, a 3 MiB JSON body |
/// | `redirect` | 302 to `/v1/whoami-other` on this server |
/// | anything else, or no token | 401 `{"error":"unknown token"}` |
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    Ok,
    NoList,
    NoListKey,
    Array,
    NotJson,
    Empty,
    E401,
    E403,
    E500,
    E429,
    E401Echo,
    EchoOk,
    Escape,
    Flaky,
    Busy,
    RateLimited,
    Early,
    Gone,
    Later,
    LaterDate,
    Slow,
    Hang,
    Trickle,
    Stream,
    Reset,
    EchoAll,
    Big,
    Redirect,
    Unknown,
}

impl Behaviour {
    /// The behaviour a bearer token asks for.
    pub fn of_token(token: &str) -> Behaviour {
        match token.split('-').next().unwrap_or_default() {
            "ok" => Behaviour::Ok,
            "nolist" => Behaviour::NoList,
            "nolistkey" => Behaviour::NoListKey,
            "array" => Behaviour::Array,
            "notjson" => Behaviour::NotJson,
            "empty" => Behaviour::Empty,
            "e401" => Behaviour::E401,
            "e403" => Behaviour::E403,
            "e500" => Behaviour::E500,
            "e429" => Behaviour::E429,
            "e401echo" | "echo" => Behaviour::E401Echo,
            "echook" => Behaviour::EchoOk,
            "escape" => Behaviour::Escape,
            "flaky" => Behaviour::Flaky,
            "busy" => Behaviour::Busy,
            "ratelimited" => Behaviour::RateLimited,
            "early" => Behaviour::Early,
            "gone" => Behaviour::Gone,
            "later" => Behaviour::Later,
            "laterdate" => Behaviour::LaterDate,
            "slow" => Behaviour::Slow,
            "hang" => Behaviour::Hang,
            "trickle" => Behaviour::Trickle,
            "stream" => Behaviour::Stream,
            "reset" => Behaviour::Reset,
            "echoall" => Behaviour::EchoAll,
            "big" => Behaviour::Big,
            "redirect" => Behaviour::Redirect,
            _ => Behaviour::Unknown,
        }
    }
}

/// What the server does with a request.
pub(crate) enum Action {
    Reply(Reply),
    Hang,
    Trickle,
    Stream,
    Reset,
}

pub(crate) fn decide(shared: &Shared, request: &Request) -> Action {
    let path = request.path.split('?').next().unwrap_or_default();
    if !path.ends_with("/v1/whoami") || path.contains("//") {
        return Action::Reply(Reply::json(404, body::error("not found")));
    }
    let token = request.token().unwrap_or_default();
    let ok = || Reply::json(200, body::whoami(token, Permissions::List(true), None));
    let reply = match Behaviour::of_token(token) {
        Behaviour::Ok => ok(),
        Behaviour::NoList => Reply::json(200, body::whoami(token, Permissions::List(false), None)),
        Behaviour::NoListKey => Reply::json(200, body::whoami(token, Permissions::Missing, None)),
        Behaviour::Array => Reply::json(200, "[1,2]"),
        Behaviour::NotJson => Reply {
            content_type: "text/html",
            ..Reply::json(200, "<html>hi</html>")
        },
        Behaviour::Empty => Reply::json(200, ""),
        Behaviour::E401 => Reply::json(401, body::error("invalid token")),
        Behaviour::E403 => Reply::json(403, body::error("forbidden")),
        Behaviour::E500 => Reply::json(500, body::error("boom")),
        Behaviour::E429 => Reply::json(429, body::error("too many requests")),
        Behaviour::E401Echo => Reply::json(
            401,
            serde_json::json!({ "error": format!("invalid token {token} for this project") })
                .to_string(),
        ),
        Behaviour::EchoOk => Reply::json(
            200,
            serde_json::json!({
                "token_uuid": token,
                "token_expiration": null,
                "permissions": { "list": true, token: true },
                "operations_stat": {},
                "limits": {},
            })
            .to_string(),
        ),
        Behaviour::Escape => Reply::json(
            401,
            r#"{"error":"\u001b]52;c;cm0gLXJmIH4K\u0007 \u202eevil\u202c \u009b31m\u007f\n[INFO] forged"}"#,
        ),
        Behaviour::Flaky => once(shared, token, 503, None).unwrap_or_else(ok),
        Behaviour::Busy => once(shared, token, 503, Some("1".into())).unwrap_or_else(ok),
        Behaviour::RateLimited => once(shared, token, 429, Some("1".into())).unwrap_or_else(ok),
        Behaviour::Early => once(shared, token, 425, None).unwrap_or_else(ok),
        Behaviour::Gone => once(shared, token, 410, None).unwrap_or_else(ok),
        Behaviour::Later => unavailable(503, Some("3600".into())),
        Behaviour::LaterDate => {
            let in_an_hour = std::time::SystemTime::now() + Duration::from_secs(3600);
            unavailable(503, Some(super::http_date(in_an_hour)))
        }
        Behaviour::Slow => {
            let wait = Duration::from_millis(shared.slow_ms.load(Ordering::SeqCst));
            if !shared.sleep(wait) {
                return Action::Hang;
            }
            ok()
        }
        Behaviour::Hang => return Action::Hang,
        Behaviour::Trickle => return Action::Trickle,
        Behaviour::Stream => return Action::Stream,
        Behaviour::Reset => return Action::Reset,
        Behaviour::EchoAll => Reply::json(
            401,
            serde_json::json!({ "error": format!("rejected: {}", seen_tokens(shared, 2).join(", ")) })
                .to_string(),
        ),
        Behaviour::Big => Reply::json(
            200,
            body::whoami(token, Permissions::List(true), Some(BIG_BODY)),
        ),
        Behaviour::Redirect => Reply {
            headers: vec![(
                "Location",
                format!("http://127.0.0.1:{}/v1/whoami-other", shared.port),
            )],
            ..Reply::json(302, "")
        },
        Behaviour::Unknown => Reply::json(401, body::error("unknown token")),
    };
    Action::Reply(reply)
}

/// The error answer of a status that asks for a retry, with its `Retry-After`.
fn unavailable(status: u16, retry_after: Option<String>) -> Reply {
    Reply {
        headers: retry_after
            .map(|value| vec![("Retry-After", value)])
            .unwrap_or_default(),
        ..Reply::json(status, body::error("unavailable"))
    }
}

/// That answer the first time this exact token is seen; `None` after.
fn once(shared: &Shared, token: &str, status: u16, retry_after: Option<String>) -> Option<Reply> {
    lock(&shared.flaky_seen)
        .insert(token.to_string())
        .then(|| unavailable(status, retry_after))
}

/// Every distinct token this server has been sent, in arrival order, once
/// there are `want` of them or a second has passed (the probes of one
/// listing arrive together).
fn seen_tokens(shared: &Shared, want: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(1);
    loop {
        let mut tokens: Vec<String> = Vec::new();
        for request in lock(&shared.requests).iter() {
            if let Some(token) = request.token()
                && !tokens.iter().any(|t| t == token)
            {
                tokens.push(token.to_string());
            }
        }
        if tokens.len() >= want
            || std::time::Instant::now() >= deadline
            || !shared.sleep(Duration::from_millis(20))
        {
            return tokens;
        }
    }
}
