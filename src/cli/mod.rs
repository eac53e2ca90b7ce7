//! The text face: parses the command line, builds the shared [`Context`],
//! runs one subcommand and returns its exit code. It decides nothing the
//! core decides. Each subcommand lives in a module of its own with its
//! tests beside it (`save`, `list`, `switch`, `remove`); `console` holds the
//! I/O they share; `args` the clap definitions.

pub mod args;
mod console;
mod list;
pub mod log;
mod remove;
mod save;
mod switch;
#[cfg(test)]
mod testing;

use std::io::Write;

use self::args::{AuthAction, Command};
use self::console::Console;
pub use self::console::{Io, SECRET_PROMPT};
use self::log::Level;
use crate::api::Context;
use crate::config::env::Environment;
use crate::http::Transport;

/// Runs one command line (argv[0] included) and returns the exit code.
pub fn run(args: &[String], env: &Environment, io: &mut Io<'_>, transport: &dyn Transport) -> i32 {
    let cli = match args::parse(args) {
        Ok(cli) => cli,
        Err(err) => {
            // --help and --version are "errors" that print to stdout and exit 0.
            let stream: &mut dyn Write = if err.use_stderr() {
                io.stderr
            } else {
                io.stdout
            };
            let _ = stream.write_all(err.render().to_string().as_bytes());
            return err.exit_code();
        }
    };
    let context = Context::new(env, cli.config.as_deref(), transport);
    let auth = match cli.command {
        Command::Auth(auth) => auth,
        Command::Mcp { .. } => {
            return crate::mcp::serve(io.stdin, io.stdout, io.stderr, env, context);
        }
    };
    let mut console = Console::new(io, cli.log_level, cli.format);
    let context = match context {
        Ok(context) => context,
        Err(err) => return console.fail(&err.to_string()),
    };
    let code = match auth.action {
        None => save::run(&mut console, &context, env, auth.save),
        Some(AuthAction::List(list)) => list::run(&mut console, &context, &list),
        Some(AuthAction::Switch(switch)) => switch::run(&mut console, &context, &switch),
        Some(AuthAction::Remove(remove)) => remove::run(&mut console, &context, &remove),
    };
    for warning in context.take_warnings() {
        console.log(Level::Warning, &warning);
    }
    console.flush();
    code
}
