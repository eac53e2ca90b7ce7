//! How the component's `wasi:http` requests leave the machine: the
//! launcher's own sender, so a request trusts the CAs this machine trusts
//! and goes through the proxy the user set, as curl and gh would (SPEC §8,
//! docs/network.md). The settings come from the launcher's environment (or,
//! in the tests, the sandbox's variables), never from the guest's: the guest
//! sees neither the proxy nor its password.
//!
//! - [`roots`]: which CAs are trusted (loaded on the first https request);
//! - [`proxy`]: which proxy a request goes through (`HTTPS_PROXY`, `NO_PROXY`, ...);
//! - [`connect`]: TCP, the proxy's `CONNECT` tunnel, TLS, and their errors;
//! - [`send`]: one request and its timeouts;
//! - [`hooks`]: the glue to wasmtime-wasi-http's `WasiHttpHooks`.

mod connect;
mod hooks;
pub mod proxy;
pub mod roots;
mod send;

pub use hooks::Sender;

/// The network settings of one environment.
#[derive(Debug, Default)]
pub struct Network {
    proxies: proxy::Proxies,
    roots: roots::Roots,
}

impl Network {
    /// Read from `var` (the launcher: its own environment).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Network {
        Network {
            proxies: proxy::Proxies::from_vars(&var),
            roots: roots::Roots::from_vars(&var),
        }
    }
}
