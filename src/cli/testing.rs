//! What the CLI's native tests drive it with: a temporary config home, an
//! in-memory terminal, and a whoami server faked through the same
//! [`Transport`] seam the component uses for `wasi:http`.

use crate::cli::{Io, run};
use crate::config::env::Environment;
use crate::http::fake::FakeTransport;
use crate::http::{Outcome, Request, Transport};

/// The fake whoami of the CLI's tests.
pub type FakeApi = FakeTransport<'static>;

/// Answers whoami by token: `tok-ok` (200, `list` granted), `tok-nolist`
/// (200 without it), `tok-slow` (no answer in time), `tok-down` (connection
/// refused), anything else 401 `invalid token`.
pub fn fake_api() -> FakeApi {
    FakeTransport::new(answer)
}

fn answer(request: &Request) -> Outcome {
    let json = |status: u16, body: &str| Outcome::response(status, body.as_bytes());
    match request.bearer() {
        "tok-ok" => json(200, r#"{"token_uuid":"u-1","permissions":{"list":true}}"#),
        "tok-nolist" => json(200, r#"{"token_uuid":"u-2","permissions":{"list":false}}"#),
        "tok-slow" => Outcome::Timeout,
        "tok-down" => Outcome::Failed("connection refused".into()),
        _ => json(401, r#"{"error":"invalid token"}"#),
    }
}

/// The result of one run.
#[derive(Debug)]
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    /// Fails, showing stderr, unless the run was refused: exit status 1
    /// and stderr ending in `message` (the one `[ERROR]` line).
    #[track_caller]
    pub fn refused(&self, message: &str) {
        assert_eq!(self.code, 1, "{}", self.stderr);
        crate::test_support::assert_ends(&self.stderr, message);
    }
}

/// One config home (a temporary directory) and the environment and stdin of
/// the next run.
pub struct Cli {
    home: tempfile::TempDir,
    env: Vec<(String, String)>,
    stdin: String,
    terminal: bool,
}

impl Cli {
    pub fn new() -> Cli {
        let home = tempfile::tempdir().expect("a temporary directory");
        // As the launcher runs it: new files private (umask 077), said so.
        let env = vec![
            (
                "CONTREE_HOME".to_string(),
                home.path().display().to_string(),
            ),
            ("CONTREE_PRIVATE_FILES".to_string(), "1".to_string()),
        ];
        Cli {
            home,
            env,
            stdin: String::new(),
            terminal: false,
        }
    }

    pub fn env(&mut self, name: &str, value: &str) -> &mut Cli {
        self.env.retain(|(k, _)| k != name);
        self.env.push((name.to_string(), value.to_string()));
        self
    }

    pub fn stdin(&mut self, text: &str) -> &mut Cli {
        self.stdin = text.to_string();
        self
    }

    /// Whether the next runs' stdin is a terminal (a person typing).
    pub fn terminal(&mut self, terminal: bool) -> &mut Cli {
        self.terminal = terminal;
        self
    }

    pub fn path(&self, name: &str) -> String {
        self.home.path().join(name).display().to_string()
    }

    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.home.path().join(name), text).expect("write a test file");
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.home.path().join(name)).unwrap_or_default()
    }

    pub fn exists(&self, name: &str) -> bool {
        self.home.path().join(name).exists()
    }

    pub fn run(&mut self, transport: &dyn Transport, args: &[&str]) -> Ran {
        let argv: Vec<String> = std::iter::once("contree")
            .chain(args.iter().copied())
            .map(String::from)
            .collect();
        let env = Environment::new(self.env.iter().cloned());
        let mut stdin = self.stdin.as_bytes();
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let mut io = Io {
            stdin: &mut stdin,
            stdout: &mut stdout,
            stderr: &mut stderr,
            stdout_is_terminal: false,
            stdin_is_terminal: self.terminal,
        };
        let code = run(&argv, &env, &mut io, transport);
        Ran {
            code,
            stdout: String::from_utf8(stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(stderr).expect("stderr is UTF-8"),
        }
    }
}
