//! Shared by every test: runs that also prove no trap and no token leak. The
//! helpers live once in `contree_host::harness::support` (the differential
//! suite uses them too); these names stay for the tests that import them.

use contree_host::{MockApi, Outcome, Sandbox};

// Some are here for the other test files (hostile files and servers, WIT).
#[allow(unused_imports)]
pub use contree_host::harness::support::{
    LEAK_PIECE, SECRET_MARK, Save, assert_ends, assert_has, assert_lacks, assert_no_token,
    assert_row, assert_starts, check, json_rows, no_token, pairs, remember, require_tool, sha16,
    statuses, token, token_of_length,
};

/// Runs the component and checks what every run must satisfy.
pub fn run(sandbox: &Sandbox, args: &[&str]) -> Outcome {
    run_with_stdin(sandbox, args, "")
}

pub fn run_with_stdin(sandbox: &Sandbox, args: &[&str], stdin: &str) -> Outcome {
    check(sandbox.run_with_stdin(args.iter().copied(), stdin.as_bytes().to_vec()))
}

/// Saves a profile non-interactively against the mock; panics unless it
/// worked. Returns the token.
pub fn save(sandbox: &Sandbox, api: &MockApi, name: &str, kind: &str) -> String {
    let tok = token(kind);
    let out = Save::new(&tok, &api.url()).name(name).yes().run(sandbox);
    assert_eq!(out.code, 0, "save {name} failed: {}", out.stderr);
    tok
}

/// A typed save request for profile `name` against the mock, iam with
/// project `proj-1`.
pub fn request(api: &MockApi, name: &str, token: &str) -> contree_host::typed::SaveRequest {
    contree_host::typed::SaveRequest {
        name: name.to_string(),
        token: Some(token.to_string()),
        url: Some(api.url()),
        auth_type: contree_host::typed::AuthType::Iam,
        project: Some("proj-1".to_string()),
        overwrite: false,
        allow_insecure_http: false,
    }
}

/// What a writer killed while its clock was an hour ahead leaves (the clock
/// stepped back since, a VM resumed, another machine's clock, a folder
/// copied with `cp -a`): every time in the lock `auth.ini.lock` in `home`
/// an hour in the future. Returns whether there was a lock.
pub fn move_lock_an_hour_ahead(home: &std::path::Path) -> bool {
    let lock = home.join("auth.ini.lock");
    let Ok(entries) = std::fs::read_dir(&lock) else {
        return false;
    };
    let ahead = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
    for entry in entries {
        std::fs::File::options()
            .append(true)
            .open(entry.unwrap().path())
            .and_then(|file| file.set_modified(ahead))
            .expect("moving a lock's heartbeat ahead");
    }
    std::fs::File::open(&lock)
        .and_then(|dir| dir.set_modified(ahead))
        .expect("moving a lock's time ahead");
    true
}
