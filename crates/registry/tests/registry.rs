//! The transport against a real registry: Debian's `docker-registry`
//! (distribution v2) started on a loopback port for each test by the
//! harness in `tests/registry.rs` (`shipgate_tests::registry`), with basic
//! or token auth where a test needs it; a delaying TCP proxy in front of it
//! for a slow registry and for blobs answered out of order; a closed port
//! for a registry that is down; an HTTP stub answering nonsense.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use shipgate_registry::layout::{self, Select};
use shipgate_registry::{
    Artifact, Blob, Client, Credentials, Digest, Layer, Limits, Options, Reference, RegistryError,
    Store,
};
use shipgate_tests::prometheus::{HttpStub, Reply, Request};
use shipgate_tests::registry::{
    Auth, DelayProxy, RegistryServer, TokenIssuer, TokenServer, closed_port,
};

const TYPE: &str = "application/vnd.shipgate.test.v1";

fn artifact(version: &str) -> Artifact {
    Artifact {
        artifact_type: TYPE.into(),
        config: Blob {
            media_type: "application/vnd.shipgate.test.config.v1+json".into(),
            bytes: format!(r#"{{"version":"{version}"}}"#).into_bytes(),
        },
        layers: vec![
            Layer {
                media_type: "application/wasm".into(),
                title: "policies/first.wasm".into(),
                annotations: BTreeMap::new(),
                bytes: format!("first layer of {version}").repeat(50).into_bytes(),
            },
            Layer {
                media_type: "application/toml".into(),
                title: "rules/second.toml".into(),
                annotations: BTreeMap::from([("shipgate.test/kind".into(), "rules".into())]),
                bytes: format!("second layer of {version}").into_bytes(),
            },
            Layer {
                media_type: "application/json".into(),
                title: "cases/third.json".into(),
                annotations: BTreeMap::new(),
                bytes: format!(r#"{{"third":"{version}"}}"#).into_bytes(),
            },
        ],
        annotations: BTreeMap::from([("org.opencontainers.image.version".into(), version.into())]),
    }
}

fn options() -> Options {
    Options {
        timeout: Duration::from_secs(30),
        connect_timeout: Duration::from_secs(5),
        ..Options::default()
    }
}

fn client() -> Client {
    Client::new(options()).unwrap()
}

fn reference(text: &str) -> Reference {
    text.parse().unwrap()
}

/// Every layer of `pulled` holds the bytes `expected` gives that title.
fn assert_same_files(pulled: &shipgate_registry::Pulled, expected: &Artifact) {
    assert_eq!(pulled.manifest.layers.len(), expected.layers.len());
    for layer in &expected.layers {
        let (descriptor, bytes) = pulled
            .layer(&layer.title)
            .unwrap_or_else(|| panic!("no layer {}", layer.title));
        assert_eq!(bytes, layer.bytes.as_slice(), "{}", layer.title);
        assert_eq!(descriptor.media_type, layer.media_type);
    }
    assert_eq!(pulled.config(), expected.config.bytes.as_slice());
    assert_eq!(&pulled.artifact().unwrap(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_then_pull_by_tag_and_by_digest() {
    let registry = RegistryServer::start(Auth::None);
    let client = client();
    let tag = reference(&registry.reference("acme/security:1.4.0"));
    let a = artifact("1.4.0");
    let digest = client.push(&tag, &a).await.unwrap();
    assert_eq!(digest, a.encode(&Limits::default()).unwrap().digest);

    let by_tag = client.pull(&tag, TYPE).await.unwrap();
    assert_eq!(by_tag.digest, digest);
    assert_same_files(&by_tag, &a);
    assert_eq!(
        by_tag.manifest.annotations["org.opencontainers.image.version"],
        "1.4.0"
    );

    let pinned = reference(&registry.reference(&format!("acme/security@{digest}")));
    let by_digest = client.pull(&pinned, TYPE).await.unwrap();
    assert_eq!(by_digest, by_tag);

    // Pushing the same artifact again sends no blob twice and gives the
    // same digest.
    assert_eq!(client.push(&tag, &a).await.unwrap(), digest);

    // A tag that does not exist.
    let missing = reference(&registry.reference("acme/security:9.9.9"));
    let err = client.pull(&missing, TYPE).await.unwrap_err();
    assert!(matches!(err, RegistryError::NotFound { .. }), "{err}");
    let missing = reference(&registry.reference("acme/nothing:1"));
    let err = client.resolve(&missing).await.unwrap_err();
    assert!(matches!(err, RegistryError::NotFound { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_tag_resolves_to_the_new_digest_and_a_pin_does_not_move() {
    let registry = RegistryServer::start(Auth::None);
    let client = client();
    let tag = reference(&registry.reference("acme/security:stable"));
    let old = client.push(&tag, &artifact("1.0.0")).await.unwrap();
    assert_eq!(client.resolve(&tag).await.unwrap(), old);
    let new = client.push(&tag, &artifact("1.1.0")).await.unwrap();
    assert_ne!(old, new);
    assert_eq!(client.resolve(&tag).await.unwrap(), new);
    assert_eq!(client.pull(&tag, TYPE).await.unwrap().digest, new);

    let pin = tag.with_digest(old.clone());
    assert_eq!(client.resolve(&pin).await.unwrap(), old);
    let pulled = client.pull(&pin, TYPE).await.unwrap();
    assert_eq!(pulled.digest, old);
    assert_same_files(&pulled, &artifact("1.0.0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_that_is_down_is_unreachable_quickly() {
    let down = closed_port();
    let client = client();
    let r = reference(&format!("oci://{down}/acme/security:1"));
    let start = Instant::now();
    let err = client.pull(&r, TYPE).await.unwrap_err();
    assert!(matches!(err, RegistryError::Unreachable { .. }), "{err:?}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert!(
        err.to_string()
            .starts_with(&format!("the registry `{down}` is unreachable")),
        "{err}"
    );
    let err = client.push(&r, &artifact("1")).await.unwrap_err();
    assert!(matches!(err, RegistryError::Unreachable { .. }), "{err:?}");
    let err = client.resolve(&r).await.unwrap_err();
    assert!(matches!(err, RegistryError::Unreachable { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_registry_times_out() {
    let registry = RegistryServer::start(Auth::None);
    let tag = reference(&registry.reference("acme/security:1"));
    client().push(&tag, &artifact("1")).await.unwrap();
    let proxy = DelayProxy::start(registry.addr(), |_| Duration::from_secs(10));
    let slow = reference(&format!("oci://{}/acme/security:1", proxy.addr()));
    let client = Client::new(Options {
        timeout: Duration::from_secs(1),
        ..options()
    })
    .unwrap();
    let start = Instant::now();
    let err = client.pull(&slow, TYPE).await.unwrap_err();
    let took = start.elapsed();
    assert!(matches!(err, RegistryError::TimedOut { .. }), "{err:?}");
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(4),
        "{took:?}"
    );
    assert!(
        err.to_string()
            .contains("did not answer within 1s (pulling)"),
        "{err}"
    );
    let err = client.resolve(&slow).await.unwrap_err();
    assert!(matches!(err, RegistryError::TimedOut { .. }), "{err:?}");
    assert!(
        !proxy.paths().is_empty(),
        "the requests went through the proxy"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_answers_are_an_invalid_manifest_and_never_a_panic() {
    let client = client();
    let answers: Vec<(&str, Reply)> = vec![
        (
            "html",
            Reply::html(200, "<html><body>Welcome to nginx!</body></html>"),
        ),
        (
            "binary",
            Reply {
                content_type: "application/vnd.oci.image.manifest.v1+json".into(),
                body: (0..=255u8).cycle().take(3000).collect(),
                ..Reply::text(200, "")
            },
        ),
        (
            "json, not a manifest",
            Reply::json(200, r#"{"hello":"world"}"#),
        ),
        (
            "a manifest with a bad digest",
            Reply::json(
                200,
                r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a/b","digest":"sha256:nope","size":2},"layers":[]}"#,
            ),
        ),
    ];
    for (what, reply) in answers {
        let stub = HttpStub::start(move |_| reply.clone());
        let r = reference(&format!("oci://{}/acme/security:1", stub.addr()));
        let err = client.pull(&r, TYPE).await.unwrap_err();
        assert!(
            matches!(err, RegistryError::InvalidManifest { .. }),
            "{what}: {err:?}"
        );
        assert!(stub.requests() > 0);
    }
    // A server error with a body: the status and body, not a panic.
    let stub = HttpStub::start(|_| Reply::text(500, "database on fire"));
    let r = reference(&format!("oci://{}/acme/security:1", stub.addr()));
    let err = client.pull(&r, TYPE).await.unwrap_err();
    assert!(matches!(err, RegistryError::Registry { .. }), "{err:?}");
    assert!(err.to_string().contains("500"), "{err}");
    // A connection cut in the middle of the answer.
    let stub = HttpStub::start(|_| Reply {
        cut_after: Some(10),
        ..Reply::json(200, &"{\"schemaVersion\":2}".repeat(100))
    });
    let r = reference(&format!("oci://{}/acme/security:1", stub.addr()));
    let err = client.pull(&r, TYPE).await.unwrap_err();
    assert!(
        matches!(
            err,
            RegistryError::Registry { .. } | RegistryError::InvalidManifest { .. }
        ),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_changed_in_the_registry_storage_is_a_digest_mismatch() {
    let registry = RegistryServer::start(Auth::None);
    let client = client();
    let tag = reference(&registry.reference("acme/security:1"));
    let a = artifact("1");
    let digest = client.push(&tag, &a).await.unwrap();
    let layer = Digest::of(&a.layers[1].bytes);
    let file = registry.blob_file(layer.as_str());
    let original = std::fs::read(&file).unwrap();

    // The same length, other bytes: the digest catches it.
    let mut evil = original.clone();
    evil[0] ^= 0x20;
    std::fs::write(&file, &evil).unwrap();
    let err = client.pull(&tag, TYPE).await.unwrap_err();
    assert!(
        matches!(err, RegistryError::DigestMismatch { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains(layer.as_str()), "{err}");

    // Longer: refused once past the descriptor's size.
    let mut longer = original.clone();
    longer.extend_from_slice(b" and more");
    std::fs::write(&file, &longer).unwrap();
    let err = client.pull(&tag, TYPE).await.unwrap_err();
    assert!(matches!(err, RegistryError::SizeMismatch { .. }), "{err:?}");

    std::fs::write(&file, &original).unwrap();
    client.pull(&tag, TYPE).await.unwrap();

    // The manifest itself changed on disk: a pinned pull refuses it.
    let manifest_file = registry.blob_file(digest.as_str());
    let mut manifest = std::fs::read(&manifest_file).unwrap();
    let version = br#""org.opencontainers.image.version":"1""#;
    let at = manifest
        .windows(version.len())
        .position(|w| w == version)
        .unwrap();
    manifest[at + version.len() - 2] = b'2';
    std::fs::write(&manifest_file, &manifest).unwrap();
    let err = client
        .pull(&tag.with_digest(digest), TYPE)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::DigestMismatch { .. }),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifest_larger_than_the_cap_is_refused() {
    let registry = RegistryServer::start(Auth::None);
    let tag = reference(&registry.reference("acme/security:big"));
    let mut a = artifact("big");
    for i in 0..40 {
        a.annotations
            .insert(format!("shipgate.test/padding-{i}"), "x".repeat(100));
    }
    let size = a.encode(&Limits::default()).unwrap().manifest.len() as u64;
    assert!(size > 4096, "{size}");
    client().push(&tag, &a).await.unwrap();
    let capped = Client::new(Options {
        limits: Limits {
            manifest: 4096,
            ..Limits::default()
        },
        ..options()
    })
    .unwrap();
    let err = capped.pull(&tag, TYPE).await.unwrap_err();
    assert!(matches!(err, RegistryError::TooLarge { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("the manifest of `{tag}` is larger than 4 KiB, the limit ({size} bytes)")
    );
    // Past the default cap (4 MiB), from a server that sends one anyway
    // (distribution itself refuses to store one): refused, not parsed.
    let huge = format!(
        r#"{{"schemaVersion":2,"padding":"{}"}}"#,
        "a".repeat(5 << 20)
    );
    let stub = HttpStub::start(move |_| Reply::json(200, &huge));
    let r = reference(&format!("oci://{}/acme/security:1", stub.addr()));
    let err = client().pull(&r, TYPE).await.unwrap_err();
    assert!(
        err.to_string()
            .ends_with("is larger than 4 MiB, the limit (5242912 bytes)"),
        "{err}"
    );
    // A blob past its cap is refused before it is fetched.
    let capped = Client::new(Options {
        limits: Limits {
            blob: 100,
            ..Limits::default()
        },
        ..options()
    })
    .unwrap();
    let err = capped.pull(&tag, TYPE).await.unwrap_err();
    assert!(matches!(err, RegistryError::TooLarge { .. }), "{err:?}");
    assert!(err.to_string().contains("layers[0]"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_artifact_type_is_refused() {
    let registry = RegistryServer::start(Auth::None);
    let client = client();
    let tag = reference(&registry.reference("acme/security:1"));
    client.push(&tag, &artifact("1")).await.unwrap();
    let err = client
        .pull(&tag, "application/vnd.shipgate.bundle.v1")
        .await
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::WrongArtifactType { .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("`{tag}` is a `{TYPE}` artifact, not `application/vnd.shipgate.bundle.v1`")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layers_answered_in_another_order_are_matched_by_digest() {
    let registry = RegistryServer::start(Auth::None);
    let tag = reference(&registry.reference("acme/security:1"));
    let a = artifact("1");
    client().push(&tag, &a).await.unwrap();
    // The first layer's blob is held back, so it arrives last.
    let first = Digest::of(&a.layers[0].bytes);
    let held = format!("/blobs/{first}");
    let proxy = DelayProxy::start(registry.addr(), move |path| {
        if path.ends_with(&held) {
            Duration::from_millis(1500)
        } else {
            Duration::ZERO
        }
    });
    let through = reference(&format!("oci://{}/acme/security:1", proxy.addr()));
    let start = Instant::now();
    let pulled = client().pull(&through, TYPE).await.unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(1500),
        "the first layer was held"
    );
    assert_same_files(&pulled, &a);
    let blob_requests: Vec<String> = proxy
        .paths()
        .into_iter()
        .filter(|p| p.contains("/blobs/"))
        .collect();
    assert_eq!(blob_requests.len(), 4, "{blob_requests:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_with_the_right_and_the_wrong_password() {
    let password = "s3cret-Registry-pw-4417";
    let registry = RegistryServer::start(Auth::Basic {
        user: "ci-bot".into(),
        password: password.into(),
    });
    let credentials = Credentials::Basic {
        username_env: "TEST_REGISTRY_USER".into(),
        password_env: "TEST_REGISTRY_PASSWORD".into(),
    };
    let with = |password: &'static str| {
        Client::with_lookup(
            Options {
                credentials: credentials.clone(),
                ..options()
            },
            &move |name: &str| match name {
                "TEST_REGISTRY_USER" => Some("ci-bot".into()),
                "TEST_REGISTRY_PASSWORD" => Some(password.into()),
                _ => None,
            },
        )
        .unwrap()
    };
    let tag = reference(&registry.reference("acme/security:1"));
    let right = with(password);
    let digest = right.push(&tag, &artifact("1")).await.unwrap();
    assert_eq!(right.pull(&tag, TYPE).await.unwrap().digest, digest);
    assert_eq!(right.resolve(&tag).await.unwrap(), digest);
    assert!(!format!("{right:?}").contains(password));

    let wrong = with("wrong-password-9921");
    let anonymous = client();
    let mut errors = Vec::new();
    for client in [&wrong, &anonymous] {
        errors.push(client.pull(&tag, TYPE).await.unwrap_err());
        errors.push(client.push(&tag, &artifact("2")).await.unwrap_err());
        errors.push(client.resolve(&tag).await.unwrap_err());
    }
    for err in &errors {
        assert!(matches!(err, RegistryError::Unauthorized { .. }), "{err:?}");
    }
    for secret in [password, "wrong-password-9921"] {
        for err in &errors {
            assert!(!err.to_string().contains(secret), "{err}");
            assert!(!format!("{err:?}").contains(secret), "{err:?}");
        }
        assert!(!format!("{wrong:?}").contains(secret));
    }
    let missing = Client::with_lookup(
        Options {
            credentials,
            ..options()
        },
        &|_| None,
    )
    .unwrap_err();
    assert_eq!(
        missing.to_string(),
        "credentials for the registry: the variable `TEST_REGISTRY_USER` (the registry user name) is not set"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_tokens_are_checked_by_the_registry_and_never_shown() {
    let issuer = TokenIssuer::new();
    let registry = RegistryServer::start(Auth::Token {
        issuer: issuer.clone(),
        realm: "http://127.0.0.1:9/no-token-server".into(),
    });
    let tag = reference(&registry.reference("acme/security:1"));
    let with = |token: String| {
        Client::with_lookup(
            Options {
                credentials: Credentials::Bearer {
                    token_env: "TEST_REGISTRY_TOKEN".into(),
                },
                ..options()
            },
            &move |name: &str| (name == "TEST_REGISTRY_TOKEN").then(|| token.clone()),
        )
        .unwrap()
    };
    let good = issuer.token("acme/security", &["pull", "push"], Duration::from_secs(600));
    let client = with(good.clone());
    let digest = client.push(&tag, &artifact("1")).await.unwrap();
    assert_eq!(client.pull(&tag, TYPE).await.unwrap().digest, digest);
    assert_eq!(client.resolve(&tag).await.unwrap(), digest);

    let pull_only = issuer.token("acme/security", &["pull"], Duration::from_secs(600));
    let other_repository = issuer.token("acme/other", &["pull", "push"], Duration::from_secs(600));
    let forged =
        TokenIssuer::new().token("acme/security", &["pull", "push"], Duration::from_secs(600));
    let expired = issuer.expired_token("acme/security", &["pull", "push"]);
    let mut errors = Vec::new();
    let reader = with(pull_only.clone());
    assert_eq!(reader.pull(&tag, TYPE).await.unwrap().digest, digest);
    errors.push(reader.push(&tag, &artifact("2")).await.unwrap_err());
    for token in [&other_repository, &forged, &expired] {
        errors.push(with(token.clone()).pull(&tag, TYPE).await.unwrap_err());
    }
    errors.push(client_anonymous_pull(&tag).await);
    for err in &errors {
        assert!(matches!(err, RegistryError::Unauthorized { .. }), "{err:?}");
        for token in [&good, &pull_only, &other_repository, &forged, &expired] {
            assert!(!err.to_string().contains(token.as_str()), "{err}");
            assert!(!format!("{err:?}").contains(token.as_str()), "{err:?}");
        }
    }
    assert!(!format!("{client:?}").contains(&good));
}

async fn client_anonymous_pull(tag: &Reference) -> RegistryError {
    client().pull(tag, TYPE).await.unwrap_err()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_was_pulled_is_kept_for_offline_use_and_travels_as_an_image_layout() {
    let registry = RegistryServer::start(Auth::None);
    let client = client();
    let tag = reference(&registry.reference("acme/security:1.4.0"));
    let a = artifact("1.4.0");
    let digest = client.push(&tag, &a).await.unwrap();
    let pulled = client.pull(&tag, TYPE).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join(".shipgate/bundles"), Limits::default()).unwrap();
    store.put(&tag, &pulled).unwrap();
    registry.stop();
    // Offline: the registry is gone, the store answers by tag and digest.
    let err = client.pull(&tag, TYPE).await.unwrap_err();
    assert!(matches!(err, RegistryError::Unreachable { .. }), "{err:?}");
    assert_eq!(store.get(&tag, TYPE).unwrap().unwrap(), pulled);
    assert_eq!(
        store
            .get(&tag.with_digest(digest.clone()), TYPE)
            .unwrap()
            .unwrap(),
        pulled
    );

    // save: an image layout; load: read it and push it to another registry.
    let saved = dir.path().join("security.oci");
    let written = layout::write(
        &saved,
        &pulled.artifact().unwrap(),
        Some("1.4.0"),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(written, digest);
    let loaded = layout::read(&saved, Select::Name("1.4.0"), TYPE, &Limits::default()).unwrap();
    assert_eq!(loaded, pulled);
    let other = RegistryServer::start(Auth::None);
    let there = reference(&other.reference("mirror/security:1.4.0"));
    assert_eq!(
        client
            .push(&there, &loaded.artifact().unwrap())
            .await
            .unwrap(),
        digest
    );
    assert_same_files(&client.pull(&there, TYPE).await.unwrap(), &a);
}

/// A registry that echoes the credentials it was sent back in its error
/// (as some proxies and misconfigured servers do): the client's error shows
/// `***` in their place, in every form they take on the wire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_echoed_by_a_registry_are_redacted() {
    use base64::Engine as _;
    let echo = |request: &Request| match request.headers.get("authorization") {
        Some(auth) => {
            let decoded = auth
                .strip_prefix("Basic ")
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            Reply::text(500, &format!("refused `{auth}` (that is `{decoded}`)"))
        }
        None => Reply {
            headers: vec![("WWW-Authenticate".into(), "Basic realm=\"echo\"".into())],
            ..Reply::json(
                401,
                r#"{"errors":[{"code":"UNAUTHORIZED","message":"log in"}]}"#,
            )
        },
    };
    let stub = HttpStub::start(echo);
    let r = reference(&format!("oci://{}/acme/security:1", stub.addr()));

    let password = "echo-Pass-w0rd-5531";
    let basic = Client::with_lookup(
        Options {
            credentials: Credentials::Basic {
                username_env: "U".into(),
                password_env: "P".into(),
            },
            ..options()
        },
        &|name: &str| Some(if name == "U" { "echo-user" } else { password }.into()),
    )
    .unwrap();
    let pair = format!("echo-user:{password}");
    let encoded = base64::engine::general_purpose::STANDARD.encode(&pair);
    let err = basic.pull(&r, TYPE).await.unwrap_err();
    let (text, debug) = (err.to_string(), format!("{err:?}"));
    assert!(
        text.contains("refused `Basic ***` (that is `***`)"),
        "{text}"
    );
    for secret in [password, pair.as_str(), encoded.as_str()] {
        assert!(!text.contains(secret), "{text}");
        assert!(!debug.contains(secret), "{debug}");
    }

    let token = "echo-bearer-token-7f3a9c";
    let bearer = Client::with_lookup(
        Options {
            credentials: Credentials::Bearer {
                token_env: "T".into(),
            },
            ..options()
        },
        &|_| Some(token.into()),
    )
    .unwrap();
    let err = bearer.pull(&r, TYPE).await.unwrap_err();
    let (text, debug) = (err.to_string(), format!("{err:?}"));
    assert!(text.contains("refused `Bearer ***`"), "{text}");
    assert!(
        !text.contains(token) && !debug.contains(token),
        "{text} {debug}"
    );
}

/// Basic credentials against a registry with token auth: oci-client follows
/// the registry's challenge to the token server, trades the credentials for
/// a token there, and presents that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_credentials_are_exchanged_for_a_token_at_the_realm() {
    let issuer = TokenIssuer::new();
    let password = "exchange-Pass-w0rd-2290";
    let tokens = TokenServer::start(issuer.clone(), "ci-bot", password);
    let registry = RegistryServer::start(Auth::Token {
        issuer,
        realm: tokens.realm(),
    });
    let with = |password: &'static str| {
        Client::with_lookup(
            Options {
                credentials: Credentials::Basic {
                    username_env: "U".into(),
                    password_env: "P".into(),
                },
                ..options()
            },
            &move |name: &str| Some(if name == "U" { "ci-bot" } else { password }.into()),
        )
        .unwrap()
    };
    let tag = reference(&registry.reference("acme/security:1"));
    let right = with(password);
    let digest = right.push(&tag, &artifact("1")).await.unwrap();
    assert_eq!(right.pull(&tag, TYPE).await.unwrap().digest, digest);
    assert!(tokens.requests() >= 2, "a push and a pull token");
    let err = with("wrong-exchange-pw-1")
        .pull(&tag, TYPE)
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::Unauthorized { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains(password));
}
