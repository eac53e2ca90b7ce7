//! The configparser codec never panics, and what it writes it reads back
//! as the same document.
#![no_main]

use contree_auth::workspace::{Document, read_profiles};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(doc) = Document::parse(text) else { return };
    let _ = read_profiles(&doc);
    for section in doc.sections() {
        for entry in section.entries() {
            let _ = doc.get_in(section, &entry.key);
        }
    }
    // configparser itself cannot read back a continuation line that starts
    // with a comment prefix; that is the format, not the codec.
    let comment_continuation = doc.sections().iter().chain([&doc.defaults]).any(|s| {
        s.entries().iter().any(|e| e.raw.lines().skip(1).any(|l| l.starts_with(['#', ';'])))
    });
    if comment_continuation {
        return;
    }
    let written = doc.write();
    let reread = Document::parse(&written).expect("our own output must parse");
    assert_eq!(reread, doc, "write/parse round trip changed the document");
});
