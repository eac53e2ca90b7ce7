//! A real OCI registry for the release tests: Debian 12's `docker-registry`
//! (the CNCF distribution registry, pinned), fetched once with
//! `apt-get download` and unpacked with `dpkg-deb -x` under `target/` as
//! tinyproxy and the Wassette loader are (nothing installed system-wide),
//! and started per test with its own configuration: filesystem storage in a
//! temporary folder, TLS with a certificate the test made, a free port of
//! 127.0.0.1.
//!
//! Under `CI=true` a registry that cannot be set up fails the test.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use super::debian;
use super::local_server::{free_port, wait_listening};
use super::support::in_ci;

const SUITE: &str = "bookworm";
const PACKAGE: &str = "docker-registry";
pub const VERSION: &str = "2.8.2+ds1-1";
const BINARY: &str = "usr/bin/docker-registry";

/// The registry's binary, fetched once per machine. `None` (after saying
/// why `purpose` is skipped) when it cannot be set up, except under
/// `CI=true`, where the test fails instead.
pub fn binary(purpose: &str) -> Option<&'static Path> {
    static BINARY_PATH: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match BINARY_PATH.get_or_init(set_up) {
        Ok(binary) => Some(binary),
        Err(e) => {
            assert!(
                !in_ci(),
                "docker-registry {VERSION} cannot be set up, and CI=true: {purpose} cannot be skipped: {e}"
            );
            eprintln!("docker-registry {VERSION} cannot be set up: skipping {purpose}: {e}");
            None
        }
    }
}

fn set_up() -> Result<PathBuf, String> {
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        return Err("the Debian package is for x86_64 Linux".into());
    }
    let root = debian::unpacked_once(SUITE, PACKAGE, Some(VERSION), BINARY)?;
    Ok(root.join(BINARY))
}

/// A running registry, stopped when dropped; its storage goes with it.
pub struct Registry {
    pub port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

impl Registry {
    /// Starts the registry on a free loopback port, serving TLS with the
    /// given PEM certificate chain and key; `Err` says why it could not.
    pub fn start(binary: &Path, cert_pem: &str, key_pem: &str) -> Result<Registry, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let port = free_port()?;
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        fs::write(&cert, cert_pem).map_err(|e| e.to_string())?;
        fs::write(&key, key_pem).map_err(|e| e.to_string())?;
        let storage = dir.path().join("storage");
        fs::create_dir(&storage).map_err(|e| e.to_string())?;
        // No redirects, no proxying, no notifications: a plain registry with
        // the filesystem driver, as a self-hosted one is run.
        let config = format!(
            "version: 0.1\n\
             log:\n  level: warn\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {storage}\n\
             http:\n  addr: 127.0.0.1:{port}\n  tls:\n    certificate: {cert}\n    key: {key}\n",
            storage = storage.display(),
            cert = cert.display(),
            key = key.display(),
        );
        let config_path = dir.path().join("config.yml");
        fs::write(&config_path, config).map_err(|e| e.to_string())?;
        let log = File::create(dir.path().join("registry.log")).map_err(|e| e.to_string())?;
        let child = Command::new(binary)
            .arg("serve")
            .arg(&config_path)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("starting docker-registry: {e}"))?;
        let mut registry = Registry { port, child, dir };
        registry.wait_ready()?;
        Ok(registry)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let log_file = self.dir.path().join("registry.log");
        let log = || fs::read_to_string(&log_file).unwrap_or_default();
        wait_listening(
            &mut self.child,
            self.port,
            "docker-registry",
            Duration::from_secs(20),
            log,
        )
    }

    /// `127.0.0.1:PORT`, the registry part of a reference.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Where the filesystem driver keeps the blob `sha256:HEX` (what a test
    /// changes to play a registry that serves other bytes than it was sent).
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        self.dir
            .path()
            .join("storage/docker/registry/v2/blobs/sha256")
            .join(&hex[..2.min(hex.len())])
            .join(hex)
            .join("data")
    }

    /// What the registry logged so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
