//! Checks the guest crate's unit tests and the end-to-end suites of
//! `contree-host` share, written once: the text assertions every test
//! makes of an output, and the MCP `outputSchema` check. Compiled for this
//! crate's tests and, through the `test-support` feature, for the harness
//! (never for the component or the launcher).

use serde_json::Value;

/// How an output must stand to a piece of text.
#[derive(Clone, Copy, Debug)]
enum Rule {
    Has,
    Lacks,
    StartsWith,
    EndsWith,
}

#[track_caller]
fn assert_text(haystack: &str, rule: Rule, needle: &str) {
    let holds = match rule {
        Rule::Has => haystack.contains(needle),
        Rule::Lacks => !haystack.contains(needle),
        Rule::StartsWith => haystack.starts_with(needle),
        Rule::EndsWith => haystack.ends_with(needle),
    };
    assert!(holds, "{rule:?} {needle:?} fails for:\n{haystack}");
}

/// Fails, showing `haystack`, unless it contains `needle`.
#[track_caller]
pub fn assert_has(haystack: &str, needle: &str) {
    assert_text(haystack, Rule::Has, needle);
}

/// Fails, showing `haystack`, if it contains `needle`.
#[track_caller]
pub fn assert_lacks(haystack: &str, needle: &str) {
    assert_text(haystack, Rule::Lacks, needle);
}

/// Fails, showing `haystack`, unless it starts with `prefix`.
#[track_caller]
pub fn assert_starts(haystack: &str, prefix: &str) {
    assert_text(haystack, Rule::StartsWith, prefix);
}

/// Fails, showing `haystack`, unless it ends with `suffix`.
#[track_caller]
pub fn assert_ends(haystack: &str, suffix: &str) {
    assert_text(haystack, Rule::EndsWith, suffix);
}

/// Why a `tools/call` result of `tool` (a `tools/list` entry) breaks its
/// declared `outputSchema`, as a JSON Schema validator sees it; empty when
/// it does not. MCP clients (the Inspector among them) validate error
/// results too, so an error may carry `structuredContent` only if it
/// validates; a success must carry it.
pub fn schema_violations(tool: &Value, result: &Value) -> Vec<String> {
    let schema = &tool["outputSchema"];
    if let Err(e) = jsonschema::meta::validate(schema) {
        return vec![format!("the outputSchema is not a JSON Schema: {e}")];
    }
    let validator = jsonschema::validator_for(schema).expect("a valid schema compiles");
    match result.get("structuredContent") {
        Some(content) => validator
            .iter_errors(content)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect(),
        None if result["isError"] == true => Vec::new(),
        None => vec!["a success without structuredContent".to_string()],
    }
}

pub mod import_graph;
