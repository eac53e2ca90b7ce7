//! The text face: parses the command line, builds the shared [`Context`],
//! runs one subcommand and returns its exit code. It decides nothing the
//! core decides. Each subcommand lives in a module of its own with its
//! tests beside it (`save`, `list`, `switch`, `remove`); `console` holds the
//! I/O they share; `args` the clap definitions.

mod agent;
pub mod args;
mod console;
mod list;
pub mod log;
mod remove;
mod save;
mod switch;
#[cfg(test)]
mod testing;
pub mod words;

use std::io::Write;

use self::args::{AuthAction, Command};
use self::console::Console;
pub use self::console::{Io, SECRET_PROMPT};
use crate::api::Context;
use crate::config::env::Environment;
use crate::config::profile::Secret;
use crate::http::Transport;
use crate::sanitize::{Redactor, escape_controls};

/// Runs one command line (argv[0] included) and returns the exit code.
pub fn run(args: &[String], env: &Environment, io: &mut Io<'_>, transport: &dyn Transport) -> i32 {
    let cli = match args::parse(args) {
        Ok(cli) => cli,
        Err(err) => {
            // --help and --version are "errors" that print to stdout and exit 0.
            let text = err.render().to_string();
            let (stream, text): (&mut dyn Write, _) = if err.use_stderr() {
                (io.stderr, safe_usage_error(&text, args))
            } else {
                (io.stdout, text)
            };
            let _ = stream.write_all(text.as_bytes());
            return err.exit_code();
        }
    };
    let auth = match cli.command {
        Command::Auth(auth) => auth,
        Command::Mcp { .. } => {
            let context = Context::new(env, cli.config.as_deref(), transport);
            return crate::mcp::serve(io.stdin, io.stdout, io.stderr, env, context);
        }
        Command::Agent { .. } => {
            // A page of text: it needs no config and reads no file.
            let _ = io.stdout.write_all(agent::GUIDE.as_bytes());
            return console::EXIT_OK;
        }
    };
    let context = Context::new(env, cli.config.as_deref(), transport);
    let mut console = Console::new(io, cli.log_level, cli.format);
    let context = match context {
        Ok(context) => context,
        Err(err) => return console.fail(&words::message(&err, words::At::Elsewhere)),
    };
    let code = match auth.action {
        None => save::run(&mut console, &context, env, auth.save),
        Some(AuthAction::List(list)) => list::run(&mut console, &context, &list),
        Some(AuthAction::Switch(switch)) => switch::run(&mut console, &context, &switch),
        Some(AuthAction::Remove(remove)) => remove::run(&mut console, &context, &remove),
    };
    console.flush();
    code
}

/// A usage error as clap words it quotes the arguments: a pasted token
/// (`contree auth eyJ...`) or escape sequences would reach the terminal.
/// Arguments that look like tokens are redacted, and every line has its
/// control characters escaped (issue 15 item 7).
fn safe_usage_error(text: &str, args: &[String]) -> String {
    let mut suspects = Vec::new();
    let mut after_token_flag = false;
    for arg in args.iter().skip(1) {
        if after_token_flag || looks_like_token(arg) {
            suspects.push(Secret::new(arg.as_str()));
        } else if let Some(value) = arg.strip_prefix("--token=") {
            suspects.push(Secret::new(value));
        }
        after_token_flag = arg == "--token";
    }
    let redactor = Redactor::new(&suspects.iter().collect::<Vec<_>>());
    let redacted = redactor.redact(text);
    let mut out = String::with_capacity(redacted.len());
    for line in redacted.split_inclusive('\n') {
        let (body, end) = line.strip_suffix('\n').map_or((line, ""), |b| (b, "\n"));
        out.push_str(&escape_controls(body));
        out.push_str(end);
    }
    out
}

/// An argument no command takes as is: long, one word, not a flag, a path
/// or a URL, letters and digits mixed (API keys, JWTs).
fn looks_like_token(arg: &str) -> bool {
    let token_char = |c: char| c.is_ascii_alphanumeric() || "._~+=-".contains(c);
    arg.chars().count() >= 20
        && !arg.starts_with('-')
        && arg.chars().all(token_char)
        && arg.chars().any(|c| c.is_ascii_digit())
        && arg.chars().any(|c| c.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::safe_usage_error;
    use crate::cli::testing::{Cli, fake_api};
    use crate::test_support::{assert_has, assert_starts};

    /// Issue 15 item 7: a token pasted where a subcommand goes, or passed
    /// to a flag that does not take it, never reaches the terminal; nor do
    /// escape sequences in arguments.
    #[test]
    fn usage_errors_redact_pasted_tokens_and_escape_controls() {
        let api = fake_api();
        let token = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2VuLTEyMzQ1";
        for argv in [
            vec!["auth", token],
            vec!["auth", "switch", "a", token],
            vec!["auth", "--token", token, "ls"],
            vec!["auth", &format!("--token={token}"), "switch", "a"],
        ] {
            let out = Cli::new().run(&api, &argv);
            assert_eq!(out.code, 2, "{argv:?}: {}", out.stderr);
            for piece in token.as_bytes().chunks(12) {
                let piece = std::str::from_utf8(piece).unwrap();
                if piece.len() == 12 {
                    assert!(!out.stderr.contains(piece), "{argv:?}: {}", out.stderr);
                }
            }
            assert_starts(&out.stderr, "error: ");
        }
        let out = Cli::new().run(&api, &["auth", "\u{1b}]52;c;QQ==\u{7}\u{202e}x"]);
        assert_eq!(out.code, 2);
        assert!(!out.stderr.contains('\u{1b}') && !out.stderr.contains('\u{202e}'));
        assert_has(&out.stderr, "\\x1b]52;c;QQ==\\x07\\u202ex");
        // Paths, URLs and names stay readable.
        let text = safe_usage_error(
            "error: 'http://127.0.0.1:9/x' and 'my-profile'\n",
            &["contree", "http://127.0.0.1:9/x", "my-profile"].map(String::from),
        );
        assert_eq!(text, "error: 'http://127.0.0.1:9/x' and 'my-profile'\n");
    }
}
