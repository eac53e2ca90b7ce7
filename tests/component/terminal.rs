//! SPEC §1 "the token is prompted without echo": the native launcher on a
//! real terminal (tmux). The typed token never shows, and echo comes back
//! however the launcher ends, a signal included.
//!
//! Issue 20 item 10: transcripts of a newcomer's flows, each driven through
//! a real terminal under the launcher AND the stock `wasmtime` CLI,
//! asserting what the user sees: the prompt, the echo or its absence, the
//! message, the exit code.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use contree_host::{MockApi, Sandbox, component_path, wasmtime_cli};

use crate::common::{
    SECRET_MARK, assert_has, assert_lacks, assert_no_token, require_tool, save, token,
};

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
        // -J: a long line the pane wrapped is read back as one.
        let out = self.cmd(&["capture-pane", "-J", "-t", &self.session, "-p"]);
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

/// Which program the pane runs: the launcher, or the stock wasmtime CLI with
/// the README's grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Host {
    Launcher,
    Stock,
}

const HOSTS: [Host; 2] = [Host::Launcher, Host::Stock];

/// `'text'` for `sh`.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The shell command that runs `contree ARGS` on `host` with `env`, for the
/// config home of `sb` (`None` when the stock CLI is not available).
fn host_command(sb: &Sandbox, host: Host, env: &[(&str, &str)], args: &[&str]) -> Option<String> {
    let home = sb.home().display().to_string();
    let args: Vec<String> = args.iter().map(|a| quote(a)).collect();
    let args = args.join(" ");
    match host {
        Host::Launcher => {
            let cache = contree_host::test_cache_dir()
                .parent()
                .unwrap_or(Path::new("/"));
            let env: Vec<String> = env
                .iter()
                .map(|(k, v)| quote(&format!("{k}={v}")))
                .collect();
            Some(format!(
                "env -i HOME={home} CONTREE_HOME={home} XDG_CACHE_HOME={cache} TERM=xterm {env} {bin} {args}",
                cache = cache.display(),
                env = env.join(" "),
                bin = env!("CARGO_BIN_EXE_contree"),
            ))
        }
        Host::Stock => {
            let wasmtime = wasmtime_cli()?;
            let env: Vec<String> = env
                .iter()
                .map(|(k, v)| format!("--env {}", quote(&format!("{k}={v}"))))
                .collect();
            Some(format!(
                "env -i HOME={home} TERM=xterm {wasmtime} run -S http --dir {home} --env CONTREE_HOME={home} {env} {wasm} {args}",
                wasmtime = wasmtime.display(),
                env = env.join(" "),
                wasm = component_path().display(),
            ))
        }
    }
}

/// What one run showed on the terminal.
struct Transcript {
    screen: String,
    code: i32,
}

impl Transcript {
    /// Fails, naming the host and showing the screen, unless the run
    /// exited with `code` and the screen shows each of `texts`.
    #[track_caller]
    fn expect(&self, host: Host, code: i32, texts: &[&str]) {
        assert_eq!(self.code, code, "{host:?}: {}", self.screen);
        for text in texts {
            assert!(
                self.screen.contains(text),
                "{host:?}: {text:?} not in:\n{}",
                self.screen
            );
        }
    }
}

/// One step of a conversation: wait until the screen shows `prompt`, check
/// that echo is on or off as `echo` says (when given), then type `keys`
/// (`None`: send the end of input, Ctrl-D).
struct Step<'a> {
    prompt: &'a str,
    echo: Option<bool>,
    keys: Option<&'a str>,
}

fn step<'a>(prompt: &'a str, echo: Option<bool>, keys: Option<&'a str>) -> Step<'a> {
    Step { prompt, echo, keys }
}

/// Runs `command` on a fresh terminal, plays `steps`, and returns the screen
/// and the exit status once the command ended. `None` without tmux.
fn transcript(sb: &Sandbox, tag: &str, command: &str, steps: &[Step<'_>]) -> Option<Transcript> {
    let pane = format!("{command}; echo EXIT=$?; sleep 30");
    let tmux = Tmux::start(sb, tag, &pane)?;
    for s in steps {
        tmux.wait_for(s.prompt);
        if let Some(echo) = s.echo {
            tmux.wait_until(&format!("echo {echo} at {:?}", s.prompt), || {
                tmux.echo_is_on() == echo
            });
        }
        match s.keys {
            Some(keys) => {
                tmux.cmd(&["send-keys", "-t", &tmux.session, "-l", keys]);
                tmux.cmd(&["send-keys", "-t", &tmux.session, "Enter"]);
            }
            None => {
                tmux.cmd(&["send-keys", "-t", &tmux.session, "C-d"]);
            }
        }
    }
    tmux.wait_for("EXIT=");
    let screen = tmux.screen();
    assert!(
        tmux.echo_is_on(),
        "{tag}: echo is back after the run: {screen}"
    );
    let code = screen
        .lines()
        .find_map(|l| l.trim().strip_prefix("EXIT="))
        .and_then(|c| c.trim().parse().ok())
        .unwrap_or_else(|| panic!("{tag}: no exit status: {screen}"));
    assert_no_token(tag, &screen);
    Some(Transcript { screen, code })
}

/// Runs one flow on both hosts, each on a fresh config home that `setup`
/// fills, and hands each transcript to `check` with its home. A host whose
/// tool is missing is skipped (which fails under `CI=true`).
fn on_each_host(
    tag: &str,
    setup: impl Fn(&Sandbox),
    env: &[(&str, &str)],
    args: &[&str],
    steps: &[Step<'_>],
    check: impl Fn(Host, &Sandbox, &Transcript),
) {
    for host in HOSTS {
        let sb = Sandbox::new();
        setup(&sb);
        let Some(command) = host_command(&sb, host, env, args) else {
            continue;
        };
        let tag = format!("{tag}-{host:?}").to_lowercase();
        if let Some(t) = transcript(&sb, &tag, &command, steps) {
            check(host, &sb, &t);
        }
    }
}

/// Two profiles, `a` (active) and `b`, saved through the mock.
fn two_profiles(api: &MockApi) -> impl Fn(&Sandbox) + '_ {
    move |sb| {
        save(sb, api, "a", "ok");
        save(sb, api, "b", "ok");
        let out = crate::common::run(sb, &["auth", "switch", "a"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
}

fn no_setup(_: &Sandbox) {}

/// Issue 20 item 4: on a terminal the project prompt is on screen with
/// echo on (the launcher hides only the token), the typed answer shows,
/// and Ctrl-D at the prompt is one line naming the flag and variable.
#[test]
fn transcript_plain_prompts_echo_and_end_of_input_names_the_flag() {
    let api = MockApi::start();
    let url = api.url();
    let tok = token("ok");
    let args = ["auth", "--token", tok.as_str(), "-u", url.as_str()];
    on_each_host(
        "project",
        no_setup,
        &[],
        &args,
        &[step("Project ID:", Some(true), Some("typed-proj"))],
        |host, sb, t| {
            t.expect(
                host,
                0,
                &[
                    "Project ID: typed-proj",
                    "[INFO] Saved profile 'default' to ",
                ],
            );
            assert!(
                sb.read_file("auth.ini")
                    .unwrap()
                    .contains("project = typed-proj")
            );
        },
    );
    on_each_host(
        "project-eof",
        no_setup,
        &[],
        &args,
        &[step("Project ID:", Some(true), None)],
        |host, sb, t| {
            t.expect(host, 1, &["[ERROR] Standard input ended at the 'Project ID' prompt: pass -P/--project or set CONTREE_PROJECT"]);
            assert!(sb.read_file("auth.ini").is_none());
        },
    );
}

/// Issue 20 items 3 and 7 on a terminal: the overwrite question, `rm` of
/// the active profile naming its successor, `switch` to a missing profile.
#[test]
fn transcript_questions_and_state_changes_are_said_aloud() {
    let api = MockApi::start();
    on_each_host(
        "rm-active",
        two_profiles(&api),
        &[],
        &["auth", "rm", "a"],
        &[step("Remove profile 'a'? [y/N]", Some(true), Some("y"))],
        |host, sb, t| {
            t.expect(
                host,
                0,
                &[
                    "Remove profile 'a'? [y/N] y",
                    "[INFO] Removed profile 'a'\n[INFO] The active profile is now 'b'",
                ],
            );
            assert!(sb.read_file("auth.ini").unwrap().contains("profile = b"));
        },
    );
    on_each_host(
        "switch-missing",
        two_profiles(&api),
        &[("CONTREE_PROFILE", "b")],
        &["auth", "switch", "nope"],
        &[],
        |host, _, t| {
            t.expect(
                host,
                1,
                &["[ERROR] Profile 'nope' does not exist: `contree auth ls` lists the profiles"],
            );
        },
    );
    on_each_host(
        "switch-overridden",
        two_profiles(&api),
        &[("CONTREE_PROFILE", "a")],
        &["auth", "switch", "b"],
        &[],
        |host, _, t| {
            t.expect(host, 0, &["[WARNING] CONTREE_PROFILE='a' overrides it in this environment: unset CONTREE_PROFILE to use 'b'"]);
        },
    );
}

/// Issue 20 item 5 and issue 15 item 7 on a terminal: a global option after
/// the subcommand works; an option that does nothing is a usage error
/// (exit 2); a pasted token and escape sequences in an argument never
/// reach the screen.
#[test]
fn transcript_usage_globals_anywhere_idle_options_and_pasted_tokens() {
    let api = MockApi::start();
    on_each_host(
        "globals",
        two_profiles(&api),
        &[],
        &["auth", "ls", "-f", "json", "--offline"],
        &[],
        |host, _, t| {
            t.expect(host, 0, &["\"name\": \"a\""]);
        },
    );
    on_each_host(
        "idle",
        no_setup,
        &[],
        &["auth", "-p", "e", "ls"],
        &[],
        |host, _, t| {
            t.expect(host, 2, &["-p/--profile is an option of `contree auth`"]);
        },
    );
    let tok = token("ok");
    on_each_host(
        "pasted",
        no_setup,
        &[],
        &["auth", tok.as_str()],
        &[],
        |host, _, t| {
            t.expect(host, 2, &["<token sha256:"]);
        },
    );
    on_each_host(
        "escapes",
        no_setup,
        &[],
        &["auth", "\u{1b}[2J\u{1b}]0;pwned\u{7}x"],
        &[],
        |host, _, t| {
            t.expect(host, 2, &["\\x1b[2J\\x1b]0;pwned\\x07x"]);
        },
    );
}

/// Issue 20 item 6: `contree agent`, the page the help's agent note
/// names, is there on both hosts.
#[test]
fn transcript_contree_agent_prints_the_guide() {
    on_each_host("agent", no_setup, &[], &["agent"], &[], |host, _, t| {
        t.expect(host, 0, &[]);
        // The end of the page (the pane shows its last 20 lines).
        assert!(
            t.screen.contains("See `contree mcp --help`."),
            "{host:?}: {}",
            t.screen
        );
    });
}

/// Issue 20 item 2 on a terminal: the stock CLI run without a `--dir` for
/// the config home the environment names fails with one line naming it;
/// the launcher grants its home itself, so the same command lists.
#[test]
fn transcript_a_config_home_the_host_did_not_grant_is_named() {
    let sb = Sandbox::new();
    let Some(launcher) = host_command(&sb, Host::Launcher, &[], &["auth", "ls"]) else {
        return;
    };
    if let Some(t) = transcript(&sb, "home-launcher", &launcher, &[]) {
        assert_eq!(t.code, 0, "{}", t.screen);
        assert_has(&t.screen, "No profiles configured.");
    }
    let Some(wasmtime) = wasmtime_cli() else {
        return;
    };
    let home = sb.home().display().to_string();
    let stock = format!(
        "env -i TERM=xterm {wasmtime} run -S http --dir {home} --env HOME={home}-elsewhere {wasm} auth ls",
        wasmtime = wasmtime.display(),
        wasm = component_path().display(),
    );
    if let Some(t) = transcript(&sb, "home-stock", &stock, &[]) {
        assert_eq!(t.code, 1, "{}", t.screen);
        assert_has(
            &t.screen,
            &format!("--dir {home}-elsewhere/.config/contree "),
        );
        assert_lacks(&t.screen, "No profiles configured.");
    }
}

/// Issue 20 item 1: under the stock wasmtime CLI the typed token would be
/// shown, so no token prompt appears there: one line names the safe ways.
/// The launcher, which hides it, asks with echo off.
#[test]
fn transcript_the_token_prompt_is_hidden_or_refused_never_echoed() {
    let api = MockApi::start();
    let url = api.url();
    let args = ["auth", "-u", url.as_str(), "-P", "proj"];
    let tok = token("ok");
    let sb = Sandbox::new();
    let Some(launcher) = host_command(&sb, Host::Launcher, &[], &args) else {
        return;
    };
    let Some(t) = transcript(
        &sb,
        "token-launcher",
        &launcher,
        &[step("Token:", Some(false), Some(&tok))],
    ) else {
        return;
    };
    assert_eq!(t.code, 0, "{}", t.screen);
    assert!(!t.screen.contains(SECRET_MARK), "echoed: {}", t.screen);
    assert!(sb.read_file("auth.ini").unwrap().contains(&tok));

    let sb = Sandbox::new();
    let Some(stock) = host_command(&sb, Host::Stock, &[], &args) else {
        return;
    };
    let Some(t) = transcript(&sb, "token-stock", &stock, &[]) else {
        return;
    };
    assert_eq!(t.code, 1, "{}", t.screen);
    assert!(!t.screen.contains("Token:"), "no prompt: {}", t.screen);
    for says in [
        "[ERROR] Not asking for the token here",
        "--token-stdin",
        "CONTREE_TOKEN",
        "launcher",
    ] {
        assert!(t.screen.contains(says), "{says}: {}", t.screen);
    }
    assert!(sb.read_file("auth.ini").is_none());
    assert!(
        api.requests().len() == 1,
        "only the launcher's run asked whoami"
    );
}

/// Issue 25 items 5 and 6 on a terminal, on both hosts: Python's `-f`
/// (force) gets a hint naming `-y`; a table listing says on the screen why
/// a profile is not ok, beside the Python CLI's rows.
#[test]
fn transcript_a_python_f_and_a_refused_token_say_what_comes_next() {
    let api = MockApi::start();
    on_each_host(
        "python-f",
        two_profiles(&api),
        &[],
        &["auth", "rm", "b", "-f"],
        &[],
        |host, sb, t| {
            t.expect(
                host,
                2,
                &["-f is the output format; -y/--force skips the confirmation"],
            );
            assert!(sb.read_file("auth.ini").unwrap().contains("[profile:b]"));
        },
    );
    let refused = token("e401");
    let url = api.url();
    let bad = move |sb: &Sandbox| {
        sb.write_file(
            "auth.ini",
            format!("[profile:bad]\nurl = {url}\ntoken = {refused}\ntype = jwt\n"),
        );
    };
    on_each_host("why", bad, &[], &["auth", "ls"], &[], |host, _, t| {
        t.expect(
            host,
            0,
            &[
                "NAME",
                "[WARNING] Profile 'bad' is not ok (status error): HTTP 401",
            ],
        );
    });
}

/// Issue 25 item 5: the launcher's `--help` lists the two subcommands only
/// it has, and their `--help` exits 0 (it exited 2).
#[test]
fn the_launchers_help_lists_completions_and_man() {
    let sb = Sandbox::new();
    let run = |args: &[&str]| -> Output {
        Command::new(env!("CARGO_BIN_EXE_contree"))
            .args(args)
            .env_clear()
            .env("CONTREE_HOME", sb.home())
            .env("HOME", sb.home())
            .env("XDG_CACHE_HOME", sb.path("cache"))
            .output()
            .unwrap()
    };
    let help = run(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8_lossy(&help.stdout);
    for line in ["  completions", "  man", "  auth", "  mcp"] {
        assert_has(&text, line);
    }
    for (args, says) in [
        (&["completions", "--help"][..], "shell completion script"),
        (&["man", "--help"], "man page"),
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert_has(&String::from_utf8_lossy(&out.stdout), says);
    }
}
