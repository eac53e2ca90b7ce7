//! Output formats for rows of `key: value`, byte-compatible with the
//! reference CLI's formatters where it has one (json is Python's
//! `json.dumps`, csv is Python's `csv.writer`, and so on).
//!
//! Values may come from a hostile file or server, and every format can end
//! up on a terminal. JSON and TOML escape control characters and bidi
//! overrides in their own syntax (lossless); table, plain, csv and tsv show
//! them as visible `\x1b` / `\u202e` escapes ([`sanitize::escape_controls`]).
//! For csv and tsv that departs from Python's `csv.writer`, which writes them
//! raw: those formats are printed to terminals as often as read by
//! programs, the only values holding such characters are broken or hostile
//! ones, and a program that needs the exact bytes has json.

// `mcp` writes its frames with the same string escaper as `-f json`.
pub(crate) mod json;

use std::borrow::Cow;

use crate::sanitize::{self, escape_controls};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Default,
    Table,
    Json,
    JsonPretty,
    Csv,
    Tsv,
    Plain,
    Toml,
}

impl Format {
    pub const ALL: [Format; 8] = [
        Format::Default,
        Format::Table,
        Format::Json,
        Format::JsonPretty,
        Format::Csv,
        Format::Tsv,
        Format::Plain,
        Format::Toml,
    ];

    /// The name `-f/--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Default => "default",
            Format::Table => "table",
            Format::Json => "json",
            Format::JsonPretty => "json-pretty",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Plain => "plain",
            Format::Toml => "toml",
        }
    }

    /// Formats meant for programs: their stdout must stay parseable.
    pub fn is_machine(self) -> bool {
        matches!(
            self,
            Format::Json | Format::JsonPretty | Format::Csv | Format::Tsv | Format::Toml
        )
    }

    /// The `detail` column is added where it breaks no fixed column layout.
    pub fn has_detail(self) -> bool {
        matches!(
            self,
            Format::Json | Format::JsonPretty | Format::Plain | Format::Toml
        )
    }

    /// What to print when there are no rows at all.
    pub fn empty(self) -> &'static str {
        match self {
            Format::JsonPretty => "[]\n",
            _ => "",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Bool(bool),
}

impl Value {
    /// The text a table cell shows (Python's `_format_value`).
    fn text(&self) -> &str {
        match self {
            Value::Str(s) => s,
            Value::Bool(true) => "true",
            Value::Bool(false) => "false",
        }
    }

    /// [`Value::text`] safe for a terminal.
    fn shown(&self) -> Cow<'_, str> {
        escape_controls(self.text())
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}

pub type Row = Vec<(&'static str, Value)>;

/// Renders all rows; `terminal` aligns table columns for people.
pub fn render(format: Format, rows: &[Row], terminal: bool) -> String {
    if rows.is_empty() {
        return format.empty().to_string();
    }
    match format {
        Format::Default | Format::Table => table(rows, terminal),
        Format::Json => rows
            .iter()
            .map(|row| json::object(row, None) + "\n")
            .collect(),
        Format::JsonPretty => {
            let objects: Vec<String> = rows.iter().map(|row| json::object(row, Some(2))).collect();
            format!("[\n{}\n]\n", objects.join(",\n"))
        }
        Format::Csv => delimited(rows, ','),
        Format::Tsv => delimited(rows, '\t'),
        Format::Plain => plain(rows),
        Format::Toml => toml(rows),
    }
}

fn table(rows: &[Row], terminal: bool) -> String {
    let headers: Vec<String> = rows[0].iter().map(|(k, _)| k.to_uppercase()).collect();
    let shown: Vec<Vec<Cow<'_, str>>> = rows
        .iter()
        .map(|row| row.iter().map(|(_, v)| v.shown()).collect())
        .collect();
    let cells: Vec<Vec<&str>> = shown
        .iter()
        .map(|row| row.iter().map(|cell| cell.as_ref()).collect())
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let last = cells.len().saturating_sub(1);
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                // Padding is for people; pipes get the reference's unpadded cells.
                if terminal && i < last {
                    format!("{cell:<width$}", width = widths[i])
                } else {
                    cell.to_string()
                }
            })
            .collect();
        padded.join("  ") + "\n"
    };
    let mut out = line(headers.iter().map(String::as_str).collect());
    for row in cells {
        out.push_str(&line(row));
    }
    out
}

/// Python's `csv.writer` with `QUOTE_MINIMAL` and `\r\n` line ends.
fn delimited(rows: &[Row], delimiter: char) -> String {
    let field = |text: &str| -> String {
        if text.contains([delimiter, '"', '\r', '\n']) {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text.to_string()
        }
    };
    let mut out = String::new();
    let header: Vec<String> = rows[0].iter().map(|(k, _)| field(k)).collect();
    out.push_str(&header.join(&delimiter.to_string()));
    out.push_str("\r\n");
    for row in rows {
        let cells: Vec<String> = row.iter().map(|(_, v)| field(&v.shown())).collect();
        out.push_str(&cells.join(&delimiter.to_string()));
        out.push_str("\r\n");
    }
    out
}

fn plain(rows: &[Row]) -> String {
    let mut out = String::new();
    for (index, row) in rows.iter().enumerate() {
        if index > 0 {
            out.push_str("---\n");
        }
        let key_width = row
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0);
        // Newlines are escaped too: one line per key, so no value can forge another.
        for (key, value) in row {
            let label = format!("{:<width$}", format!("{key}:"), width = key_width + 2);
            out.push_str(&label);
            out.push_str(&value.shown());
            out.push('\n');
        }
    }
    out
}

fn toml(rows: &[Row]) -> String {
    let mut parts = Vec::new();
    for row in rows {
        parts.push("[[results]]".to_string());
        for (key, value) in row {
            let value = match value {
                Value::Bool(b) => b.to_string(),
                Value::Str(s) => toml_string(s),
            };
            parts.push(format!("{key} = {value}"));
        }
        parts.push(String::new());
    }
    parts.join("\n")
}

fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || sanitize::is_unsafe(c) => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Row> {
        vec![
            vec![
                ("name", "a".into()),
                ("project", "".into()),
                ("active", Value::Bool(true)),
            ],
            vec![
                ("name", "b,\"c\"".into()),
                ("project", "p".into()),
                ("active", Value::Bool(false)),
            ],
        ]
    }

    #[test]
    fn each_format_matches_the_reference() {
        let r = rows();
        assert_eq!(
            render(Format::Default, &r, false),
            "NAME  PROJECT  ACTIVE\na    true\nb,\"c\"  p  false\n"
        );
        assert_eq!(
            render(Format::Table, &r, true),
            "NAME   PROJECT  ACTIVE\na               true\nb,\"c\"  p        false\n"
        );
        assert_eq!(
            render(Format::Json, &r, false),
            "{\"name\": \"a\", \"project\": \"\", \"active\": true}\n{\"name\": \"b,\\\"c\\\"\", \"project\": \"p\", \"active\": false}\n"
        );
        assert_eq!(
            render(Format::JsonPretty, &r[..1], false),
            "[\n{\n  \"name\": \"a\",\n  \"project\": \"\",\n  \"active\": true\n}\n]\n"
        );
        assert_eq!(
            render(Format::Csv, &r, false),
            "name,project,active\r\na,,true\r\n\"b,\"\"c\"\"\",p,false\r\n"
        );
        assert_eq!(
            render(Format::Tsv, &r[..1], false),
            "name\tproject\tactive\r\na\t\ttrue\r\n"
        );
        assert_eq!(
            render(Format::Plain, &r, false),
            "name:    a\nproject: \nactive:  true\n---\nname:    b,\"c\"\nproject: p\nactive:  false\n"
        );
        assert_eq!(
            render(Format::Toml, &r[..1], false),
            "[[results]]\nname = \"a\"\nproject = \"\"\nactive = true\n"
        );
    }

    #[test]
    fn empty_listing() {
        assert_eq!(render(Format::JsonPretty, &[], false), "[]\n");
        assert_eq!(render(Format::Json, &[], false), "");
    }

    /// OSC 52 (clipboard write), RLO, a newline and a tab, C1 and DEL.
    const HOSTILE: &str = "x\u{1b}]52;c;QQ==\u{7}\u{202e}y\n\tz\u{85}\u{7f}";

    #[test]
    fn controls_and_bidi_overrides_never_reach_any_format_raw() {
        let rows: Vec<Row> = vec![vec![
            ("name", HOSTILE.into()),
            ("url", "http://h".into()),
            ("active", Value::Bool(true)),
        ]];
        let escaped = "x\\x1b]52;c;QQ==\\x07\\u202ey\\x0a\\x09z\\x85\\x7f";
        let expected = [
            (Format::Default, format!("NAME  URL  ACTIVE\n{escaped}  http://h  true\n")),
            (Format::Csv, format!("name,url,active\r\n{escaped},http://h,true\r\n")),
            (Format::Tsv, format!("name\turl\tactive\r\n{escaped}\thttp://h\ttrue\r\n")),
            (Format::Plain, format!("name:   {escaped}\nurl:    http://h\nactive: true\n")),
            // Python: json.dumps({"name": HOSTILE, ...})
            (
                Format::Json,
                "{\"name\": \"x\\u001b]52;c;QQ==\\u0007\\u202ey\\n\\tz\\u0085\\u007f\", \"url\": \"http://h\", \"active\": true}\n".to_string(),
            ),
            (
                Format::Toml,
                "[[results]]\nname = \"x\\u001B]52;c;QQ==\\u0007\\u202Ey\\n\\tz\\u0085\\u007F\"\nurl = \"http://h\"\nactive = true\n".to_string(),
            ),
        ];
        for (format, want) in expected {
            assert_eq!(render(format, &rows, false), want, "{format:?}");
        }
        // Every format.
        for format in Format::ALL {
            let name = format!("{format:?}");
            let out = render(format, &rows, true);
            let raw: Vec<char> = out
                .chars()
                .filter(|&c| sanitize::is_unsafe(c) && !matches!(c, '\n' | '\r' | '\t'))
                .collect();
            assert!(raw.is_empty(), "{name}: {raw:?} in {out:?}");
            let mut tame = rows.clone();
            tame[0][0].1 = "tame".into();
            let want_lines = render(format, &tame, true).lines().count();
            assert_eq!(
                out.lines().count(),
                want_lines,
                "{name}: a forged line: {out:?}"
            );
        }
    }
}
