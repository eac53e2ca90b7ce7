//! SPEC §7 "Concurrent runs with kills: the final auth.ini is explained by
//! some serial order of the acknowledged operations, each killed one applied
//! or not": six launcher processes run random saves, switches and removes
//! against one config home, a third of them are SIGKILLed at random moments,
//! and a small Wing & Gong checker (with Lowe's memoization) looks for a
//! serial order consistent with real time that explains the final file.

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use contree_host::harness::faults::Faults;
use contree_host::{MockApi, Sandbox};

use crate::common::{assert_no_token, check, run, sha16, token};

/// Profile names the processes fight over (few, so that they collide).
const NAMES: [&str; 3] = ["a", "b", "c"];
const PROCESSES: usize = 6;
/// No process starts an operation after this.
const RUN_FOR: Duration = Duration::from_secs(3);
/// Nor more operations than this: the checker's done set is a u128, so the
/// whole history stays within 128 runs however fast the machine is.
const RUNS_PER_PROCESS: usize = 128 / PROCESSES;
/// A run still going after this is killed (and counts as killed).
const WATCHDOG: Duration = Duration::from_secs(20);

/// One profile operation, as the model sees it.
#[derive(Clone, PartialEq, Eq)]
enum Op {
    Save { name: String, token: String },
    Switch(String),
    Remove(String),
}

/// Shown without the token: its `token_sha256` stands for it.
impl std::fmt::Debug for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Op::Save { name, token } => write!(f, "save {name}={}", sha16(token)),
            Op::Switch(name) => write!(f, "switch {name}"),
            Op::Remove(name) => write!(f, "remove {name}"),
        }
    }
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    /// Exit 0: it happened.
    Acknowledged,
    /// Exit 1 saying the profile does not exist: it saw the profile absent.
    NotFound,
    /// Exit 1 for another reason: it changed nothing.
    Failed,
    /// SIGKILLed: it happened or it did not.
    Killed,
}

/// One operation of the history: what, when (since the test began), how it ended.
#[derive(Clone, Debug)]
struct Event {
    op: Op,
    invoked: Duration,
    returned: Duration,
    ending: Ending,
}

/// auth.ini as the operations see it: profiles in file order with their
/// tokens' `token_sha256` (so that no token is ever printed), and
/// `[DEFAULT] profile` (absent until the first write).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
struct Model {
    profiles: Vec<(String, String)>,
    active: Option<String>,
}

impl Model {
    fn has(&self, name: &str) -> bool {
        self.profiles.iter().any(|(n, _)| n == name)
    }

    /// The model after `op`, or `None` when `op` fails with "does not exist".
    /// The rules are SPEC §1's (save, switch / remove), as `src/api.rs` applies them.
    fn apply(&self, op: &Op) -> Option<Model> {
        let mut next = self.clone();
        let recorded = self.active.clone().unwrap_or_else(|| "default".to_string());
        match op {
            Op::Save { name, token } => {
                let token = sha16(token);
                match next.profiles.iter_mut().find(|(n, _)| n == name) {
                    Some((_, old)) => *old = token,
                    None => next.profiles.push((name.clone(), token)),
                }
                next.active = Some(recorded);
            }
            Op::Switch(name) => {
                if !self.has(name) {
                    return None;
                }
                next.active = Some(name.clone());
            }
            Op::Remove(name) => {
                if !self.has(name) {
                    return None;
                }
                next.profiles.retain(|(n, _)| n != name);
                next.active = Some(if recorded == *name {
                    next.profiles
                        .first()
                        .map_or("default".to_string(), |(n, _)| n.clone())
                } else {
                    recorded
                });
            }
        }
        Some(next)
    }

    /// Reads the file the component writes (`[DEFAULT]` and `[profile:NAME]`
    /// sections, `key = value` lines).
    fn parse(text: &str) -> Model {
        let mut model = Model::default();
        let mut section = String::new();
        for line in text.lines() {
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name.to_string();
                if let Some(profile) = name.strip_prefix("profile:") {
                    model.profiles.push((profile.to_string(), String::new()));
                }
            } else if let Some((key, value)) = line.split_once(" = ") {
                match (section.as_str(), key) {
                    ("DEFAULT", "profile") => model.active = Some(value.to_string()),
                    (s, "token") if s.starts_with("profile:") => {
                        model.profiles.last_mut().expect("in a section").1 = sha16(value);
                    }
                    _ => {}
                }
            }
        }
        model
    }
}

/// Whether some serial order of `history`, consistent with real time (an
/// operation that returned before another was invoked comes first), takes
/// `initial` to `last`: acknowledged operations applied and succeeding,
/// not-found ones seeing the profile absent, failed ones changing nothing,
/// killed ones applied or not. Wing & Gong's search, with the (done set,
/// state) pairs already explored remembered (Lowe), so it stays small.
fn explains(history: &[Event], initial: &Model, last: &Model) -> bool {
    assert!(history.len() <= 128, "the done set is a u128");
    let all: u128 = if history.len() == 128 {
        u128::MAX
    } else {
        (1u128 << history.len()) - 1
    };
    let mut seen: HashSet<(u128, Model)> = HashSet::new();
    let mut stack = vec![(0u128, initial.clone())];
    while let Some((done, state)) = stack.pop() {
        if done == all {
            if state == *last {
                return true;
            }
            continue;
        }
        if !seen.insert((done, state.clone())) {
            continue;
        }
        // Only an operation invoked before every pending one returned may go next.
        let pending = (0..history.len()).filter(|i| done & (1 << i) == 0);
        let first_return = pending
            .clone()
            .map(|i| history[i].returned)
            .min()
            .expect("something is pending");
        for i in pending.filter(|&i| history[i].invoked <= first_return) {
            let done = done | (1 << i);
            let event = &history[i];
            let applied = state.apply(&event.op);
            match event.ending {
                Ending::Acknowledged => {
                    if let Some(next) = applied {
                        stack.push((done, next));
                    }
                }
                Ending::NotFound => {
                    if applied.is_none() {
                        stack.push((done, state.clone()));
                    }
                }
                Ending::Failed => stack.push((done, state.clone())),
                Ending::Killed => {
                    stack.push((done, state.clone()));
                    if let Some(next) = applied {
                        stack.push((done, next));
                    }
                }
            }
        }
    }
    false
}

/// A small xorshift generator: the seed is printed, and can be replayed
/// with `CONTREE_HISTORY_SEED`.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn seed() -> u64 {
    std::env::var("CONTREE_HISTORY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        })
}

/// The launcher, as users start it, on `sb`'s home; its compile cache is the
/// tests' (so no run compiles).
fn launcher(sb: &Sandbox, args: &[String]) -> Command {
    let cache = contree_host::test_cache_dir()
        .parent()
        .expect("the test cache is in a folder");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_contree"));
    cmd.args(args)
        .env_clear()
        .env("CONTREE_HOME", sb.home())
        .env("HOME", sb.home())
        .env("XDG_CACHE_HOME", cache)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

fn args_of(op: &Op, api: &MockApi) -> Vec<String> {
    let strings = |args: &[&str]| args.iter().map(|s| s.to_string()).collect();
    match op {
        Op::Save { name, token } => crate::common::Save::new(token, &api.url())
            .name(name)
            .yes()
            .args(),
        Op::Switch(name) => strings(&["auth", "switch", name]),
        Op::Remove(name) => strings(&["auth", "remove", "-y", name]),
    }
}

/// Waits for `child`, killing it at `kill_at` (if set) or at the watchdog.
/// Returns whether it died of SIGKILL, its exit code, and its stderr.
fn finish(mut child: Child, started: Instant, kill_at: Option<Duration>) -> (bool, i32, String) {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let deadline = kill_at.unwrap_or(WATCHDOG);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the launcher") {
            break status;
        }
        if started.elapsed() >= deadline {
            let _ = child.kill();
            break child.wait().expect("waiting for the killed launcher");
        }
        std::thread::sleep(Duration::from_micros(500));
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr);
    }
    let killed = status.signal() == Some(libc::SIGKILL);
    (killed, status.code().unwrap_or(-1), stderr)
}

#[test]
fn concurrent_runs_with_kills_leave_a_file_some_serial_order_explains() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    let warm = launcher(&sb, &["auth".into(), "ls".into(), "-O".into()])
        .output()
        .expect("starting the launcher");
    assert!(
        warm.status.success(),
        "{}",
        String::from_utf8_lossy(&warm.stderr)
    );
    // Kills land anywhere in a run: its start, its request, its write.
    let timed = Instant::now();
    let save = args_of(
        &Op::Save {
            name: "a".into(),
            token: token("ok"),
        },
        &api,
    );
    let out = launcher(&sb, &save)
        .output()
        .expect("starting the launcher");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kill_window = timed.elapsed().as_micros() as u64;
    let initial = Model::parse(&sb.read_file("auth.ini").expect("saved"));
    let seed = seed();
    println!("history seed {seed} (CONTREE_HISTORY_SEED replays the choices)");
    let begun = Instant::now();
    let history = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for process in 0..PROCESSES {
            let (sb, api, history) = (&sb, &api, &history);
            scope.spawn(move || {
                let mut rng = Rng(seed.wrapping_mul(process as u64 * 2 + 1) | 1);
                for _ in 0..RUNS_PER_PROCESS {
                    if begun.elapsed() >= RUN_FOR {
                        break;
                    }
                    let name = NAMES[rng.below(NAMES.len() as u64) as usize].to_string();
                    let op = match rng.below(4) {
                        0 | 1 => Op::Save {
                            name,
                            token: token("ok"),
                        },
                        2 => Op::Switch(name),
                        _ => Op::Remove(name),
                    };
                    // A third are killed, at a random moment of a run (runs
                    // at once take longer than the timed one: few end first).
                    let kill_at =
                        (rng.below(3) == 0).then(|| Duration::from_micros(rng.below(kill_window)));
                    let args = args_of(&op, api);
                    let invoked = begun.elapsed();
                    let started = Instant::now();
                    let child = launcher(sb, &args).spawn().expect("starting the launcher");
                    let (killed, code, stderr) = finish(child, started, kill_at);
                    let returned = begun.elapsed();
                    assert_no_token("the launcher's stderr", &stderr);
                    let ending = match (killed, code) {
                        (true, _) => Ending::Killed,
                        (false, 0) => Ending::Acknowledged,
                        (false, 1) if stderr.contains("does not exist") => Ending::NotFound,
                        (false, 1) => Ending::Failed,
                        (false, other) => panic!("{op:?} exited {other}: {stderr}"),
                    };
                    if ending == Ending::Failed {
                        let why = stderr.lines().last().unwrap_or_default();
                        println!("{op:?} failed: {why}");
                    }
                    history.lock().unwrap().push(Event {
                        op,
                        invoked,
                        returned,
                        ending,
                    });
                }
            });
        }
    });
    let history = history.into_inner().unwrap();
    let text = sb.read_file("auth.ini").unwrap_or_default();
    let listed = run(&sb, &["auth", "ls", "-O"]);
    assert_eq!(
        listed.code, 0,
        "the final auth.ini does not read: {}",
        listed.stderr
    );
    let last = Model::parse(&text);
    let count = |ending| history.iter().filter(|e| e.ending == ending).count();
    println!(
        "{} runs in {:?}: {} acknowledged, {} not found, {} failed, {} killed",
        history.len(),
        begun.elapsed(),
        count(Ending::Acknowledged),
        count(Ending::NotFound),
        count(Ending::Failed),
        count(Ending::Killed)
    );
    let checking = Instant::now();
    let explained = explains(&history, &initial, &last);
    println!("checked in {:?}", checking.elapsed());
    assert!(
        explained,
        "no serial order of the runs explains the final auth.ini {last:?}:\n{}",
        shown(&history)
    );
    assert!(
        count(Ending::Killed) > 0 && count(Ending::Acknowledged) > 0,
        "the history must have kills and acknowledged runs"
    );
}

/// Two operations at once, the first paused right before it first touches
/// the lock (its checks done), the second run whole in that pause: whatever
/// the first did before locking must still hold when it writes. Returns the
/// two-run history, the file before, and the file after.
fn race(first: Op, second: Op) -> (Vec<Event>, Model, Model) {
    let api = MockApi::start();
    let mut sb = Sandbox::new();
    sb.env("CONTREE_PRIVATE_FILES", "1");
    for name in NAMES {
        let out = crate::common::Save::new(&token("ok"), &api.url())
            .name(name)
            .yes()
            .run(&sb);
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    assert_eq!(run(&sb, &["auth", "switch", "a"]).code, 0);
    let text = sb.read_file("auth.ini").expect("saved");
    let before = Model::parse(&text);

    // Where the first takes its lock, from a counted run on a copy.
    let mut copy = Sandbox::new();
    copy.write_file("auth.ini", &text);
    let counter = Faults::counting();
    copy.faults(Some(counter.clone()));
    assert_eq!(check(copy.run(args_of(&first, &api))).code, 0);
    let log = counter.log_with_paths();
    let lock_call =
        log.iter()
            .position(|(_, path)| path.as_deref().is_some_and(|p| p.contains(".lock")))
            .unwrap_or_else(|| panic!("{first:?} never touched a lock: {log:?}")) as u64
            + 1;

    let faults = Faults::pause_at(lock_call, Duration::from_secs(1));
    let mut paused = Sandbox::new();
    paused
        .env("CONTREE_HOME", sb.home().to_str().expect("UTF-8"))
        .env("CONTREE_PRIVATE_FILES", "1")
        .preopen(sb.home())
        .faults(Some(faults.clone()));
    let begun = Instant::now();
    let history = std::thread::scope(|scope| {
        let first_run = scope.spawn(|| {
            let invoked = begun.elapsed();
            let out = check(paused.run(args_of(&first, &api)));
            (invoked, out, begun.elapsed())
        });
        while faults.calls() < lock_call {
            assert!(begun.elapsed() < Duration::from_secs(10), "never paused");
            std::thread::sleep(Duration::from_millis(1));
        }
        let invoked = begun.elapsed();
        let out = check(sb.run(args_of(&second, &api)));
        let second_event = event_of(second.clone(), invoked, &out, begun.elapsed());
        let (invoked, out, returned) = first_run.join().unwrap();
        vec![
            event_of(first.clone(), invoked, &out, returned),
            second_event,
        ]
    });
    let after = Model::parse(&sb.read_file("auth.ini").unwrap_or_default());
    println!("{}\nbefore {before:?}\nafter {after:?}", shown(&history));
    (history, before, after)
}

fn event_of(op: Op, invoked: Duration, out: &contree_host::Outcome, returned: Duration) -> Event {
    let ending = match out.code {
        0 => Ending::Acknowledged,
        1 if out.stderr.contains("does not exist") => Ending::NotFound,
        1 => Ending::Failed,
        other => panic!("{op:?} exited {other}: {}", out.stderr),
    };
    Event {
        op,
        invoked,
        returned,
        ending,
    }
}

/// `switch b` checked that b exists, then `remove b` ran before it wrote:
/// b must not become the active profile of a file without it.
#[test]
fn a_switch_racing_a_remove_of_its_profile_leaves_a_file_some_serial_order_explains() {
    let (history, before, after) = race(Op::Switch("b".into()), Op::Remove("b".into()));
    assert!(
        explains(&history, &before, &after),
        "no serial order explains {after:?}:\n{}",
        shown(&history)
    );
}

/// `remove a` (the active one) read the profiles, then `remove b` ran
/// before it wrote: the pointer must go to a profile that is still there.
#[test]
fn removing_the_active_profile_racing_a_remove_leaves_a_file_some_serial_order_explains() {
    let (history, before, after) = race(Op::Remove("a".into()), Op::Remove("b".into()));
    assert!(
        explains(&history, &before, &after),
        "no serial order explains {after:?}:\n{}",
        shown(&history)
    );
}

/// One line per run, in the order they were invoked.
fn shown(history: &[Event]) -> String {
    let mut sorted: Vec<&Event> = history.iter().collect();
    sorted.sort_by_key(|e| e.invoked);
    sorted
        .iter()
        .map(|e| {
            format!(
                "{:>8.1?} .. {:>8.1?}  {:?}: {:?}",
                e.invoked, e.returned, e.ending, e.op
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn save(name: &str, token: &str) -> Op {
    Op::Save {
        name: name.into(),
        token: token.into(),
    }
}

fn event(op: Op, invoked: u64, returned: u64, ending: Ending) -> Event {
    Event {
        op,
        invoked: Duration::from_millis(invoked),
        returned: Duration::from_millis(returned),
        ending,
    }
}

fn file(profiles: &[(&str, &str)], active: &str) -> Model {
    Model {
        profiles: profiles
            .iter()
            .map(|(n, t)| (n.to_string(), sha16(t)))
            .collect(),
        active: Some(active.to_string()),
    }
}

/// The checker rejects what no serial order explains, and accepts what one does.
#[test]
fn the_history_checker_rejects_a_history_no_serial_order_explains() {
    use Ending::*;
    let empty = Model::default();
    // a=1 returned before a=2 began: a=1 in the end is impossible...
    let one_then_two = [
        event(save("a", "1"), 0, 10, Acknowledged),
        event(save("a", "2"), 20, 30, Acknowledged),
    ];
    assert!(!explains(
        &one_then_two,
        &empty,
        &file(&[("a", "1")], "default")
    ));
    assert!(explains(
        &one_then_two,
        &empty,
        &file(&[("a", "2")], "default")
    ));
    // ...but fine when they overlap.
    let overlapping = [
        event(save("a", "1"), 0, 25, Acknowledged),
        event(save("a", "2"), 20, 30, Acknowledged),
    ];
    assert!(explains(
        &overlapping,
        &empty,
        &file(&[("a", "1")], "default")
    ));
    // A switch acknowledged while its profile never existed.
    let switch_to_nothing = [
        event(save("a", "1"), 0, 10, Acknowledged),
        event(Op::Switch("b".into()), 20, 30, Acknowledged),
    ];
    assert!(!explains(
        &switch_to_nothing,
        &empty,
        &file(&[("a", "1")], "b")
    ));
    // A killed save may or may not have happened; a lost acknowledged one may not.
    let killed = [
        event(save("a", "1"), 0, 10, Acknowledged),
        event(save("b", "2"), 5, 15, Killed),
    ];
    assert!(explains(&killed, &empty, &file(&[("a", "1")], "default")));
    assert!(explains(
        &killed,
        &empty,
        &file(&[("a", "1"), ("b", "2")], "default")
    ));
    assert!(!explains(&killed, &empty, &file(&[("b", "2")], "default")));
    // "does not exist" after a save that returned earlier is impossible.
    let not_found = [
        event(save("a", "1"), 0, 10, Acknowledged),
        event(Op::Remove("a".into()), 20, 30, NotFound),
    ];
    assert!(!explains(
        &not_found,
        &empty,
        &file(&[("a", "1")], "default")
    ));
    // Removing the active profile hands the pointer to the first one left.
    let remove_active = [
        event(save("a", "1"), 0, 10, Acknowledged),
        event(save("b", "2"), 20, 30, Acknowledged),
        event(Op::Switch("b".into()), 40, 50, Acknowledged),
        event(Op::Remove("b".into()), 60, 70, Acknowledged),
    ];
    assert!(explains(&remove_active, &empty, &file(&[("a", "1")], "a")));
    assert!(!explains(&remove_active, &empty, &file(&[("a", "1")], "b")));
}

/// The model reads what the component really writes.
#[test]
fn the_model_reads_the_file_the_component_writes() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    let (one, two) = (token("ok"), token("ok"));
    for (name, tok) in [("a", &one), ("b", &two)] {
        let out = crate::common::Save::new(tok, &api.url())
            .name(name)
            .yes()
            .run(&sb);
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    assert_eq!(run(&sb, &["auth", "switch", "b"]).code, 0);
    let text = sb.read_file("auth.ini").expect("written");
    assert_eq!(Model::parse(&text), file(&[("a", &one), ("b", &two)], "b"));
}
