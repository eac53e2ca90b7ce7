//! Helpers shared by both end-to-end suites (`tests/component`,
//! `tests/differential`), written once: test tokens and the leak scan every
//! run goes through, the save invocation, JSON rows, the `token_sha256`
//! prefix, and tools a test needs.

use std::collections::HashSet;
use std::fmt::Debug;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use serde_json::Value;

use crate::harness::sandbox::Sandbox;
use crate::outcome::Outcome;

/// Every test token contains this, so any output holding it is a leak.
pub const SECRET_MARK: &str = "SeCrEt";

/// A run of this many characters of a token, anywhere, is a leak (SPEC §5).
pub const LEAK_PIECE: usize = 12;

/// Every token [`token`] made in this process: the leak scan looks for
/// pieces of each of them.
static TOKENS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// A fresh token the mock API answers by its `kind` prefix (see
/// `mock_api::Behaviour`): `KIND-SeCrEt-N-` and 16 random letters, none of
/// them hex digits, so no hash or uuid printed by the component can look
/// like a piece of it.
pub fn token(kind: &str) -> String {
    let (n, head) = token_head(kind);
    let token = format!("{head}{}", random_letters(n, 16));
    remember(&token);
    token
}

/// A token made like [`token`], `len` characters long (as long as the
/// 308-character tokens of the issue, for example).
pub fn token_of_length(kind: &str, len: usize) -> String {
    let (n, head) = token_head(kind);
    assert!(len >= head.len() + LEAK_PIECE, "{len} is too short a token");
    let token = format!("{head}{}", random_letters(n, len - head.len()));
    remember(&token);
    token
}

/// `KIND-SeCrEt-N-`, N counting the tokens made in this process.
fn token_head(kind: &str) -> (u64, String) {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    (n, format!("{kind}-{SECRET_MARK}-{n}-"))
}

/// Adds a token made another way (for example a token with spaces around
/// it) to those the leak scan looks for.
pub fn remember(token: &str) {
    TOKENS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(token.to_string());
}

fn random_letters(salt: u64, len: usize) -> String {
    const LETTERS: &[u8] = b"ghijkmnpqrstuvwxyzGHJKLMNPQRSTUVWXYZ";
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut state =
        nanos ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ u64::from(std::process::id());
    (0..len)
        .map(|_| {
            // xorshift64*: plenty for test tokens.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let x = state.wrapping_mul(0x2545_f491_4f6c_dd1d);
            LETTERS[(x >> 58) as usize % LETTERS.len()] as char
        })
        .collect()
}

/// The first piece of a token that `text` holds: [`SECRET_MARK`], or any
/// [`LEAK_PIECE`] characters in a row of any token made by [`token`].
pub fn leaked_piece(text: &str) -> Option<String> {
    if text.contains(SECRET_MARK) {
        return Some(SECRET_MARK.to_string());
    }
    let tokens = TOKENS.lock().unwrap_or_else(PoisonError::into_inner);
    let mut pieces = HashSet::new();
    for token in tokens.iter() {
        let bounds: Vec<usize> = token.char_indices().map(|(i, _)| i).collect();
        for (start, end) in bounds.iter().zip(bounds.iter().skip(LEAK_PIECE)) {
            pieces.insert(&token[*start..*end]);
        }
        if bounds.len() >= LEAK_PIECE {
            pieces.insert(&token[bounds[bounds.len() - LEAK_PIECE]..]);
        }
    }
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    bounds
        .iter()
        .zip(bounds.iter().skip(LEAK_PIECE))
        .map(|(start, end)| &text[*start..*end])
        .find(|piece| pieces.contains(piece))
        .map(str::to_string)
}

/// Panics if `text` (named `what` in the message) holds a piece of a token.
pub fn assert_no_token(what: &str, text: &str) {
    if let Some(piece) = leaked_piece(text) {
        panic!("a token leaked on {what} (piece {piece:?}): {text}");
    }
}

/// A typed result (or anything `Debug`) that must carry no piece of a token.
pub fn no_token<T: Debug>(value: T) -> T {
    assert_no_token("a typed result", &format!("{value:?}"));
    value
}

/// What every run must satisfy: no trap, no piece of a token on stdout or
/// stderr (every [`Sandbox`] run is scanned already; this adds the trap).
pub fn check(outcome: Outcome) -> Outcome {
    assert!(
        outcome.trap.is_none(),
        "the component trapped: {:?}",
        outcome.trap
    );
    assert_no_token("stdout", &outcome.stdout);
    assert_no_token("stderr", &outcome.stderr);
    outcome
}

/// The text assertions, one definition for the guest crate's unit tests and these suites.
pub use contree_auth::test_support::{assert_ends, assert_has, assert_lacks, assert_starts};

/// The typed functions both worlds export (WIT 0.3.0), in the world's
/// order: what `wasm-tools` lists and Wassette's tool names.
pub const TYPED_FUNCTIONS: [&str; 5] = [
    "list-profiles",
    "save-profile",
    "switch-profile",
    "remove-profile",
    "whoami",
];

/// `contree [GLOBAL...] auth -p NAME --token TOKEN -u URL -P PROJECT [-y]
/// [EXTRA...]`, the save invocation, built once. Only what is set is passed.
#[derive(Clone, Debug, Default)]
pub struct Save {
    global: Vec<String>,
    name: Option<String>,
    token: Option<String>,
    url: Option<String>,
    project: Option<String>,
    yes: bool,
    extra: Vec<String>,
}

impl Save {
    /// A save of `token` against `url` with project `proj-1`, profile unnamed
    /// (`default`).
    pub fn new(token: &str, url: &str) -> Save {
        Save::bare().token(token).url(url).project("proj-1")
    }

    /// `contree auth` with nothing set.
    pub fn bare() -> Save {
        Save::default()
    }

    pub fn name(mut self, name: &str) -> Save {
        self.name = Some(name.to_string());
        self
    }

    pub fn token(mut self, token: &str) -> Save {
        self.token = Some(token.to_string());
        self
    }

    /// Leaves `--token` out (the token comes from the environment or a prompt).
    pub fn no_token(mut self) -> Save {
        self.token = None;
        self
    }

    pub fn url(mut self, url: &str) -> Save {
        self.url = Some(url.to_string());
        self
    }

    pub fn project(mut self, project: &str) -> Save {
        self.project = Some(project.to_string());
        self
    }

    /// Leaves `-P` out (the project comes from the environment or a prompt).
    pub fn no_project(mut self) -> Save {
        self.project = None;
        self
    }

    /// `-y`: overwrite without asking.
    pub fn yes(mut self) -> Save {
        self.yes = true;
        self
    }

    /// `--type jwt`, which takes no project.
    pub fn jwt(self) -> Save {
        self.no_project().arg("--type").arg("jwt")
    }

    /// An option before `auth` (`-L debug`, `-c FILE`).
    pub fn global(mut self, option: &str, value: &str) -> Save {
        self.global.extend([option.to_string(), value.to_string()]);
        self
    }

    /// One more argument after the others.
    pub fn arg(mut self, arg: &str) -> Save {
        self.extra.push(arg.to_string());
        self
    }

    /// The component's arguments (without `argv[0]`).
    pub fn args(&self) -> Vec<String> {
        let mut args = self.global.clone();
        args.push("auth".to_string());
        let pairs = [
            ("-p", &self.name),
            ("--token", &self.token),
            ("-u", &self.url),
            ("-P", &self.project),
        ];
        for (flag, value) in pairs {
            if let Some(value) = value {
                args.extend([flag.to_string(), value.clone()]);
            }
        }
        if self.yes {
            args.push("-y".to_string());
        }
        args.extend(self.extra.iter().cloned());
        args
    }

    /// Runs it in `sandbox` with empty stdin, checked by [`check`].
    pub fn run(&self, sandbox: &Sandbox) -> Outcome {
        self.run_with_stdin(sandbox, "")
    }

    /// Runs it in `sandbox` with this stdin, checked by [`check`].
    pub fn run_with_stdin(&self, sandbox: &Sandbox, stdin: &str) -> Outcome {
        check(sandbox.run_with_stdin(self.args(), stdin.as_bytes().to_vec()))
    }
}

/// The JSON lines of a `json` listing (other lines, such as Python's
/// `No profiles configured.` on stdout, are not rows).
pub fn rows_of(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter(|line| line.starts_with('{'))
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line}: {e}")))
        .collect()
}

/// Every line of `-f json` output as a row; a line that is not JSON fails.
pub fn json_rows(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line}: {e}")))
        .collect()
}

/// Fails, showing the row, unless a listing row has `status` and a
/// `detail` that contains `detail`.
#[track_caller]
pub fn assert_row(row: &Value, status: &str, detail: &str) {
    let holds =
        row["status"] == status && row["detail"].as_str().is_some_and(|d| d.contains(detail));
    assert!(
        holds,
        "want status {status:?}, detail with {detail:?}: {row}"
    );
}

/// `(name, status)` of each row of a JSON listing.
pub fn statuses(stdout: &str) -> Vec<(String, String)> {
    json_rows(stdout)
        .iter()
        .map(|row| {
            let field = |key: &str| row[key].as_str().unwrap_or("").to_string();
            (field("name"), field("status"))
        })
        .collect()
}

/// `[(name, status), ...]` as owned pairs, for comparing with [`statuses`].
pub fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// The `token_sha256` of a token: the first 16 hex digits of its SHA-256.
pub fn sha16(token: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An outcome as text, for assertion messages.
pub fn show(who: &str, out: &Outcome) -> String {
    format!(
        "--- {who}: exit {}\n[stdout]\n{}[stderr]\n{}",
        out.code, out.stdout, out.stderr
    )
}

/// Whether this run is CI's (`CI=true`), where every tool a test needs
/// but the stock `wasmtime` CLI is installed.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The tool `name` on `PATH`. Missing: under `CI=true` the test fails;
/// elsewhere it prints that it skipped and gets `None`.
pub fn require_tool(name: &str, purpose: &str) -> Option<PathBuf> {
    if let Some(path) = crate::harness::on_path(name) {
        return Some(path);
    }
    assert!(
        !in_ci(),
        "{name} is not on PATH, and CI=true: {purpose} cannot be skipped in CI"
    );
    eprintln!("{name} is not on PATH: skipping {purpose}");
    None
}

/// A loopback TCP port that refuses every connection for as long as this
/// lives: a socket is bound to it and never listens, so the kernel answers
/// each connection with a reset, and no other test can take the port
/// meanwhile (binding a listener and dropping it only hopes the port stays free).
pub struct RefusingPort {
    #[cfg(unix)]
    _socket: std::os::fd::OwnedFd,
    port: u16,
}

impl RefusingPort {
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// A fresh [`RefusingPort`] on 127.0.0.1.
#[cfg(unix)]
pub fn refusing_port() -> RefusingPort {
    use std::mem::{size_of, zeroed};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    // SAFETY: plain socket calls on a descriptor this function owns, with
    // a `sockaddr_in` and its true size.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let socket = OwnedFd::from_raw_fd(fd);
        let mut addr: libc::sockaddr_in = zeroed();
        addr.sin_family = libc::AF_INET as libc::sa_family_t;
        addr.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::LOCALHOST).to_be();
        let mut len = size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let addr_ptr = (&raw mut addr).cast::<libc::sockaddr>();
        let bound = libc::bind(socket.as_raw_fd(), addr_ptr, len);
        assert_eq!(bound, 0, "bind: {}", std::io::Error::last_os_error());
        let named = libc::getsockname(socket.as_raw_fd(), addr_ptr, &mut len);
        assert_eq!(named, 0, "getsockname: {}", std::io::Error::last_os_error());
        RefusingPort {
            _socket: socket,
            port: u16::from_be(addr.sin_port),
        }
    }
}

/// Elsewhere: a port whose listener is gone (hoped to stay free).
#[cfg(not(unix))]
pub fn refusing_port() -> RefusingPort {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding a port");
    RefusingPort {
        port: listener.local_addr().expect("its address").port(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_twelve_characters_of_a_made_token_are_a_leak() {
        let tok = token("ok");
        let tail = &tok[tok.len() - LEAK_PIECE..];
        assert!(!tail.contains(SECRET_MARK));
        assert_eq!(leaked_piece(&format!("x {tail} y")).as_deref(), Some(tail));
        let short = &tail[1..];
        assert_eq!(leaked_piece(&format!("x {short} y")), None, "11 are not");
        assert_eq!(leaked_piece(&sha16(&tok)), None);
        assert!(leaked_piece(&format!("<{SECRET_MARK}>")).is_some());
        let long = token_of_length("ok", 308);
        assert_eq!(long.len(), 308);
        assert!(leaked_piece(&format!("x{}y", &long[150..162])).is_some());
        remember("an-outside-token-of-24ch");
        assert!(leaked_piece("...outside-token...").is_some());
    }

    #[test]
    fn a_refusing_port_refuses_while_it_lives() {
        let refusing = refusing_port();
        let err = std::net::TcpStream::connect(("127.0.0.1", refusing.port())).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{err}");
        let taken = std::net::TcpListener::bind(("127.0.0.1", refusing.port()));
        assert!(taken.is_err(), "the port stays reserved");
    }

    #[test]
    fn save_passes_only_what_is_set() {
        let args = Save::new("T", "http://u")
            .name("work")
            .yes()
            .global("-L", "debug")
            .args();
        assert_eq!(
            args,
            [
                "-L", "debug", "auth", "-p", "work", "--token", "T", "-u", "http://u", "-P",
                "proj-1", "-y"
            ]
        );
        let args = Save::bare().url("http://u").jwt().args();
        assert_eq!(args, ["auth", "-u", "http://u", "--type", "jwt"]);
    }
}
