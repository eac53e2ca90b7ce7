//! Python's `repr()` of a string, so that messages quote names exactly as the
//! reference CLI's `%r` does (`'name'`, or `"it's"` when the name has a `'`).

pub fn repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            // Python escapes every non-printable; these are the ones that
            // steer a terminal (C0, DEL, C1, bidi), as `\x1b` / `\u202e`.
            c if crate::sanitize::is_unsafe(c) => out.push_str(&crate::sanitize::escape_controls(
                c.encode_utf8(&mut [0; 4]),
            )),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::repr;

    #[test]
    fn quotes_like_python() {
        assert_eq!(repr("default"), "'default'");
        assert_eq!(repr("it's"), "\"it's\"");
        assert_eq!(repr("a'\"b"), "'a\\'\"b'");
        assert_eq!(repr("a\nb\\"), "'a\\nb\\\\'");
        // Python: repr("\x1b]52;\x07\x7f\x85\u202e\u2066\u200f\u061c")
        assert_eq!(
            repr("\x1b]52;\x07\x7f\u{85}\u{202e}\u{2066}\u{200f}\u{61c}"),
            "'\\x1b]52;\\x07\\x7f\\x85\\u202e\\u2066\\u200f\\u061c'"
        );
    }
}
