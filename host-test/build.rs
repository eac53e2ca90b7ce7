//! Builds the `contree-auth` guest component for `wasm32-wasip2` and hands its
//! path to the crate as `CONTREE_AUTH_WASM`; the tool-shaped build (no
//! `wasi:cli/run`) goes alongside as `CONTREE_AUTH_TOOL_WASM` (see `build/tool.rs`).

#[path = "build/tool.rs"]
mod tool;

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const GUEST_PACKAGE: &str = "contree-auth";
const GUEST_TARGET: &str = "wasm32-wasip2";
/// The workspace's size-optimised, LTO profile (see Cargo.toml); the host's
/// own `release` profile stays light so the launcher relinks quickly.
const GUEST_PROFILE: &str = "component";

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let workspace = manifest_dir
        .parent()
        .expect("host-test lives inside the workspace")
        .to_path_buf();
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));

    for path in [
        "src",
        "wit",
        "Cargo.toml",
        "Cargo.lock",
        "rust-toolchain.toml",
    ] {
        println!("cargo:rerun-if-changed={}", workspace.join(path).display());
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build");

    ensure_guest_target();
    // The component hosts load carries its WIT docs (see build/tool.rs).
    let wasm = workspace
        .join("target")
        .join("guest")
        .join("contree_auth.wasm");
    tool::documented(&build_guest(&workspace), &wasm, &workspace, "command");
    println!("cargo:rustc-env=CONTREE_AUTH_WASM={}", wasm.display());
    // The tool build shares the command build's target dir, so the guest's
    // dependencies compile once (on a cold 2-core build that is worth more
    // than running the two side by side); it runs after the command build
    // has been copied out, since both leave their component at one path.
    if wants_tool_guest() {
        let tool_wasm = tool::finish(tool::spawn(&workspace, &out_dir), &workspace);
        println!(
            "cargo:rustc-env=CONTREE_AUTH_TOOL_WASM={}",
            tool_wasm.display()
        );
    }
    println!(
        "cargo:rustc-env=CONTREE_HOST_TEST_CACHE_DIR={}",
        out_dir.join("cache").join("contree-auth").display()
    );
    println!(
        "cargo:rustc-env=CONTREE_HOST_WASMTIME_VERSION={}",
        wasmtime_version(&workspace.join("Cargo.lock"))
    );
}

/// Whether to build the tool guest: only the test harness loads it (the
/// cargo feature `harness`, which every `cargo test` turns on through the
/// crate's dev-dependency on itself). The launcher embeds the command build
/// alone, so `cargo run`, `cargo build` and `cargo install` skip it.
fn wants_tool_guest() -> bool {
    env::var_os("CARGO_FEATURE_HARNESS").is_some()
}

/// Adds the `wasm32-wasip2` standard library to the toolchain in use when it
/// is missing. rustup installs the `targets` of `rust-toolchain.toml` only
/// when it installs the toolchain itself, so a toolchain that was already
/// there (CI images, most developers' machines) lacks it.
fn ensure_guest_target() {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    let Some(sysroot) = sysroot else {
        fail("could not ask rustc for its sysroot (`rustc --print sysroot`)");
    };
    if sysroot.join("lib/rustlib").join(GUEST_TARGET).is_dir() {
        return;
    }
    // Under rustup, cargo passes the toolchain it resolved (from
    // rust-toolchain.toml) as RUSTUP_TOOLCHAIN; add the target to that one.
    let mut cmd = Command::new("rustup");
    cmd.args(["target", "add", GUEST_TARGET]);
    if let Some(toolchain) = env::var_os("RUSTUP_TOOLCHAIN") {
        cmd.arg("--toolchain").arg(toolchain);
    }
    // Shown by cargo as a warning, and on stderr for `cargo build -vv`.
    println!(
        "cargo:warning=the {GUEST_TARGET} target is missing: running `rustup target add {GUEST_TARGET}` once"
    );
    eprintln!(
        "note: the {GUEST_TARGET} target is missing: running `rustup target add {GUEST_TARGET}`"
    );
    match cmd.output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => fail(&format!(
            "`rustup target add {GUEST_TARGET}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(_) => fail(&format!(
            "the {GUEST_TARGET} target is missing from {} and rustup is not on PATH: \
             install the target for this toolchain (`rustup target add {GUEST_TARGET}`) and build again",
            sysroot.display()
        )),
    }
}

fn build_guest(workspace: &Path) -> PathBuf {
    // A target dir of its own: the outer cargo holds the lock on the default one.
    let target_dir = workspace.join("target").join("guest");
    let mut cmd = guest_cargo(workspace, &target_dir);
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
    guest_wasm(&target_dir)
}

/// Where a guest build into `target_dir` leaves the component.
fn guest_wasm(target_dir: &Path) -> PathBuf {
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
/// build passes down.
fn guest_cargo(workspace: &Path, target_dir: &Path) -> Command {
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
        "CARGO_ENCODED_RUSTFLAGS",
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
    cmd
}

fn wasmtime_version(lock: &Path) -> String {
    let text = std::fs::read_to_string(lock).unwrap_or_default();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasmtime\""
            && let Some(version) = lines
                .next()
                .and_then(|l| l.strip_prefix("version = \""))
                .and_then(|l| l.strip_suffix('"'))
        {
            return version.to_string();
        }
    }
    "unknown".to_string()
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}
