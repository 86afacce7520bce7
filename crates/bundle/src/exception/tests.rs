use time::macros::datetime;

use super::*;
use crate::keys::PrivateKey;
use crate::{Error, SignOutcome, Trust};

const SOURCE: &str = r#"policy = "canary"
rule = "canary.error-rate"
service = "checkout"
environment = "production"
reason = "error budget spent on a known flaky dependency; fix in OPS-1234"
ticket = "OPS-1234"
issued = 2027-01-01T00:00:00Z
expires = 2027-01-15T00:00:00Z
"#;

const DURING: OffsetDateTime = datetime!(2027-01-02 00:00 UTC);

fn source() -> Exception {
    Exception::parse(SOURCE, "exception.toml").unwrap()
}

fn err(text: &str) -> String {
    Exception::parse(text, "exception.toml")
        .unwrap_err()
        .to_string()
}

fn key_table(key: &PrivateKey, usage: &str) -> String {
    format!(
        "[[keys]]\nid = \"{}\"\npublic = \"{}\"\nusage = {usage}\n",
        key.id(),
        key.public_base64()
    )
}

/// A trust file: `exceptions` may sign exceptions, `bundles` only bundles.
struct Keys {
    exceptions: PrivateKey,
    second: PrivateKey,
    bundles: PrivateKey,
    outsider: PrivateKey,
}

impl Keys {
    fn new() -> Keys {
        Keys {
            exceptions: PrivateKey::generate().unwrap(),
            second: PrivateKey::generate().unwrap(),
            bundles: PrivateKey::generate().unwrap(),
            outsider: PrivateKey::generate().unwrap(),
        }
    }

    fn trust(&self, exceptions: &str) -> Trust {
        let text = format!(
            "{}{}{}{exceptions}",
            key_table(&self.exceptions, "[\"exceptions\"]"),
            key_table(&self.second, "[\"bundles\", \"exceptions\"]"),
            key_table(&self.bundles, "[\"bundles\"]"),
        );
        Trust::parse(&text, "trust.toml").unwrap()
    }

    /// `[exceptions]` with the first key, threshold 1, 30 days.
    fn one_of_one(&self) -> Trust {
        self.trust(&format!(
            "[exceptions]\nkeys = [\"{}\"]\n",
            self.exceptions.id()
        ))
    }
}

fn signed_by(exception: Exception, keys: &[&PrivateKey]) -> SignedException {
    let mut signed = SignedException::new(exception);
    for key in keys {
        assert_eq!(signed.sign(key).unwrap(), SignOutcome::Added);
    }
    signed
}

#[test]
fn a_source_is_read_and_times_are_utc() {
    let e = source();
    assert_eq!(e.policy, "canary");
    assert_eq!(e.rule.as_deref(), Some("canary.error-rate"));
    assert_eq!(e.service.as_deref(), Some("checkout"));
    assert_eq!(e.environment.as_deref(), Some("production"));
    assert_eq!(e.ticket, "OPS-1234");
    assert_eq!(e.issued, datetime!(2027-01-01 00:00 UTC));
    assert_eq!(e.length(), time::Duration::days(14));
    assert_eq!(
        e.label(),
        "exception `OPS-1234` (policy `canary`, rule `canary.error-rate`)"
    );
    // A string with another offset is the same instant, kept in UTC.
    let other = SOURCE
        .replace(
            "issued = 2027-01-01T00:00:00Z",
            "issued = \"2027-01-01T01:00:00+01:00\"",
        )
        .replace("rule = \"canary.error-rate\"\n", "");
    let e2 = Exception::parse(&other, "exception.toml").unwrap();
    assert_eq!(e2.issued, e.issued);
    assert_eq!(e2.rule, None);
    assert_eq!(
        e2.label(),
        "exception `OPS-1234` (policy `canary`, all its rules)"
    );
    assert!(
        String::from_utf8(e2.to_payload())
            .unwrap()
            .contains("\"issued\":\"2027-01-01T00:00:00Z\"")
    );
}

#[test]
fn source_mistakes_are_located() {
    let e = err(&SOURCE.replace("rule = \"canary.error-rate\"", "rule = 3"));
    assert!(e.starts_with("exception.toml:2:8: key `rule`: "), "{e}");
    let e = err(&SOURCE.replace("service =", "servce ="));
    assert!(
        e.starts_with("exception.toml:3:1: key `servce`: unknown key `servce`"),
        "{e}"
    );
    let e = err(&SOURCE.replace(
        "reason = \"error budget spent on a known flaky dependency; fix in OPS-1234\"",
        "reason = \"  \"",
    ));
    assert!(
        e.starts_with(
            "exception.toml:5:10: key `reason`: an exception needs a reason, and this one is empty"
        ),
        "{e}"
    );
    let e = err(&SOURCE.replace("ticket = \"OPS-1234\"\n", ""));
    assert_eq!(
        e,
        "exception.toml: missing required key `ticket`\n  help: add `ticket = \"OPS-1234\"`"
    );
    let e = err(&SOURCE.replace("2027-01-15T00:00:00Z", "2026-12-31T00:00:00Z"));
    assert!(
        e.starts_with(
            "exception.toml:8:11: key `expires`: 2026-12-31T00:00:00Z is not after `issued` (2027-01-01T00:00:00Z)"
        ),
        "{e}"
    );
    let e = err(&SOURCE.replace("2027-01-15T00:00:00Z", "2027-01-15T00:00:00"));
    assert!(
        e.starts_with(
            "exception.toml:8:11: key `expires`: `2027-01-15T00:00:00` is not an RFC 3339 time"
        ),
        "{e}"
    );
    let e = err(&SOURCE.replace("\"checkout\"", "\"payments-[\""));
    assert!(
        e.starts_with(
            "exception.toml:3:11: key `service`: `payments-[` is not a service name or glob"
        ),
        "{e}"
    );
    let e = err(&SOURCE.replace("policy = \"canary\"", "policy = \"can ary\""));
    assert!(e.starts_with("exception.toml:1:10: key `policy`: "), "{e}");
    let no_scope = SOURCE
        .replace("service = \"checkout\"\n", "")
        .replace("environment = \"production\"\n", "");
    let e = err(&no_scope);
    assert!(
        e.starts_with(
            "exception.toml: an exception needs a scope: `service`, `environment` or both\n  help: "
        ),
        "{e}"
    );
}

#[test]
fn the_digest_is_the_payload_s_and_stable_across_signatures() {
    let keys = Keys::new();
    let mut signed = SignedException::new(source());
    let digest = signed.digest();
    assert_eq!(digest, crate::digest::of(&source().to_payload()));
    assert_eq!(signed.sign(&keys.exceptions).unwrap(), SignOutcome::Added);
    assert_eq!(signed.digest(), digest);
    let once = signed.to_bytes();
    assert_eq!(
        signed.sign(&keys.exceptions).unwrap(),
        SignOutcome::AlreadySigned
    );
    assert_eq!(signed.to_bytes(), once);
    signed.sign(&keys.second).unwrap();
    assert_eq!(signed.digest(), digest);
    assert_eq!(signed.signers(), [keys.exceptions.id(), keys.second.id()]);
    // The file round-trips.
    let again = SignedException::from_bytes(&signed.to_bytes(), "x.exception").unwrap();
    assert_eq!(again, signed);
    assert_eq!(again.exception(), &source());
    // The same source always makes the same payload.
    assert_eq!(SignedException::new(source()).payload(), signed.payload());
}

#[test]
fn malformed_envelopes_are_refused() {
    let keys = Keys::new();
    let signed = signed_by(source(), &[&keys.exceptions]);
    let format = |bytes: &[u8]| {
        SignedException::from_bytes(bytes, "x.exception")
            .unwrap_err()
            .to_string()
    };
    let e = format(b"policy = \"canary\"");
    assert!(
        e.starts_with("x.exception: not a valid signed exception: not a DSSE envelope"),
        "{e}"
    );
    let mut envelope = signed.envelope().clone();
    envelope.payload_type = crate::media::STATEMENT.into();
    let e = format(&serde_json::to_vec(&envelope).unwrap());
    assert!(
        e.contains("its payload type is `application/vnd.shipgate.statement.v1+json`"),
        "{e}"
    );
    // A payload with the same meaning, not in canonical form.
    let mut envelope = signed.envelope().clone();
    let pretty: serde_json::Value = serde_json::from_slice(signed.payload()).unwrap();
    envelope.payload = crate::dsse::b64(serde_json::to_string_pretty(&pretty).unwrap().as_bytes());
    let e = format(&serde_json::to_vec(&envelope).unwrap());
    assert!(e.contains("not in canonical form"), "{e}");
    // A payload without a scope.
    let mut bare = source();
    bare.service = None;
    bare.environment = None;
    let mut envelope = signed.envelope().clone();
    envelope.payload = crate::dsse::b64(&bare.to_payload());
    let e = format(&serde_json::to_vec(&envelope).unwrap());
    assert!(
        e.contains("its payload's `service`: an exception needs a scope"),
        "{e}"
    );
}

#[test]
fn a_valid_exception_verifies() {
    let keys = Keys::new();
    let signed = signed_by(source(), &[&keys.exceptions, &keys.outsider]);
    let verified = signed.verify(&keys.one_of_one(), DURING).unwrap();
    assert_eq!(verified.digest, signed.digest());
    assert_eq!(verified.signers, [keys.exceptions.id()]);
    assert_eq!(verified.ticket, "OPS-1234");
    assert_eq!(verified.expires, datetime!(2027-01-15 00:00 UTC));
    let json = serde_json::to_value(&verified).unwrap();
    assert_eq!(json["expires"], "2027-01-15T00:00:00Z");
    // 2 of 2, sorted signers.
    let two = keys.trust(&format!(
        "[exceptions]\nkeys = [\"{}\", \"{}\"]\nthreshold = 2\n",
        keys.exceptions.id(),
        keys.second.id()
    ));
    let both = signed_by(source(), &[&keys.second, &keys.exceptions]);
    let mut expected = vec![keys.exceptions.id().to_owned(), keys.second.id().to_owned()];
    expected.sort();
    assert_eq!(both.verify(&two, DURING).unwrap().signers, expected);
}

#[test]
fn each_refusal_has_its_own_error() {
    let keys = Keys::new();
    let trust = keys.one_of_one();
    let label = "exception `OPS-1234` (policy `canary`, rule `canary.error-rate`)";
    let refuse = |signed: &SignedException, trust: &Trust, now: OffsetDateTime| {
        let e = signed.verify(trust, now).unwrap_err();
        assert!(e.to_string().starts_with(label), "{e}");
        e
    };
    let good = signed_by(source(), &[&keys.exceptions]);

    // No `[exceptions]`, or no trust file at all.
    let e = refuse(&good, &keys.trust(""), DURING);
    assert!(matches!(e, Error::ExceptionsNotTrusted { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("the trust file allows no exception signers"),
        "{e}"
    );
    let e = refuse(&good, &Trust::unconfigured(), DURING);
    assert_eq!(e.reason(), "exceptions-not-trusted");

    // Unsigned.
    let e = refuse(&SignedException::new(source()), &trust, DURING);
    assert!(
        matches!(e, Error::ExceptionUnsigned { threshold: 1, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("is unsigned"), "{e}");

    // A signature that does not verify: another payload's, under this key id.
    let mut forged = SignedException::new(source());
    let other = signed_by(
        Exception {
            ticket: "OPS-9".into(),
            ..source()
        },
        &[&keys.exceptions],
    );
    let bytes = String::from_utf8(forged.to_bytes()).unwrap().replace(
        "\"signatures\": []",
        &format!(
            "\"signatures\": {}",
            serde_json::to_string(&other.envelope().signatures).unwrap()
        ),
    );
    forged = SignedException::from_bytes(bytes.as_bytes(), "forged.exception").unwrap();
    let e = refuse(&forged, &trust, DURING);
    assert!(
        matches!(&e, Error::ExceptionBadSignature { keyid, .. } if keyid == keys.exceptions.id()),
        "{e}"
    );
    assert!(e.to_string().contains("is invalid"), "{e}");

    // Signed by a key trusted for bundles only, or by an unknown key.
    let e = refuse(&signed_by(source(), &[&keys.bundles]), &trust, DURING);
    assert!(matches!(e, Error::ExceptionKeyNotAllowed { .. }), "{e}");
    assert!(
        e.to_string().contains(&format!("is signed by {} (trusted for bundles only), and the trust file allows only {} to sign exceptions", keys.bundles.id(), keys.exceptions.id())),
        "{e}"
    );
    let e = refuse(&signed_by(source(), &[&keys.outsider]), &trust, DURING);
    assert!(e.to_string().contains("(not in the trust file)"), "{e}");
    // A key that may sign exceptions, but not listed in `[exceptions]`.
    let e = refuse(&signed_by(source(), &[&keys.second]), &trust, DURING);
    assert!(
        e.to_string().contains("(not in `[exceptions] keys`)"),
        "{e}"
    );

    // Too few.
    let two = keys.trust(&format!(
        "[exceptions]\nkeys = [\"{}\", \"{}\"]\nthreshold = 2\n",
        keys.exceptions.id(),
        keys.second.id()
    ));
    let e = refuse(&good, &two, DURING);
    assert!(
        matches!(
            e,
            Error::ExceptionThresholdNotMet {
                valid: 1,
                threshold: 2,
                ..
            }
        ),
        "{e}"
    );

    // Not yet valid (5 minutes of skew allowed), expired (`expires` itself
    // is past).
    let start = datetime!(2027-01-01 00:00 UTC);
    assert!(
        good.verify(&trust, start - time::Duration::minutes(5))
            .is_ok()
    );
    let e = refuse(&good, &trust, start - time::Duration::minutes(6));
    assert!(matches!(e, Error::ExceptionNotYetValid { .. }), "{e}");
    assert!(
        e.to_string().ends_with(
            "is not valid yet: it is issued at 2027-01-01T00:00:00Z (now is 2026-12-31T23:54:00Z)"
        ),
        "{e}"
    );
    assert!(
        good.verify(&trust, datetime!(2027-01-14 23:59:59 UTC))
            .is_ok()
    );
    let e = refuse(&good, &trust, datetime!(2027-01-15 00:00 UTC));
    assert!(matches!(e, Error::ExceptionExpired { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("expired at 2027-01-15T00:00:00Z (now is 2027-01-15T00:00:00Z)"),
        "{e}"
    );

    // Over-long: 30 days is the default most; 7 with `max_days = 7`.
    let long = |days: i64| Exception {
        expires: source().issued + time::Duration::days(days),
        ..source()
    };
    assert!(
        signed_by(long(30), &[&keys.exceptions])
            .verify(&trust, DURING)
            .is_ok()
    );
    let e = refuse(&signed_by(long(31), &[&keys.exceptions]), &trust, DURING);
    assert!(
        matches!(e, Error::ExceptionTooLong { max_days: 30, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("runs for 31 days (2027-01-01T00:00:00Z to 2027-02-01T00:00:00Z), longer than the 30 day(s)"), "{e}");
    let week = keys.trust(&format!(
        "[exceptions]\nkeys = [\"{}\"]\nmax_days = 7\n",
        keys.exceptions.id()
    ));
    let e = refuse(&good, &week, DURING);
    assert!(e.to_string().contains("runs for 14 days"), "{e}");
}

#[test]
fn scope_and_coverage() {
    let keys = Keys::new();
    let trust = keys.one_of_one();
    let verified = signed_by(source(), &[&keys.exceptions])
        .verify(&trust, DURING)
        .unwrap();
    assert!(verified.applies_to("checkout", "production").is_ok());
    assert_eq!(
        verified
            .applies_to("payments", "production")
            .unwrap_err()
            .to_string(),
        "its service is `checkout`, this deployment's is `payments`"
    );
    assert_eq!(
        verified
            .applies_to("checkout", "staging")
            .unwrap_err()
            .to_string(),
        "its environment is `production`, this deployment's is `staging`"
    );
    assert_eq!(
        verified
            .applies_to("", "production")
            .unwrap_err()
            .to_string(),
        "its service is `checkout`, and this deployment names no service"
    );
    let e = verified.check_scope("payments", "production").unwrap_err();
    assert_eq!(e.reason(), "exception-out-of-scope");
    assert_eq!(
        e.to_string(),
        "exception `OPS-1234` (policy `canary`, rule `canary.error-rate`) does not apply to this deployment: its service is `checkout`, this deployment's is `payments`"
    );
    assert!(verified.covers("canary", Some("canary.error-rate")));
    assert!(!verified.covers("canary", Some("canary.latency")));
    assert!(!verified.covers("canary", None));
    assert!(!verified.covers("risk", Some("canary.error-rate")));

    // A glob of services, in every environment; the whole policy.
    let glob = Exception {
        rule: None,
        service: Some("payments-*".into()),
        environment: None,
        ..source()
    };
    let verified = signed_by(glob, &[&keys.exceptions])
        .verify(&trust, DURING)
        .unwrap();
    assert!(verified.applies_to("payments-api", "production").is_ok());
    assert!(verified.applies_to("payments-", "staging").is_ok());
    assert!(verified.applies_to("checkout", "production").is_err());
    assert!(verified.applies_to("payments", "production").is_err());
    assert!(verified.covers("canary", None));
    assert!(verified.covers("canary", Some("canary.anything")));
}

#[test]
fn check_signatures_says_what_each_is() {
    let keys = Keys::new();
    let trust = keys.one_of_one();
    let signed = signed_by(
        source(),
        &[
            &keys.exceptions,
            &keys.bundles,
            &keys.outsider,
            &keys.second,
        ],
    );
    let statuses: Vec<&str> = signed
        .check_signatures(&trust)
        .iter()
        .map(|c| c.status)
        .collect();
    assert_eq!(
        statuses,
        ["valid", "not-allowed", "unknown-key", "not-allowed"]
    );
    let statuses: Vec<&str> = signed
        .check_signatures(&Trust::unconfigured())
        .iter()
        .map(|c| c.status)
        .collect();
    assert_eq!(statuses, ["not-checked"; 4]);
}

#[test]
fn lengths_read_well() {
    assert_eq!(describe_length(time::Duration::days(14)), "14 days");
    assert_eq!(
        describe_length(time::Duration::hours(24 * 30 + 1)),
        "30 days 1 hour"
    );
    assert_eq!(describe_length(time::Duration::minutes(45)), "45 minutes");
    assert_eq!(describe_length(time::Duration::ZERO), "0 minutes");
}
