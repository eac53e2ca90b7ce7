//! `contree mcp`: the profile operations as Model Context Protocol tools,
//! served over stdio (newline-delimited JSON-RPC 2.0 on stdin/stdout; log
//! lines on stderr only). A face of the component beside `cli/` and
//! `component.rs`: it resolves inputs and shows results, and the core
//! ([`crate::api`]) decides everything else.
//!
//! Protocol: the `initialize` handshake of revisions 2024-11-05 to
//! 2025-11-25, and the stateless 2026-07-28 revision (`server/discover`,
//! the protocol revision stamped in each request's `_meta`, `resultType`
//! and cache hints on results), which the Python SDK's `Client` probes
//! first in its default `auto` mode. The server keeps no session state, so
//! both eras are served alike; a method it does not know gets -32601 at
//! once, so clients that probe something else fall back without waiting.

pub mod jsonrpc;
pub mod tools;
pub mod wit_docs;

use std::io::{BufRead, Write};

use serde_json::{Value, json};

use self::jsonrpc::{Line, METHOD_NOT_FOUND, Message, RpcError};
use self::tools::Tools;
use crate::api::Context;
use crate::cli::log::Level;
use crate::config::env::Environment;
use crate::error::AuthError;

/// Handshake revisions, oldest first.
pub const PROTOCOL_VERSIONS: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];
pub const LATEST_PROTOCOL_VERSION: &str = PROTOCOL_VERSIONS[3];
/// The stateless revision: no handshake, the revision rides in every request.
pub const MODERN_PROTOCOL_VERSION: &str = "2026-07-28";
/// Where a 2026-07-28 request names its revision, inside `params._meta`.
const PROTOCOL_VERSION_META_KEY: &str = "io.modelcontextprotocol/protocolVersion";
const SERVER_INFO_META_KEY: &str = "io.modelcontextprotocol/serverInfo";

pub const SERVER_NAME: &str = "contree-auth";

/// `contree mcp --help`.
pub const ABOUT: &str = "\
Serve the profile operations to AI agents over the Model Context Protocol.

Speaks MCP over stdio: newline-delimited JSON-RPC 2.0 on stdin/stdout, log
lines on stderr. It exits when stdin ends. Tools: list_profiles, whoami,
switch_profile, remove_profile, save_profile. No tool takes or returns a
token: save_profile reads it from this server's environment (CONTREE_TOKEN,
else NEBIUS_API_KEY).

An MCP client starts it as a command, for example (mcpServers config):
  {\"command\": \"contree\", \"args\": [\"mcp\"],
   \"env\": {\"CONTREE_HOME\": \"/home/me/.config/contree\"}}
or, with the stock wasmtime CLI, under umask 077 so that auth.ini stays
private, and saying so with CONTREE_PRIVATE_FILES=1:
  {\"command\": \"sh\",
   \"args\": [\"-c\", \"umask 077 && exec wasmtime run -S http --dir /home/me/.config/contree --env CONTREE_HOME=/home/me/.config/contree --env CONTREE_PRIVATE_FILES=1 contree_auth.wasm mcp\"]}
(The launcher needs neither: it runs the component under umask 077.)";

const INSTRUCTIONS: &str = "Manages the ConTree sandbox API's saved credential profiles \
(the auth.ini of the contree CLI). Tokens never appear: profiles show token_sha256 instead. \
save_profile verifies a token from the server's environment and saves it; list_profiles \
shows every profile with its status (use offline=true to skip network probes).";

/// Serves one client until its input ends (exit code 0), or until the
/// output cannot be written (1). `context` is the core's, built by
/// [`Context::new`] like every face's; when it could not be built (no
/// config directory), the server still starts and each tool call answers
/// with that error.
pub fn serve(
    input: &mut dyn BufRead,
    output: &mut dyn Write,
    log: &mut dyn Write,
    env: &Environment,
    context: Result<Context<'_>, AuthError>,
) -> i32 {
    let tools = Tools { context, env };
    let _ = log.write_all(Level::Info.line(&format!(
        "contree mcp: serving MCP on stdin/stdout (protocol {LATEST_PROTOCOL_VERSION} by handshake, {MODERN_PROTOCOL_VERSION} stateless)"
    )).as_bytes());
    loop {
        let reply = match jsonrpc::read_line(input) {
            Ok(Line::End) => return 0,
            Err(e) => {
                let _ = log.write_all(
                    Level::Error
                        .line(&format!("contree mcp: cannot read stdin: {e}"))
                        .as_bytes(),
                );
                return 1;
            }
            Ok(Line::TooLong) => Some(jsonrpc::failure(
                &Value::Null,
                &RpcError::new(
                    jsonrpc::INVALID_REQUEST,
                    format!(
                        "Invalid Request: a message longer than {} bytes",
                        jsonrpc::MAX_LINE_BYTES
                    ),
                ),
            )),
            Ok(Line::Text(line)) if line.iter().all(u8::is_ascii_whitespace) => None,
            Ok(Line::Text(line)) => match jsonrpc::parse(&line) {
                Message::Ignored => None,
                Message::Invalid { id, error } => Some(jsonrpc::failure(&id, &error)),
                Message::Request { id, method, params } => {
                    let (result, notes) = answer(&tools, &method, params);
                    for (level, note) in notes {
                        let _ = log.write_all(level.line(&note).as_bytes());
                    }
                    Some(match result {
                        Ok(result) => jsonrpc::success(&id, result),
                        Err(error) => jsonrpc::failure(&id, &error),
                    })
                }
            },
        };
        if let Some(reply) = reply
            && let Err(e) = jsonrpc::send(output, &reply)
        {
            let _ = log.write_all(
                Level::Error
                    .line(&format!("contree mcp: cannot write stdout: {e}"))
                    .as_bytes(),
            );
            return 1;
        }
    }
}

/// One request's result, with the log lines it produced.
fn answer(
    tools: &Tools<'_>,
    method: &str,
    params: Option<Value>,
) -> (Result<Value, RpcError>, tools::Notes) {
    let params = match jsonrpc::params_object(params) {
        Ok(params) => params,
        Err(error) => return (Err(error), Vec::new()),
    };
    let modern = match params
        .get("_meta")
        .and_then(|meta| meta.get(PROTOCOL_VERSION_META_KEY))
    {
        None => false,
        Some(Value::String(v)) if v == MODERN_PROTOCOL_VERSION => true,
        Some(requested) => return (Err(unsupported_version(requested)), Vec::new()),
    };
    let (result, notes) = dispatch(tools, method, &params);
    let result = result.map(|mut result| {
        if modern {
            // 2026-07-28 results say what they are; listings say how long they keep.
            result["resultType"] = json!("complete");
            if method == "tools/list" {
                result["cacheScope"] = json!("public");
                result["ttlMs"] = json!(0);
            }
        }
        result
    });
    (result, notes)
}

fn dispatch(
    tools: &Tools<'_>,
    method: &str,
    params: &serde_json::Map<String, Value>,
) -> (Result<Value, RpcError>, tools::Notes) {
    let result = match method {
        "initialize" => initialize(params),
        "server/discover" => Ok(discover()),
        "ping" => Ok(json!({})),
        "tools/list" => match params.get("cursor") {
            None | Some(Value::Null) => Ok(tools::list()),
            // Every tool fits on the first page; no cursor was ever handed out.
            Some(_) => Err(RpcError::invalid_params("Invalid params: unknown cursor")),
        },
        "tools/call" => {
            let name = match params.get("name") {
                Some(Value::String(name)) => name,
                _ => {
                    return (
                        Err(RpcError::invalid_params(
                            "Invalid params: \"name\" must be a tool name",
                        )),
                        Vec::new(),
                    );
                }
            };
            let empty = serde_json::Map::new();
            let arguments = match params.get("arguments") {
                None | Some(Value::Null) => &empty,
                Some(Value::Object(arguments)) => arguments,
                Some(_) => {
                    return (
                        Err(RpcError::invalid_params(
                            "Invalid params: \"arguments\" must be an object",
                        )),
                        Vec::new(),
                    );
                }
            };
            return match tools::call(tools, name, arguments) {
                Ok((result, notes)) => (Ok(result), notes),
                Err(error) => (Err(error), Vec::new()),
            };
        }
        _ => Err(RpcError::new(METHOD_NOT_FOUND, "Method not found")),
    };
    (result, Vec::new())
}

fn server_info() -> Value {
    json!({
        "name": SERVER_NAME,
        "title": "ConTree auth",
        "version": env!("CARGO_PKG_VERSION"),
    })
}

/// Every revision we speak, handshake ones included, so that a client
/// that speaks only those knows to fall back to `initialize`.
fn supported_versions() -> Vec<&'static str> {
    let mut all = PROTOCOL_VERSIONS.to_vec();
    all.push(MODERN_PROTOCOL_VERSION);
    all
}

fn discover() -> Value {
    json!({
        "supportedVersions": supported_versions(),
        "capabilities": {"tools": {"listChanged": false}},
        "instructions": INSTRUCTIONS,
        "resultType": "complete",
        "cacheScope": "public",
        "ttlMs": 0,
        "_meta": {SERVER_INFO_META_KEY: server_info()},
    })
}

fn unsupported_version(requested: &Value) -> RpcError {
    let mut error = RpcError::new(
        jsonrpc::UNSUPPORTED_PROTOCOL_VERSION,
        "Unsupported protocol version",
    );
    error.data = Some(json!({
        "supported": supported_versions(),
        "requested": requested.as_str().unwrap_or(""),
    }));
    error
}

/// The client's revision when we speak it, else our newest.
fn initialize(params: &serde_json::Map<String, Value>) -> Result<Value, RpcError> {
    let Some(Value::String(asked)) = params.get("protocolVersion") else {
        return Err(RpcError::invalid_params(
            "Invalid params: \"protocolVersion\" must be a string",
        ));
    };
    let version = PROTOCOL_VERSIONS
        .iter()
        .find(|v| *v == asked)
        .copied()
        .unwrap_or(LATEST_PROTOCOL_VERSION);
    Ok(json!({
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": false}},
        "serverInfo": server_info(),
        "instructions": INSTRUCTIONS,
    }))
}

#[cfg(test)]
mod tests;
