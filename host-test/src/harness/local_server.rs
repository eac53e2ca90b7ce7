//! What the tests that start a real server of someone else's (tinyproxy,
//! docker-registry) share: a port to give it, and the wait until it listens.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::Child;
use std::time::{Duration, Instant};

/// A loopback port nothing listens on (just now), for a server the test
/// starts next; a test that needs a port that stays refused uses
/// `support::refusing_port`.
pub fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

/// Waits until `child`, the server `what`, accepts connections on
/// `127.0.0.1:port`, for at most `within`. An error (the server exited, or
/// never listened) carries what `log` says the server wrote.
pub fn wait_listening(
    child: &mut Child,
    port: u16,
    what: &str,
    within: Duration,
    log: impl Fn() -> String,
) -> Result<(), String> {
    let start = Instant::now();
    while start.elapsed() < within {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("{what} exited at once ({status}): {}", log()));
        }
        if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(format!(
        "{what} did not listen within {} s: {}",
        within.as_secs(),
        log()
    ))
}
