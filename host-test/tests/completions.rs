//! `contree completions SHELL` and `contree man`, run as the built launcher.
//! The bash script is loaded into a real bash and asked to complete; the zsh
//! and fish scripts are read for the lines that offer `auth`'s subcommands.

use std::process::{Command, Output};

/// `auth`'s subcommands and their visible aliases, as the component accepts
/// them (src/cli/args.rs).
const AUTH_WORDS: [&str; 7] = ["list", "ls", "profiles", "switch", "remove", "rm", "del"];

fn contree(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_contree"))
        .args(args)
        // The launcher answers these without the component: no home needed.
        .env_remove("CONTREE_HOME")
        .output()
        .expect("running the launcher")
}

fn script(shell: &str) -> String {
    let out = contree(&["completions", shell]);
    assert!(
        out.status.success(),
        "completions {shell}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 script")
}

/// What bash's completion offers for the words typed so far (`line` ends
/// where the cursor is), through the script's own completion function.
fn bash_complete(script_path: &std::path::Path, line: &str) -> Vec<String> {
    let program = r#"source "$1" || exit 3
read -ra COMP_WORDS <<< "$2"
[[ "$2" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE="$2"
COMP_POINT=${#COMP_LINE}
fn=$(complete -p contree | sed -E 's/.*-F ([^ ]+).*/\1/')
"$fn" contree "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}""#;
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", program, "bash"])
        .arg(script_path)
        .arg(line)
        .output()
        .expect("running bash");
    assert!(
        out.status.success(),
        "bash failed on {line:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(String::from)
        .collect()
}

#[test]
fn bash_completes_auth_subcommands_and_aliases() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("contree.bash");
    std::fs::write(&path, script("bash")).unwrap();

    let offered = bash_complete(&path, "contree auth ");
    for word in AUTH_WORDS {
        assert!(
            offered.iter().any(|o| o == word),
            "{word} not in {offered:?}"
        );
    }
    let top = bash_complete(&path, "contree ");
    for word in ["auth", "mcp", "completions", "man"] {
        assert!(top.iter().any(|o| o == word), "{word} not in {top:?}");
    }
    // The shells themselves complete after `completions`.
    let shells = bash_complete(&path, "contree completions ");
    for shell in ["bash", "zsh", "fish"] {
        assert!(
            shells.iter().any(|o| o == shell),
            "{shell} not in {shells:?}"
        );
    }
}

#[test]
fn zsh_offers_auth_subcommands_and_aliases() {
    let zsh = script("zsh");
    assert!(zsh.starts_with("#compdef contree"), "{zsh}");
    // `_contree__subcmd__auth_commands` lists what may follow `contree auth`, one
    // `'NAME:description'` per subcommand and per alias.
    let start = zsh
        .find("(( $+functions[_contree__subcmd__auth_commands] ))")
        .expect("a function listing auth's subcommands");
    let body = &zsh[start..];
    let body = &body[..body.find("\n}").expect("end of the function")];
    for word in AUTH_WORDS {
        assert!(
            body.contains(&format!("'{word}:")),
            "{word} not offered in\n{body}"
        );
    }
}

#[test]
fn fish_offers_auth_subcommands_and_aliases() {
    let fish = script("fish");
    // Lines that complete the word after `contree auth`.
    let auth_lines: Vec<&str> = fish
        .lines()
        .filter(|l| {
            l.contains("__fish_contree_using_subcommand auth; and not __fish_seen_subcommand_from")
        })
        .collect();
    assert!(
        !auth_lines.is_empty(),
        "no completion after `auth` in\n{fish}"
    );
    for word in AUTH_WORDS {
        assert!(
            auth_lines
                .iter()
                .any(|l| l.contains(&format!("-a \"{word}\""))),
            "{word} not offered after `auth` in\n{}",
            auth_lines.join("\n")
        );
    }
}

#[test]
fn man_page_and_usage_errors() {
    let out = contree(&["man"]);
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.contains(".TH contree 1"), "{page}");
    assert!(page.contains("auth"), "{page}");

    for args in [
        &["completions"][..],
        &["completions", "tcsh"],
        &["man", "extra"],
    ] {
        let out = contree(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: one line, got {err:?}");
        assert!(err.starts_with("contree: usage: contree "), "{err}");
    }
}
