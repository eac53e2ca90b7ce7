//! Runs the `contree-auth` WASI component under wasmtime. What ships and
//! what tests are different rooms; imports only go down this list:
//!
//! - [`outgoing`]: how the component's `wasi:http` requests leave the
//!   machine (the CAs and proxies of the host's environment), importing
//!   nothing of this crate;
//! - [`runtime`]: the wasmtime pieces (engine, linker, the store's [`runtime::Host`],
//!   the on-disk compile cache), importing only [`outgoing`];
//! - [`runner`]: one run of `wasi:cli/run` ([`Outcome`] is how it ended);
//!   [`typed`]: typed calls of the `contree:auth` exports;
//! - [`launcher`]: what ships in `target/release/contree` (where the config
//!   home is, which directories and variables the component sees, hiding the
//!   typed token on a terminal);
//! - `harness` (cargo feature `harness`, on only for this crate's tests,
//!   benches and the `mock-api` binary): a sandboxed config home, a mock of
//!   the ConTree API, shared test support. Nothing above imports it, and the
//!   `contree` binary is built without it.

#[cfg(feature = "harness")]
pub mod harness;
pub mod launcher;
pub mod outcome;
pub mod outgoing;
pub mod runner;
pub mod runtime;
pub mod typed;

#[cfg(feature = "harness")]
pub use harness::mock_api::{self, MockApi, Request};
#[cfg(feature = "harness")]
pub use harness::sandbox::{self, Sandbox};
#[cfg(feature = "harness")]
pub use harness::{component_path, test_cache_dir, wasmtime_cli};
pub use outcome::Outcome;
pub use runner::{RunSpec, Runner, Stdin, TRAP_EXIT_CODE};
pub use runtime::cache::{self, CacheUse};

/// The version of wasmtime this crate embeds.
pub const WASMTIME_VERSION: &str = env!("CONTREE_HOST_WASMTIME_VERSION");
