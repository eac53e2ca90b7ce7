//! JSON text exactly as Python's `json.dumps` writes a flat object: `", "`
//! and `": "` separators, and `ensure_ascii` escapes.

use super::{Row, Value};

/// One object; `indent` as in `json.dumps(obj, indent=N)`.
pub fn object(row: &Row, indent: Option<usize>) -> String {
    let members: Vec<String> = row
        .iter()
        .map(|(key, value)| {
            let value = match value {
                Value::Bool(b) => b.to_string(),
                Value::Str(s) => string(s),
            };
            format!("{}: {value}", string(key))
        })
        .collect();
    match indent {
        None => format!("{{{}}}", members.join(", ")),
        Some(n) => {
            let pad = " ".repeat(n);
            let body: Vec<String> = members.iter().map(|m| format!("{pad}{m}")).collect();
            format!("{{\n{}\n}}", body.join(",\n"))
        }
    }
}

pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_like_ensure_ascii() {
        assert_eq!(
            super::string("a\"\\\n\u{1}é😀"),
            "\"a\\\"\\\\\\n\\u0001\\u00e9\\ud83d\\ude00\""
        );
    }
}
