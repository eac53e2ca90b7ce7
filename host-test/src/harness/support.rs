//! Helpers shared by both end-to-end suites (`tests/component`,
//! `tests/differential`), written once: test tokens and the leak scan every
//! run goes through (from [`super::tokens`]), the save invocation, JSON
//! rows, the `token_sha256` prefix, and tools a test needs.

use std::path::PathBuf;

use serde_json::Value;

use crate::harness::sandbox::Sandbox;
pub use crate::harness::tokens::{
    LEAK_PIECE, SECRET_MARK, assert_no_token, leaked_piece, no_token, remember, scanned, token,
    token_of_length,
};
use crate::outcome::Outcome;

/// What every run must satisfy: no trap, no piece of a token on stdout or
/// stderr (every [`Sandbox`] run is scanned already; this adds the trap).
pub fn check(outcome: Outcome) -> Outcome {
    assert!(
        outcome.trap.is_none(),
        "the component trapped: {:?}",
        outcome.trap
    );
    scanned(outcome)
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
