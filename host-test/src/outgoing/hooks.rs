//! The one place the sender meets wasmtime-wasi-http (48.x): its
//! `WasiHttpHooks::send_request`, which every guest request goes through.
//! The rest of the hooks keep wasmtime's defaults (the forbidden headers
//! among them: a guest cannot set `Proxy-Authorization` or `Host`).

use std::future::Future;
use std::sync::Arc;

use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use super::{Network, send};

/// The launcher's sender, for one store.
#[derive(Clone, Debug, Default)]
pub struct Sender {
    network: Arc<Network>,
}

impl Sender {
    pub fn new(network: Arc<Network>) -> Sender {
        Sender { network }
    }
}

type Io = Box<dyn Future<Output = Result<(), Error>> + Send>;

impl WasiHttpHooks for Sender {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _response_errors: Io,
    ) -> Box<dyn Future<Output = Result<(http::Response<WasiBody>, Io), Error>> + Send> {
        let network = self.network.clone();
        Box::new(async move {
            let (response, connection) = send::send(network, request, options).await?;
            Ok((response, Box::new(connection) as Io))
        })
    }
}
