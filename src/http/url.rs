//! The API base URL: checked before any request, with the reference
//! client's messages.

use std::fmt;

use crate::error::Fix;
use crate::python::repr;
use crate::sanitize;

/// Why a URL was refused, and what gets past it (each face spells the fix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError {
    pub message: String,
    pub fix: Fix,
}

impl UrlError {
    fn new(fix: Fix, message: String) -> UrlError {
        UrlError { message, fix }
    }
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    pub scheme: Scheme,
    /// `host[:port]`, as sent in the request line.
    pub authority: String,
    pub host: String,
    /// The base path without a trailing `/` (`/sandboxes`, or empty).
    pub path: String,
}

impl BaseUrl {
    /// Parses like `urllib.parse.urlsplit` plus the checks of `ContreeClient.__init__`.
    pub fn parse(url: &str) -> Result<BaseUrl, UrlError> {
        // urlsplit: a scheme is letters (then letters, digits, `+-.`) before the first `:`.
        let (scheme, rest) = match url.split_once(':') {
            Some((scheme, rest))
                if scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
            {
                (scheme.to_ascii_lowercase(), rest)
            }
            _ => (String::new(), url),
        };
        let scheme = match scheme.as_str() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            _ => {
                return Err(UrlError::new(
                    Fix::UseHttpScheme,
                    format!(
                        "unsupported base_url scheme {} in {}: use http:// or https://",
                        repr(&scheme),
                        repr(url)
                    ),
                ));
            }
        };
        let (authority, path) = match rest.strip_prefix("//") {
            Some(rest) => rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len())),
            None => ("", rest),
        };
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
        let (host, port) = split_host_port(host_port);
        if host.is_empty() {
            return Err(UrlError::new(
                Fix::CheckUrl,
                format!("base_url has no hostname: {}", repr(url)),
            ));
        }
        if host
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || sanitize::is_unsafe(c))
        {
            return Err(UrlError::new(
                Fix::CheckUrl,
                format!("base_url has invalid hostname: {}", repr(url)),
            ));
        }
        if let Some(port) = port
            && !port.is_empty()
            && port.parse::<u16>().is_err()
        {
            return Err(UrlError::new(
                Fix::CheckUrl,
                format!("base_url has invalid port: {}", repr(url)),
            ));
        }
        let path = path.split(['?', '#']).next().unwrap_or("");
        // It goes into the request line as is: nothing that could end or steer it.
        if path
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || sanitize::is_unsafe(c))
        {
            return Err(UrlError::new(
                Fix::CheckUrl,
                format!("base_url has invalid path: {}", repr(url)),
            ));
        }
        Ok(BaseUrl {
            scheme,
            authority: host_port.to_string(),
            host: host.to_ascii_lowercase(),
            path: path.trim_end_matches('/').to_string(),
        })
    }

    /// Whether requests stay on this machine, judged from the text alone:
    /// exactly `localhost` (any case, no trailing dot, no subdomain: those go
    /// to DNS on some resolvers), a literal `127.0.0.0/8` address in the
    /// strict dotted-quad form, `[::1]`, or an IPv4-mapped `[::ffff:127.x.y.z]`.
    /// Anything a resolver would have to interpret (`127.0.0.1.nip.io`,
    /// `0x7f.1`, `2130706433`, `localhost.evil.com`) is not loopback.
    pub fn is_loopback(&self) -> bool {
        use std::net::{Ipv4Addr, Ipv6Addr};
        let host = self.host.as_str();
        if host == "localhost" {
            return true;
        }
        if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            return inner.parse::<Ipv6Addr>().is_ok_and(|ip| {
                ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
            });
        }
        // Rust's parser takes only four decimal parts without leading zeros.
        host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// Plain http:// to a host that is not loopback: a token sent there
    /// crosses the network in clear text, so it needs the user's consent.
    pub fn needs_insecure_consent(&self) -> bool {
        self.scheme == Scheme::Http && !self.is_loopback()
    }

    /// Refuses to send a token in clear text to another machine.
    /// The way past it is [`Fix::AllowInsecureHttp`], spelled by each face.
    pub fn check_transport_security(&self, allow_insecure_http: bool) -> Result<(), UrlError> {
        if self.needs_insecure_consent() && !allow_insecure_http {
            return Err(UrlError::new(
                Fix::AllowInsecureHttp,
                format!(
                    "refusing to send the token over plain http:// to {}",
                    self.host
                ),
            ));
        }
        Ok(())
    }
}

fn split_host_port(host_port: &str) -> (&str, Option<&str>) {
    if host_port.starts_with('[') {
        return match host_port.find(']') {
            Some(close) => {
                let port = host_port[close + 1..].strip_prefix(':');
                (&host_port[..=close], port)
            }
            None => (host_port, None),
        };
    }
    match host_port.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (host_port, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_default_url() {
        let url = BaseUrl::parse("https://api.tokenfactory.nebius.com/sandboxes/").unwrap();
        assert_eq!(url.scheme, Scheme::Https);
        assert_eq!(url.authority, "api.tokenfactory.nebius.com");
        assert_eq!(url.path, "/sandboxes");
        assert!(!url.is_loopback());
    }

    #[test]
    fn loopback_and_ports() {
        let url = BaseUrl::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(url.authority, "127.0.0.1:8080");
        assert_eq!(url.path, "");
        assert!(url.is_loopback());
        assert!(BaseUrl::parse("http://[::1]:9/x").unwrap().is_loopback());
        assert!(BaseUrl::parse("http://localhost").unwrap().is_loopback());
    }

    #[test]
    fn rejects_like_the_reference() {
        assert_eq!(
            BaseUrl::parse("ftp://h").unwrap_err().to_string(),
            "unsupported base_url scheme 'ftp' in 'ftp://h': use http:// or https://"
        );
        assert_eq!(
            BaseUrl::parse("example.com").unwrap_err().to_string(),
            "unsupported base_url scheme '' in 'example.com': use http:// or https://"
        );
        assert_eq!(
            BaseUrl::parse("https://").unwrap_err().to_string(),
            "base_url has no hostname: 'https://'"
        );
        assert_eq!(
            BaseUrl::parse("http://h:x").unwrap_err().to_string(),
            "base_url has invalid port: 'http://h:x'"
        );
    }

    #[test]
    fn only_literal_loopback_addresses_and_exactly_localhost_are_loopback() {
        let cases = [
            ("http://localhost", true),
            ("http://LocalHost:8080/x", true),
            ("http://127.0.0.1", true),
            ("http://127.255.3.4:9", true),
            ("http://[::1]:9", true),
            ("http://[0:0:0:0:0:0:0:1]", true),
            ("http://[::ffff:127.0.0.1]", true),
            ("http://[::FFFF:7f00:1]:80", true),
            ("http://user@127.0.0.1", true),
            ("http://localhost.", false),
            ("http://localhost.evil.com", false),
            ("http://evil.localhost", false),
            ("http://localhost@evil.com", false),
            ("http://127.0.0.1.nip.io", false),
            ("http://127.0.0.1.", false),
            ("http://0x7f.1", false),
            ("http://0x7f000001", false),
            ("http://2130706433", false),
            ("http://127.1", false),
            ("http://0177.0.0.1", false),
            ("http://0127.0.0.1", false),
            ("http://0.0.0.0", false),
            ("http://[::]", false),
            ("http://[::127.0.0.1]", false),
            ("http://[::1%25lo]", false),
            ("http://[fe80::1]", false),
            ("http://10.0.0.1", false),
            ("http://loca%6chost", false),
            ("http://ｌｏｃａｌｈｏｓｔ", false),
            ("http://evil.com#@127.0.0.1", false),
            ("http://evil.com?@127.0.0.1", false),
        ];
        for (url, loopback) in cases {
            let parsed = BaseUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(parsed.is_loopback(), loopback, "{url}");
            assert_eq!(
                parsed.check_transport_security(false).is_ok(),
                loopback,
                "{url}"
            );
            assert!(parsed.check_transport_security(true).is_ok(), "{url}");
        }
    }

    #[test]
    fn hosts_and_paths_that_would_steer_a_terminal_or_the_request_line_are_refused() {
        for url in [
            "http://127.0.0.1/a\u{1b}]52;c;QQ==\u{7}",
            "http://127.0.0.1/a b",
            "http://127.0.0.1/a\rb",
            "http://evil\u{202e}moc.com",
            "http://127.0.0.1\u{85}",
        ] {
            assert!(BaseUrl::parse(url).is_err(), "{url:?}");
        }
    }

    #[test]
    fn clear_text_only_to_loopback() {
        assert!(
            BaseUrl::parse("http://10.0.0.1")
                .unwrap()
                .check_transport_security(false)
                .is_err()
        );
        assert!(
            BaseUrl::parse("http://10.0.0.1")
                .unwrap()
                .check_transport_security(true)
                .is_ok()
        );
        assert!(
            BaseUrl::parse("http://127.0.0.1")
                .unwrap()
                .check_transport_security(false)
                .is_ok()
        );
    }
}
