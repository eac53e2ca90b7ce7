//! Every tool result the end-to-end MCP tests see is checked against the
//! `outputSchema` its tool declares in `tools/list`, with a JSON Schema
//! validator (the `jsonschema` crate): a success's `structuredContent`
//! validates, and an error carries none unless it validates too (the MCP
//! Inspector checks error results against the schema as well).

use serde_json::Value;

/// The `tools/list` entry of `name`.
pub fn tool<'a>(listing: &'a Value, name: &str) -> &'a Value {
    listing["tools"]
        .as_array()
        .expect("a tools/list result")
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("{name} is not listed"))
}

/// Why `result` (a `tools/call` result of `tool`) breaks the tool's
/// `outputSchema`; empty when it does not (one definition, shared with the
/// guest crate's MCP unit tests).
pub use contree_auth::test_support::schema_violations as violations;

/// Panics unless `result` of tool `name` validates against `listing`.
pub fn check(listing: &Value, name: &str, result: &Value) {
    let found = violations(tool(listing, name), result);
    assert!(
        found.is_empty(),
        "{name}: the result does not match its outputSchema: {found:?}\n{result:#}"
    );
}

/// [`check`] for each tool call of a client session and its result
/// (results of JSON-RPC errors have no tool result to check).
pub fn check_session(listing: &Value, calls: &Value, results: &Value) {
    let calls = calls.as_array().expect("calls");
    let results = results.as_array().expect("results");
    assert_eq!(calls.len(), results.len(), "one result per call");
    for (call, result) in calls.iter().zip(results) {
        if let Some(name) = call["tool"].as_str()
            && result.get("rpc_error").is_none()
        {
            check(listing, name, result);
        }
    }
}
