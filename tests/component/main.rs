//! The component, run for real under wasmtime by the `contree-host` harness:
//! a temporary preopened config home, a real HTTP server on 127.0.0.1, and
//! captured stdio. Each test is named after the SPEC rule it proves.

mod common;

mod formats;
mod hostile_files;
mod ini_compat;
mod jco;
mod list;
mod robustness;
mod save;
mod stock_wasmtime;
mod switch_remove;
mod wit_api;
