//! Parsing and checking a policy's configuration.

use std::fmt;

use serde::Deserialize;

use crate::Policy;

/// The configuration of a policy that has no settings: `type Config =
/// NoConfig;`.
///
/// It accepts an empty `config` table (the host passes `{}` when the table is
/// absent) and refuses every key, with the errors an empty
/// `#[serde(deny_unknown_fields)] struct Config {}` gives, so a stray
/// setting is an error at load time instead of silently ignored.
///
/// ```
/// use shipgate_sdk::prelude::*;
///
/// struct Always;
/// impl Policy for Always {
///     type Config = NoConfig;
///     fn info() -> Info {
///         Info::new("always", "always goes")
///     }
///     fn evaluate(_: Stage, _: &Snapshot, _: &NoConfig) -> Result<Decision, String> {
///         Ok(Decision::go())
///     }
/// }
///
/// assert!(shipgate_sdk::parse_config::<Always>("{}").is_ok());
/// let e = shipgate_sdk::parse_config::<Always>(r#"{"max": 3}"#).unwrap_err();
/// assert_eq!(e.to_string(), "key `max`: unknown field `max`, there are no fields");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
// Errors name it `struct Config`, as they name a policy's own empty struct.
#[serde(deny_unknown_fields, expecting = "struct Config")]
pub struct NoConfig {}

/// A configuration the policy refuses, naming the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The offending key as a dotted path (`thresholds.error_rate`); empty
    /// for the whole document.
    pub key: String,
    /// What is wrong, in lower case without a final period.
    pub message: String,
}

impl ConfigError {
    /// An error about `key`.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            key: key.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "key `{}`: {}", self.key, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// Parses a policy's JSON configuration into its type and runs
/// [`Policy::check_config`]. An error names the key, as `configure`
/// reports it to the host.
pub fn parse_config<P: Policy>(json: &str) -> Result<P::Config, ConfigError> {
    let de = &mut serde_json::Deserializer::from_str(json);
    let config: P::Config = serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        let key = if key == "." { String::new() } else { key };
        ConfigError::new(key, strip_position(&e.into_inner().to_string()))
    })?;
    P::check_config(&config)?;
    Ok(config)
}

/// serde_json appends ` at line 1 column 17`, which points into the JSON the
/// host made, not into the user's TOML: drop it.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Deserializes a setting that can be turned off: `false` (the way to say it
/// in `shipgate.toml`, which has no `null`) or `null` is `None`, any other
/// value is `Some` of it. For a field whose default is on:
///
/// ```
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// #[serde(default)]
/// struct Config {
///     #[serde(deserialize_with = "shipgate_sdk::or_off")]
///     max_restarts: Option<u32>,
/// }
/// impl Default for Config {
///     fn default() -> Self {
///         Config { max_restarts: Some(0) }
///     }
/// }
///
/// let parse = |json| serde_json::from_str::<Config>(json).map(|c| c.max_restarts);
/// assert_eq!(parse("{}").unwrap(), Some(0));
/// assert_eq!(parse(r#"{"max_restarts": 3}"#).unwrap(), Some(3));
/// assert_eq!(parse(r#"{"max_restarts": false}"#).unwrap(), None);
/// assert_eq!(parse(r#"{"max_restarts": null}"#).unwrap(), None);
/// let e = parse(r#"{"max_restarts": true}"#).unwrap_err().to_string();
/// assert!(e.starts_with("`true` is not a setting: give a value, or `false` to turn it off"), "{e}");
/// ```
pub fn or_off<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::de::Error as _;
    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Null | serde_json::Value::Bool(false) => Ok(None),
        serde_json::Value::Bool(true) => Err(D::Error::custom(
            "`true` is not a setting: give a value, or `false` to turn it off",
        )),
        value => T::deserialize(value).map(Some).map_err(D::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Decision, Info, Snapshot, Stage};

    /// What a policy without settings wrote before [`NoConfig`].
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Config {}

    /// A policy whose configuration is `C`.
    struct With<C>(std::marker::PhantomData<C>);

    impl<C: serde::de::DeserializeOwned + 'static> Policy for With<C> {
        type Config = C;
        fn info() -> Info {
            Info::new("with", "a config type")
        }
        fn evaluate(_: Stage, _: &Snapshot, _: &C) -> Result<Decision, String> {
            Ok(Decision::go())
        }
    }

    type Empty = With<Config>;
    type Unit = With<NoConfig>;

    #[test]
    fn no_config_accepts_an_empty_table() {
        assert_eq!(parse_config::<Unit>("{}"), Ok(NoConfig {}));
        assert_eq!(parse_config::<Unit>(" { } "), Ok(NoConfig {}));
    }

    #[test]
    fn no_config_refuses_what_an_empty_struct_refuses_with_the_same_error() {
        for json in [
            r#"{"max": 3}"#,
            r#"{"a": 1, "b": 2}"#,
            r#"{"": null}"#,
            "null",
            "3",
            r#""text""#,
            "[1]",
            "{",
            "",
        ] {
            let ours = parse_config::<Unit>(json).map(|_| ());
            let theirs = parse_config::<Empty>(json).map(|_| ());
            assert!(ours.is_err(), "`{json}` is accepted");
            assert_eq!(ours, theirs, "`{json}`");
        }
        let e = parse_config::<Unit>(r#"{"max": 3}"#).unwrap_err();
        assert_eq!(e.key, "max");
        assert_eq!(e.message, "unknown field `max`, there are no fields");
    }
}
