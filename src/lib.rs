//! `contree auth` as a WASI 0.2 component.
//!
//! One core and three thin faces. The core: `api` (the profile operations),
//! `config/` (the only code that touches files), `whoami`/`probe` over
//! `http/` (the only code that touches the network), `sanitize` (redaction,
//! escapes) and `output/` (formats). The faces: `cli/` (the text face, one
//! module per subcommand), `mcp/` (the MCP server) and `component` (the WIT
//! bindings for `wasi:cli/run` and the typed functions). Every module is
//! private to the crate; [`workspace`] is what the launcher and the fuzz
//! targets use.

pub(crate) mod api;
pub(crate) mod cli;
pub(crate) mod config;
pub(crate) mod error;
pub(crate) mod http;
pub(crate) mod mcp;
pub(crate) mod output;
pub(crate) mod probe;
pub(crate) mod python;
pub(crate) mod sanitize;
pub(crate) mod secret;
pub(crate) mod whoami;

#[cfg(test)]
mod testing;

#[cfg(any(test, feature = "test-support"))]
pub mod test_support;

#[cfg(target_arch = "wasm32")]
mod component;

/// The crate's whole public surface. The faces' entry points (what
/// `component.rs` calls inside wasm; natively, tests and other Rust hosts
/// can call them with their own `Io` and `Transport`), and the few items
/// the other crates of this workspace use: the launcher finds
/// `CONTREE_HOME` and reads the global options with the component's own
/// code, so the two cannot disagree, and the fuzz targets drive the
/// argument parser and the read path.
pub mod workspace {
    pub use crate::api::Context;
    pub use crate::cli::args::{Cli, parse as parse_args, version};
    pub use crate::cli::{Io, SECRET_PROMPT, run as run_cli};
    pub use crate::config::env::{
        Environment, HIDDEN_INPUT_VAR, HOME_VARIABLES, MACHINE_TRUST_VAR,
    };
    pub use crate::config::ini::Document;
    pub use crate::config::profile::read_profiles;
    pub use crate::config::store::{is_working_file as is_store_working_file, read_texts};
    pub use crate::http::Transport;
    pub use crate::mcp::serve as serve_mcp;
    pub use crate::sanitize::escape_controls;
}
