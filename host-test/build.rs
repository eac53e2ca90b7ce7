//! Builds the `contree-auth` guest component for `wasm32-wasip2` and hands its
//! path to the crate as `CONTREE_AUTH_WASM`; the tool-shaped build (no
//! `wasi:cli/run`) goes alongside as `CONTREE_AUTH_TOOL_WASM` (see `build/tool.rs`).
//! Both are reproducible (`build/guest.rs`); the release command
//! `contree-dist` builds them with the same code.

#[path = "build/guest.rs"]
mod guest;
#[path = "build/tool.rs"]
mod tool;

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

use guest::{GUEST_TARGET, fail};

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

    ensure_guest_target(&workspace);
    // A target dir of its own: the outer cargo holds the lock on the default one.
    let guest_dir = workspace.join("target").join("guest");
    // The components hosts load carry their WIT docs (see build/tool.rs).
    let wasm = guest_dir.join("contree_auth.wasm");
    // The tool build shares the command build's target dir, so the guest's
    // dependencies compile once (on a cold 2-core build that is worth more
    // than running the two side by side).
    let tool_wasm = wants_tool_guest().then(|| {
        workspace
            .join("target")
            .join("guest-tool")
            .join(tool::TOOL_FILE)
    });
    tool::documented_builds(
        &workspace,
        &guest_dir,
        &wasm,
        tool_wasm.as_deref(),
        &out_dir.join("guest-tool-build.log"),
    );
    println!("cargo:rustc-env=CONTREE_AUTH_WASM={}", wasm.display());
    if let Some(tool_wasm) = tool_wasm {
        println!(
            "cargo:rustc-env=CONTREE_AUTH_TOOL_WASM={}",
            tool_wasm.display()
        );
    }
    // The release command names the launcher after the target it runs on.
    println!(
        "cargo:rustc-env=CONTREE_HOST_TARGET={}",
        env::var("TARGET").expect("set by cargo")
    );
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
fn ensure_guest_target(workspace: &Path) {
    let Some(sysroot) = guest::sysroot(workspace) else {
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
