//! `contree-dist`: the release recipe. `just dist` runs it, the release
//! workflow runs `just dist`, and the tests run it too
//! (`tests/component/releases.rs`), so what is published is what is tested.
//!
//! It builds both guests of a checkout with the same code as `build.rs`
//! (`build/guest.rs`, `build/tool.rs`: reproducible flags, the WIT docs
//! section) and writes to the output folder:
//!
//! - `contree_auth.wasm`: the command build (`wasmtime run` runs it);
//! - `contree_auth_tool.wasm`: the tool build, documented (Wassette loads it);
//! - `contree-TARGET`: the launcher given with `--launcher`, for this machine;
//! - `VERSION`: the workspace version from `Cargo.toml`;
//! - `SHA256SUMS`: the digests of the files above, for `sha256sum -c`.
//!
//! Usage: `contree-dist [--source DIR] [--target-dir DIR] [--out DIR]
//! [--launcher FILE]`. The source defaults to this workspace, the target
//! dir to `SOURCE/target/guest` (the tests' guest build, so `just dist` after
//! `cargo test` rebuilds nothing), the output to `SOURCE/dist`, the launcher
//! to `SOURCE/target/release/contree`.

#[path = "../../build/guest.rs"]
mod guest;
#[path = "../../build/tool.rs"]
mod tool;

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use guest::fail;
use sha2::{Digest, Sha256};

const COMMAND_FILE: &str = "contree_auth.wasm";
const USAGE: &str =
    "usage: contree-dist [--source DIR] [--target-dir DIR] [--out DIR] [--launcher FILE]";

struct Options {
    source: PathBuf,
    target_dir: PathBuf,
    out: PathBuf,
    launcher: PathBuf,
}

fn main() {
    let options = options(std::env::args().skip(1));
    let version = workspace_version(&options.source);
    let out = &options.out;
    if let Err(e) = fs::create_dir_all(out) {
        fail(&format!("cannot create {}: {e}", out.display()));
    }
    let launcher = format!("contree-{}", env!("CONTREE_HOST_TARGET"));
    if !options.launcher.is_file() {
        fail(&format!(
            "no launcher at {}: build it first (`cargo build --release --locked -p contree-host \
             --bin contree`, as `just dist` does) or pass --launcher FILE",
            options.launcher.display()
        ));
    }
    eprintln!(
        "building the command and tool components of {} into {}",
        options.source.display(),
        options.target_dir.display()
    );
    tool::documented_builds(
        &options.source,
        &options.target_dir,
        &out.join(COMMAND_FILE),
        Some(&out.join(tool::TOOL_FILE)),
        &options.target_dir.join("contree-dist-tool-build.log"),
    );
    copy_executable(&options.launcher, &out.join(&launcher));
    write(&out.join("VERSION"), format!("{version}\n").as_bytes());

    let mut sums = String::new();
    for name in [COMMAND_FILE, tool::TOOL_FILE, &launcher, "VERSION"] {
        let bytes = fs::read(out.join(name))
            .unwrap_or_else(|e| fail(&format!("reading {}: {e}", out.join(name).display())));
        let _ = writeln!(sums, "{:x}  {name}", Sha256::digest(&bytes));
    }
    write(&out.join("SHA256SUMS"), sums.as_bytes());
    print!("{sums}");
    eprintln!("contree-auth {version}: {}", out.display());
}

fn options(mut args: impl Iterator<Item = String>) -> Options {
    let (mut source, mut target_dir, mut out, mut launcher) = (None, None, None, None);
    while let Some(flag) = args.next() {
        let slot = match flag.as_str() {
            "--source" => &mut source,
            "--target-dir" => &mut target_dir,
            "--out" => &mut out,
            "--launcher" => &mut launcher,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => fail(&format!("unknown argument `{other}`\n{USAGE}")),
        };
        let Some(value) = args.next() else {
            fail(&format!("{flag} needs a value\n{USAGE}"));
        };
        *slot = Some(absolute(Path::new(&value)));
    }
    let source = source.unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("host-test lives inside the workspace")
            .to_path_buf()
    });
    Options {
        target_dir: target_dir.unwrap_or_else(|| source.join("target").join("guest")),
        out: out.unwrap_or_else(|| source.join("dist")),
        launcher: launcher.unwrap_or_else(|| source.join("target/release/contree")),
        source,
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path)
        .unwrap_or_else(|e| fail(&format!("cannot resolve {}: {e}", path.display())))
}

/// `version` of `[workspace.package]` in the checkout's `Cargo.toml`.
fn workspace_version(source: &Path) -> String {
    let manifest = source.join("Cargo.toml");
    let text = fs::read_to_string(&manifest)
        .unwrap_or_else(|e| fail(&format!("reading {}: {e}", manifest.display())));
    let mut in_section = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_section = line == "[workspace.package]";
        } else if in_section
            && let Some(value) = line.strip_prefix("version")
            && let Some(value) = value.trim_start().strip_prefix('=')
        {
            return value.trim().trim_matches('"').to_string();
        }
    }
    fail(&format!(
        "no version in [workspace.package] of {}",
        manifest.display()
    ))
}

fn copy_executable(from: &Path, to: &Path) {
    if let Err(e) = fs::copy(from, to) {
        fail(&format!(
            "copying {} to {}: {e}",
            from.display(),
            to.display()
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Err(e) = fs::set_permissions(to, fs::Permissions::from_mode(0o755)) {
            fail(&format!("making {} executable: {e}", to.display()));
        }
    }
}

fn write(path: &Path, bytes: &[u8]) {
    if let Err(e) = fs::write(path, bytes) {
        fail(&format!("writing {}: {e}", path.display()));
    }
}
