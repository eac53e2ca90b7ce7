//! The API base URL: checked before any request, with the reference
//! client's messages.

use crate::python::repr;

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
    pub fn parse(url: &str) -> Result<BaseUrl, String> {
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
                return Err(format!(
                    "unsupported base_url scheme {} in {}: use http:// or https://",
                    repr(&scheme),
                    repr(url)
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
            return Err(format!("base_url has no hostname: {}", repr(url)));
        }
        if host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("base_url has invalid hostname: {}", repr(url)));
        }
        if let Some(port) = port
            && !port.is_empty()
            && port.parse::<u16>().is_err()
        {
            return Err(format!("base_url has invalid port: {}", repr(url)));
        }
        let path = path.split(['?', '#']).next().unwrap_or("");
        Ok(BaseUrl {
            scheme,
            authority: host_port.to_string(),
            host: host.to_ascii_lowercase(),
            path: path.trim_end_matches('/').to_string(),
        })
    }

    /// Whether requests stay on this machine (`localhost`, `127.0.0.0/8`, `[::1]`).
    pub fn is_loopback(&self) -> bool {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        host == "localhost"
            || host.ends_with(".localhost")
            || host == "::1"
            || host
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// Refuses to send a token in clear text to another machine.
    pub fn check_transport_security(&self, allow_insecure_http: bool) -> Result<(), String> {
        if self.scheme == Scheme::Http && !self.is_loopback() && !allow_insecure_http {
            return Err(format!(
                "refusing to send the token over plain http:// to {}: use https://, or pass --allow-insecure-http",
                self.host
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
            BaseUrl::parse("ftp://h").unwrap_err(),
            "unsupported base_url scheme 'ftp' in 'ftp://h': use http:// or https://"
        );
        assert_eq!(
            BaseUrl::parse("example.com").unwrap_err(),
            "unsupported base_url scheme '' in 'example.com': use http:// or https://"
        );
        assert_eq!(
            BaseUrl::parse("https://").unwrap_err(),
            "base_url has no hostname: 'https://'"
        );
        assert_eq!(
            BaseUrl::parse("http://h:x").unwrap_err(),
            "base_url has invalid port: 'http://h:x'"
        );
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
