//! A hook's environment: a documented allowlist taken from Shipgate's own
//! environment, never all of it.
//!
//! A hook gets [`BASE_VARIABLES`] (when set), the variables the
//! configuration lists in `[watch] hook_env` (names, or prefixes ending in
//! `*`), and the `SHIPGATE_*` values of the run. Every other variable of
//! Shipgate's environment (tokens read by sources, CI secrets) stays out.
//!
//! The value of a passed variable whose name looks secret ([`looks_secret`])
//! is registered with [`shipgate_core::redact`], as are credentials in a passed
//! URL, so that a hook echoing it does not put it in the log or the events.

use std::ffi::OsString;

pub use shipgate_core::config::watch::EnvName;

/// The variables every hook gets from Shipgate's environment, when set: what
/// a command needs to find programs, files and the locale.
pub const BASE_VARIABLES: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "LC_MESSAGES",
    "TZ",
    "TMPDIR",
];

/// Parts of a variable's name that mark its value as secret.
const SECRET_WORDS: &[&str] = &[
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "CREDENTIAL",
    "APIKEY",
    "API_KEY",
    "PRIVATE",
    "AUTH",
    "SESSION",
    "COOKIE",
    "_KEY",
];

/// Whether a variable's name says its value is secret (`ARGO_TOKEN`,
/// `AWS_SECRET_ACCESS_KEY`, `DB_PASSWORD`, `API_KEY`, ...): it contains one
/// of `TOKEN`, `SECRET`, `PASSWORD`, `PASSWD`, `PASSPHRASE`, `CREDENTIAL`,
/// `APIKEY`, `API_KEY`, `PRIVATE`, `AUTH`, `SESSION`, `COOKIE` or `_KEY`,
/// in any case.
pub fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_WORDS.iter().any(|w| upper.contains(w))
}

/// The variables a hook inherits from `vars` (Shipgate's environment): the
/// [`BASE_VARIABLES`] and those `passed` names, in `vars`' order. Registers
/// the secret-looking ones with [`shipgate_core::redact`] on the way.
pub fn inherited(
    passed: &[EnvName],
    vars: impl IntoIterator<Item = (OsString, OsString)>,
) -> Vec<(OsString, OsString)> {
    vars.into_iter()
        .filter(|(name, value)| {
            let Some(name) = name.to_str() else {
                return false;
            };
            if BASE_VARIABLES.contains(&name) {
                return true;
            }
            if !passed.iter().any(|p| p.matches(name)) {
                return false;
            }
            if let Some(value) = value.to_str() {
                if looks_secret(name) {
                    shipgate_core::redact::register(value);
                }
                shipgate_core::redact::register_url(value);
            }
            true
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect()
    }

    #[test]
    fn only_the_base_variables_and_the_listed_ones_pass() {
        let passed = [
            EnvName::parse("KUBECONFIG").unwrap(),
            EnvName::parse("AWS_*").unwrap(),
        ];
        let env = inherited(
            &passed,
            vars(&[
                ("PATH", "/usr/bin"),
                ("GITHUB_TOKEN", "ghp_not_for_hooks"),
                ("KUBECONFIG", "/home/me/.kube/config"),
                ("KUBECONFIG_EXTRA", "no"),
                ("AWS_REGION", "eu-west-1"),
                ("HOME", "/home/me"),
            ]),
        );
        let names: Vec<&str> = env.iter().filter_map(|(k, _)| k.to_str()).collect();
        assert_eq!(names, ["PATH", "KUBECONFIG", "AWS_REGION", "HOME"]);
    }

    #[test]
    fn a_passed_secret_is_registered_for_redaction() {
        let passed = [
            EnvName::parse("ARGO_TOKEN").unwrap(),
            EnvName::parse("DEPLOY_URL").unwrap(),
        ];
        let env = inherited(
            &passed,
            vars(&[
                ("ARGO_TOKEN", "argo-token-passed-to-hooks"),
                (
                    "DEPLOY_URL",
                    "https://deployer:hunter2-passed@deploy.example/api",
                ),
            ]),
        );
        assert_eq!(env.len(), 2);
        let out =
            shipgate_core::redact::scrub("token argo-token-passed-to-hooks, pass hunter2-passed");
        assert_eq!(out, "token ***, pass ***");
    }

    #[test]
    fn names_are_checked() {
        assert!(EnvName::parse("KUBECONFIG").is_ok());
        assert!(EnvName::parse("_X1").is_ok());
        assert!(EnvName::parse("AWS_*").unwrap().matches("AWS_PROFILE"));
        assert!(!EnvName::parse("AWS_*").unwrap().matches("XAWS_PROFILE"));
        assert!(EnvName::parse("*").unwrap_err().contains("every variable"));
        assert!(
            EnvName::parse("MY VAR")
                .unwrap_err()
                .contains("`MY VAR` is not a variable name")
        );
        assert!(EnvName::parse("1X").is_err());
        assert!(EnvName::parse("A*B").is_err());
    }

    #[test]
    fn secret_looking_names() {
        for name in [
            "ARGO_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "db_password",
            "API_KEY",
            "SSH_AUTH_SOCK",
        ] {
            assert!(looks_secret(name), "{name}");
        }
        for name in ["KUBECONFIG", "NAMESPACE", "TRAFFIC_BACKEND", "KEYBOARD"] {
            assert!(!looks_secret(name), "{name}");
        }
    }
}
