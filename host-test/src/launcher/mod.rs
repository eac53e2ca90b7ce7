//! The `contree` launcher: the code that ships in `target/release/contree`.
//! It runs the component with least privilege: it sees only its config home
//! (plus the directory of an explicit `-c` file that holds nothing else), a
//! short list of environment variables, the network through `wasi:http`, and
//! the terminal, whose echo it hides while the token is typed.
//!
//! - [`plan`]: what the component will see, decided before it runs;
//! - [`terminal`]: echo off after a secret prompt, back on in every way out;
//! - [`completions`]: `contree completions SHELL` and `contree man`.

pub mod completions;
pub mod plan;
#[cfg(unix)]
pub mod terminal;

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use contree_auth::workspace::{HIDDEN_INPUT_VAR, escape_controls};

use crate::outgoing::Network;
use crate::runner::{Outcome, RunSpec, Runner, Stdin};

pub use plan::{PASSED_ENV, PRIVATE_FILES_ENV, Plan, plan};

/// Creates the config home, private to the user, if it is missing.
pub fn ensure_home(home: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(home)
        .with_context(|| format!("cannot create the config directory {}", home.display()))
}

/// Files created by the component (through the host) are private; the
/// component is told so by [`PRIVATE_FILES_ENV`].
pub fn restrict_umask() {
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

/// The whole launcher: returns the exit code, or an error of the launcher
/// itself (to be reported as one `contree: ...` line).
pub fn launch(component: &[u8]) -> anyhow::Result<i32> {
    restrict_umask();
    let args = std::env::args_os()
        .skip(1)
        .map(|a| {
            a.into_string()
                .map_err(|a| anyhow::anyhow!("argument {a:?} is not valid UTF-8"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if let Some(code) = completions::dispatch(&args, &mut std::io::stdout().lock()) {
        return code;
    }
    let cwd = std::env::current_dir().ok();
    let plan = plan(args, |name| std::env::var(name).ok(), cwd.as_deref())?;
    ensure_home(&plan.home)?;
    let runner = Runner::new(component, plan.cache_dir.as_deref())?;
    #[cfg(unix)]
    let echo = terminal::EchoControl::for_stdin();
    let mut env = plan.env;
    // The component asks for the token on a terminal only when told that
    // the host hides it: the launcher can, where stdin is a terminal.
    #[cfg(unix)]
    if echo.is_some() {
        env.push((HIDDEN_INPUT_VAR.to_string(), "1".to_string()));
    }
    let spec = RunSpec {
        args: plan.args,
        env,
        preopens: plan.preopens,
        stdin: Stdin::Inherit,
        capture: false,
        // The CAs and proxies of the launcher's own environment.
        network: Arc::new(Network::from_vars(|name| std::env::var(name).ok())),
    };
    #[cfg(unix)]
    let outcome = match echo {
        Some(control) => runner.run_with(spec, |builder| control.watch(builder))?,
        None => runner.run(spec)?,
    };
    #[cfg(not(unix))]
    let outcome = runner.run(spec)?;
    report_trap(&outcome);
    Ok(outcome.code)
}

fn report_trap(outcome: &Outcome) {
    if let Some(trap) = &outcome.trap {
        let trap = escape_controls(trap);
        eprintln!("contree: internal error: the component crashed: {trap}");
    }
}

/// The one line for an error of the launcher itself. Its paths and names
/// come from the user's arguments and directories: control characters are
/// escaped, as in the component's messages (issue 15 item 7).
pub fn error_line(err: &anyhow::Error) -> String {
    format!("contree: {}", escape_controls(&format!("{err:#}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launcher_errors_are_one_line_with_controls_escaped() {
        let err = anyhow::anyhow!("-c /x/\u{1b}]52;c;QQ==\u{7}: bad\nforged");
        assert_eq!(
            error_line(&err),
            "contree: -c /x/\\x1b]52;c;QQ==\\x07: bad\\x0aforged"
        );
    }

    #[cfg(unix)]
    #[test]
    fn ensure_home_creates_a_private_directory() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("a/b/contree");
        ensure_home(&home).unwrap();
        let mode = std::fs::metadata(&home).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        ensure_home(&home).unwrap();
    }
}
