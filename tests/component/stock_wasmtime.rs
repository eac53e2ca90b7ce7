//! SPEC §3 / issue: the stock `wasmtime run -S http --dir H --env CONTREE_HOME=H`
//! invocation works, where the wasmtime CLI is on PATH.

use std::process::Command;
use std::time::Duration;

use contree_host::harness::python::{run_limited, workspace};
use contree_host::{MockApi, Sandbox, component_path};

use crate::common::{assert_has, assert_lacks, check, json_rows, save, statuses, token};

#[test]
fn stock_wasmtime_cli_lists_saves_and_reports_usage_errors() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    save(&sb, &api, "a", "ok");
    let Some(out) = sb.run_stock_wasmtime(["-f", "json", "auth", "ls"]) else {
        eprintln!("wasmtime is not on PATH: skipping the stock CLI check");
        return;
    };
    let out = check(out);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(statuses(&out.stdout), [("a".to_string(), "ok".to_string())]);
    assert_eq!(json_rows(&out.stdout)[0]["active"], false);
    if let Some(out) = sb.run_stock_wasmtime(["auth", "switch", "a"]) {
        assert_eq!(check(out).code, 0);
    }
    if let Some(out) = sb.run_stock_wasmtime(["auth", "--bogus"]) {
        let out = check(out);
        assert_ne!(out.code, 0);
        assert_has(&out.stderr, "--bogus");
    }
}

/// Issue 20 item 2: a config home that no preopen holds is an error naming
/// the `--dir` to pass, for every command, in the embedded runtime and the
/// stock CLI alike; `save` fails before the token is sent anywhere.
#[test]
fn a_config_home_the_host_did_not_grant_fails_every_command_naming_the_dir() {
    let api = MockApi::start();
    let mut sb = Sandbox::new();
    // The sandbox preopens its home; HOME names a directory outside it.
    let outside = format!("{}-outside", sb.home().display());
    sb.env("CONTREE_HOME", "").env("HOME", &outside);
    let tok = token("ok");
    let url = api.url();
    let commands: [&[&str]; 5] = [
        &["auth", "ls"],
        &["-f", "json", "auth", "ls", "--offline"],
        &["auth", "switch", "a"],
        &["auth", "rm", "a", "-y"],
        &["auth", "--token", &tok, "-u", &url, "-P", "p"],
    ];
    let expected_dir = format!("--dir {outside}/.config/contree ");
    for args in commands {
        let runs =
            std::iter::once(Some(sb.run(args))).chain(std::iter::once(sb.run_stock_wasmtime(args)));
        for out in runs.flatten() {
            let out = check(out);
            assert_eq!(out.code, 1, "{args:?}: {}", out.stderr);
            assert_eq!(out.stdout, "", "{args:?}");
            assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {}", out.stderr);
            assert_has(&out.stderr, "(from HOME)");
            assert_has(&out.stderr, &expected_dir);
            assert_lacks(&out.stderr, "No profiles");
        }
    }
    assert!(api.requests().is_empty(), "the token was sent");
}

/// The ```sh blocks of README's stock-CLI section, in order.
fn readme_stock_cli_blocks() -> Vec<String> {
    let readme = std::fs::read_to_string(workspace().join("README.md")).expect("README.md");
    let start = readme
        .find("## Running it with the stock wasmtime CLI")
        .expect("the stock-CLI section");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    section
        .split("```sh\n")
        .skip(1)
        .map(|block| block[..block.find("```").expect("a closed block")].to_string())
        .collect()
}

/// Issue 20 item 9: the README's stock-CLI section works when pasted on a
/// fresh machine. The build line names the file cargo really produces (the
/// guest build of `host-test/build.rs` runs the same command into another
/// target dir); the run block, as written, creates the config directory
/// private, lists, and a save through it neither warns nor leaves auth.ini
/// readable by others.
#[test]
fn the_readme_stock_cli_section_works_as_pasted() {
    let blocks = readme_stock_cli_blocks();
    let [build, run, save_line, ..] = blocks.as_slice() else {
        panic!("three sh blocks in the stock-CLI section: {blocks:?}")
    };
    // The artifact path: what cargo makes of the build line's own flags.
    let flag = |name: &str| {
        let words: Vec<&str> = build.split_whitespace().collect();
        let at = words.iter().position(|w| *w == name).expect(name);
        words[at + 1].to_string()
    };
    assert!(
        build.contains(
            "cargo build --profile component --locked --target wasm32-wasip2 -p contree-auth"
        ),
        "{build}"
    );
    let artifact = format!(
        "target/{}/{}/contree_auth.wasm",
        flag("--target"),
        flag("--profile")
    );
    assert!(build.contains(&format!("# -> {artifact}")), "{build}");
    assert!(run.contains(&artifact), "{run}");
    let guest_target_dir = component_path().parent().expect("target/guest");
    let built = guest_target_dir.join(artifact.trim_start_matches("target/"));
    assert!(built.is_file(), "the same build leaves {}", built.display());
    // That file is overwritten by the tool build afterwards (same target
    // dir); the command build it made first is `component_path()`.
    let built = component_path();

    let Some(wasmtime) = contree_host::wasmtime_cli() else {
        return;
    };
    let api = MockApi::start();
    let machine = tempfile::tempdir().expect("a fresh machine");
    let home = machine.path().join("home");
    let checkout = machine.path().join("checkout");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(checkout.join(artifact.rsplit_once('/').unwrap().0)).unwrap();
    std::fs::copy(built, checkout.join(&artifact)).unwrap();
    let tok = token("ok");
    std::fs::write(checkout.join("token.txt"), format!("{tok}\n")).unwrap();
    let path = format!(
        "{}:/usr/bin:/bin",
        wasmtime.parent().expect("wasmtime's directory").display()
    );
    let bash = |script: &str| {
        let mut cmd = Command::new("bash");
        cmd.arg("-c")
            .arg(script)
            .current_dir(&checkout)
            .env_clear()
            .env("HOME", &home)
            .env("PATH", &path);
        check(run_limited(cmd, Vec::new(), Duration::from_secs(120)).expect("bash runs"))
    };
    let config = home.join(".config/contree");

    let first = bash(run);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(first.stdout, "");
    assert_has(&first.stderr, "No profiles configured.");
    assert_eq!(mode(&config), 0o700, "mkdir -p under umask 077");

    // The one change to the save line: the API is the loopback mock.
    let save = format!("{run}\n{} -u {}\n", save_line.trim(), api.url());
    let saved = bash(&save);
    assert_eq!(saved.code, 0, "{}", saved.stderr);
    assert_lacks(&saved.stderr, "[WARNING]");
    assert_has(&saved.stderr, "[INFO] Saved profile 'default'");
    assert_eq!(mode(&config.join("auth.ini")), 0o600);

    let listed = bash(run);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert_eq!(
        statuses(&listed.stdout),
        [("default".to_string(), "ok".to_string())]
    );
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Issue 20 item 2: `save` finds out that it cannot write (here the folder
/// of `-c` is a dangling link) before the token is sent, under the
/// embedded runtime and the stock CLI alike.
#[test]
fn save_checks_it_can_write_before_the_token_is_sent() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    std::os::unix::fs::symlink("nowhere", sb.path("gone")).unwrap();
    let config = sb.path("gone/auth.ini").display().to_string();
    let tok = token("ok");
    let url = api.url();
    let args = [
        "-c", &config, "auth", "--token", &tok, "-u", &url, "-P", "p",
    ];
    let runs =
        std::iter::once(Some(sb.run(args))).chain(std::iter::once(sb.run_stock_wasmtime(args)));
    for out in runs.flatten() {
        let out = check(out);
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert_has(&out.stderr, "is not a directory; nothing was sent");
    }
    assert!(api.requests().is_empty(), "the token was sent");
}
