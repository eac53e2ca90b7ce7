//! Debian packages the tests need (trixie's libc6 for Wassette, tinyproxy,
//! docker-registry), fetched with `apt-get download` through a private
//! sources list and state folder (the system's own Debian mirror, signed by
//! the system's Debian archive keyring) and unpacked with `dpkg-deb -x`
//! under `target/`. Nothing is installed system-wide.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::python::{self, checked};

const KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

/// `package` (at `version`, or the suite's newest) of Debian `suite`,
/// unpacked once per machine into `target/debian-SUITE-PACKAGE/root`, which
/// is returned. It counts as there once `root/expected` exists and the
/// ready mark is written; an exclusive lock beside the folder keeps
/// parallel test runs from racing, and a half-made folder is fetched anew.
pub fn unpacked_once(
    suite: &str,
    package: &str,
    version: Option<&str>,
    expected: &str,
) -> Result<PathBuf, String> {
    let target = python::target_dir();
    let name = format!("debian-{suite}-{package}");
    let dir = target.join(&name);
    let root = dir.join("root");
    let mark = dir.join(".contree-ready");
    let wanted = version.unwrap_or(suite);
    let ready =
        || fs::read_to_string(&mark).is_ok_and(|m| m == wanted) && root.join(expected).is_file();
    if ready() {
        return Ok(root);
    }
    fs::create_dir_all(&target).map_err(|e| format!("creating {}: {e}", target.display()))?;
    let lock_path = target.join(format!("{name}.lock"));
    let lock =
        File::create(&lock_path).map_err(|e| format!("creating {}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("locking {}: {e}", lock_path.display()))?;
    if ready() {
        return Ok(root);
    }
    if dir.exists() {
        fs::remove_dir_all(&dir)
            .map_err(|e| format!("removing the half-made {}: {e}", dir.display()))?;
    }
    eprintln!(
        "fetching Debian {suite}'s {package} into {} (once)",
        dir.display()
    );
    fetch_package(&dir, suite, package, version)?;
    if !root.join(expected).is_file() {
        return Err(format!("{package} unpacked without {expected}"));
    }
    fs::write(&mark, wanted).map_err(|e| format!("marking it ready: {e}"))?;
    drop(lock);
    Ok(root)
}

/// `apt-get update` and `apt-get download PACKAGE[=VERSION]` of Debian
/// `suite` with a sources list, state and cache of our own under `dir`, then
/// `dpkg-deb -x` into `dir/root` .
pub fn fetch_package(
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
            // The lock that matters is ours (see unpacked_once).
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
