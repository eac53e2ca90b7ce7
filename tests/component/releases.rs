//! Issue 26: releases. The release command (`contree-dist`, which `just dist`
//! and the release workflow run) builds both guests of a second checkout of
//! this commit, in another folder, as another user (its own HOME and cargo
//! home), and must give the very bytes this suite's own build gave
//! (`build.rs`): the published digest is one anyone can rebuild.
//!
//! The second checkout is this commit's tracked files (`git ls-files`),
//! copied under `target/releases-check/` (made afresh each run, so nothing
//! is reused from an earlier build). Its cargo home shares only the
//! downloaded crates and the index with ours (cargo unpacks the sources
//! again into its own `registry/src`), and the build runs offline.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use contree_host::harness::python::{run_limited, target_dir, workspace};
use contree_host::harness::{component_path, tool_component_path};
use sha2::{Digest, Sha256};

const COMMAND: &str = "contree_auth.wasm";
const TOOL: &str = "contree_auth_tool.wasm";
const LAUNCHER: &str = concat!("contree-", env!("CONTREE_HOST_TARGET"));

/// The second checkout and what `contree-dist` wrote from it.
struct Rebuild {
    /// The copy of the checkout the rebuild used.
    checkout: PathBuf,
    /// Its cargo home and HOME.
    cargo_home: PathBuf,
    home: PathBuf,
    /// The `dist/` folder `contree-dist` wrote.
    dist: PathBuf,
    /// What `contree-dist` printed (its SHA256SUMS).
    stdout: String,
}

/// The rebuild, once per test process (one extra guest build: command and
/// tool share a target dir).
fn rebuild() -> &'static Rebuild {
    static REBUILD: OnceLock<Rebuild> = OnceLock::new();
    REBUILD.get_or_init(|| {
        let root = target_dir().join("releases-check");
        if root.exists() {
            std::fs::remove_dir_all(&root).expect("removing the last run's rebuild");
        }
        let checkout = root.join("elsewhere").join("contree-auth");
        copy_tracked_files(&workspace(), &checkout);
        let home = root.join("another-user");
        let cargo_home = home.join(".cargo");
        share_downloaded_crates(&our_cargo_home(), &cargo_home);
        let dist = root.join("dist");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_contree-dist"));
        cmd.arg("--source")
            .arg(&checkout)
            .arg("--target-dir")
            .arg(root.join("target"))
            .arg("--out")
            .arg(&dist)
            .arg("--launcher")
            .arg(env!("CARGO_BIN_EXE_contree"))
            .env("HOME", &home)
            .env("CARGO_HOME", &cargo_home)
            .env("RUSTUP_HOME", our_rustup_home())
            .env("CARGO_NET_OFFLINE", "true");
        let started = std::time::Instant::now();
        let out = run_limited(cmd, Vec::new(), std::time::Duration::from_secs(900))
            .expect("contree-dist ran");
        eprintln!(
            "contree-dist (both guests, cold): {:.1?}",
            started.elapsed()
        );
        assert_eq!(out.code, 0, "contree-dist failed:\n{}", out.stderr);
        Rebuild {
            checkout,
            cargo_home,
            home,
            dist,
            stdout: out.stdout,
        }
    })
}

#[test]
fn a_second_checkout_elsewhere_by_another_user_builds_the_same_components() {
    let rebuild = rebuild();
    let sysroot = Command::new("rustc")
        .current_dir(workspace())
        .args(["--print", "sysroot"])
        .output()
        .expect("rustc runs");
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_string();
    let places = [
        workspace(),
        rebuild.checkout.clone(),
        our_cargo_home(),
        rebuild.cargo_home.clone(),
        rebuild.home.clone(),
        home(),
        PathBuf::from(sysroot),
    ];
    for (ours, theirs) in [
        (component_path(), rebuild.dist.join(COMMAND)),
        (tool_component_path(), rebuild.dist.join(TOOL)),
    ] {
        let ours_bytes = std::fs::read(ours).unwrap();
        let theirs_bytes = std::fs::read(&theirs).unwrap();
        assert!(
            ours_bytes == theirs_bytes,
            "{} ({} bytes, sha256 {:x}) differs from the rebuild {} ({} bytes, sha256 {:x})",
            ours.display(),
            ours_bytes.len(),
            Sha256::digest(&ours_bytes),
            theirs.display(),
            theirs_bytes.len(),
            Sha256::digest(&theirs_bytes),
        );
        // Neither build says where or by whom it was made.
        for place in &places {
            let place = place.display().to_string();
            assert!(place.len() > 1, "a real path");
            assert!(
                !contains(&ours_bytes, place.as_bytes()),
                "{} embeds {place}",
                ours.display()
            );
        }
        // The WIT docs are part of what is compared.
        assert!(
            contains(&ours_bytes, b"package-docs"),
            "{} carries its WIT docs",
            ours.display()
        );
    }
}

#[test]
fn dist_holds_both_components_the_launcher_the_version_and_their_sums() {
    let rebuild = rebuild();
    let dist = &rebuild.dist;
    let version = std::fs::read_to_string(dist.join("VERSION")).unwrap();
    assert_eq!(version, format!("{}\n", env!("CARGO_PKG_VERSION")));
    let sums = std::fs::read_to_string(dist.join("SHA256SUMS")).unwrap();
    assert_eq!(sums, rebuild.stdout, "it prints what it writes");
    let names: Vec<&str> = sums
        .lines()
        .map(|line| line.split_once("  ").expect("`DIGEST  NAME`").1)
        .collect();
    assert_eq!(names, [COMMAND, TOOL, LAUNCHER, "VERSION"]);
    // coreutils checks them as a user would, and refuses a changed file.
    let check = |dir: &Path| {
        Command::new("sha256sum")
            .args(["--check", "--strict", "SHA256SUMS"])
            .current_dir(dir)
            .output()
            .expect("sha256sum runs")
    };
    let ok = check(dist);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let tampered = tempfile::tempdir().unwrap();
    for name in names.iter().chain(["SHA256SUMS"].iter()) {
        std::fs::copy(dist.join(name), tampered.path().join(name)).unwrap();
    }
    let mut wasm = std::fs::read(tampered.path().join(COMMAND)).unwrap();
    let last = wasm.len() - 1;
    wasm[last] ^= 1;
    std::fs::write(tampered.path().join(COMMAND), wasm).unwrap();
    let refused = check(tampered.path());
    assert!(!refused.status.success(), "a changed component is refused");
    assert!(
        String::from_utf8_lossy(&refused.stdout).contains(&format!("{COMMAND}: FAILED")),
        "{}",
        String::from_utf8_lossy(&refused.stdout)
    );
    // The launcher is the one this machine runs, and runs.
    let launcher = Command::new(dist.join(LAUNCHER))
        .arg("--version")
        .output()
        .expect("the launcher runs");
    assert!(launcher.status.success());
    assert!(
        String::from_utf8_lossy(&launcher.stdout).contains(env!("CARGO_PKG_VERSION")),
        "{}",
        String::from_utf8_lossy(&launcher.stdout)
    );
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Copies the files git tracks in `from` (as they are in the work tree).
fn copy_tracked_files(from: &Path, to: &Path) {
    let listed = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(from)
        .output()
        .expect("git runs (the check copies the tracked files)");
    assert!(
        listed.status.success(),
        "git ls-files: {}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let mut copied = 0;
    for name in listed.stdout.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = std::str::from_utf8(name).expect("UTF-8 file names");
        let source = from.join(name);
        // A file deleted in the work tree but not yet in git's index.
        if !source.is_file() {
            continue;
        }
        let dest = to.join(name);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&source, &dest).unwrap();
        copied += 1;
    }
    assert!(copied > 50, "only {copied} tracked files");
}

fn our_cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".cargo"))
}

fn our_rustup_home() -> PathBuf {
    std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".rustup"))
}

fn home() -> PathBuf {
    PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
}

/// A cargo home of its own that links to ours for the downloaded `.crate`
/// files and the index, and to our cargo config if there is one (a mirror).
fn share_downloaded_crates(ours: &Path, theirs: &Path) {
    std::fs::create_dir_all(theirs.join("registry")).unwrap();
    for shared in ["registry/cache", "registry/index"] {
        std::os::unix::fs::symlink(ours.join(shared), theirs.join(shared)).unwrap();
    }
    for config in ["config.toml", "config"] {
        if ours.join(config).is_file() {
            std::fs::copy(ours.join(config), theirs.join(config)).unwrap();
        }
    }
}
