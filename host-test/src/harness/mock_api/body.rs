//! The one whoami body builder: every `200` answer of the mock is written
//! here, so the wire format lives in one place.

use sha2::{Digest, Sha256};

/// 2030-01-01T00:00:00Z.
pub const TOKEN_EXPIRATION: i64 = 1_893_456_000;

/// What a whoami answer says about permissions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permissions {
    /// `{"list": LIST, "spawn": true, "import": false}`.
    List(bool),
    /// `{}`: no `list` key at all.
    Missing,
}

/// The JSON body of `GET /v1/whoami` for `token`. With `padding_to`, a
/// `padding` member of `x`s makes the body exactly that many bytes.
pub fn whoami(token: &str, permissions: Permissions, padding_to: Option<usize>) -> Vec<u8> {
    let permissions = match permissions {
        Permissions::List(list) => format!(r#"{{"list":{list},"spawn":true,"import":false}}"#),
        Permissions::Missing => "{}".to_string(),
    };
    let head = format!(
        r#"{{"token_uuid":"{}","token_expiration":{TOKEN_EXPIRATION},"permissions":{permissions},"operations_stat":{{"total":3}},"limits":{{"max_instances":10}}"#,
        uuid_of(token)
    );
    let mut body = head.into_bytes();
    if let Some(total) = padding_to {
        body.extend_from_slice(br#","padding":""#);
        let tail = b"\"}";
        body.resize(total.saturating_sub(tail.len()).max(body.len()), b'x');
        body.extend_from_slice(tail);
    } else {
        body.push(b'}');
    }
    body
}

/// The `{"error": MESSAGE}` body of a failure (MESSAGE must need no escaping
/// beyond what the caller did).
pub fn error(message: &str) -> String {
    format!(r#"{{"error":"{message}"}}"#)
}

/// A stable, UUID-shaped id for a token.
pub fn uuid_of(token: &str) -> String {
    let hex: String = Sha256::digest(token.as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_json_objects_and_padding_hits_the_size() {
        for permissions in [Permissions::List(true), Permissions::Missing] {
            let body = whoami("ok-x", permissions, None);
            let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(value["token_uuid"], uuid_of("ok-x"));
            assert_eq!(value["token_expiration"], TOKEN_EXPIRATION);
        }
        let big = whoami("big", Permissions::List(true), Some(3 << 20));
        assert_eq!(big.len(), 3 << 20);
        let value: serde_json::Value = serde_json::from_slice(&big).unwrap();
        assert_eq!(value["permissions"]["list"], true);
        let missing = whoami("x", Permissions::Missing, None);
        let value: serde_json::Value = serde_json::from_slice(&missing).unwrap();
        assert_eq!(value["permissions"], serde_json::json!({}));
    }
}
