//! `contree completions SHELL` and `contree man`: shell completions and a man
//! page generated from the component's own argument definitions (the guest
//! crate's clap `Command`, compiled natively into the launcher), so they
//! offer exactly what the component accepts. The launcher answers these two
//! itself; the component never sees them.

use std::io::Write;

use clap::{Arg, Command, CommandFactory};
use clap_complete::Shell;
use contree_auth::workspace::{Cli, version};

/// The name the completions are registered for (the installed binary).
const BIN: &str = "contree";
const COMPLETIONS: &str = "completions";
const MAN: &str = "man";
const SHELLS: &str = "bash, zsh, fish, elvish or powershell";

/// The launcher's command line: the component's, plus the subcommands only
/// the launcher answers (so that they complete, and show in the man page).
pub fn command() -> Command {
    Cli::command()
        .version(version())
        .subcommand(
            without_globals(Command::new(COMPLETIONS))
                .about("Print the shell completion script to stdout")
                .arg(
                    Arg::new("shell")
                        .required(true)
                        .value_parser(clap::value_parser!(Shell))
                        .help("bash, zsh, fish, elvish or powershell"),
                ),
        )
        .subcommand(without_globals(Command::new(MAN)).about("Print the man page (roff) to stdout"))
}

/// The component's global options do nothing for these two: an argument of
/// the same id keeps clap from offering them here (help, completions, man).
fn without_globals(command: Command) -> Command {
    ["format", "config", "log_level"]
        .into_iter()
        .fold(command, |command, id| {
            command.arg(Arg::new(id).long(id).hide(true))
        })
}

/// Answers `completions SHELL` and `man` when they are the whole command
/// line (`args` without argv[0]), writing to `out`; returns the exit code.
/// `None` for every other command line: it is the component's.
/// `contree --help` too: the component's help cannot list these two, which
/// only the launcher has.
pub fn dispatch(args: &[String], out: &mut dyn Write) -> Option<anyhow::Result<i32>> {
    let (first, rest) = args.split_first()?;
    let asks_help = |words: &[String]| words.iter().any(|w| w == "-h" || w == "--help");
    match first.as_str() {
        "-h" | "--help" if rest.is_empty() => Some(help(&[], out)),
        COMPLETIONS | MAN if asks_help(rest) => Some(help(&args[..1], out)),
        COMPLETIONS => Some(completions(rest, out)),
        MAN => Some(man(rest, out)),
        _ => None,
    }
}

/// clap's long help of `contree` (`args` empty) or of its subcommand
/// `args[0]`, from the launcher's command line.
fn help(args: &[String], out: &mut dyn Write) -> anyhow::Result<i32> {
    let mut command = command();
    command.build();
    let text = match args.first() {
        Some(name) => command
            .find_subcommand_mut(name)
            .ok_or_else(|| anyhow::anyhow!("no subcommand {name}"))?
            .render_long_help(),
        None => command.render_long_help(),
    };
    out.write_all(text.to_string().as_bytes())?;
    out.flush()?;
    Ok(0)
}

fn completions(rest: &[String], out: &mut dyn Write) -> anyhow::Result<i32> {
    let shell = match rest {
        [one] => one.parse::<Shell>().ok(),
        _ => None,
    };
    let Some(shell) = shell else {
        eprintln!("contree: usage: contree {COMPLETIONS} SHELL (one of {SHELLS})");
        return Ok(2);
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command(), BIN, &mut script);
    out.write_all(&script)?;
    out.flush()?;
    Ok(0)
}

fn man(rest: &[String], out: &mut dyn Write) -> anyhow::Result<i32> {
    if !rest.is_empty() {
        eprintln!("contree: usage: contree {MAN} (it takes no arguments)");
        return Ok(2);
    }
    let mut page = Vec::new();
    clap_mangen::Man::new(command()).render(&mut page)?;
    out.write_all(&page)?;
    out.flush()?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    fn run(line: &str) -> (Option<i32>, String) {
        let mut out = Vec::new();
        let code = dispatch(&words(line), &mut out).map(|r| r.unwrap());
        (code, String::from_utf8(out).unwrap())
    }

    #[test]
    fn the_launcher_subcommands_do_not_clash_with_the_components() {
        // clap's own consistency checks (duplicate names, aliases, ...).
        command().debug_assert();
    }

    #[test]
    fn other_command_lines_are_left_to_the_component() {
        for line in [
            "",
            "auth ls",
            "-f json completions bash",
            "mcp",
            "auth completions",
        ] {
            assert_eq!(run(line).0, None, "{line:?}");
        }
    }

    #[test]
    fn bad_shells_and_extra_arguments_are_usage_errors() {
        for line in [
            "completions",
            "completions tcsh",
            "completions bash zsh",
            "man x",
        ] {
            let (code, out) = run(line);
            assert_eq!(code, Some(2), "{line:?}");
            assert!(out.is_empty(), "{line:?} printed {out:?}");
        }
    }

    /// Issue 25 item 5: `contree --help` lists the launcher's own
    /// subcommands, and their `--help` exits 0.
    #[test]
    fn help_lists_completions_and_man_and_their_help_exits_0() {
        for line in ["--help", "-h"] {
            let (code, help) = run(line);
            assert_eq!(code, Some(0), "{line}");
            for name in ["auth", "mcp", COMPLETIONS, MAN] {
                assert!(help.contains(name), "{name} missing from\n{help}");
            }
        }
        for (line, says) in [
            ("completions --help", "completion script"),
            ("completions -h", "completion script"),
            ("man --help", "man page"),
        ] {
            let (code, help) = run(line);
            assert_eq!(code, Some(0), "{line}");
            assert!(help.contains(says), "{line}: {help}");
            assert!(help.contains("Usage: contree"), "{line}: {help}");
            assert!(!help.contains("--format"), "{line}: not offered: {help}");
        }
        // Help of the component's commands stays the component's.
        assert_eq!(run("auth --help").0, None);
    }

    #[test]
    fn the_man_page_names_the_commands() {
        let (code, page) = run("man");
        assert_eq!(code, Some(0));
        assert!(page.contains(".TH contree 1"), "{page}");
        for name in ["contree", "auth", "mcp", COMPLETIONS] {
            assert!(page.contains(name), "{name} missing from\n{page}");
        }
    }
}
