//! Typed calls of the component's `contree:auth/profiles` export, as an
//! embedding host makes them (`wasmtime::component::bindgen!` over `wit/`).

use wasmtime::Store;

use crate::runner::Host;

wasmtime::component::bindgen!({
    path: "../wit",
    world: "contree-auth",
});

pub use exports::contree::auth::profiles::{
    AuthError, AuthType, Listing, ProbeStatus, Profile, ProfileStatus, Removal, SaveOutcome,
    SaveRequest, WhoamiInfo,
};

/// One instance and its store. Each method is one export call; the outer
/// `Result` is a trap, the inner one the function's `result<_, auth-error>`.
pub struct Typed {
    pub(crate) store: Store<Host>,
    pub(crate) bindings: ContreeAuth,
}

impl Typed {
    pub fn list_profiles(&mut self, offline: bool) -> wasmtime::Result<Result<Listing, AuthError>> {
        self.bindings
            .contree_auth_profiles()
            .call_list_profiles(&mut self.store, offline)
    }

    pub fn save_profile(
        &mut self,
        request: &SaveRequest,
    ) -> wasmtime::Result<Result<SaveOutcome, AuthError>> {
        self.bindings
            .contree_auth_profiles()
            .call_save_profile(&mut self.store, request)
    }

    pub fn switch_profile(&mut self, name: &str) -> wasmtime::Result<Result<(), AuthError>> {
        self.bindings
            .contree_auth_profiles()
            .call_switch_profile(&mut self.store, name)
    }

    pub fn remove_profile(&mut self, name: &str) -> wasmtime::Result<Result<Removal, AuthError>> {
        self.bindings
            .contree_auth_profiles()
            .call_remove_profile(&mut self.store, name)
    }

    pub fn whoami(
        &mut self,
        name: Option<&str>,
    ) -> wasmtime::Result<Result<WhoamiInfo, AuthError>> {
        self.bindings
            .contree_auth_profiles()
            .call_whoami(&mut self.store, name)
    }
}
