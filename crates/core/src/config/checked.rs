//! Values checked as serde reads them: integers in a range, enum names with
//! a "did you mean", policy names, sources, digests, stage lists and a
//! policy's own configuration. Each is a `deserialize_with` function (or a
//! type) of the tables in `tables.rs`; its errors carry their own message
//! and help, and `document.rs` places them at the key they are about.
//!
//! A wrong type reads "expected an integer, found string `500ms`", whatever
//! the value: [`Found`] is what the file has, described for a message.

use std::fmt;
use std::marker::PhantomData;
use std::path::PathBuf;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use shipgate_model::{Stage, WireEnum};

use super::names::{expected_list, suggest};
use super::{PolicySource, SOURCE_HELP};

/// Separates a message from its help in a serde error's text;
/// `document.rs` splits them again into [`super::ConfigError`]'s fields.
pub(super) const HELP: &str = "\n  help: ";

/// A serde error with a message and, maybe, help.
pub(super) fn error<E: de::Error>(message: impl fmt::Display, help: Option<&str>) -> E {
    match help {
        Some(help) => E::custom(format!("{message}{HELP}{help}")),
        None => E::custom(message),
    }
}

/// What a value in the file is, for "expected X, found Y".
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Found {
    Str(String),
    Int(i128),
    Float(f64),
    Bool(bool),
    Array,
    Table,
}

impl Found {
    /// The value, described with user input in backticks.
    fn describe(&self) -> String {
        match self {
            Found::Str(s) => format!("string `{s}`"),
            Found::Int(i) => format!("integer `{i}`"),
            Found::Float(f) => format!("float `{}`", float_text(*f)),
            Found::Bool(b) => format!("boolean `{b}`"),
            Found::Array => "an array".to_owned(),
            Found::Table => "a table".to_owned(),
        }
    }

    /// "expected `expected`, found ...", with help for a quoted number.
    fn wrong_type<E: de::Error>(&self, expected: &str) -> E {
        let quoted_number = expected.contains("integer") && matches!(self, Found::Str(_));
        error(
            format_args!("expected {expected}, found {}", self.describe()),
            quoted_number.then_some("write the number without quotes"),
        )
    }
}

/// A float as TOML writes it (`2.0`, `-inf`, `nan`).
fn float_text(f: f64) -> String {
    if f.is_nan() {
        "nan".to_owned()
    } else {
        format!("{f:?}")
    }
}

/// How a value of one expected shape is read: the shapes it takes and what
/// it says about the others.
trait Take<'de>: Sized {
    type Value;

    /// What is expected, as in "expected a table".
    fn expected(&self) -> &'static str;

    /// A scalar (a datetime is a string); by default a wrong type.
    fn scalar<E: de::Error>(self, found: Found) -> Result<Self::Value, E> {
        Err(found.wrong_type(self.expected()))
    }

    /// An array; by default a wrong type.
    fn seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<Self::Value, A::Error> {
        Err(Found::Array.wrong_type(self.expected()))
    }

    /// A table; by default a wrong type.
    fn map<A: MapAccess<'de>>(self, _map: A) -> Result<Self::Value, A::Error> {
        Err(Found::Table.wrong_type(self.expected()))
    }
}

/// Reads any value through a [`Take`].
fn take<'de, D: Deserializer<'de>, T: Take<'de>>(
    deserializer: D,
    take: T,
) -> Result<T::Value, D::Error> {
    deserializer.deserialize_any(Visit(take))
}

struct Visit<T>(T);

impl<'de, T: Take<'de>> Visitor<'de> for Visit<T> {
    type Value = T::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.expected())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        self.0.scalar(Found::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.0.scalar(Found::Int(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.0.scalar(Found::Int(v.into()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Self::Value, E> {
        self.0.scalar(Found::Int(v))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Self::Value, E> {
        match i128::try_from(v) {
            Ok(v) => self.0.scalar(Found::Int(v)),
            Err(_) => Err(E::custom(format!("integer `{v}` is out of range"))),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        self.0.scalar(Found::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        self.0.scalar(Found::Str(v.to_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.0.seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.map(map)
    }
}

/// Any value, as what it is.
struct AnyValue;

impl<'de> Take<'de> for AnyValue {
    type Value = Found;

    fn expected(&self) -> &'static str {
        "a value"
    }

    fn scalar<E: de::Error>(self, found: Found) -> Result<Found, E> {
        Ok(found)
    }

    fn seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Found, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Found::Array)
    }

    fn map<A: MapAccess<'de>>(self, mut map: A) -> Result<Found, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Found::Table)
    }
}

impl<'de> Deserialize<'de> for Found {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        take(deserializer, AnyValue)
    }
}

/// A string, or a wrong type.
fn string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match Found::deserialize(deserializer)? {
        Found::Str(s) => Ok(s),
        other => Err(other.wrong_type("a string")),
    }
}

/// A table read as `T`, or "expected a table, found ...".
pub(super) fn table<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    struct Table<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Take<'de> for Table<T> {
        type Value = T;

        fn expected(&self) -> &'static str {
            "a table"
        }

        fn map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(de::value::MapAccessDeserializer::new(map))
        }
    }
    take(deserializer, Table(PhantomData))
}

/// An array of tables read as `T`s; `help` says how to write one.
pub(super) fn array_of_tables<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
    help: &'static str,
) -> Result<Vec<T>, D::Error> {
    struct Tables<T> {
        help: &'static str,
        t: PhantomData<T>,
    }
    impl<T> Tables<T> {
        fn wrong<E: de::Error>(&self, found: Found) -> E {
            let message = format!("expected an array of tables, found {}", found.describe());
            error(message, Some(self.help))
        }
    }
    impl<'de, T: Deserialize<'de>> Take<'de> for Tables<T> {
        type Value = Vec<T>;

        fn expected(&self) -> &'static str {
            "an array of tables"
        }

        fn scalar<E: de::Error>(self, found: Found) -> Result<Vec<T>, E> {
            Err(self.wrong(found))
        }

        fn map<A: MapAccess<'de>>(self, _map: A) -> Result<Vec<T>, A::Error> {
            Err(self.wrong(Found::Table))
        }

        fn seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut tables = Vec::new();
            while let Some(table) = seq.next_element_seed(TableSeed(PhantomData))? {
                tables.push(table);
            }
            Ok(tables)
        }
    }
    struct TableSeed<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for TableSeed<T> {
        type Value = T;

        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
            table(deserializer)
        }
    }
    take(
        deserializer,
        Tables {
            help,
            t: PhantomData,
        },
    )
}

/// An integer from `min` to `max`.
fn integer<'de, D: Deserializer<'de>>(
    deserializer: D,
    min: u64,
    max: u64,
    help: Option<&str>,
) -> Result<u64, D::Error> {
    match Found::deserialize(deserializer)? {
        Found::Int(n) => u64::try_from(n)
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| {
                error(
                    format_args!("integer `{n}` is out of range, expected `{min}` to `{max}`"),
                    help,
                )
            }),
        other => Err(other.wrong_type("an integer")),
    }
}

/// Declares `deserialize_with` functions for integers in a range.
macro_rules! ranged {
    ($($(#[$meta:meta])* $name:ident: $ty:ty = $min:expr, $max:expr $(, help $help:expr)?;)+) => {
        $($(#[$meta])*
        pub(super) fn $name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<$ty, D::Error> {
            #[allow(unused_mut, unused_assignments)]
            let mut help: Option<String> = None;
            $(help = Some($help);)?
            let n = integer(deserializer, $min, $max, help.as_deref())?;
            Ok(<$ty>::try_from(n).unwrap_or(<$ty>::MAX))
        })+
    };
}

ranged! {
    /// `limits.fuel`.
    fuel: u64 = 1, super::MAX_FUEL;
    /// `limits.deadline_ms`.
    deadline_ms: u64 = 1, super::MAX_DEADLINE_MS;
    /// `limits.memory_mib`.
    memory_mib: u32 = 1, super::MAX_MEMORY_MIB,
        help format!("a 32-bit WebAssembly memory holds at most {} MiB", super::MAX_MEMORY_MIB);
    /// `limits.max_output_bytes`.
    max_output_bytes: u64 = 1, super::MAX_OUTPUT_BYTES;
    /// `limits.max_findings`.
    max_findings: u32 = 1, super::MAX_FINDINGS;
}

/// One of an enum's names, with "did you mean" for a near miss.
pub(super) fn choice<'de, D: Deserializer<'de>, T: WireEnum>(
    deserializer: D,
) -> Result<T, D::Error> {
    let got = string(deserializer)?;
    got.parse().map_err(|_| {
        let help = suggest(&got, T::NAMES).map(|near| format!("did you mean `{near}`?"));
        error(
            format_args!(
                "unknown variant `{got}`, expected {}",
                expected_list(T::NAMES)
            ),
            help.as_deref(),
        )
    })
}

/// Whether `name` is a valid policy or built-in name: `[a-z0-9_-]+`.
fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// `policies[].name`: non-empty, lowercase letters, digits, `-`, `_`.
pub(super) fn policy_name<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let name = string(deserializer)?;
    if name.is_empty() {
        return Err(error(
            "policy name is empty",
            Some("use lowercase letters, digits, `-` and `_`"),
        ));
    }
    if !is_valid_name(&name) {
        return Err(error(
            format_args!("invalid policy name `{name}`"),
            Some("use only lowercase letters, digits, `-` and `_`"),
        ));
    }
    Ok(Some(name))
}

/// `policies[].source`: `builtin:NAME` or a path, as written (the caller
/// resolves a relative path).
pub(super) fn source<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<PolicySource>, D::Error> {
    let raw = string(deserializer)?;
    let invalid = |message: String| error(message, Some(SOURCE_HELP));
    if let Some(name) = raw.strip_prefix("builtin:") {
        if name.is_empty() {
            return Err(invalid("built-in policy name is empty".to_owned()));
        }
        if !is_valid_name(name) {
            return Err(invalid(format!("invalid built-in policy name `{name}`")));
        }
        return Ok(Some(PolicySource::Builtin(name.to_owned())));
    }
    if raw.trim().is_empty() {
        return Err(invalid("source is empty".to_owned()));
    }
    // `scheme:...` that is not a Windows drive letter.
    if let Some((scheme, rest)) = raw.split_once(':') {
        let is_scheme = scheme.len() > 1
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if is_scheme {
            let help = match suggest(scheme, &["builtin"]) {
                Some(_) => format!("did you mean `builtin:{rest}`?"),
                None => SOURCE_HELP.to_owned(),
            };
            return Err(error(
                format_args!("unknown source scheme `{scheme}:`"),
                Some(&help),
            ));
        }
    }
    Ok(Some(PolicySource::Path(PathBuf::from(raw))))
}

/// `policies[].sha256`: 64 lowercase hex characters.
pub(super) fn sha256<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let digest = string(deserializer)?;
    let is_hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
    if digest.len() == 64 && digest.chars().all(is_hex) {
        return Ok(Some(digest));
    }
    let help = if digest.len() == 64 && digest.chars().all(|c| c.is_ascii_hexdigit()) {
        "write the digest in lowercase".to_owned()
    } else if let Some(rest) = digest.strip_prefix("sha256:") {
        format!("remove the `sha256:` prefix: `{rest}`")
    } else {
        "use the component's sha256 in hex, e.g. the first field of `sha256sum FILE`".to_owned()
    };
    Err(error(
        format_args!("invalid sha256 `{digest}`, expected 64 lowercase hex characters"),
        Some(&help),
    ))
}

/// `policies[].stages`: a non-empty list of stages, each once.
pub(super) fn stages<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<Stage>>, D::Error> {
    struct Stages;
    impl<'de> Take<'de> for Stages {
        type Value = Vec<Stage>;

        fn expected(&self) -> &'static str {
            "an array of stages"
        }

        fn seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Stage>, A::Error> {
            let mut stages = Vec::new();
            while let Some(stage) = seq.next_element_seed(NewStage(&stages))? {
                stages.push(stage);
            }
            if stages.is_empty() {
                let names = Stage::NAMES.iter().map(|n| format!("`{n}`"));
                return Err(error(
                    "stages list is empty",
                    Some(&format!(
                        "list at least one of {}, or remove `stages` to use the stages the policy declares",
                        names.collect::<Vec<_>>().join(", ")
                    )),
                ));
            }
            Ok(stages)
        }
    }

    /// A stage not in the list yet (read as an element, so that an error
    /// names its index).
    struct NewStage<'a>(&'a [Stage]);
    impl<'de> DeserializeSeed<'de> for NewStage<'_> {
        type Value = Stage;

        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Stage, D::Error> {
            let stage: Stage = choice(deserializer)?;
            if self.0.contains(&stage) {
                return Err(error(format_args!("stage `{stage}` is listed twice"), None));
            }
            Ok(stage)
        }
    }

    take(deserializer, Stages).map(Some)
}

/// `policies[].config`: a table, as a JSON object; TOML datetimes become
/// strings, and numbers JSON cannot hold are errors.
pub(super) fn policy_config<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<serde_json::Value, D::Error> {
    take(deserializer, Json { table: true })
}

/// A JSON value read from the file; `table`: only a table will do.
#[derive(Clone, Copy)]
struct Json {
    table: bool,
}

impl<'de> DeserializeSeed<'de> for Json {
    type Value = serde_json::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        take(deserializer, self)
    }
}

impl<'de> Take<'de> for Json {
    type Value = serde_json::Value;

    fn expected(&self) -> &'static str {
        if self.table { "a table" } else { "a value" }
    }

    fn scalar<E: de::Error>(self, found: Found) -> Result<serde_json::Value, E> {
        use serde_json::Value as J;
        if self.table {
            return Err(found.wrong_type(self.expected()));
        }
        Ok(match found {
            Found::Str(s) => J::String(s),
            Found::Bool(b) => J::Bool(b),
            Found::Int(n) => match i64::try_from(n) {
                Ok(n) => J::Number(n.into()),
                Err(_) => {
                    return Err(error(
                        format_args!("integer `{n}` does not fit in 64 bits"),
                        None,
                    ));
                }
            },
            Found::Float(f) => match serde_json::Number::from_f64(f) {
                Some(n) => J::Number(n),
                None => {
                    return Err(error(
                        format_args!("float `{}` is not a finite number", float_text(f)),
                        Some(
                            "a policy's configuration is passed as JSON, which has no `inf` or `nan`",
                        ),
                    ));
                }
            },
            Found::Array | Found::Table => J::Null,
        })
    }

    fn seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<serde_json::Value, A::Error> {
        if self.table {
            return Err(Found::Array.wrong_type(self.expected()));
        }
        let mut array = Vec::new();
        while let Some(value) = seq.next_element_seed(Json { table: false })? {
            array.push(value);
        }
        Ok(serde_json::Value::Array(array))
    }

    fn map<A: MapAccess<'de>>(self, mut map: A) -> Result<serde_json::Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Json { table: false })?;
            object.insert(key, value);
        }
        Ok(serde_json::Value::Object(object))
    }
}
