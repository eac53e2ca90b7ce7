//! The `contree` binary end to end: home creation, least privilege, exit
//! codes; and the build it comes from: the README's run command reuses the
//! tests' (issue 18).

use std::path::Path;
use std::process::{Command, Output, Stdio};

use contree_host::MockApi;

fn contree(home: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_contree"));
    let cache = contree_host::test_cache_dir()
        .parent()
        .expect("the cache dir has a parent");
    cmd.args(args)
        .env_clear()
        .env("HOME", home)
        .env("XDG_CACHE_HOME", cache)
        .stdin(Stdio::null());
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("running contree")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn creates_a_private_home_and_exits_with_the_guest_code() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&mut contree(dir.path(), &["-f", "json", "auth", "ls"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let home = dir.path().join(".config/contree");
    assert!(home.is_dir());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&home).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }

    let out = run(&mut contree(dir.path(), &["--no-such-option"]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn config_outside_the_home_is_reachable() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let api = MockApi::start();
    let config = outside.path().join("auth.ini");
    let out = run(contree(
        dir.path(),
        &[
            "-c",
            config.to_str().unwrap(),
            "auth",
            "--type",
            "jwt",
            "--url",
            &api.url(),
        ],
    )
    .env("CONTREE_TOKEN", "ok-launcher"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let ini = std::fs::read_to_string(&config).unwrap();
    assert!(ini.contains("[profile:default]"), "{ini}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&config).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    assert!(!dir.path().join(".config/contree/auth.ini").exists());
}

#[test]
fn launcher_errors_are_one_line_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    let out = run(contree(dir.path(), &["auth", "ls"]).env("CONTREE_HOME", file.join("home")));
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with("contree: "), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    let out = run(Command::new(env!("CARGO_BIN_EXE_contree"))
        .args(["auth", "ls"])
        .env_clear());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("contree: cannot find the config directory"));
    // Issue 25 item 5: help needs no config (the launcher answers it, with
    // its own subcommands listed).
    let out = run(Command::new(env!("CARGO_BIN_EXE_contree"))
        .arg("--help")
        .env_clear());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("completions"));
}

/// Issue 11 item 1: `-c ~/auth.ini` would have opened all of `$HOME` to the
/// component; the launcher refuses it in one line, before running anything.
#[test]
fn a_config_beside_other_files_is_refused_and_nothing_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".bashrc"), "secret stuff").unwrap();
    let config = dir.path().join("auth.ini");
    let out = run(contree(
        dir.path(),
        &[
            "-c",
            "~/auth.ini",
            "auth",
            "--type",
            "jwt",
            "--url",
            "http://127.0.0.1:9",
        ],
    )
    .env("CONTREE_TOKEN", "ok-launcher"));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with("contree: -c "), "{stderr}");
    assert!(stderr.contains("directory of its own"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!config.exists());
}

/// XDG base directory spec: a relative `XDG_CACHE_HOME` is ignored; the
/// cache goes to `$HOME/.cache`, never below the working directory.
#[test]
fn a_relative_xdg_cache_home_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let out = run(contree(dir.path(), &["auth", "ls", "-O"])
        .env("XDG_CACHE_HOME", "rel-cache")
        .current_dir(cwd.path()));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!cwd.path().join("rel-cache").exists());
    assert!(dir.path().join(".cache/contree-auth").is_dir());
}

/// `package version [features]` of every package `cargo tree` lists for
/// `args`, our own path packages aside.
fn feature_sets(args: &[&str]) -> std::collections::BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "--locked", "--offline", "--prefix", "none"])
        .args(["-f", "{p} [{f}]"])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("running cargo tree");
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|line| line.replace(" (*)", ""))
        .filter(|line| !line.trim().is_empty() && !line.contains("(/"))
        .collect()
}

/// Issue 18: the README's run command (`cargo run -p contree-host`) uses
/// the profile `cargo test` builds with, and every dependency of the
/// launcher gets the same features in both builds (a path dependency, one
/// of our own two crates, aside). So right after the tests it recompiles
/// only our own crates, not wasmtime. A test-only dependency that turns on
/// a feature of a shared crate (wasmtime's `wat`, say) fails this: pin that
/// feature in host-test/Cargo.toml, or do without it.
#[test]
fn the_run_command_needs_no_dependency_the_tests_did_not_build() {
    // What the launcher links: no build scripts' or proc macros'
    // dependencies (units of their own, built for the host).
    let run = feature_sets(&["-p", "contree-host", "-e", "normal,no-proc-macro"]);
    let test = feature_sets(&["--workspace", "-e", "normal,dev,no-proc-macro"]);
    assert!(run.len() > 100, "{run:?}");
    let missing: Vec<_> = run.difference(&test).collect();
    assert!(
        missing.is_empty(),
        "the run command builds these, the tests do not: {missing:#?}"
    );
}

/// `(name, version)` of every package in the workspace's Cargo.lock.
fn locked_packages() -> Vec<(String, String)> {
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock");
    let text = std::fs::read_to_string(&lock).expect("reading Cargo.lock");
    let field = |line: &str, key: &str| {
        line.strip_prefix(key)
            .and_then(|rest| rest.strip_prefix(" = \""))
            .and_then(|rest| rest.strip_suffix('"'))
            .map(str::to_string)
    };
    let mut lines = text.lines();
    let mut packages = Vec::new();
    while let Some(line) = lines.next() {
        if let Some(name) = field(line, "name")
            && let Some(version) = lines.next().and_then(|l| field(l, "version"))
        {
            packages.push((name, version));
        }
    }
    packages
}

/// Issue 24 item 6: the wasmtime the launcher embeds is one release, locked
/// in step. wasmtime pins its own internal crates exactly, but not cranelift's
/// crates among themselves, nor the WASI crates: a
/// `cargo update -p wasmtime --precise X` leaves some cranelift crates a patch
/// ahead of the others (as updating to 48.0.10 did), a security fix then
/// half applied, and a release mixing majors compiles two of everything.
#[test]
fn the_wasmtime_family_is_locked_in_step() {
    let packages = locked_packages();
    let versions = |wanted: &dyn Fn(&str) -> bool| -> Vec<(String, String)> {
        let mut found: Vec<_> = packages
            .iter()
            .filter(|(name, _)| wanted(name))
            .cloned()
            .collect();
        found.sort();
        found
    };
    let wasmtime = versions(&|name| name == "wasmtime");
    let [(_, wasmtime)] = wasmtime.as_slice() else {
        panic!("one wasmtime in Cargo.lock, found {wasmtime:?}");
    };
    let (major, patch) = match wasmtime.split('.').collect::<Vec<_>>()[..] {
        [major, _, patch] => (major.parse::<u32>().unwrap(), patch),
        _ => panic!("wasmtime {wasmtime}"),
    };

    // wasmtime's own crates and pulley: its exact version.
    let own = versions(&|name| {
        name.starts_with("wasmtime-internal-")
            || name.starts_with("pulley-")
            || name == "wasmtime-environ"
    });
    assert!(own.len() > 10, "{own:?}");
    let off: Vec<_> = own.iter().filter(|(_, v)| v != wasmtime).collect();
    assert!(off.is_empty(), "not at wasmtime {wasmtime}: {off:?}");

    // cranelift: the release made with it, 0.(major + 87).patch.
    let cranelift = versions(&|name| name.starts_with("cranelift-"));
    assert!(cranelift.len() > 5, "{cranelift:?}");
    let expected = format!("0.{}.{patch}", major + 87);
    let off: Vec<_> = cranelift.iter().filter(|(_, v)| *v != expected).collect();
    assert!(
        off.is_empty(),
        "cranelift of wasmtime {wasmtime} is {expected}; these are not: {off:?}"
    );

    // WASI and wasi:http: released with wasmtime (not every patch release
    // publishes them), the same major.
    let wasi = versions(&|name| {
        ["wasmtime-wasi", "wasmtime-wasi-io", "wasmtime-wasi-http"].contains(&name)
    });
    assert_eq!(wasi.len(), 3, "{wasi:?}");
    let off: Vec<_> = wasi
        .iter()
        .filter(|(_, v)| !v.starts_with(&format!("{major}.")))
        .collect();
    assert!(off.is_empty(), "not of wasmtime {major}: {off:?}");
}
