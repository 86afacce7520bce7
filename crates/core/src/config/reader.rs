//! A serde `Deserializer` over toml's spanned document that visits each
//! table's entries in file order (toml's own walks them sorted by key), so
//! that the first error reported is the first one in the file. Datetimes
//! are read as strings; integers as `i64`, else `u64`, else `i128`.

use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use toml::de::DeValue;

use super::document::Value;

/// An error while reading: its message (with its help, see `checked.rs`).
#[derive(Debug)]
pub(super) struct Error(pub(super) String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

/// Reads one value of the document.
#[derive(Clone, Copy)]
pub(super) struct Reader<'a, 'i>(pub(super) &'a Value<'i>);

impl<'de> de::Deserializer<'de> for Reader<'_, '_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0.get_ref() {
            DeValue::String(s) => visitor.visit_str(s),
            DeValue::Integer(integer) => {
                let n = i128::from_str_radix(integer.as_str(), integer.radix())
                    .map_err(|_| Error(format!("integer `{integer}` is out of range")))?;
                if let Ok(n) = i64::try_from(n) {
                    visitor.visit_i64(n)
                } else if let Ok(n) = u64::try_from(n) {
                    visitor.visit_u64(n)
                } else {
                    visitor.visit_i128(n)
                }
            }
            DeValue::Float(float) => {
                let text = float.as_str().replace('_', "");
                match text.parse::<f64>() {
                    Ok(f) => visitor.visit_f64(f),
                    Err(_) => Err(Error(format!("float `{float}` is not a number"))),
                }
            }
            DeValue::Boolean(b) => visitor.visit_bool(*b),
            DeValue::Datetime(datetime) => visitor.visit_string(datetime.to_string()),
            DeValue::Array(array) => visitor.visit_seq(Elements(array.iter())),
            DeValue::Table(table) => {
                let mut entries: Vec<_> = table.iter().collect();
                entries.sort_by_key(|(key, _)| key.span().start);
                visitor.visit_map(Entries {
                    entries: entries.into_iter(),
                    value: None,
                })
            }
        }
    }

    // A key the file has is `Some`.
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0.get_ref() {
            DeValue::String(s) => visitor.visit_enum(s.as_ref().into_deserializer()),
            _ => self.deserialize_any(visitor),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

struct Elements<I>(I);

impl<'de, 'a, 'i: 'a, I: Iterator<Item = &'a Value<'i>>> SeqAccess<'de> for Elements<I> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0
            .next()
            .map(|v| seed.deserialize(Reader(v)))
            .transpose()
    }
}

struct Entries<'a, 'i, I> {
    entries: I,
    value: Option<&'a Value<'i>>,
}

impl<'de, 'a, 'i: 'a, K, I> MapAccess<'de> for Entries<'a, 'i, I>
where
    K: AsRef<str> + 'a,
    I: Iterator<Item = (&'a toml::Spanned<K>, &'a Value<'i>)>,
{
    type Error = Error;

    fn next_key_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        let key: de::value::StrDeserializer<'_, Error> = key.get_ref().as_ref().into_deserializer();
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(Reader(value)),
            None => Err(Error("a value without a key".to_owned())),
        }
    }
}
