//! Differential tests: our component against the Python `contree-cli` 0.9.4
//! (the reference, installed from PyPI into a venv under `target/`, see
//! `python.rs`), on the same scenarios, over one loopback mock API.
//!
//! - `save`, `switch_remove`, `list`: each command is run by both tools in
//!   twin config homes (`twin.rs`); exit codes and key messages must match,
//!   and after each step each tool reads the other's file: our listing of
//!   Python's file gives Python's rows, Python's `load_profiles` of our file
//!   gives what it gives for its own.
//! - `corpus`: the hand-written files of `tests/corpus/`, read by both.
//! - `differences`: where we differ on purpose, each difference named once;
//!   nothing else is normalized.
//! - `other_tools`: contree-mcp's `Config` and contree-sdk's
//!   `read_ini_profile` read what we write, and we what contree-mcp writes.
//! - `unlisted`: where we differ and nothing documents it; these tests
//!   assert the reference behaviour.
//!
//! Needs `python3` with `venv` and access to PyPI the first time (the venv is
//! then reused); `CONTREE_DIFFERENTIAL_PYTHON` picks another interpreter.
#![cfg(unix)]

mod common;
mod corpus;
mod differences;
mod headers;
mod list;
mod other_tools;
mod python;
mod retries;
mod save;
mod switch_remove;
mod twin;
mod unlisted;
