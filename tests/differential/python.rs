//! The reference: the Python `contree-cli` 0.9.4 from PyPI, installed once
//! into `<workspace>/target/py-venv-contree-cli-0.9.4` by the harness's
//! shared venv maker (`contree_host::harness::python`), and run with a
//! controlled environment.
//!
//! `CONTREE_TEST_PYTHON` picks the interpreter that creates the venv
//! (default `python3` on `PATH`); `CARGO_TARGET_DIR` moves it along with the
//! target directory.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use contree_host::Outcome;
use contree_host::harness::python::{self, Packages, run_limited};

pub const CLI_VERSION: &str = "0.9.4";
/// A run of the Python CLI that takes longer than this is killed: it retries
/// some failures forever, and a test must fail rather than hang.
const RUN_LIMIT: Duration = Duration::from_secs(60);

const REFERENCE: Packages<'static> = Packages {
    name: "py-venv-contree-cli-0.9.4",
    requirements: &["contree-cli==0.9.4"],
    check: "import importlib.metadata as m, contree_client.profiles, contree_cli.cli.auth; \
            assert m.version('contree-cli') == '0.9.4'",
};

/// The ready venv (panics with the reason if it cannot be made).
pub fn venv() -> &'static Path {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        python::venv(&REFERENCE).unwrap_or_else(|e| {
            panic!("the Python contree-cli {CLI_VERSION} reference is not available: {e}")
        })
    })
}

/// Runs `<venv>/bin/contree ARGS...` with only the given environment (plus
/// `PATH` and `CONTREE_NO_UPDATE_CHECK=1`: otherwise it asks PyPI), this stdin,
/// and no controlling terminal, so that `getpass` reads stdin as it does in CI
/// rather than waiting on a developer's terminal.
pub fn run_cli(args: &[String], env: &[(String, String)], stdin: &[u8]) -> Outcome {
    let mut cmd = Command::new(venv().join("bin/contree"));
    cmd.args(args);
    controlled_env(&mut cmd, env);
    run_limited(cmd, stdin.to_vec(), RUN_LIMIT)
        .unwrap_or_else(|e| panic!("running the Python CLI {args:?}: {e}"))
}

/// `python -c SCRIPT ARGS...` in the venv, with the same controlled environment.
pub fn run_python(script: &str, args: &[String], env: &[(String, String)]) -> Outcome {
    let mut cmd = Command::new(venv().join("bin/python"));
    cmd.arg("-c").arg(script).args(args);
    controlled_env(&mut cmd, env);
    run_limited(cmd, Vec::new(), RUN_LIMIT).unwrap_or_else(|e| panic!("running Python: {e}"))
}

/// The environment every Python program of this suite runs in: only `env`,
/// `PATH` and `CONTREE_NO_UPDATE_CHECK=1`, in a session of its own.
pub(crate) fn controlled_env(cmd: &mut Command, env: &[(String, String)]) {
    cmd.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    cmd.env("CONTREE_NO_UPDATE_CHECK", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    // SAFETY: setsid is async-signal-safe and touches no memory of ours.
    unsafe {
        cmd.pre_exec(|| {
            rustix::process::setsid()
                .map(|_| ())
                .map_err(std::io::Error::from)
        });
    }
}

/// What the Python library's own reader (`contree_client.profiles.load_profiles`)
/// makes of one auth.ini (with the cli.ini beside it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Loaded {
    Ok {
        active: String,
        profiles: Vec<Profile>,
    },
    /// The reader raised: the exception's class name and message.
    Failed(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub kind: String,
    pub url: String,
    pub project: Option<String>,
    /// The token itself: these are test tokens, compared here and never printed
    /// by a passing test.
    pub token: Option<String>,
}

/// One Python process for many reads (its start-up and imports are most of
/// the cost of a run): `load_profiles` of each `load` path, then the CLI's
/// own `contree -c PATH -o json auth ls --offline` through its real `main()`
/// for each `list` path. `CONTREE_HOME` (where the CLI keeps its session
/// database) is the caller's.
const STATE: &str = r#"
import contextlib, io, json, os, sys, traceback
from contree_client.profiles import load_profiles
spec = json.loads(sys.argv[1])
loaded = []
for path in spec["load"]:
    try:
        profiles, active = load_profiles(path)
    except Exception as e:
        loaded.append({"error": type(e).__name__ + ": " + str(e)})
        continue
    loaded.append({"active": active, "profiles": [
        {"name": p.name, "type": p.auth_type, "url": p.url, "project": p.project, "token": p.token}
        for p in profiles.values()]})
listings = []
if spec["list"]:
    from contree_cli.__main__ import main
for path in spec["list"]:
    sys.argv = ["contree", "-c", path, "-o", "json", "auth", "ls", "--offline"]
    sys.stdin = open(os.devnull)  # a run closes it on the way out
    out, err, code = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main()
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except Exception:
            traceback.print_exc()
            code = 1
    listings.append({"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()})
print(json.dumps({"loaded": loaded, "listings": listings}))
"#;

/// Loads each file with `load_profiles`, all in one Python process.
pub fn load_profiles(paths: &[&Path]) -> Vec<Loaded> {
    state(paths, &[], None).0
}

/// `load_profiles` of each of `load`, and the CLI's `-c PATH -o json auth ls
/// --offline` of each of `list`, in one Python process run with `home` as
/// `CONTREE_HOME` and `HOME`.
pub fn load_and_list(load: &[&Path], list: &[&Path], home: &Path) -> (Vec<Loaded>, Vec<Outcome>) {
    state(load, list, Some(home))
}

fn state(load: &[&Path], list: &[&Path], home: Option<&Path>) -> (Vec<Loaded>, Vec<Outcome>) {
    let utf8 = |p: &&Path| p.to_str().expect("UTF-8 test paths").to_string();
    let spec = serde_json::json!({
        "load": load.iter().map(utf8).collect::<Vec<_>>(),
        "list": list.iter().map(utf8).collect::<Vec<_>>(),
    })
    .to_string();
    let env: Vec<(String, String)> = home
        .map(|h| {
            let h = h.to_string_lossy().into_owned();
            vec![
                ("CONTREE_HOME".to_string(), h.clone()),
                ("HOME".to_string(), h),
            ]
        })
        .unwrap_or_default();
    let out = run_python(STATE, &[spec], &env);
    assert_eq!(
        out.code, 0,
        "the load_profiles script failed:\n{}",
        out.stderr
    );
    let all: serde_json::Value = serde_json::from_str(out.stdout.trim())
        .unwrap_or_else(|e| panic!("load_profiles printed no JSON ({e}):\n{}", out.stderr));
    let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
    let loaded = all["loaded"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|one| match one.get("error") {
            Some(e) => Loaded::Failed(text(e).unwrap_or_default()),
            None => Loaded::Ok {
                active: text(&one["active"]).expect("active is a string"),
                profiles: one["profiles"]
                    .as_array()
                    .expect("profiles")
                    .iter()
                    .map(|p| Profile {
                        name: text(&p["name"]).expect("name"),
                        kind: text(&p["type"]).expect("type"),
                        url: text(&p["url"]).expect("url"),
                        project: text(&p["project"]),
                        token: text(&p["token"]),
                    })
                    .collect(),
            },
        })
        .collect();
    let listings = all["listings"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|l| Outcome {
            code: l["code"].as_i64().unwrap_or(-1) as i32,
            stdout: text(&l["stdout"]).unwrap_or_default(),
            stderr: text(&l["stderr"]).unwrap_or_default(),
            trap: None,
        })
        .collect();
    (loaded, listings)
}
