//! The located-error machinery of `shipgate.toml` for other TOML files
//! Shipgate reads (a bundle's `bundle.toml`, `trust.toml`): any serde type
//! read with `file:line:column: key …` errors, `[[policies]]` tables read
//! and checked exactly as `shipgate.toml`'s, and errors found after reading
//! placed at the key they are about.
//!
//! ```
//! use serde::Deserialize;
//! use shipgate_core::config::TomlFile;
//!
//! #[derive(Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct Mine {
//!     name: String,
//!     #[serde(default)]
//!     policies: serde::de::IgnoredAny,
//! }
//!
//! let text = "name = \"x\"\n[[policies]]\nname = \"p\"\nsource = \"builtin:env\"\nmode = \"loud\"\n";
//! let file = TomlFile::new("bundle.toml", text);
//! let err = file.parse_with_policies::<Mine>().err().unwrap();
//! assert!(err.to_string().starts_with("bundle.toml:5:8: key `policies[0].mode`: unknown variant `loud`"));
//! ```

use std::path::Path;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::document::Document;
use super::tables::Policy;
use super::{ConfigError, PolicyConfig, checked};

/// A TOML file's name and text, read with located errors.
#[derive(Debug, Clone, Copy)]
pub struct TomlFile<'a> {
    file: &'a str,
    text: &'a str,
}

/// Only the `policies` key of a file (other keys are read by the caller).
#[derive(Deserialize)]
struct PoliciesOnly {
    #[serde(default, deserialize_with = "policies")]
    policies: Vec<Policy>,
}

fn policies<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<Policy>, D::Error> {
    checked::array_of_tables(deserializer, "write each policy as a `[[policies]]` table")
}

impl<'a> TomlFile<'a> {
    /// The text of `file` (the name errors report).
    pub fn new(file: &'a str, text: &'a str) -> TomlFile<'a> {
        TomlFile { file, text }
    }

    /// Reads the whole file as `T`; an error names the key, line and column
    /// (a syntax error, where toml found it).
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        Document::parse(self.file, self.text)?.deserialize()
    }

    /// Reads the file as `T` and its `[[policies]]` tables as
    /// `shipgate.toml`'s (names, sources, stages, modes, `config`, checked
    /// alike; relative paths stay as written). `T` must accept the
    /// `policies` key (e.g. as [`serde::de::IgnoredAny`]).
    pub fn parse_with_policies<T: DeserializeOwned>(
        &self,
    ) -> Result<(T, Vec<PolicyConfig>), ConfigError> {
        let document = Document::parse(self.file, self.text)?;
        let own: T = document.deserialize()?;
        let only: PoliciesOnly = document.deserialize()?;
        let policies = document.policies(only.policies, Path::new(""))?;
        Ok((own, policies))
    }

    /// An error about `key_path` (`policies[1].source`, `keys[0].public`)
    /// found after reading; placed at the deepest value on the path the
    /// file has (no line when the file has none of it).
    pub fn key_error(&self, key_path: &str, message: &str) -> ConfigError {
        let location = Document::parse(self.file, self.text)
            .ok()
            .and_then(|document| {
                let first = key_path.split(['.', '[']).next().unwrap_or_default();
                document.get(first)?;
                let value = Document::walk(&document.root, key_path);
                Some(document.location_of(value.span().start))
            });
        let (line, column) = location.map_or((0, 0), |l| (l.line, l.column));
        ConfigError {
            file: self.file.to_owned(),
            line,
            column,
            key: Some(key_path.to_owned()),
            message: message.to_owned(),
            help: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PolicySource;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Head {
        name: String,
        #[serde(default)]
        #[allow(dead_code)]
        policies: serde::de::IgnoredAny,
    }

    #[test]
    fn reads_own_keys_and_policies() {
        let text = "name = \"acme/x\"\n\n[[policies]]\nname = \"p\"\nsource = \"policies/p.wasm\"\n[policies.config]\nx = 1\n";
        let (head, policies) = TomlFile::new("bundle.toml", text)
            .parse_with_policies::<Head>()
            .unwrap();
        assert_eq!(head.name, "acme/x");
        assert_eq!(
            policies[0].source,
            PolicySource::Path("policies/p.wasm".into())
        );
        assert_eq!(policies[0].config, serde_json::json!({"x": 1}));
    }

    #[test]
    fn errors_are_located() {
        let file = TomlFile::new("bundle.toml", "name = \"a\"\nnmae = 1\n");
        let err = file.parse_with_policies::<Head>().unwrap_err().to_string();
        assert!(
            err.starts_with("bundle.toml:2:1: key `nmae`: unknown key `nmae`"),
            "{err}"
        );
        let file = TomlFile::new("bundle.toml", "name = \"a\"\n[[policies]]\nname = \"p\"\n");
        let err = file.parse_with_policies::<Head>().unwrap_err().to_string();
        assert!(
            err.contains("bundle.toml:2:1: key `policies[0]`: missing required key `source`"),
            "{err}"
        );
        let file = TomlFile::new("t.toml", "name = \"a\"\n\nversion = \"x\"\n");
        assert_eq!(
            file.key_error("version", "not semver").to_string(),
            "t.toml:3:11: key `version`: not semver"
        );
    }
}
