//! Issue 24 item 3, SPEC §1 step 6: a load balancer mid-deploy answers 503
//! with `Retry-After: 1` once (or 429 once, or 425, or 410); the Python
//! contree-cli (contree-client's `RetryPolicy`) waits and saves, and so do
//! we. Each tool gets its own token, so each meets the first answer itself.

use crate::common::check;
use crate::twin::Twin;

#[test]
fn an_answer_the_api_client_retries_once_is_waited_out_and_saved_by_both() {
    for kind in ["busy", "ratelimited", "early", "gone"] {
        let t = Twin::new();
        let (py_token, our_token) = (t.token(kind), t.token(kind));
        let py_save: Vec<String> = t.save("a", &py_token).args();
        let py = t.py_raw(
            &py_save.iter().map(String::as_str).collect::<Vec<_>>(),
            &[],
            "",
        );
        let ours = check(t.ours.run(t.save("a", &our_token).args()));
        assert_eq!(
            (py.code, ours.code),
            (0, 0),
            "{kind}\npython: {}\nours: {}",
            py.stderr,
            ours.stderr
        );
        let sent = |token: &str| {
            t.api
                .requests()
                .iter()
                .filter(|r| r.token() == Some(token))
                .count()
        };
        assert_eq!((sent(&py_token), sent(&our_token)), (2, 2), "{kind}");
        for (who, home) in [("python", &t.py), ("ours", &t.ours)] {
            let ini = home.read_file("auth.ini").unwrap_or_default();
            assert!(ini.contains("[profile:a]"), "{kind}, {who}: {ini}");
        }
    }
}
