//! Which proxy a request goes through, read as curl reads it:
//! `https_proxy`/`HTTPS_PROXY` for `https://`, `http_proxy`/`HTTP_PROXY` for
//! `http://`, `all_proxy`/`ALL_PROXY` for either, minus `no_proxy`/`NO_PROXY`
//! (the lower-case spelling first, as curl; an empty value is unset).
//!
//! `NO_PROXY` is a list separated by commas (or spaces) of host names, which
//! match the name and every name under it (`example.com` and `.example.com`
//! both match `api.example.com`), IP addresses, CIDR ranges
//! (`10.0.0.0/8`), `*` (no proxy at all), each optionally with a port
//! (`host:8443`, `[::1]:8443`), which then bypasses only that port.
//!
//! Loopback (`localhost`, `*.localhost`, `127.0.0.0/8`, `::1`) always
//! bypasses the proxy, as in Go's `net/http` (gh, docker): a proxy's
//! loopback is not the user's, so no proxy could reach such a server.

use std::fmt;
use std::net::IpAddr;

use percent_encoding::percent_decode_str;

/// curl's port for a proxy URL that names none.
const DEFAULT_PROXY_PORT: u16 = 1080;

/// An HTTP proxy. Its credentials are only ever sent as
/// `Proxy-Authorization`: [`fmt::Display`] and [`fmt::Debug`] leave them out.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    pub host: String,
    pub port: u16,
    /// `Basic ...`, the whole header value.
    authorization: Option<String>,
}

impl Proxy {
    /// `http://[user:password@]host[:port][/]`, or the same without the
    /// scheme. `var` names the variable in an error (never its value: it may
    /// hold a password).
    pub fn parse(var: &str, value: &str) -> Result<Proxy, String> {
        let rest = match value.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some((scheme, _)) => {
                return Err(format!(
                    "{var}: {scheme}:// proxies are not supported; give an http:// proxy"
                ));
            }
            None => value,
        };
        // The credentials end at the last `@`, even where a password holds
        // an unescaped `/`, `?` or `#`: cut at those first, a piece of the
        // password would become the host or port shown in errors.
        let (userinfo, rest) = match rest.rsplit_once('@') {
            Some((userinfo, rest)) => (Some(userinfo), rest),
            None => (None, rest),
        };
        let hostport = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let (host, port) = split_host_port(hostport)
            .ok_or_else(|| format!("{var}: the proxy's port is not a number"))?;
        if host.is_empty() {
            return Err(format!("{var}: the proxy URL names no host"));
        }
        let authorization = userinfo.map(|userinfo| {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            let decoded = format!("{}:{}", decode(user), decode(password));
            format!("Basic {}", base64(decoded.as_bytes()))
        });
        Ok(Proxy {
            host: host.to_ascii_lowercase(),
            port: port.unwrap_or(DEFAULT_PROXY_PORT),
            authorization,
        })
    }

    /// The `Proxy-Authorization` header's value, if the URL had credentials.
    pub fn authorization(&self) -> Option<&str> {
        self.authorization.as_deref()
    }

    /// `host:port` for `lookup_host` and `CONNECT`.
    pub fn address(&self) -> (String, u16) {
        (unbracket(&self.host).to_string(), self.port)
    }
}

impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}:{}", self.host, self.port)
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let credentials = if self.authorization.is_some() {
            " (with credentials)"
        } else {
            ""
        };
        write!(f, "Proxy({self}{credentials})")
    }
}

/// The proxies of one environment. A variable that does not parse is kept
/// as its error, reported by the first request that would use it.
#[derive(Clone, Debug, Default)]
pub struct Proxies {
    https: Option<Result<Proxy, String>>,
    http: Option<Result<Proxy, String>>,
    no_proxy: NoProxy,
}

impl Proxies {
    pub fn from_vars(var: &dyn Fn(&str) -> Option<String>) -> Proxies {
        let proxy = |names: &[&'static str]| {
            first_set(var, names).map(|(name, value)| Proxy::parse(name, value.trim()))
        };
        Proxies {
            https: proxy(&["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]),
            http: proxy(&["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]),
            no_proxy: first_set(var, &["no_proxy", "NO_PROXY"])
                .map(|(_, value)| NoProxy::parse(&value))
                .unwrap_or_default(),
        }
    }

    /// The proxy for `scheme://host:port`, `None` for a direct connection.
    /// `host` as in a URI (an IPv6 address in brackets).
    pub fn for_target(&self, https: bool, host: &str, port: u16) -> Option<Result<&Proxy, &str>> {
        let proxy = if https { &self.https } else { &self.http };
        let proxy = proxy.as_ref()?;
        let host = normalize(host);
        if is_loopback(&host) || self.no_proxy.matches(&host, port) {
            return None;
        }
        Some(proxy.as_ref().map_err(String::as_str))
    }
}

/// The first of `names` set to something other than blanks, and its value.
fn first_set<'a>(
    var: &dyn Fn(&str) -> Option<String>,
    names: &[&'a str],
) -> Option<(&'a str, String)> {
    names.iter().find_map(|name| {
        let value = var(name).filter(|v| !v.trim().is_empty())?;
        Some((*name, value))
    })
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct NoProxy {
    everything: bool,
    entries: Vec<(Pattern, Option<u16>)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Pattern {
    /// Lower case, without a leading or trailing dot.
    Name(String),
    Address(IpAddr),
    Range(IpAddr, u8),
}

impl NoProxy {
    fn parse(value: &str) -> NoProxy {
        let mut no_proxy = NoProxy::default();
        for item in value.split([',', ' ', '\t']).filter(|i| !i.is_empty()) {
            if item == "*" {
                no_proxy.everything = true;
                continue;
            }
            let (host, port) = match split_host_port(item) {
                Some(parts) => parts,
                None => continue,
            };
            let host = normalize(host);
            let pattern = if let Some((ip, bits)) = host.split_once('/') {
                match (ip.parse::<IpAddr>(), bits.parse::<u8>()) {
                    (Ok(ip), Ok(bits)) => Pattern::Range(ip, bits),
                    _ => continue,
                }
            } else if let Ok(ip) = host.parse::<IpAddr>() {
                Pattern::Address(ip)
            } else {
                Pattern::Name(host.trim_start_matches('.').to_string())
            };
            no_proxy.entries.push((pattern, port));
        }
        no_proxy
    }

    /// `host` normalized (see [`normalize`]).
    fn matches(&self, host: &str, port: u16) -> bool {
        if self.everything {
            return true;
        }
        let ip = host.parse::<IpAddr>().ok();
        self.entries.iter().any(|(pattern, only_port)| {
            only_port.is_none_or(|p| p == port)
                && match pattern {
                    Pattern::Name(name) => {
                        !name.is_empty()
                            && (host == name
                                || host
                                    .strip_suffix(name.as_str())
                                    .is_some_and(|head| head.ends_with('.')))
                    }
                    Pattern::Address(address) => ip == Some(*address),
                    Pattern::Range(base, bits) => ip.is_some_and(|ip| in_range(ip, *base, *bits)),
                }
        })
    }
}

fn in_range(ip: IpAddr, base: IpAddr, bits: u8) -> bool {
    match (ip, base) {
        (IpAddr::V4(ip), IpAddr::V4(base)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(base) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(base)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(base) & mask
        }
        _ => false,
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Lower case, without IPv6 brackets or a trailing dot.
fn normalize(host: &str) -> String {
    unbracket(host).trim_end_matches('.').to_ascii_lowercase()
}

/// `host` without the brackets of an IPv6 address in a URI.
pub(super) fn unbracket(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

/// `host`, `host:port`, `[v6]`, `[v6]:port`, or a bare IPv6 address (no
/// port). `None` when a port is given and is not a number.
fn split_host_port(text: &str) -> Option<(&str, Option<u16>)> {
    if text.starts_with('[') {
        let end = text.find(']')?;
        let (host, rest) = text.split_at(end + 1);
        return match rest.strip_prefix(':') {
            Some(port) => Some((host, Some(port.parse().ok()?))),
            None if rest.is_empty() => Some((host, None)),
            None => None,
        };
    }
    match text.rsplit_once(':') {
        // More than one colon: a bare IPv6 address.
        Some((host, _)) if host.contains(':') => Some((text, None)),
        Some((host, port)) => Some((host, Some(port.parse().ok()?))),
        None => Some((text, None)),
    }
}

fn decode(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// Standard base64 with padding (RFC 4648), for `Basic` credentials.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(vars: &[(&str, &str)]) -> Proxies {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Proxies::from_vars(&|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    fn via(p: &Proxies, https: bool, host: &str, port: u16) -> Option<String> {
        p.for_target(https, host, port)
            .map(|r| r.map(|p| p.to_string()).unwrap_or_else(|e| e.to_string()))
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain:?}");
        }
    }

    #[test]
    fn a_proxy_url_keeps_its_credentials_out_of_every_display() {
        let proxy = Proxy::parse("HTTPS_PROXY", "http://us%40er:p%3Ass@Proxy.Corp:3128/").unwrap();
        assert_eq!(proxy.to_string(), "http://proxy.corp:3128");
        assert_eq!(
            format!("{proxy:?}"),
            "Proxy(http://proxy.corp:3128 (with credentials))"
        );
        // base64("us@er:p:ss")
        assert_eq!(proxy.authorization(), Some("Basic dXNAZXI6cDpzcw=="));
        let bare = Proxy::parse("HTTP_PROXY", "proxy.corp").unwrap();
        assert_eq!((bare.host.as_str(), bare.port), ("proxy.corp", 1080));
        assert_eq!(bare.authorization(), None);
        let err = Proxy::parse("ALL_PROXY", "socks5://u:secret@h:1").unwrap_err();
        assert!(err.starts_with("ALL_PROXY: socks5://"), "{err}");
        assert!(!err.contains("secret"), "{err}");
        let err = Proxy::parse("HTTPS_PROXY", "http://u:secret@h:port").unwrap_err();
        assert!(!err.contains("secret"), "{err}");
    }

    #[test]
    fn a_password_with_an_unescaped_slash_or_hash_is_never_taken_for_the_host() {
        for (url, plain) in [
            ("http://u:12/34@proxy.corp:3128", "u:12/34"),
            ("http://u:56#78@proxy.corp:3128/", "u:56#78"),
            ("u:9?0@proxy.corp:3128", "u:9?0"),
        ] {
            let proxy = Proxy::parse("HTTPS_PROXY", url).unwrap();
            assert_eq!(proxy.to_string(), "http://proxy.corp:3128", "{url}");
            let basic = format!("Basic {}", base64(plain.as_bytes()));
            assert_eq!(proxy.authorization(), Some(basic.as_str()), "{url}");
        }
    }

    #[test]
    fn each_scheme_has_its_variables_lower_case_first_then_all_proxy() {
        let p = proxies(&[
            ("https_proxy", "http://lower:1"),
            ("HTTPS_PROXY", "http://upper:2"),
            ("ALL_PROXY", "http://all:3"),
        ]);
        assert_eq!(
            via(&p, true, "api.example", 443).as_deref(),
            Some("http://lower:1")
        );
        assert_eq!(
            via(&p, false, "api.example", 80).as_deref(),
            Some("http://all:3")
        );
        let p = proxies(&[("HTTP_PROXY", "http://upper:2"), ("https_proxy", "")]);
        assert_eq!(
            via(&p, false, "api.example", 80).as_deref(),
            Some("http://upper:2")
        );
        assert_eq!(via(&p, true, "api.example", 443), None);
        assert_eq!(via(&proxies(&[]), true, "api.example", 443), None);
    }

    #[test]
    fn no_proxy_follows_curls_rules_with_ports() {
        let p = proxies(&[
            ("HTTPS_PROXY", "http://proxy:3128"),
            (
                "NO_PROXY",
                "corp.example, .internal.test,10.0.0.0/8 192.168.1.5,[fd00::1],api.example:8443",
            ),
        ]);
        let bypassed = [
            ("corp.example", 443),
            ("API.Corp.Example.", 443),
            ("internal.test", 443),
            ("a.b.internal.test", 443),
            ("10.1.2.3", 443),
            ("192.168.1.5", 443),
            ("[fd00::1]", 443),
            ("api.example", 8443),
        ];
        for (host, port) in bypassed {
            assert_eq!(via(&p, true, host, port), None, "{host}:{port}");
        }
        let proxied = [
            ("notcorp.example", 443),
            ("corp.example.org", 443),
            ("11.1.2.3", 443),
            ("192.168.1.6", 443),
            ("api.example", 443),
        ];
        for (host, port) in proxied {
            assert!(via(&p, true, host, port).is_some(), "{host}:{port}");
        }
        let p = proxies(&[("https_proxy", "http://proxy:3128"), ("no_proxy", "*")]);
        assert_eq!(via(&p, true, "anything.example", 443), None);
    }

    #[test]
    fn loopback_always_bypasses_the_proxy() {
        let p = proxies(&[("ALL_PROXY", "http://proxy:3128")]);
        for host in [
            "localhost",
            "api.localhost",
            "127.0.0.1",
            "127.8.9.10",
            "[::1]",
        ] {
            assert_eq!(via(&p, true, host, 443), None, "{host}");
        }
        assert!(via(&p, true, "api.contree.test", 443).is_some());
    }

    #[test]
    fn a_bad_proxy_variable_is_reported_when_it_is_needed() {
        let p = proxies(&[("HTTPS_PROXY", "socks5://h:1")]);
        let err = via(&p, true, "api.example", 443).unwrap();
        assert!(err.contains("not supported"), "{err}");
        assert_eq!(via(&p, false, "api.example", 80), None);
    }
}
