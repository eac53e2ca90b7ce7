//! The whoami request on the wire, byte for byte where it matters: header
//! values are Latin-1, one byte a character, as the reference's
//! `http.client` encodes them (not UTF-8).

use crate::twin::Twin;

#[test]
fn a_latin_1_project_is_sent_in_latin_1_like_the_reference() {
    let mut t = Twin::new();
    let tok = t.token("ok");
    let url = t.url();
    let p = t.both(
        &[
            "auth", "-p", "x", "--token", &tok, "-u", &url, "-P", "café-ÿ",
        ],
        &[],
        "",
    );
    p.same_code();
    assert_eq!(p.py.code, 0, "{}", p.dump());
    let requests = t.api.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    let (py, ours) = (requests[0].header("project"), requests[1].header("project"));
    // The mock reads the head as UTF-8, lossily: each Latin-1 byte above
    // 0x7F is one U+FFFD, where UTF-8's two bytes would read back as `é`.
    assert_eq!(py, Some("caf\u{FFFD}-\u{FFFD}"));
    assert_eq!(ours, py);
}
