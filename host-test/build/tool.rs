//! The tool-shaped guest: the same crate without its default `command`
//! feature, so the component is the `tool` world of `wit/` (typed functions,
//! no `wasi:cli/run`, no `wasi:cli/exit.exit-with-code`). Built into the
//! command build's target dir, so the guest's dependencies compile once, after
//! the command build has been copied out (a cdylib's output name carries no
//! feature hash: the second build overwrites the first), and handed over with
//! the WIT docs appended as a `package-docs` custom section (see
//! `package_docs` below), as the command build is (`documented`).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Child;

use super::guest::{GUEST_PACKAGE, GUEST_PROFILE, GUEST_TARGET, fail, guest_cargo, guest_wasm};

/// The world of `wit/` the command build implements; its docs are embedded.
pub const COMMAND_WORLD: &str = "command";
/// The world of `wit/` the tool build implements; its docs are embedded.
pub const TOOL_WORLD: &str = "tool";
/// The file name of the documented tool build.
pub const TOOL_FILE: &str = "contree_auth_tool.wasm";

struct ToolBuild {
    child: Child,
    target_dir: PathBuf,
    log: PathBuf,
}

/// Builds the command guest of `workspace` into `target_dir` and writes it,
/// documented, to `command_out`; then, when `tool_out` is given, the tool
/// guest likewise (its cargo output goes to `log`).
pub fn documented_builds(
    workspace: &Path,
    target_dir: &Path,
    command_out: &Path,
    tool_out: Option<&Path>,
    log: &Path,
) {
    let built = super::guest::build_command(workspace, target_dir);
    documented(&built, command_out, workspace, COMMAND_WORLD);
    if let Some(tool_out) = tool_out {
        finish(spawn(workspace, target_dir, log), workspace, tool_out);
    }
}

/// Starts the tool build into `target_dir`; its output goes to `log`, so
/// that it cannot block on a full pipe while the command build runs.
fn spawn(workspace: &Path, target_dir: &Path, log: &Path) -> ToolBuild {
    let (out, err) = match File::create(log).and_then(|f| Ok((f.try_clone()?, f))) {
        Ok(files) => files,
        Err(e) => fail(&format!("cannot create {}: {e}", log.display())),
    };
    let mut cmd = guest_cargo(workspace, target_dir);
    cmd.arg("--no-default-features").stdout(out).stderr(err);
    match cmd.spawn() {
        Ok(child) => ToolBuild {
            child,
            target_dir: target_dir.to_path_buf(),
            log: log.to_path_buf(),
        },
        Err(e) => fail(&format!("could not run cargo to build the tool guest: {e}")),
    }
}

/// Waits for the tool build and writes it to `out` (its folder made if
/// needed): the built component with the docs of the `tool` world appended.
fn finish(mut build: ToolBuild, workspace: &Path, out: &Path) {
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
    if let Some(dir) = out.parent()
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        fail(&format!("cannot create {}: {e}", dir.display()));
    }
    documented(&built, out, workspace, TOOL_WORLD);
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
/// packages' interfaces. Our worlds export their functions and define their
/// types themselves, so the component's `root` world has the same function
/// and type names as ours: the section carries the package docs and our
/// world's docs, functions' docs (`func_exports`, which Wassette turns into
/// tool descriptions) and types' docs (with their fields and cases) under
/// `root`, the layout of wit-parser's `PackageMetadata`.
mod package_docs {
    use std::path::Path;

    use serde_json::{Map, Value, json};
    use wit_parser::{Docs, Resolve, TypeDefKind, WorldItem};

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

        let mut func_exports = Map::new();
        for (key, item) in &world.exports {
            if let WorldItem::Function(function) = item
                && let Some(docs) = &function.docs.contents
            {
                func_exports.insert(resolve.name_world_key(key), json!({ "docs": docs }));
            }
        }
        if func_exports.is_empty() {
            return Err(format!(
                "world `{world_name}` exports no documented function"
            ));
        }
        let mut types = Map::new();
        for (key, item) in &world.imports {
            if let WorldItem::Type { id, .. } = item {
                let ty = &resolve.types[*id];
                let items = type_items(&ty.kind);
                let mut entry = Map::new();
                if let Some(docs) = &ty.docs.contents {
                    entry.insert("docs".into(), json!(docs));
                }
                if !items.is_empty() {
                    entry.insert("items".into(), items.into());
                }
                if !entry.is_empty() {
                    types.insert(resolve.name_world_key(key), entry.into());
                }
            }
        }

        let mut root = Map::new();
        if let Some(docs) = &world.docs.contents {
            root.insert("docs".into(), json!(docs));
        }
        if !types.is_empty() {
            root.insert("types".into(), types.into());
        }
        root.insert("func_exports".into(), func_exports.into());
        let mut metadata = Map::new();
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

    /// The docs of a record's fields, or a variant's, enum's or flags' cases.
    fn type_items(kind: &TypeDefKind) -> Map<String, Value> {
        let named: Vec<(&String, &Docs)> = match kind {
            TypeDefKind::Record(r) => r.fields.iter().map(|f| (&f.name, &f.docs)).collect(),
            TypeDefKind::Variant(v) => v.cases.iter().map(|c| (&c.name, &c.docs)).collect(),
            TypeDefKind::Enum(e) => e.cases.iter().map(|c| (&c.name, &c.docs)).collect(),
            TypeDefKind::Flags(f) => f.flags.iter().map(|f| (&f.name, &f.docs)).collect(),
            _ => Vec::new(),
        };
        named
            .into_iter()
            .filter_map(|(name, docs)| Some((name.clone(), json!(docs.contents.as_ref()?))))
            .collect()
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
