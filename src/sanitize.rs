//! Text safety for anything a server, a transport or a file wrote: tokens
//! are redacted (any run of [`MIN_FRAGMENT`] or more of their characters),
//! and characters that steer a terminal (C0, DEL, C1, bidi overrides) are
//! shown as visible escapes. Every face inherits both through the core.

use std::borrow::Cow;

use crate::secret::{Secret, token_sha256};

/// A run this long of a token's characters counts as a piece of it.
pub const MIN_FRAGMENT: usize = 12;
/// Tokens shorter than this are not real ones, and would match ordinary words.
const MIN_REDACTED_LEN: usize = 6;

/// What stands for a redacted token: its hash prefix, never its text.
pub fn marker(token: &Secret) -> String {
    format!("<token sha256:{}>", token_sha256(Some(token)))
}

/// Redacts a set of tokens from any number of texts. Built once (a server
/// that saw many tokens may echo any of them), then each text costs one pass:
/// a rolling fingerprint of every 12-character window, looked up among the
/// tokens' 12-grams and confirmed exactly on a hit. Linear in the text,
/// whatever the number of tokens.
pub struct Redactor {
    /// Tokens of [`MIN_FRAGMENT`] characters or more.
    long: Vec<Vec<char>>,
    /// Every distinct 12-gram of `long` as (fingerprint, token, start), sorted:
    /// 16 bytes a gram, searched by fingerprint.
    index: Vec<(u64, u32, u32)>,
    /// Tokens of [`MIN_REDACTED_LEN`] to [`MIN_FRAGMENT`] characters: redacted whole.
    short: Vec<String>,
    /// One marker per entry of `long`, then one per entry of `short`.
    markers: Vec<String>,
}

impl Redactor {
    pub fn new(tokens: &[&Secret]) -> Redactor {
        let (mut long, mut short) = (Vec::new(), Vec::new());
        let (mut long_markers, mut short_markers) = (Vec::new(), Vec::new());
        for token in tokens {
            let chars: Vec<char> = token.expose().chars().collect();
            if chars.len() >= MIN_FRAGMENT {
                long.push(chars);
                long_markers.push(marker(token));
            } else if chars.len() >= MIN_REDACTED_LEN {
                short.push(token.expose().to_string());
                short_markers.push(marker(token));
            }
        }
        let mut index: Vec<(u64, u32, u32)> = Vec::new();
        for (owner, chars) in long.iter().enumerate() {
            for (start, window) in chars.windows(MIN_FRAGMENT).enumerate() {
                // Token counts and lengths are far below u32::MAX.
                index.push((fingerprint(window), owner as u32, start as u32));
            }
        }
        let gram = |&(_, owner, start): &(u64, u32, u32)| {
            let start = start as usize;
            &long[owner as usize][start..start + MIN_FRAGMENT]
        };
        index.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| gram(a).cmp(gram(b))));
        // A repeated gram ("AAAA...") is kept once, so a lookup stays O(1).
        index.dedup_by(|a, b| a.0 == b.0 && gram(a) == gram(b));
        long_markers.extend(short_markers);
        Redactor {
            long,
            index,
            short,
            markers: long_markers,
        }
    }

    /// The token whose 12-gram `window` is, if any.
    fn owner_of(&self, hash: u64, window: &[char]) -> Option<usize> {
        let first = self.index.partition_point(|entry| entry.0 < hash);
        self.index[first..]
            .iter()
            .take_while(|entry| entry.0 == hash)
            .find(|&&(_, owner, start)| {
                let start = start as usize;
                self.long[owner as usize][start..start + MIN_FRAGMENT] == *window
            })
            .map(|&(_, owner, _)| owner as usize)
    }

    /// `text` with every run of [`MIN_FRAGMENT`] or more characters of a
    /// token replaced by its [`marker`] (overlapping or touching runs become
    /// one marker), and every whole occurrence of a shorter token.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let text = self.redact_fragments(text);
        if self.short.is_empty() {
            return text;
        }
        let mut text = text;
        for (secret, marker) in self.short.iter().zip(&self.markers[self.long.len()..]) {
            if text.contains(secret.as_str()) {
                text = Cow::Owned(text.replace(secret.as_str(), marker));
            }
        }
        text
    }

    fn redact_fragments<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.index.is_empty() {
            return Cow::Borrowed(text);
        }
        let positions: Vec<(usize, char)> = text.char_indices().collect();
        let chars: Vec<char> = positions.iter().map(|&(_, c)| c).collect();
        // Covered spans in char indices with the token they show, merged as found.
        let mut spans: Vec<(usize, usize, usize)> = Vec::new();
        let mut hash = 0u64;
        for (index, &c) in chars.iter().enumerate() {
            hash = roll_in(hash, c);
            if index >= MIN_FRAGMENT {
                let leaving = char_value(chars[index - MIN_FRAGMENT]);
                hash = hash.wrapping_sub(leaving.wrapping_mul(OUTGOING));
            }
            let Some(start) = (index + 1).checked_sub(MIN_FRAGMENT) else {
                continue;
            };
            let end = index + 1;
            let Some(owner) = self.owner_of(hash, &chars[start..end]) else {
                continue;
            };
            match spans.last_mut() {
                Some(last) if start <= last.1 => last.1 = end,
                _ => spans.push((start, end, owner)),
            }
        }
        if spans.is_empty() {
            return Cow::Borrowed(text);
        }
        let byte_at = |index: usize| positions.get(index).map_or(text.len(), |&(at, _)| at);
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        for (start, end, owner) in spans {
            out.push_str(&text[copied..byte_at(start)]);
            out.push_str(&self.markers[owner]);
            copied = byte_at(end);
        }
        out.push_str(&text[copied..]);
        Cow::Owned(out)
    }
}

/// [`Redactor::redact`] for one token.
pub fn redact<'a>(text: &'a str, token: &Secret) -> Cow<'a, str> {
    Redactor::new(&[token]).redact(text)
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

fn fingerprint(window: &[char]) -> u64 {
    window.iter().fold(0, |hash, &c| roll_in(hash, c))
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
        push_shown(&mut out, c);
    }
    Cow::Owned(out)
}

/// Pushes `c`, or its visible escape when it is [`is_unsafe`]: the one
/// spelling of the escape rule.
fn push_shown(out: &mut String, c: char) {
    match u32::from(c) {
        _ if !is_unsafe(c) => out.push(c),
        code if code < 0x100 => out.push_str(&format!("\\x{code:02x}")),
        code => out.push_str(&format!("\\u{code:04x}")),
    }
}

/// Text from a file or a command line inside a one-line message: its first
/// `max_chars` characters (then `...`; a name may be megabytes long), with
/// [`is_unsafe`] characters escaped as [`escape_controls`] does. For the
/// faces' own messages (usage errors, MCP text) as much as the core's.
pub(crate) fn shown(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    for (count, c) in text.chars().enumerate() {
        if count == max_chars {
            out.push_str("...");
            break;
        }
        push_shown(&mut out, c);
    }
    out
}

/// How text from a server becomes a message: tokens redacted first, then one
/// line, controls escaped, tokens redacted again (an escape could complete a
/// token that holds backslashes), and only then cut to `max_chars`.
pub fn server_text(text: &str, redactor: &Redactor, max_chars: usize) -> String {
    let redacted = redactor.redact(text);
    let one_line = redacted.split_whitespace().collect::<Vec<_>>().join(" ");
    let escaped = escape_controls(&one_line);
    let redacted = redactor.redact(&escaped);
    match redacted.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}...", &redacted[..cut]),
        None => redacted.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{fragments, long_token};
    use std::time::Instant;

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
            assert!(fragments(&out, token.expose()).is_empty(), "{out}");
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
        let out = Redactor::new(&[&a, &b]).redact(&text);
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
        assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
    }

    #[test]
    fn many_tokens_and_repetitive_ones_stay_linear() {
        // 1,000 profiles' tokens on one server, and a token of one repeated letter.
        let tokens: Vec<Secret> = (0..1000)
            .map(|i| Secret::new(format!("{i:04}-{}", long_token().expose())))
            .chain([Secret::new("A".repeat(300))])
            .collect();
        let refs: Vec<&Secret> = tokens.iter().collect();
        let started = Instant::now();
        let redactor = Redactor::new(&refs);
        let text = "A".repeat(1 << 20) + " " + tokens[500].expose();
        let out = redactor.redact(&text);
        assert_eq!(
            out,
            format!("{} {}", marker(&tokens[1000]), marker(&tokens[500]))
        );
        assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
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
    fn shown_escapes_like_escape_controls_and_cuts_long_text() {
        let raw = "a\u{1b}]52;c;SGk=\u{7}\u{202e}b\u{85}\n";
        assert_eq!(shown(raw, 80), escape_controls(raw));
        assert_eq!(shown(raw, 80), "a\\x1b]52;c;SGk=\\x07\\u202eb\\x85\\x0a");
        assert_eq!(shown(&"é".repeat(100), 3), "ééé...");
        assert_eq!(shown("abc", 3), "abc");
    }

    #[test]
    fn server_text_redacts_before_it_shortens() {
        let token = long_token();
        // The case: the token after 14 characters of text, cut at 200.
        let body = format!("invalid token {} \u{1b}[2J", token.expose());
        let out = server_text(&body, &Redactor::new(&[&token]), 200);
        assert!(fragments(&out, token.expose()).is_empty(), "{out}");
        assert_eq!(out, format!("invalid token {} \\x1b[2J", marker(&token)));
        let long = format!("{} {}", "word ".repeat(100), token.expose());
        let out = server_text(&long, &Redactor::new(&[&token]), 200);
        assert!(out.ends_with("...") && out.chars().count() == 203, "{out}");
        assert!(fragments(&out, token.expose()).is_empty());
    }
}
