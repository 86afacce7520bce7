//! How the client authenticates: anonymously, with HTTP basic credentials,
//! or with a bearer token, the secret values read from environment
//! variables whose **names** the configuration gives. A value read is
//! registered with [`shipgate_core::redact`] at once (the password, the
//! token, `user:password` and its base64 form, as an `Authorization: Basic`
//! header carries it), so no output of the process can show it.

use oci_client::secrets::RegistryAuth;

use crate::error::RegistryError;

/// The credentials to use, by the names of the variables that hold them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Credentials {
    /// No credentials (a public registry, or one without auth).
    #[default]
    Anonymous,
    /// HTTP basic authentication.
    Basic {
        /// The variable holding the user name.
        username_env: String,
        /// The variable holding the password.
        password_env: String,
    },
    /// A bearer token sent as it is (`Authorization: Bearer …`), no token
    /// exchange.
    Bearer {
        /// The variable holding the token.
        token_env: String,
    },
}

/// Credentials with their values: never printed (`Debug` masks them).
#[derive(Clone)]
pub(crate) struct Resolved(pub(crate) RegistryAuth);

impl std::fmt::Debug for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            RegistryAuth::Anonymous => f.write_str("Anonymous"),
            RegistryAuth::Basic(..) => f.write_str("Basic(***)"),
            RegistryAuth::Bearer(_) => f.write_str("Bearer(***)"),
        }
    }
}

impl Credentials {
    /// Reads the values through `lookup` (a variable's value by name) and
    /// registers them as secrets. A variable that is not set, or empty, is
    /// an error naming it.
    pub(crate) fn resolve(
        &self,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Resolved, RegistryError> {
        let read = |name: &str, what: &str| -> Result<String, RegistryError> {
            match lookup(name) {
                Some(value) if !value.is_empty() => Ok(value),
                _ => Err(RegistryError::Credentials(format!(
                    "the variable `{name}` (the {what}) is not set"
                ))),
            }
        };
        Ok(Resolved(match self {
            Credentials::Anonymous => RegistryAuth::Anonymous,
            Credentials::Basic {
                username_env,
                password_env,
            } => {
                let username = read(username_env, "registry user name")?;
                let password = read(password_env, "registry password")?;
                register_basic(&username, &password);
                RegistryAuth::Basic(username, password)
            }
            Credentials::Bearer { token_env } => {
                let token = read(token_env, "registry token")?;
                shipgate_core::redact::register(&token);
                RegistryAuth::Bearer(token)
            }
        }))
    }
}

/// Registers the forms basic credentials take on the wire.
fn register_basic(username: &str, password: &str) {
    use base64::Engine as _;
    let pair = format!("{username}:{password}");
    shipgate_core::redact::register(password);
    shipgate_core::redact::register(&pair);
    shipgate_core::redact::register(&base64::engine::general_purpose::STANDARD.encode(&pair));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_come_from_the_named_variables_and_are_registered() {
        let lookup = |name: &str| match name {
            "REG_USER" => Some("ci-bot".to_owned()),
            "REG_PASS" => Some("pa55-w0rd-unit-7".to_owned()),
            "REG_TOKEN" => Some("tok-unit-test-88".to_owned()),
            _ => None,
        };
        let basic = Credentials::Basic {
            username_env: "REG_USER".into(),
            password_env: "REG_PASS".into(),
        };
        let resolved = basic.resolve(&lookup).unwrap();
        assert_eq!(format!("{resolved:?}"), "Basic(***)");
        assert_eq!(
            shipgate_core::redact::scrub("pa55-w0rd-unit-7 Y2ktYm90OnBhNTUtdzByZC11bml0LTc="),
            "*** ***"
        );
        let bearer = Credentials::Bearer {
            token_env: "REG_TOKEN".into(),
        };
        assert_eq!(
            format!("{:?}", bearer.resolve(&lookup).unwrap()),
            "Bearer(***)"
        );
        assert_eq!(shipgate_core::redact::scrub("tok-unit-test-88"), "***");
        let missing = Credentials::Bearer {
            token_env: "NOPE".into(),
        };
        assert_eq!(
            missing.resolve(&lookup).unwrap_err().to_string(),
            "credentials for the registry: the variable `NOPE` (the registry token) is not set"
        );
    }
}
