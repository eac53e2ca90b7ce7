//! The `contree` launcher: runs the component with least privilege, seeing
//! only its config home (plus the directory of an explicit `-c` file), a short
//! list of environment variables, the network through `wasi:http`, and the
//! terminal.

use std::path::{Component as PathPart, Path, PathBuf};

use anyhow::{Context, bail};

use crate::runner::{Outcome, RunSpec, Runner, Stdin};

/// Passed to the component when set (and `CONTREE_HOME`, always).
pub const PASSED_ENV: &[&str] = &[
    "HOME",
    "XDG_CONFIG_HOME",
    "CONTREE_PROFILE",
    "CONTREE_TOKEN",
    "NEBIUS_API_KEY",
    "CONTREE_URL",
    "CONTREE_PROJECT",
    "NEBIUS_AI_PROJECT",
    "COLUMNS",
];

/// Global options that take a value, so that their value is not taken for
/// the `auth` word or a `-c` path.
const VALUE_OPTIONS: &[&str] = &["-f", "--format", "-o", "--output", "-L", "--log-level"];

/// Everything the launcher decided before running the component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub home: PathBuf,
    /// The component's argv, `argv[0]` included.
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// `(host, guest)`: the same absolute path on both sides.
    pub preopens: Vec<(PathBuf, String)>,
    pub cache_dir: Option<PathBuf>,
}

/// Decides how to run the component. `var` reads the environment; `cwd` is
/// needed only to resolve relative paths.
pub fn plan(
    args: Vec<String>,
    var: impl Fn(&str) -> Option<String>,
    cwd: Option<&Path>,
) -> anyhow::Result<Plan> {
    let var = |name: &str| var(name).filter(|v| !v.is_empty());
    let home = match (var("CONTREE_HOME"), var("XDG_CONFIG_HOME"), var("HOME")) {
        (Some(home), _, _) => absolute(Path::new(&home), cwd)?,
        (None, Some(xdg), _) => absolute(&Path::new(&xdg).join("contree"), cwd)?,
        (None, None, Some(home)) => absolute(&Path::new(&home).join(".config/contree"), cwd)?,
        (None, None, None) => {
            bail!("cannot find the config directory: set CONTREE_HOME, XDG_CONFIG_HOME or HOME")
        }
    };
    let home_str = utf8(&home)?.to_string();

    let mut env = vec![("CONTREE_HOME".to_string(), home_str.clone())];
    env.extend(
        PASSED_ENV
            .iter()
            .filter_map(|name| Some((name.to_string(), var(name)?))),
    );

    let mut preopens = vec![(home.clone(), home_str)];
    let mut argv = Vec::with_capacity(args.len() + 1);
    argv.push("contree".to_string());
    argv.extend(args);
    for (index, value) in config_args(&argv[1..]) {
        let path = absolute(Path::new(&value), cwd)?;
        let Some(parent) = path.parent() else {
            continue;
        };
        if !parent.starts_with(&home)
            && parent.is_dir()
            && !preopens.iter().any(|(p, _)| p == parent)
        {
            preopens.push((parent.to_path_buf(), utf8(parent)?.to_string()));
        }
        if Path::new(&value).is_relative() {
            // The component has no working directory: give it the absolute path.
            let arg = &mut argv[index + 1];
            let path = utf8(&path)?;
            *arg = match arg.strip_suffix(value.as_str()) {
                Some(prefix) if !prefix.is_empty() => format!("{prefix}{path}"),
                _ => path.to_string(),
            };
        }
    }

    let cache_dir = match (var("XDG_CACHE_HOME"), var("HOME")) {
        (Some(cache), _) => absolute(&Path::new(&cache).join("contree-auth"), cwd).ok(),
        (None, Some(home)) => absolute(&Path::new(&home).join(".cache/contree-auth"), cwd).ok(),
        (None, None) => None,
    };

    Ok(Plan {
        home,
        args: argv,
        env,
        preopens,
        cache_dir,
    })
}

/// The values of `-c/--config` among the global options (before `auth`), with
/// the index of the argument that holds each value.
pub fn config_args(args: &[String]) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        if arg == "auth" || arg == "--" {
            break;
        }
        if arg == "-c" || arg == "--config" {
            if let Some(value) = args.get(i + 1) {
                found.push((i + 1, value.clone()));
            }
            i += 2;
            continue;
        }
        if let Some(value) = arg.strip_prefix("--config=") {
            found.push((i, value.to_string()));
        } else if let Some(value) = arg.strip_prefix("-c")
            && !value.is_empty()
        {
            let value = value.strip_prefix('=').unwrap_or(value);
            found.push((i, value.to_string()));
        } else if VALUE_OPTIONS.contains(&arg) {
            i += 1;
        }
        i += 1;
    }
    found
}

/// `path` made absolute against `cwd`, with `.` and `..` resolved lexically:
/// the component matches paths against its preopens textually.
fn absolute(path: &Path, cwd: Option<&Path>) -> anyhow::Result<PathBuf> {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        let Some(cwd) = cwd else {
            bail!(
                "cannot resolve the relative path {} without a working directory",
                path.display()
            );
        };
        cwd.join(path)
    };
    let mut out = PathBuf::new();
    for part in joined.components() {
        match part {
            PathPart::CurDir => {}
            PathPart::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

fn utf8(path: &Path) -> anyhow::Result<&str> {
    path.to_str()
        .with_context(|| format!("the path {} is not valid UTF-8", path.display()))
}

/// Creates the config home, private to the user, if it is missing.
pub fn ensure_home(home: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(home)
        .with_context(|| format!("cannot create the config directory {}", home.display()))
}

/// Files created by the component (through the host) are private.
pub fn restrict_umask() {
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

/// The whole launcher: returns the exit code, or an error of the launcher
/// itself (to be reported as one `contree: ...` line).
pub fn launch(component: &[u8]) -> anyhow::Result<i32> {
    restrict_umask();
    let args = std::env::args_os()
        .skip(1)
        .map(|a| {
            a.into_string()
                .map_err(|a| anyhow::anyhow!("argument {a:?} is not valid UTF-8"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let cwd = std::env::current_dir().ok();
    let plan = plan(args, |name| std::env::var(name).ok(), cwd.as_deref())?;
    ensure_home(&plan.home)?;
    let runner = Runner::new(component, plan.cache_dir.as_deref())?;
    let outcome = runner.run(RunSpec {
        args: plan.args,
        env: plan.env,
        preopens: plan.preopens,
        stdin: Stdin::Inherit,
        capture: false,
        #[cfg(unix)]
        echo_control: crate::terminal::EchoControl::for_stdin(),
    })?;
    report_trap(&outcome);
    Ok(outcome.code)
}

fn report_trap(outcome: &Outcome) {
    if let Some(trap) = &outcome.trap {
        eprintln!("contree: internal error: the component crashed: {trap}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn home_resolution_order() {
        let cwd = Path::new("/work");
        let p = plan(vec![], env(&[("HOME", "/h")]), Some(cwd)).unwrap();
        assert_eq!(p.home, Path::new("/h/.config/contree"));
        assert_eq!(
            p.cache_dir.as_deref(),
            Some(Path::new("/h/.cache/contree-auth"))
        );
        let p = plan(
            vec![],
            env(&[
                ("HOME", "/h"),
                ("XDG_CONFIG_HOME", "/x"),
                ("XDG_CACHE_HOME", "/c"),
            ]),
            Some(cwd),
        )
        .unwrap();
        assert_eq!(p.home, Path::new("/x/contree"));
        assert_eq!(p.cache_dir.as_deref(), Some(Path::new("/c/contree-auth")));
        let p = plan(
            vec![],
            env(&[
                ("HOME", "/h"),
                ("XDG_CONFIG_HOME", "/x"),
                ("CONTREE_HOME", "rel/./a/../b"),
            ]),
            Some(cwd),
        )
        .unwrap();
        assert_eq!(p.home, Path::new("/work/rel/b"));
        assert!(plan(vec![], env(&[]), Some(cwd)).is_err());
        // Empty counts as unset.
        let p = plan(vec![], env(&[("CONTREE_HOME", ""), ("HOME", "/h")]), None).unwrap();
        assert_eq!(p.home, Path::new("/h/.config/contree"));
    }

    #[test]
    fn passes_only_listed_env_and_the_resolved_home() {
        let p = plan(
            strings(&["auth", "ls"]),
            env(&[
                ("HOME", "/h"),
                ("CONTREE_TOKEN", "t"),
                ("PATH", "/bin"),
                ("AWS_SECRET_ACCESS_KEY", "x"),
                ("COLUMNS", "80"),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(
            p.env,
            vec![
                ("CONTREE_HOME".to_string(), "/h/.config/contree".to_string()),
                ("HOME".to_string(), "/h".to_string()),
                ("CONTREE_TOKEN".to_string(), "t".to_string()),
                ("COLUMNS".to_string(), "80".to_string()),
            ]
        );
        assert_eq!(p.args, strings(&["contree", "auth", "ls"]));
        assert_eq!(
            p.preopens,
            vec![(
                PathBuf::from("/h/.config/contree"),
                "/h/.config/contree".to_string()
            )]
        );
    }

    #[test]
    fn finds_config_options_before_auth_only() {
        let found = config_args(&strings(&[
            "-f",
            "-c",
            "-c",
            "a.ini",
            "--config=b.ini",
            "-cc.ini",
            "-c=d.ini",
            "auth",
            "-c",
            "e",
        ]));
        assert_eq!(
            found,
            vec![
                (3, "a.ini".to_string()),
                (4, "b.ini".to_string()),
                (5, "c.ini".to_string()),
                (6, "d.ini".to_string()),
            ]
        );
        // An option's value is not the `auth` word.
        assert_eq!(
            config_args(&strings(&["--format", "auth", "-c", "x", "auth"])),
            vec![(3, "x".to_string())]
        );
        assert!(config_args(&strings(&["auth", "--config", "x"])).is_empty());
    }

    #[test]
    fn preopens_the_directory_of_an_outside_config_and_absolutizes_it() {
        let outside = tempfile::tempdir().unwrap();
        let outside = outside.path().canonicalize().unwrap();
        let home = outside.join("home");
        let p = plan(
            strings(&["-f", "json", "--config=sub/../auth.ini", "auth", "ls"]),
            env(&[("CONTREE_HOME", home.to_str().unwrap())]),
            Some(&outside),
        )
        .unwrap();
        let want = outside.join("auth.ini");
        assert_eq!(p.args[3], format!("--config={}", want.display()));
        assert_eq!(p.preopens.len(), 2);
        assert_eq!(p.preopens[1].0, outside);
        assert_eq!(p.preopens[1].1, outside.to_str().unwrap());

        // Inside the home, or in a missing directory: nothing more is opened.
        let p = plan(
            strings(&["-c", &format!("{}/x.ini", home.display()), "auth"]),
            env(&[("CONTREE_HOME", home.to_str().unwrap())]),
            None,
        )
        .unwrap();
        assert_eq!(p.preopens.len(), 1);
        let p = plan(
            strings(&["-c", "/nonexistent-dir-xyz/x.ini", "auth"]),
            env(&[("CONTREE_HOME", home.to_str().unwrap())]),
            None,
        )
        .unwrap();
        assert_eq!(p.preopens.len(), 1);
        assert_eq!(p.args[2], "/nonexistent-dir-xyz/x.ini");
    }

    #[cfg(unix)]
    #[test]
    fn ensure_home_creates_a_private_directory() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("a/b/contree");
        ensure_home(&home).unwrap();
        let mode = std::fs::metadata(&home).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        ensure_home(&home).unwrap();
    }
}
