//! `contree agent`: the page the help's "agent note" points to. A short
//! guide for coding agents: what reads and what mutates, the JSON rows, the
//! exit codes, `ls --check`, and `contree mcp`. Every example command in it
//! is parsed by the tests, so the page cannot drift from the flags.

pub const GUIDE: &str = r#"contree agent: using `contree auth` from a coding agent

Read-only (safe to run at any time):
  contree -f json auth ls                 every profile, probed with GET /v1/whoami (2 s at most)
  contree -f json auth ls --offline       the same from the file only, no network
  contree auth ls --check                 exit 1 unless every profile is ok (CI, scripts)
  contree auth ls --check work            only the named profiles are probed and checked
  contree auth --help                     the flags and the variables

Mutating (they rewrite auth.ini: run them only when the user asked):
  contree auth -p work -y                 save a profile: the token is verified with whoami first
  contree auth switch work                make `work` the active profile
  contree auth rm work -y                 delete the profile and its session databases

The token never goes on a command line or into the conversation. Saving
without questions: CONTREE_TOKEN (or NEBIUS_API_KEY) and CONTREE_PROJECT in
the environment, then `contree auth -p work -y`; or pipe the token:
  contree auth -p work -y --token-stdin
Without them `contree auth` asks questions; with no input it stops at once,
naming the flag or variable that answers.

JSON (-f json: one object per line; -f json-pretty: one array):
  name          the profile's name
  type          iam | jwt
  url           the API base URL
  project       the project ID ("" for none)
  token_sha256  the first 16 hex digits of the token's SHA-256 (never the token)
  active        true for the active profile (CONTREE_PROFILE, else the file's pointer)
  status        ok | inactive (no 'list' permission) | timeout | error | offline
  detail        why, when the status is not ok
No profiles: nothing on stdout ([] with json-pretty), a note on stderr.

Exit codes: 0 success; 1 failure, with one `[ERROR] ...` line on stderr
saying what to do next; 2 usage error. Data goes to stdout, log lines
(`[LEVEL] message`) and prompts to stderr; `-L error` keeps stderr to errors.
Global options (-f, -c, -L) go anywhere on the line.

MCP: `contree mcp` serves the same operations as tools over stdio
(list_profiles, whoami, switch_profile, remove_profile, save_profile). No
tool takes or returns a token: save_profile reads CONTREE_TOKEN (else
NEBIUS_API_KEY) from the server's environment. Configure a client with:
  {"mcpServers": {"contree": {"command": "contree", "args": ["mcp"]}}}
or, with the stock wasmtime CLI:
  {"command": "wasmtime", "args": ["run", "-S", "http", "--dir", "DIR",
   "--env", "CONTREE_HOME=DIR", "contree_auth.wasm", "mcp"]}
See `contree mcp --help`.
"#;

#[cfg(test)]
mod tests {
    use super::GUIDE;
    use crate::cli::testing::{Cli, fake_api};

    /// Issue 20 item 6: the page the help points to exists, on stdout.
    #[test]
    fn contree_agent_prints_the_guide() {
        let api = fake_api();
        let out = Cli::new().run(&api, &["agent"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(out.stdout, GUIDE);
        assert_eq!(out.stderr, "");
        for topic in [
            "Read-only",
            "Mutating",
            "JSON",
            "Exit codes",
            "--check",
            "contree mcp",
            "mcpServers",
        ] {
            assert!(GUIDE.contains(topic), "{topic}");
        }
        assert!(api.requests().is_empty());
    }

    /// Every `contree ...` example in the guide parses with today's flags.
    #[test]
    fn every_example_in_the_guide_parses() {
        let examples: Vec<&str> = GUIDE
            .lines()
            .filter_map(|line| line.strip_prefix("  contree "))
            .map(|rest| rest.split("  ").next().unwrap_or(rest))
            .collect();
        assert!(examples.len() >= 9, "{examples:?}");
        for example in examples {
            let argv: Vec<String> = std::iter::once("contree")
                .chain(example.split_whitespace())
                .map(String::from)
                .collect();
            match crate::cli::args::parse(&argv) {
                Ok(_) => {}
                Err(err) => assert_eq!(err.exit_code(), 0, "{example}: {err}"),
            }
        }
    }
}
