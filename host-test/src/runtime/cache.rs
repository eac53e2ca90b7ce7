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
    if let Some(bytes) = read_trusted(&path) {
        // SAFETY: the bytes were written by `store` below, for this exact
        // wasm, wasmtime version and engine configuration (all part of the
        // file's name), and `read_trusted` read them from one open regular
        // file that only we can have written. wasmtime still validates the
        // header and engine compatibility.
        if let Ok(component) = unsafe { Component::deserialize(engine, &bytes) } {
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

/// The bytes of a cache entry, if it is safe to load native code from it:
/// the directory and the file are each opened once without following a link
/// (`O_NOFOLLOW`, the file relative to the open directory), and owner, mode
/// and type are checked on what was opened (`fstat`), never on a path that
/// could be swapped in between. The directory and the file must be ours and
/// writable by nobody else, the file a regular one (`O_NONBLOCK`: a FIFO put
/// there cannot hang the open).
#[cfg(unix)]
pub fn read_trusted(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read;

    use rustix::fs::{FileType, Mode, OFlags};

    let (dir, name) = (path.parent()?, path.file_name()?);
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let dir = rustix::fs::open(dir, flags | OFlags::DIRECTORY, Mode::empty()).ok()?;
    let uid = rustix::process::geteuid().as_raw();
    let private = |stat: &rustix::fs::Stat| stat.st_uid == uid && stat.st_mode & 0o022 == 0;
    if !private(&rustix::fs::fstat(&dir).ok()?) {
        return None;
    }
    let file = rustix::fs::openat(&dir, name, flags | OFlags::NONBLOCK, Mode::empty()).ok()?;
    let stat = rustix::fs::fstat(&file).ok()?;
    if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile || !private(&stat) {
        return None;
    }
    let mut bytes = Vec::with_capacity(usize::try_from(stat.st_size).unwrap_or(0));
    std::fs::File::from(file).read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

#[cfg(not(unix))]
pub fn read_trusted(path: &Path) -> Option<Vec<u8>> {
    std::fs::read(path).ok()
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

    /// `(component (core module (func (export "NAME"))))` in the binary
    /// format, for a one-letter NAME (what `wasm-tools parse` writes). Binary,
    /// so the test build needs no `wat` feature of wasmtime: the launcher has
    /// none, and `cargo run` after `cargo test` then finds every dependency
    /// compiled with the same features (issue 18).
    fn component_exporting(name: u8) -> Vec<u8> {
        let mut bytes = b"\0asm\x0d\0\x01\0".to_vec(); // component, layer 1
        bytes.extend([0x01, 0x1f]); // a core module section of 31 bytes
        bytes.extend(b"\0asm\x01\0\0\0"); // core module, version 1
        bytes.extend([0x01, 0x04, 0x01, 0x60, 0x00, 0x00]); // type: func () -> ()
        bytes.extend([0x03, 0x02, 0x01, 0x00]); // function 0 of type 0
        bytes.extend([0x07, 0x05, 0x01, 0x01, name, 0x00, 0x00]); // export NAME = func 0
        bytes.extend([0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b]); // its body: end
        bytes
    }

    /// The component most tests cache.
    fn wasm() -> Vec<u8> {
        component_exporting(b'f')
    }

    #[test]
    fn second_load_deserializes() {
        let engine = crate::runtime::engine().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");

        let (_, first) = load_component(&engine, &wasm(), Some(&cache)).unwrap();
        assert_eq!(first, CacheUse::Stored);
        let entry = entry_path(&engine, &wasm(), &cache);
        assert!(entry.is_file());

        let (_, second) = load_component(&engine, &wasm(), Some(&cache)).unwrap();
        assert_eq!(second, CacheUse::Hit);
        let files: Vec<_> = std::fs::read_dir(&cache).unwrap().collect();
        assert_eq!(files.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn new_wasm_replaces_old_entry_and_key_depends_on_bytes() {
        let engine = crate::runtime::engine().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let other = component_exporting(b'g');
        assert_ne!(
            entry_path(&engine, &wasm(), dir.path()),
            entry_path(&engine, &other, dir.path())
        );
        load_component(&engine, &wasm(), Some(dir.path())).unwrap();
        load_component(&engine, &other, Some(dir.path())).unwrap();
        let entry = entry_path(&engine, &other, dir.path());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(names, vec![entry]);
    }

    #[test]
    fn corrupt_entry_is_recompiled() {
        let engine = crate::runtime::engine().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let entry = entry_path(&engine, &wasm(), dir.path());
        std::fs::write(&entry, b"not a cwasm").unwrap();
        let (_, used) = load_component(&engine, &wasm(), Some(dir.path())).unwrap();
        assert_eq!(used, CacheUse::Stored);
        let (_, used) = load_component(&engine, &wasm(), Some(dir.path())).unwrap();
        assert_eq!(used, CacheUse::Hit);
    }

    #[test]
    fn unwritable_cache_falls_back_to_compiling() {
        let engine = crate::runtime::engine().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, b"").unwrap();
        // A cache "directory" below a regular file cannot be created.
        let (_, used) = load_component(&engine, &wasm(), Some(&file.join("cache"))).unwrap();
        assert_eq!(used, CacheUse::Uncached);
    }

    #[cfg(unix)]
    #[test]
    fn group_writable_entry_is_not_loaded() {
        use std::os::unix::fs::PermissionsExt;
        let engine = crate::runtime::engine().unwrap();
        let dir = tempfile::tempdir().unwrap();
        load_component(&engine, &wasm(), Some(dir.path())).unwrap();
        let entry = entry_path(&engine, &wasm(), dir.path());
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(read_trusted(&entry).is_none());
        let (_, used) = load_component(&engine, &wasm(), Some(dir.path())).unwrap();
        assert_eq!(used, CacheUse::Stored);
    }

    /// A planted link to a compiled component elsewhere is never loaded,
    /// whether the entry or the cache directory is the link.
    #[cfg(unix)]
    #[test]
    fn cache_entry_or_directory_behind_a_link_is_not_loaded() {
        let engine = crate::runtime::engine().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        load_component(&engine, &wasm(), Some(&real)).unwrap();
        let real_entry = entry_path(&engine, &wasm(), &real);
        assert!(read_trusted(&real_entry).is_some());

        let linked_dir = dir.path().join("linked-dir");
        std::os::unix::fs::symlink(&real, &linked_dir).unwrap();
        let via_dir = entry_path(&engine, &wasm(), &linked_dir);
        assert!(via_dir.is_file(), "the path itself resolves");
        assert!(read_trusted(&via_dir).is_none());

        let linking = dir.path().join("linking");
        std::fs::create_dir(&linking).unwrap();
        let via_file = entry_path(&engine, &wasm(), &linking);
        std::os::unix::fs::symlink(&real_entry, &via_file).unwrap();
        assert!(read_trusted(&via_file).is_none());
        let (_, used) = load_component(&engine, &wasm(), Some(&linking)).unwrap();
        assert_eq!(used, CacheUse::Stored, "compiled again, the link replaced");
        assert!(!via_file.is_symlink());
    }

    /// A FIFO where the entry should be neither hangs the launch nor loads.
    #[cfg(unix)]
    #[test]
    fn a_fifo_as_cache_entry_does_not_hang() {
        let engine = crate::runtime::engine().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let entry = entry_path(&engine, &wasm(), dir.path());
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &entry,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        assert!(read_trusted(&entry).is_none());
    }
}
