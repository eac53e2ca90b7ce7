//! A store's state: WASI 0.2, `wasi:http`, and an optional per-run value
//! for code linked in on top of the stock interfaces.

use std::any::Any;
use std::sync::Arc;

use contree_auth::workspace::MACHINE_TRUST_VAR;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::filesystem::WasiFilesystemCtxView;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::outgoing::{Network, Sender};

/// A value a run carries for an interface linked over the stock one (the
/// tests' fault plan for their `wasi:filesystem/types`). The runtime
/// never looks inside: the code that linked the interface downcasts it.
pub type Extension = Arc<dyn Any + Send + Sync>;

/// A store's WASI and `wasi:http` state (the launcher, the tests and the
/// typed hosts all use it).
pub struct Host {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    /// `None` for every run of the launcher.
    extension: Option<Extension>,
    /// How the guest's requests travel (the launcher's sender).
    sender: Sender,
}

impl Host {
    /// A store whose requests use the network settings of an empty
    /// environment (the system's CAs, no proxy).
    pub fn new(wasi: WasiCtxBuilder) -> Host {
        Host::for_run(wasi, None, Arc::default())
    }

    /// The same, carrying `extension` for the run, its requests sent with
    /// `network`'s settings. The guest is told that its requests trust the
    /// machine's CAs ([`MACHINE_TRUST_VAR`]), as this sender does, so it
    /// words a TLS failure by it.
    pub fn for_run(
        mut wasi: WasiCtxBuilder,
        extension: Option<Extension>,
        network: Arc<Network>,
    ) -> Host {
        wasi.env(MACHINE_TRUST_VAR, "1");
        Host {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            extension,
            sender: Sender::new(network),
        }
    }

    /// The file system state and the run's extension, borrowed together
    /// (for a `wasi:filesystem/types` linked over the stock one).
    pub fn filesystem_and_extension(&mut self) -> (WasiFilesystemCtxView<'_>, Option<&Extension>) {
        let view = WasiFilesystemCtxView {
            ctx: self.wasi.filesystem(),
            table: &mut self.table,
        };
        (view, self.extension.as_ref())
    }
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for Host {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.sender,
        }
    }
}
