//! The corpus in `tests/corpus/`: hand-written `NN-name.auth.ini` files (with
//! an optional `NN-name.cli.ini` beside them), one or more configparser rules
//! of SPEC §2 each, read by both tools.
//!
//! A file is read by Python's `load_profiles` and its `-o json auth ls -O`,
//! and by our `-f json auth ls -O`; names, types, urls, projects, token
//! hashes, the active profile and the statuses must agree. Files named
//! `NN-fail-*` must be refused by both: the reader raises, both listings exit
//! non-zero, and our write (`auth switch`) fails and leaves the file as it was.

use std::path::{Path, PathBuf};

use contree_host::{Outcome, Sandbox};
use serde_json::{Value, json};

use crate::common::{ours, rows_of, sha16, show};
use crate::differences;
use crate::python::{self, Loaded};

struct Case {
    name: String,
    auth: Vec<u8>,
    cli: Option<Vec<u8>>,
    /// Each tool's home, holding copies of the files.
    py: Sandbox,
    ours: Sandbox,
}

/// Corpus files on which our component differs from the reference without
/// the difference being documented (see `unlisted.rs`): still asserted, and
/// tagged in the failure message.
const UNLISTED: &[&str] = &[];

/// Corpus files on which we differ on purpose (README "Differences"): a
/// UTF-8 byte-order mark, which configparser refuses and we skip. Checked
/// in `differences::a_byte_order_mark_is_skipped_here_and_refused_by_python`.
pub const DOCUMENTED: &[&str] = &["27-fail-bom"];

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus")
}

fn cases() -> Vec<Case> {
    let mut names: Vec<String> = std::fs::read_dir(corpus_dir())
        .expect("reading tests/corpus")
        .map(|e| {
            e.expect("a corpus entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter_map(|n| n.strip_suffix(".auth.ini").map(str::to_string))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let auth = std::fs::read(corpus_dir().join(format!("{name}.auth.ini"))).unwrap();
            let cli = std::fs::read(corpus_dir().join(format!("{name}.cli.ini"))).ok();
            let (py, ours) = (Sandbox::new(), Sandbox::new());
            for sb in [&py, &ours] {
                sb.write_file("auth.ini", &auth);
                if let Some(cli) = &cli {
                    sb.write_file("cli.ini", cli);
                }
            }
            Case {
                name,
                auth,
                cli,
                py,
                ours,
            }
        })
        .collect()
}

/// The rows `auth ls --offline` should print for what `load_profiles` read:
/// the reference reader's result in the listing's shape.
fn rows_from_loaded(loaded: &Loaded) -> Vec<Value> {
    let Loaded::Ok { active, profiles } = loaded else {
        panic!("not loaded: {loaded:?}")
    };
    profiles
        .iter()
        .map(|p| {
            let token = p.token.as_deref().unwrap_or("");
            json!({
                "name": p.name,
                "type": p.kind,
                "url": p.url,
                "project": p.project.clone().unwrap_or_default(),
                "token_sha256": if token.is_empty() { "<no token>".to_string() } else { sha16(token) },
                "active": &p.name == active,
                "status": if token.is_empty() { "error" } else { differences::OUR_OFFLINE_STATUS },
            })
        })
        .collect()
}

#[test]
fn corpus_files_read_the_same_in_both_tools() {
    let cases = cases();
    assert!(
        cases.len() >= 15,
        "the corpus is missing files: {}",
        cases.len()
    );
    assert!(
        cases
            .iter()
            .any(|c| c.name.contains("crlf") && c.auth.windows(2).any(|w| w == b"\r\n")),
        "the CRLF corpus file lost its CRLF line endings (see tests/corpus/.gitattributes)"
    );

    // One Python process reads every file, with load_profiles and with the
    // CLI's `auth ls` (`-c PATH`): its imports are most of the cost of a run.
    let scratch = Sandbox::new();
    let paths: Vec<PathBuf> = cases.iter().map(|c| c.py.path("auth.ini")).collect();
    let paths: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let (loaded, listings) = python::load_and_list(&paths, &paths, scratch.home());

    let mut failures = Vec::new();
    for ((case, loaded), py_list) in cases.iter().zip(&loaded).zip(&listings) {
        let our_list = ours(&case.ours, &["-f", "json", "auth", "ls", "-O"]);
        if DOCUMENTED.contains(&case.name.as_str()) {
            assert_ne!(
                py_list.code, 0,
                "{}: Python now reads it; update DOCUMENTED",
                case.name
            );
            assert_eq!(our_list.code, 0, "{}: {}", case.name, our_list.stderr);
            continue;
        }
        let result = if case.name.contains("-fail-") {
            check_refused(case, loaded, py_list, &our_list)
        } else {
            check_read(loaded, py_list, &our_list)
        };
        if let Err(why) = result {
            let tag = if UNLISTED.contains(&case.name.as_str()) {
                " [UNLISTED DIFFERENCE, see unlisted.rs]"
            } else {
                ""
            };
            failures.push(format!(
                "=== {}{}{tag}\n{why}\n{}{}",
                case.name,
                if case.cli.is_some() {
                    " (with cli.ini)"
                } else {
                    ""
                },
                show("python ls", py_list),
                show("ours ls", &our_list)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} corpus file(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn check_read(loaded: &Loaded, py_list: &Outcome, our_list: &Outcome) -> Result<(), String> {
    if !matches!(loaded, Loaded::Ok { .. }) {
        return Err(format!("load_profiles failed: {loaded:?}"));
    }
    if py_list.code != 0 || our_list.code != 0 {
        return Err(format!(
            "exit codes: python {}, ours {}",
            py_list.code, our_list.code
        ));
    }
    let expected = rows_from_loaded(loaded);
    if expected.is_empty() {
        return Err("the file has no profiles: it tests nothing".into());
    }
    let py_rows: Vec<Value> = rows_of(&py_list.stdout)
        .into_iter()
        .map(differences::py_row)
        .collect();
    let our_rows: Vec<Value> = rows_of(&our_list.stdout)
        .into_iter()
        .map(differences::our_row)
        .collect();
    if py_rows != expected {
        return Err(format!(
            "Python's listing disagrees with its reader (a bug in this test?):\n{expected:#?}"
        ));
    }
    if our_rows != expected {
        return Err(format!(
            "our rows differ from the reference\n--- ours:\n{}\n--- reference:\n{}",
            pretty(&our_rows),
            pretty(&expected)
        ));
    }
    Ok(())
}

fn check_refused(
    case: &Case,
    loaded: &Loaded,
    py_list: &Outcome,
    our_list: &Outcome,
) -> Result<(), String> {
    let mut why = Vec::new();
    if !matches!(loaded, Loaded::Failed(_)) {
        why.push(format!("load_profiles accepted it: {loaded:?}"));
    }
    if py_list.code == 0 {
        why.push("Python's listing exited 0".to_string());
    }
    if our_list.code == 0 {
        why.push("our listing exited 0 where the reference refuses the file".to_string());
    } else if our_list.code != 1 || !our_list.stderr.contains("[ERROR]") {
        why.push(format!(
            "our listing should fail with exit 1 and an [ERROR] line, got exit {}",
            our_list.code
        ));
    }
    // Our writes fail too (Python's writer starts with the same reader), and
    // neither tool has touched the file.
    let our_switch = ours(&case.ours, &["-f", "json", "auth", "switch", "a"]);
    if our_switch.code != 1 {
        why.push(format!(
            "our auth switch should fail with exit 1, got {}",
            our_switch.code
        ));
    }
    for (who, sb) in [("python", &case.py), ("ours", &case.ours)] {
        if std::fs::read(sb.path("auth.ini")).ok().as_deref() != Some(case.auth.as_slice()) {
            why.push(format!("{who} changed auth.ini"));
        }
    }
    if why.is_empty() {
        Ok(())
    } else {
        Err(why.join("\n"))
    }
}

fn pretty(rows: &[Value]) -> String {
    rows.iter().map(|r| format!("{r}\n")).collect()
}
