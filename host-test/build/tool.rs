//! The tool-shaped guest: the same crate without its default `command`
//! feature, so the component is the `tool` world of `wit/` (typed functions,
//! no `wasi:cli/run`, no `wasi:cli/exit.exit-with-code`). Built into a target
//! dir of its own (a cdylib's output name carries no feature hash, so the two
//! builds would overwrite each other) and handed over with the WIT docs
//! appended as a `package-docs` custom section (see `package_docs` below),
//! as the command build is (`documented`).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Child;

use super::{GUEST_PACKAGE, GUEST_PROFILE, GUEST_TARGET, fail, guest_cargo, guest_wasm};

/// The world of `wit/` the tool build implements; its docs are embedded.
const TOOL_WORLD: &str = "tool";

pub struct ToolBuild {
    child: Child,
    target_dir: PathBuf,
    log: PathBuf,
}

/// Starts the tool build; its output goes to a log file, so that it cannot
/// block on a full pipe while the command build runs.
pub fn spawn(workspace: &Path, out_dir: &Path) -> ToolBuild {
    let target_dir = workspace.join("target").join("guest");
    let log = out_dir.join("guest-tool-build.log");
    let (out, err) = match File::create(&log).and_then(|f| Ok((f.try_clone()?, f))) {
        Ok(files) => files,
        Err(e) => fail(&format!("cannot create {}: {e}", log.display())),
    };
    let mut cmd = guest_cargo(workspace, &target_dir);
    cmd.arg("--no-default-features").stdout(out).stderr(err);
    match cmd.spawn() {
        Ok(child) => ToolBuild {
            child,
            target_dir,
            log,
        },
        Err(e) => fail(&format!("could not run cargo to build the tool guest: {e}")),
    }
}

/// Waits for the tool build and writes `contree_auth_tool.wasm` beside it:
/// the built component with the docs of the `tool` world appended.
pub fn finish(mut build: ToolBuild, workspace: &Path) -> PathBuf {
    let status = match build.child.wait() {
        Ok(status) => status,
        Err(e) => fail(&format!("waiting for the tool guest build: {e}")),
    };
    if !status.success() {
        eprintln!(
            "{}",
            std::fs::read_to_string(&build.log).unwrap_or_default()
        );
        fail(&format!(
            "building the tool guest component failed ({status}): cargo build --profile {GUEST_PROFILE} \
             --locked --target {GUEST_TARGET} --package {GUEST_PACKAGE} --no-default-features \
             --target-dir {}",
            build.target_dir.display()
        ));
    }
    let built = guest_wasm(&build.target_dir);
    let out_dir = workspace.join("target").join("guest-tool");
    if let Err(e) = std::fs::create_dir_all(&out_dir) {
        fail(&format!("cannot create {}: {e}", out_dir.display()));
    }
    let out = out_dir.join(format!("{}_tool.wasm", GUEST_PACKAGE.replace('-', "_")));
    documented(&built, &out, workspace, TOOL_WORLD);
    out
}

/// Writes `built` to `out` with the docs of `world` (in `wit/`) appended as a
/// `package-docs` custom section, which may follow a component's last section.
pub fn documented(built: &Path, out: &Path, workspace: &Path, world: &str) {
    let mut wasm = match std::fs::read(built) {
        Ok(bytes) => bytes,
        Err(e) => fail(&format!("reading {}: {e}", built.display())),
    };
    let section = match package_docs::custom_section(&workspace.join("wit"), world) {
        Ok(section) => section,
        Err(e) => fail(&format!("reading the WIT docs of world `{world}`: {e}")),
    };
    wasm.extend_from_slice(&section);
    if let Err(e) = std::fs::write(out, wasm) {
        fail(&format!("writing {}: {e}", out.display()));
    }
}

/// The `package-docs` custom section, as `wit-parser` decodes it from a
/// component (and Wassette reads it): a version byte, then JSON.
///
/// A component's WIT, as `wasm-tools component wit` prints it, is package
/// `root:component` with one world `root` that imports and exports other
/// packages' interfaces. Docs for names that package lacks (our `tool` world,
/// the functions of `contree:auth/profiles`) make the decoder fail, so the
/// section carries what that shape can hold: the package docs, the world
/// docs, and, on the `contree:auth/profiles` export, the interface docs
/// followed by each function's docs.
mod package_docs {
    use std::path::Path;

    use serde_json::json;
    use wit_parser::{Resolve, WorldItem};

    const SECTION_NAME: &str = "package-docs";
    const FORMAT_VERSION: u8 = 1;

    pub fn custom_section(wit_dir: &Path, world_name: &str) -> Result<Vec<u8>, String> {
        let mut resolve = Resolve::default();
        let (package_id, _) = resolve.push_dir(wit_dir).map_err(|e| format!("{e:#}"))?;
        let package = &resolve.packages[package_id];
        let world_id = *package
            .worlds
            .get(world_name)
            .ok_or_else(|| format!("no world `{world_name}` in {}", wit_dir.display()))?;
        let world = &resolve.worlds[world_id];

        let mut export_docs = serde_json::Map::new();
        for (key, item) in &world.exports {
            let WorldItem::Interface { id, .. } = item else {
                continue;
            };
            let interface = &resolve.interfaces[*id];
            let mut text = interface.docs.contents.clone().unwrap_or_default();
            for (name, function) in &interface.functions {
                let docs = function.docs.contents.as_deref().unwrap_or("");
                text.push_str(&format!("\n\n`{name}`: {docs}"));
            }
            export_docs.insert(resolve.name_world_key(key), json!(text.trim()));
        }

        let mut root = serde_json::Map::new();
        if let Some(docs) = &world.docs.contents {
            root.insert("docs".into(), json!(docs));
        }
        if !export_docs.is_empty() {
            root.insert("interface_export_docs".into(), export_docs.into());
        }
        let mut metadata = serde_json::Map::new();
        if let Some(docs) = &package.docs.contents {
            metadata.insert("docs".into(), json!(docs));
        }
        metadata.insert("worlds".into(), json!({ "root": root }));

        let mut payload = vec![FORMAT_VERSION];
        payload.extend(serde_json::to_vec(&metadata).map_err(|e| e.to_string())?);
        let mut body = leb128(SECTION_NAME.len());
        body.extend_from_slice(SECTION_NAME.as_bytes());
        body.extend(payload);
        let mut section = vec![0u8]; // custom section id
        section.extend(leb128(body.len()));
        section.extend(body);
        Ok(section)
    }

    fn leb128(mut n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return out;
            }
            out.push(byte | 0x80);
        }
    }
}
