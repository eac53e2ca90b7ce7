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

use std::fs::{self, File};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::python;
use super::support::in_ci;
use super::wassette::fetch_debian_package;

const SUITE: &str = "bookworm";
const PACKAGE: &str = "tinyproxy-bin";
pub const VERSION: &str = "1.11.1-2.1+deb12u1";
const READY_MARK: &str = ".contree-tinyproxy-ready";

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
    let target = python::target_dir();
    let dir = target.join(format!("debian-{SUITE}-tinyproxy"));
    let root = dir.join("root");
    let ready = || dir.join(READY_MARK).is_file() && root.join("usr/bin/tinyproxy").is_file();
    if ready() {
        return Ok(root);
    }
    fs::create_dir_all(&target).map_err(|e| format!("creating {}: {e}", target.display()))?;
    let lock_path = target.join(format!("debian-{SUITE}-tinyproxy.lock"));
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
    eprintln!("fetching tinyproxy {VERSION} into {} (once)", dir.display());
    fetch_debian_package(&dir, SUITE, PACKAGE, Some(VERSION))?;
    fs::write(dir.join(READY_MARK), VERSION).map_err(|e| format!("marking it ready: {e}"))?;
    drop(lock);
    Ok(root)
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
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "tinyproxy exited at once ({status}): {}",
                    self.log()
                ));
            }
            if TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!(
            "tinyproxy did not listen within 10 s: {}",
            self.log()
        ))
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

/// A loopback port nothing listens on (just now), for a server the test
/// starts next (tinyproxy, the registry); a test that needs a port that
/// stays refused uses `support::refusing_port`.
pub(super) fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}
