//! SPEC §8 / issue 24 items 1 and 2: the network a user really has. A TLS
//! server on loopback whose certificate a CA made in the test signed
//! (trusted through `SSL_CERT_FILE` or a hashed `SSL_CERT_DIR`, refused
//! without), and a real forward proxy (Debian's tinyproxy) that alone can
//! resolve the API's name. The CAs and proxies are the host's settings
//! ([`Sandbox::host_env`], what the launcher reads from its own
//! environment), never the guest's.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use contree_host::harness::support::{in_ci, refusing_port};
use contree_host::harness::tinyproxy::{self, TinyProxy};
use contree_host::typed::{AuthError, AuthType, SaveRequest};
use contree_host::{MockApi, Sandbox};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::common::{Save, assert_has, assert_lacks, check, json_rows, token};

/// The name the API has behind the proxy (resolvable by the proxy only).
const API_NAME: &str = "api.contree.test";
const PROXY_USER: &str = "contree";
/// Never shown anywhere: stdout, stderr and the saved file are checked.
const PROXY_PASSWORD: &str = "proxy-Pa55-7f3e9c";

/// A CA made for one test, and a TLS front signed by it that hands each
/// request to the stand-in API.
struct TlsApi {
    api: MockApi,
    port: u16,
    dir: tempfile::TempDir,
    stop: Arc<AtomicBool>,
}

impl TlsApi {
    fn start() -> TlsApi {
        let api = MockApi::start();
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "contree test company CA");
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let names = vec!["localhost".to_string(), API_NAME.to_string()];
        let leaf = CertificateParams::new(names)
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca_cert.pem()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(leaf.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
            )
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let backend = api.addr();
        let stopped = stop.clone();
        thread::spawn(move || {
            for conn in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let config = config.clone();
                thread::spawn(move || {
                    let tls = rustls::ServerConnection::new(config).unwrap();
                    let mut stream = rustls::StreamOwned::new(tls, conn);
                    // One GET per connection (the API answers `Connection: close`).
                    let mut request = Vec::new();
                    let mut byte = [0u8; 1];
                    while !request.ends_with(b"\r\n\r\n") {
                        match stream.read(&mut byte) {
                            Ok(1) => request.push(byte[0]),
                            _ => return, // the client refused our certificate
                        }
                    }
                    let Ok(mut plain) = TcpStream::connect(backend) else {
                        return;
                    };
                    let mut answer = Vec::new();
                    if plain.write_all(&request).is_err() || plain.read_to_end(&mut answer).is_err()
                    {
                        return;
                    }
                    let _ = stream.write_all(&answer);
                    stream.conn.send_close_notify();
                    let _ = stream.flush();
                    let _ = stream.sock.shutdown(Shutdown::Both);
                });
            }
        });
        TlsApi {
            api,
            port,
            dir,
            stop,
        }
    }

    /// `https://NAME:PORT` (`localhost` reaches it directly).
    fn url(&self, name: &str) -> String {
        format!("https://{name}:{}", self.port)
    }

    /// `http://NAME:PORT` of the stand-in API itself (no TLS).
    fn plain_url(&self, name: &str) -> String {
        format!("http://{name}:{}", self.api.addr().port())
    }

    fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }
}

impl Drop for TlsApi {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port));
    }
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// `-f json auth ls`: the one row's status and detail.
fn listed(sb: &Sandbox) -> (String, String) {
    let out = check(sb.run(["-f", "json", "auth", "ls"]));
    let rows = json_rows(&out.stdout);
    assert_eq!(rows.len(), 1, "{}", out.stdout);
    let field = |name: &str| rows[0][name].as_str().unwrap_or_default().to_string();
    (field("status"), field("detail"))
}

/// Saves profile `a` against `url`; panics unless it worked.
fn save_ok(sb: &Sandbox, url: &str) {
    let out = Save::new(&token("ok"), url).name("a").yes().run(sb);
    assert_eq!(
        out.code, 0,
        "save against {url}: {}{}",
        out.stdout, out.stderr
    );
}

/// Fails on the code before the launcher's own sender: wasmtime-wasi-http's
/// default trusted only its built-in webpki roots.
#[test]
fn the_launcher_trusts_a_company_ca_given_by_ssl_cert_file() {
    let api = TlsApi::start();
    let mut sb = Sandbox::new();
    sb.host_env("SSL_CERT_FILE", path(&api.ca_file()));
    save_ok(&sb, &api.url("localhost"));
    assert_eq!(listed(&sb).0, "ok");
    // The guest never saw the variable: it is the host's.
    let env = check(sb.run(["auth", "ls", "--offline"]));
    assert_lacks(&env.stdout, "SSL_CERT_FILE");
}

/// A hashed directory, as `openssl rehash` (c_rehash) makes it. Fails on
/// the code before the launcher's own sender.
#[test]
fn the_launcher_trusts_a_company_ca_in_a_hashed_ssl_cert_dir() {
    let api = TlsApi::start();
    let certs = tempfile::tempdir().unwrap();
    std::fs::copy(api.ca_file(), certs.path().join("company-ca.pem")).unwrap();
    let rehashed = std::process::Command::new("openssl")
        .arg("rehash")
        .arg(certs.path())
        .status();
    match rehashed {
        Ok(status) if status.success() => {
            let names: Vec<String> = std::fs::read_dir(certs.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            assert!(names.iter().any(|n| n.ends_with(".0")), "{names:?}");
        }
        other => {
            assert!(!in_ci(), "openssl rehash failed, and CI=true: {other:?}");
            eprintln!("openssl rehash is unavailable ({other:?}): the directory is not hashed");
        }
    }
    let mut sb = Sandbox::new();
    sb.host_env("SSL_CERT_DIR", path(certs.path()));
    save_ok(&sb, &api.url("localhost"));
    assert_eq!(listed(&sb).0, "ok");
}

/// Without the CA the profile lists `error`, and the detail names where
/// the launcher looked. Fails on the old code (`TLS failed
/// (ErrorCode::TlsProtocolError)`, which names neither).
#[test]
fn without_the_company_ca_the_launcher_says_the_machine_does_not_trust_it() {
    let api = TlsApi::start();
    let mut sb = Sandbox::new();
    sb.host_env("SSL_CERT_FILE", path(&api.ca_file()));
    save_ok(&sb, &api.url("localhost"));
    sb.host_env("SSL_CERT_FILE", "");
    let (status, detail) = listed(&sb);
    assert_eq!(status, "error");
    assert_has(
        &detail,
        "the server's certificate is not trusted by this machine's store, SSL_CERT_FILE or SSL_CERT_DIR",
    );
    // And save refuses, leaving the profile as it was.
    let out = Save::new(&token("ok"), &api.url("localhost"))
        .name("b")
        .yes()
        .run(&sb);
    assert_ne!(out.code, 0);
    assert_has(&out.stderr, "not trusted by this machine's store");
}

/// Typed calls go through the same sender (the machine's CAs), so a
/// refused certificate is worded as the launcher words it, not as a host
/// with roots of its own (which would send the user to the launcher).
/// Fails on the code before: the typed host did not say it trusts the
/// machine's CAs.
#[test]
fn a_typed_save_refused_by_tls_says_the_machine_does_not_trust_the_certificate() {
    let api = TlsApi::start();
    let sb = Sandbox::new();
    let request = SaveRequest {
        name: "a".to_string(),
        token: Some(token("ok")),
        url: Some(api.url("localhost")),
        auth_type: AuthType::Jwt,
        project: None,
        overwrite: false,
        allow_insecure_http: false,
    };
    let message = match sb.typed().save_profile(&request).unwrap() {
        Err(AuthError::Network(message)) => message,
        other => panic!("{other:?}"),
    };
    assert_has(&message, "not trusted by this machine's store");
    assert_lacks(&message, "may not be trusted by this host");
}

/// Under the stock CLI (built-in roots, no way to add a CA) the detail
/// says the host may not trust the certificate and names what would.
/// Fails on the old code.
#[test]
fn under_the_stock_cli_a_tls_failure_says_the_host_may_not_trust_the_certificate() {
    let api = TlsApi::start();
    let mut sb = Sandbox::new();
    sb.host_env("SSL_CERT_FILE", path(&api.ca_file()));
    save_ok(&sb, &api.url("localhost"));
    let Some(out) = sb.run_stock_wasmtime(["-f", "json", "auth", "ls"]) else {
        assert!(!in_ci(), "the stock wasmtime CLI is missing, and CI=true");
        eprintln!("wasmtime is not on PATH: skipping the stock CLI check");
        return;
    };
    let out = check(out);
    let rows = json_rows(&out.stdout);
    assert_eq!(rows[0]["status"], "error", "{}", out.stdout);
    let detail = rows[0]["detail"].as_str().unwrap();
    assert_has(detail, "may not be trusted by this host");
    assert_has(detail, "contree launcher");
    assert_has(detail, "SSL_CERT_FILE");
}

/// A tinyproxy that allows CONNECT to `api`'s port, with credentials, and
/// that alone resolves [`API_NAME`].
fn proxy_for(api: &TlsApi, purpose: &str) -> Option<TinyProxy> {
    let root = tinyproxy::root(purpose)?;
    let config = tinyproxy::Config {
        connect_ports: vec![api.port],
        basic_auth: Some((PROXY_USER, PROXY_PASSWORD)),
        hosts: vec![(API_NAME, Ipv4Addr::LOCALHOST)],
    };
    match TinyProxy::start(root, &config) {
        Ok(proxy) => Some(proxy),
        Err(e) => {
            assert!(!in_ci(), "tinyproxy could not start, and CI=true: {e}");
            eprintln!("tinyproxy could not start: skipping {purpose}: {e}");
            None
        }
    }
}

fn with_credentials(proxy_url: &str, password: &str) -> String {
    proxy_url.replacen("http://", &format!("http://{PROXY_USER}:{password}@"), 1)
}

fn assert_no_password(sb: &Sandbox, texts: &[&str]) {
    for text in texts {
        assert_lacks(text, PROXY_PASSWORD);
    }
    for entry in sb.entries() {
        if let Some(contents) = sb.read_file(&entry) {
            assert_lacks(&contents, PROXY_PASSWORD);
        }
    }
}

/// Through a CONNECT tunnel, with `Proxy-Authorization`, to a name only the
/// proxy can resolve: save and list both work, and the password shows
/// nowhere. Fails on the old code (no proxy: the name does not resolve).
#[test]
fn the_launcher_reaches_the_api_through_an_https_proxy_with_credentials() {
    let api = TlsApi::start();
    let Some(proxy) = proxy_for(&api, "the proxy test") else {
        return;
    };
    let url = api.url(API_NAME);
    let mut sb = Sandbox::new();
    sb.host_env("SSL_CERT_FILE", path(&api.ca_file()));
    // Without the proxy, the name does not resolve here.
    let out = Save::new(&token("ok"), &url).name("a").yes().run(&sb);
    assert_ne!(out.code, 0, "{API_NAME} resolved without the proxy");
    assert_has(&out.stderr, "host not found");

    sb.host_env(
        "HTTPS_PROXY",
        with_credentials(&proxy.url(), PROXY_PASSWORD),
    );
    let saved = Save::new(&token("ok"), &url).name("a").yes().run(&sb);
    assert_eq!(
        saved.code,
        0,
        "{}{}\n{}",
        saved.stdout,
        saved.stderr,
        proxy.log()
    );
    let (status, detail) = listed(&sb);
    assert_eq!(status, "ok", "{detail}\n{}", proxy.log());
    assert_has(&proxy.log(), &format!("CONNECT {API_NAME}:{}", api.port));
    let listing = check(sb.run(["auth", "ls"]));
    assert_no_password(
        &sb,
        &[
            &saved.stdout,
            &saved.stderr,
            &listing.stdout,
            &listing.stderr,
        ],
    );

    // Lower case works too, and so does ALL_PROXY.
    sb.host_env("HTTPS_PROXY", "");
    sb.host_env("all_proxy", with_credentials(&proxy.url(), PROXY_PASSWORD));
    assert_eq!(listed(&sb).0, "ok");
}

/// `NO_PROXY` sends the request direct (where the name does not resolve);
/// a proxy that refuses the credentials, or is down, is named in the
/// detail, without them. Fails on the old code (no proxy at all).
#[test]
fn no_proxy_goes_direct_and_a_failing_proxy_is_named_without_its_password() {
    let api = TlsApi::start();
    let Some(proxy) = proxy_for(&api, "the NO_PROXY test") else {
        return;
    };
    let url = api.url(API_NAME);
    let mut sb = Sandbox::new();
    sb.host_env("SSL_CERT_FILE", path(&api.ca_file())).host_env(
        "HTTPS_PROXY",
        with_credentials(&proxy.url(), PROXY_PASSWORD),
    );
    save_ok(&sb, &url);

    sb.host_env("NO_PROXY", "example.org, .contree.test");
    let (status, detail) = listed(&sb);
    assert_eq!(
        (status.as_str(), detail.as_str()),
        ("error", "host not found")
    );
    sb.host_env("NO_PROXY", "");

    let wrong = "wrong-Pa55-2b8d";
    sb.host_env("HTTPS_PROXY", with_credentials(&proxy.url(), wrong));
    let (status, detail) = listed(&sb);
    assert_eq!(status, "error");
    assert_has(&detail, &format!("the proxy {} refused", proxy.url()));
    assert_has(&detail, "it refused the credentials in the proxy URL");
    assert_lacks(&detail, wrong);

    let refusing = refusing_port();
    let down = format!("http://127.0.0.1:{}", refusing.port());
    sb.host_env("HTTPS_PROXY", with_credentials(&down, PROXY_PASSWORD));
    let (status, detail) = listed(&sb);
    assert_eq!(status, "error");
    assert_has(&detail, &format!("the proxy {down} refused the connection"));
    let out = Save::new(&token("ok"), &url).name("b").yes().run(&sb);
    assert_ne!(out.code, 0);
    assert_has(&out.stderr, &format!("the proxy {down}"));
    assert_no_password(&sb, &[&detail, &out.stdout, &out.stderr]);
}

/// Plain http through the proxy goes in absolute form with
/// `Proxy-Authorization` (after the user's consent to plain http, as
/// without a proxy). Fails on the old code (no proxy: the name does not
/// resolve).
#[test]
fn plain_http_goes_to_the_proxy_in_absolute_form_with_its_credentials() {
    let api = TlsApi::start();
    let Some(proxy) = proxy_for(&api, "the plain http proxy test") else {
        return;
    };
    let url = api.plain_url(API_NAME);
    let mut sb = Sandbox::new();
    sb.host_env("http_proxy", with_credentials(&proxy.url(), PROXY_PASSWORD))
        // Not used for http://.
        .host_env("HTTPS_PROXY", "http://127.0.0.1:9");
    let saved = Save::new(&token("ok"), &url)
        .name("a")
        .yes()
        .arg("--allow-insecure-http")
        .run(&sb);
    assert_eq!(
        saved.code,
        0,
        "{}{}\n{}",
        saved.stdout,
        saved.stderr,
        proxy.log()
    );
    assert_eq!(listed(&sb).0, "ok");
    assert_has(&proxy.log(), &format!("GET {url}/v1/whoami"));
    let seen = api.api.requests();
    assert!(
        seen.iter()
            .all(|r| r.header("proxy-authorization").is_none()),
        "the proxy passed its credentials on"
    );
    assert_no_password(&sb, &[&saved.stdout, &saved.stderr]);
}
