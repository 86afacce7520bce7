//! The crate's behaviour end to end, in memory: build, the layout, signing,
//! and every refusal of verification with its attack.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;

use time::OffsetDateTime;
use time::macros::datetime;

use crate::keys::PrivateKey;
use crate::oci::{Descriptor, ImageManifest};
use crate::{Bundle, Error, Layout, SequenceStore, SignOutcome, Trust, media, source};

const BUNDLE_TOML: &str = r#"name = "acme/security"
version = "1.4.0"
sequence = 7
expires = 2030-01-01T00:00:00Z
min_shipgate = "0.1.0"
contract = "shipgate:policy@0.2.0"

[[policies]]
name = "env"
source = "builtin:env"
stages = ["gate"]

[[policies]]
name = "team"
source = "policies/team.wasm"
mode = "advisory"
[policies.config]
limit = 3
"#;

const NOW: OffsetDateTime = datetime!(2027-01-01 00:00 UTC);

fn write(dir: &Path, path: &str, bytes: &[u8]) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn source_dir(toml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "bundle.toml", toml.as_bytes());
    write(dir.path(), "policies/team.wasm", b"\0asm\x0d\0\x01\0fake");
    write(
        dir.path(),
        "cases/a.toml",
        b"snapshot = \"s/a.json\"\nconfig = \"../shipgate.toml\"\n",
    );
    write(dir.path(), "cases/s/a.json", b"{}");
    dir
}

fn built() -> Bundle {
    source::build(source_dir(BUNDLE_TOML).path()).unwrap()
}

fn trust(keys: &[&PrivateKey], allowed: &[&PrivateKey], threshold: u32) -> Trust {
    let mut text = String::new();
    for k in keys {
        text.push_str(&format!(
            "[[keys]]\nid = \"{}\"\npublic = \"{}\"\n\n",
            k.id(),
            k.public_base64()
        ));
    }
    let ids: Vec<String> = allowed.iter().map(|k| format!("\"{}\"", k.id())).collect();
    text.push_str(&format!(
        "[[bundles]]\nscope = \"acme/*\"\nkeys = [{}]\nthreshold = {threshold}\n",
        ids.join(", ")
    ));
    Trust::parse(&text, "trust.toml").unwrap()
}

fn blobs(bundle: &Bundle) -> BTreeMap<String, Vec<u8>> {
    bundle
        .blobs()
        .map(|(d, b)| (d.digest.clone(), b.to_vec()))
        .collect()
}

/// The bundle with `edit` applied to its manifest (blobs as given).
fn rebuilt(
    bundle: &Bundle,
    blobs: BTreeMap<String, Vec<u8>>,
    edit: impl FnOnce(&mut ImageManifest),
) -> crate::Result<Bundle> {
    let mut manifest = bundle.manifest().clone();
    edit(&mut manifest);
    Bundle::from_parts(
        serde_json::to_vec(&manifest).unwrap(),
        bundle.config_bytes().to_vec(),
        blobs,
    )
}

#[test]
fn a_build_is_the_same_bytes_every_time() {
    let dir = source_dir(BUNDLE_TOML);
    let a = Layout::of(&source::build(dir.path()).unwrap()).to_tar();
    let b = Layout::of(&source::build(dir.path()).unwrap()).to_tar();
    assert_eq!(a, b);
    // A touched file (new mtime) changes nothing; a changed byte does.
    write(dir.path(), "cases/s/a.json", b"{}");
    assert_eq!(Layout::of(&source::build(dir.path()).unwrap()).to_tar(), a);
    write(dir.path(), "cases/s/a.json", b"{ }");
    assert_ne!(Layout::of(&source::build(dir.path()).unwrap()).to_tar(), a);
}

#[test]
fn the_artifact_is_an_oci_manifest_with_titled_layers() {
    let bundle = built();
    let m = bundle.manifest();
    assert_eq!(m.artifact_type.as_deref(), Some(media::ARTIFACT_TYPE));
    assert_eq!(m.config.media_type, media::CONFIG);
    let titles: Vec<(&str, &str)> = m
        .layers
        .iter()
        .map(|l| (l.title().unwrap(), l.media_type.as_str()))
        .collect();
    assert_eq!(
        titles,
        [
            ("cases/a.toml", media::CASE),
            ("cases/s/a.json", media::SNAPSHOT),
            ("config/env.json", media::POLICY_CONFIG),
            ("config/team.json", media::POLICY_CONFIG),
            ("policies/team.wasm", media::COMPONENT),
        ]
    );
    let c = bundle.config();
    assert_eq!(
        (c.name.as_str(), c.version.as_str(), c.sequence),
        ("acme/security", "1.4.0", 7)
    );
    assert_eq!(c.policies[1].source, "policies/team.wasm");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(bundle.file("config/team.json").unwrap())
            .unwrap(),
        serde_json::json!({"limit": 3})
    );
    let toml = bundle.shipgate_toml().unwrap();
    assert!(toml.contains("source = \"policies/team.wasm\""), "{toml}");
    assert!(
        toml.contains(&format!(
            "sha256 = \"{}\"",
            bundle.config().files[4]
                .digest
                .trim_start_matches("sha256:")
        )),
        "{toml}"
    );
}

#[test]
fn tar_and_directory_layouts_round_trip() {
    let mut bundle = built();
    bundle.sign(&PrivateKey::generate().unwrap()).unwrap();
    let tar = Layout::of(&bundle).to_tar();
    let back = Layout::from_tar(&tar).unwrap().bundle().unwrap();
    assert_eq!(back.digest(), bundle.digest());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("layout");
    Layout::of(&bundle).write_dir(&out).unwrap();
    assert!(out.join("oci-layout").is_file());
    let again = Layout::read_dir(&out).unwrap().bundle().unwrap();
    assert_eq!(again.digest(), bundle.digest());
    assert_eq!(Layout::of(&again).to_tar(), tar);
    // Not over a non-empty directory.
    assert!(Layout::of(&bundle).write_dir(&out).is_err());
}

#[test]
fn layers_are_found_by_digest_not_position() {
    let bundle = built();
    let reversed = rebuilt(&bundle, blobs(&bundle), |m| m.layers.reverse()).unwrap();
    assert_eq!(
        reversed.file("policies/team.wasm"),
        bundle.file("policies/team.wasm")
    );
    assert_eq!(reversed.config().policies, bundle.config().policies);
}

#[test]
fn a_tampered_blob_is_refused() {
    let bundle = built();
    let mut blobs = blobs(&bundle);
    let layer = bundle.manifest().layers[4].clone();
    blobs.get_mut(&layer.digest).unwrap()[5] ^= 1;
    let err = rebuilt(&bundle, blobs, |_| {}).unwrap_err();
    assert!(matches!(err, Error::Tampered { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("bundle `acme/security`: file `policies/team.wasm` was tampered with"),
        "{err}"
    );
    // A tampered config blob.
    let mut config = bundle.config_bytes().to_vec();
    config[10] ^= 1;
    let err = Bundle::from_parts(
        bundle.manifest_bytes().to_vec(),
        config,
        self::blobs(&bundle),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Tampered { .. }), "{err}");
}

#[test]
fn a_missing_or_extra_layer_is_refused() {
    let bundle = built();
    let err = rebuilt(&bundle, blobs(&bundle), |m| {
        m.layers.retain(|l| l.title() != Some("cases/a.toml"));
    })
    .unwrap_err();
    assert!(matches!(err, Error::MissingFile { .. }), "{err}");
    assert!(err.to_string().contains("file `cases/a.toml`"), "{err}");

    let mut more = blobs(&bundle);
    let evil = Descriptor::of(media::COMPONENT, b"\0asm evil").titled("policies/evil.wasm");
    more.insert(evil.digest.clone(), b"\0asm evil".to_vec());
    let err = rebuilt(&bundle, more, |m| m.layers.push(evil)).unwrap_err();
    assert!(matches!(err, Error::ExtraFile { .. }), "{err}");
    assert!(
        err.to_string().contains("extra file `policies/evil.wasm`"),
        "{err}"
    );

    let mut fewer = blobs(&bundle);
    fewer.remove(&bundle.manifest().layers[0].digest);
    assert!(matches!(
        rebuilt(&bundle, fewer, |_| {}).unwrap_err(),
        Error::MissingBlob { .. }
    ));
}

#[test]
fn threshold_signatures_verify() {
    let (a, b, c) = (
        PrivateKey::generate().unwrap(),
        PrivateKey::generate().unwrap(),
        PrivateKey::generate().unwrap(),
    );
    let mut bundle = built();
    let before = bundle.config_digest().to_owned();
    assert_eq!(bundle.sign(&a).unwrap(), SignOutcome::Added);
    let once = bundle.digest();
    assert_eq!(bundle.sign(&a).unwrap(), SignOutcome::AlreadySigned);
    assert_eq!(
        bundle.digest(),
        once,
        "signing twice with one key changes nothing"
    );
    bundle.sign(&b).unwrap();
    assert_eq!(bundle.config_digest(), before);
    let store = SequenceStore::in_memory();
    let trust2 = trust(&[&a, &b, &c], &[&a, &b, &c], 2);
    let v = bundle.verify(&trust2, NOW, &store).unwrap();
    let mut expected = vec![a.id().to_owned(), b.id().to_owned()];
    expected.sort();
    assert_eq!(v.signers, expected);
    assert_eq!(v.threshold, Some(2));

    // 2 of 3 required, only one allowed key signed.
    let err = bundle
        .verify(&trust(&[&a, &b, &c], &[&a, &c], 2), NOW, &store)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ThresholdNotMet {
                valid: 1,
                threshold: 2,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn unsigned_bundles_never_load_once_trust_is_configured() {
    let a = PrivateKey::generate().unwrap();
    let bundle = built();
    let err = bundle
        .verify(&trust(&[&a], &[&a], 1), NOW, &SequenceStore::in_memory())
        .unwrap_err();
    assert!(matches!(err, Error::Unsigned { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("bundle `acme/security` is unsigned"),
        "{err}"
    );
    // Without trust it is only checked for integrity.
    let v = bundle
        .verify(&Trust::unconfigured(), NOW, &SequenceStore::in_memory())
        .unwrap();
    assert!(!v.trusted && v.signers.is_empty());
    // Trust with no rule for the name refuses it too.
    let other = Trust::parse(
        &format!("[[keys]]\nid = \"{}\"\npublic = \"{}\"\n[[bundles]]\nscope = \"other/*\"\nkeys = [\"{0}\"]\n", a.id(), a.public_base64()),
        "trust.toml",
    )
    .unwrap();
    assert!(matches!(
        bundle
            .verify(&other, NOW, &SequenceStore::in_memory())
            .unwrap_err(),
        Error::NoTrustRule { .. }
    ));
}

#[test]
fn a_key_not_allowed_is_refused() {
    let (a, b) = (
        PrivateKey::generate().unwrap(),
        PrivateKey::generate().unwrap(),
    );
    let mut bundle = built();
    bundle.sign(&b).unwrap();
    // b is known but not allowed; an unknown key is the same refusal.
    for t in [trust(&[&a, &b], &[&a], 1), trust(&[&a], &[&a], 1)] {
        let err = bundle
            .verify(&t, NOW, &SequenceStore::in_memory())
            .unwrap_err();
        assert!(matches!(err, Error::KeyNotAllowed { .. }), "{err}");
        assert!(err.to_string().contains(b.id()), "{err}");
    }
}

#[test]
fn a_forged_signature_is_refused() {
    let (a, b) = (
        PrivateKey::generate().unwrap(),
        PrivateKey::generate().unwrap(),
    );
    let mut bundle = built();
    bundle.sign(&b).unwrap();
    // A signature by b, relabelled as a's.
    let mut blobs = blobs(&bundle);
    let layer = bundle.manifest().layers.last().unwrap().clone();
    let text = String::from_utf8(blobs.remove(&layer.digest).unwrap()).unwrap();
    let forged = text.replace(b.id(), a.id()).into_bytes();
    let desc = Descriptor::of(media::SIGNATURE, &forged).titled("signatures/x.dsse.json");
    blobs.insert(desc.digest.clone(), forged);
    let forged = rebuilt(&bundle, blobs, |m| {
        m.layers.pop();
        m.layers.push(desc);
    })
    .unwrap();
    let err = forged
        .verify(&trust(&[&a], &[&a], 1), NOW, &SequenceStore::in_memory())
        .unwrap_err();
    assert!(matches!(err, Error::BadSignature { .. }), "{err}");
}

#[test]
fn a_signature_of_other_content_is_refused() {
    // The attacker changes a file and makes manifest and config agree (new
    // config blob), keeping the old signature: the statement no longer
    // matches.
    let a = PrivateKey::generate().unwrap();
    let mut bundle = built();
    bundle.sign(&a).unwrap();
    let mut config = bundle.config().clone();
    let new_case =
        b"snapshot = \"s/a.json\"\nconfig = \"../shipgate.toml\"\nstage = \"risk\"\n".to_vec();
    let entry = config
        .files
        .iter_mut()
        .find(|f| f.path == "cases/a.toml")
        .unwrap();
    entry.digest = crate::digest::of(&new_case);
    entry.size = new_case.len() as u64;
    let config_bytes = serde_json::to_vec(&config).unwrap();
    let mut blobs = blobs(&bundle);
    blobs.insert(crate::digest::of(&new_case), new_case.clone());
    let mut manifest = bundle.manifest().clone();
    manifest.config = Descriptor::of(media::CONFIG, &config_bytes);
    for l in &mut manifest.layers {
        if l.title() == Some("cases/a.toml") {
            *l = Descriptor::of(media::CASE, &new_case).titled("cases/a.toml");
        }
    }
    let swapped =
        Bundle::from_parts(serde_json::to_vec(&manifest).unwrap(), config_bytes, blobs).unwrap();
    let err = swapped
        .verify(&trust(&[&a], &[&a], 1), NOW, &SequenceStore::in_memory())
        .unwrap_err();
    assert!(matches!(err, Error::StatementMismatch { .. }), "{err}");
    assert!(err.to_string().contains("config blob"), "{err}");
}

#[test]
fn expired_rolled_back_and_incompatible_bundles_are_refused() {
    let a = PrivateKey::generate().unwrap();
    let t = trust(&[&a], &[&a], 1);
    let mut bundle = built();
    bundle.sign(&a).unwrap();
    let err = bundle
        .verify(
            &t,
            datetime!(2030-01-01 00:00 UTC),
            &SequenceStore::in_memory(),
        )
        .unwrap_err();
    assert!(matches!(err, Error::Expired { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("expired at 2030-01-01T00:00:00Z (now is 2030-01-01T00:00:00Z)"),
        "{err}"
    );

    // Accept sequence 7, then a signed sequence 8; then 7 is a rollback.
    let dir = tempfile::tempdir().unwrap();
    let mut store = SequenceStore::open(dir.path()).unwrap();
    let v7 = bundle.verify(&t, NOW, &store).unwrap();
    store.accept(&v7).unwrap();
    let mut newer =
        source::build(source_dir(&BUNDLE_TOML.replace("sequence = 7", "sequence = 8")).path())
            .unwrap();
    newer.sign(&a).unwrap();
    store
        .accept(&newer.verify(&t, NOW, &store).unwrap())
        .unwrap();
    let reopened = SequenceStore::open(dir.path()).unwrap();
    assert_eq!(reopened.get("acme/security").unwrap().sequence, 8);
    let err = bundle.verify(&t, NOW, &reopened).unwrap_err();
    assert!(
        matches!(
            err,
            Error::RolledBack {
                sequence: 7,
                accepted: 8,
                ..
            }
        ),
        "{err}"
    );
    // The same sequence with other content.
    let mut same = source::build(
        source_dir(
            &BUNDLE_TOML
                .replace("sequence = 7", "sequence = 8")
                .replace("limit = 3", "limit = 4"),
        )
        .path(),
    )
    .unwrap();
    same.sign(&a).unwrap();
    assert!(matches!(
        same.verify(&t, NOW, &reopened).unwrap_err(),
        Error::SequenceReused { .. }
    ));

    for (from, to, want) in [
        (
            "min_shipgate = \"0.1.0\"",
            "min_shipgate = \"99.0.0\"",
            "needs Shipgate 99.0.0",
        ),
        (
            "shipgate:policy@0.2.0",
            "shipgate:policy@0.3.0",
            "built for the contract `shipgate:policy@0.3.0`",
        ),
    ] {
        let mut b = source::build(source_dir(&BUNDLE_TOML.replace(from, to)).path()).unwrap();
        b.sign(&a).unwrap();
        let err = b
            .verify(&t, NOW, &SequenceStore::in_memory())
            .unwrap_err()
            .to_string();
        assert!(err.contains(want), "{err}");
    }
}

#[test]
fn bundle_toml_errors_are_located() {
    let err = |text: &str| match source::build(source_dir(text).path()) {
        Ok(_) => panic!("built:\n{text}"),
        Err(e) => {
            let s = e.to_string();
            s.split_once("bundle.toml")
                .map(|(_, rest)| format!("bundle.toml{rest}"))
                .unwrap_or(s)
        }
    };
    assert_eq!(
        err(&BUNDLE_TOML.replace("\"acme/security\"", "\"Acme Security\"")),
        "bundle.toml:1:8: key `name`: `Acme Security` is not a bundle name\n  help: use lowercase letters, digits, `.`, `_` and `-` in `/`-separated parts, such as `acme/security`"
    );
    assert!(
        err(&BUNDLE_TOML.replace("\"1.4.0\"", "\"1.4\""))
            .starts_with("bundle.toml:2:11: key `version`: `1.4` is not a semantic version")
    );
    assert!(
        err(&BUNDLE_TOML.replace("sequence = 7\n", "")).contains("missing required key `sequence`")
    );
    assert!(
        err(&BUNDLE_TOML.replace("sequence = 7", "sequence = -1"))
            .starts_with("bundle.toml:3:12: key `sequence`")
    );
    assert!(
        err(&BUNDLE_TOML.replace("2030-01-01T00:00:00Z", "\"soon\""))
            .starts_with("bundle.toml:4:11: key `expires`: `soon` is not an RFC 3339 time")
    );
    let e = err(&BUNDLE_TOML.replace("mode = \"advisory\"", "mode = \"loud\""));
    assert!(
        e.starts_with("bundle.toml:16:8: key `policies[1].mode`: unknown variant `loud`"),
        "{e}"
    );
    let e = err(&BUNDLE_TOML.replace("policies/team.wasm", "../team.wasm"));
    assert!(e.starts_with("bundle.toml:15:10: key `policies[1].source`: `../team.wasm` is not a `.wasm` path inside the bundle's directory"), "{e}");
    let e = err(&BUNDLE_TOML.replace(
        "mode = \"advisory\"",
        "sha256 = \"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"",
    ));
    assert!(e.starts_with("bundle.toml:16:10: key `policies[1].sha256`: a bundle pins every file by its digest itself"), "{e}");
    assert!(err(&BUNDLE_TOML.replace("stages", "stagse")).contains("did you mean `stages`?"));
}

#[test]
fn source_files_that_cannot_go_into_a_bundle_are_refused() {
    let dir = source_dir(BUNDLE_TOML);
    write(dir.path(), "cases/notes.md", b"x");
    let err = source::build(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("cases/notes.md") && err.contains("holds case files"),
        "{err}"
    );
    let dir = source_dir(BUNDLE_TOML);
    write(dir.path(), "policies/team.wasm", b"not wasm");
    let err = source::build(dir.path()).unwrap_err().to_string();
    assert!(err.contains("is not a WebAssembly component"), "{err}");
    #[cfg(unix)]
    {
        let dir = source_dir(BUNDLE_TOML);
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("cases/passwd.toml")).unwrap();
        let err = source::build(dir.path()).unwrap_err().to_string();
        assert!(err.contains("symbolic link"), "{err}");
    }
}

#[test]
fn hostile_tars_are_refused() {
    let bundle = built();
    let good = Layout::of(&bundle).to_tar();
    // A path outside the layout.
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_size(1);
    header.set_mode(0o644);
    header.as_mut_bytes()[..11].copy_from_slice(b"../../etc/x");
    header.set_cksum();
    builder.append(&header, &b"x"[..]).unwrap();
    let err = Layout::from_tar(&builder.into_inner().unwrap())
        .unwrap_err()
        .to_string();
    assert!(err.contains("not part of an OCI image layout"), "{err}");
    // A symbolic link.
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(tar::EntryType::Symlink);
    header.set_size(0);
    builder
        .append_link(&mut header, "index.json", "/etc/passwd")
        .unwrap();
    let err = Layout::from_tar(&builder.into_inner().unwrap())
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a regular file"), "{err}");
    // Garbage.
    assert!(Layout::from_tar(b"garbage").is_err());
    assert!(Layout::from_tar(&good).is_ok());
}
