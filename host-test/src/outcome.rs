//! How a process ended: the component under the runner, or a program a
//! test starts (the stock `wasmtime` CLI, Python). Plain data, no imports.

/// How a run ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// 0 when `run` returned ok, 1 when it returned an error, the code given to
    /// `wasi:cli/exit`, or [`crate::runner::TRAP_EXIT_CODE`] on a trap.
    pub code: i32,
    /// Lossy UTF-8; empty unless captured.
    pub stdout: String,
    /// Lossy UTF-8; empty unless captured. A trap's text is appended.
    pub stderr: String,
    /// The trap, with its wasm backtrace, when the guest trapped.
    pub trap: Option<String>,
}

impl Outcome {
    pub fn success(&self) -> bool {
        self.code == 0 && self.trap.is_none()
    }
}
