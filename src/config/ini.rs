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

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use crate::sanitize;

/// The section whose keys every other section inherits.
pub const DEFAULT_SECTION: &str = "DEFAULT";

/// How deep `%(key)s` references may nest (configparser's MAX_INTERPOLATION_DEPTH).
const MAX_INTERPOLATION_DEPTH: usize = 10;

/// The most a value may grow to once its `%(key)s` references are expanded:
/// nested references double at every level, and without a bound ten levels
/// of a long `[DEFAULT]` value ask for gigabytes (SPEC §5).
pub const MAX_EXPANDED_BYTES: usize = 64 * 1024;

/// How much text reading values may go through, counted in bytes scanned and
/// copied by [`Document::get_with`]: a long `[DEFAULT]` value (or one full of
/// references) is read again for every profile that inherits it, and 10,000
/// profiles times a 4 MiB value would be 40 GB of work and memory.
pub const READ_WORK_BYTES: usize = 64 * 1024 * 1024;

/// What is left of [`READ_WORK_BYTES`] for one reading of the profiles.
#[derive(Debug, Clone)]
pub struct WorkBudget {
    left: usize,
}

impl Default for WorkBudget {
    fn default() -> Self {
        WorkBudget::new(READ_WORK_BYTES)
    }
}

impl WorkBudget {
    pub fn new(bytes: usize) -> Self {
        WorkBudget { left: bytes }
    }

    fn charge(&mut self, bytes: usize, key: &str, section: &str) -> Result<(), String> {
        match self.left.checked_sub(bytes) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => Err(format!(
                "reading {} goes over {} MiB of text in all (a long [DEFAULT] value inherited by many profiles?)",
                place(key, section),
                READ_WORK_BYTES / (1024 * 1024)
            )),
        }
    }
}

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

/// Text from a file inside a one-line message: control, DEL, C1 and bidi
/// characters escaped by the one rule of [`sanitize::shown`] (a continuation
/// line makes a newline part of a `%(name)s`), and cut short (a name may be
/// megabytes long).
pub fn shown(text: &str) -> String {
    sanitize::shown(text, 80)
}

/// `'key' in section [name]`, shown safely.
fn place(key: &str, section: &str) -> String {
    format!("'{}' in section [{}]", shown(key), shown(section))
}

/// `optionxform`: keys are compared lower-cased. Most keys already are, so
/// the common case allocates nothing.
fn fold(key: &str) -> Cow<'_, str> {
    if key.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
        Cow::Borrowed(key)
    } else {
        Cow::Owned(key.to_lowercase())
    }
}

/// A section: its entries in file order (for writing) and an index by key
/// (for reading), so that a section of 200,000 keys reads in linear time.
#[derive(Debug, Clone)]
pub struct Section {
    pub name: String,
    entries: Vec<Entry>,
    index: HashMap<String, usize>,
}

impl PartialEq for Section {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.entries == other.entries
    }
}

impl Eq for Section {}

impl Section {
    fn new(name: &str) -> Self {
        Section {
            name: name.to_string(),
            entries: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// The entries in file order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn contains(&self, key: &str) -> bool {
        self.index.contains_key(fold(key).as_ref())
    }

    pub fn raw(&self, key: &str) -> Option<&str> {
        let at = *self.index.get(fold(key).as_ref())?;
        Some(self.entries[at].raw.as_str())
    }

    /// Sets a raw (already escaped) value, keeping the key's place if it exists.
    pub fn set_raw(&mut self, key: &str, raw: String) {
        let key = fold(key);
        if let Some(&at) = self.index.get(key.as_ref()) {
            self.entries[at].raw = raw;
            return;
        }
        let key = key.into_owned();
        self.index.insert(key.clone(), self.entries.len());
        self.entries.push(Entry { key, raw });
    }

    pub fn remove(&mut self, key: &str) {
        let Some(at) = self.index.remove(fold(key).as_ref()) else {
            return;
        };
        self.entries.remove(at);
        for place in self.index.values_mut() {
            if *place > at {
                *place -= 1;
            }
        }
    }

    /// A continuation line of `key`'s value.
    fn append_line(&mut self, key: &str, text: &str) {
        if let Some(&at) = self.index.get(key) {
            let raw = &mut self.entries[at].raw;
            raw.push('\n');
            raw.push_str(text);
        }
    }
}

/// A whole file: `[DEFAULT]` (possibly empty) and the other sections in file
/// order, indexed by name (files of 10,000 profiles are read and merged).
#[derive(Debug, Clone)]
pub struct Document {
    pub defaults: Section,
    sections: Vec<Section>,
    index: HashMap<String, usize>,
}

impl PartialEq for Document {
    fn eq(&self, other: &Self) -> bool {
        self.defaults == other.defaults && self.sections == other.sections
    }
}

impl Eq for Document {}

impl Default for Document {
    fn default() -> Self {
        Document {
            defaults: Section::new(DEFAULT_SECTION),
            sections: Vec::new(),
            index: HashMap::new(),
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

    /// The sections other than `[DEFAULT]`, in file order.
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    pub fn section(&self, name: &str) -> Option<&Section> {
        if name == DEFAULT_SECTION {
            return Some(&self.defaults);
        }
        self.sections.get(*self.index.get(name)?)
    }

    pub fn section_mut(&mut self, name: &str) -> Option<&mut Section> {
        if name == DEFAULT_SECTION {
            return Some(&mut self.defaults);
        }
        self.sections.get_mut(*self.index.get(name)?)
    }

    /// The section, created at the end of the file when missing.
    pub fn section_or_insert(&mut self, name: &str) -> &mut Section {
        if name == DEFAULT_SECTION {
            return &mut self.defaults;
        }
        let at = self.position_or_insert(name);
        &mut self.sections[at]
    }

    fn position_or_insert(&mut self, name: &str) -> usize {
        if let Some(&at) = self.index.get(name) {
            return at;
        }
        let at = self.sections.len();
        self.index.insert(name.to_string(), at);
        self.sections.push(Section::new(name));
        at
    }

    pub fn remove_section(&mut self, name: &str) -> bool {
        let Some(at) = self.index.remove(name) else {
            return false;
        };
        self.sections.remove(at);
        for place in self.index.values_mut() {
            if *place > at {
                *place -= 1;
            }
        }
        true
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
        self.get_with(section, key, &mut WorkBudget::default())
    }

    /// [`Document::get_in`], drawing on a budget shared by many reads.
    pub fn get_with(
        &self,
        section: &Section,
        key: &str,
        budget: &mut WorkBudget,
    ) -> Option<Result<String, String>> {
        let key = fold(key);
        let raw = section.raw(&key).or_else(|| self.defaults.raw(&key))?;
        let mut expansion = Expansion {
            doc: self,
            section,
            done: HashMap::new(),
            budget,
        };
        Some(expansion.expand(&key, raw, 1))
    }

    /// Merges `other` over `self`, as reading two files into one
    /// `ConfigParser` does: sections keep their first place, later keys win.
    /// Only a test compares it with [`Document::merge_from`], what the store uses.
    #[cfg(test)]
    pub fn merge(&mut self, other: &Document) {
        for entry in &other.defaults.entries {
            self.defaults.set_raw(&entry.key, entry.raw.clone());
        }
        for section in &other.sections {
            if !self.index.contains_key(&section.name) {
                self.index.insert(section.name.clone(), self.sections.len());
                self.sections.push(section.clone());
                continue;
            }
            let at = self.index[&section.name];
            for entry in &section.entries {
                self.sections[at].set_raw(&entry.key, entry.raw.clone());
            }
        }
    }

    /// [`Document::merge`] taking `other` by value: its sections move
    /// instead of being copied (auth.ini's 10,000 profiles over an empty cli.ini).
    pub fn merge_from(&mut self, other: Document) {
        for entry in other.defaults.entries {
            self.defaults.set_raw(&entry.key, entry.raw);
        }
        for section in other.sections {
            match self.index.get(&section.name) {
                Some(&at) => {
                    for entry in section.entries {
                        self.sections[at].set_raw(&entry.key, entry.raw);
                    }
                }
                None => {
                    self.index.insert(section.name.clone(), self.sections.len());
                    self.sections.push(section);
                }
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

/// One `get`'s `BasicInterpolation`. Every referenced key is expanded once
/// per depth and remembered, so a value whose references fan out (each key
/// naming the next one many times) costs the size of the keys it names, not
/// their product; every result is bounded by [`MAX_EXPANDED_BYTES`].
struct Expansion<'a> {
    doc: &'a Document,
    section: &'a Section,
    /// `(key, depth)` -> its expansion (the depth counts, as configparser's
    /// depth limit may fail a key at one depth and not at another).
    done: HashMap<(String, usize), String>,
    budget: &'a mut WorkBudget,
}

impl Expansion<'_> {
    fn expand(&mut self, key: &str, raw: &str, depth: usize) -> Result<String, String> {
        // Messages are built only on failure: this runs for every value read.
        let at = |section: &Section| place(key, &section.name);
        if depth > MAX_INTERPOLATION_DEPTH {
            return Err(format!(
                "value of {} refers to itself too deeply",
                at(self.section)
            ));
        }
        self.budget.charge(raw.len(), key, &self.section.name)?;
        let mut out = String::with_capacity(raw.len().min(MAX_EXPANDED_BYTES));
        let mut rest = raw;
        while let Some(found) = rest.find('%') {
            out.push_str(&rest[..found]);
            let after = &rest[found + 1..];
            if let Some(tail) = after.strip_prefix('%') {
                out.push('%');
                rest = tail;
            } else if let Some(tail) = after.strip_prefix('(') {
                let close = tail.find(")s").ok_or_else(|| {
                    format!(
                        "bad interpolation in {}: '%(' needs a matching ')s'",
                        at(self.section)
                    )
                })?;
                let done_key = (fold(&tail[..close]).into_owned(), depth + 1);
                if !self.done.contains_key(&done_key) {
                    let name = &done_key.0;
                    let referenced = self
                        .section
                        .raw(name)
                        .or_else(|| self.doc.defaults.raw(name))
                        .ok_or_else(|| {
                            format!(
                                "{} refers to '%({})s', which is not set",
                                at(self.section),
                                shown(name)
                            )
                        })?;
                    let expanded = self.expand(name, referenced, depth + 1)?;
                    self.done.insert(done_key.clone(), expanded);
                }
                let expanded = &self.done[&done_key];
                self.budget
                    .charge(expanded.len(), key, &self.section.name)?;
                out.push_str(expanded);
                if out.len() > MAX_EXPANDED_BYTES {
                    return Err(format!(
                        "value of {} expands to over {} KiB through its '%(...)s' references",
                        at(self.section),
                        MAX_EXPANDED_BYTES / 1024
                    ));
                }
                rest = &tail[close + 2..];
            } else {
                return Err(format!(
                    "bad value of {}: '%' must be followed by '%' or '(' (write a literal % as %%)",
                    at(self.section)
                ));
            }
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// Where the parser stands between lines (the state of `RawConfigParser._read`).
/// Duplicates (strict mode) are found with the document's own indexes: every
/// section and key in it came from this one file.
#[derive(Default)]
struct Parser {
    doc: Document,
    /// Index into `doc.sections`, or `None` for `[DEFAULT]`; unset before any header.
    current: Option<Option<usize>>,
    /// The key whose value continuation lines extend.
    current_key: Option<String>,
    indent_level: usize,
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

    /// A continuation line of the current key's value.
    fn continue_value(&mut self, text: &str) {
        let Some(key) = self.current_key.take() else {
            return;
        };
        if let Some(section) = self.current_section() {
            section.append_line(&key, text);
        }
        self.current_key = Some(key);
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
            if !is_comment {
                self.continue_value("");
            }
            return Ok(());
        }
        let indent = line.chars().take_while(|c| c.is_whitespace()).count();
        if self.current_key.is_some() && self.current.is_some() && indent > self.indent_level {
            self.continue_value(value);
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
        let key = fold(value[..delimiter].trim_end()).into_owned();
        if key.is_empty() {
            return Err(error(number, "a value with no key before the '=' or ':'"));
        }
        let raw = value[delimiter + 1..].trim().to_string();
        let Some(section) = self.current_section() else {
            return Ok(());
        };
        if section.contains(&key) {
            let (key, name) = (shown(&key), shown(&section.name));
            return Err(error(
                number,
                &format!("duplicate key '{key}' in section [{name}]"),
            ));
        }
        section.set_raw(&key, raw);
        self.current_key = Some(key);
        Ok(())
    }

    fn start_section(&mut self, number: usize, name: &str) -> Result<(), ParseError> {
        self.current = Some(if name == DEFAULT_SECTION {
            // configparser lets [DEFAULT] reopen; its keys stay unique.
            None
        } else {
            if self.doc.index.contains_key(name) {
                return Err(error(
                    number,
                    &format!("duplicate section [{}]", shown(name)),
                ));
            }
            Some(self.doc.position_or_insert(name))
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
        assert_eq!(doc.sections()[0].name, "a]b");
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
        let mut moved = cli.clone();
        moved.merge_from(auth.clone());
        cli.merge(&auth);
        assert_eq!(moved, cli);
        let names: Vec<_> = cli.sections().iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["profile:a", "profile:b"]);
        assert_eq!(get(&cli, "profile:a", "url").as_deref(), Some("u2"));
        assert_eq!(get(&cli, "profile:a", "project").as_deref(), Some("p"));
    }
}

/// SPEC §5: reading is linear in the file's size for every shape, and an
/// interpolated value is bounded. The sizes are those of the issue; the time
/// bound is generous (debug build, a machine shared by six builds) yet far
/// below what the quadratic code took (minutes for 200,000 keys).
#[cfg(test)]
mod shape_tests {
    use std::time::{Duration, Instant};

    use super::*;

    const BOUND: Duration = Duration::from_secs(20);

    fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let out = f();
        let took = started.elapsed();
        assert!(took < BOUND, "{what} took {took:?}");
        out
    }

    #[test]
    fn reading_200000_keys_in_one_section_is_linear() {
        let mut text = String::from("[profile:a]\ntoken = t\n");
        for i in 0..200_000 {
            text.push_str(&format!("k{i} = v{i}\n"));
        }
        let doc = timed("parse", || Document::parse(&text).unwrap());
        assert_eq!(doc.sections()[0].entries().len(), 200_001);
        assert_eq!(doc.get("profile:a", "K199999").unwrap().unwrap(), "v199999");
        // What production runs: `catalog` merges auth.ini into cli.ini by value.
        let (mut merged, other) = (doc.clone(), doc.clone());
        timed("merge", || merged.merge_from(other));
        timed("write", || merged.write());
        merged.section_or_insert("profile:a").remove("k0");
        assert_eq!(merged.get("profile:a", "k1").unwrap().unwrap(), "v1");
        assert!(merged.get("profile:a", "k0").is_none());
    }

    #[test]
    fn reading_10000_sections_and_merging_them_is_linear() {
        let mut text = String::new();
        for i in 0..10_000 {
            text.push_str(&format!("[profile:p{i}]\nurl = u\ntoken = t{i}\n\n"));
        }
        let doc = timed("parse", || Document::parse(&text).unwrap());
        timed("lookups", || {
            for i in 0..10_000 {
                assert!(doc.section(&format!("profile:p{i}")).is_some());
            }
        });
        let mut other = doc.clone();
        other
            .section_or_insert("profile:new")
            .set_raw("token", "n".into());
        let mut merged = doc.clone();
        timed("merge", || merged.merge_from(other));
        assert_eq!(merged.sections().len(), 10_001);
        let mut removed = merged.clone();
        assert!(removed.remove_section("profile:p0"));
        assert_eq!(
            removed.section("profile:p9999").unwrap().name,
            "profile:p9999"
        );
        assert_eq!(
            removed.section("profile:new").unwrap().raw("token"),
            Some("n")
        );
    }

    #[test]
    fn a_long_multi_line_value_and_a_long_line_read_in_linear_time() {
        let mut text = String::from("[s]\nlong = start\n");
        for _ in 0..200_000 {
            text.push_str("  continued line of text\n");
        }
        text.push_str(&format!("wide = {}\n", "x".repeat(4 * 1024 * 1024)));
        let doc = timed("parse", || Document::parse(&text).unwrap());
        let long = timed("get", || doc.get("s", "long").unwrap().unwrap());
        assert_eq!(long.lines().count(), 200_001);
        assert_eq!(
            doc.get("s", "wide").unwrap().unwrap().len(),
            4 * 1024 * 1024
        );
    }

    #[test]
    fn a_large_default_section_is_inherited_in_linear_time() {
        let mut text = String::from("[DEFAULT]\n");
        for i in 0..50_000 {
            text.push_str(&format!("d{i} = %(d{})s\n", i + 1));
        }
        text.push_str("d50000 = end\n");
        for i in 0..2_000 {
            text.push_str(&format!("[profile:p{i}]\ntoken = %(d49995)s\n"));
        }
        let doc = timed("parse", || Document::parse(&text).unwrap());
        timed("gets", || {
            for section in doc.sections() {
                assert_eq!(doc.get_in(section, "token").unwrap().unwrap(), "end");
            }
        });
    }

    #[test]
    fn nested_references_over_64_kib_are_an_error_naming_key_and_section() {
        // Each level quadruples: 4^8 copies of a 32-byte value is 2 MiB, and
        // before the bound, more levels asked for gigabytes and trapped.
        let mut text = format!("[DEFAULT]\nv0 = {}\n", "x".repeat(32));
        for i in 1..=8 {
            let prev = i - 1;
            text.push_str(&format!(
                "v{i} = %(v{prev})s%(v{prev})s%(v{prev})s%(v{prev})s\n"
            ));
        }
        text.push_str("[profile:a]\ntoken = %(v8)s\n");
        let doc = Document::parse(&text).unwrap();
        let err = timed("get", || {
            doc.get("profile:a", "token").unwrap().unwrap_err()
        });
        assert!(
            err.contains("[profile:a]") && err.contains("64 KiB"),
            "{err}"
        );
        assert!(err.contains("'v"), "names the key: {err}");
        assert!(!err.contains('\n'), "one line: {err}");
        // A value just under the bound is fine.
        let doc = Document::parse(&format!(
            "[s]\na = {}\nb = %(a)s%(a)s\n",
            "y".repeat(MAX_EXPANDED_BYTES / 2)
        ))
        .unwrap();
        assert_eq!(
            doc.get("s", "b").unwrap().unwrap().len(),
            MAX_EXPANDED_BYTES
        );
    }

    #[test]
    fn references_that_fan_out_are_expanded_once_per_key() {
        // 1,000 references per level, 8 levels, all empty: 10^24 expansions
        // when each is expanded anew; a handful when remembered.
        let mut text = String::from("[DEFAULT]\nv0 =\n");
        for i in 1..=8 {
            text.push_str(&format!(
                "v{i} = {}\n",
                format!("%(v{})s", i - 1).repeat(1000)
            ));
        }
        text.push_str("[s]\nk = <%(v8)s>\n");
        let doc = Document::parse(&text).unwrap();
        assert_eq!(timed("get", || doc.get("s", "k").unwrap().unwrap()), "<>");
    }

    /// Found by the `read_path` fuzz target: a `%(` whose name runs over a
    /// continuation line put a newline into the error message.
    #[test]
    fn errors_are_one_line_whatever_the_names_hold() {
        let doc = Document::parse("[s]\ntoken = t%(\n = x\n  y)s\n").unwrap();
        let err = doc.get("s", "token").unwrap().unwrap_err();
        assert!(!err.contains('\n') && err.contains("\\x0a"), "{err}");
        let long = "k".repeat(10_000);
        let doc = Document::parse(&format!("[s\u{1b}]\na = %({long})s\n")).unwrap();
        let err = doc.get("s\u{1b}", "a").unwrap().unwrap_err();
        assert!(err.len() < 400 && !err.contains('\u{1b}'), "{err}");
        let err = Document::parse("[s]\nk\u{7}=1\nk\u{7}=2\n").unwrap_err();
        assert!(!err.message.contains('\u{7}'), "{err}");
        // C1 and bidi characters too, by the one escaper every face uses.
        let err = Document::parse("[s\u{202e}\u{9b}]\n[s\u{202e}\u{9b}]\n").unwrap_err();
        assert!(
            err.message.contains("[s\\u202e\\x9b]") && !err.message.contains('\u{202e}'),
            "{err}"
        );
    }

    #[test]
    fn the_depth_limit_still_holds_with_remembered_keys() {
        let doc = Document::parse("[s]\na = %(a)s\nb = %(c)s\nc = x\n").unwrap();
        let err = doc.get("s", "a").unwrap().unwrap_err();
        assert!(err.contains("too deeply"), "{err}");
        assert_eq!(doc.get("s", "b").unwrap().unwrap(), "x");
    }
}
