//! The guest builds, shared by `build.rs` (the components the launcher and
//! the tests use) and the release command (`src/bin/contree-dist.rs`, which
//! `just dist` runs): one `cargo build` of the guest crate for each world,
//! into a target dir of their own, with flags that keep the component free
//! of the machine it was built on (see [`reproducible_rustflags`]).

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const GUEST_PACKAGE: &str = "contree-auth";
pub const GUEST_TARGET: &str = "wasm32-wasip2";
/// The workspace's size-optimised, LTO profile (see Cargo.toml); the host's
/// own `release` profile stays light so the launcher relinks quickly.
pub const GUEST_PROFILE: &str = "component";

/// Builds the command guest of `workspace` into `target_dir` and returns
/// where cargo left it.
pub fn build_command(workspace: &Path, target_dir: &Path) -> PathBuf {
    let mut cmd = guest_cargo(workspace, target_dir);
    let output = match cmd.output() {
        Ok(output) => output,
        Err(err) => fail(&format!("could not run cargo to build the guest: {err}")),
    };
    if !output.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&output.stdout));
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        fail(&format!(
            "building the guest component failed ({}): cargo build --profile {GUEST_PROFILE} --locked \
             --target {GUEST_TARGET} --package {GUEST_PACKAGE} --target-dir {}",
            output.status,
            target_dir.display()
        ));
    }
    guest_wasm(target_dir)
}

/// Where a guest build into `target_dir` leaves the component.
pub fn guest_wasm(target_dir: &Path) -> PathBuf {
    let wasm = target_dir
        .join(GUEST_TARGET)
        .join(GUEST_PROFILE)
        .join(format!("{}.wasm", GUEST_PACKAGE.replace('-', "_")));
    if !wasm.is_file() {
        fail(&format!(
            "the guest build succeeded but {} is missing",
            wasm.display()
        ));
    }
    wasm
}

/// `cargo build` of the guest into `target_dir`, cleared of what the outer
/// build passes down, with [`reproducible_rustflags`] as its only flags.
pub fn guest_cargo(workspace: &Path, target_dir: &Path) -> Command {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace)
        .args([
            "build",
            "--profile",
            GUEST_PROFILE,
            "--locked",
            "--target",
            GUEST_TARGET,
        ])
        .args(["--package", GUEST_PACKAGE])
        .arg("--target-dir")
        .arg(target_dir);
    // Flags and wrappers meant for the outer (native) build would break or
    // re-lint the wasm build: RUSTFLAGS may carry host-only codegen flags,
    // and under `cargo clippy` the workspace wrapper is clippy-driver.
    for var in [
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET_DIR",
        "RUSTC_WORKSPACE_WRAPPER",
        "CLIPPY_ARGS",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        cmd.env_remove(var);
    }
    // Miri's own rustc wrapper and sysroot cannot build wasm.
    if env::var_os("CARGO_CFG_MIRI").is_some() {
        cmd.env_remove("RUSTC").env_remove("RUSTC_WRAPPER");
    }
    // Set here, so this nested build alone gets them: the host's build
    // (another cargo, another target dir) keeps its own flags and artifacts.
    cmd.env(
        "CARGO_ENCODED_RUSTFLAGS",
        reproducible_rustflags(workspace, target_dir),
    );
    cmd
}

/// `--remap-path-prefix` for every absolute path a build here can embed
/// (panic locations of `file!()`, debug paths): cargo's home (the
/// dependencies' sources), the toolchain's sysroot, the checkout and the
/// target dir, each to a fixed name. The component is stripped and carries
/// no timestamp, so two builds of one commit by two users in two folders
/// are the same bytes (`tests/component/releases.rs` checks it). rustc
/// applies the last prefix that matches, so the more specific come last.
pub fn reproducible_rustflags(workspace: &Path, target_dir: &Path) -> String {
    let mut prefixes: Vec<(PathBuf, &str)> = Vec::new();
    if let Some(cargo_home) = cargo_home() {
        prefixes.push((cargo_home, "/cargo"));
    }
    if let Some(sysroot) = sysroot(workspace) {
        prefixes.push((sysroot, "/rustc-sysroot"));
    }
    prefixes.push((workspace.to_path_buf(), "/contree-auth"));
    prefixes.push((target_dir.to_path_buf(), "/contree-auth/target/guest"));
    let mut flags = Vec::new();
    for (from, to) in prefixes {
        // As given (cargo passes paths unresolved) and with links resolved.
        let resolved = from.canonicalize().ok().filter(|r| *r != from);
        for path in std::iter::once(from).chain(resolved) {
            let Some(path) = path.to_str() else {
                fail(&format!(
                    "{} is not UTF-8: rustc cannot be told to leave it out of the component",
                    path.display()
                ));
            };
            flags.push(format!("--remap-path-prefix={path}={to}"));
        }
    }
    flags.join("\x1f")
}

/// Cargo's home, as cargo finds it: `CARGO_HOME`, else `~/.cargo`.
fn cargo_home() -> Option<PathBuf> {
    env::var_os("CARGO_HOME")
        .filter(|home| !home.is_empty())
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from(env::var_os("HOME")?).join(".cargo")))
}

/// The sysroot of the rustc that builds `workspace` (its
/// `rust-toolchain.toml` picks it under rustup).
pub fn sysroot(workspace: &Path) -> Option<PathBuf> {
    let rustc: OsString = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    Command::new(rustc)
        .current_dir(workspace)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

pub fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}
