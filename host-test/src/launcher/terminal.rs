//! Hides the token as it is typed. A WASI component cannot switch terminal
//! echo off, so the launcher does it for the component, and tells it so
//! (`CONTREE_HIDDEN_INPUT=1`: without it the component refuses to ask for a
//! token on a terminal). The component's rule: the token prompt is a stderr
//! write that ends with [`SECRET_PROMPT`] (log lines end with `\n`; the other
//! prompts end otherwise). So when such a write comes while stdin is a
//! terminal, echo goes off; the next output of any kind (the component only writes again once the
//! line is read) or the end of the run turns it back on, and so do
//! SIGINT, SIGTERM, SIGHUP and a panic of the launcher: the user's shell is
//! never left without echo.

use std::io::{self, Write};
use std::os::fd::{BorrowedFd, RawFd};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex, Once, OnceLock};
use std::task::{Context, Poll};

use bytes::Bytes;
use contree_auth::workspace::SECRET_PROMPT;
use rustix::termios::{self, LocalModes, OptionalActions, Termios};
use tokio::io::AsyncWrite;
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};

/// The terminal's settings on entry, for the signal handlers and the panic
/// hook (set once, before they are installed; read without locking).
static ORIGINAL: OnceLock<Termios> = OnceLock::new();
/// Whether echo is off right now.
static HIDDEN: AtomicBool = AtomicBool::new(false);
/// The terminal whose echo is switched: stdin (another one only in tests).
static TERMINAL: AtomicI32 = AtomicI32::new(0);

fn terminal() -> BorrowedFd<'static> {
    // SAFETY: stdin stays open for the life of the process; a test that
    // sets another descriptor keeps it open.
    unsafe { BorrowedFd::borrow_raw(TERMINAL.load(Ordering::SeqCst)) }
}

/// Signals after which echo must come back before the launcher dies.
const RESTORING_SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// Turns echo off and on for the launcher's stdin; restores it when dropped.
pub struct EchoControl {
    /// Serializes hide and restore between the stdout and stderr streams.
    lock: Mutex<()>,
}

impl EchoControl {
    /// `None` when stdin is not a terminal (then there is nothing to hide).
    /// Otherwise the terminal's settings are saved, and the signal handlers
    /// and panic hook that put them back are installed.
    pub fn for_stdin() -> Option<Arc<EchoControl>> {
        EchoControl::for_terminal(rustix::stdio::stdin())
    }

    /// [`EchoControl::for_stdin`] for another terminal, which must stay open
    /// as long as the process lives (one terminal per process).
    fn for_terminal(fd: BorrowedFd<'static>) -> Option<Arc<EchoControl>> {
        if !termios::isatty(fd) {
            return None;
        }
        let original = termios::tcgetattr(fd).ok()?;
        let raw: RawFd = std::os::fd::AsRawFd::as_raw_fd(&fd);
        TERMINAL.store(raw, Ordering::SeqCst);
        let _ = ORIGINAL.set(original);
        install_restorers();
        Some(Arc::new(EchoControl {
            lock: Mutex::new(()),
        }))
    }

    /// Sets the run's stdout and stderr to streams watched by this control.
    pub fn watch(self: &Arc<Self>, builder: &mut WasiCtxBuilder) {
        let watched = |stream| Watched {
            stream,
            control: Arc::clone(self),
        };
        builder
            .stdout(watched(Stream::Stdout))
            .stderr(watched(Stream::Stderr));
    }

    fn hide(&self) {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let Some(original) = ORIGINAL.get() else {
            return;
        };
        let mut quiet = original.clone();
        quiet.local_modes -= LocalModes::ECHO;
        // The Enter key still shows as a line break.
        quiet.local_modes |= LocalModes::ECHONL;
        // Marked first: a signal arriving in between still restores.
        HIDDEN.store(true, Ordering::SeqCst);
        if termios::tcsetattr(terminal(), OptionalActions::Now, &quiet).is_err() {
            HIDDEN.store(false, Ordering::SeqCst);
        }
    }

    fn restore(&self) {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        restore_terminal();
    }

    /// Output means the secret line was read: echo comes back before it shows.
    fn before_write(&self) {
        self.restore();
    }

    fn after_write(&self, stream: Stream, bytes: &[u8]) {
        if is_secret_prompt(stream, bytes) {
            self.hide();
        }
    }
}

/// The component's rule for a secret prompt: a stderr write that ends with
/// the token prompt (other prompts, `Project ID: ` or `[y/N] `, also go to
/// stderr without a newline, and must be echoed).
pub fn is_secret_prompt(stream: Stream, bytes: &[u8]) -> bool {
    stream == Stream::Stderr && bytes.ends_with(SECRET_PROMPT.as_bytes())
}

/// Puts the saved settings back if echo is off. Async-signal-safe: an atomic
/// swap, a lock-free read and one `ioctl`.
fn restore_terminal() {
    if HIDDEN.swap(false, Ordering::SeqCst)
        && let Some(original) = ORIGINAL.get()
    {
        let _ = termios::tcsetattr(terminal(), OptionalActions::Now, original);
    }
}

extern "C" fn on_signal(signal: libc::c_int) {
    restore_terminal();
    // SA_RESETHAND made the default action current again: dying by the same
    // signal keeps the exit status a shell expects (130 for Ctrl-C).
    // SAFETY: raise is async-signal-safe.
    unsafe {
        libc::raise(signal);
    }
}

/// The signal handlers and the panic hook, once per process.
fn install_restorers() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for signal in RESTORING_SIGNALS {
            // SAFETY: zeroed sigactions are valid; the handler only makes
            // async-signal-safe calls (see `restore_terminal`).
            unsafe {
                let mut current: libc::sigaction = std::mem::zeroed();
                libc::sigaction(signal, std::ptr::null(), &mut current);
                // Ignored on entry (`nohup`, a shell's `trap '' INT`): it
                // stays ignored, the launcher does not die of it.
                if current.sa_sigaction == libc::SIG_IGN {
                    continue;
                }
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
                action.sa_flags = libc::SA_RESETHAND;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(signal, &action, std::ptr::null_mut());
            }
        }
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            previous(info);
        }));
    });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_prompt_is_a_stderr_write_ending_with_the_token_prompt() {
        assert!(is_secret_prompt(Stream::Stderr, b"Token: "));
        assert!(is_secret_prompt(Stream::Stderr, b"[INFO] x\nToken: "));
        assert!(!is_secret_prompt(Stream::Stderr, b"[INFO] saved\n"));
        assert!(!is_secret_prompt(Stream::Stderr, b""));
        // Plain prompts are on stderr too (issue 20 item 4), and echoed.
        assert!(!is_secret_prompt(Stream::Stderr, b"Project ID: "));
        assert!(!is_secret_prompt(Stream::Stderr, b"URL: "));
        assert!(!is_secret_prompt(
            Stream::Stderr,
            b"Profile 'a' already exists. Overwrite? [y/N] "
        ));
        assert!(!is_secret_prompt(Stream::Stdout, b"Token: "));
    }

    /// Issue 11 item 9: a panic of the launcher while the token is being
    /// typed must not leave the terminal without echo. A pseudo-terminal
    /// stands in for the user's (the only test here that switches echo).
    #[test]
    fn echo_comes_back_when_the_launcher_panics() {
        use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
        grantpt(&master).unwrap();
        unlockpt(&master).unwrap();
        let name = ptsname(&master, Vec::new()).unwrap();
        let flags = rustix::fs::OFlags::RDWR | rustix::fs::OFlags::NOCTTY;
        let pty = rustix::fs::open(name.as_c_str(), flags, rustix::fs::Mode::empty()).unwrap();
        // Kept open for the rest of the process, as `for_terminal` asks.
        let pty: BorrowedFd<'static> = {
            let raw = std::os::fd::IntoRawFd::into_raw_fd(pty);
            unsafe { BorrowedFd::borrow_raw(raw) }
        };
        let echo_on = || {
            termios::tcgetattr(pty)
                .unwrap()
                .local_modes
                .contains(LocalModes::ECHO)
        };
        assert!(echo_on());
        let control = EchoControl::for_terminal(pty).expect("a pty is a terminal");
        control.after_write(Stream::Stderr, b"Token: ");
        assert!(!echo_on(), "the secret prompt hides echo");
        let panicked = std::thread::spawn(|| panic!("a launcher bug")).join();
        assert!(panicked.is_err());
        assert!(echo_on(), "the panic hook put echo back");

        control.after_write(Stream::Stderr, b"Token: ");
        control.before_write();
        assert!(echo_on(), "the next output puts echo back");
        control.after_write(Stream::Stderr, b"Token: ");
        drop(control);
        assert!(echo_on(), "the end of the run puts echo back");
        drop(master);
    }
}
