//! Test tokens, and the leak scan every run goes through: a token the
//! harness made, or a piece of one, must never show in any output. A leaf
//! under both the sandbox (which scans every run) and the shared support.

use std::collections::HashSet;
use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::outcome::Outcome;

/// Every test token contains this, so any output holding it is a leak.
pub const SECRET_MARK: &str = "SeCrEt";

/// A run of this many characters of a token, anywhere, is a leak (SPEC §5).
pub const LEAK_PIECE: usize = 12;

/// Every token [`token`] made in this process: the leak scan looks for
/// pieces of each of them.
static TOKENS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// A fresh token the mock API answers by its `kind` prefix (see
/// `mock_api::Behaviour`): `KIND-SeCrEt-N-` and 16 random letters, none of
/// them hex digits, so no hash or uuid printed by the component can look
/// like a piece of it.
pub fn token(kind: &str) -> String {
    let (n, head) = token_head(kind);
    let token = format!("{head}{}", random_letters(n, 16));
    remember(&token);
    token
}

/// A token made like [`token`], `len` characters long (as long as the
/// 308-character tokens of the issue, for example).
pub fn token_of_length(kind: &str, len: usize) -> String {
    let (n, head) = token_head(kind);
    assert!(len >= head.len() + LEAK_PIECE, "{len} is too short a token");
    let token = format!("{head}{}", random_letters(n, len - head.len()));
    remember(&token);
    token
}

/// `KIND-SeCrEt-N-`, N counting the tokens made in this process.
fn token_head(kind: &str) -> (u64, String) {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    (n, format!("{kind}-{SECRET_MARK}-{n}-"))
}

/// Adds a token made another way (for example a token with spaces around
/// it) to those the leak scan looks for.
pub fn remember(token: &str) {
    TOKENS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(token.to_string());
}

fn random_letters(salt: u64, len: usize) -> String {
    const LETTERS: &[u8] = b"ghijkmnpqrstuvwxyzGHJKLMNPQRSTUVWXYZ";
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut state =
        nanos ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ u64::from(std::process::id());
    (0..len)
        .map(|_| {
            // xorshift64*: plenty for test tokens.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let x = state.wrapping_mul(0x2545_f491_4f6c_dd1d);
            LETTERS[(x >> 58) as usize % LETTERS.len()] as char
        })
        .collect()
}

/// The first piece of a token that `text` holds: [`SECRET_MARK`], or any
/// [`LEAK_PIECE`] characters in a row of any token made by [`token`].
pub fn leaked_piece(text: &str) -> Option<String> {
    if text.contains(SECRET_MARK) {
        return Some(SECRET_MARK.to_string());
    }
    let tokens = TOKENS.lock().unwrap_or_else(PoisonError::into_inner);
    let mut pieces = HashSet::new();
    for token in tokens.iter() {
        let bounds: Vec<usize> = token.char_indices().map(|(i, _)| i).collect();
        for (start, end) in bounds.iter().zip(bounds.iter().skip(LEAK_PIECE)) {
            pieces.insert(&token[*start..*end]);
        }
        if bounds.len() >= LEAK_PIECE {
            pieces.insert(&token[bounds[bounds.len() - LEAK_PIECE]..]);
        }
    }
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    bounds
        .iter()
        .zip(bounds.iter().skip(LEAK_PIECE))
        .map(|(start, end)| &text[*start..*end])
        .find(|piece| pieces.contains(piece))
        .map(str::to_string)
}

/// Panics if `text` (named `what` in the message) holds a piece of a token.
pub fn assert_no_token(what: &str, text: &str) {
    if let Some(piece) = leaked_piece(text) {
        panic!("a token leaked on {what} (piece {piece:?}): {text}");
    }
}

/// `outcome`, once its stdout and stderr are found to hold no piece of a
/// token (SPEC §5): every [`Sandbox`](super::sandbox::Sandbox) run goes
/// through it, whether or not the test asks.
pub fn scanned(outcome: Outcome) -> Outcome {
    assert_no_token("stdout", &outcome.stdout);
    assert_no_token("stderr", &outcome.stderr);
    outcome
}

/// A typed result (or anything `Debug`) that must carry no piece of a token.
pub fn no_token<T: Debug>(value: T) -> T {
    assert_no_token("a typed result", &format!("{value:?}"));
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::support::sha16;

    #[test]
    fn any_twelve_characters_of_a_made_token_are_a_leak() {
        let tok = token("ok");
        let tail = &tok[tok.len() - LEAK_PIECE..];
        assert!(!tail.contains(SECRET_MARK));
        assert_eq!(leaked_piece(&format!("x {tail} y")).as_deref(), Some(tail));
        let short = &tail[1..];
        assert_eq!(leaked_piece(&format!("x {short} y")), None, "11 are not");
        assert_eq!(leaked_piece(&sha16(&tok)), None);
        assert!(leaked_piece(&format!("<{SECRET_MARK}>")).is_some());
        let long = token_of_length("ok", 308);
        assert_eq!(long.len(), 308);
        assert!(leaked_piece(&format!("x{}y", &long[150..162])).is_some());
        remember("an-outside-token-of-24ch");
        assert!(leaked_piece("...outside-token...").is_some());
    }
}
