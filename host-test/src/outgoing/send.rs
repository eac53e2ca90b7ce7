//! One request over a fresh HTTP/1.1 connection (as wasmtime-wasi-http's
//! own sender makes it), within the three timeouts of the guest's
//! `request-options`: connecting (TCP, the proxy's tunnel and TLS
//! together), the first byte of the answer, and the gap between body chunks.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderValue, PROXY_AUTHORIZATION};
use http::uri::Scheme;
use http::{Request, Response, StatusCode, Uri};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use tokio::time::{Instant, Sleep, sleep, timeout};
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody};

use super::Network;
use super::connect::{self, Target};
use super::proxy::Proxy;

/// wasmtime-wasi-http's own default for a timeout the guest leaves unset.
const UNSET_TIMEOUT: Duration = Duration::from_secs(600);

/// What is left of the connection once the answer's head has arrived: it
/// carries the body, and ends with it.
pub type Connection = Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

pub async fn send(
    network: Arc<Network>,
    mut request: Request<WasiBody>,
    options: Option<RequestOptions>,
) -> Result<(Response<WasiBody>, Connection), Error> {
    let uri = request.uri().clone();
    let https = uri.scheme() == Some(&Scheme::HTTPS);
    let host = uri.host().ok_or(Error::HttpRequestUriInvalid)?;
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let target = Target { https, host, port };
    let proxy = match network.proxies.for_target(https, host, port) {
        None => None,
        Some(Ok(proxy)) => Some(proxy),
        Some(Err(message)) => return Err(Error::InternalError(Some(message.to_string()))),
    };
    let option = |pick: fn(&RequestOptions) -> Option<Duration>| {
        options.as_ref().and_then(pick).unwrap_or(UNSET_TIMEOUT)
    };
    let connect_timeout = option(|o| o.connect_timeout);
    let first_byte_timeout = option(|o| o.first_byte_timeout);
    let between_bytes_timeout = option(|o| o.between_bytes_timeout);

    let handshake = async {
        let stream = connect::open(&network, &target, proxy).await?;
        hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(Error::from)
    };
    let (mut sender, connection) = timeout(connect_timeout, handshake)
        .await
        .map_err(|_| Error::ConnectionTimeout)??;

    // Plain http through a proxy goes in absolute form, with the proxy's
    // credentials; everything else in origin form (the path).
    let clear_proxy = proxy.filter(|_| !https);
    match clear_proxy.map(Proxy::authorization) {
        None => *request.uri_mut() = origin_form(&uri),
        Some(None) => {}
        Some(Some(credentials)) => {
            let value = HeaderValue::from_str(credentials).map_err(|_| {
                Error::InternalError(Some("the proxy's credentials are not valid".to_string()))
            })?;
            request.headers_mut().insert(PROXY_AUTHORIZATION, value);
        }
    }

    // Drive the connection while waiting for the answer's head.
    let mut connection = Box::pin(connection);
    let mut ended: Option<Result<(), hyper::Error>> = None;
    let answer = {
        let mut answer = pin!(timeout(first_byte_timeout, sender.send_request(request)));
        poll_fn(|cx| {
            if ended.is_none()
                && let Poll::Ready(result) = connection.as_mut().poll(cx)
            {
                ended = Some(result);
            }
            answer.as_mut().poll(cx)
        })
        .await
    };
    let response = match answer {
        Err(_elapsed) => return Err(Error::ConnectionReadTimeout),
        Ok(Err(err)) => return Err(Error::from(ended.and_then(Result::err).unwrap_or(err))),
        Ok(Ok(response)) => response,
    };
    if let Some(proxy) = clear_proxy
        && response.status() == StatusCode::PROXY_AUTHENTICATION_REQUIRED
    {
        return Err(connect::proxy_says(
            proxy,
            "answered 407: it wants other credentials (http://user:password@host:port)",
        ));
    }
    let rest: Connection = Box::pin(async move {
        match ended {
            Some(result) => result.map_err(Error::from),
            None => connection.await.map_err(|err| {
                if err.is_timeout() {
                    Error::HttpResponseTimeout
                } else {
                    Error::from(err)
                }
            }),
        }
    });
    let response = response.map(|incoming| {
        TimedBody {
            incoming,
            idle: between_bytes_timeout,
            deadline: Box::pin(sleep(between_bytes_timeout)),
        }
        .boxed_unsync()
    });
    Ok((response, rest))
}

fn origin_form(uri: &Uri) -> Uri {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    Uri::try_from(path).unwrap_or_else(|_| Uri::from_static("/"))
}

/// The answer's body, failing once no chunk has come for `idle`.
struct TimedBody {
    incoming: Incoming,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl Body for TimedBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        match Pin::new(&mut self.incoming).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let next = Instant::now() + self.idle;
                self.deadline.as_mut().reset(next);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(err))) if err.is_timeout() => {
                Poll::Ready(Some(Err(Error::HttpResponseTimeout)))
            }
            Poll::Ready(Some(Err(err))) => Poll::Ready(Some(Err(Error::from(err)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Error::ConnectionReadTimeout))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.incoming.size_hint()
    }
}
