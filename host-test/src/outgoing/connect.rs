//! Opening the byte stream a request travels on: TCP to the server, or to a
//! proxy (a `CONNECT` tunnel for `https://`, so TLS runs end to end with the
//! server and the proxy sees neither the token nor the answer), then TLS.
//! Every failure becomes the `wasi:http` error code the guest acts on; a
//! proxy's failures name the proxy (never its credentials).

use std::io;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use wasmtime_wasi_http::Error;

use super::Network;
use super::proxy::{Proxy, unbracket};

/// A connection a request can be written to.
pub trait Stream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Stream for T {}

/// Where a request goes: `host` as in its URI (brackets around IPv6).
pub struct Target<'a> {
    pub https: bool,
    pub host: &'a str,
    pub port: u16,
}

impl Target<'_> {
    fn address(&self) -> (&str, u16) {
        (unbracket(self.host), self.port)
    }
}

/// A CONNECT answer's header section longer than this is refused.
const MAX_CONNECT_ANSWER: usize = 16 * 1024;

/// The stream to `target`, through `proxy` if given (the caller bounds the
/// time it takes).
pub async fn open(
    network: &Network,
    target: &Target<'_>,
    proxy: Option<&Proxy>,
) -> Result<Box<dyn Stream>, Error> {
    let tcp = match proxy {
        None => {
            let (host, port) = target.address();
            tcp(host, port).await.map_err(server_error)?
        }
        Some(proxy) => {
            let (host, port) = proxy.address();
            let mut tcp = tcp(&host, port)
                .await
                .map_err(|failure| proxy_error(proxy, failure))?;
            // Plain http goes to the proxy itself, in absolute form (see `send`).
            if target.https {
                tunnel(&mut tcp, proxy, target).await?;
            }
            tcp
        }
    };
    secure(network, target, tcp).await
}

/// TLS over `tcp` for an `https://` target; plain `tcp` otherwise.
async fn secure(
    network: &Network,
    target: &Target<'_>,
    tcp: TcpStream,
) -> Result<Box<dyn Stream>, Error> {
    if !target.https {
        return Ok(Box::new(tcp));
    }
    let config = network
        .roots
        .client_config()
        .map_err(|message| Error::InternalError(Some(message)))?;
    let name =
        ServerName::try_from(unbracket(target.host).to_string()).map_err(|_| Error::DnsError {
            rcode: Some("invalid DNS name".to_string()),
            info_code: None,
        })?;
    let tls = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(tls_error)?;
    Ok(Box::new(tls))
}

/// Why a TCP connection could not be made.
enum Failure {
    Lookup(io::Error),
    Connect(io::Error),
}

async fn tcp(host: &str, port: u16) -> Result<TcpStream, Failure> {
    let addresses = tokio::net::lookup_host((host, port))
        .await
        .map_err(Failure::Lookup)?;
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the name has no address");
    let mut any = false;
    for address in addresses {
        any = true;
        match TcpStream::connect(address).await {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(err) => last = err,
        }
    }
    Err(if any {
        Failure::Connect(last)
    } else {
        Failure::Lookup(last)
    })
}

/// Out of file descriptors (ours or the system's): a wait, not a failure.
fn out_of_descriptors(err: &io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(err.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
    }
    #[cfg(not(unix))]
    {
        let _ = err;
        false
    }
}

fn server_error(failure: Failure) -> Error {
    match failure {
        Failure::Lookup(err) | Failure::Connect(err) if out_of_descriptors(&err) => {
            Error::ConnectionLimitReached
        }
        Failure::Lookup(err) => Error::DnsError {
            rcode: Some(err.to_string()),
            info_code: None,
        },
        Failure::Connect(err) => match err.kind() {
            io::ErrorKind::ConnectionRefused => Error::ConnectionRefused,
            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
                Error::ConnectionTerminated
            }
            io::ErrorKind::TimedOut => Error::ConnectionTimeout,
            io::ErrorKind::NetworkUnreachable | io::ErrorKind::HostUnreachable => {
                Error::DestinationUnavailable
            }
            _ => Error::InternalError(Some(format!("cannot connect: {err}"))),
        },
    }
}

fn proxy_error(proxy: &Proxy, failure: Failure) -> Error {
    let what = match &failure {
        Failure::Lookup(err) | Failure::Connect(err) if out_of_descriptors(err) => {
            return Error::ConnectionLimitReached;
        }
        Failure::Lookup(err) => format!("cannot be found ({err})"),
        Failure::Connect(err) if err.kind() == io::ErrorKind::ConnectionRefused => {
            "refused the connection (is it running?)".to_string()
        }
        Failure::Connect(err) => format!("cannot be reached ({err})"),
    };
    proxy_says(proxy, &what)
}

pub(super) fn proxy_says(proxy: &Proxy, what: &str) -> Error {
    Error::InternalError(Some(format!("the proxy {proxy} {what}")))
}

/// `CONNECT host:port` through `proxy`; `Ok` once it answers 2xx.
async fn tunnel(tcp: &mut TcpStream, proxy: &Proxy, target: &Target<'_>) -> Result<(), Error> {
    let authority = format!("{}:{}", target.host, target.port);
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(credentials) = proxy.authorization() {
        request.push_str(&format!("Proxy-Authorization: {credentials}\r\n"));
    }
    request.push_str("\r\n");
    let lost = |err: io::Error| proxy_says(proxy, &format!("closed the connection ({err})"));
    tcp.write_all(request.as_bytes()).await.map_err(lost)?;
    // Byte by byte up to the blank line: what follows it is the server's.
    let mut answer = Vec::with_capacity(256);
    while !answer.ends_with(b"\r\n\r\n") {
        if answer.len() >= MAX_CONNECT_ANSWER {
            return Err(proxy_says(proxy, "sent an over-long answer to CONNECT"));
        }
        let byte = tcp.read_u8().await.map_err(|err| {
            if err.kind() == io::ErrorKind::UnexpectedEof {
                proxy_says(proxy, "closed the connection without answering CONNECT")
            } else {
                lost(err)
            }
        })?;
        answer.push(byte);
    }
    let status_line = String::from_utf8_lossy(&answer);
    let status_line = status_line.lines().next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let (version, code) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    if !version.starts_with("HTTP/1.") {
        return Err(proxy_says(proxy, "did not answer CONNECT in HTTP"));
    }
    match code.parse::<u16>() {
        Ok(200..=299) => Ok(()),
        Ok(code) => {
            let reason = parts.next().unwrap_or_default().trim();
            let reason: String = reason
                .chars()
                .filter(|c| !c.is_control())
                .take(80)
                .collect();
            // tinyproxy says 401, the standard 407.
            let hint = if code == 407 || code == 401 {
                if proxy.authorization().is_some() {
                    ": it refused the credentials in the proxy URL"
                } else {
                    ": it wants credentials (http://user:password@host:port)"
                }
            } else {
                ""
            };
            Err(proxy_says(
                proxy,
                &format!("refused to connect to {authority}: {code} {reason}{hint}"),
            ))
        }
        Err(_) => Err(proxy_says(proxy, "did not answer CONNECT in HTTP")),
    }
}

/// rustls' reason, as the `wasi:http` code the guest words: an unknown CA
/// is `tls-certificate-error` (the guest says which store to look at);
/// another certificate problem (expired, another name) is said as it is.
fn tls_error(err: io::Error) -> Error {
    let reason = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match reason {
        Some(rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)) => {
            Error::TlsCertificateError
        }
        Some(reason @ rustls::Error::InvalidCertificate(_)) => {
            Error::InternalError(Some(format!("TLS failed: {reason}")))
        }
        Some(rustls::Error::AlertReceived(alert)) => Error::TlsAlertReceived {
            alert_id: Some(u8::from(*alert)),
            alert_message: Some(format!("{alert:?}")),
        },
        Some(_) => Error::TlsProtocolError,
        None => match err.kind() {
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted => Error::ConnectionTerminated,
            _ => Error::TlsProtocolError,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn running_out_of_file_descriptors_is_a_wait_for_a_slot_not_a_failure() {
        for errno in [libc::EMFILE, libc::ENFILE] {
            let failures = [
                Failure::Connect(io::Error::from_raw_os_error(errno)),
                Failure::Lookup(io::Error::from_raw_os_error(errno)),
            ];
            for failure in failures {
                assert!(matches!(
                    server_error(failure),
                    Error::ConnectionLimitReached
                ));
            }
            let proxy = Proxy::parse("HTTPS_PROXY", "http://u:secret@proxy:3128").unwrap();
            let failure = Failure::Connect(io::Error::from_raw_os_error(errno));
            assert!(matches!(
                proxy_error(&proxy, failure),
                Error::ConnectionLimitReached
            ));
        }
        let refused = Failure::Connect(io::ErrorKind::ConnectionRefused.into());
        assert!(matches!(server_error(refused), Error::ConnectionRefused));
    }

    #[test]
    fn a_proxy_that_refuses_is_named_without_its_credentials() {
        let proxy = Proxy::parse("HTTPS_PROXY", "http://u:secret@proxy:3128").unwrap();
        let refused = Failure::Connect(io::ErrorKind::ConnectionRefused.into());
        match proxy_error(&proxy, refused) {
            Error::InternalError(Some(message)) => {
                assert!(
                    message.starts_with("the proxy http://proxy:3128 refused"),
                    "{message}"
                );
                assert!(!message.contains("secret"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}
