//! The whole read path (cli.ini + auth.ini + merge + interpolation + profile
//! reading, as `Store::load` and `Store::catalog` run it) never panics, and
//! never takes long: SPEC §5 wants reading linear in the file's size, so a
//! slow input is a finding too, not only a crash.
//!
//! The input is cli.ini, a NUL byte, then auth.ini (NUL is refused inside an
//! INI file, so it cannot be part of either). Run it with, for example,
//! `cargo +nightly fuzz run read_path -- -max_len=65536 -max_total_time=60`.
#![no_main]

use std::time::{Duration, Instant};

use contree_auth::workspace::read_texts;
use libfuzzer_sys::fuzz_target;

/// A fixed allowance plus a per-byte one: generous for an instrumented
/// build, yet a quadratic shape of a few tens of KiB goes over it.
fn time_bound(len: usize) -> Duration {
    Duration::from_millis(200) + Duration::from_micros(20) * u32::try_from(len).unwrap_or(u32::MAX)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (cli, auth) = text.split_once('\0').unwrap_or(("", text));
    let started = Instant::now();
    let (catalog, loaded) = read_texts(cli, auth);
    let took = started.elapsed();
    assert!(
        took <= time_bound(data.len()),
        "reading {} bytes took {took:?}",
        data.len()
    );
    // What was read is consistent: every loaded profile is in the catalog,
    // in the same order, and an error is one line.
    match (&catalog, &loaded) {
        (Ok(catalog), Ok(loaded)) => {
            let names: Vec<&str> = loaded.profiles.iter().map(|p| p.name.as_str()).collect();
            assert_eq!(names, catalog.names.iter().map(String::as_str).collect::<Vec<_>>());
            for name in &catalog.names {
                assert!(catalog.defined_in(name).is_some());
            }
        }
        (Err(a), Err(b)) => assert_eq!(a, b, "both fail on the same parse error"),
        (Err(e), Ok(_)) => panic!("the catalog failed where values were read: {e}"),
        (Ok(_), Err(e)) => assert!(!e.contains('\n'), "a multi-line error: {e}"),
    }
});
