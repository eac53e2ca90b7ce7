//! What the component will see, decided before it runs: its config home, its
//! argv (a relative `-c` made absolute), its environment, the directories it
//! may open, and where the compile cache lives. Where the config home is and
//! what the global options mean come from the guest crate itself
//! (`contree_auth`), so the launcher and the component cannot disagree.

use std::path::{Component as PathPart, Path, PathBuf};

use anyhow::{Context, bail};
use clap::CommandFactory;
use contree_auth::workspace::{Cli, Environment, HOME_VARIABLES, is_store_working_file, version};

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

/// Set to `1` for the component: the launcher made every file it creates
/// private (umask 077), so the component need not warn about file modes.
pub const PRIVATE_FILES_ENV: &str = "CONTREE_PRIVATE_FILES";

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
    let guest_env = Environment::new(
        HOME_VARIABLES
            .iter()
            .filter_map(|name| Some((name.to_string(), var(name)?))),
    );
    let Some(home) = guest_env.contree_home() else {
        bail!("cannot find the config directory: set CONTREE_HOME, XDG_CONFIG_HOME or HOME")
    };
    let home = absolute(&home, cwd)?;
    let home_str = utf8(&home)?.to_string();

    let mut env = vec![
        ("CONTREE_HOME".to_string(), home_str.clone()),
        (PRIVATE_FILES_ENV.to_string(), "1".to_string()),
    ];
    env.extend(
        PASSED_ENV
            .iter()
            .filter_map(|name| Some((name.to_string(), var(name)?))),
    );

    let mut preopens = vec![(home.clone(), home_str)];
    let mut argv = Vec::with_capacity(args.len() + 1);
    argv.push("contree".to_string());
    argv.extend(args);
    if let Some((index, value)) = config_arg(&argv) {
        let path = absolute(&guest_env.expand_user(&value), cwd)?;
        if let Some(dir) = outside_config_dir(&path, &home)? {
            preopens.push((dir.clone(), utf8(&dir)?.to_string()));
        }
        if path.to_str() != Some(value.as_str()) {
            // The component has no working directory and no `~`: give it the
            // absolute path, keeping `--config=` or `-c` glued to it.
            let path = utf8(&path)?;
            let arg = &mut argv[index];
            *arg = match arg.strip_suffix(value.as_str()) {
                Some(prefix) if !prefix.is_empty() => format!("{prefix}{path}"),
                _ => path.to_string(),
            };
        }
    }

    Ok(Plan {
        home,
        args: argv,
        env,
        preopens,
        cache_dir: cache_dir(&var),
    })
}

/// The value of `-c/--config` as the component's own argument parser sees
/// it in `argv` (`argv[0]` included), with the index of the argument that
/// holds it. `None` when there is none, or when the arguments do not parse
/// (the component then reports the usage error, or prints its help).
pub fn config_arg(argv: &[String]) -> Option<(usize, String)> {
    let command = Cli::command().version(version());
    let matches = command.try_get_matches_from(argv).ok()?;
    // `-c` is global (`contree auth ls -c x`): the level that parsed it
    // holds its index.
    let mut level = &matches;
    let mut found = None;
    loop {
        if level.value_source("config") == Some(clap::parser::ValueSource::CommandLine) {
            found = Some((
                level.get_one::<String>("config")?.clone(),
                level.index_of("config")?,
            ));
        }
        match level.subcommand() {
            Some((_, next)) => level = next,
            None => break,
        }
    }
    let (value, index) = found?;
    // clap counts the value's position; for `--config=x` and `-cx` it is the
    // argument itself, for `-c x` the one after the flag.
    let index = (index..argv.len())
        .chain(index.checked_sub(1))
        .find(|&i| argv[i].ends_with(value.as_str()))?;
    Some((index, value))
}

/// The directory to open for a config file outside the home: `None` when the
/// file is inside the home or its directory does not exist (the component
/// reports that). A directory is opened only if it holds nothing but config
/// files: opening the directory of `-c ~/auth.ini` would give the component
/// all of `$HOME`.
fn outside_config_dir(config: &Path, home: &Path) -> anyhow::Result<Option<PathBuf>> {
    let (Some(dir), Some(file_name)) = (config.parent(), config.file_name()) else {
        return Ok(None);
    };
    if dir.starts_with(home) || !dir.is_dir() {
        return Ok(None);
    }
    let refuse = |what: &str| {
        anyhow::anyhow!(
            "-c {}: its directory {} holds {what}, which the component would see; \
             keep the file in a directory of its own, or in {}",
            config.display(),
            dir.display(),
            home.display()
        )
    };
    if home.starts_with(dir) {
        return Err(refuse("the config home"));
    }
    let file_name = file_name.to_string_lossy();
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the directory of -c {}", config.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        let is_ini = !is_dir && name.ends_with(".ini");
        if !is_ini && !is_store_working_file(&name, &file_name) {
            return Err(refuse(&format!("other things ({name})")));
        }
    }
    Ok(Some(dir.to_path_buf()))
}

/// `$XDG_CACHE_HOME/contree-auth`, else `$HOME/.cache/contree-auth`. Only an
/// absolute path counts: the XDG spec says a relative one is to be ignored.
fn cache_dir(var: &impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let absolute = |name: &str| var(name).map(PathBuf::from).filter(|p| p.is_absolute());
    match (absolute("XDG_CACHE_HOME"), absolute("HOME")) {
        (Some(cache), _) => Some(cache.join("contree-auth")),
        (None, Some(home)) => Some(home.join(".cache/contree-auth")),
        (None, None) => None,
    }
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
    fn home_resolution_order_is_the_components() {
        let cwd = Path::new("/work");
        let p = plan(vec![], env(&[("HOME", "/h")]), Some(cwd)).unwrap();
        assert_eq!(p.home, Path::new("/h/.config/contree"));
        let p = plan(
            vec![],
            env(&[("HOME", "/h"), ("XDG_CONFIG_HOME", "/x")]),
            Some(cwd),
        )
        .unwrap();
        assert_eq!(p.home, Path::new("/x/contree"));
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
    fn contree_home_with_a_tilde_is_expanded_like_the_component_does() {
        let p = plan(
            vec![],
            env(&[("CONTREE_HOME", "~/ct"), ("HOME", "/h")]),
            None,
        )
        .unwrap();
        assert_eq!(p.home, Path::new("/h/ct"));
        assert_eq!(p.env[0], ("CONTREE_HOME".into(), "/h/ct".into()));
    }

    #[test]
    fn cache_follows_xdg_cache_home_and_ignores_a_relative_one() {
        let p = plan(vec![], env(&[("HOME", "/h")]), None).unwrap();
        assert_eq!(
            p.cache_dir.as_deref(),
            Some(Path::new("/h/.cache/contree-auth"))
        );
        let p = plan(
            vec![],
            env(&[("HOME", "/h"), ("XDG_CACHE_HOME", "/c")]),
            None,
        )
        .unwrap();
        assert_eq!(p.cache_dir.as_deref(), Some(Path::new("/c/contree-auth")));
        let p = plan(
            vec![],
            env(&[("HOME", "/h"), ("XDG_CACHE_HOME", "rel/cache")]),
            Some(Path::new("/work")),
        )
        .unwrap();
        assert_eq!(
            p.cache_dir.as_deref(),
            Some(Path::new("/h/.cache/contree-auth"))
        );
        let p = plan(vec![], env(&[("CONTREE_HOME", "/c"), ("HOME", "h")]), None).unwrap();
        assert_eq!(p.cache_dir, None, "a relative HOME gives no cache");
    }

    #[test]
    fn passes_only_listed_env_the_resolved_home_and_private_files() {
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
                (PRIVATE_FILES_ENV.to_string(), "1".to_string()),
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
    fn config_is_read_by_the_components_own_argument_parser() {
        let argv = |args: &[&str]| strings(&[&["contree"], args].concat());
        for (args, want) in [
            (&["-c", "a.ini", "auth", "ls"][..], Some((2, "a.ini"))),
            (
                &["-f", "json", "--config=b.ini", "auth"],
                Some((3, "b.ini")),
            ),
            (&["-cc.ini", "auth", "ls"], Some((1, "c.ini"))),
            (&["--config", "d.ini", "auth"], Some((2, "d.ini"))),
            // An option's value is not the `auth` word, nor a path.
            (&["--format", "auth", "-c", "x.ini", "auth"], None),
            (&["-L", "info", "-c", "x.ini", "auth"], Some((4, "x.ini"))),
            (&["-c", "-c", "auth"], None),
            (&["-L", "debug", "auth", "ls"], None),
            // A global option anywhere (issue 20 item 5).
            (&["auth", "-c", "x"], Some((3, "x"))),
            (&["auth", "ls", "--config=y.ini"], Some((3, "y.ini"))),
            (&["auth", "rm", "a", "-cz.ini", "-y"], Some((4, "z.ini"))),
            (&["-c", "x", "auth", "--bogus"], None),
        ] {
            let found = config_arg(&argv(args));
            let want = want.map(|(i, v)| (i, v.to_string()));
            assert_eq!(found, want, "{args:?}");
        }
    }

    #[test]
    fn an_outside_config_in_a_directory_of_its_own_is_opened_and_made_absolute() {
        let outside = tempfile::tempdir().unwrap();
        let outside = outside.path().canonicalize().unwrap();
        let home = tempfile::tempdir().unwrap();
        let home = home.path().canonicalize().unwrap();
        std::fs::write(outside.join("auth.ini"), "").unwrap();
        std::fs::write(outside.join("cli.ini"), "").unwrap();
        // The component's own working files, as it names them.
        std::fs::create_dir(outside.join("auth.ini.lock")).unwrap();
        std::fs::write(outside.join(".auth.ini.0123456789abcdef.tmp"), "").unwrap();
        let p = plan(
            strings(&["-f", "json", "--config=x/../auth.ini", "auth", "ls"]),
            env(&[("CONTREE_HOME", home.to_str().unwrap())]),
            Some(&outside),
        )
        .unwrap();
        let want = outside.join("auth.ini");
        assert_eq!(p.args[3], format!("--config={}", want.display()));
        assert_eq!(
            p.preopens[1],
            (outside.clone(), outside.to_str().unwrap().to_string())
        );
        let p = plan(
            strings(&["-c", "./auth.ini", "auth", "ls"]),
            env(&[("CONTREE_HOME", home.to_str().unwrap())]),
            Some(&outside),
        )
        .unwrap();
        let want = outside.join("auth.ini");
        assert_eq!(p.args[2], want.to_str().unwrap());
        assert_eq!(
            p.preopens[1],
            (outside.clone(), outside.to_str().unwrap().to_string())
        );
    }

    #[test]
    fn a_config_beside_other_files_is_refused_so_home_is_never_opened() {
        let user_home = tempfile::tempdir().unwrap();
        let user_home = user_home.path().canonicalize().unwrap();
        std::fs::create_dir_all(user_home.join(".ssh")).unwrap();
        std::fs::write(user_home.join(".bashrc"), "").unwrap();
        let vars = [("HOME", user_home.to_str().unwrap())];
        for config in ["~/auth.ini", "~/.config/auth.ini"] {
            if config.contains(".config") {
                std::fs::create_dir_all(user_home.join(".config")).unwrap();
            }
            let err = plan(strings(&["-c", config, "auth", "ls"]), env(&vars), None)
                .unwrap_err()
                .to_string();
            assert!(err.contains(" holds "), "{err}");
            assert!(err.contains("directory of its own"), "{err}");
            assert_eq!(err.lines().count(), 1, "{err}");
        }
        // A file that is no config, alone beside it, is refused too.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes.txt"), "").unwrap();
        let config = dir.path().join("auth.ini");
        assert!(
            plan(
                strings(&["-c", config.to_str().unwrap(), "auth"]),
                env(&vars),
                None
            )
            .is_err()
        );
    }

    #[test]
    fn a_config_inside_the_home_or_in_a_missing_directory_opens_nothing_more() {
        let home = tempfile::tempdir().unwrap();
        let home = home.path().canonicalize().unwrap();
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
}
