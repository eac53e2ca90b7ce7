//! Hides the token as it is typed. A WASI component cannot switch terminal
//! echo off, so the launcher does it for the component: when the component
//! writes its secret prompt (`Token: `) to stderr while stdin is a
//! terminal, echo goes off; the next output of any kind (the component only
//! writes again once the line is read) or the end of the run turns it back on.

use std::io::{self, Write};
use std::os::fd::AsFd;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use rustix::termios::{self, LocalModes, OptionalActions, Termios};
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};

/// The prompt after which input is secret (see the component's `cli` module).
pub const SECRET_PROMPT: &[u8] = b"Token: ";

/// The terminal's settings on entry, restored when echo comes back and on drop.
pub struct EchoControl {
    original: Termios,
    hidden: Mutex<bool>,
}

impl EchoControl {
    /// `None` when stdin is not a terminal (then there is nothing to hide).
    pub fn for_stdin() -> Option<Arc<EchoControl>> {
        let stdin = io::stdin();
        if !termios::isatty(stdin.as_fd()) {
            return None;
        }
        let original = termios::tcgetattr(stdin.as_fd()).ok()?;
        Some(Arc::new(EchoControl {
            original,
            hidden: Mutex::new(false),
        }))
    }

    fn hide(&self) {
        let mut hidden = self.hidden.lock().unwrap_or_else(|e| e.into_inner());
        let mut quiet = self.original.clone();
        quiet.local_modes -= LocalModes::ECHO;
        // The Enter key still shows as a line break.
        quiet.local_modes |= LocalModes::ECHONL;
        if termios::tcsetattr(io::stdin().as_fd(), OptionalActions::Now, &quiet).is_ok() {
            *hidden = true;
        }
    }

    fn restore(&self) {
        let mut hidden = self.hidden.lock().unwrap_or_else(|e| e.into_inner());
        if *hidden {
            let _ = termios::tcsetattr(io::stdin().as_fd(), OptionalActions::Now, &self.original);
            *hidden = false;
        }
    }

    /// Output means the secret line was read: echo comes back before it shows.
    fn before_write(&self) {
        self.restore();
    }

    fn after_write(&self, stream: Stream, bytes: &[u8]) {
        if stream == Stream::Stderr && bytes.ends_with(SECRET_PROMPT) {
            self.hide();
        }
    }
}

impl std::fmt::Debug for EchoControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EchoControl").finish_non_exhaustive()
    }
}

impl Drop for EchoControl {
    fn drop(&mut self) {
        self.restore();
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// The launcher's stdout or stderr, watched by an [`EchoControl`].
#[derive(Clone)]
pub struct Watched {
    pub stream: Stream,
    pub control: Arc<EchoControl>,
}

impl Watched {
    fn write_all(&self, bytes: &[u8]) -> io::Result<()> {
        self.control.before_write();
        let result = match self.stream {
            Stream::Stdout => io::stdout()
                .write_all(bytes)
                .and_then(|()| io::stdout().flush()),
            Stream::Stderr => io::stderr()
                .write_all(bytes)
                .and_then(|()| io::stderr().flush()),
        };
        self.control.after_write(self.stream, bytes);
        result
    }
}

impl IsTerminal for Watched {
    fn is_terminal(&self) -> bool {
        match self.stream {
            Stream::Stdout => io::IsTerminal::is_terminal(&io::stdout()),
            Stream::Stderr => io::IsTerminal::is_terminal(&io::stderr()),
        }
    }
}

impl StdoutStream for Watched {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl OutputStream for Watched {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.write_all(&bytes)
            .map_err(|e| StreamError::LastOperationFailed(e.into()))
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for Watched {
    async fn ready(&mut self) {}
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(self.write_all(buf).map(|()| buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
