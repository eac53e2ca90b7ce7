//! The command line, as the reference `contree` parses it for `auth`.

use clap::builder::PossibleValue;
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use super::log::Level;
use crate::config::profile::AuthType;
use crate::output::Format;

const TOP_ABOUT: &str =
    "ConTree CLI: `contree auth`, the credential and profile manager, as a WASI component.";

const TOP_AFTER: &str = "\
environment variables:
  CONTREE_HOME             Config directory (default: $XDG_CONFIG_HOME/contree or ~/.config/contree)
  CONTREE_PROFILE          Active config profile (selects which profile to use)

registration-time fallbacks (only read by `contree auth`, not at runtime):
  CONTREE_TOKEN / NEBIUS_API_KEY        Token used when --token is omitted
  CONTREE_URL                           URL used when --url is omitted
  CONTREE_PROJECT / NEBIUS_AI_PROJECT   Project ID used when --project is omitted";

const AUTH_ABOUT: &str = "\
Configure authentication credentials.

Validates a token against the API (GET /v1/whoami) and saves it to the
config file under the specified profile. Without --token, the token comes
from --token-stdin, CONTREE_TOKEN or NEBIUS_API_KEY, else from a prompt that
does not echo it: the `contree` launcher hides what is typed. A host that
cannot (the stock `wasmtime run` on a terminal) gets no prompt, but an error
naming those safe ways instead.

Supports two auth types:
  iam (default) — bearer token + project ID, default URL provided
  jwt (legacy)  — bearer token only, URL must be specified

Environment variable fallbacks during registration:
  CONTREE_TOKEN / NEBIUS_API_KEY     used when --token is omitted
  CONTREE_URL                        used when --url is omitted
  CONTREE_PROJECT / NEBIUS_AI_PROJECT used when --project is omitted (IAM)

Other commands ignore these variables; only ``contree auth`` reads
them. ``CONTREE_PROFILE`` selects the profile for any command.

Subcommands:
  profiles     List saved profiles (the ACTIVE column marks the active one)
  switch NAME  Switch the active profile
  remove NAME  Remove a saved profile";

const AUTH_AFTER: &str = "\
for coding agents:
  `auth` verifies token with /v1/whoami before writing config
  mutates local config file and may prompt for token if omitted
  use `auth profiles` for read-only profile discovery

agent note:
  Before using this command in an automated workflow, read:
    contree agent";

const LIST_AFTER: &str = "\
for coding agents: read-only command

status values:
  ok        probe succeeded and the token has the list permission
  inactive  probe succeeded but the token lacks the list permission
            (sandboxes are disabled on this project)
  timeout   probe did not complete within 2 seconds
  error     probe failed for another reason (bad token, network/API error,
            no token saved, bad URL)
  offline   --offline was passed, so no probe was attempted

For automation and agents, prefer:
  contree -f json auth ls
  contree -f json auth ls --offline

For CI, fail fast unless the credentials work:
  contree auth ls --check            every profile must be ok
  contree auth ls --check NAME...    only these profiles";

const MUTATES: &str = "for coding agents: mutates local config state";

#[derive(Debug, Parser)]
#[command(
    name = "contree",
    about = TOP_ABOUT,
    after_help = TOP_AFTER,
    disable_version_flag = true,
    disable_help_flag = true,
    disable_help_subcommand = true,
    subcommand_required = true,
    arg_required_else_help = true,
)]
pub struct Cli {
    /// Output format
    #[arg(
        short = 'f',
        long,
        visible_short_alias = 'o',
        visible_alias = "output",
        default_value = "default",
        global = true,
        help_heading = GLOBAL
    )]
    pub format: Format,

    /// Config file path (default: $CONTREE_HOME/auth.ini)
    #[arg(
        short = 'c',
        long = "config",
        value_name = "CONFIG",
        global = true,
        help_heading = GLOBAL
    )]
    pub config: Option<String>,

    /// Logging level (log lines go to stderr)
    #[arg(
        short = 'L',
        long,
        value_name = "LEVEL",
        default_value = "info",
        global = true,
        help_heading = GLOBAL
    )]
    pub log_level: Level,

    /// Show program's version number and exit
    #[arg(short = 'v', long = "version", action = ArgAction::Version)]
    version: Option<bool>,

    /// Show this help message and exit
    #[arg(short = 'h', long = "help", action = ArgAction::HelpLong)]
    help: Option<bool>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Configure authentication
    #[command(long_about = AUTH_ABOUT, after_help = AUTH_AFTER, disable_help_flag = true)]
    Auth(AuthArgs),

    /// A guide for coding agents: what reads, what mutates, JSON, exit codes, MCP
    #[command(disable_help_flag = true)]
    Agent {
        /// Show this help message and exit
        #[arg(short = 'h', long = "help", action = ArgAction::HelpLong)]
        help: Option<bool>,

        #[command(flatten)]
        idle: IdleFormat,

        #[command(flatten)]
        idle_level: IdleLevel,

        /// Not offered: the guide reads no config.
        #[arg(id = "config", short = 'c', long = "config", hide = true, value_parser = idle::<String>)]
        idle_config: Option<String>,
    },

    /// Serve the profile operations to AI agents over MCP (stdio)
    #[command(long_about = crate::mcp::ABOUT, disable_help_flag = true)]
    Mcp {
        /// Show this help message and exit
        #[arg(short = 'h', long = "help", action = ArgAction::HelpLong)]
        help: Option<bool>,

        #[command(flatten)]
        idle: IdleFormat,

        #[command(flatten)]
        idle_level: IdleLevel,
    },
}

/// The heading of the options every `auth` command takes.
const GLOBAL: &str = "Global options";

/// A global option that does nothing for a command: an argument of the same
/// id in the subcommand keeps clap from offering the global one there
/// (help, completions, man page), and a value given anyway is refused.
fn idle<T>(_: &str) -> Result<T, String> {
    Err("this option does nothing with this command: leave it out".into())
}

/// `-f/--format` where nothing is printed in a format (`mcp`, `agent`).
#[derive(Debug, Args)]
pub struct IdleFormat {
    #[arg(
        id = "format",
        short = 'f',
        long = "format",
        short_alias = 'o',
        alias = "output",
        hide = true,
        value_parser = idle::<Format>
    )]
    format: Option<Format>,
}

/// `-L/--log-level` where no level is chosen (`mcp` logs at info, `agent` not at all).
#[derive(Debug, Args)]
pub struct IdleLevel {
    #[arg(
        id = "log_level",
        short = 'L',
        long = "log-level",
        hide = true,
        value_parser = idle::<Level>
    )]
    log_level: Option<Level>,
}

/// `contree auth [save options] [list|switch|remove ...]`: without a
/// subcommand, `auth` saves a profile.
#[derive(Debug, Args)]
pub struct AuthArgs {
    #[command(flatten)]
    pub save: SaveArgs,

    /// Show this help message and exit
    #[arg(short = 'h', long = "help", action = ArgAction::HelpLong)]
    help: Option<bool>,

    #[command(subcommand)]
    pub action: Option<AuthAction>,
}

/// The options of `contree auth` itself (saving a profile).
#[derive(Debug, Args, Default)]
pub struct SaveArgs {
    /// API token (visible in `ps`: prefer --token-stdin or CONTREE_TOKEN; prompted without echo if omitted, where the host can hide it)
    #[arg(long = "token", value_name = "AUTH_TOKEN")]
    pub token: Option<String>,

    /// Read the token from standard input (keeps it out of `ps` and shell history)
    #[arg(long = "token-stdin", conflicts_with = "token")]
    pub token_stdin: bool,

    /// API base URL
    #[arg(short = 'u', long = "url", value_name = "AUTH_URL")]
    pub url: Option<String>,

    /// Auth type
    #[arg(long = "type", value_name = "TYPE", default_value = "iam")]
    pub auth_type: AuthType,

    /// Project ID (IAM only)
    #[arg(short = 'P', long = "project", value_name = "AUTH_PROJECT")]
    pub project: Option<String>,

    /// Profile name (default: default)
    #[arg(short = 'p', long = "profile", value_name = "PROFILE")]
    pub profile: Option<String>,

    /// Overwrite existing profile without confirmation
    #[arg(short = 'y', long = "force")]
    pub force: bool,

    /// Allow http:// to a host other than loopback (the token travels in clear text)
    #[arg(long = "allow-insecure-http")]
    pub allow_insecure_http: bool,
}

#[derive(Debug, Subcommand)]
pub enum AuthAction {
    /// List saved profiles
    #[command(
        visible_aliases = ["ls", "profiles"],
        long_about = "List configured local profiles and active marker.",
        after_help = LIST_AFTER,
        disable_help_flag = true,
    )]
    List(ListArgs),

    /// Switch active profile
    #[command(
        long_about = "Set [DEFAULT] profile in local config file.",
        after_help = MUTATES,
        disable_help_flag = true,
    )]
    Switch(SwitchArgs),

    /// Remove a saved profile
    #[command(
        visible_aliases = ["rm", "del"],
        long_about = "Delete a profile section from config.",
        after_help = MUTATES,
        disable_help_flag = true,
    )]
    Remove(RemoveArgs),
}

#[derive(Debug, Args, Default)]
pub struct ListArgs {
    /// Do not probe /v1/whoami; mark all profile statuses as offline
    #[arg(short = 'O', long = "offline")]
    pub offline: bool,

    /// Exit 1, saying why, unless every listed profile is `ok` (for CI)
    #[arg(long = "check", conflicts_with = "offline")]
    pub check: bool,

    /// List (and check) only these profiles
    #[arg(value_name = "PROFILE")]
    pub names: Vec<String>,

    /// Show this help message and exit
    #[arg(short = 'h', long = "help", action = ArgAction::HelpLong)]
    help: Option<bool>,
}

#[derive(Debug, Args)]
pub struct SwitchArgs {
    /// Profile to activate
    pub profile_name: String,

    /// Show this help message and exit
    #[arg(short = 'h', long = "help", action = ArgAction::HelpLong)]
    help: Option<bool>,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// Profile to remove
    pub profile_name: String,

    /// Do not ask for confirmation
    #[arg(short = 'y', long = "force")]
    pub force: bool,

    /// Show this help message and exit
    #[arg(short = 'h', long = "help", action = ArgAction::HelpLong)]
    help: Option<bool>,
}

/// The names clap accepts are the enums' own names, listed once in the core.
macro_rules! value_enum {
    ($type:ty, $all:expr, $name:expr) => {
        impl ValueEnum for $type {
            fn value_variants<'a>() -> &'a [Self] {
                &$all
            }
            fn to_possible_value(&self) -> Option<PossibleValue> {
                Some(PossibleValue::new($name(*self)))
            }
        }
    };
}
value_enum!(Format, Format::ALL, Format::name);
value_enum!(Level, Level::ALL, Level::name);
value_enum!(AuthType, AuthType::ALL, AuthType::as_str);

pub fn version() -> &'static str {
    concat!(env!("CARGO_PKG_VERSION"), " (contree-auth, wasm32-wasip2)")
}

/// Parses argv (argv[0] included), or returns clap's error (help and
/// version are "errors" that print to stdout and exit 0).
pub fn parse(args: &[String]) -> Result<Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    let mut command = Cli::command().version(version());
    // argv[0] is whatever the host says (`contree_auth.wasm` under wasmtime);
    // usage lines name the command people know.
    let argv = std::iter::once("contree").chain(args.iter().skip(1).map(String::as_str));
    let matches = command
        .try_get_matches_from_mut(argv)
        .map_err(format_hint)?;
    refuse_idle_save_options(&mut command, &matches)?;
    Cli::from_arg_matches(&matches)
}

/// Python's contree-cli spells force `-f`; here (as in the seed) `-f` is the
/// output format. A `-f` that got no format, or something else, says both.
pub const FORMAT_HINT: &str = "-f is the output format; -y/--force skips the confirmation";

fn format_hint(mut err: clap::Error) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let about_format = matches!(
        err.get(ContextKind::InvalidArg),
        Some(ContextValue::String(arg)) if arg.starts_with("--format ")
    );
    if err.kind() == ErrorKind::InvalidValue && about_format {
        err.insert(
            ContextKind::Suggested,
            ContextValue::StyledStrs(vec![FORMAT_HINT.into()]),
        );
    }
    err
}

/// Issue 20 item 5: an option of saving (`-p`, `--token`, ...) given with a
/// subcommand would do nothing; silently ignoring it hides a mistake
/// (`auth -p work ls` lists every profile). A usage error instead.
fn refuse_idle_save_options(
    command: &mut clap::Command,
    matches: &clap::ArgMatches,
) -> Result<(), clap::Error> {
    let Some(("auth", auth)) = matches.subcommand() else {
        return Ok(());
    };
    let Some((action, _)) = auth.subcommand() else {
        return Ok(());
    };
    let Some(auth_command) = command.find_subcommand_mut("auth") else {
        return Ok(());
    };
    let idle = auth_command.get_arguments().find(|arg| {
        let id = arg.get_id().as_str();
        arg.get_long() != Some("help")
            && !arg.is_global_set()
            && auth.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
    });
    let Some(arg) = idle else {
        return Ok(());
    };
    let name = match (arg.get_short(), arg.get_long()) {
        (Some(short), Some(long)) => format!("-{short}/--{long}"),
        (None, Some(long)) => format!("--{long}"),
        (Some(short), None) => format!("-{short}"),
        (None, None) => arg.get_id().to_string(),
    };
    let message = format!(
        "{name} is an option of `contree auth` (saving a profile); it does nothing with `auth {action}`: leave it out, or see `contree auth {action} --help`"
    );
    Err(auth_command.error(clap::error::ErrorKind::ArgumentConflict, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(line: &str) -> Result<Cli, clap::Error> {
        let args: Vec<String> = std::iter::once("contree")
            .chain(line.split_whitespace())
            .map(String::from)
            .collect();
        parse(&args)
    }

    #[test]
    fn aliases_and_globals() {
        let cli = parse_words("-o json -c /x/auth.ini auth ls -O").unwrap();
        assert_eq!(cli.format, Format::Json);
        assert_eq!(cli.config.as_deref(), Some("/x/auth.ini"));
        let Command::Auth(auth) = cli.command else {
            panic!("auth")
        };
        assert!(matches!(
            auth.action,
            Some(AuthAction::List(ListArgs { offline: true, .. }))
        ));
        for alias in ["rm", "del", "remove"] {
            let cli = parse_words(&format!("--output csv auth {alias} x -y")).unwrap();
            let Command::Auth(auth) = cli.command else {
                panic!("auth")
            };
            assert!(matches!(
                auth.action,
                Some(AuthAction::Remove(RemoveArgs { force: true, .. }))
            ));
        }
    }

    #[test]
    fn usage_errors_exit_2() {
        for line in [
            "-f xml auth ls",
            "auth --type x",
            "auth switch",
            "nope",
            "auth --token a --token-stdin",
            "auth ls --check --offline",
        ] {
            let err = parse_words(line).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{line}");
        }
        assert_eq!(parse_words("auth --help").unwrap_err().exit_code(), 0);
    }

    /// Issue 20 item 5: global options anywhere; an option that would do
    /// nothing is a usage error naming it.
    #[test]
    fn global_options_anywhere_and_idle_options_refused() {
        let cli = parse_words("auth ls -f json -L debug -c /x/auth.ini").unwrap();
        assert_eq!(cli.format, Format::Json);
        assert_eq!(cli.log_level, Level::Debug);
        assert_eq!(cli.config.as_deref(), Some("/x/auth.ini"));
        let cli = parse_words("auth rm x -o csv -y").unwrap();
        assert_eq!(cli.format, Format::Csv);
        let cli = parse_words("auth -f tsv -p work --token t").unwrap();
        assert_eq!(cli.format, Format::Tsv);
        for (line, names) in [
            ("auth -p e ls", "-p/--profile"),
            ("auth --token foo ls", "--token"),
            ("auth -y rm x", "-y/--force"),
            ("auth --type jwt switch a", "--type"),
            ("auth -u http://h ls -O", "-u/--url"),
        ] {
            let err = parse_words(line).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{line}");
            let text = err.render().to_string();
            assert!(text.contains(names), "{line}: {text}");
            assert!(text.contains("does nothing with `auth "), "{line}: {text}");
        }
        assert_eq!(parse_words("-v").unwrap_err().exit_code(), 0);
    }

    fn help_of(line: &str) -> String {
        let err = parse_words(line).unwrap_err();
        assert_eq!(err.exit_code(), 0, "{line}");
        err.render().to_string()
    }

    /// Issue 25 item 5: global options under their own heading; options
    /// that do nothing for `mcp` and `agent` not offered there, and refused.
    #[test]
    fn help_offers_only_what_each_command_takes() {
        let list = help_of("auth ls --help");
        let (own, global) = list.split_once("Global options:").expect(&list);
        assert!(
            own.contains("--offline") && !own.contains("--format"),
            "{list}"
        );
        for option in ["--format", "--config", "--log-level"] {
            assert!(global.contains(option), "{option}: {list}");
        }
        let mcp = help_of("mcp --help");
        assert!(
            !mcp.contains("--format") && !mcp.contains("--log-level"),
            "{mcp}"
        );
        assert!(mcp.contains("--config"), "-c picks the config: {mcp}");
        let agent = help_of("agent --help");
        for option in ["--format", "--config", "--log-level"] {
            assert!(!agent.contains(option), "{option}: {agent}");
        }
        for line in ["mcp -f json", "mcp -L debug", "agent -c x", "agent -o csv"] {
            let err = parse_words(line).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{line}");
            assert!(err.render().to_string().contains("does nothing"), "{line}");
        }
        // What was accepted before still is.
        assert!(parse_words("mcp -c /x/auth.ini").is_ok());
        assert!(parse_words("-f json auth ls").is_ok());
    }

    /// Issue 25 item 5: `auth --help` promises what the table shows (an
    /// ACTIVE column, no `*`) and names every subcommand.
    #[test]
    fn auth_help_promises_what_the_table_shows() {
        let help = help_of("auth --help");
        let block = help.split_once("Subcommands:").expect(&help).1;
        assert!(!block.contains("* marks"), "{help}");
        for line in ["profiles ", "switch NAME", "remove NAME"] {
            assert!(block.contains(line), "{line}: {help}");
        }
        assert!(block.contains("ACTIVE column"), "{help}");
    }

    /// Issue 25 item 5: Python's contree-cli spells force `-f`; a `-f`
    /// with no format, or not a format, says what `-f` and `-y` are.
    #[test]
    fn a_misplaced_f_says_it_is_the_format_and_y_forces() {
        for line in ["auth rm lim -f", "auth rm lim -f yes", "auth -p x -f"] {
            let err = parse_words(line).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{line}");
            let text = err.render().to_string();
            assert!(text.contains(FORMAT_HINT), "{line}: {text}");
        }
        let other = parse_words("auth --type x")
            .unwrap_err()
            .render()
            .to_string();
        assert!(!other.contains(FORMAT_HINT), "{other}");
    }
}
