//! `contree auth` as a WASI 0.2 component.
//!
//! Module map: `cli/` parses arguments and talks to people; `api` holds the
//! profile operations shared by the CLI and the WIT export; `config/` is the
//! only code that touches files; `http/` (with `whoami` and `probe` over it)
//! the only code that touches the network; `output/` formats rows;
//! `component` binds it all to `wasi:cli/run` and `contree:auth/profiles`.

pub mod api;
pub mod cli;
pub mod config;
pub mod error;
pub mod http;
pub mod mcp;
pub mod output;
pub mod probe;
pub mod python;
pub mod sanitize;
pub mod whoami;

#[cfg(target_arch = "wasm32")]
mod component;
