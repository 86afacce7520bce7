//! Credentials read from the process's real environment (`Client::new`):
//! a test binary of its own, with this one test, so that setting the
//! variables races with no other thread.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::Duration;

use shipgate_registry::{Artifact, Blob, Client, Credentials, Options, Reference, RegistryError};
use shipgate_tests::registry::{Auth, RegistryServer};

#[test]
fn basic_credentials_come_from_the_variables_the_options_name() {
    let password = "env-Registry-pw-8842";
    // SAFETY: the only test of this binary, before any other thread of it
    // (the runtime's included) starts.
    unsafe {
        std::env::set_var("SHIPGATE_TEST_REGISTRY_USER", "env-bot");
        std::env::set_var("SHIPGATE_TEST_REGISTRY_PASSWORD", password);
        std::env::set_var("SHIPGATE_TEST_REGISTRY_WRONG", "env-wrong-pw-1133");
    }
    let registry = RegistryServer::start(Auth::Basic {
        user: "env-bot".into(),
        password: password.into(),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let options = |password_env: &str| Options {
        credentials: Credentials::Basic {
            username_env: "SHIPGATE_TEST_REGISTRY_USER".into(),
            password_env: password_env.into(),
        },
        timeout: Duration::from_secs(30),
        ..Options::default()
    };
    let tag: Reference = registry.reference("acme/security:1").parse().unwrap();
    let artifact = Artifact {
        artifact_type: "application/vnd.shipgate.test.v1".into(),
        config: Blob {
            media_type: "application/json".into(),
            bytes: b"{}".to_vec(),
        },
        layers: Vec::new(),
        annotations: BTreeMap::new(),
    };
    runtime.block_on(async {
        let right = Client::new(options("SHIPGATE_TEST_REGISTRY_PASSWORD")).unwrap();
        let digest = right.push(&tag, &artifact).await.unwrap();
        let pulled = right
            .pull(&tag, "application/vnd.shipgate.test.v1")
            .await
            .unwrap();
        assert_eq!(pulled.digest, digest);
        let wrong = Client::new(options("SHIPGATE_TEST_REGISTRY_WRONG")).unwrap();
        let err = wrong
            .pull(&tag, "application/vnd.shipgate.test.v1")
            .await
            .unwrap_err();
        assert!(matches!(err, RegistryError::Unauthorized { .. }), "{err:?}");
        for secret in [password, "env-wrong-pw-1133"] {
            for text in [
                err.to_string(),
                format!("{err:?}"),
                format!("{right:?}"),
                format!("{wrong:?}"),
            ] {
                assert!(!text.contains(secret), "{text}");
            }
            // Registered as secrets when read.
            assert_eq!(shipgate_core::redact::scrub(secret), "***");
        }
    });
}
