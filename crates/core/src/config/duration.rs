//! Durations as the configuration writes them.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// A duration written in the configuration as `"500ms"`, `"10s"` or `"2m"`
/// (humantime syntax).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration(pub std::time::Duration);

impl Duration {
    /// Whole seconds.
    pub const fn from_secs(secs: u64) -> Self {
        Duration(std::time::Duration::from_secs(secs))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_duration(text.trim())
            .map(Duration)
            .map_err(|_| {
                serde::de::Error::custom(format!(
                    "invalid duration `{text}`; write e.g. \"500ms\", \"10s\" or \"2m\""
                ))
            })
    }
}
