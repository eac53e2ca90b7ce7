//! On-disk cache of compiled components, so that a launch deserializes native
//! code instead of compiling the component again.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

const PREFIX: &str = "contree-auth-";
const SUFFIX: &str = ".cwasm";

/// How [`load_component`] got its component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheUse {
    /// Deserialized from the cache.
    Hit,
    /// Compiled, then stored in the cache.
    Stored,
    /// Compiled; no cache was given or it could not be written.
    Uncached,
}

/// Compiles `wasm` (binary or text), or loads the result of an earlier
/// compilation from `cache_dir`. Cache problems never fail the load: they only
/// cost a compilation.
pub fn load_component(
    engine: &Engine,
    wasm: &[u8],
    cache_dir: Option<&Path>,
) -> anyhow::Result<(Component, CacheUse)> {
    let Some(dir) = cache_dir else {
        return Ok((compile(engine, wasm)?, CacheUse::Uncached));
    };
    let path = entry_path(engine, wasm, dir);
    if is_trusted(&path) {
        // SAFETY: the file was written by `store` below, for this exact wasm,
        // wasmtime version and engine configuration (all part of its name),
        // and `is_trusted` checked that nobody else can have replaced it.
        // wasmtime still validates its header and engine compatibility.
        if let Ok(component) = unsafe { Component::deserialize_file(engine, &path) } {
            return Ok((component, CacheUse::Hit));
        }
    }
    let component = compile(engine, wasm)?;
    let used = match store(&component, dir, &path) {
        Ok(()) => CacheUse::Stored,
        Err(_) => CacheUse::Uncached,
    };
    Ok((component, used))
}

/// Where the compiled form of `wasm` is cached under `dir`.
pub fn entry_path(engine: &Engine, wasm: &[u8], dir: &Path) -> PathBuf {
    let mut hasher = ShaHasher(Sha256::new());
    hasher.0.update(wasm);
    hasher.0.update(crate::WASMTIME_VERSION.as_bytes());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let digest = hasher.0.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("{PREFIX}{hex}{SUFFIX}"))
}

fn compile(engine: &Engine, wasm: &[u8]) -> anyhow::Result<Component> {
    Component::new(engine, wasm)
        .map_err(anyhow::Error::from)
        .context("compiling the component")
}

fn store(component: &Component, dir: &Path, path: &Path) -> anyhow::Result<()> {
    let bytes = component.serialize().map_err(anyhow::Error::from)?;
    create_private_dir(dir)?;
    // Written aside then renamed: concurrent launches never see a partial file.
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .suffix(SUFFIX)
        .tempfile_in(dir)?;
    tmp.write_all(&bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)?;
    prune(dir, path);
    Ok(())
}

/// Removes entries of other versions, so upgrades don't pile up files.
fn prune(dir: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(PREFIX) && name.ends_with(SUFFIX) && entry.path() != keep {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Native code is only loaded from a file that we own and that nobody else can
/// write, in a directory nobody else can write.
#[cfg(unix)]
fn is_trusted(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let uid = rustix::process::geteuid().as_raw();
    let private = |p: &Path| {
        std::fs::symlink_metadata(p).is_ok_and(|m| m.uid() == uid && m.mode() & 0o022 == 0)
    };
    let dir_ok = path.parent().is_some_and(private);
    dir_ok && private(path) && path.is_file()
}

#[cfg(not(unix))]
fn is_trusted(path: &Path) -> bool {
    path.is_file()
}

/// Feeds `Hash` output into SHA-256, which unlike `DefaultHasher` is stable.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAT: &str = r#"(component (core module (func (export "f"))))"#;

    #[test]
    fn second_load_deserializes() {
        let engine = crate::runner::engine().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");

        let (_, first) = load_component(&engine, WAT.as_bytes(), Some(&cache)).unwrap();
        assert_eq!(first, CacheUse::Stored);
        let entry = entry_path(&engine, WAT.as_bytes(), &cache);
        assert!(entry.is_file());

        let (_, second) = load_component(&engine, WAT.as_bytes(), Some(&cache)).unwrap();
        assert_eq!(second, CacheUse::Hit);
        let files: Vec<_> = std::fs::read_dir(&cache).unwrap().collect();
        assert_eq!(files.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn new_wasm_replaces_old_entry_and_key_depends_on_bytes() {
        let engine = crate::runner::engine().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let other = r#"(component (core module (func (export "g"))))"#;
        assert_ne!(
            entry_path(&engine, WAT.as_bytes(), dir.path()),
            entry_path(&engine, other.as_bytes(), dir.path())
        );
        load_component(&engine, WAT.as_bytes(), Some(dir.path())).unwrap();
        load_component(&engine, other.as_bytes(), Some(dir.path())).unwrap();
        let entry = entry_path(&engine, other.as_bytes(), dir.path());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(names, vec![entry]);
    }

    #[test]
    fn corrupt_entry_is_recompiled() {
        let engine = crate::runner::engine().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let entry = entry_path(&engine, WAT.as_bytes(), dir.path());
        std::fs::write(&entry, b"not a cwasm").unwrap();
        let (_, used) = load_component(&engine, WAT.as_bytes(), Some(dir.path())).unwrap();
        assert_eq!(used, CacheUse::Stored);
        let (_, used) = load_component(&engine, WAT.as_bytes(), Some(dir.path())).unwrap();
        assert_eq!(used, CacheUse::Hit);
    }

    #[test]
    fn unwritable_cache_falls_back_to_compiling() {
        let engine = crate::runner::engine().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, b"").unwrap();
        // A cache "directory" below a regular file cannot be created.
        let (_, used) = load_component(&engine, WAT.as_bytes(), Some(&file.join("cache"))).unwrap();
        assert_eq!(used, CacheUse::Uncached);
    }

    #[cfg(unix)]
    #[test]
    fn group_writable_entry_is_not_loaded() {
        use std::os::unix::fs::PermissionsExt;
        let engine = crate::runner::engine().unwrap();
        let dir = tempfile::tempdir().unwrap();
        load_component(&engine, WAT.as_bytes(), Some(dir.path())).unwrap();
        let entry = entry_path(&engine, WAT.as_bytes(), dir.path());
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(!is_trusted(&entry));
        let (_, used) = load_component(&engine, WAT.as_bytes(), Some(dir.path())).unwrap();
        assert_eq!(used, CacheUse::Stored);
    }
}
