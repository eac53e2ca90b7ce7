//! JSON-RPC 2.0 over newline-delimited stdio, as MCP's stdio transport
//! frames it: one message per line, no embedded newlines.

use std::io::{self, BufRead, Write};

use serde_json::{Map, Value, json};

use crate::output::json;

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
/// MCP 2026-07-28: the request names a protocol revision we do not speak.
pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;

/// A longer line is answered with an error and skipped, never buffered whole:
/// the biggest legitimate request here is a few hundred bytes.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

pub enum Line {
    Text(Vec<u8>),
    /// The line went past [`MAX_LINE_BYTES`]; it was read to its end and dropped.
    TooLong,
    End,
}

/// The next line without its `\n` (and `\r`); a last line without `\n` counts.
pub fn read_line(input: &mut dyn BufRead) -> io::Result<Line> {
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let buf = match input.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(match (too_long, line.is_empty()) {
                (true, _) => Line::TooLong,
                (false, true) => Line::End,
                (false, false) => Line::Text(line),
            });
        }
        let (chunk, used, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(at) => (&buf[..at], at + 1, true),
            None => (buf, buf.len(), false),
        };
        if !too_long && line.len() + chunk.len() <= MAX_LINE_BYTES {
            line.extend_from_slice(chunk);
        } else {
            too_long = true;
            line = Vec::new();
        }
        input.consume(used);
        if done {
            if too_long {
                return Ok(Line::TooLong);
            }
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(Line::Text(line));
        }
    }
}

/// What one line holds.
pub enum Message {
    /// A request: answer it, with this id.
    Request {
        id: Value,
        method: String,
        params: Option<Value>,
    },
    /// A notification, or a response to a request we never sent: no answer.
    Ignored,
    /// Broken: answer with this error (id `null` when none could be read).
    Invalid { id: Value, error: RpcError },
}

#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> RpcError {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    pub fn invalid_params(message: impl Into<String>) -> RpcError {
        RpcError::new(INVALID_PARAMS, message)
    }
}

pub fn parse(line: &[u8]) -> Message {
    let invalid = |id: Value, message: &str| Message::Invalid {
        id,
        error: RpcError::new(INVALID_REQUEST, format!("Invalid Request: {message}")),
    };
    let value: Value = match std::str::from_utf8(line)
        .map_err(|_| "the line is not UTF-8".to_string())
        .and_then(|text| serde_json::from_str(text).map_err(|e| e.to_string()))
    {
        Ok(value) => value,
        Err(why) => {
            return Message::Invalid {
                id: Value::Null,
                error: RpcError::new(PARSE_ERROR, format!("Parse error: {why}")),
            };
        }
    };
    let Value::Object(mut object) = value else {
        return invalid(
            Value::Null,
            "expected one JSON-RPC message object (batches are not supported)",
        );
    };
    let id = object.remove("id");
    let method = object.remove("method");
    let Some(method) = method else {
        if id.is_some() && (object.contains_key("result") || object.contains_key("error")) {
            return Message::Ignored;
        }
        return invalid(id.filter(valid_id).unwrap_or(Value::Null), "no method");
    };
    let Some(id) = id else {
        // Notifications never get an answer, not even an error.
        return Message::Ignored;
    };
    if !valid_id(&id) {
        return invalid(Value::Null, "the id must be a string or a number");
    }
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return invalid(id, "\"jsonrpc\" must be \"2.0\"");
    }
    let Value::String(method) = method else {
        return invalid(id, "the method must be a string");
    };
    let params = object.remove("params").filter(|p| !p.is_null());
    Message::Request { id, method, params }
}

fn valid_id(id: &Value) -> bool {
    matches!(id, Value::String(_) | Value::Number(_))
}

pub fn success(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

pub fn failure(id: &Value, error: &RpcError) -> Value {
    let mut body = json!({"code": error.code, "message": error.message});
    if let Some(data) = &error.data {
        body["data"] = data.clone();
    }
    json!({"jsonrpc": "2.0", "id": id, "error": body})
}

/// Writes one message as one line and flushes it: the client waits for it.
pub fn send(output: &mut dyn Write, message: &Value) -> io::Result<()> {
    // Every control character is escaped, so the text has no newline.
    let mut line = ascii_json(message).into_bytes();
    line.push(b'\n');
    output.write_all(&line)?;
    output.flush()
}

/// `value` as compact JSON in ASCII only. Strings and keys go through the
/// `-f json` escaper ([`json::string`], Python's `ensure_ascii`), so C0,
/// DEL, C1, the bidi controls and every other non-ASCII character travel as
/// `\uXXXX` escapes (serde_json leaves C1 and bidi raw). Lossless: a JSON
/// reader gets the same value back; only raw text, as a log or a terminal
/// shows a frame or a text block, is kept free of controls.
pub fn ascii_json(value: &Value) -> String {
    let mut out = String::new();
    write_ascii(value, &mut out);
    out
}

fn write_ascii(value: &Value, out: &mut String) {
    let separate = |out: &mut String, index: usize| {
        if index > 0 {
            out.push(',');
        }
    };
    match value {
        Value::String(text) => out.push_str(&json::string(text)),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                separate(out, index);
                write_ascii(item, out);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (index, (key, item)) in members.iter().enumerate() {
                separate(out, index);
                out.push_str(&json::string(key));
                out.push(':');
                write_ascii(item, out);
            }
            out.push('}');
        }
        // null, booleans and numbers are ASCII as serde_json writes them.
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The params of a request, which MCP always sends as an object (or omits).
pub fn params_object(params: Option<Value>) -> Result<Map<String, Value>, RpcError> {
    match params {
        None => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map),
        Some(_) => Err(RpcError::invalid_params(
            "Invalid params: expected an object",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<String> {
        let mut reader = io::BufReader::with_capacity(7, input);
        let mut out = Vec::new();
        loop {
            match read_line(&mut reader).unwrap() {
                Line::Text(t) => out.push(String::from_utf8(t).unwrap()),
                Line::TooLong => out.push("<too long>".into()),
                Line::End => return out,
            }
        }
    }

    #[test]
    fn lines_are_split_on_newlines_and_crlf_is_accepted() {
        assert_eq!(
            lines(b"a\r\nbcdefghijk\n\nlast"),
            ["a", "bcdefghijk", "", "last"]
        );
        assert!(lines(b"").is_empty());
    }

    #[test]
    fn an_over_long_line_is_dropped_and_the_next_one_read() {
        let mut input = vec![b'x'; MAX_LINE_BYTES + 1];
        input.extend_from_slice(b"\nok\n");
        assert_eq!(lines(&input), ["<too long>", "ok"]);
        let exact = vec![b'y'; MAX_LINE_BYTES];
        assert_eq!(lines(&exact)[0].len(), MAX_LINE_BYTES);
    }

    #[test]
    fn frames_are_ascii_with_every_control_escaped_and_lossless() {
        let hostile = "a\u{1b}[2J\u{7f}\u{85}\u{9b}\u{202e}\u{2066}\u{2028}\u{61c}\n\"\\/é😀";
        let message = json!({"id": 1, "result": {hostile: [hostile, null, true, -7, 1.5]}});
        let text = ascii_json(&message);
        assert!(text.is_ascii(), "{text}");
        assert!(text.contains("\\u0085") && text.contains("\\u202e") && text.contains("\\u007f"));
        assert!(
            text.contains("\\ud83d\\ude00"),
            "as `-f json` writes it: {text}"
        );
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, message, "the same value comes back");
        assert_eq!(
            ascii_json(&json!({"b": {}, "a": [], "c": "x"})),
            r#"{"a":[],"b":{},"c":"x"}"#,
            "compact, as serde_json writes it"
        );
        let mut sent = Vec::new();
        send(&mut sent, &message).unwrap();
        assert_eq!(sent, format!("{text}\n").into_bytes(), "one line");
    }

    fn code(message: Message) -> Option<i64> {
        match message {
            Message::Invalid { error, .. } => Some(error.code),
            _ => None,
        }
    }

    #[test]
    fn broken_messages_get_the_json_rpc_codes() {
        assert_eq!(code(parse(b"not json")), Some(PARSE_ERROR));
        assert_eq!(code(parse(b"\xff\xfe")), Some(PARSE_ERROR));
        assert_eq!(code(parse(b"[1,2]")), Some(INVALID_REQUEST));
        assert_eq!(code(parse(b"42")), Some(INVALID_REQUEST));
        assert_eq!(
            code(parse(br#"{"jsonrpc":"2.0","id":{},"method":"ping"}"#)),
            Some(INVALID_REQUEST)
        );
        assert_eq!(
            code(parse(br#"{"id":1,"method":"ping"}"#)),
            Some(INVALID_REQUEST)
        );
        assert_eq!(
            code(parse(br#"{"jsonrpc":"2.0","id":1,"method":7}"#)),
            Some(INVALID_REQUEST)
        );
        assert!(matches!(
            parse(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            Message::Ignored
        ));
        assert!(matches!(
            parse(br#"{"jsonrpc":"2.0","id":3,"result":{}}"#),
            Message::Ignored
        ));
        match parse(br#"{"jsonrpc":"2.0","id":"a","method":"ping","params":null}"#) {
            Message::Request { id, method, params } => {
                assert_eq!(id, json!("a"));
                assert_eq!(method, "ping");
                assert_eq!(params, None);
            }
            _ => panic!("a request"),
        }
    }
}
