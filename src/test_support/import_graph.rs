//! The import graph of a crate's files, and the check that it has no
//! circle (issue 27): each file is a room, and a reader must be able to tell
//! which of two files is the lower one. An edge runs from a file to every
//! file whose items it names through `crate::`, `super::`, `self::` or a
//! child module's name, in a `use` tree or a path in code. Not edges:
//! - `mod NAME;` declarations, and a module naming its own children (a
//!   `mod.rs` re-exporting `files::x`): the children are in its room, and
//!   they may use what it defines;
//! - a file's `#[cfg(test)]` items (its tests module, a test-only `use`):
//!   like an integration test, or a cargo dev-dependency that depends back
//!   on the crate, a file's tests may stand on anything, and a test helper
//!   on the file it helps test (`sanitize.rs`'s tests use `testing.rs`,
//!   which uses `sanitize::MIN_FRAGMENT`).
//!
//! A small lexer of our own, not `syn`: it only needs identifiers, `::`,
//! braces and attributes, with comments, strings and char literals out of
//! the way.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The files of one crate (relative paths, `config/ini.rs`) and, for each
/// edge between two of them, the names the lower end is used for.
pub struct Graph {
    files: Vec<String>,
    edges: BTreeMap<(usize, usize), BTreeSet<String>>,
}

impl Graph {
    /// The library crate whose root is `src/lib.rs`: every `.rs` file under
    /// `src` except other crate roots (`main.rs`, `bin/`), where `crate::`
    /// names another crate.
    pub fn of_library(src: &Path) -> Graph {
        let mut sources = Vec::new();
        collect(src, src, &mut sources);
        sources.retain(|(rel, _)| rel != "main.rs" && !rel.starts_with("bin/"));
        sources.sort();
        Graph::from_sources(&sources)
    }

    /// The graph of `(relative path, text)` pairs, `lib.rs` the root.
    pub fn from_sources(sources: &[(String, String)]) -> Graph {
        let modules: BTreeMap<Vec<String>, usize> = sources
            .iter()
            .enumerate()
            .map(|(index, (rel, _))| (module_path(rel), index))
            .collect();
        let mut edges: BTreeMap<(usize, usize), BTreeSet<String>> = BTreeMap::new();
        for (from, (rel, text)) in sources.iter().enumerate() {
            let here = module_path(rel);
            for path in named_paths(&lex(text), &here, &modules) {
                // The longest prefix that is a file; the rest is the item.
                let Some((to, depth)) = (0..=path.len())
                    .rev()
                    .find_map(|n| modules.get(&path[..n]).map(|&to| (to, n)))
                else {
                    continue;
                };
                // A module's own children are in its room: its `mod.rs`
                // naming them (`pub use files::x`) is not an import.
                if to != from && !inside(&sources[to].0, &here) {
                    // A bare module (`use crate::sanitize;`) names no item.
                    let names = edges.entry((from, to)).or_default();
                    names.extend(path.get(depth).cloned());
                }
            }
        }
        Graph {
            files: sources.iter().map(|(rel, _)| rel.clone()).collect(),
            edges,
        }
    }

    /// Every circle: each set of two or more files that reach one another
    /// (a strongly connected component), as sorted file names.
    pub fn circles(&self) -> Vec<Vec<String>> {
        let next = |v: usize| {
            self.edges
                .range((v, 0)..(v + 1, 0))
                .map(|(&(_, to), _)| to)
                .collect::<Vec<_>>()
        };
        // Tarjan's algorithm, iterative.
        let n = self.files.len();
        let (mut index, mut low) = (vec![usize::MAX; n], vec![0; n]);
        let (mut stack, mut on_stack, mut counter) = (Vec::new(), vec![false; n], 0);
        let mut circles = Vec::new();
        for root in 0..n {
            if index[root] != usize::MAX {
                continue;
            }
            let mut work = vec![(root, next(root), 0)];
            index[root] = counter;
            low[root] = counter;
            counter += 1;
            stack.push(root);
            on_stack[root] = true;
            while let Some((v, successors, at)) = work.last_mut() {
                let v = *v;
                if let Some(&w) = successors.get(*at) {
                    *at += 1;
                    if index[w] == usize::MAX {
                        index[w] = counter;
                        low[w] = counter;
                        counter += 1;
                        stack.push(w);
                        on_stack[w] = true;
                        work.push((w, next(w), 0));
                    } else if on_stack[w] {
                        low[v] = low[v].min(index[w]);
                    }
                    continue;
                }
                work.pop();
                if let Some((parent, _, _)) = work.last() {
                    low[*parent] = low[*parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut component = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        component.push(self.files[w].clone());
                        if w == v {
                            break;
                        }
                    }
                    if component.len() > 1 {
                        component.sort();
                        circles.push(component);
                    }
                }
            }
        }
        circles.sort();
        circles
    }

    /// Each circle not in `known`, described, and each `known` one that is gone.
    fn problems(&self, known: &[&[&str]]) -> Vec<String> {
        let known: Vec<Vec<String>> = known
            .iter()
            .map(|files| {
                let mut files: Vec<String> = files.iter().map(|f| f.to_string()).collect();
                files.sort();
                files
            })
            .collect();
        let circles = self.circles();
        let mut problems: Vec<String> = circles
            .iter()
            .filter(|circle| !known.contains(circle))
            .map(|circle| format!("import circle: {}", self.describe(circle)))
            .collect();
        problems.extend(
            known
                .iter()
                .filter(|files| !circles.contains(files))
                .map(|files| {
                    format!("known circle {files:?} is gone: remove it from the known list")
                }),
        );
        problems
    }

    /// One way round `circle`, naming what each file takes from the next:
    /// `a.rs -> b.rs (x) -> a.rs (y, z)`.
    pub fn describe(&self, circle: &[String]) -> String {
        let inside: Vec<usize> = circle
            .iter()
            .filter_map(|name| self.files.iter().position(|f| f == name))
            .collect();
        let Some(&start) = inside.first() else {
            return circle.join(" <-> ");
        };
        // Breadth-first inside the circle, from `start` back to it.
        let mut came_from: BTreeMap<usize, usize> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        'search: while let Some(v) = queue.pop_front() {
            for (&(_, to), _) in self.edges.range((v, 0)..(v + 1, 0)) {
                if !inside.contains(&to) || came_from.contains_key(&to) {
                    continue;
                }
                came_from.insert(to, v);
                if to == start {
                    break 'search;
                }
                queue.push_back(to);
            }
        }
        let mut hops = vec![start];
        let mut at = start;
        while let Some(&before) = came_from.get(&at) {
            hops.push(before);
            at = before;
            if at == start {
                break;
            }
        }
        hops.reverse();
        let mut text = self.files[start].clone();
        for pair in hops.windows(2) {
            let names = &self.edges[&(pair[0], pair[1])];
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            match names.is_empty() {
                true => text.push_str(&format!(" -> {}", self.files[pair[1]])),
                false => text.push_str(&format!(
                    " -> {} ({})",
                    self.files[pair[1]],
                    names.join(", ")
                )),
            }
        }
        text
    }
}

/// Fails, naming each circle of the library crate under `src` and what
/// every file in it takes from the next, unless it is one of `known` (each
/// a set of relative paths); and fails when a `known` circle is gone, so
/// that the entry goes with it.
#[track_caller]
pub fn assert_no_circles(src: &Path, known: &[&[&str]]) {
    let problems = Graph::of_library(src).problems(known);
    assert!(
        problems.is_empty(),
        "{} (files under {}):\n{}",
        problems.len(),
        src.display(),
        problems.join("\n")
    );
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect(root, &path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let rel = path.strip_prefix(root).expect("under the root");
            let rel = rel.to_string_lossy().replace('\\', "/");
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            out.push((rel, text));
        }
    }
}

/// Whether the file `rel` is a module under `module` (or `module` itself).
fn inside(rel: &str, module: &[String]) -> bool {
    module_path(rel).starts_with(module)
}

/// `config/store/mod.rs` -> `[config, store]`; `lib.rs` -> `[]`.
fn module_path(rel: &str) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .trim_end_matches(".rs")
        .split('/')
        .map(String::from)
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    /// `::`
    Path,
    Punct(char),
}

/// Identifiers and punctuation; comments, strings, char literals, numbers
/// and lifetimes dropped.
fn lex(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == '"' {
            i = skip_string(&chars, i + 1);
        } else if c == '\'' {
            if next == Some('\\') {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                // A lifetime: its name is lexed as an identifier, harmlessly.
                i += 1;
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            // Raw and byte strings: r"..", r#".."#, b"..", br#".."#.
            if matches!(word.as_str(), "r" | "b" | "br" | "c" | "cr")
                && matches!(chars.get(i), Some('"' | '#'))
            {
                let hashes = chars[i..].iter().take_while(|&&c| c == '#').count();
                if chars.get(i + hashes) == Some(&'"') {
                    i = if word.contains('r') {
                        skip_raw_string(&chars, i + hashes + 1, hashes)
                    } else {
                        skip_string(&chars, i + 1)
                    };
                    continue;
                }
            }
            tokens.push(Token::Ident(word));
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
        } else if c == ':' && next == Some(':') {
            tokens.push(Token::Path);
            i += 2;
        } else {
            if !c.is_whitespace() {
                tokens.push(Token::Punct(c));
            }
            i += 1;
        }
    }
    tokens
}

fn skip_string(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

fn skip_raw_string(chars: &[char], mut i: usize, hashes: usize) -> usize {
    while i < chars.len() {
        if chars[i] == '"'
            && chars[i + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == '#')
                .count()
                == hashes
        {
            return i + 1 + hashes;
        }
        i += 1;
    }
    i
}

/// Every module-relative path the file names, made absolute (from the
/// crate root), outside its `#[cfg(test)]` modules.
fn named_paths(
    tokens: &[Token],
    file_module: &[String],
    modules: &BTreeMap<Vec<String>, usize>,
) -> Vec<Vec<String>> {
    let ident = |at: usize| match tokens.get(at) {
        Some(Token::Ident(word)) => Some(word.as_str()),
        _ => None,
    };
    let punct = |at: usize, c: char| tokens.get(at) == Some(&Token::Punct(c));
    // The inline modules we are in: (name, brace depth inside it).
    let mut scopes: Vec<(String, usize)> = Vec::new();
    // Names a `use` brought in for a path of this crate (`use crate::sanitize;`
    // makes `sanitize::shown` a path into `sanitize.rs`).
    let mut imported: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut depth = 0;
    let mut paths = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let module = || {
            let mut m = file_module.to_vec();
            m.extend(scopes.iter().map(|(name, _)| name.clone()));
            m
        };
        match &tokens[i] {
            Token::Punct('{') => depth += 1,
            Token::Punct('}') => {
                depth -= 1;
                if scopes.last().is_some_and(|(_, inside)| *inside > depth) {
                    scopes.pop();
                }
            }
            Token::Punct('#') if punct(i + 1, '[') => {
                let end = past_closing(tokens, i + 1, '[', ']');
                let cfg_test = [Token::Ident("cfg".into()), Token::Punct('(')]
                    .iter()
                    .chain(&[Token::Ident("test".into()), Token::Punct(')')])
                    .eq(&tokens[i + 2..end - 1]);
                i = if cfg_test {
                    skip_item(tokens, end)
                } else {
                    end
                };
                continue;
            }
            Token::Ident(word) if word == "mod" => {
                if let (Some(name), true) = (ident(i + 1), punct(i + 2, '{')) {
                    scopes.push((name.to_string(), depth + 1));
                    depth += 1;
                    i += 3;
                    continue;
                }
            }
            Token::Ident(word) if word == "use" => {
                let (trees, end) = use_tree(tokens, i + 1, Vec::new());
                let here = module();
                for (path, name) in trees {
                    let Some(path) = absolute(&path, &here, modules) else {
                        continue;
                    };
                    if let Some(name) = name {
                        imported.insert(name, path.clone());
                    }
                    paths.push(path);
                }
                i = end;
                continue;
            }
            Token::Ident(word) if tokens.get(i + 1) == Some(&Token::Path) => {
                // `pub(in crate::x)` and `$crate::` are not imports.
                let after_in = i > 0 && ident(i - 1) == Some("in");
                let after_dollar = i > 0 && punct(i - 1, '$');
                let continues = i > 0 && tokens[i - 1] == Token::Path;
                let mut path = vec![word.clone()];
                let mut at = i + 1;
                while tokens.get(at) == Some(&Token::Path) {
                    match ident(at + 1) {
                        Some(segment) => path.push(segment.to_string()),
                        None => break,
                    }
                    at += 2;
                }
                if !(after_in || after_dollar || continues) {
                    match imported.get(&path[0]) {
                        Some(base) => paths.push([base.as_slice(), &path[1..]].concat()),
                        None => paths.extend(absolute(&path, &module(), modules)),
                    }
                }
                i = at;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    paths
}

/// The index just past the bracket that closes the `open` bracket at `at`.
fn past_closing(tokens: &[Token], at: usize, open: char, close: char) -> usize {
    let mut depth = 0;
    for (index, token) in tokens.iter().enumerate().skip(at) {
        match token {
            Token::Punct(c) if *c == open => depth += 1,
            Token::Punct(c) if *c == close => {
                depth -= 1;
                if depth == 0 {
                    return index + 1;
                }
            }
            _ => {}
        }
    }
    tokens.len()
}

/// The index just past the item starting at `at` (its attributes
/// included): its `;`, or its block's closing `}`, outside brackets.
fn skip_item(tokens: &[Token], mut at: usize) -> usize {
    let mut nesting = 0usize;
    while at < tokens.len() {
        match tokens[at] {
            Token::Punct('#') if nesting == 0 && tokens.get(at + 1) == Some(&Token::Punct('[')) => {
                at = past_closing(tokens, at + 1, '[', ']');
                continue;
            }
            Token::Punct('(' | '[') => nesting += 1,
            Token::Punct(')' | ']') => nesting = nesting.saturating_sub(1),
            Token::Punct(';') if nesting == 0 => return at + 1,
            Token::Punct('{') if nesting == 0 => return past_closing(tokens, at, '{', '}'),
            _ => {}
        }
        at += 1;
    }
    at
}

/// A path a `use` tree names, and the name it is known by after it.
type Import = (Vec<String>, Option<String>);

/// The paths of the use tree at `at` (each under `prefix`), and where it ends.
fn use_tree(tokens: &[Token], mut at: usize, prefix: Vec<String>) -> (Vec<Import>, usize) {
    let mut path = prefix;
    let mut alias = None;
    let mut paths = Vec::new();
    loop {
        match tokens.get(at) {
            Some(Token::Ident(word)) if word == "as" => {
                if let Some(Token::Ident(name)) = tokens.get(at + 1) {
                    alias = Some(name.clone());
                }
                at += 2;
            }
            // `{self, ...}`: the prefix itself.
            Some(Token::Ident(word)) if word == "self" && !path.is_empty() => at += 1,
            Some(Token::Ident(word)) => {
                path.push(word.clone());
                at += 1;
            }
            Some(Token::Path) => at += 1,
            Some(Token::Punct('*')) => at += 1,
            Some(Token::Punct('{')) => {
                at += 1;
                loop {
                    let (inner, end) = use_tree(tokens, at, path.clone());
                    paths.extend(inner);
                    at = end;
                    match tokens.get(at) {
                        Some(Token::Punct(',')) => at += 1,
                        Some(Token::Punct('}')) => {
                            at += 1;
                            break;
                        }
                        _ => break,
                    }
                    if tokens.get(at) == Some(&Token::Punct('}')) {
                        at += 1;
                        break;
                    }
                }
                return (paths, skip_semicolon(tokens, at));
            }
            _ => {
                let name = alias.or_else(|| path.last().cloned());
                paths.push((path, name));
                return (paths, skip_semicolon(tokens, at));
            }
        }
    }
}

fn skip_semicolon(tokens: &[Token], at: usize) -> usize {
    if tokens.get(at) == Some(&Token::Punct(';')) {
        at + 1
    } else {
        at
    }
}

/// `path` as seen from `module`, from the crate root; `None` for another
/// crate's path (`std::`, `serde_json::`, a local variable's type).
fn absolute(
    path: &[String],
    module: &[String],
    modules: &BTreeMap<Vec<String>, usize>,
) -> Option<Vec<String>> {
    let (first, rest) = path.split_first()?;
    match first.as_str() {
        "crate" => Some(rest.to_vec()),
        "self" => Some([module, rest].concat()),
        "super" => {
            let mut base = module.to_vec();
            let mut rest = path;
            while rest.first().is_some_and(|s| s == "super") {
                base.pop()?;
                rest = &rest[1..];
            }
            Some([base.as_slice(), rest].concat())
        }
        // A child module named without `self::` (2018 uniform paths).
        _ => {
            let mut child = module.to_vec();
            child.push(first.clone());
            modules
                .contains_key(&child)
                .then(|| [module, path].concat())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one place circles are let through while one is being cut on a
    /// branch of its own. The check fails once one is gone (its entry must
    /// go with it). None today.
    const KNOWN_CIRCLES: &[&[&str]] = &[];

    fn graph(files: &[(&str, &str)]) -> Graph {
        let sources: Vec<(String, String)> = files
            .iter()
            .map(|(rel, text)| (rel.to_string(), text.to_string()))
            .collect();
        Graph::from_sources(&sources)
    }

    #[test]
    fn a_circle_is_found_and_named_with_what_each_file_takes() {
        let g = graph(&[
            ("lib.rs", "mod a; mod b; mod c;"),
            (
                "a.rs",
                "use crate::b::{self as bee, One, two::Three}; fn f() { bee::four(); }",
            ),
            ("b.rs", "fn f() { super::c::go(); }"),
            ("c.rs", "use crate::a::Back as Front; // crate::b::Nope\n"),
        ]);
        assert_eq!(g.circles(), [["a.rs", "b.rs", "c.rs"]]);
        assert_eq!(
            g.describe(&g.circles()[0]),
            "a.rs -> b.rs (One, four, two) -> c.rs (go) -> a.rs (Back)"
        );
    }

    #[test]
    fn tests_strings_comments_and_declarations_are_not_imports() {
        let g = graph(&[
            ("lib.rs", "mod low; mod high;"),
            ("high.rs", "use crate::low::Thing;"),
            (
                "low.rs",
                "/* crate::high::A */ const S: &str = \"crate::high::B\";\n\
                 const R: &str = r#\"super::high::C\"#; const Q: char = '\"';\n\
                 macro_rules! m { () => { $crate::high::D } }\n\
                 pub(in crate::high) fn f<'a>(x: &'a str) {}\n\
                 #[cfg(test)]\nmod tests { use super::*; use crate::high::E; }\n\
                 #[cfg(test)] #[allow(unused)] use crate::high::F;\n\
                 #[cfg(any(test, feature = \"x\"))] mod shared { use crate::high::G; }\n",
            ),
        ]);
        // Only `use crate::low::Thing` and, outside `cfg(test)`, `G`.
        assert_eq!(g.circles(), [["high.rs", "low.rs"]]);
        assert_eq!(
            g.describe(&g.circles()[0]),
            "high.rs -> low.rs (Thing) -> high.rs (G)"
        );
    }

    #[test]
    fn super_and_child_paths_resolve_from_the_module_they_are_in() {
        let g = graph(&[
            ("lib.rs", "mod store;"),
            (
                "store/mod.rs",
                "mod files; mod lock; pub use files::name; pub struct Shared;",
            ),
            (
                "store/files.rs",
                "use super::Shared; fn f() { super::lock::id(); }",
            ),
            (
                "store/lock.rs",
                "mod inner { use super::super::files::io; }",
            ),
        ]);
        assert_eq!(g.circles(), [["store/files.rs", "store/lock.rs"]]);
        assert_eq!(
            g.describe(&g.circles()[0]),
            "store/files.rs -> store/lock.rs (id) -> store/files.rs (io)"
        );
    }

    #[test]
    fn a_known_circle_is_let_through_until_it_is_gone() {
        let circle = graph(&[
            ("lib.rs", ""),
            ("a.rs", "use crate::b::X;"),
            ("b.rs", "use crate::a::Y;"),
        ]);
        assert_eq!(
            circle.problems(&[]),
            ["import circle: a.rs -> b.rs (X) -> a.rs (Y)"]
        );
        assert!(circle.problems(&[&["b.rs", "a.rs"]]).is_empty());
        let cut = graph(&[("lib.rs", ""), ("a.rs", "use crate::b::X;"), ("b.rs", "")]);
        assert_eq!(
            cut.problems(&[&["a.rs", "b.rs"]]),
            [r#"known circle ["a.rs", "b.rs"] is gone: remove it from the known list"#]
        );
    }

    /// Issue 27: no file of `src/` imports, through any chain, a file that
    /// imports it.
    #[test]
    fn the_guest_crate_has_no_import_circle() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        assert_no_circles(&src, KNOWN_CIRCLES);
    }
}
