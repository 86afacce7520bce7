//! Policy bundles through the real binary, offline: keygen, build (from
//! `tests/fixtures/bundles/security`: a `builtin:` policy and a `rules`
//! policy with CEL, and golden cases), test, sign with two keys, verify
//! against a 2-of-2 trust file, and each refusal with its own message: a
//! tampered blob, an unsigned bundle, a key not allowed, too few
//! signatures, an expired bundle, a rollback, an extra and a missing file,
//! a rewritten bundle that no longer matches its signed statement.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::support::{run, shipgate};

const NOW: &str = "2027-01-01T00:00:00Z";

pub(super) fn fixture() -> PathBuf {
    shipgate_tests::workspace().join("tests/fixtures/bundles/security")
}

/// A working directory with three keys: `org` and `team` (both trusted for
/// `acme/*`, threshold 2) and `outsider` (not in the trust file).
pub(super) struct Kit {
    dir: tempfile::TempDir,
    /// Every line any command printed, to check no private key leaked.
    printed: String,
}

impl Kit {
    pub(super) fn new() -> Kit {
        let mut kit = Kit {
            dir: tempfile::tempdir().unwrap(),
            printed: String::new(),
        };
        for name in ["org", "team", "outsider"] {
            kit.ok(&["keygen", name]);
        }
        let trust = format!(
            "{}\n{}\n[[bundles]]\nscope = \"acme/*\"\nkeys = [\"{}\", \"{}\"]\nthreshold = 2\n",
            kit.key_table("org"),
            kit.key_table("team"),
            kit.key_id("org"),
            kit.key_id("team"),
        );
        std::fs::write(kit.path("trust.toml"), trust).unwrap();
        kit
    }

    pub(super) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn public(&self, name: &str) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.path(&format!("{name}.pub"))).unwrap()).unwrap()
    }

    pub(super) fn key_id(&self, name: &str) -> String {
        self.public(name)["keyid"].as_str().unwrap().to_owned()
    }

    fn key_table(&self, name: &str) -> String {
        let public = self.public(name);
        format!(
            "[[keys]]\nid = \"{}\"\npublic = \"{}\"\nname = \"{name}\"\n",
            public["keyid"].as_str().unwrap(),
            public["public"].as_str().unwrap()
        )
    }

    /// The private seed of a key, as its file holds it.
    fn seed(&self, name: &str) -> String {
        let file: serde_json::Value =
            serde_json::from_slice(&std::fs::read(self.path(&format!("{name}.key"))).unwrap())
                .unwrap();
        file["seed"].as_str().unwrap().to_owned()
    }

    /// Runs `shipgate ARGS` in the kit's directory: (code, stdout, stderr).
    pub(super) fn run(&mut self, args: &[&str]) -> (i32, String, String) {
        let (code, out, err) = run(shipgate().current_dir(self.dir.path()).args(args));
        self.printed.push_str(&out);
        self.printed.push_str(&err);
        (code, out, err)
    }

    /// Runs and expects success; returns stdout.
    pub(super) fn ok(&mut self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 0, "shipgate {args:?}\nstdout:\n{out}\nstderr:\n{err}");
        out
    }

    /// Runs and expects a refusal (exit 1); returns stderr.
    pub(super) fn refused(&mut self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 1, "shipgate {args:?}\nstdout:\n{out}\nstderr:\n{err}");
        err
    }

    /// Builds `source` into `name`.
    pub(super) fn build(&mut self, source: &Path, name: &str) -> PathBuf {
        self.ok(&["bundle", "build", source.to_str().unwrap(), "-o", name]);
        self.path(name)
    }

    /// The fixture, signed by `keys`, as `name`.
    pub(super) fn signed(&mut self, name: &str, keys: &[&str]) -> PathBuf {
        let path = self.build(&fixture(), name);
        self.sign(name, keys);
        path
    }

    /// Signs the bundle file `name` with each of `keys` (`KEY.key`).
    pub(super) fn sign(&mut self, name: &str, keys: &[&str]) {
        for key in keys {
            self.ok(&["bundle", "sign", name, "--key", &format!("{key}.key")]);
        }
    }

    /// `bundle verify NAME` against the kit's trust file, at [`NOW`], with
    /// the kit's store: the refusal's stderr.
    fn verify_refused(&mut self, name: &str) -> String {
        self.refused(&[
            "bundle",
            "verify",
            name,
            "--trust",
            "trust.toml",
            "--now",
            NOW,
        ])
    }

    pub(super) fn no_private_key_printed(&self) {
        for key in ["org", "team", "outsider"] {
            let seed = self.seed(key);
            assert!(
                !self.printed.contains(&seed),
                "the private key of `{key}` was printed"
            );
        }
    }
}

#[test]
fn keygen_build_test_sign_verify_inspect_save_load() {
    let mut kit = Kit::new();
    // keygen: 0600, never over an existing key, the id printed.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(kit.path("org.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let before = std::fs::read(kit.path("org.key")).unwrap();
    let err = kit.refused(&["keygen", "org"]);
    assert!(
        err.contains("org.key: already exists; refusing to overwrite"),
        "{err}"
    );
    assert_eq!(std::fs::read(kit.path("org.key")).unwrap(), before);
    let out = kit.ok(&["keygen", "fresh", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let public = kit.public("fresh");
    assert_eq!(json["keyid"], public["keyid"]);
    let bytes = base64_decode(public["public"].as_str().unwrap());
    let id = format!("sha256:{}", &hex::encode(Sha256::digest(&bytes))[..16]);
    assert_eq!(json["keyid"].as_str().unwrap(), id);

    // build: the same input is the same bytes.
    let a = kit.build(&fixture(), "security.bundle");
    let b = kit.build(&fixture(), "again.bundle");
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let out = kit.ok(&[
        "bundle",
        "build",
        fixture().to_str().unwrap(),
        "-o",
        "third.bundle",
        "--format",
        "json",
    ]);
    let built: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(built["name"], "acme/security");
    assert_eq!(built["sequence"], 7);
    assert_eq!(
        built["digest"].as_str().unwrap(),
        format!(
            "sha256:{}",
            hex::encode(Sha256::digest(manifest_of(&std::fs::read(&a).unwrap())))
        )
    );

    // test: its golden cases pass through the engine.
    let out = kit.ok(&["bundle", "test", "security.bundle"]);
    assert!(out.contains("2 cases: 2 passed"), "{out}");
    let out = kit.ok(&["bundle", "test", "security.bundle", "--format", "json"]);
    let tested: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(tested["ok"], true);
    assert_eq!(tested["counts"]["passed"], 2);

    // sign with two keys; again with one of them changes nothing.
    kit.ok(&["bundle", "sign", "security.bundle", "--key", "org.key"]);
    let out = kit.ok(&[
        "bundle",
        "sign",
        "security.bundle",
        "--key",
        "team.key",
        "--format",
        "json",
    ]);
    let signed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(signed["added"], true);
    let twice = std::fs::read(&a).unwrap();
    let out = kit.ok(&["bundle", "sign", "security.bundle", "--key", "team.key"]);
    assert!(out.starts_with("already signed (unchanged)"), "{out}");
    assert_eq!(std::fs::read(&a).unwrap(), twice);

    // verify: 2 of 2.
    let out = kit.ok(&[
        "bundle",
        "verify",
        "security.bundle",
        "--trust",
        "trust.toml",
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    let verified: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(verified["verified"], true);
    let mut signers = vec![kit.key_id("org"), kit.key_id("team")];
    signers.sort();
    assert_eq!(verified["signers"], serde_json::json!(signers));
    assert_eq!(verified["threshold"], 2);
    let store: serde_json::Value = serde_json::from_slice(
        &std::fs::read(kit.path(".shipgate/bundles/accepted.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(store["acme/security"]["sequence"], 7);
    assert_eq!(store["acme/security"]["digest"], verified["digest"]);

    // inspect: policies, rules, files, signers checked against trust.
    let out = kit.ok(&[
        "bundle",
        "inspect",
        "security.bundle",
        "--trust",
        "trust.toml",
    ]);
    assert!(
        out.contains("hotfix-review  builtin:rules  enforce  fail-closed  stages: gate"),
        "{out}"
    );
    assert!(out.contains("rules: hotfix.unreviewed"), "{out}");
    assert!(out.contains("env.missing-required"), "{out}");
    assert!(
        out.contains(&format!("{}  valid", kit.key_id("org"))),
        "{out}"
    );
    let out = kit.ok(&["bundle", "inspect", "security.bundle", "--format", "json"]);
    let inspected: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(inspected["files"].as_array().unwrap().len(), 6);
    assert_eq!(inspected["signatures"][0]["status"], "not-checked");

    // save/load: an OCI image layout, and back to the same bytes.
    kit.ok(&["bundle", "save", "security.bundle", "layout"]);
    assert!(kit.path("layout/oci-layout").is_file());
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(kit.path("layout/index.json")).unwrap()).unwrap();
    assert_eq!(
        index["manifests"][0]["artifactType"],
        "application/vnd.shipgate.bundle.v1"
    );
    kit.ok(&["bundle", "load", "layout", "-o", "back.bundle"]);
    assert_eq!(std::fs::read(kit.path("back.bundle")).unwrap(), twice);

    kit.no_private_key_printed();
}

#[test]
fn a_tampered_blob_is_refused() {
    let mut kit = Kit::new();
    let path = kit.signed("x.bundle", &["org", "team"]);
    let mut bytes = std::fs::read(&path).unwrap();
    let needle = b"a hotfix needs at least one approval";
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap();
    bytes[at] ^= 0x01;
    std::fs::write(&path, bytes).unwrap();
    let err = kit.verify_refused("x.bundle");
    assert!(
        err.contains("bundle `acme/security`: file `config/hotfix-review.json` was tampered with: its bytes hash to sha256:"),
        "{err}"
    );
    // Nothing else reads it either.
    let err = kit.refused(&["bundle", "test", "x.bundle"]);
    assert!(err.contains("was tampered with"), "{err}");
    kit.no_private_key_printed();
}

#[test]
fn an_unsigned_bundle_is_refused_when_trust_is_configured() {
    let mut kit = Kit::new();
    kit.signed("x.bundle", &[]);
    let err = kit.verify_refused("x.bundle");
    assert!(
        err.contains(
            "bundle `acme/security` is unsigned, and the trust file requires 2 signature(s)"
        ),
        "{err}"
    );
    let (code, out, _) = kit.run(&[
        "bundle",
        "verify",
        "x.bundle",
        "--trust",
        "trust.toml",
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["reason"], "unsigned");
    assert_eq!(json["verified"], false);
    assert!(
        !kit.path(".shipgate/bundles/accepted.json").exists(),
        "a refused bundle is not recorded"
    );
}

#[test]
fn a_key_the_trust_file_does_not_allow_is_refused() {
    let mut kit = Kit::new();
    kit.signed("x.bundle", &["outsider"]);
    let err = kit.verify_refused("x.bundle");
    let outsider = kit.key_id("outsider");
    assert!(
        err.contains(&format!(
            "bundle `acme/security` is signed by {outsider}, and the trust file allows only"
        )),
        "{err}"
    );
    // Trusted keys of another scope do not count either.
    let text = std::fs::read_to_string(kit.path("trust.toml")).unwrap();
    std::fs::write(kit.path("trust.toml"), text.replace("acme/*", "other/*")).unwrap();
    kit.signed("y.bundle", &["org", "team"]);
    let err = kit.verify_refused("y.bundle");
    assert!(
        err.contains("the trust file has no `[[bundles]]` rule for this name"),
        "{err}"
    );
}

#[test]
fn too_few_signatures_for_the_threshold_are_refused() {
    let mut kit = Kit::new();
    kit.signed("x.bundle", &["org", "outsider"]);
    let err = kit.verify_refused("x.bundle");
    assert!(
        err.contains(&format!(
            "bundle `acme/security` has 1 valid signature(s) by allowed keys ({}); the trust file requires 2 of",
            kit.key_id("org")
        )),
        "{err}"
    );
}

#[test]
fn an_expired_bundle_is_refused() {
    let mut kit = Kit::new();
    kit.signed("x.bundle", &["org", "team"]);
    let err = kit.refused(&[
        "bundle",
        "verify",
        "x.bundle",
        "--trust",
        "trust.toml",
        "--now",
        "2031-01-01T00:00:01Z",
    ]);
    assert!(
        err.contains("bundle `acme/security` 1.4.0 expired at 2031-01-01T00:00:00Z (now is 2031-01-01T00:00:01Z)"),
        "{err}"
    );
    kit.ok(&[
        "bundle",
        "verify",
        "x.bundle",
        "--trust",
        "trust.toml",
        "--now",
        "2030-12-31T23:59:59Z",
    ]);
}

#[test]
fn a_rolled_back_bundle_is_refused() {
    let mut kit = Kit::new();
    let newer = kit.path("newer-src");
    copy_dir(&fixture(), &newer);
    let toml = std::fs::read_to_string(newer.join("bundle.toml")).unwrap();
    std::fs::write(
        newer.join("bundle.toml"),
        toml.replace("sequence = 7", "sequence = 8")
            .replace("\"1.4.0\"", "\"1.5.0\""),
    )
    .unwrap();
    kit.build(&newer, "new.bundle");
    kit.sign("new.bundle", &["org", "team"]);
    kit.signed("old.bundle", &["org", "team"]);
    // The old one verifies while nothing newer was accepted.
    kit.ok(&[
        "bundle",
        "verify",
        "old.bundle",
        "--trust",
        "trust.toml",
        "--now",
        NOW,
        "--no-record",
    ]);
    kit.ok(&[
        "bundle",
        "verify",
        "new.bundle",
        "--trust",
        "trust.toml",
        "--now",
        NOW,
    ]);
    let err = kit.verify_refused("old.bundle");
    assert!(
        err.contains("bundle `acme/security` 1.4.0 is a rollback: its sequence 7 is lower than 8, already accepted for this name (version 1.5.0)"),
        "{err}"
    );
}

#[test]
fn an_extra_file_is_refused() {
    let mut kit = Kit::new();
    kit.signed("x.bundle", &["org", "team"]);
    kit.ok(&["bundle", "save", "x.bundle", "layout"]);
    let layout = kit.path("layout");
    let evil = b"\0asm\x0d\x00\x01\x00 not reviewed by anyone";
    edit_manifest(&layout, |manifest| {
        let digest = write_blob(&layout, evil);
        manifest["layers"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({
                "mediaType": "application/vnd.shipgate.policy.component.v1+wasm",
                "digest": digest,
                "size": evil.len(),
                "annotations": { "org.opencontainers.image.title": "policies/backdoor.wasm" },
            }));
    });
    let err = kit.verify_refused("layout");
    assert!(
        err.contains("bundle `acme/security`: extra file `policies/backdoor.wasm` (sha256:"),
        "{err}"
    );
    let err = kit.refused(&["bundle", "load", "layout", "-o", "y.bundle"]);
    assert!(err.contains("extra file `policies/backdoor.wasm`"), "{err}");
}

#[test]
fn a_missing_file_is_refused() {
    let mut kit = Kit::new();
    kit.signed("x.bundle", &["org", "team"]);
    kit.ok(&["bundle", "save", "x.bundle", "layout"]);
    let layout = kit.path("layout");
    edit_manifest(&layout, |manifest| {
        manifest["layers"].as_array_mut().unwrap().retain(|l| {
            l["annotations"]["org.opencontainers.image.title"] != "config/hotfix-review.json"
        });
    });
    let err = kit.verify_refused("layout");
    assert!(
        err.contains("bundle `acme/security`: file `config/hotfix-review.json` (sha256:")
            && err.contains("is missing"),
        "{err}"
    );
}

#[test]
fn a_rewritten_bundle_does_not_match_its_signed_statement() {
    // The attacker swaps a file and makes the manifest and the config agree
    // with it, keeping the signatures.
    let mut kit = Kit::new();
    kit.signed("x.bundle", &["org", "team"]);
    kit.ok(&["bundle", "save", "x.bundle", "layout"]);
    let layout = kit.path("layout");
    let weakened = b"{\n  \"rules\": []\n}\n";
    let new_digest = write_blob(&layout, weakened);
    edit_manifest(&layout, |manifest| {
        let config_digest = manifest["config"]["digest"].as_str().unwrap().to_owned();
        let mut config: serde_json::Value =
            serde_json::from_slice(&read_blob(&layout, &config_digest)).unwrap();
        for f in config["files"].as_array_mut().unwrap() {
            if f["path"] == "config/hotfix-review.json" {
                f["digest"] = new_digest.clone().into();
                f["size"] = weakened.len().into();
            }
        }
        let config_bytes = serde_json::to_vec(&config).unwrap();
        manifest["config"]["digest"] = write_blob(&layout, &config_bytes).into();
        manifest["config"]["size"] = config_bytes.len().into();
        for l in manifest["layers"].as_array_mut().unwrap() {
            if l["annotations"]["org.opencontainers.image.title"] == "config/hotfix-review.json" {
                l["digest"] = new_digest.clone().into();
                l["size"] = weakened.len().into();
            }
        }
    });
    let err = kit.verify_refused("layout");
    assert!(
        err.contains("does not match the bundle: its config blob is sha256:"),
        "{err}"
    );
}

#[test]
fn bundle_toml_errors_are_located() {
    let mut kit = Kit::new();
    let src = kit.path("src");
    copy_dir(&fixture(), &src);
    let toml = std::fs::read_to_string(src.join("bundle.toml")).unwrap();
    std::fs::write(
        src.join("bundle.toml"),
        toml.replace("mode = \"enforce\"", "mode = \"enforced\""),
    )
    .unwrap();
    let err = kit.refused(&["bundle", "build", "src", "-o", "x.bundle"]);
    assert!(
        err.contains("bundle.toml:19:8: key `policies[1].mode`: unknown variant `enforced`, expected `enforce` or `advisory`"),
        "{err}"
    );
    assert!(err.contains("help: did you mean `enforce`?"), "{err}");
}

/// The image manifest's bytes inside a `.bundle` tar (found through its
/// index.json's digest).
fn manifest_of(tar: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("b.tar"), tar).unwrap();
    let status = std::process::Command::new("tar")
        .args(["-xf", "b.tar"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("index.json")).unwrap()).unwrap();
    read_blob(
        dir.path(),
        index["manifests"][0]["digest"].as_str().unwrap(),
    )
}

fn read_blob(layout: &Path, digest: &str) -> Vec<u8> {
    std::fs::read(
        layout
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:")),
    )
    .unwrap()
}

fn write_blob(layout: &Path, bytes: &[u8]) -> String {
    let hex = hex::encode(Sha256::digest(bytes));
    std::fs::write(layout.join("blobs/sha256").join(&hex), bytes).unwrap();
    format!("sha256:{hex}")
}

/// Rewrites the layout's image manifest with `edit`, and points index.json
/// at the new one.
fn edit_manifest(layout: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let index_path = layout.join("index.json");
    let mut index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    let digest = index["manifests"][0]["digest"].as_str().unwrap().to_owned();
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&read_blob(layout, &digest)).unwrap();
    edit(&mut manifest);
    let bytes = serde_json::to_vec(&manifest).unwrap();
    index["manifests"][0]["digest"] = write_blob(layout, &bytes).into();
    index["manifests"][0]["size"] = bytes.len().into();
    std::fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();
}

pub(super) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    // A small decoder (the suite has no base64 dependency of its own).
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in text.bytes().filter(|c| *c != b'=') {
        let value = ALPHABET.iter().position(|a| *a == c).unwrap() as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    out
}

#[test]
fn a_bundle_carries_a_real_component_pinned_by_digest() {
    let mut kit = Kit::new();
    let src = kit.path("src");
    copy_dir(&fixture(), &src);
    std::fs::create_dir_all(src.join("policies")).unwrap();
    std::fs::copy(
        shipgate_tests::guests::ERROR_RATIO,
        src.join("policies/error-ratio.wasm"),
    )
    .unwrap();
    let mut toml = std::fs::read_to_string(src.join("bundle.toml")).unwrap();
    toml.push_str(
        "\n[[policies]]\nname = \"error-ratio\"\nsource = \"policies/error-ratio.wasm\"\nstages = [\"canary\"]\nmode = \"advisory\"\n",
    );
    std::fs::write(src.join("bundle.toml"), toml).unwrap();
    kit.build(&src, "x.bundle");
    let out = kit.ok(&["bundle", "inspect", "x.bundle", "--format", "json"]);
    let inspected: serde_json::Value = serde_json::from_str(&out).unwrap();
    let component = std::fs::read(shipgate_tests::guests::ERROR_RATIO).unwrap();
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(&component)));
    let file = inspected["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "policies/error-ratio.wasm")
        .unwrap();
    assert_eq!(file["digest"], digest.as_str());
    assert_eq!(
        file["media_type"],
        "application/vnd.shipgate.policy.component.v1+wasm"
    );
    let policy = inspected["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "error-ratio")
        .unwrap();
    assert_eq!(policy["source"], "policies/error-ratio.wasm");
    // Its rules come from the component's own `info`.
    assert!(
        !policy["rules"].as_array().unwrap().is_empty(),
        "{inspected}"
    );
    // Signed and verified like any other file.
    kit.sign("x.bundle", &["org", "team"]);
    kit.ok(&[
        "bundle",
        "verify",
        "x.bundle",
        "--trust",
        "trust.toml",
        "--now",
        NOW,
    ]);
}
