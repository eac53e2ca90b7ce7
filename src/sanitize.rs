//! Text safety for anything a server, a transport or a file wrote: tokens
//! are redacted (any run of [`MIN_FRAGMENT`] or more of their characters),
//! and characters that steer a terminal (C0, DEL, C1, bidi overrides) are
//! shown as visible escapes. Every face inherits both through the core.

use std::borrow::Cow;
use std::collections::HashSet;

use crate::config::profile::{Secret, token_sha256};

/// A run this long of a token's characters counts as a piece of it.
pub const MIN_FRAGMENT: usize = 12;
/// Tokens shorter than this are not real ones, and would match ordinary words.
const MIN_REDACTED_LEN: usize = 6;

/// What stands for a redacted token: its hash prefix, never its text.
pub fn marker(token: &Secret) -> String {
    format!("<token sha256:{}>", token_sha256(Some(token)))
}

/// `text` with every run of [`MIN_FRAGMENT`] or more characters of `token`
/// replaced by [`marker`] (overlapping or touching runs become one marker).
/// Tokens shorter than [`MIN_FRAGMENT`] are redacted where they occur whole.
/// Linear in `text`: a rolling fingerprint per position, looked up in the
/// set of the token's 12-grams and confirmed exactly on a hit.
pub fn redact<'a>(text: &'a str, token: &Secret) -> Cow<'a, str> {
    let secret = token.expose();
    let secret_chars: Vec<char> = secret.chars().collect();
    if secret_chars.len() < MIN_REDACTED_LEN {
        return Cow::Borrowed(text);
    }
    if secret_chars.len() < MIN_FRAGMENT {
        return match text.contains(secret) {
            true => Cow::Owned(text.replace(secret, &marker(token))),
            false => Cow::Borrowed(text),
        };
    }
    let grams: HashSet<&[char]> = secret_chars.windows(MIN_FRAGMENT).collect();
    let fingerprints: HashSet<u64> = secret_chars
        .windows(MIN_FRAGMENT)
        .map(|w| w.iter().fold(0, |h, &c| roll_in(h, c)))
        .collect();
    let positions: Vec<(usize, char)> = text.char_indices().collect();
    let chars: Vec<char> = positions.iter().map(|&(_, c)| c).collect();
    // Covered spans in char indices, merged as they are found. A rolling
    // fingerprint keeps each position O(1); a hit is confirmed exactly.
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut hash = 0u64;
    for (index, &c) in chars.iter().enumerate() {
        hash = roll_in(hash, c);
        if index >= MIN_FRAGMENT {
            hash =
                hash.wrapping_sub(char_value(chars[index - MIN_FRAGMENT]).wrapping_mul(OUTGOING));
        }
        let Some(start) = (index + 1).checked_sub(MIN_FRAGMENT) else {
            continue;
        };
        let end = index + 1;
        if !fingerprints.contains(&hash) || !grams.contains(&chars[start..end]) {
            continue;
        }
        match spans.last_mut() {
            Some(last) if start <= last.1 => last.1 = end,
            _ => spans.push((start, end)),
        }
    }
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    let byte_at = |index: usize| positions.get(index).map_or(text.len(), |&(at, _)| at);
    let marker = marker(token);
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (start, end) in spans {
        out.push_str(&text[copied..byte_at(start)]);
        out.push_str(&marker);
        copied = byte_at(end);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// Rabin-Karp over chars, modulo 2^64.
const BASE: u64 = 0x100_0000_01b3;
/// `BASE` to the power [`MIN_FRAGMENT`]: the weight of the char leaving the window.
const OUTGOING: u64 = BASE.wrapping_pow(MIN_FRAGMENT as u32);

fn char_value(c: char) -> u64 {
    u64::from(c) + 1
}

fn roll_in(hash: u64, c: char) -> u64 {
    hash.wrapping_mul(BASE).wrapping_add(char_value(c))
}

/// [`redact`] for each of several tokens (a server that saw them all may echo any).
pub fn redact_all<'a>(text: &'a str, tokens: &[&Secret]) -> Cow<'a, str> {
    tokens
        .iter()
        .fold(Cow::Borrowed(text), |text, token| match text {
            Cow::Borrowed(text) => redact(text, token),
            Cow::Owned(text) => Cow::Owned(redact(&text, token).into_owned()),
        })
}

/// Characters a terminal acts on or reorders text by: C0 (all of them, tab
/// and newline included, so a value cannot forge a line), DEL, C1, the bidi
/// embeddings, overrides and isolates, the directional marks, and the line
/// and paragraph separators.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{061c}'
        | '\u{200e}' | '\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}'
    )
}

/// `text` with every [`is_unsafe`] character written as a visible escape:
/// `\x1b` below U+0100, `\u202e` above. Other text, backslashes included, is
/// kept as is, so escaping twice changes nothing more.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match u32::from(c) {
            _ if !is_unsafe(c) => out.push(c),
            code if code < 0x100 => out.push_str(&format!("\\x{code:02x}")),
            code => out.push_str(&format!("\\u{code:04x}")),
        }
    }
    Cow::Owned(out)
}

/// How text from a server becomes a message: tokens redacted first, then one
/// line, controls escaped, tokens redacted again (an escape could complete a
/// token that holds backslashes), and only then cut to `max_chars`.
pub fn server_text(text: &str, tokens: &[&Secret], max_chars: usize) -> String {
    let redacted = redact_all(text, tokens);
    let one_line = redacted.split_whitespace().collect::<Vec<_>>().join(" ");
    let escaped = escape_controls(&one_line);
    let redacted = redact_all(&escaped, tokens);
    match redacted.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}...", &redacted[..cut]),
        None => redacted.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// A 308-character token, as the issue measured.
    fn long_token() -> Secret {
        let body: String = (0..300)
            .map(|i| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[i * 7 % 36]))
            .collect();
        Secret::new(format!("eyJhbGci{body}"))
    }

    /// Every 12-character window of the token that appears in `text`.
    fn fragments(text: &str, token: &Secret) -> Vec<String> {
        let chars: Vec<char> = token.expose().chars().collect();
        chars
            .windows(MIN_FRAGMENT)
            .map(|w| w.iter().collect::<String>())
            .filter(|w| text.contains(w.as_str()))
            .collect()
    }

    #[test]
    fn no_run_of_twelve_token_characters_survives_redaction() {
        let token = long_token();
        let secret = token.expose();
        let marker = marker(&token);
        let cases = [
            format!("bad token {secret} here"),
            format!("prefix {} suffix", &secret[..12]),
            secret[100..250].to_string(),
            format!("{}|{}", &secret[..40], &secret[200..]),
            format!("{}{}", &secret[10..30], &secret[50..70]),
            secret.repeat(3),
        ];
        for text in &cases {
            let out = redact(text, &token);
            assert!(fragments(&out, &token).is_empty(), "{out}");
            assert!(out.contains(&marker), "{out}");
        }
        assert_eq!(
            redact(&format!("a {secret} b"), &token),
            format!("a {marker} b")
        );
        // 11 characters are not a piece of it; ordinary text is untouched.
        let eleven = format!("x{}y", &secret[20..31]);
        assert!(matches!(redact(&eleven, &token), Cow::Borrowed(_)));
        assert!(matches!(redact("hello", &token), Cow::Borrowed(_)));
    }

    #[test]
    fn short_tokens_are_redacted_whole_and_tiny_ones_not_at_all() {
        let token = Secret::new("tok-1234");
        assert_eq!(
            redact("bad tok-1234!", &token),
            format!("bad {}!", marker(&token))
        );
        assert_eq!(redact("tok-123", &token), "tok-123");
        assert_eq!(redact("a b c", &Secret::new("a")), "a b c");
    }

    #[test]
    fn non_ascii_tokens_are_redacted_on_character_boundaries() {
        let token = Secret::new("ééééééééééééééééééé-ü-ÿÿÿÿÿÿÿÿÿÿÿÿÿ");
        let text = format!("«{}»", &token.expose()[4..]);
        let out = redact(&text, &token);
        assert_eq!(out, format!("«{}»", marker(&token)));
    }

    #[test]
    fn redacting_each_of_several_tokens() {
        let (a, b) = (long_token(), Secret::new("B".repeat(40)));
        let text = format!("{} and {}", a.expose(), b.expose());
        let out = redact_all(&text, &[&a, &b]);
        assert_eq!(out, format!("{} and {}", marker(&a), marker(&b)));
    }

    #[test]
    fn redaction_is_linear_in_the_text() {
        let token = long_token();
        let mut text = "x".repeat(1 << 20);
        text.push_str(token.expose());
        let started = Instant::now();
        let out = redact(&text, &token);
        assert!(out.ends_with(&marker(&token)));
        // One O(1) step per character: well under a second even unoptimized.
        assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
    }

    #[test]
    fn controls_and_bidi_overrides_become_visible_escapes() {
        let cases = [
            ("plain text, é, 😀, \\x1b", "plain text, é, 😀, \\x1b"),
            ("\u{1b}]52;c;SGk=\u{7}", "\\x1b]52;c;SGk=\\x07"),
            ("a\nb\tc\rd\0", "a\\x0ab\\x09c\\x0dd\\x00"),
            ("del\u{7f} c1\u{85}\u{9b}", "del\\x7f c1\\x85\\x9b"),
            ("\u{202e}evil\u{202c}", "\\u202eevil\\u202c"),
            (
                "\u{2066}\u{2069}\u{200e}\u{200f}\u{61c}",
                "\\u2066\\u2069\\u200e\\u200f\\u061c",
            ),
            ("\u{2028}\u{2029}", "\\u2028\\u2029"),
        ];
        for (raw, want) in cases {
            let out = escape_controls(raw);
            assert_eq!(out, want);
            assert!(!out.chars().any(is_unsafe));
            assert_eq!(escape_controls(&out), out, "escaping twice adds nothing");
        }
        assert!(matches!(escape_controls("ok"), Cow::Borrowed(_)));
    }

    #[test]
    fn server_text_redacts_before_it_shortens() {
        let token = long_token();
        // The case: the token after 14 characters of text, cut at 200.
        let body = format!("invalid token {} \u{1b}[2J", token.expose());
        let out = server_text(&body, &[&token], 200);
        assert!(fragments(&out, &token).is_empty(), "{out}");
        assert_eq!(out, format!("invalid token {} \\x1b[2J", marker(&token)));
        let long = format!("{} {}", "word ".repeat(100), token.expose());
        let out = server_text(&long, &[&token], 200);
        assert!(out.ends_with("...") && out.chars().count() == 203, "{out}");
        assert!(fragments(&out, &token).is_empty());
    }
}
