//! Parsing and checking a policy's configuration.

use std::fmt;

use crate::Policy;

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
/// [`Policy::check_config`]. An error names the key, as `validate-config`
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
