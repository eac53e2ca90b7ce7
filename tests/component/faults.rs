//! SPEC §7 "Faults of the machine and the host", proven the way SQLite
//! proves its own (ARCHITECTURE.md, "faults are injected, not hoped for"):
//! every file call of an operation is failed, then trapped, one at a time,
//! by the harness's fault-injecting `wasi:filesystem` host, and auth.ini is
//! checked after each run. Also a slow disk, a config whose every write
//! fails, and real tmpfs mounts that are full or read-only.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use contree_host::harness::faults::{ErrorCode, Faults, Plan};
use contree_host::harness::support::show;
use contree_host::{MockApi, Outcome, Sandbox, TRAP_EXIT_CODE};

use crate::common::{Save, check, json_rows, move_lock_an_hour_ahead, run, token};

/// The next command after a crash must be done within this (SPEC §7).
const RECOVERY_BOUND: Duration = Duration::from_secs(2);
/// Crash runs at once: each may wait ~1 s for a dead owner's lock.
const CRASH_WORKERS: usize = 8;
/// Error runs at once (they do not wait).
const ERROR_WORKERS: usize = 2;
/// The codes an injected failure carries: each at every call.
const CODES: [ErrorCode; 4] = [
    ErrorCode::Io,
    ErrorCode::InsufficientSpace,
    ErrorCode::ReadOnly,
    ErrorCode::Access,
];

/// One operation under test: the auth.ini it starts from, its arguments,
/// and the auth.ini it leaves when nothing fails.
struct Operation {
    name: &'static str,
    args: Vec<String>,
    old: String,
    new: String,
    /// Counted file calls of an unfaulted run.
    calls: u64,
    /// The log lines of an unfaulted run.
    stderr: Vec<String>,
    /// Its calls, with the path of each `*-at` call.
    log: Vec<String>,
}

/// `keep` (active) and `other`, saved by the component itself so the
/// starting file is one it writes.
fn starting_file(api: &MockApi) -> String {
    let sb = fault_sandbox();
    for name in ["keep", "other"] {
        let out = Save::new(&token("ok"), &api.url())
            .name(name)
            .yes()
            .run(&sb);
        assert_eq!(out.code, 0, "{}", show("fixture save", &out));
    }
    let out = run(&sb, &["auth", "switch", "keep"]);
    assert_eq!(out.code, 0, "{}", show("fixture switch", &out));
    sb.read_file("auth.ini").expect("the fixture was written")
}

/// A sandbox whose runs say the host makes files private (as the launcher
/// does), so that stderr holds only what the run has to say.
fn fault_sandbox() -> Sandbox {
    let mut sb = Sandbox::new();
    sb.env("CONTREE_PRIVATE_FILES", "1");
    sb
}

/// A fresh home holding `auth.ini` = `old`.
fn home_with(old: &str) -> Sandbox {
    let sb = fault_sandbox();
    sb.write_file("auth.ini", old);
    sb
}

/// Runs `args` once without faults (counting calls) to learn the new file.
fn operation(name: &'static str, args: Vec<String>, old: &str) -> Operation {
    let mut sb = home_with(old);
    let counter = Faults::counting();
    sb.faults(Some(counter.clone()));
    let out = check(sb.run(&args));
    assert_eq!(out.code, 0, "{}", show(name, &out));
    let new = sb.read_file("auth.ini").expect("auth.ini after the run");
    assert_ne!(new, old, "{name} changed nothing");
    assert_eq!(entries(sb.home()), only_auth_ini(), "{name} left files");
    Operation {
        name,
        args,
        old: old.to_string(),
        new,
        calls: counter.calls(),
        stderr: out.stderr.lines().map(str::to_string).collect(),
        log: counter
            .log_with_paths()
            .into_iter()
            .map(|(call, path)| match path {
                Some(path) => format!("{call}({path})"),
                None => call.to_string(),
            })
            .collect(),
    }
}

/// The four operations SPEC §7 is held for: save -y of a new and of an
/// existing profile, switch, and remove of the active profile.
fn operations(api: &MockApi) -> Vec<Operation> {
    let old = starting_file(api);
    let strings = |args: &[&str]| args.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let save = |name: &str| Save::new(&token("ok"), &api.url()).name(name).yes().args();
    vec![
        operation("save -y (new profile)", save("fresh"), &old),
        operation("save -y (existing profile)", save("other"), &old),
        operation("switch", strings(&["auth", "switch", "other"]), &old),
        operation(
            "remove -y",
            strings(&["auth", "remove", "-y", "keep"]),
            &old,
        ),
    ]
}

/// Call `n` of a run, with the path it named (`open-at auth.ini.lock`).
fn call_at(faults: &Faults, n: u64) -> String {
    match faults.log_with_paths().get(n as usize - 1) {
        Some((call, Some(path))) => format!("{call} {path}"),
        Some((call, None)) => call.to_string(),
        None => "past the end".to_string(),
    }
}

/// The file names in `dir`.
fn entries(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

fn only_auth_ini() -> BTreeSet<String> {
    BTreeSet::from(["auth.ini".to_string()])
}

/// auth.ini is byte-for-byte the old file or the new one.
fn assert_old_or_new(sb: &Sandbox, op: &Operation, what: &str) {
    let now = sb.read_file("auth.ini");
    assert!(
        now.as_deref() == Some(op.old.as_str()) || now.as_deref() == Some(op.new.as_str()),
        "{}, {what}: auth.ini is neither the old nor the new file:\n{now:?}",
        op.name
    );
}

/// Exit 1 and one clean error line: stderr holds the log lines an
/// unfaulted run prints (`normal`) and exactly one more, an `[ERROR]`;
/// nothing of a trap or panic.
fn assert_one_clean_line(out: &Outcome, normal: &[String], who: &str) {
    assert_eq!(out.code, 1, "{}", show(who, out));
    assert!(out.trap.is_none(), "{}", show(who, out));
    let added: Vec<&str> = out
        .stderr
        .lines()
        .filter(|line| !normal.iter().any(|n| n == line))
        .collect();
    assert_eq!(added.len(), 1, "one line: {}", show(who, out));
    assert!(added[0].starts_with("[ERROR] "), "{}", show(who, out));
    for noise in ["panic", "trap", "backtrace", "RUST_"] {
        assert!(!out.stderr.contains(noise), "{}", show(who, out));
    }
}

/// A command that works on both the old and the new file: it must succeed
/// within [`RECOVERY_BOUND`] and leave only auth.ini.
fn next_command_succeeds(sb: &mut Sandbox, op: &Operation, what: &str) {
    sb.faults(None);
    let started = Instant::now();
    let out = run(sb, &["auth", "switch", "other"]);
    let took = started.elapsed();
    assert_eq!(out.code, 0, "{}, {what}: {}", op.name, show("next", &out));
    assert!(
        took < RECOVERY_BOUND,
        "{}, {what}: the next command took {took:?}",
        op.name
    );
    assert_eq!(
        entries(sb.home()),
        only_auth_ini(),
        "{}, {what}: leftovers after the next command",
        op.name
    );
}

/// Runs `job(n)` for n = 1, 2, ... on `workers` threads until some n does
/// not hit its fault (the operation completed), and returns what each n
/// did: whether its fault was hit, and what its checks found.
fn until_unhit(
    workers: usize,
    limit: u64,
    job: impl Fn(u64) -> (bool, Verdict) + Sync,
) -> Vec<(u64, bool, Verdict)> {
    let next = AtomicU64::new(1);
    let first_miss = AtomicU64::new(u64::MAX);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    if n > first_miss.load(Ordering::SeqCst) || n > limit {
                        break;
                    }
                    let (hit, verdict) = job(n);
                    if !hit {
                        first_miss.fetch_min(n, Ordering::SeqCst);
                    }
                    results.lock().unwrap().push((n, hit, verdict));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(n, _, _)| *n);
    results
}

/// What the checks after one faulted run found: nothing, or the first
/// failed assertion's message.
type Verdict = Result<(), String>;

/// Runs the checks of one faulted run, turning a failed assertion into its
/// message so that every point is tried and all failures are reported.
fn verdict(checks: impl FnOnce()) -> Verdict {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(checks)).map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic".to_string())
    })
}

/// What broke for one operation: failed checks of any run, a call that was
/// not tried, or a fault past the end that was still hit. Prints how many
/// injection points the operation has.
fn problems(op: &Operation, results: &[(u64, bool, Verdict)], kind: &str) -> Vec<String> {
    let tried: Vec<u64> = results.iter().filter(|r| r.1).map(|r| r.0).collect();
    let points = op.calls;
    println!(
        "{}: {points} injection points ({kind}), {} tried: {}",
        op.name,
        tried.len(),
        op.log.join(" ")
    );
    let mut problems: Vec<String> = results
        .iter()
        .filter_map(|(n, _, verdict)| {
            let err = verdict.as_ref().err()?;
            Some(format!("{} with {kind} at call {n}: {err}", op.name))
        })
        .collect();
    if tried != (1..=points).collect::<Vec<_>>() {
        problems.push(format!(
            "{}: {kind} was not tried at each of the {points} calls: {tried:?}",
            op.name
        ));
    }
    if !results.iter().any(|r| r.0 == points + 1 && !r.1) {
        problems.push(format!(
            "{}: a fault at call {} is past the end of the operation, yet was hit",
            op.name,
            points + 1
        ));
    }
    problems
}

/// Fails with every problem found, one per line.
fn assert_no_problems(problems: &[String], kind: &str) {
    assert!(
        problems.is_empty(),
        "{} runs with {kind} broke SPEC §7:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// One run of `op` whose call `n` fails with `code`, and its checks.
/// Failures the component ignored (exit 0) are added to `absorbed`, by call.
fn fail_once(
    op: &Operation,
    n: u64,
    code: ErrorCode,
    absorbed: &Mutex<Vec<String>>,
) -> (bool, Verdict) {
    let faults = Faults::fail_at(n, code);
    let mut sb = home_with(&op.old);
    sb.faults(Some(faults.clone()));
    let out = sb.run(&op.args);
    let hit = faults.hit();
    let call = call_at(&faults, n);
    let what = format!("{} at call {n} ({call})", code.name());
    let verdict = verdict(|| {
        let out = check(out);
        assert_old_or_new(&sb, op, &what);
        if hit.is_none() {
            assert_eq!(out.code, 0, "{}", show(op.name, &out));
            return;
        }
        if out.code == 0 {
            // A failure the component may rightly ignore (a heartbeat, a
            // clean-up after the commit): only once the new file is in place.
            assert_eq!(
                sb.read_file("auth.ini").as_deref(),
                Some(op.new.as_str()),
                "{what}"
            );
            absorbed.lock().unwrap().push(call.clone());
        } else {
            assert_one_clean_line(&out, &op.stderr, &format!("{}, {what}", op.name));
        }
        next_command_succeeds(&mut sb, op, &what);
    });
    (hit.is_some(), verdict)
}

/// SPEC §7 first promise: after a failure of any file operation, auth.ini
/// is the old or the new file; exit 1 with one clean line; the next run
/// works and nothing is left behind.
#[test]
fn every_file_call_that_fails_leaves_the_old_or_new_file_and_one_error_line() {
    let started = Instant::now();
    let api = MockApi::start();
    let mut found = Vec::new();
    for op in operations(&api) {
        let absorbed = Mutex::new(Vec::new());
        let results = until_unhit(ERROR_WORKERS, op.calls + 1, |n| {
            // Every code at every point; a point past the end needs one run.
            let mut hit_any = false;
            let mut first_problem = Ok(());
            for code in CODES {
                let (hit, verdict) = fail_once(&op, n, code, &absorbed);
                hit_any |= hit;
                first_problem = first_problem.and(verdict);
                if !hit {
                    break;
                }
            }
            (hit_any, first_problem)
        });
        found.extend(problems(&op, &results, "an error"));
        let absorbed = absorbed.into_inner().unwrap();
        if !absorbed.is_empty() {
            let mut by_call = std::collections::BTreeMap::<&str, usize>::new();
            for call in &absorbed {
                *by_call.entry(call.as_str()).or_default() += 1;
            }
            println!(
                "{}: exit 0 with the new file after {} ignored failures, by call: {by_call:?}",
                op.name,
                absorbed.len()
            );
        }
    }
    println!("error loops took {:?}", started.elapsed());
    assert_no_problems(&found, "an error");
}

/// SPEC §7 second promise: a crash (the guest trapped) at any file call
/// leaves the old or the new file, and the next command completes within
/// 2 s and leaves nothing behind. SPEC §8: at every other call, the crash
/// happened while the clock was an hour ahead (stepped back since): the
/// lock it left has every time in the future, and is recovered as quickly.
#[test]
fn a_crash_at_any_file_call_leaves_the_old_or_new_file_and_the_next_run_recovers_in_2_s() {
    let started = Instant::now();
    let api = MockApi::start();
    let mut found = Vec::new();
    let ahead = AtomicU64::new(0);
    for op in operations(&api) {
        let results = until_unhit(CRASH_WORKERS, op.calls + 1, |n| {
            let faults = Faults::trap_at(n);
            let mut sb = home_with(&op.old);
            sb.faults(Some(faults.clone()));
            let out = sb.run(&op.args);
            let hit = faults.hit();
            let what = format!("a crash at call {n} ({})", call_at(&faults, n));
            let verdict = verdict(|| {
                assert_old_or_new(&sb, &op, &what);
                if hit.is_none() {
                    assert_eq!(check(out).code, 0, "{}: unfaulted run", op.name);
                    return;
                }
                assert_eq!(out.code, TRAP_EXIT_CODE, "{}", show(&what, &out));
                let what = if n % 2 == 0 && move_lock_an_hour_ahead(sb.home()) {
                    ahead.fetch_add(1, Ordering::SeqCst);
                    format!("{what}, its lock an hour ahead")
                } else {
                    what
                };
                next_command_succeeds(&mut sb, &op, &what);
            });
            (hit.is_some(), verdict)
        });
        found.extend(problems(&op, &results, "a crash"));
    }
    let ahead = ahead.into_inner();
    println!(
        "crash loops took {:?}; {ahead} crashes left a lock an hour ahead",
        started.elapsed()
    );
    assert!(ahead > 0, "no crash left a lock to move ahead");
    assert_no_problems(&found, "a crash");
}

/// SPEC §7 "the lock of a live writer, however slow its disk, is never
/// broken": a writer whose every file call takes a while holds the lock
/// for about 3 s; a second writer started meanwhile waits for it, and both
/// commit.
#[test]
fn a_slow_disk_writer_is_never_broken_by_a_waiting_writer_and_both_commit() {
    let api = MockApi::start();
    let old = starting_file(&api);
    let slow_save = Save::new(&token("ok"), &api.url()).name("slow").yes();
    let quick_save = Save::new(&token("ok"), &api.url()).name("quick").yes();
    let calls = operation("slow save", slow_save.args(), &old).calls;
    // About 3 s of file calls: three times the ~1 s after which a lock
    // whose owner shows no life may be judged stale.
    let delay = Duration::from_millis(3000 / calls.max(1));
    let mut slow_sb = home_with(&old);
    slow_sb.faults(Some(Faults::slow(delay)));
    // The same home, without the slow disk.
    let mut quick_sb = fault_sandbox();
    quick_sb
        .env("CONTREE_HOME", slow_sb.home().to_str().unwrap())
        .preopen(slow_sb.home());
    std::thread::scope(|scope| {
        let slow = scope.spawn(|| slow_save.run(&slow_sb));
        // Start the quick writer once the slow one holds its lock (save
        // makes and removes a probe file before that, to learn that it can
        // write before it sends the token: not a lock).
        let deadline = Instant::now() + Duration::from_secs(10);
        while !slow_sb.home().join("auth.ini.lock").exists() {
            assert!(Instant::now() < deadline, "the slow writer never locked");
            std::thread::sleep(Duration::from_millis(5));
        }
        let quick_started = Instant::now();
        let quick = quick_save.run(&quick_sb);
        let quick_waited = quick_started.elapsed();
        let slow = slow.join().unwrap();
        assert_eq!(slow.code, 0, "{}", show("slow writer", &slow));
        assert_eq!(quick.code, 0, "{}", show("quick writer", &quick));
        println!(
            "slow disk: {delay:?} per call, {calls} calls; the waiting writer took {quick_waited:?}"
        );
    });
    // A new profile goes at the end of the file, so the order of the two
    // is the order of the commits: had the quick writer broken the slow
    // one's lock, it would have committed first.
    assert_eq!(
        profile_names(&slow_sb),
        ["keep", "other", "slow", "quick"],
        "both committed, the slow writer first"
    );
    assert_eq!(entries(slow_sb.home()), only_auth_ini());
}

fn profile_names(sb: &Sandbox) -> Vec<String> {
    let out = run(sb, &["-f", "json", "auth", "ls", "-O"]);
    assert_eq!(out.code, 0, "{}", show("ls -O", &out));
    json_rows(&out.stdout)
        .iter()
        .map(|r| r["name"].as_str().unwrap_or("").to_string())
        .collect()
}

/// What a read-only or full config must still do: list, offline and with
/// probes; and what it must refuse: every write, with one line, the file
/// intact and nothing added.
fn reads_work_and_writes_fail_cleanly(sb: &Sandbox, api: &MockApi, old: &str, why: &str) {
    let before = entries(sb.home());
    for args in [
        &["-f", "json", "auth", "ls", "-O"][..],
        &["-f", "json", "auth", "ls"][..],
    ] {
        let out = run(sb, args);
        assert_eq!(out.code, 0, "{why}: {}", show(&args.join(" "), &out));
        let rows = json_rows(&out.stdout);
        let names: Vec<&str> = rows.iter().filter_map(|r| r["name"].as_str()).collect();
        assert_eq!(names, ["keep", "other"], "{why}: {}", out.stdout);
        if !args.contains(&"-O") {
            assert!(
                rows.iter().all(|r| r["status"] == "ok"),
                "{why}: probes: {}",
                out.stdout
            );
        }
    }
    let save = Save::new(&token("ok"), &api.url()).name("fresh").yes();
    let writes = [
        save.args(),
        vec!["auth".into(), "switch".into(), "other".into()],
        vec!["auth".into(), "remove".into(), "-y".into(), "keep".into()],
    ];
    for args in writes {
        // The log lines of the same write on a healthy disk.
        let healthy = check(home_with(old).run(&args));
        assert_eq!(healthy.code, 0, "{}", show("healthy write", &healthy));
        let normal: Vec<String> = healthy.stderr.lines().map(str::to_string).collect();
        let out = check(sb.run(&args));
        assert_one_clean_line(&out, &normal, &format!("{why}: {}", args.join(" ")));
        assert_eq!(sb.read_file("auth.ini").as_deref(), Some(old), "{why}");
        assert_eq!(entries(sb.home()), before, "{why}: files added");
    }
}

/// SPEC §7 "Reading needs no write access": a config whose every write
/// fails with `read-only` (a container's secret volume).
#[test]
fn a_config_whose_every_write_fails_still_lists_and_refuses_writes_in_one_line() {
    let api = MockApi::start();
    let old = starting_file(&api);
    let mut sb = home_with(&old);
    let faults = Faults::read_only();
    sb.faults(Some(faults.clone()));
    reads_work_and_writes_fail_cleanly(&sb, &api, &old, "every write fails with read-only");
    assert!(
        matches!(faults.plan(), Plan::FailWrites { .. }) && faults.hit().is_some(),
        "no write was even tried"
    );
}

/// A tmpfs mounted on a sandbox's home, unmounted when dropped.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` on `dir`; `Err` with the reason when this
    /// machine does not allow it (not root, no mount in the sandbox).
    fn mount(dir: &Path, size: &str) -> Result<Tmpfs, String> {
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700")])
            .arg("tmpfs")
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot start mount: {e}"))?;
        if !status.status.success() {
            return Err(format!(
                "mount -t tmpfs failed: {}",
                String::from_utf8_lossy(&status.stderr).trim()
            ));
        }
        Ok(Tmpfs {
            dir: dir.to_path_buf(),
        })
    }

    fn remount_read_only(&self) {
        let out = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&self.dir)
            .output()
            .expect("running mount");
        assert!(
            out.status.success(),
            "remount ro: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
    }
}

/// The same on real file systems: a tmpfs that is full, and one remounted
/// read-only. Needs root and a sandbox that allows mounting; where it is not
/// allowed, the test says so and skips (a machine permission, not a tool).
#[test]
fn a_full_and_a_read_only_tmpfs_still_list_and_refuse_writes_in_one_line() {
    let api = MockApi::start();
    let old = starting_file(&api);

    let full = fault_sandbox();
    let mount = match Tmpfs::mount(full.home(), "64k") {
        Ok(mount) => mount,
        Err(why) => {
            println!("skipping the tmpfs part of SPEC §7: {why}");
            return;
        }
    };
    full.write_file("auth.ini", &old);
    // Fill every block left.
    let filler = full.path("filler");
    let mut file = std::fs::File::create(&filler).unwrap();
    let chunk = vec![0u8; 4096];
    loop {
        use std::io::Write;
        if file
            .write_all(&chunk)
            .and_then(|()| file.sync_all())
            .is_err()
        {
            break;
        }
    }
    drop(file);
    reads_work_and_writes_fail_cleanly(&full, &api, &old, "a full tmpfs");
    drop(mount);

    let read_only = fault_sandbox();
    let mount = Tmpfs::mount(read_only.home(), "1m").expect("mounting worked a moment ago");
    read_only.write_file("auth.ini", &old);
    mount.remount_read_only();
    reads_work_and_writes_fail_cleanly(&read_only, &api, &old, "a read-only tmpfs");
    drop(mount);
}
