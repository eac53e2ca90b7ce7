//! The component, run for real under wasmtime by the `contree-host` harness:
//! a temporary preopened config home, a real HTTP server on 127.0.0.1, and
//! captured stdio. Each test is named after the SPEC rule it proves.

mod common;

mod ci_job;
mod docs;
mod faults;
mod formats;
#[cfg(unix)]
mod history;
mod hostile_files;
mod hostile_servers;
mod ini_compat;
mod jco;
mod list;
mod mcp;
mod network;
mod network_load;
mod python_env;
mod python_host;
#[cfg(unix)]
mod registry;
mod release_workflow;
#[cfg(unix)]
mod releases;
mod robustness;
mod save;
mod stock_wasmtime;
mod switch_remove;
mod terminal;
mod tool_build;
mod wassette;
mod wit_api;
