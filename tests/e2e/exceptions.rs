//! Signed exceptions through the real binary: `shipgate exception sign`
//! (from `exception.toml`, and a second key adding its signature),
//! `verify` against a trust file's `[exceptions]` table (with and without
//! a deployment's scope), `inspect`, and each refusal with its own message
//! and exit code 1: unsigned, a forged signature, a key trusted only for
//! bundles, too few signatures, not yet valid, expired, over-long, a trust
//! file without `[exceptions]`, out of scope; located source errors,
//! `--format json`, and no private key ever printed.

use std::path::PathBuf;

use crate::support::{run, shipgate};

/// Inside the exception's validity (2027-01-01 to 2027-01-15).
const DURING: &str = "2027-01-02T00:00:00Z";

const SOURCE: &str = r#"policy = "canary"
rule = "canary.error-rate"
service = "checkout"
environment = "production"
reason = "error budget spent on a known flaky dependency; fix in OPS-1234"
ticket = "OPS-1234"
issued = 2027-01-01T00:00:00Z
expires = 2027-01-15T00:00:00Z
"#;

const LABEL: &str = "exception `OPS-1234` (policy `canary`, rule `canary.error-rate`)";

/// A working directory with four keys: `oncall` and `lead` (both may sign
/// exceptions), `release` (trusted for bundles only) and `outsider` (not
/// in any trust file); `trust.toml` allows `oncall` and `lead`, 1 of 2,
/// `two.toml` 2 of 2, `bundles-only.toml` has no `[exceptions]`.
struct Kit {
    dir: tempfile::TempDir,
    /// Every line any command printed, to check no private key leaked.
    printed: String,
}

impl Kit {
    fn new() -> Kit {
        let mut kit = Kit {
            dir: tempfile::tempdir().unwrap(),
            printed: String::new(),
        };
        for name in ["oncall", "lead", "release", "outsider"] {
            kit.ok(&["keygen", name]);
        }
        let keys = format!(
            "{}{}{}",
            kit.key_table("oncall", "[\"exceptions\"]"),
            kit.key_table("lead", "[\"bundles\", \"exceptions\"]"),
            kit.key_table("release", "[\"bundles\"]"),
        );
        let allowed = format!("[\"{}\", \"{}\"]", kit.key_id("oncall"), kit.key_id("lead"));
        kit.write(
            "trust.toml",
            &format!("{keys}\n[exceptions]\nkeys = {allowed}\nmax_days = 30\n"),
        );
        kit.write(
            "two.toml",
            &format!("{keys}\n[exceptions]\nkeys = {allowed}\nthreshold = 2\n"),
        );
        kit.write(
            "bundles-only.toml",
            &format!(
                "{keys}\n[[bundles]]\nscope = \"acme/*\"\nkeys = [\"{}\"]\n",
                kit.key_id("release")
            ),
        );
        kit.write("exception.toml", SOURCE);
        kit
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).unwrap();
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap()
    }

    fn file(&self, name: &str, ext: &str) -> serde_json::Value {
        serde_json::from_str(&self.read(&format!("{name}.{ext}"))).unwrap()
    }

    fn key_id(&self, name: &str) -> String {
        self.file(name, "pub")["keyid"].as_str().unwrap().to_owned()
    }

    fn key_table(&self, name: &str, usage: &str) -> String {
        let public = self.file(name, "pub");
        format!(
            "[[keys]]\nid = \"{}\"\npublic = \"{}\"\nname = \"{name}\"\nusage = {usage}\n\n",
            public["keyid"].as_str().unwrap(),
            public["public"].as_str().unwrap()
        )
    }

    /// Runs `shipgate ARGS` in the kit's directory: (code, stdout, stderr).
    fn run(&mut self, args: &[&str]) -> (i32, String, String) {
        let (code, out, err) = run(shipgate().current_dir(self.dir.path()).args(args));
        self.printed.push_str(&out);
        self.printed.push_str(&err);
        (code, out, err)
    }

    /// Runs and expects success; returns stdout.
    fn ok(&mut self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 0, "shipgate {args:?}\nstdout:\n{out}\nstderr:\n{err}");
        out
    }

    /// Runs and expects a refusal (exit 1, nothing on stdout); returns
    /// stderr.
    fn refused(&mut self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 1, "shipgate {args:?}\nstdout:\n{out}\nstderr:\n{err}");
        assert!(out.is_empty(), "{out}");
        err
    }

    /// `exception sign SOURCE --key KEY -o NAME`.
    fn sign(&mut self, source: &str, keys: &[&str], name: &str) {
        for (i, key) in keys.iter().enumerate() {
            let input = if i == 0 { source } else { name };
            self.ok(&[
                "exception",
                "sign",
                input,
                "--key",
                &format!("{key}.key"),
                "-o",
                name,
            ]);
        }
    }

    /// `exception verify NAME --trust TRUST --now NOW`: the refusal's
    /// stderr, which must name the exception.
    fn verify_refused(&mut self, name: &str, trust: &str, now: &str) -> String {
        let err = self.refused(&["exception", "verify", name, "--trust", trust, "--now", now]);
        assert!(err.starts_with(&format!("error: {LABEL}")), "{err}");
        err
    }

    fn no_private_key_printed(&self) {
        for key in ["oncall", "lead", "release", "outsider"] {
            let seed = self.file(key, "key")["seed"].as_str().unwrap().to_owned();
            assert!(
                !self.printed.contains(&seed),
                "the private key of `{key}` was printed"
            );
        }
    }
}

#[test]
fn sign_then_verify_inspect_and_scope() {
    let mut kit = Kit::new();
    let oncall = kit.key_id("oncall");
    let lead = kit.key_id("lead");

    // From the source: `<ticket>.exception`.
    let out = kit.ok(&["exception", "sign", "exception.toml", "--key", "oncall.key"]);
    assert!(
        out.starts_with(&format!(
            "signed: {LABEL} with {oncall}\nsigners: {oncall}\ndigest: sha256:"
        )),
        "{out}"
    );
    assert!(out.ends_with("file: OPS-1234.exception\n"), "{out}");
    let digest = out
        .lines()
        .find_map(|l| l.strip_prefix("digest: "))
        .unwrap()
        .to_owned();
    let envelope: serde_json::Value =
        serde_json::from_str(&kit.read("OPS-1234.exception")).unwrap();
    assert_eq!(
        envelope["payloadType"],
        "application/vnd.shipgate.exception.v1+json"
    );

    // The same key again: a no-op that says so.
    let before = kit.read("OPS-1234.exception");
    let out = kit.ok(&[
        "exception",
        "sign",
        "OPS-1234.exception",
        "--key",
        "oncall.key",
    ]);
    assert!(out.starts_with("already signed (unchanged): "), "{out}");
    assert_eq!(kit.read("OPS-1234.exception"), before);

    // A second signer, from the same source: the same file, the same digest.
    let out = kit.ok(&["exception", "sign", "exception.toml", "--key", "lead.key"]);
    assert!(
        out.contains(&format!("signers: {oncall}, {lead}\n")),
        "{out}"
    );
    assert!(out.contains(&format!("digest: {digest}\n")), "{out}");

    let out = kit.ok(&[
        "exception",
        "verify",
        "OPS-1234.exception",
        "--trust",
        "trust.toml",
        "--now",
        DURING,
        "--service",
        "checkout",
        "--environment",
        "production",
    ]);
    let mut signers = [oncall.clone(), lead.clone()];
    signers.sort();
    assert_eq!(
        out,
        format!(
            "verified {LABEL}\ndigest: {digest}\nscope: service `checkout`, environment `production`\n\
             signed by: {} (1 of 2 required by the trust file's `[exceptions]`)\n\
             valid: 2027-01-01T00:00:00Z to 2027-01-15T00:00:00Z (13 days left)\n\
             reason: error budget spent on a known flaky dependency; fix in OPS-1234\n\
             applies to service `checkout` in `production`\n",
            signers.join(", ")
        )
    );

    // Out of scope: its own message, exit 1.
    let err = kit.refused(&[
        "exception",
        "verify",
        "OPS-1234.exception",
        "--trust",
        "trust.toml",
        "--now",
        DURING,
        "--service",
        "payments",
        "--environment",
        "production",
    ]);
    assert_eq!(
        err,
        format!(
            "error: {LABEL} does not apply to this deployment: its service is `checkout`, this deployment's is `payments`\n"
        )
    );

    // Inspect, with each signature's status.
    kit.sign(
        "exception.toml",
        &["oncall", "release", "outsider"],
        "mixed.exception",
    );
    let out = kit.ok(&[
        "exception",
        "inspect",
        "mixed.exception",
        "--trust",
        "trust.toml",
    ]);
    assert!(out.starts_with(&format!("{LABEL}\ndigest: {digest}\npolicy: canary\nrule: canary.error-rate\nservice: checkout\n")), "{out}");
    assert!(
        out.contains("expires: 2027-01-15T00:00:00Z (runs for 14 days)\n"),
        "{out}"
    );
    assert!(
        out.ends_with(&format!(
            "signatures:\n  {oncall}  valid\n  {}  not-allowed\n  {}  unknown-key\n",
            kit.key_id("release"),
            kit.key_id("outsider")
        )),
        "{out}"
    );
    kit.no_private_key_printed();
}

#[test]
fn each_refusal_has_its_own_message() {
    let mut kit = Kit::new();
    kit.sign("exception.toml", &["oncall"], "good.exception");

    // Unsigned: the envelope without its signature.
    let mut envelope: serde_json::Value =
        serde_json::from_str(&kit.read("good.exception")).unwrap();
    let signatures = envelope["signatures"].take();
    envelope["signatures"] = serde_json::json!([]);
    kit.write("unsigned.exception", &envelope.to_string());
    let err = kit.verify_refused("unsigned.exception", "trust.toml", DURING);
    assert!(
        err.contains("is unsigned, and the trust file requires 1 signature(s) by"),
        "{err}"
    );
    assert!(
        err.contains("help: sign it with `shipgate exception sign FILE --key KEY`"),
        "{err}"
    );

    // Forged: the signature moved onto another exception (a longer expiry).
    kit.write(
        "forged.toml",
        &SOURCE.replace("2027-01-15T00:00:00Z", "2027-01-30T00:00:00Z"),
    );
    kit.sign("forged.toml", &["outsider"], "forged.exception");
    let mut forged: serde_json::Value =
        serde_json::from_str(&kit.read("forged.exception")).unwrap();
    forged["signatures"] = signatures;
    kit.write("forged.exception", &forged.to_string());
    let err = kit.verify_refused("forged.exception", "trust.toml", DURING);
    assert!(
        err.contains(&format!(
            ": the signature by {} is invalid (it does not verify against that key's public key",
            kit.key_id("oncall")
        )),
        "{err}"
    );

    // A key trusted only for bundles; a key in no trust file.
    kit.sign("exception.toml", &["release"], "release.exception");
    let err = kit.verify_refused("release.exception", "trust.toml", DURING);
    assert!(
        err.contains(&format!(
            "is signed by {} (trusted for bundles only), and the trust file allows only ",
            kit.key_id("release")
        )),
        "{err}"
    );
    kit.sign("exception.toml", &["outsider"], "outsider.exception");
    let err = kit.verify_refused("outsider.exception", "trust.toml", DURING);
    assert!(err.contains("(not in the trust file)"), "{err}");

    // Too few for 2 of 2.
    let err = kit.verify_refused("good.exception", "two.toml", DURING);
    assert!(
        err.contains(&format!(
            "has 1 valid signature(s) by allowed keys ({}); the trust file requires 2 of ",
            kit.key_id("oncall")
        )),
        "{err}"
    );

    // Not yet valid; expired.
    let err = kit.verify_refused("good.exception", "trust.toml", "2026-12-31T00:00:00Z");
    assert!(
        err.contains(
            "is not valid yet: it is issued at 2027-01-01T00:00:00Z (now is 2026-12-31T00:00:00Z)"
        ),
        "{err}"
    );
    let err = kit.verify_refused("good.exception", "trust.toml", "2027-01-15T00:00:00Z");
    assert!(
        err.contains("expired at 2027-01-15T00:00:00Z (now is 2027-01-15T00:00:00Z)"),
        "{err}"
    );

    // Over-long: 45 days, the trust file allows 30.
    kit.write(
        "long.toml",
        &SOURCE.replace("2027-01-15T00:00:00Z", "2027-02-15T00:00:00Z"),
    );
    kit.sign("long.toml", &["oncall"], "long.exception");
    let err = kit.verify_refused("long.exception", "trust.toml", DURING);
    assert!(
        err.contains("runs for 45 days (2027-01-01T00:00:00Z to 2027-02-15T00:00:00Z), longer than the 30 day(s) the trust file allows"),
        "{err}"
    );

    // A trust file without `[exceptions]`.
    let err = kit.verify_refused("good.exception", "bundles-only.toml", DURING);
    assert!(
        err.contains("is refused: the trust file allows no exception signers (it has no `[exceptions]` table)"),
        "{err}"
    );

    // The good one still verifies, and no key was printed.
    kit.ok(&[
        "exception",
        "verify",
        "good.exception",
        "--trust",
        "trust.toml",
        "--now",
        DURING,
    ]);
    kit.no_private_key_printed();
}

#[test]
fn sources_and_files_that_are_wrong() {
    let mut kit = Kit::new();
    kit.write(
        "bad.toml",
        &SOURCE.replace("rule = \"canary.error-rate\"", "rule = 3"),
    );
    let err = kit.refused(&["exception", "sign", "bad.toml", "--key", "oncall.key"]);
    assert!(
        err.starts_with("error: bad.toml:2:8: key `rule`: "),
        "{err}"
    );
    kit.write(
        "backwards.toml",
        &SOURCE.replace("2027-01-15T00:00:00Z", "2026-12-01T00:00:00Z"),
    );
    let err = kit.refused(&["exception", "sign", "backwards.toml", "--key", "oncall.key"]);
    assert!(
        err.starts_with(
            "error: backwards.toml:8:11: key `expires`: 2026-12-01T00:00:00Z is not after `issued`"
        ),
        "{err}"
    );
    kit.write("typo.toml", &format!("{SOURCE}enviroment = \"staging\"\n"));
    let err = kit.refused(&["exception", "sign", "typo.toml", "--key", "oncall.key"]);
    assert!(
        err.starts_with("error: typo.toml:9:1: key `enviroment`: unknown key"),
        "{err}"
    );

    // Another exception is never written over an existing file.
    kit.sign("exception.toml", &["oncall"], "OPS-1234.exception");
    kit.write(
        "other.toml",
        &SOURCE.replace("\"checkout\"", "\"payments-*\""),
    );
    let before = kit.read("OPS-1234.exception");
    let err = kit.refused(&["exception", "sign", "other.toml", "--key", "oncall.key"]);
    assert!(
        err.starts_with("error: `OPS-1234.exception` already exists and holds another exception"),
        "{err}"
    );
    assert_eq!(kit.read("OPS-1234.exception"), before);

    // Not an exception at all.
    kit.write("junk.exception", "{\"payload\": 1}");
    let err = kit.refused(&[
        "exception",
        "verify",
        "junk.exception",
        "--trust",
        "trust.toml",
    ]);
    assert!(
        err.starts_with("error: junk.exception: not a valid signed exception: not a DSSE envelope"),
        "{err}"
    );
    kit.no_private_key_printed();
}

#[test]
fn json_output() {
    let mut kit = Kit::new();
    let out = kit.ok(&[
        "exception",
        "sign",
        "exception.toml",
        "--key",
        "oncall.key",
        "--format",
        "json",
    ]);
    let signed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(signed["added"], true);
    assert_eq!(signed["output"], "OPS-1234.exception");
    assert_eq!(signed["signers"], serde_json::json!([kit.key_id("oncall")]));
    let digest = signed["digest"].as_str().unwrap().to_owned();

    let verify = |kit: &mut Kit, extra: &[&str]| {
        let mut args = vec![
            "exception",
            "verify",
            "OPS-1234.exception",
            "--trust",
            "trust.toml",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let (code, out, err) = kit.run(&args);
        assert!(err.is_empty(), "{err}");
        (
            code,
            serde_json::from_str::<serde_json::Value>(&out).unwrap(),
        )
    };
    let (code, v) = verify(
        &mut kit,
        &[
            "--now",
            DURING,
            "--service",
            "checkout",
            "--environment",
            "production",
        ],
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["verified"], true);
    assert_eq!(v["applies"], true);
    assert_eq!(v["exception"]["digest"], digest.as_str());
    assert_eq!(v["exception"]["policy"], "canary");
    assert_eq!(v["exception"]["rule"], "canary.error-rate");
    assert_eq!(v["exception"]["expires"], "2027-01-15T00:00:00Z");
    assert_eq!(
        v["exception"]["signers"],
        serde_json::json!([kit.key_id("oncall")])
    );

    let (code, v) = verify(&mut kit, &["--now", "2027-02-01T00:00:00Z"]);
    assert_eq!(code, 1);
    assert_eq!(v["verified"], false);
    assert_eq!(v["reason"], "exception-expired");
    assert!(v["error"].as_str().unwrap().starts_with(LABEL), "{v}");

    let (code, v) = verify(
        &mut kit,
        &[
            "--now",
            DURING,
            "--service",
            "checkout",
            "--environment",
            "staging",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(v["verified"], true);
    assert_eq!(v["applies"], false);
    assert_eq!(v["reason"], "exception-out-of-scope");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .ends_with("its environment is `production`, this deployment's is `staging`"),
        "{v}"
    );

    let out = kit.ok(&[
        "exception",
        "inspect",
        "OPS-1234.exception",
        "--trust",
        "trust.toml",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["digest"], digest.as_str());
    assert_eq!(v["ticket"], "OPS-1234");
    assert_eq!(
        v["signatures"],
        serde_json::json!([{"keyid": kit.key_id("oncall"), "status": "valid"}])
    );
    kit.no_private_key_printed();
}
