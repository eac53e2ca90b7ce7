//! Runs the `contree-auth` WASI component under wasmtime. Three rooms:
//!
//! - [`runner`]: the wasmtime embedding both others use (engine, linker,
//!   one run of `wasi:cli/run`, the on-disk compile cache);
//! - [`launcher`]: what ships in `target/release/contree` (where the config
//!   home is, which directories and variables the component sees, hiding the
//!   typed token on a terminal);
//! - [`harness`]: what only tests use (a sandboxed config home, a mock of the
//!   ConTree API, shared test support).
//!
//! [`typed`] holds the typed bindings of the `contree:auth` worlds.

pub mod harness;
pub mod launcher;
pub mod runner;
pub mod typed;

pub use harness::mock_api::{self, MockApi, Request};
pub use harness::sandbox::{self, Sandbox};
pub use harness::{component_path, test_cache_dir, wasmtime_cli};
pub use runner::cache::{self, CacheUse};
pub use runner::{Outcome, RunSpec, Runner, Stdin, TRAP_EXIT_CODE};

/// The version of wasmtime this crate embeds.
pub const WASMTIME_VERSION: &str = env!("CONTREE_HOST_WASMTIME_VERSION");
