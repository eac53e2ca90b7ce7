//! The names of the environment variables the component reads: a leaf,
//! so that the error type can name them in a next step and the environment
//! reader can read them, without either importing the other.

/// The variables that name the config home, in the order they are tried
/// (the launcher passes exactly these through).
pub const HOME_VARIABLES: [&str; 3] = ["CONTREE_HOME", "XDG_CONFIG_HOME", "HOME"];

/// Save-time fallbacks, in order of precedence. Only saving a profile (the
/// CLI's `contree auth`, MCP's `save_profile`) reads them.
pub const TOKEN_VARS: &[&str] = &["CONTREE_TOKEN", "NEBIUS_API_KEY"];
pub const URL_VARS: &[&str] = &["CONTREE_URL"];
pub const PROJECT_VARS: &[&str] = &["CONTREE_PROJECT", "NEBIUS_AI_PROJECT"];

/// Set to `1` by a host that switches terminal echo off while the token is
/// typed (the `contree` launcher does). A component cannot do it itself, so
/// without this promise the token is never asked for on a terminal.
pub const HIDDEN_INPUT_VAR: &str = "CONTREE_HIDDEN_INPUT";

/// Set to `1` by a host whose TLS trusts this machine's CAs (the system
/// store, `SSL_CERT_FILE`, `SSL_CERT_DIR`), as the `contree` launcher's does:
/// a certificate it refuses is then not trusted by the machine itself.
/// Other hosts (the stock CLI, jco, wasmtime-py, Wassette) may use roots of
/// their own, and a TLS failure says so.
pub const MACHINE_TRUST_VAR: &str = "CONTREE_MACHINE_TRUST";

/// `A`, `A (or B)`: the variables of a fallback, in order.
pub fn one_of(names: &[&str]) -> String {
    match names {
        [first, rest @ ..] if !rest.is_empty() => format!("{first} (or {})", rest.join(" or ")),
        _ => names.join(""),
    }
}
