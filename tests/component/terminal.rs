//! SPEC §1 "the token is prompted without echo": the native launcher on a
//! real terminal (tmux). The typed token never shows, and echo comes back
//! however the launcher ends, a signal included.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use contree_host::{MockApi, Sandbox};

use crate::common::{SECRET_MARK, require_tool, token};

/// A detached tmux server of its own (socket in the sandbox), one pane
/// running `command` under `sh`.
struct Tmux {
    tmux: PathBuf,
    socket: PathBuf,
    session: String,
}

impl Tmux {
    fn start(sb: &Sandbox, tag: &str, command: &str) -> Option<Tmux> {
        let tmux = require_tool("tmux", "the terminal echo check")?;
        let t = Tmux {
            tmux,
            socket: sb.path(format!("tmux-{tag}.sock")),
            session: format!("contree-{tag}-{}", std::process::id()),
        };
        let out = t.cmd(&[
            "new-session",
            "-d",
            "-s",
            &t.session,
            "-x",
            "200",
            "-y",
            "20",
            command,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(t)
    }

    fn cmd(&self, args: &[&str]) -> Output {
        Command::new(&self.tmux)
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("running tmux")
    }

    fn screen(&self) -> String {
        let out = self.cmd(&["capture-pane", "-t", &self.session, "-p"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn wait_until(&self, what: &str, ready: impl Fn() -> bool) {
        let started = Instant::now();
        while !ready() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "no {what}: {}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_for(&self, text: &str) {
        self.wait_until(text, || self.screen().contains(text));
    }

    /// The pane's terminal settings, read from outside.
    fn echo_is_on(&self) -> bool {
        let out = self.cmd(&["display-message", "-p", "-t", &self.session, "#{pane_tty}"]);
        let tty = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let stty = Command::new("stty")
            .args(["-a", "-F", &tty])
            .output()
            .expect("running stty");
        let settings = String::from_utf8_lossy(&stty.stdout).into_owned();
        let words: Vec<&str> = settings.split_whitespace().collect();
        assert!(
            words.contains(&"echo") || words.contains(&"-echo"),
            "{settings}"
        );
        words.contains(&"echo")
    }

    /// The process the pane's shell is running (the launcher: `env` execs it).
    fn child_pid(&self) -> String {
        let out = self.cmd(&["list-panes", "-t", &self.session, "-F", "#{pane_pid}"]);
        let shell = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
            .expect("reading the shell's children");
        children
            .split_whitespace()
            .next()
            .expect("the shell runs the launcher")
            .to_string()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

/// `sh` runs the launcher on the pane, then prints its exit status and
/// whether echo is on; a trap keeps the shell alive through Ctrl-C.
fn pane_command(sb: &Sandbox, api: &MockApi) -> String {
    let cache = contree_host::test_cache_dir()
        .parent()
        .unwrap_or(Path::new("/"));
    format!(
        "trap 'true' INT; env -i HOME={home} CONTREE_HOME={home} XDG_CACHE_HOME={cache} TERM=xterm {bin} auth -u {url} -P proj; echo EXIT=$?; sleep 30",
        home = sb.home().display(),
        cache = cache.display(),
        bin = env!("CARGO_BIN_EXE_contree"),
        url = api.url(),
    )
}

#[test]
fn the_typed_token_is_not_shown_on_a_terminal() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    let Some(tmux) = Tmux::start(&sb, "typed", &pane_command(&sb, &api)) else {
        return;
    };
    tmux.wait_for("Token:");
    tmux.wait_until("echo off after the prompt", || !tmux.echo_is_on());
    let tok = token("ok");
    tmux.cmd(&["send-keys", "-t", &tmux.session, &tok, "Enter"]);
    tmux.wait_for("EXIT=");
    let shown = tmux.screen();
    assert!(shown.contains("EXIT=0"), "{shown}");
    assert!(
        !shown.contains(SECRET_MARK),
        "the token was echoed: {shown}"
    );
    assert!(tmux.echo_is_on(), "echo is back after the run");
    assert!(sb.read_file("auth.ini").unwrap().contains(&tok));
    assert_eq!(
        sb.mode("auth.ini"),
        Some(0o600),
        "the launcher writes auth.ini 0600"
    );
}

/// Issue 11 item 9: Ctrl-C, `kill`, or a closed terminal at the token
/// prompt must not leave the user's shell without echo.
#[test]
fn echo_is_restored_when_a_signal_ends_the_launcher_at_the_token_prompt() {
    // (signal, how it is sent, the shell's $? for a death by it)
    for (name, exit) in [("INT", 130), ("TERM", 143), ("HUP", 129)] {
        let api = MockApi::start();
        let sb = Sandbox::new();
        let tag = name.to_lowercase();
        let Some(tmux) = Tmux::start(&sb, &tag, &pane_command(&sb, &api)) else {
            return;
        };
        tmux.wait_for("Token:");
        tmux.wait_until("echo off after the prompt", || !tmux.echo_is_on());
        if name == "INT" {
            tmux.cmd(&["send-keys", "-t", &tmux.session, "C-c"]);
        } else {
            let pid = tmux.child_pid();
            let kill = Command::new("kill")
                .args([&format!("-{name}"), &pid])
                .status()
                .expect("running kill");
            assert!(kill.success());
        }
        tmux.wait_for("EXIT=");
        let shown = tmux.screen();
        assert!(
            shown.contains(&format!("EXIT={exit}")),
            "SIG{name}: {shown}"
        );
        assert!(tmux.echo_is_on(), "SIG{name} left echo off: {shown}");
        assert!(
            sb.read_file("auth.ini").is_none(),
            "SIG{name}: nothing saved"
        );
    }
}
