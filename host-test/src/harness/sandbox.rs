//! The harness the tests drive: a private config home in a temporary
//! directory, and runs of the component that see only that home, the
//! environment the test sets and the stdin it gives.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use tempfile::TempDir;

use super::faults::{Faults, faulty_runner};
use super::tokens::scanned;
use crate::outcome::Outcome;
use crate::outgoing::Network;
use crate::runner::{RunSpec, Stdin};

pub struct Sandbox {
    _dir: TempDir,
    home: PathBuf,
    env: Vec<(String, String)>,
    /// The host's own environment, as far as its network goes
    /// (`SSL_CERT_FILE`, `HTTPS_PROXY`, ...): the guest never sees it.
    host_env: Vec<(String, String)>,
    stdin: Vec<u8>,
    preopens: Vec<PathBuf>,
    faults: Option<Arc<Faults>>,
}

impl Default for Sandbox {
    fn default() -> Self {
        Sandbox::new()
    }
}

impl Sandbox {
    /// A fresh, empty config home (mode 0700), removed when dropped.
    pub fn new() -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix("contree-home-")
            .tempdir()
            .expect("creating a temporary config home");
        // The guest sees the same absolute path, so resolve symlinks once.
        let home = dir
            .path()
            .canonicalize()
            .expect("resolving the temporary config home");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700))
                .expect("chmod 0700 the config home");
        }
        Sandbox {
            _dir: dir,
            home,
            env: Vec::new(),
            host_env: Vec::new(),
            stdin: Vec::new(),
            preopens: Vec::new(),
            faults: None,
        }
    }

    /// The config home: `CONTREE_HOME` of every run.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// `home()/rel`.
    pub fn path(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.home.join(rel)
    }

    /// Sets an environment variable for later runs (replacing an earlier value).
    /// Setting `CONTREE_HOME` overrides the sandbox's own.
    pub fn env(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        let key = key.into();
        self.env.retain(|(k, _)| *k != key);
        self.env.push((key, value.into()));
        self
    }

    /// Sets a variable of the host's environment for later runs: what the
    /// launcher would read from its own (its CAs and proxies, see
    /// `outgoing`), never passed to the guest.
    pub fn host_env(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        let key = key.into();
        self.host_env.retain(|(k, _)| *k != key);
        self.host_env.push((key, value.into()));
        self
    }

    /// Unsets a variable set with [`Sandbox::env`].
    pub fn remove_env(&mut self, key: &str) -> &mut Self {
        self.env.retain(|(k, _)| k != key);
        self
    }

    /// The standard input of later runs (empty unless set).
    pub fn stdin(&mut self, bytes: impl Into<Vec<u8>>) -> &mut Self {
        self.stdin = bytes.into();
        self
    }

    /// Also gives later runs this directory, at the same absolute path.
    pub fn preopen(&mut self, host_path: impl Into<PathBuf>) -> &mut Self {
        self.preopens.push(host_path.into());
        self
    }

    /// Later runs (in the embedded runtime) reach the disk through the
    /// harness's fault injector with this plan; `None` goes back to the
    /// stock host. See [`super::faults`].
    pub fn faults(&mut self, faults: Option<Arc<Faults>>) -> &mut Self {
        self.faults = faults;
        self
    }

    /// Writes `home()/rel`, creating parent directories.
    pub fn write_file(&self, rel: impl AsRef<Path>, contents: impl AsRef<[u8]>) {
        let path = self.path(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("creating parent directories");
        }
        std::fs::write(&path, contents)
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }

    /// `home()/rel` as text, `None` if it does not exist.
    pub fn read_file(&self, rel: impl AsRef<Path>) -> Option<String> {
        let path = self.path(rel);
        match std::fs::read(&path) {
            Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => panic!("reading {}: {e}", path.display()),
        }
    }

    /// The names in the config home, sorted (what a run left there).
    pub fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.home)
            .expect("listing the config home")
            .map(|e| {
                e.expect("a directory entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }

    /// The permission bits of `home()/rel` (for example `0o600`).
    #[cfg(unix)]
    pub fn mode(&self, rel: impl AsRef<Path>) -> Option<u32> {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(self.path(rel)).ok()?;
        Some(meta.permissions().mode() & 0o7777)
    }

    /// The environment of a run: `CONTREE_HOME` first, then what was set.
    fn run_env(&self) -> Vec<(String, String)> {
        let mut env = Vec::with_capacity(self.env.len() + 1);
        if !self.env.iter().any(|(k, _)| k == "CONTREE_HOME") {
            env.push(("CONTREE_HOME".to_string(), self.home_str().to_string()));
        }
        env.extend(self.env.iter().cloned());
        env
    }

    fn home_str(&self) -> &str {
        self.home.to_str().expect("temporary paths are UTF-8")
    }

    fn dirs(&self) -> Vec<(PathBuf, String)> {
        std::iter::once(&self.home)
            .chain(&self.preopens)
            .map(|p| (p.clone(), p.to_string_lossy().into_owned()))
            .collect()
    }

    /// A fresh instance of the component for typed calls, seeing this home and environment.
    pub fn typed(&self) -> crate::typed::Typed {
        super::shared_typed_runner()
            .instantiate(&self.run_env(), &self.dirs())
            .unwrap_or_else(|err| panic!("instantiating the component: {err:#}"))
    }

    /// Runs `contree ARGS...` in the embedded runtime, everything captured,
    /// with the stdin set by [`Sandbox::stdin`].
    pub fn run<I, S>(&self, args: I) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.run_with_stdin(args, self.stdin.clone())
    }

    /// Like [`Sandbox::run`], with this stdin for this run only.
    pub fn run_with_stdin<I, S>(&self, args: I, stdin: impl Into<Vec<u8>>) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let spec = RunSpec {
            args: argv(args),
            env: self.run_env(),
            preopens: self.dirs(),
            stdin: Stdin::Bytes(stdin.into()),
            capture: true,
            network: Arc::new(Network::from_vars(|name| {
                let value = self.host_env.iter().find(|(k, _)| k == name);
                value.map(|(_, v)| v.clone())
            })),
        };
        let outcome = match &self.faults {
            Some(faults) => faulty_runner().run_with_extension(spec, faults.clone()),
            None => super::shared_runner()
                .unwrap_or_else(|e| panic!("loading the component: {e:#}"))
                .run(spec),
        };
        scanned(outcome.unwrap_or_else(|e| panic!("running the component: {e:#}")))
    }

    /// Runs the same under the stock `wasmtime` CLI, if one is on `PATH`:
    /// `wasmtime run -S http --dir HOME --env CONTREE_HOME=HOME ... WASM ARGS...`.
    /// `None` without a `wasmtime` on `PATH`.
    pub fn run_stock_wasmtime<I, S>(&self, args: I) -> Option<Outcome>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.run_stock_wasmtime_component(super::component_path(), args)
    }

    /// [`Sandbox::run_stock_wasmtime`] with another component file (one
    /// pulled from a registry, say).
    pub fn run_stock_wasmtime_component<I, S>(&self, wasm: &Path, args: I) -> Option<Outcome>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let wasmtime = super::wasmtime_cli()?;
        let mut cmd = Command::new(wasmtime);
        cmd.args(["run", "-S", "http"]);
        for (dir, _) in self.dirs() {
            cmd.arg("--dir").arg(dir);
        }
        for (k, v) in self.run_env() {
            cmd.arg("--env").arg(format!("{k}={v}"));
        }
        cmd.arg(wasm);
        cmd.args(args.into_iter().map(|a| a.as_ref().to_string()));
        cmd.env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("starting wasmtime");
        let mut stdin = child.stdin.take().expect("piped stdin");
        let bytes = self.stdin.clone();
        // Fed from a thread: a guest that doesn't read must not block us.
        let feeder = std::thread::spawn(move || {
            let _ = stdin.write_all(&bytes);
        });
        let output = child.wait_with_output().expect("waiting for wasmtime");
        let _ = feeder.join();
        let code = output.status.code().unwrap_or(STOCK_TRAP_EXIT_CODE);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        Some(scanned(Outcome {
            code,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            trap: (code == STOCK_TRAP_EXIT_CODE).then(|| stderr.clone()),
            stderr,
        }))
    }
}

/// The stock CLI exits as if by SIGABRT on a trap; a death by a signal is
/// reported the same way.
const STOCK_TRAP_EXIT_CODE: i32 = 134;

fn argv<I, S>(args: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    std::iter::once("contree".to_string())
        .chain(args.into_iter().map(|a| a.as_ref().to_string()))
        .collect()
}
