//! A real forward proxy for the network tests: Debian 12's `tinyproxy`
//! (pinned), fetched once with `apt-get download` and unpacked with
//! `dpkg-deb -x` under `target/` as the Wassette loader is (nothing installed
//! system-wide), and started per test with its own configuration on a free
//! loopback port.
//!
//! [`TinyProxy::start`] can give the proxy names of its own: it then runs in
//! a mount namespace of its own (`unshare -m`, as root) with a private
//! `/etc/hosts` bind-mounted over the system's, so those names resolve for
//! the proxy and for nobody else (the launcher provably does not resolve
//! them itself).
//!
//! Under `CI=true` a tinyproxy that cannot be set up fails the test.

use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use super::debian;
use super::local_server::{free_port, wait_listening};
use super::support::in_ci;

const SUITE: &str = "bookworm";
const PACKAGE: &str = "tinyproxy-bin";
pub const VERSION: &str = "1.11.1-2.1+deb12u1";

/// The unpacked package's root (`usr/bin/tinyproxy` under it), fetched once
/// per machine. `None` (after saying why `purpose` is skipped) when it cannot
/// be set up, except under `CI=true`, where the test fails instead.
pub fn root(purpose: &str) -> Option<&'static Path> {
    static ROOT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match ROOT.get_or_init(set_up) {
        Ok(root) => Some(root),
        Err(e) => {
            assert!(
                !in_ci(),
                "tinyproxy {VERSION} cannot be set up, and CI=true: {purpose} cannot be skipped: {e}"
            );
            eprintln!("tinyproxy {VERSION} cannot be set up: skipping {purpose}: {e}");
            None
        }
    }
}

fn set_up() -> Result<PathBuf, String> {
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        return Err("the Debian package is for x86_64 Linux".into());
    }
    debian::unpacked_once(SUITE, PACKAGE, Some(VERSION), "usr/bin/tinyproxy")
}

/// What a proxy started by a test allows.
#[derive(Debug, Default)]
pub struct Config<'a> {
    /// The ports `CONNECT` may reach (tinyproxy's `ConnectPort`).
    pub connect_ports: Vec<u16>,
    /// `BasicAuth user password`.
    pub basic_auth: Option<(&'a str, &'a str)>,
    /// Names only the proxy resolves: `(name, address)`.
    pub hosts: Vec<(&'a str, Ipv4Addr)>,
}

/// A running tinyproxy, stopped when dropped.
pub struct TinyProxy {
    pub port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

impl TinyProxy {
    /// Starts tinyproxy on a free loopback port; `Err` says why it could not.
    pub fn start(root: &Path, config: &Config<'_>) -> Result<TinyProxy, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let port = free_port()?;
        let mut conf = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 64\nAllow 127.0.0.1\n\
             LogLevel Info\nLogFile \"{log}\"\nDisableViaHeader Yes\n\
             DefaultErrorFile \"{root}/usr/share/tinyproxy/default.html\"\n",
            log = dir.path().join("tinyproxy.log").display(),
            root = root.display(),
        );
        for connect_port in &config.connect_ports {
            conf.push_str(&format!("ConnectPort {connect_port}\n"));
        }
        if let Some((user, password)) = config.basic_auth {
            conf.push_str(&format!("BasicAuth {user} {password}\n"));
        }
        let conf_path = dir.path().join("tinyproxy.conf");
        fs::write(&conf_path, conf).map_err(|e| e.to_string())?;
        let binary = root.join("usr/bin/tinyproxy");
        let mut command = if config.hosts.is_empty() {
            let mut command = Command::new(&binary);
            command.arg("-d").arg("-c").arg(&conf_path);
            command
        } else {
            let hosts: String = config
                .hosts
                .iter()
                .map(|(name, address)| format!("{address} {name}\n"))
                .collect();
            let hosts_path = dir.path().join("hosts");
            fs::write(&hosts_path, format!("127.0.0.1 localhost\n{hosts}"))
                .map_err(|e| e.to_string())?;
            // The private /etc/hosts exists only in the proxy's namespace.
            let mut command = Command::new("unshare");
            command
                .args(["-m", "--propagation", "private", "sh", "-c"])
                .arg("mount --bind \"$1\" /etc/hosts && exec \"$2\" -d -c \"$3\"");
            command
                .arg("sh")
                .arg(&hosts_path)
                .arg(&binary)
                .arg(&conf_path);
            command
        };
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting tinyproxy: {e}"))?;
        let mut proxy = TinyProxy { port, child, dir };
        proxy.wait_ready()?;
        Ok(proxy)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let log_file = self.dir.path().join("tinyproxy.log");
        let log = || fs::read_to_string(&log_file).unwrap_or_default();
        wait_listening(
            &mut self.child,
            self.port,
            "tinyproxy",
            Duration::from_secs(10),
            log,
        )
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What tinyproxy logged so far (it names every request it served).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("tinyproxy.log")).unwrap_or_default()
    }
}

impl Drop for TinyProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
