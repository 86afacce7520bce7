//! A real OCI registry for tests, and what misbehaves in front of it.
//!
//! - [`RegistryServer`]: Debian's `docker-registry` (distribution v2, or
//!   `$DOCKER_REGISTRY_BIN`) on a free loopback port with a temporary
//!   storage directory and a generated config file, optionally behind
//!   htpasswd basic auth ([`Auth::Basic`], the bcrypt file written here) or
//!   token auth ([`Auth::Token`]); killed on drop. Its storage directory is
//!   reachable ([`RegistryServer::blob_file`]) so a test can tamper with a
//!   blob on disk.
//! - [`TokenIssuer`]: what a token server would be. Distribution's token
//!   auth accepts a JWT signed by a key whose certificate is in its
//!   `rootcertbundle`; the issuer makes that certificate (rcgen) and signs
//!   ES256 tokens for named repositories (ring). No token server runs: the
//!   client under test presents the token it is given (`Authorization:
//!   Bearer`), as a CI job does with a registry token.
//! - [`DelayProxy`]: a TCP proxy in front of a server that holds each HTTP
//!   request whose path a closure picks for a while before passing it on
//!   (a slow registry, or blobs answered in another order).
//! - [`closed_port`]: a loopback address nothing listens on.
//!
//! Panics are test failures here: this is test support.
#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::prometheus::{HttpStub, Reply, free_port, http_get};

/// The `docker-registry` binary: `$DOCKER_REGISTRY_BIN`, or Debian's.
pub fn registry_bin() -> PathBuf {
    std::env::var_os("DOCKER_REGISTRY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/docker-registry"))
}

/// How the registry authenticates clients.
#[derive(Debug, Clone)]
pub enum Auth {
    /// Anyone may push and pull.
    None,
    /// htpasswd basic auth with one user.
    Basic {
        /// The user name.
        user: String,
        /// The password (hashed with bcrypt into the htpasswd file).
        password: String,
    },
    /// Token auth: JWTs signed by the issuer's key. `realm` is where the
    /// registry sends clients for a token ([`TokenServer::realm`]; any URL
    /// when clients bring their own token).
    Token {
        /// Who signs the tokens the registry accepts.
        issuer: Arc<TokenIssuer>,
        /// The token server's URL.
        realm: String,
    },
}

/// A registry started for a test: see the module documentation.
#[derive(Debug)]
pub struct RegistryServer {
    child: Mutex<Option<Child>>,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl RegistryServer {
    /// Starts a registry with `auth`, and waits until it answers (30 s at
    /// most).
    pub fn start(auth: Auth) -> RegistryServer {
        let bin = registry_bin();
        if !bin.exists() {
            panic!(
                "the OCI registry is not installed at {}: install Debian's docker-registry \
                 package (apt-get install docker-registry), or set DOCKER_REGISTRY_BIN",
                bin.display()
            );
        }
        let dir = tempfile::tempdir().expect("a temporary directory");
        let auth_config = match &auth {
            Auth::None => String::new(),
            Auth::Basic { user, password } => {
                let hash = bcrypt::hash(password, 4).expect("bcrypt");
                std::fs::write(dir.path().join("htpasswd"), format!("{user}:{hash}\n"))
                    .expect("write htpasswd");
                format!(
                    "auth:\n  htpasswd:\n    realm: shipgate-test\n    path: {}\n",
                    dir.path().join("htpasswd").display()
                )
            }
            Auth::Token { issuer, realm } => {
                std::fs::write(dir.path().join("token.crt"), &issuer.cert_pem)
                    .expect("write token.crt");
                format!(
                    "auth:\n  token:\n    realm: {realm}\n    service: {}\n    \
                     issuer: {}\n    rootcertbundle: {}\n",
                    TokenIssuer::SERVICE,
                    TokenIssuer::ISSUER,
                    dir.path().join("token.crt").display()
                )
            }
        };
        let mut failures = Vec::new();
        // A port taken between choosing and binding it: try another.
        for _ in 0..3 {
            let addr = free_port();
            let config = format!(
                "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\n\
                 storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n  \
                 maintenance:\n    uploadpurging:\n      enabled: false\n\
                 http:\n  addr: {addr}\n  secret: shipgate-test-only\n{auth_config}",
                dir.path().join("data").display()
            );
            std::fs::write(dir.path().join("config.yml"), config).expect("write config.yml");
            let log = std::fs::File::create(dir.path().join("stderr.log")).expect("stderr.log");
            let mut child = Command::new(&bin)
                .arg("serve")
                .arg(dir.path().join("config.yml"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
            match wait_ready(&mut child, addr, Duration::from_secs(30)) {
                Ok(()) => {
                    return RegistryServer {
                        child: Mutex::new(Some(child)),
                        addr,
                        dir,
                    };
                }
                Err(why) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let tail = tail(dir.path(), 20);
                    let clash = tail.contains("address already in use");
                    failures.push(format!("{why}\n--- its stderr ---\n{tail}"));
                    if !clash {
                        break;
                    }
                }
            }
        }
        panic!(
            "the registry did not get ready: {}",
            failures.join("\n--- again ---\n")
        )
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `127.0.0.1:PORT`, the host of its references.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// `oci://127.0.0.1:PORT/PATH` (`PATH` is `repository:tag` or
    /// `repository@digest`).
    pub fn reference(&self, path: &str) -> String {
        format!("oci://{}/{path}", self.addr)
    }

    /// The file holding the blob `digest` (`sha256:…`) in its storage.
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// The last `lines` lines of its stderr (its log).
    pub fn stderr_tail(&self, lines: usize) -> String {
        tail(self.dir.path(), lines)
    }

    /// Kills the registry and waits for it (idempotent).
    pub fn stop(&self) {
        let child = self.child.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(mut child) = child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RegistryServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Polls `/v2/` until it answers (200, or 401 behind auth), the process
/// exits, or `timeout` passes.
fn wait_ready(child: &mut Child, addr: SocketAddr, timeout: Duration) -> Result<(), String> {
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("it exited with {status}"));
        }
        if let Ok((200 | 401, _)) = http_get(addr, "/v2/") {
            return Ok(());
        }
        if start.elapsed() > timeout {
            return Err(format!("not ready after {timeout:?}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn tail(dir: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A loopback address nothing listens on (bound, then released).
pub fn closed_port() -> SocketAddr {
    free_port()
}

/// Signs registry tokens: see the module documentation.
pub struct TokenIssuer {
    cert_pem: String,
    cert_der: Vec<u8>,
    key: ring::signature::EcdsaKeyPair,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenIssuer")
    }
}

impl TokenIssuer {
    /// The registry's `service` (the tokens' audience).
    pub const SERVICE: &'static str = "shipgate-test-registry";
    /// The tokens' issuer.
    pub const ISSUER: &'static str = "shipgate-test-issuer";

    /// A new P-256 key and its self-signed certificate.
    pub fn new() -> Arc<TokenIssuer> {
        let key_pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let params = rcgen::CertificateParams::new(vec!["shipgate-test-issuer".into()]).unwrap();
        let cert = params.self_signed(&key_pair).unwrap();
        let key = ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &key_pair.serialize_der(),
            &ring::rand::SystemRandom::new(),
        )
        .unwrap();
        Arc::new(TokenIssuer {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            key,
        })
    }

    /// A token allowing `actions` (`pull`, `push`) on `repository`, valid
    /// for `ttl` from now.
    pub fn token(&self, repository: &str, actions: &[&str], ttl: Duration) -> String {
        self.sign_claims(repository, actions, ttl.as_secs() as i64)
    }

    /// A token expiring `ttl` seconds from now (in the past if negative).
    fn sign_claims(&self, repository: &str, actions: &[&str], ttl: i64) -> String {
        use base64::Engine as _;
        let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let std = base64::engine::general_purpose::STANDARD;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let header = serde_json::json!({
            "typ": "JWT",
            "alg": "ES256",
            "x5c": [std.encode(&self.cert_der)],
        });
        let claims = serde_json::json!({
            "iss": Self::ISSUER,
            "sub": "shipgate-test",
            "aud": Self::SERVICE,
            "exp": now + ttl,
            "nbf": now.min(now + ttl) - 7200,
            "iat": now.min(now + ttl) - 7200,
            "jti": format!("jti-{now}-{}", rand_u64()),
            "access": [{"type": "repository", "name": repository, "actions": actions}],
        });
        let signing_input = format!(
            "{}.{}",
            b64url.encode(header.to_string()),
            b64url.encode(claims.to_string())
        );
        let signature = self
            .key
            .sign(&ring::rand::SystemRandom::new(), signing_input.as_bytes())
            .unwrap();
        format!("{signing_input}.{}", b64url.encode(signature.as_ref()))
    }
}

impl TokenIssuer {
    /// A token for `repository` that expired an hour ago.
    pub fn expired_token(&self, repository: &str, actions: &[&str]) -> String {
        self.sign_claims(repository, actions, -3600)
    }
}

/// A minimal token server (the distribution token protocol): `GET
/// /token?service=…&scope=repository:NAME:ACTIONS` with the right basic
/// credentials gets `{"token": …}` for that scope, signed by the issuer;
/// anything else a 401. How registries such as Docker Hub, GHCR and Harbor
/// turn a user's password or access token into a bearer token.
#[derive(Debug)]
pub struct TokenServer {
    stub: HttpStub,
}

impl TokenServer {
    /// Starts it, accepting `user` and `password`.
    pub fn start(issuer: Arc<TokenIssuer>, user: &str, password: &str) -> TokenServer {
        use base64::Engine as _;
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        );
        let stub = HttpStub::start(move |request| {
            if request.path != "/token"
                || request.headers.get("authorization") != Some(&expected)
                || request.query.get("service").map(String::as_str) != Some(TokenIssuer::SERVICE)
            {
                return Reply::json(401, r#"{"details":"wrong credentials"}"#);
            }
            let scope = request.query.get("scope").cloned().unwrap_or_default();
            let mut parts = scope.splitn(3, ':');
            let (Some("repository"), Some(name), Some(actions)) =
                (parts.next(), parts.next(), parts.next())
            else {
                return Reply::json(400, r#"{"details":"no repository scope"}"#);
            };
            let actions: Vec<&str> = actions.split(',').collect();
            let token = issuer.token(name, &actions, Duration::from_secs(300));
            Reply::json(200, &serde_json::json!({ "token": token }).to_string())
        });
        TokenServer { stub }
    }

    /// Its token endpoint, the registry's `realm`.
    pub fn realm(&self) -> String {
        format!("{}/token", self.stub.url())
    }

    /// The requests it has answered.
    pub fn requests(&self) -> usize {
        self.stub.requests()
    }
}

fn rand_u64() -> u64 {
    let mut bytes = [0u8; 8];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).unwrap();
    u64::from_le_bytes(bytes)
}

type Pick = dyn Fn(&str) -> Duration + Send + Sync;

/// A TCP proxy to `upstream` that reads each HTTP request's head, waits as
/// long as `delay(path)` says, then passes the request on; answers flow
/// back untouched. Requests with a body are passed on as they come (the
/// rest of that connection is piped without looking). Stops on drop.
pub struct DelayProxy {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    paths: Arc<Mutex<Vec<String>>>,
}

impl std::fmt::Debug for DelayProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DelayProxy")
            .field("addr", &self.addr)
            .finish()
    }
}

impl DelayProxy {
    /// Starts the proxy in front of `upstream`.
    pub fn start(
        upstream: SocketAddr,
        delay: impl Fn(&str) -> Duration + Send + Sync + 'static,
    ) -> DelayProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        listener.set_nonblocking(true).expect("non-blocking");
        let stop = Arc::new(AtomicBool::new(false));
        let paths = Arc::new(Mutex::new(Vec::new()));
        let delay: Arc<Pick> = Arc::new(delay);
        let accept = {
            let (stop, paths) = (Arc::clone(&stop), Arc::clone(&paths));
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((client, _)) => {
                            let (delay, paths) = (Arc::clone(&delay), Arc::clone(&paths));
                            std::thread::spawn(move || {
                                let _ = relay(client, upstream, &*delay, &paths);
                            });
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        DelayProxy {
            addr,
            stop,
            accept: Some(accept),
            paths,
        }
    }

    /// Its address, to put in references instead of the upstream's.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The paths of the requests it has passed on, in the order they came.
    pub fn paths(&self) -> Vec<String> {
        self.paths.lock().unwrap().clone()
    }
}

impl Drop for DelayProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// Relays one client connection: answers are copied back by a thread; the
/// requests are read head by head and held as `delay` says.
fn relay(
    mut client: TcpStream,
    upstream: SocketAddr,
    delay: &Pick,
    paths: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    client.set_nonblocking(false)?;
    let mut server = TcpStream::connect(upstream)?;
    let (mut from_server, mut to_client) = (server.try_clone()?, client.try_clone()?);
    let back = std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_server, &mut to_client);
        let _ = to_client.shutdown(Shutdown::Both);
    });
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        // One request head.
        let end = loop {
            if let Some(at) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                break Some(at + 4);
            }
            let n = client.read(&mut buf)?;
            if n == 0 {
                break None;
            }
            pending.extend_from_slice(&buf[..n]);
        };
        let Some(end) = end else { break };
        let head = String::from_utf8_lossy(&pending[..end]).into_owned();
        let path = head
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .split('?')
            .next()
            .unwrap_or("")
            .to_owned();
        paths.lock().unwrap().push(path.clone());
        let hold = delay(&path);
        if !hold.is_zero() {
            std::thread::sleep(hold);
        }
        let lower = head.to_ascii_lowercase();
        let has_body = lower.contains("transfer-encoding: chunked")
            || lower
                .lines()
                .filter_map(|l| l.strip_prefix("content-length:"))
                .any(|n| n.trim() != "0");
        server.write_all(&pending[..end])?;
        pending.drain(..end);
        if has_body {
            // Pass the rest of the connection on as it is.
            server.write_all(&pending)?;
            let _ = std::io::copy(&mut client, &mut server);
            break;
        }
    }
    let _ = server.shutdown(Shutdown::Write);
    let _ = back.join();
    Ok(())
}
