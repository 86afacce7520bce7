//! The runtime: the precompiled cache, core modules, fresh stores, pinned
//! digests and the policies' own config validation.

use shipgate_core::config::{Config, Limits};
use shipgate_engine::policy_set::{PolicySet, SetupError};
use shipgate_engine::report::PolicyOutcome;
use shipgate_engine::runtime::{CacheMode, CacheStats, Runtime};
use shipgate_model::{Stage, Verdict};
use shipgate_tests::guests;

use crate::support::{error_ratio, example, hostile, setup, shared_cache};

#[test]
fn a_cache_hit_does_not_recompile() {
    let dir = tempfile::tempdir().unwrap();
    let cache = CacheMode::Dir(dir.path().to_owned());
    let bytes = std::fs::read(guests::ERROR_RATIO).unwrap();

    let first = Runtime::new(&Limits::default(), &cache).unwrap();
    let a = first.load(&bytes).unwrap();
    assert_eq!(
        first.cache_stats(),
        CacheStats {
            compiled: 1,
            cache_hits: 0,
            ..CacheStats::default()
        }
    );

    let second = Runtime::new(&Limits::default(), &cache).unwrap();
    let b = second.load(&bytes).unwrap();
    assert_eq!(
        second.cache_stats(),
        CacheStats {
            compiled: 0,
            cache_hits: 1,
            ..CacheStats::default()
        }
    );
    assert_eq!(a.sha256(), b.sha256());
    assert_eq!(a.info(), b.info());

    // One artifact, keyed by the component's sha256 and the engine's hash.
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(files.len(), 1, "one artifact per component and engine");
    let name = files[0].as_ref().unwrap().file_name();
    assert!(name.to_string_lossy().starts_with(a.sha256()), "{name:?}");

    // A corrupt artifact is discarded and recompiled, not trusted.
    let artifact = files[0].as_ref().unwrap().path();
    std::fs::write(&artifact, b"not an artifact").unwrap();
    let third = Runtime::new(&Limits::default(), &cache).unwrap();
    third.load(&bytes).unwrap();
    assert_eq!(
        third.cache_stats(),
        CacheStats {
            compiled: 1,
            cache_hits: 0,
            ..CacheStats::default()
        }
    );
    assert_ne!(std::fs::read(&artifact).unwrap(), b"not an artifact");
}

#[test]
fn without_a_cache_every_runtime_compiles() {
    let bytes = std::fs::read(guests::ERROR_RATIO).unwrap();
    for _ in 0..2 {
        let rt = Runtime::new(&Limits::default(), &CacheMode::Disabled).unwrap();
        rt.load(&bytes).unwrap();
        assert_eq!(
            rt.cache_stats(),
            CacheStats {
                compiled: 1,
                cache_hits: 0,
                ..CacheStats::default()
            }
        );
    }
}

/// The default set starts without Cranelift and without a cache: every
/// built-in's machine code was compiled when the binary was built.
#[test]
fn the_default_set_is_not_compiled_at_start() {
    let config =
        Config::from_default_toml(shipgate_engine::builtin::DEFAULT_CONFIG, "default").unwrap();
    let set = PolicySet::load(&config, &CacheMode::Disabled).unwrap();
    let n = set.policies().count() as u64;
    assert!(n >= 5, "{n}");
    assert_eq!(
        set.runtime().cache_stats(),
        CacheStats {
            compiled: 0,
            cache_hits: 0,
            precompiled: n,
            preinitialised: 0,
        }
    );
}

#[test]
fn a_core_module_is_componentized_at_load() {
    let rt = Runtime::new(&Limits::default(), &shared_cache()).unwrap();
    let core = std::fs::read(guests::ERROR_RATIO_CORE).unwrap();
    let component = std::fs::read(guests::ERROR_RATIO).unwrap();
    let from_core = rt.load(&core).unwrap();
    let from_component = rt.load(&component).unwrap();
    assert_eq!(from_core.sha256(), from_component.sha256());
    assert_eq!(from_core.info().name, "error-ratio");
    assert_eq!(from_core.info().stages, vec![Stage::Canary]);
}

#[test]
fn garbage_is_not_a_policy() {
    let rt = Runtime::new(&Limits::default(), &shared_cache()).unwrap();
    let err = rt.load(b"\0asm but not really").unwrap_err();
    assert!(err.to_string().contains("not a WebAssembly"), "{err}");
}

#[test]
fn every_evaluation_gets_a_fresh_instance() {
    let s = setup(&hostile("count", "count", ""));
    // A cache of its own: a snapshot cached by another run is used at load.
    let cache = tempfile::tempdir().unwrap();
    for preinit in [false, true] {
        let mut policies =
            PolicySet::load(&s.config(), &CacheMode::Dir(cache.path().to_owned())).unwrap();
        if preinit {
            assert!(policies.preinitialise().is_empty());
        }
        let (_, policy) = policies.policies().next().unwrap();
        assert_eq!(policy.is_preinitialised(), preinit);
        for _ in 0..3 {
            let report = policies.evaluate(Stage::Gate, &example("canary-healthy"));
            let PolicyOutcome::Decided(d) = &report.policies[0].outcome else {
                panic!("{:?}", report.policies[0].outcome)
            };
            assert_eq!(
                d.findings[0].message, "configured 1, evaluated 1",
                "pre-initialised: {preinit}: a global survived an evaluation, or the \
                 configuration was not applied exactly once"
            );
        }
    }
}

#[test]
fn a_preinitialised_snapshot_is_cached_by_component_and_config() {
    let dir = tempfile::tempdir().unwrap();
    let cache = CacheMode::Dir(dir.path().to_owned());
    let bytes = std::fs::read(guests::ERROR_RATIO).unwrap();
    let spike = example("canary-error-spike");

    let first = Runtime::new(&Limits::default(), &cache).unwrap();
    let loaded = first.load(&bytes).unwrap();
    let mut policy = first.configure(&loaded, "{}").unwrap().unwrap();
    assert!(!policy.is_preinitialised());
    let before = policy.evaluate(Stage::Canary, &spike).0.unwrap();
    first.preinitialise(&mut policy).unwrap();
    assert!(policy.is_preinitialised());
    assert_eq!(policy.evaluate(Stage::Canary, &spike).0.unwrap(), before);
    // The component, the instrumented component, the snapshot.
    assert_eq!(first.cache_stats().compiled, 3);
    assert_eq!(first.cache_stats().preinitialised, 1);

    // A later run configures straight from the cached snapshot; another
    // configuration is another snapshot (not there yet).
    let second = Runtime::new(&Limits::default(), &cache).unwrap();
    let loaded = second.load(&bytes).unwrap();
    let cached = second.configure(&loaded, "{}").unwrap().unwrap();
    assert!(cached.is_preinitialised());
    assert_eq!(cached.evaluate(Stage::Canary, &spike).0.unwrap(), before);
    let other = second
        .configure(&loaded, r#"{"max_ratio": 100.0}"#)
        .unwrap()
        .unwrap();
    assert!(!other.is_preinitialised());
    assert_ne!(other.evaluate(Stage::Canary, &spike).0.unwrap(), before);
    assert_eq!(second.cache_stats().compiled, 0);
}

#[test]
fn a_pinned_digest_must_match() {
    let rt = Runtime::new(&Limits::default(), &shared_cache()).unwrap();
    let sha = rt
        .load(&std::fs::read(guests::ERROR_RATIO).unwrap())
        .unwrap()
        .sha256()
        .to_owned();
    let ok = setup(&error_ratio(&format!("sha256 = \"{sha}\"")));
    ok.policies();
    let wrong = "0".repeat(64);
    let bad = setup(&error_ratio(&format!("sha256 = \"{wrong}\"")));
    let err = PolicySet::load(&bad.config(), &shared_cache()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("policies[0].sha256"), "{text}");
    assert!(text.contains(&sha), "{text}");
}

/// The text of the error that stops the host from starting on `toml`, with
/// the temporary path shown as `shipgate.toml`.
fn setup_error(toml: &str) -> String {
    let s = setup(toml);
    let err = PolicySet::load(&s.config(), &shared_cache()).unwrap_err();
    assert!(matches!(err, SetupError::Config(_)), "{err:?}");
    err.to_string()
        .replace(&s.config_path.display().to_string(), "shipgate.toml")
}

#[test]
fn a_policy_refusing_its_config_stops_the_host_naming_file_line_and_key() {
    insta::assert_snapshot!(setup_error(&error_ratio(
        "[policies.config]\nmax_ratio = 0.5"
    )));
}

#[test]
fn an_unknown_key_in_a_policy_config_is_refused_by_the_policy() {
    insta::assert_snapshot!(setup_error(&error_ratio(
        "[policies.config]\nmax_ratoi = 3.0"
    )));
}

#[test]
fn an_unknown_builtin_names_the_ones_there_are() {
    insta::assert_snapshot!(setup_error(
        "[[policies]]\nname = \"x\"\nsource = \"builtin:nope\"\n"
    ));
}

#[test]
fn the_builtin_default_config_loads() {
    let config =
        Config::from_default_toml(shipgate_engine::builtin::DEFAULT_CONFIG, "default").unwrap();
    let policies = PolicySet::load(&config, &shared_cache()).unwrap();
    let report = policies.evaluate(Stage::Canary, &example("canary-error-spike"));
    assert_eq!(report.verdict, Verdict::Rollback, "{:#?}", report.policies);
}
