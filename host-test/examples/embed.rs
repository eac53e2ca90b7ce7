//! docs/embedding.md's Rust example, compiled with the workspace
//! (`cargo clippy --all-targets` builds it), so that the text stays true.
//!
//!     cargo run -p contree-host --example embed -- COMPONENT.wasm CONFIG_HOME
//!
//! Lists the profiles in CONFIG_HOME without probing the API. Either build
//! works: both implement the `tool` world of `wit/`.

use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

// In your own crate: `path: "wit"` (a copy of this repository's `wit/`).
wasmtime::component::bindgen!({
    path: "../wit",
    world: "contree:auth/tool@0.3.0",
    // The WASI imports are wasmtime-wasi's: generate nothing for them.
    with: {
        "wasi:cli": wasmtime_wasi::p2::bindings::sync::cli,
        "wasi:clocks": wasmtime_wasi::p2::bindings::sync::clocks,
        "wasi:filesystem": wasmtime_wasi::p2::bindings::sync::filesystem,
        "wasi:io": wasmtime_wasi::p2::bindings::sync::io,
        "wasi:random": wasmtime_wasi::p2::bindings::sync::random,
        "wasi:http": wasmtime_wasi_http::p2::bindings::sync::http,
    },
});

// The world defines its types (`AuthError`, `Listing`, ...) and exports its
// functions itself: bindgen puts both here, beside `Tool`.

struct Host {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
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
            hooks: Default::default(),
        }
    }
}

fn main() -> wasmtime::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(wasm), Some(home)) = (args.next(), args.next()) else {
        eprintln!("usage: embed COMPONENT.wasm CONFIG_HOME");
        std::process::exit(2);
    };

    let engine = Engine::default();
    let component = Component::from_file(&engine, &wasm)?;
    let mut linker = Linker::<Host>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker)?;
    // WASI cannot set file modes: the files the component writes get this
    // process's umask. Keep them private, and say so, or every write warns
    // (on stderr, passed on) that auth.ini may be readable by others.
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let wasi = WasiCtxBuilder::new()
        .env("CONTREE_HOME", &home)
        .env("CONTREE_PRIVATE_FILES", "1")
        .inherit_stderr()
        .preopened_dir(&home, &home, FsPerms::ReadWrite)?
        .build();
    let host = Host {
        wasi,
        http: WasiHttpCtx::new(),
        table: ResourceTable::new(),
    };
    let mut store = Store::new(&engine, host);
    let auth = Tool::instantiate(&mut store, &component, &linker)?;

    match auth.call_list_profiles(&mut store, /* offline */ true)? {
        Ok(listing) => {
            for entry in listing.profiles {
                let p = entry.profile;
                let project = p.project.as_deref().unwrap_or("-");
                println!(
                    "{} {:?} {} {project} {:?}",
                    p.name, p.auth_type, p.url, entry.status
                );
            }
            if let Some(missing) = listing.missing_active {
                eprintln!("the active profile {missing:?} does not exist");
            }
        }
        Err(AuthError::ConfigParse(e)) => match e.line {
            Some(line) => eprintln!("{}: line {line}: {}", e.path, e.message),
            None => eprintln!("{}: {}", e.path, e.message),
        },
        Err(other) => eprintln!("{other:?}"),
    }
    Ok(())
}
