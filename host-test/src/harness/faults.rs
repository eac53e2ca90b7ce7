//! A fault-injecting `wasi:filesystem/types` host, as SQLite's test VFS is
//! for SQLite (ARCHITECTURE.md, "faults are injected, not hoped for").
//!
//! Every call of a descriptor or directory-entry-stream method, and every
//! write/flush/read of a stream that a descriptor handed out, is forwarded to
//! wasmtime-wasi's own implementation and counted. A [`Faults`] plan can fail
//! the Nth call with a chosen `error-code`, trap the guest at the Nth call (a
//! crash), fail every call that would change the disk (a read-only config),
//! or delay every call (a slow disk). The component does not know: it links
//! the same `wasi:filesystem/types` it always does. Only the harness's
//! [`faulty_runner`] links this host; the launcher never does.
//!
//! Not counted: resource drops and `is-same-object` (they cannot fail in
//! WASI), `check-write` and the streams' readiness polls (how often a guest
//! polls depends on timing, and counts must repeat run after run).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use wasmtime::component::{HasData, Linker, Resource};
use wasmtime_wasi::filesystem::WasiFilesystemCtxView;
/// The codes a failure can carry (`io`, `insufficient-space`, `read-only`, `access`, ...).
pub use wasmtime_wasi::p2::bindings::filesystem::types::ErrorCode;
use wasmtime_wasi::p2::bindings::sync::filesystem::types as fs;
use wasmtime_wasi::p2::bindings::sync::io::streams;
use wasmtime_wasi::p2::{
    DynInputStream, DynOutputStream, FsError, FsResult, InputStream, OutputStream, Pollable,
    StreamError, StreamResult,
};

use crate::runner::Runner;
use crate::runtime::Host;

/// What goes wrong, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Nothing: count the calls.
    Count,
    /// Call number `n` (1-based) fails with `code`; the others work.
    FailAt { n: u64, code: ErrorCode },
    /// Call number `n` traps the guest before doing anything: a crash.
    TrapAt { n: u64 },
    /// Every call that would change the disk fails with `code` (a read-only
    /// volume, a full disk); reads work.
    FailWrites { code: ErrorCode },
    /// Every call waits this long first (a slow disk).
    Delay(Duration),
    /// Call number `n` waits this long first (the run is paused there, so
    /// that a test can act in between).
    PauseAt { n: u64, pause: Duration },
}

/// A plan, and what the run did under it. Shared between the test and the
/// run (the test reads the counts once the run is over, or while it runs).
pub struct Faults {
    plan: Plan,
    calls: AtomicU64,
    /// Every counted call in order: its WIT name (`open-at`, ...) and, for
    /// the `*-at` calls, the path it names.
    log: Mutex<Vec<(&'static str, Option<String>)>>,
    /// The call the plan hit (failed or trapped), if any.
    hit: Mutex<Option<(u64, &'static str)>>,
}

impl fmt::Debug for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Faults")
            .field("plan", &self.plan)
            .field("calls", &self.calls())
            .field("hit", &self.hit())
            .finish()
    }
}

/// What the injector decided for one call.
enum Injected {
    Fail(ErrorCode),
    Trap(String),
}

impl From<Injected> for FsError {
    fn from(injected: Injected) -> FsError {
        match injected {
            Injected::Fail(code) => FsError::from(code),
            Injected::Trap(why) => FsError::trap(wasmtime::format_err!("{why}")),
        }
    }
}

impl From<Injected> for StreamError {
    fn from(injected: Injected) -> StreamError {
        match injected {
            // `filesystem-error-code` below turns it back into `code`.
            Injected::Fail(code) => {
                StreamError::LastOperationFailed(wasmtime::Error::new(InjectedError(code)))
            }
            Injected::Trap(why) => StreamError::Trap(wasmtime::format_err!("{why}")),
        }
    }
}

/// A stream error the injector made, carrying the code the guest must see.
#[derive(Debug)]
struct InjectedError(ErrorCode);

impl fmt::Display for InjectedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "injected fault: {:?}", self.0)
    }
}

impl std::error::Error for InjectedError {}

impl Faults {
    pub fn new(plan: Plan) -> Arc<Faults> {
        Arc::new(Faults {
            plan,
            calls: AtomicU64::new(0),
            log: Mutex::new(Vec::new()),
            hit: Mutex::new(None),
        })
    }

    /// Counts, changes nothing.
    pub fn counting() -> Arc<Faults> {
        Faults::new(Plan::Count)
    }

    pub fn fail_at(n: u64, code: ErrorCode) -> Arc<Faults> {
        Faults::new(Plan::FailAt { n, code })
    }

    pub fn trap_at(n: u64) -> Arc<Faults> {
        Faults::new(Plan::TrapAt { n })
    }

    /// A config whose every write fails with `read-only`.
    pub fn read_only() -> Arc<Faults> {
        Faults::new(Plan::FailWrites {
            code: ErrorCode::ReadOnly,
        })
    }

    pub fn slow(delay: Duration) -> Arc<Faults> {
        Faults::new(Plan::Delay(delay))
    }

    pub fn pause_at(n: u64, pause: Duration) -> Arc<Faults> {
        Faults::new(Plan::PauseAt { n, pause })
    }

    pub fn plan(&self) -> Plan {
        self.plan
    }

    /// How many calls were counted so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }

    /// The counted calls, in order, by name.
    pub fn log(&self) -> Vec<&'static str> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(call, _)| *call)
            .collect()
    }

    /// The counted calls, in order, with the path of each `*-at` call.
    pub fn log_with_paths(&self) -> Vec<(&'static str, Option<String>)> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// `(n, name)` of the call the plan failed or trapped, if it hit one.
    pub fn hit(&self) -> Option<(u64, &'static str)> {
        *self.hit.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts one call and decides its fate.
    fn enter(&self, call: &'static str, path: Option<&str>, writes: bool) -> Result<(), Injected> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((call, path.map(str::to_string)));
        let injected = match self.plan {
            Plan::Count => None,
            Plan::Delay(delay) => {
                std::thread::sleep(delay);
                None
            }
            Plan::PauseAt { n: at, pause } => {
                if at == n {
                    std::thread::sleep(pause);
                }
                None
            }
            Plan::FailAt { n: at, code } if at == n => Some(Injected::Fail(code)),
            Plan::TrapAt { n: at } if at == n => Some(Injected::Trap(format!(
                "fault injector: crash at filesystem call {n} ({call})"
            ))),
            Plan::FailWrites { code } if writes => Some(Injected::Fail(code)),
            Plan::FailAt { .. } | Plan::TrapAt { .. } | Plan::FailWrites { .. } => None,
        };
        match injected {
            Some(injected) => {
                let mut hit = self.hit.lock().unwrap_or_else(PoisonError::into_inner);
                hit.get_or_insert((n, call));
                Err(injected)
            }
            None => Ok(()),
        }
    }
}

/// The runner whose `wasi:filesystem/types` is this host, built once per
/// test process (the compiled component comes from the shared cache). Runs
/// without a plan (`RunSpec::faults` unset) are forwarded untouched.
pub fn faulty_runner() -> &'static Runner {
    static RUNNER: OnceLock<Result<Runner, String>> = OnceLock::new();
    RUNNER
        .get_or_init(|| {
            let wasm = std::fs::read(super::component_path()).map_err(|e| e.to_string())?;
            Runner::with_linker(&wasm, Some(super::test_cache_dir()), link)
                .map_err(|err| format!("{err:#}"))
        })
        .as_ref()
        .unwrap_or_else(|err| panic!("loading the component with the fault injector: {err}"))
}

/// Replaces the stock `wasi:filesystem/types` in `linker` with the injector.
fn link(linker: &mut Linker<Host>) -> anyhow::Result<()> {
    linker.allow_shadowing(true);
    fs::add_to_linker::<Host, FaultyFs>(linker, |host| {
        let (inner, extension) = host.filesystem_and_extension();
        // A run without a plan (or with another extension) is forwarded.
        let faults = extension.and_then(|ext| ext.clone().downcast::<Faults>().ok());
        FaultyView { inner, faults }
    })
    .map_err(anyhow::Error::from)?;
    linker.allow_shadowing(false);
    Ok(())
}

struct FaultyFs;

impl HasData for FaultyFs {
    type Data<'a> = FaultyView<'a>;
}

/// wasmtime-wasi's filesystem, and the plan of this run (none: forward only).
struct FaultyView<'a> {
    inner: WasiFilesystemCtxView<'a>,
    faults: Option<Arc<Faults>>,
}

impl FaultyView<'_> {
    fn enter(&self, call: &'static str, path: Option<&str>, writes: bool) -> FsResult<()> {
        match &self.faults {
            Some(faults) => faults.enter(call, path, writes).map_err(FsError::from),
            None => Ok(()),
        }
    }

    /// Puts `stream` behind a counting wrapper, under a new handle.
    fn wrap_output(
        &mut self,
        stream: Resource<DynOutputStream>,
    ) -> FsResult<Resource<DynOutputStream>> {
        let Some(faults) = self.faults.clone() else {
            return Ok(stream);
        };
        let inner = self.inner.table.delete(stream)?;
        let wrapped: DynOutputStream = Box::new(FaultyOutput { inner, faults });
        Ok(self.inner.table.push(wrapped)?)
    }

    fn wrap_input(
        &mut self,
        stream: Resource<DynInputStream>,
    ) -> FsResult<Resource<DynInputStream>> {
        let Some(faults) = self.faults.clone() else {
            return Ok(stream);
        };
        let inner = self.inner.table.delete(stream)?;
        let wrapped: DynInputStream = Box::new(FaultyInput { inner, faults });
        Ok(self.inner.table.push(wrapped)?)
    }
}

/// Opening for writing, creating or truncating changes the disk.
fn open_writes(oflags: fs::OpenFlags, flags: fs::DescriptorFlags) -> bool {
    oflags.intersects(fs::OpenFlags::CREATE | fs::OpenFlags::TRUNCATE)
        || flags.contains(fs::DescriptorFlags::WRITE)
}

impl fs::Host for FaultyView<'_> {
    fn convert_error_code(&mut self, err: FsError) -> wasmtime::Result<fs::ErrorCode> {
        fs::Host::convert_error_code(&mut self.inner, err)
    }

    fn filesystem_error_code(
        &mut self,
        err: Resource<streams::Error>,
    ) -> wasmtime::Result<Option<fs::ErrorCode>> {
        if let Some(injected) = self.inner.table.get(&err)?.downcast_ref::<InjectedError>() {
            return Ok(Some(injected.0.into()));
        }
        fs::Host::filesystem_error_code(&mut self.inner, err)
    }
}

/// Forwards one descriptor method after the injector let it through.
macro_rules! forward {
    ($self:ident, $name:literal, $writes:expr, $method:ident($($arg:expr),*)) => {{
        $self.enter($name, None, $writes)?;
        fs::HostDescriptor::$method(&mut $self.inner, $($arg),*)
    }};
    ($self:ident, $name:literal @ $path:expr, $writes:expr, $method:ident($($arg:expr),*)) => {{
        $self.enter($name, Some($path.as_str()), $writes)?;
        fs::HostDescriptor::$method(&mut $self.inner, $($arg),*)
    }};
}

impl fs::HostDescriptor for FaultyView<'_> {
    fn read_via_stream(
        &mut self,
        fd: Resource<fs::Descriptor>,
        offset: fs::Filesize,
    ) -> FsResult<Resource<streams::InputStream>> {
        let stream = forward!(self, "read-via-stream", false, read_via_stream(fd, offset))?;
        self.wrap_input(stream)
    }

    fn write_via_stream(
        &mut self,
        fd: Resource<fs::Descriptor>,
        offset: fs::Filesize,
    ) -> FsResult<Resource<streams::OutputStream>> {
        let stream = forward!(self, "write-via-stream", true, write_via_stream(fd, offset))?;
        self.wrap_output(stream)
    }

    fn append_via_stream(
        &mut self,
        fd: Resource<fs::Descriptor>,
    ) -> FsResult<Resource<streams::OutputStream>> {
        let stream = forward!(self, "append-via-stream", true, append_via_stream(fd))?;
        self.wrap_output(stream)
    }

    fn advise(
        &mut self,
        fd: Resource<fs::Descriptor>,
        offset: fs::Filesize,
        len: fs::Filesize,
        advice: fs::Advice,
    ) -> FsResult<()> {
        forward!(self, "advise", false, advise(fd, offset, len, advice))
    }

    fn sync_data(&mut self, fd: Resource<fs::Descriptor>) -> FsResult<()> {
        forward!(self, "sync-data", false, sync_data(fd))
    }

    fn get_flags(&mut self, fd: Resource<fs::Descriptor>) -> FsResult<fs::DescriptorFlags> {
        forward!(self, "get-flags", false, get_flags(fd))
    }

    fn get_type(&mut self, fd: Resource<fs::Descriptor>) -> FsResult<fs::DescriptorType> {
        forward!(self, "get-type", false, get_type(fd))
    }

    fn set_size(&mut self, fd: Resource<fs::Descriptor>, size: fs::Filesize) -> FsResult<()> {
        forward!(self, "set-size", true, set_size(fd, size))
    }

    fn set_times(
        &mut self,
        fd: Resource<fs::Descriptor>,
        atim: fs::NewTimestamp,
        mtim: fs::NewTimestamp,
    ) -> FsResult<()> {
        forward!(self, "set-times", true, set_times(fd, atim, mtim))
    }

    fn read(
        &mut self,
        fd: Resource<fs::Descriptor>,
        len: fs::Filesize,
        offset: fs::Filesize,
    ) -> FsResult<(Vec<u8>, bool)> {
        forward!(self, "read", false, read(fd, len, offset))
    }

    fn write(
        &mut self,
        fd: Resource<fs::Descriptor>,
        buf: Vec<u8>,
        offset: fs::Filesize,
    ) -> FsResult<fs::Filesize> {
        forward!(self, "write", true, write(fd, buf, offset))
    }

    fn read_directory(
        &mut self,
        fd: Resource<fs::Descriptor>,
    ) -> FsResult<Resource<fs::DirectoryEntryStream>> {
        forward!(self, "read-directory", false, read_directory(fd))
    }

    fn sync(&mut self, fd: Resource<fs::Descriptor>) -> FsResult<()> {
        forward!(self, "sync", false, sync(fd))
    }

    fn create_directory_at(&mut self, fd: Resource<fs::Descriptor>, path: String) -> FsResult<()> {
        forward!(
            self,
            "create-directory-at" @ path,
            true,
            create_directory_at(fd, path)
        )
    }

    fn stat(&mut self, fd: Resource<fs::Descriptor>) -> FsResult<fs::DescriptorStat> {
        forward!(self, "stat", false, stat(fd))
    }

    fn stat_at(
        &mut self,
        fd: Resource<fs::Descriptor>,
        path_flags: fs::PathFlags,
        path: String,
    ) -> FsResult<fs::DescriptorStat> {
        forward!(self, "stat-at" @ path, false, stat_at(fd, path_flags, path))
    }

    fn set_times_at(
        &mut self,
        fd: Resource<fs::Descriptor>,
        path_flags: fs::PathFlags,
        path: String,
        atim: fs::NewTimestamp,
        mtim: fs::NewTimestamp,
    ) -> FsResult<()> {
        forward!(
            self,
            "set-times-at" @ path,
            true,
            set_times_at(fd, path_flags, path, atim, mtim)
        )
    }

    fn link_at(
        &mut self,
        fd: Resource<fs::Descriptor>,
        old_path_flags: fs::PathFlags,
        old_path: String,
        new_descriptor: Resource<fs::Descriptor>,
        new_path: String,
    ) -> FsResult<()> {
        forward!(
            self,
            "link-at" @ new_path,
            true,
            link_at(fd, old_path_flags, old_path, new_descriptor, new_path)
        )
    }

    fn open_at(
        &mut self,
        fd: Resource<fs::Descriptor>,
        path_flags: fs::PathFlags,
        path: String,
        oflags: fs::OpenFlags,
        flags: fs::DescriptorFlags,
    ) -> FsResult<Resource<fs::Descriptor>> {
        forward!(
            self,
            "open-at" @ path,
            open_writes(oflags, flags),
            open_at(fd, path_flags, path, oflags, flags)
        )
    }

    fn drop(&mut self, fd: Resource<fs::Descriptor>) -> wasmtime::Result<()> {
        fs::HostDescriptor::drop(&mut self.inner, fd)
    }

    fn readlink_at(&mut self, fd: Resource<fs::Descriptor>, path: String) -> FsResult<String> {
        forward!(self, "readlink-at" @ path, false, readlink_at(fd, path))
    }

    fn remove_directory_at(&mut self, fd: Resource<fs::Descriptor>, path: String) -> FsResult<()> {
        forward!(
            self,
            "remove-directory-at" @ path,
            true,
            remove_directory_at(fd, path)
        )
    }

    fn rename_at(
        &mut self,
        fd: Resource<fs::Descriptor>,
        old_path: String,
        new_fd: Resource<fs::Descriptor>,
        new_path: String,
    ) -> FsResult<()> {
        forward!(
            self,
            "rename-at" @ new_path,
            true,
            rename_at(fd, old_path, new_fd, new_path)
        )
    }

    fn symlink_at(
        &mut self,
        fd: Resource<fs::Descriptor>,
        src_path: String,
        dest_path: String,
    ) -> FsResult<()> {
        forward!(
            self,
            "symlink-at" @ dest_path,
            true,
            symlink_at(fd, src_path, dest_path)
        )
    }

    fn unlink_file_at(&mut self, fd: Resource<fs::Descriptor>, path: String) -> FsResult<()> {
        forward!(self, "unlink-file-at" @ path, true, unlink_file_at(fd, path))
    }

    fn is_same_object(
        &mut self,
        a: Resource<fs::Descriptor>,
        b: Resource<fs::Descriptor>,
    ) -> wasmtime::Result<bool> {
        fs::HostDescriptor::is_same_object(&mut self.inner, a, b)
    }

    fn metadata_hash(&mut self, fd: Resource<fs::Descriptor>) -> FsResult<fs::MetadataHashValue> {
        forward!(self, "metadata-hash", false, metadata_hash(fd))
    }

    fn metadata_hash_at(
        &mut self,
        fd: Resource<fs::Descriptor>,
        path_flags: fs::PathFlags,
        path: String,
    ) -> FsResult<fs::MetadataHashValue> {
        forward!(
            self,
            "metadata-hash-at" @ path,
            false,
            metadata_hash_at(fd, path_flags, path)
        )
    }
}

impl fs::HostDirectoryEntryStream for FaultyView<'_> {
    fn read_directory_entry(
        &mut self,
        stream: Resource<fs::DirectoryEntryStream>,
    ) -> FsResult<Option<fs::DirectoryEntry>> {
        self.enter("read-directory-entry", None, false)?;
        fs::HostDirectoryEntryStream::read_directory_entry(&mut self.inner, stream)
    }

    fn drop(&mut self, stream: Resource<fs::DirectoryEntryStream>) -> wasmtime::Result<()> {
        fs::HostDirectoryEntryStream::drop(&mut self.inner, stream)
    }
}

/// A file's output stream whose writes and flushes are counted calls.
struct FaultyOutput {
    inner: DynOutputStream,
    faults: Arc<Faults>,
}

#[wasmtime_wasi::async_trait]
impl OutputStream for FaultyOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.faults.enter("output-stream.write", None, true)?;
        self.inner.write(bytes)
    }

    fn flush(&mut self) -> StreamResult<()> {
        self.faults.enter("output-stream.flush", None, true)?;
        self.inner.flush()
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        self.inner.check_write()
    }

    async fn blocking_write_and_flush(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.faults
            .enter("output-stream.blocking-write-and-flush", None, true)?;
        self.inner.blocking_write_and_flush(bytes).await
    }

    async fn cancel(&mut self) {
        self.inner.cancel().await
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for FaultyOutput {
    async fn ready(&mut self) {
        self.inner.ready().await
    }
}

/// A file's input stream whose reads are counted calls.
struct FaultyInput {
    inner: DynInputStream,
    faults: Arc<Faults>,
}

#[wasmtime_wasi::async_trait]
impl InputStream for FaultyInput {
    fn read(&mut self, size: usize) -> StreamResult<Bytes> {
        self.faults.enter("input-stream.read", None, false)?;
        self.inner.read(size)
    }

    async fn blocking_read(&mut self, size: usize) -> StreamResult<Bytes> {
        self.faults
            .enter("input-stream.blocking-read", None, false)?;
        self.inner.blocking_read(size).await
    }

    fn skip(&mut self, nelem: usize) -> StreamResult<usize> {
        self.faults.enter("input-stream.skip", None, false)?;
        self.inner.skip(nelem)
    }

    async fn blocking_skip(&mut self, nelem: usize) -> StreamResult<usize> {
        self.faults
            .enter("input-stream.blocking-skip", None, false)?;
        self.inner.blocking_skip(nelem).await
    }

    async fn cancel(&mut self) {
        self.inner.cancel().await
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for FaultyInput {
    async fn ready(&mut self) {
        self.inner.ready().await
    }
}
