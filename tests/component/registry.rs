//! Issue 26 items 3-4: both components published as Wasm OCI artifacts (the
//! CNCF TAG Runtime layout `wkg oci push` and `oci-wasm` write: a config of
//! media type `application/vnd.wasm.config.v0+json`, one `application/wasm`
//! layer, the `org.opencontainers.image.*` annotations) to a real registry
//! on loopback (Debian's `docker-registry`, TLS with a CA made here), then
//! pulled by digest with the ecosystem's OCI client, run under the stock
//! `wasmtime` CLI, and loaded by Wassette 0.8.0 from `oci://`; a registry
//! that serves other bytes than it was sent is refused by both.
//!
//! The config is built here as `oci-wasm` documents it (`WasmConfig`:
//! created, author, architecture `wasm`, os `wasip2`, layerDigests, and the
//! component's world's exports and imports), from the component's own WIT
//! with the wit-parser the tree already builds. `oci-wasm` itself is not
//! used: it reads the world back out of the binary with wit-component
//! 0.253, a second wit-parser/wit-component beside ours (minutes of a cold
//! build for a JSON file), and stamps `created` with the current time, so
//! two pushes of the same bytes would differ; here `created` is the commit's
//! time, and the artifact is as reproducible as the component.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use contree_host::harness::registry::{self, Registry};
use contree_host::harness::support::TYPED_FUNCTIONS;
use contree_host::harness::{component_path, tool_component_path};
use contree_host::{MockApi, Sandbox};
use oci_client::client::{
    Certificate, CertificateEncoding, ClientConfig, ClientProtocol, Config, ImageData, ImageLayer,
};
use oci_client::manifest::OciImageManifest;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use wit_parser::{Resolve, WorldItem, WorldKey};

use crate::common::{check, json_rows, save};
use crate::wassette::Rig;

const CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
const LAYER_MEDIA_TYPE: &str = "application/wasm";
/// What a pull accepts as a layer: a Wasm artifact, nothing else.
const ACCEPTED_LAYERS: [&str; 1] = [LAYER_MEDIA_TYPE];
/// The repository names of the release workflow (`ghcr.io/OWNER/NAME`).
const COMMAND_REPOSITORY: &str = "contree/contree-auth";
const TOOL_REPOSITORY: &str = "contree/contree-auth-tool";
const SOURCE: &str = "https://github.com/OWNER/contree-auth";

/// One of the two components, as the release publishes it.
struct Artifact {
    repository: &'static str,
    wasm: &'static Path,
    /// The WIT world it is built from (`wit/contree-auth.wit`).
    world: &'static str,
    description: String,
}

fn artifacts() -> [Artifact; 2] {
    let description = workspace_description();
    [
        Artifact {
            repository: COMMAND_REPOSITORY,
            wasm: component_path(),
            world: "command",
            description: description.clone(),
        },
        Artifact {
            repository: TOOL_REPOSITORY,
            wasm: tool_component_path(),
            world: "tool",
            description: format!("{description} (tool build, for Wassette)"),
        },
    ]
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host-test lives in the workspace")
        .to_path_buf()
}

/// `description` of the top-level package, as the release workflow's.
fn workspace_description() -> String {
    let manifest = std::fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap();
    manifest
        .lines()
        .find_map(|line| line.strip_prefix("description = "))
        .map(|value| value.trim_matches('"').to_string())
        .expect("a description in Cargo.toml")
}

/// `git ARGS` in the checkout, trimmed; `None` outside a git checkout.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(workspace_root())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The commit built, and its time (RFC 3339), which the config carries as
/// `created` so that the same commit gives the same artifact.
fn revision() -> (String, String) {
    match (
        git(&["rev-parse", "HEAD"]),
        git(&["log", "-1", "--format=%cI"]),
    ) {
        (Some(commit), Some(time)) => (commit, time),
        _ => ("unknown".into(), "1970-01-01T00:00:00Z".into()),
    }
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// The `application/vnd.wasm.config.v0+json` document of `oci-wasm`'s
/// `WasmConfig` for a component of `world`: its exports and imports named as
/// wit-parser names them (`wasi:cli/run@0.2.x`, `list-profiles`), types left
/// out (they are no import of a component).
fn wasm_config(wasm: &[u8], world: &str, created: &str) -> Value {
    let mut resolve = Resolve::default();
    let (package, _) = resolve
        .push_dir(workspace_root().join("wit"))
        .expect("wit/ parses");
    let world_id = resolve.packages[package].worlds[world];
    let world = &resolve.worlds[world_id];
    let names = |items: Vec<(&WorldKey, &WorldItem)>| -> Vec<String> {
        items
            .into_iter()
            .filter(|(_, item)| !matches!(item, WorldItem::Type { .. }))
            .map(|(key, _)| resolve.name_world_key(key))
            .collect()
    };
    json!({
        "created": created,
        "author": null,
        "architecture": "wasm",
        "os": "wasip2",
        "layerDigests": [sha256(wasm)],
        "component": {
            "exports": names(world.exports.iter().collect()),
            "imports": names(world.imports.iter().collect()),
            "target": null,
        },
    })
}

/// A CA made for this test and the registry's certificate for 127.0.0.1,
/// signed by it: `(ca.pem, cert.pem, key.pem)`.
fn test_ca() -> (String, String, String) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "contree test registry CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    // An IP address SAN: the references name the registry 127.0.0.1:PORT.
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    (ca_cert.pem(), leaf.pem(), leaf_key.serialize_pem())
}

/// The OCI client over HTTPS, trusting the test CA (rustls on ring: the
/// provider the rest of the tree builds).
fn client(ca_pem: &str) -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = ClientConfig {
        protocol: ClientProtocol::Https,
        extra_root_certificates: vec![Certificate {
            encoding: CertificateEncoding::Pem,
            data: ca_pem.as_bytes().to_vec(),
        }],
        ..ClientConfig::default()
    };
    Client::try_from(config).expect("an OCI client")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Pushes `artifact` as `REGISTRY/REPOSITORY:VERSION`; the manifest's digest.
async fn push(client: &Client, registry: &str, artifact: &Artifact) -> String {
    let wasm = std::fs::read(artifact.wasm).unwrap();
    let (commit, created) = revision();
    let version = env!("CARGO_PKG_VERSION");
    let config = wasm_config(&wasm, artifact.world, &created);
    let config = Config::new(
        serde_json::to_vec(&config).unwrap(),
        CONFIG_MEDIA_TYPE.to_string(),
        None,
    );
    let layer = ImageLayer::new(wasm, LAYER_MEDIA_TYPE.to_string(), None);
    let annotations: BTreeMap<String, String> = [
        ("source", SOURCE.to_string()),
        ("revision", commit),
        ("version", version.to_string()),
        ("description", artifact.description.clone()),
        ("licenses", env!("CARGO_PKG_LICENSE").to_string()),
    ]
    .into_iter()
    .map(|(key, value)| (format!("org.opencontainers.image.{key}"), value))
    .collect();
    let manifest =
        OciImageManifest::build(std::slice::from_ref(&layer), &config, Some(annotations));
    let reference = Reference::with_tag(
        registry.to_string(),
        artifact.repository.to_string(),
        version.to_string(),
    );
    let anonymous = RegistryAuth::Anonymous;
    client
        .push(&reference, &[layer], config, &anonymous, Some(manifest))
        .await
        .unwrap_or_else(|e| panic!("pushing {}: {e:#}", reference.whole()));
    let (_, digest) = client
        .pull_image_manifest(&reference, &anonymous)
        .await
        .unwrap_or_else(|e| panic!("reading back {}: {e:#}", reference.whole()));
    digest
}

async fn refused_pull(
    client: &Client,
    reference: &Reference,
) -> oci_client::errors::OciDistributionError {
    match client
        .pull(
            reference,
            &RegistryAuth::Anonymous,
            ACCEPTED_LAYERS.to_vec(),
        )
        .await
    {
        Ok(_) => panic!("{} was pulled", reference.whole()),
        Err(e) => e,
    }
}

async fn pull_ok(client: &Client, reference: &Reference) -> ImageData {
    client
        .pull(
            reference,
            &RegistryAuth::Anonymous,
            ACCEPTED_LAYERS.to_vec(),
        )
        .await
        .unwrap_or_else(|e| panic!("pulling {}: {e:#}", reference.whole()))
}

/// The pulled artifact is in the Wasm OCI layout, annotated, and its one
/// layer is `wasm` byte for byte.
fn check_layout(image: &ImageData, artifact: &Artifact, wasm: &[u8]) {
    let name = artifact.repository;
    let manifest = image.manifest.as_ref().expect("a manifest");
    assert_eq!(manifest.config.media_type, CONFIG_MEDIA_TYPE, "{name}");
    assert_eq!(image.config.media_type, CONFIG_MEDIA_TYPE, "{name}");
    assert_eq!(manifest.layers.len(), 1, "{name}: one layer");
    assert_eq!(manifest.layers[0].media_type, LAYER_MEDIA_TYPE, "{name}");
    assert_eq!(manifest.layers[0].digest, sha256(wasm), "{name}");
    assert_eq!(image.layers.len(), 1, "{name}");
    assert!(
        image.layers[0].data.as_ref() == wasm,
        "{name}: the pulled layer is not the build's component"
    );
    let annotations = manifest.annotations.clone().unwrap_or_default();
    for key in ["source", "revision", "version", "description", "licenses"] {
        let key = format!("org.opencontainers.image.{key}");
        assert!(
            annotations.get(&key).is_some_and(|v| !v.is_empty()),
            "{name}: no {key} in {annotations:?}"
        );
    }
    assert_eq!(
        annotations["org.opencontainers.image.version"],
        env!("CARGO_PKG_VERSION")
    );
    let config: Value = serde_json::from_slice(&image.config.data).expect("the config is JSON");
    assert_eq!(config["architecture"], "wasm", "{config}");
    assert_eq!(config["os"], "wasip2", "{config}");
    assert_eq!(config["layerDigests"], json!([sha256(wasm)]), "{config}");
    let exports = config["component"]["exports"].as_array().expect("exports");
    let exports: Vec<&str> = exports.iter().filter_map(Value::as_str).collect();
    for function in TYPED_FUNCTIONS {
        assert!(
            exports.contains(&function),
            "{name}: {function} in {exports:?}"
        );
    }
    if artifact.world == "command" {
        assert!(
            exports.iter().any(|e| e.starts_with("wasi:cli/run@0.2")),
            "{exports:?}"
        );
    }
}

/// Changes one byte in the middle of the blob `digest` as the registry
/// stores it: the registry then serves other bytes under the same digest.
fn tamper(registry: &Registry, digest: &str) {
    let file = registry.blob_file(digest);
    let mut bytes = std::fs::read(&file)
        .unwrap_or_else(|e| panic!("reading the stored blob {}: {e}", file.display()));
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&file, bytes).unwrap();
}

#[test]
fn both_components_round_trip_a_loopback_registry_as_wasm_oci_artifacts() {
    let Some(binary) = registry::binary("the OCI registry test") else {
        return;
    };
    let started = Instant::now();
    let (ca_pem, cert_pem, key_pem) = test_ca();
    let registry = Registry::start(binary, &cert_pem, &key_pem)
        .unwrap_or_else(|e| panic!("starting the registry: {e}"));
    let host = registry.host();
    let client = client(&ca_pem);
    let rt = runtime();
    let [command, tool] = artifacts();

    // Push both; pull each by the digest the push gave.
    let digests: Vec<String> = [&command, &tool]
        .iter()
        .map(|artifact| rt.block_on(push(&client, &host, artifact)))
        .collect();
    let by_digest = |artifact: &Artifact, digest: &str| {
        Reference::with_digest(
            host.clone(),
            artifact.repository.to_string(),
            digest.to_string(),
        )
    };
    let out = tempfile::tempdir().unwrap();
    let mut pulled = Vec::new();
    for (artifact, digest) in [&command, &tool].into_iter().zip(&digests) {
        let wasm = std::fs::read(artifact.wasm).unwrap();
        let image = rt.block_on(pull_ok(&client, &by_digest(artifact, digest)));
        assert_eq!(image.digest.as_deref(), Some(digest.as_str()));
        check_layout(&image, artifact, &wasm);
        let file = out.path().join(artifact.wasm.file_name().unwrap());
        std::fs::write(&file, &image.layers[0].data).unwrap();
        pulled.push(file);
    }
    // The same bytes pushed again give the same digest: the artifact is as
    // reproducible as the component (no timestamp of the push in it).
    assert_eq!(rt.block_on(push(&client, &host, &command)), digests[0]);
    eprintln!("pushed and pulled both: {:.1?}", started.elapsed());

    // The pulled command build runs under the stock wasmtime CLI on a real
    // config.
    let api = MockApi::start();
    let sb = Sandbox::new();
    save(&sb, &api, "a", "ok");
    match sb.run_stock_wasmtime_component(&pulled[0], ["-f", "json", "auth", "ls", "--offline"]) {
        Some(out) => {
            let out = check(out);
            assert_eq!(out.code, 0, "{}", out.stderr);
            let rows = json_rows(&out.stdout);
            assert_eq!(rows.len(), 1, "{}", out.stdout);
            assert_eq!(rows[0]["name"], "a", "{}", out.stdout);
        }
        None => assert!(
            !contree_host::harness::support::in_ci(),
            "no stock wasmtime CLI, and CI=true"
        ),
    }

    // Wassette loads the tool artifact by reference, trusting the test CA
    // through SSL_CERT_FILE, and describes the five tools.
    let tool_ref = format!("oci://{host}/{TOOL_REPOSITORY}@{}", digests[1]);
    let ca_file = out.path().join("ca.pem");
    std::fs::write(&ca_file, &ca_pem).unwrap();
    let wassette = Rig::bare("loading the tool artifact in Wassette").map(|mut rig| {
        rig.extra_env
            .push(("SSL_CERT_FILE", ca_file.display().to_string()));
        let loaded = rig.cli(&["component", "load", &tool_ref]);
        assert_eq!(loaded["tools"], json!(TYPED_FUNCTIONS), "{loaded}");
        rig
    });

    // A registry that serves other bytes under the same digest: the pull
    // fails on the digest, and nothing is returned to run.
    let wasm_digest = sha256(&std::fs::read(command.wasm).unwrap());
    tamper(&registry, &wasm_digest);
    let error = rt.block_on(refused_pull(&client, &by_digest(&command, &digests[0])));
    let error = format!("{error:#}");
    assert!(
        error.contains("digest") || error.contains("Digest"),
        "{error}"
    );
    let tool_digest = sha256(&std::fs::read(tool.wasm).unwrap());
    tamper(&registry, &tool_digest);
    let error = rt.block_on(refused_pull(&client, &by_digest(&tool, &digests[1])));
    assert!(
        format!("{error:#}").to_lowercase().contains("digest"),
        "{error:#}"
    );
    if let Some(mut rig) = wassette {
        // A fresh state: nothing cached from the first load.
        let mut fresh = Rig::bare("loading a tampered artifact in Wassette").unwrap();
        fresh.extra_env = std::mem::take(&mut rig.extra_env);
        let refused = fresh.try_cli(&["component", "load", &tool_ref]);
        assert_ne!(
            refused.code, 0,
            "Wassette loaded a tampered artifact:\n{}",
            refused.stdout
        );
        assert!(
            refused.stderr.to_lowercase().contains("digest"),
            "Wassette refused it, but not for its digest:\n{}",
            refused.stderr
        );
        eprintln!(
            "Wassette refused the tampered artifact: {}",
            refused.stderr.trim()
        );
    }
    eprintln!("the registry round trip: {:.1?}", started.elapsed());
}
