//! Everything that touches the config directory: locating it, the
//! configparser codec, the profile model and the locked, atomic store.

pub mod env;
pub mod ini;
pub mod profile;
pub mod store;
pub mod variables;
