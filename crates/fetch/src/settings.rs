//! What a [`crate::Fetcher`] runs with, from a configuration's `[trust]`
//! and `[registry]` tables (paths relative to its directory), or from
//! flags.

use std::path::{Path, PathBuf};
use std::time::Duration;

use shipgate_core::config::{Config, RegistryConfig};
use shipgate_registry::{Credentials, Options};

/// The variable read for a bearer token when `[registry]` names none.
pub const TOKEN_ENV: &str = "SHIPGATE_REGISTRY_TOKEN";
/// The variable read for a user name when `[registry]` names none.
pub const USERNAME_ENV: &str = "SHIPGATE_REGISTRY_USERNAME";
/// The variable read for a password when `[registry]` names none.
pub const PASSWORD_ENV: &str = "SHIPGATE_REGISTRY_PASSWORD";

/// A fetcher's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The local store (and accepted sequences) directory.
    pub store: PathBuf,
    /// The trust file; `None`: bundles are checked against their pin only.
    pub trust_file: Option<PathBuf>,
    /// How the registry client talks.
    pub options: Options,
    /// Never ask a registry: only the store.
    pub offline: bool,
}

impl Settings {
    /// The settings a configuration gives.
    pub fn of(config: &Config, offline: bool) -> Settings {
        let base = config.base_dir();
        Settings {
            store: under(&base, &config.registry.store),
            trust_file: config.trust.file.as_ref().map(|f| under(&base, f)),
            options: options(&config.registry, &|name| std::env::var(name).ok()),
            offline,
        }
    }
}

/// The registry client's options from `[registry]`; without credential
/// keys, [`TOKEN_ENV`] or [`USERNAME_ENV`] and [`PASSWORD_ENV`] when set
/// (their names only: the client reads and redacts the values).
pub fn options(registry: &RegistryConfig, lookup: &dyn Fn(&str) -> Option<String>) -> Options {
    let set = |name: &str| lookup(name).is_some_and(|v| !v.is_empty());
    let credentials = match (
        &registry.username_env,
        &registry.password_env,
        &registry.token_env,
    ) {
        (_, _, Some(token_env)) => Credentials::Bearer {
            token_env: token_env.clone(),
        },
        (Some(username_env), Some(password_env), None) => Credentials::Basic {
            username_env: username_env.clone(),
            password_env: password_env.clone(),
        },
        _ if set(TOKEN_ENV) => Credentials::Bearer {
            token_env: TOKEN_ENV.into(),
        },
        _ if set(USERNAME_ENV) && set(PASSWORD_ENV) => Credentials::Basic {
            username_env: USERNAME_ENV.into(),
            password_env: PASSWORD_ENV.into(),
        },
        _ => Credentials::Anonymous,
    };
    let mut options = Options {
        credentials,
        plain_http_hosts: registry.plain_http.clone(),
        ..Options::default()
    };
    if let Some(timeout) = registry.timeout {
        options.timeout = timeout.0.max(Duration::from_secs(1));
    }
    options
}

/// `dir` joined to `path` unless `path` is absolute.
fn under(dir: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() || dir == Path::new(".") {
        path.to_owned()
    } else {
        dir.join(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_come_from_the_table_else_the_default_variables() {
        let none = |_: &str| None;
        assert_eq!(
            options(&RegistryConfig::default(), &none).credentials,
            Credentials::Anonymous
        );
        let token = |name: &str| (name == TOKEN_ENV).then(|| "t".to_owned());
        assert_eq!(
            options(&RegistryConfig::default(), &token).credentials,
            Credentials::Bearer {
                token_env: TOKEN_ENV.into()
            }
        );
        let table = RegistryConfig {
            username_env: Some("U".into()),
            password_env: Some("P".into()),
            ..RegistryConfig::default()
        };
        assert_eq!(
            options(&table, &token).credentials,
            Credentials::Basic {
                username_env: "U".into(),
                password_env: "P".into()
            }
        );
    }
}
