//! The argument parser never panics on any argv.
#![no_main]

use contree_auth::workspace::parse_args;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let argv: Vec<String> = std::iter::once("contree".to_string())
        .chain(text.split('\0').map(str::to_string))
        .collect();
    let _ = parse_args(&argv).map_err(|e| e.render().to_string());
});
