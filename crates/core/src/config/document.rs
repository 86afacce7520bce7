//! The file as toml's spanned document ([`toml::de::DeTable`]): read with
//! serde into the types of `tables.rs`, with every error placed at the key
//! it is about. `serde_path_to_error` gives the key path of an error
//! (`policies[1].mode`); the document gives that key's line and column.

use std::borrow::Cow;
use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::checked::HELP;
use super::names::{expected_list, join_key, suggest};
use super::reader::Reader;
use super::{ConfigError, Location, lower_first};

/// A spanned value of the document.
pub(super) type Value<'i> = Spanned<DeValue<'i>>;

/// One parsed file: what errors need to name a place in it.
pub(super) struct Document<'i> {
    pub(super) file: String,
    pub(super) text: &'i str,
    /// The whole file, as a table.
    pub(super) root: Value<'i>,
}

impl<'i> Document<'i> {
    /// Parses `text`; a syntax error is located where toml found it.
    pub(super) fn parse(file: &str, text: &'i str) -> Result<Document<'i>, ConfigError> {
        let table = DeTable::parse(text).map_err(|err| syntax_error(file, text, &err))?;
        let span = table.span();
        Ok(Document {
            file: file.to_owned(),
            text,
            root: Spanned::new(span, DeValue::Table(table.into_inner())),
        })
    }

    /// An error at byte `offset`.
    pub(super) fn error(
        &self,
        offset: usize,
        key: Option<String>,
        message: impl Into<String>,
    ) -> ConfigError {
        error_at(&self.file, self.text, offset, key, message.into())
    }

    /// Reads the whole file as `T`; an error names its key, line and column.
    pub(super) fn deserialize<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        serde_path_to_error::deserialize(Reader(&self.root)).map_err(|err| {
            let path = err.path().to_string();
            let full = err.inner().0.clone();
            let (message, help) = match full.split_once(HELP) {
                Some((message, help)) => (message.to_owned(), Some(help.to_owned())),
                None => (full, None),
            };
            let unknown_key = message.starts_with("unknown field");
            let (value, key) = self.deepest(&path, unknown_key);
            let mut error = self.error(value, Some(key), tidy(&message));
            error.help = help.or_else(|| unknown_field_help(&message));
            error
        })
    }

    /// The offset of the deepest value on `path` (serde's `a.b[2].c`, or
    /// `.` for the file itself) that the file has, and the key to report.
    /// With `at_key`, the offset is that of the last key rather than of its
    /// value (for unknown keys).
    fn deepest(&self, path: &str, at_key: bool) -> (usize, String) {
        let mut current = &self.root;
        let mut offset = current.span().start;
        let mut reported = String::new();
        for segment in path_segments(path) {
            let next = match (segment, current.get_ref()) {
                (Segment::Key(name), DeValue::Table(table)) => {
                    reported = join_key(&reported, name);
                    find_key(table, name).map(|(k, v)| {
                        offset = if at_key {
                            k.span().start
                        } else {
                            v.span().start
                        };
                        v
                    })
                }
                (Segment::Key(name), _) => {
                    reported = join_key(&reported, name);
                    None
                }
                (Segment::Index(index), value) => {
                    reported.push_str(&format!("[{index}]"));
                    match value {
                        DeValue::Array(array) => array.get(index).inspect(|v| {
                            offset = v.span().start;
                        }),
                        _ => None,
                    }
                }
            };
            match next {
                Some(next) => current = next,
                None => break,
            }
        }
        (offset, reported)
    }

    /// The deepest value on `path` (`policies[1].config.x`) that the file
    /// has, below `from`.
    pub(super) fn walk<'a>(from: &'a Value<'i>, path: &str) -> &'a Value<'i> {
        let mut current = from;
        for segment in path_segments(path) {
            let next = match (segment, current.get_ref()) {
                (Segment::Key(key), DeValue::Table(table)) => find_key(table, key).map(|(_, v)| v),
                (Segment::Index(index), DeValue::Array(array)) => array.get(index),
                _ => None,
            };
            match next {
                Some(next) => current = next,
                None => break,
            }
        }
        current
    }

    /// The value at exactly `path`, if the file has it.
    pub(super) fn get(&self, path: &str) -> Option<&Value<'i>> {
        let mut current = &self.root;
        for segment in path_segments(path) {
            current = match (segment, current.get_ref()) {
                (Segment::Key(key), DeValue::Table(table)) => find_key(table, key)?.1,
                (Segment::Index(index), DeValue::Array(array)) => array.get(index)?,
                _ => return None,
            };
        }
        Some(current)
    }

    /// The line and column of byte `offset`.
    pub(super) fn location_of(&self, offset: usize) -> Location {
        location_of(self.text, offset)
    }
}

/// An error at byte `offset` of `text`.
fn error_at(
    file: &str,
    text: &str,
    offset: usize,
    key: Option<String>,
    message: String,
) -> ConfigError {
    let location = location_of(text, offset);
    ConfigError {
        file: file.to_owned(),
        line: location.line,
        column: location.column,
        key,
        message,
        help: None,
    }
}

/// A syntax error, where toml found it.
fn syntax_error(file: &str, text: &str, err: &toml::de::Error) -> ConfigError {
    let span: Range<usize> = err.span().unwrap_or(0..0);
    let mut message = lower_first(err.message());
    // toml does not say which key is duplicated; its span does.
    if message == "duplicate key"
        && let Some(key) = text.get(span.clone()).filter(|key| !key.is_empty())
    {
        message = format!("duplicate key `{key}`");
    }
    error_at(file, text, span.start, None, message)
}

/// One step of a key path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// Splits `a.b[2].c` into keys and indexes, best effort (`?`, serde's
/// unknown step, is skipped).
fn path_segments(path: &str) -> Vec<Segment<'_>> {
    let mut segments = Vec::new();
    for part in path
        .split('.')
        .filter(|part| !part.is_empty() && *part != "?")
    {
        let (key, mut rest) = match part.find('[') {
            Some(at) => part.split_at(at),
            None => (part, ""),
        };
        if !key.is_empty() {
            segments.push(Segment::Key(key.trim_matches('"')));
        }
        while let Some(inner) = rest.strip_prefix('[') {
            let Some(close) = inner.find(']') else { break };
            let (number, after) = inner.split_at(close);
            match number.trim().parse() {
                Ok(index) => segments.push(Segment::Index(index)),
                Err(_) => break,
            }
            rest = after.get(1..).unwrap_or_default();
        }
    }
    segments
}

/// The entry for `key` in a spanned table.
pub(super) fn find_key<'a, 'i>(
    table: &'a DeTable<'i>,
    key: &str,
) -> Option<(&'a Spanned<Cow<'i, str>>, &'a Value<'i>)> {
    table.iter().find(|(k, _)| k.get_ref().as_ref() == key)
}

/// The 1-based line and column (in characters) of a byte offset.
fn location_of(text: &str, offset: usize) -> Location {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = text.get(..offset).unwrap_or_default();
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    Location {
        line: before.matches('\n').count() + 1,
        column: before.get(line_start..).unwrap_or_default().chars().count() + 1,
    }
}

/// serde's message, shortened: its list of expected fields goes into the
/// help line instead.
fn tidy(message: &str) -> String {
    match message.split_once(", expected ") {
        Some((head, _)) if head.starts_with("unknown field") => head.replacen("field", "key", 1),
        _ => message.to_owned(),
    }
}

/// "did you mean" for serde's "unknown field `x`, expected one of `a`, `b`".
fn unknown_field_help(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (got, rest) = rest.split_once('`')?;
    let expected: Vec<&str> = rest
        .strip_prefix(", expected one of ")
        .or_else(|| rest.strip_prefix(", expected "))?
        .split(", ")
        .map(|name| name.trim_matches('`'))
        .collect();
    Some(match suggest(got, &expected) {
        Some(near) => format!("did you mean `{near}`?"),
        None => format!("expected {}", expected_list(&expected)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_paths() {
        assert_eq!(
            path_segments("a.b[2][0].c"),
            [
                Segment::Key("a"),
                Segment::Key("b"),
                Segment::Index(2),
                Segment::Index(0),
                Segment::Key("c")
            ]
        );
    }
}
