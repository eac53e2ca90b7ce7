//! A codec for the INI dialect of Python's `configparser`, the format of
//! `auth.ini` and `cli.ini`.
//!
//! rust-ini cannot be used here: it has no `%%` unescaping, no `[DEFAULT]`
//! inheritance and no duplicate-key errors, and it does not write the exact
//! layout `configparser.write` produces. This module follows
//! `RawConfigParser._read` (strict mode, `=`/`:` delimiters, `#`/`;` full-line
//! comments, indented continuation lines, case-insensitive keys) and
//! `BasicInterpolation` (`%%` and `%(key)s`) line by line.
//!
//! Values are stored raw, exactly as in the file (still `%%`-escaped), so a
//! rewrite never changes a value it did not touch; [`Document::get`] applies
//! the interpolation when a value is read.

use std::collections::{HashMap, HashSet};
use std::fmt;

/// The section whose keys every other section inherits.
pub const DEFAULT_SECTION: &str = "DEFAULT";

/// How deep `%(key)s` references may nest (configparser's MAX_INTERPOLATION_DEPTH).
const MAX_INTERPOLATION_DEPTH: usize = 10;

/// A parse error, with the 1-based line it was found on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Lower-cased, as `optionxform` leaves it.
    pub key: String,
    /// Raw text: continuation lines joined with `\n`, `%%` still escaped.
    pub raw: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    pub entries: Vec<Entry>,
}

impl Section {
    fn new(name: &str) -> Self {
        Section {
            name: name.to_string(),
            entries: Vec::new(),
        }
    }

    pub fn raw(&self, key: &str) -> Option<&str> {
        let key = key.to_lowercase();
        self.entries
            .iter()
            .find(|e| e.key == key)
            .map(|e| e.raw.as_str())
    }

    /// Sets a raw (already escaped) value, keeping the key's place if it exists.
    pub fn set_raw(&mut self, key: &str, raw: String) {
        let key = key.to_lowercase();
        match self.entries.iter_mut().find(|e| e.key == key) {
            Some(entry) => entry.raw = raw,
            None => self.entries.push(Entry { key, raw }),
        }
    }

    pub fn remove(&mut self, key: &str) {
        let key = key.to_lowercase();
        self.entries.retain(|e| e.key != key);
    }
}

/// A whole file: `[DEFAULT]` (possibly empty) and the other sections in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub defaults: Section,
    pub sections: Vec<Section>,
}

impl Default for Document {
    fn default() -> Self {
        Document {
            defaults: Section::new(DEFAULT_SECTION),
            sections: Vec::new(),
        }
    }
}

/// Escapes a value for writing, so that configparser reads back exactly `value`.
pub fn escape(value: &str) -> String {
    value.replace('%', "%%")
}

impl Document {
    pub fn parse(text: &str) -> Result<Document, ParseError> {
        Parser::default().parse(text)
    }

    pub fn section(&self, name: &str) -> Option<&Section> {
        if name == DEFAULT_SECTION {
            return Some(&self.defaults);
        }
        self.sections.iter().find(|s| s.name == name)
    }

    pub fn section_mut(&mut self, name: &str) -> Option<&mut Section> {
        if name == DEFAULT_SECTION {
            return Some(&mut self.defaults);
        }
        self.sections.iter_mut().find(|s| s.name == name)
    }

    /// The section, created at the end of the file when missing.
    pub fn section_or_insert(&mut self, name: &str) -> &mut Section {
        if name == DEFAULT_SECTION {
            return &mut self.defaults;
        }
        let index = match self.sections.iter().position(|s| s.name == name) {
            Some(index) => index,
            None => {
                self.sections.push(Section::new(name));
                self.sections.len() - 1
            }
        };
        &mut self.sections[index]
    }

    pub fn remove_section(&mut self, name: &str) -> bool {
        let before = self.sections.len();
        self.sections.retain(|s| s.name != name);
        self.sections.len() != before
    }

    /// The raw value of `key` in `section`, falling back to `[DEFAULT]`.
    pub fn raw(&self, section: &str, key: &str) -> Option<&str> {
        self.section(section)
            .and_then(|s| s.raw(key))
            .or_else(|| self.defaults.raw(key))
    }

    /// The value of `key` in `section` (or inherited from `[DEFAULT]`), with
    /// `BasicInterpolation` applied, as `ConfigParser.get` returns it.
    pub fn get(&self, section: &str, key: &str) -> Option<Result<String, String>> {
        self.get_in(self.section(section)?, key)
    }

    /// [`Document::get`] for a section already in hand (no lookup by name).
    pub fn get_in(&self, section: &Section, key: &str) -> Option<Result<String, String>> {
        let raw = section.raw(key).or_else(|| self.defaults.raw(key))?;
        Some(self.interpolate(section, key, raw, 1))
    }

    fn interpolate(
        &self,
        section: &Section,
        key: &str,
        raw: &str,
        depth: usize,
    ) -> Result<String, String> {
        let section_name = &section.name;
        if depth > MAX_INTERPOLATION_DEPTH {
            return Err(format!(
                "value of '{key}' in section [{section_name}] refers to itself too deeply"
            ));
        }
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(at) = rest.find('%') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            if let Some(tail) = after.strip_prefix('%') {
                out.push('%');
                rest = tail;
            } else if let Some(tail) = after.strip_prefix('(') {
                let close = tail.find(")s").ok_or_else(|| {
                    format!("bad interpolation in '{key}' of section [{section_name}]: '%(' needs a matching ')s'")
                })?;
                let name = tail[..close].to_lowercase();
                let referenced = section.raw(&name).or_else(|| self.defaults.raw(&name)).ok_or_else(|| {
                    format!("'{key}' in section [{section_name}] refers to '%({name})s', which is not set")
                })?;
                out.push_str(&self.interpolate(section, &name, referenced, depth + 1)?);
                rest = &tail[close + 2..];
            } else {
                return Err(format!(
                    "bad value of '{key}' in section [{section_name}]: '%' must be followed by '%' or '(' (write a literal % as %%)"
                ));
            }
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Merges `other` over `self`, as reading two files into one
    /// `ConfigParser` does: sections keep their first place, later keys win.
    pub fn merge(&mut self, other: &Document) {
        for entry in &other.defaults.entries {
            self.defaults.set_raw(&entry.key, entry.raw.clone());
        }
        // Indexed, not `section_or_insert`: files of 10,000 profiles are merged.
        let mut index: HashMap<String, usize> = self
            .sections
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i))
            .collect();
        for section in &other.sections {
            let next = self.sections.len();
            let at = *index.entry(section.name.clone()).or_insert(next);
            if at == next {
                self.sections.push(section.clone());
                continue;
            }
            for entry in &section.entries {
                self.sections[at].set_raw(&entry.key, entry.raw.clone());
            }
        }
    }

    /// The text `configparser.write` would produce for this document.
    pub fn write(&self) -> String {
        let mut out = String::new();
        let mut write_section = |section: &Section| {
            out.push('[');
            out.push_str(&section.name);
            out.push_str("]\n");
            for entry in &section.entries {
                out.push_str(&entry.key);
                out.push_str(" = ");
                out.push_str(&entry.raw.replace('\n', "\n\t"));
                out.push('\n');
            }
            out.push('\n');
        };
        if !self.defaults.entries.is_empty() {
            write_section(&self.defaults);
        }
        for section in &self.sections {
            write_section(section);
        }
        out
    }
}

/// Where the parser stands between lines (the state of `RawConfigParser._read`).
#[derive(Default)]
struct Parser {
    doc: Document,
    /// Index into `doc.sections`, or `None` for `[DEFAULT]`; unset before any header.
    current: Option<Option<usize>>,
    /// The key whose value continuation lines extend.
    current_key: Option<String>,
    indent_level: usize,
    /// Sections and `(section, key)` pairs seen in this file (strict mode).
    seen_sections: HashSet<String>,
    seen_keys: HashSet<(String, String)>,
    section_index: HashMap<String, usize>,
}

impl Parser {
    fn parse(mut self, text: &str) -> Result<Document, ParseError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        // Universal newlines, as Python's text mode reads them.
        let normalized;
        let text = if text.contains('\r') {
            normalized = text.replace("\r\n", "\n").replace('\r', "\n");
            normalized.as_str()
        } else {
            text
        };
        for (index, line) in text.split('\n').enumerate() {
            self.line(index + 1, line)?;
        }
        self.finish();
        Ok(self.doc)
    }

    fn current_section(&mut self) -> Option<&mut Section> {
        match self.current? {
            None => Some(&mut self.doc.defaults),
            Some(i) => self.doc.sections.get_mut(i),
        }
    }

    fn line(&mut self, number: usize, line: &str) -> Result<(), ParseError> {
        if line.contains('\0') {
            return Err(error(
                number,
                "contains a NUL byte; this is not a text file",
            ));
        }
        let value = line.trim();
        let is_comment = value.starts_with('#') || value.starts_with(';');
        if value.is_empty() || is_comment {
            // An empty line may belong to a multi-line value; a comment never does.
            if !is_comment && let Some(key) = self.current_key.clone() {
                append_line(self.current_section(), &key, "");
            }
            return Ok(());
        }
        let indent = line.chars().take_while(|c| c.is_whitespace()).count();
        if let Some(key) = self.current_key.clone()
            && self.current.is_some()
            && indent > self.indent_level
        {
            append_line(self.current_section(), &key, value);
            return Ok(());
        }
        self.indent_level = indent;
        if let Some(name) = section_header(value) {
            self.start_section(number, name)?;
            return Ok(());
        }
        if self.current.is_none() {
            return Err(error(
                number,
                "a key before any [section] header (the file must start with a header such as [DEFAULT])",
            ));
        }
        let Some(delimiter) = value.find(['=', ':']) else {
            return Err(error(
                number,
                "not a [section] header, a comment or a 'key = value' line",
            ));
        };
        let key = value[..delimiter].trim_end().to_lowercase();
        if key.is_empty() {
            return Err(error(number, "a value with no key before the '=' or ':'"));
        }
        let raw = value[delimiter + 1..].trim().to_string();
        let section = self
            .current_section()
            .map(|s| s.name.clone())
            .unwrap_or_default();
        if !self.seen_keys.insert((section.clone(), key.clone())) {
            return Err(error(
                number,
                &format!("duplicate key '{key}' in section [{section}]"),
            ));
        }
        if let Some(section) = self.current_section() {
            section.set_raw(&key, raw);
        }
        self.current_key = Some(key);
        Ok(())
    }

    fn start_section(&mut self, number: usize, name: &str) -> Result<(), ParseError> {
        if name != DEFAULT_SECTION && !self.seen_sections.insert(name.to_string()) {
            return Err(error(number, &format!("duplicate section [{name}]")));
        }
        self.current = Some(if name == DEFAULT_SECTION {
            None
        } else {
            let next = self.doc.sections.len();
            let index = *self.section_index.entry(name.to_string()).or_insert(next);
            if index == next {
                self.doc.sections.push(Section::new(name));
            }
            Some(index)
        });
        self.current_key = None;
        Ok(())
    }

    /// Trailing empty lines of multi-line values are dropped (`rstrip` in `_join_multiline_values`).
    fn finish(&mut self) {
        let trim = |section: &mut Section| {
            for entry in &mut section.entries {
                let trimmed = entry.raw.trim_end().len();
                entry.raw.truncate(trimmed);
            }
        };
        trim(&mut self.doc.defaults);
        self.doc.sections.iter_mut().for_each(trim);
    }
}

fn append_line(section: Option<&mut Section>, key: &str, text: &str) {
    if let Some(entry) = section.and_then(|s| s.entries.iter_mut().find(|e| e.key == key)) {
        entry.raw.push('\n');
        entry.raw.push_str(text);
    }
}

/// `SECTCRE` is `\[(?P<header>.+)\]` matched at the start: the name runs to the last `]`.
fn section_header(value: &str) -> Option<&str> {
    let inner = value.strip_prefix('[')?;
    let close = inner.rfind(']')?;
    (close > 0).then(|| &inner[..close])
}

fn error(line: usize, message: &str) -> ParseError {
    ParseError {
        line,
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(doc: &Document, section: &str, key: &str) -> Option<String> {
        doc.get(section, key)
            .map(|r| r.unwrap_or_else(|e| format!("ERR {e}")))
    }

    #[test]
    fn keys_are_case_insensitive_and_both_delimiters_work() {
        let doc = Document::parse("[s]\nURL = a\nToken: b\n").unwrap();
        assert_eq!(get(&doc, "s", "url").as_deref(), Some("a"));
        assert_eq!(get(&doc, "s", "TOKEN").as_deref(), Some("b"));
    }

    #[test]
    fn first_delimiter_splits_key_and_value() {
        let doc = Document::parse("[s]\nurl = http://h:1/x=y\n").unwrap();
        assert_eq!(get(&doc, "s", "url").as_deref(), Some("http://h:1/x=y"));
    }

    #[test]
    fn full_line_comments_are_skipped_inline_ones_kept() {
        let doc = Document::parse("# c\n; c\n[s]\n  # indented comment\nk = v ; not a comment\n")
            .unwrap();
        assert_eq!(get(&doc, "s", "k").as_deref(), Some("v ; not a comment"));
    }

    #[test]
    fn continuation_lines_join_with_newlines() {
        let doc = Document::parse("[s]\nk = one\n  two\n\n  three\n\nother = x\n").unwrap();
        assert_eq!(get(&doc, "s", "k").as_deref(), Some("one\ntwo\n\nthree"));
        assert_eq!(get(&doc, "s", "other").as_deref(), Some("x"));
    }

    #[test]
    fn defaults_are_inherited() {
        let doc = Document::parse("[DEFAULT]\ntype = iam\n[s]\nurl = u\n").unwrap();
        assert_eq!(get(&doc, "s", "type").as_deref(), Some("iam"));
    }

    #[test]
    fn percent_interpolation() {
        let doc = Document::parse("[s]\na = 50%%\nb = %(a)s off\nc = 5%\n").unwrap();
        assert_eq!(get(&doc, "s", "a").as_deref(), Some("50%"));
        assert_eq!(get(&doc, "s", "b").as_deref(), Some("50% off"));
        assert!(doc.get("s", "c").unwrap().is_err());
    }

    #[test]
    fn crlf_and_bom_are_accepted() {
        let doc = Document::parse("\u{feff}[s]\r\nk = v\r\n").unwrap();
        assert_eq!(get(&doc, "s", "k").as_deref(), Some("v"));
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            ("k = v\n", 1),
            ("[s]\nk = 1\nk = 2\n", 3),
            ("[s]\n[t]\n[s]\n", 3),
            ("[s]\njust words\n", 2),
            ("[s]\n= v\n", 2),
            ("[s]\nk = \0\n", 2),
        ];
        for (text, line) in cases {
            let err = Document::parse(text).unwrap_err();
            assert_eq!(err.line, line, "{text:?}: {err}");
        }
    }

    #[test]
    fn header_runs_to_last_bracket() {
        let doc = Document::parse("[a]b] tail\nk = v\n").unwrap();
        assert_eq!(doc.sections[0].name, "a]b");
    }

    #[test]
    fn write_matches_configparser_layout() {
        let mut doc = Document::default();
        doc.defaults.set_raw("profile", "default".into());
        let s = doc.section_or_insert("profile:default");
        s.set_raw("url", "https://x".into());
        s.set_raw("token", escape("a%b"));
        s.set_raw("empty", String::new());
        assert_eq!(
            doc.write(),
            "[DEFAULT]\nprofile = default\n\n[profile:default]\nurl = https://x\ntoken = a%%b\nempty = \n\n"
        );
        let back = Document::parse(&doc.write()).unwrap();
        assert_eq!(
            get(&back, "profile:default", "token").as_deref(),
            Some("a%b")
        );
        assert_eq!(back, doc);
    }

    #[test]
    fn merge_keeps_first_place_and_later_values() {
        let mut cli = Document::parse("[profile:a]\nurl = u1\nproject = p\n").unwrap();
        let auth = Document::parse("[profile:b]\ntoken = t\n[profile:a]\nurl = u2\n").unwrap();
        cli.merge(&auth);
        let names: Vec<_> = cli.sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["profile:a", "profile:b"]);
        assert_eq!(get(&cli, "profile:a", "url").as_deref(), Some("u2"));
        assert_eq!(get(&cli, "profile:a", "project").as_deref(), Some("p"));
    }
}
