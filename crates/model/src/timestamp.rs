//! Instants in time, as milliseconds since the Unix epoch (UTC).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset, Weekday};

/// An instant, as milliseconds since the Unix epoch, UTC.
///
/// Its file form is an RFC 3339 string (`2026-11-20T14:05:00Z`). Policies
/// get no clock: the host puts the instant of the request in the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

/// A string that is not an RFC 3339 date-time, or one out of range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampError(String);

impl fmt::Display for TimestampError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TimestampError {}

impl Timestamp {
    /// Milliseconds since the Unix epoch.
    pub fn unix_ms(self) -> i64 {
        self.0
    }

    /// The instant as a date-time at the given offset from UTC, in minutes.
    ///
    /// Returns `None` for an offset beyond ±25 hours or an instant out of
    /// range.
    pub fn at_offset(self, utc_offset_minutes: i32) -> Option<OffsetDateTime> {
        let offset = UtcOffset::from_whole_seconds(utc_offset_minutes.checked_mul(60)?).ok()?;
        let nanos = i128::from(self.0).checked_mul(1_000_000)?;
        Some(
            OffsetDateTime::from_unix_timestamp_nanos(nanos)
                .ok()?
                .to_offset(offset),
        )
    }

    /// The local weekday and hour (0–23) at the given offset from UTC.
    pub fn local_weekday_hour(self, utc_offset_minutes: i32) -> Option<(Weekday, u8)> {
        let t = self.at_offset(utc_offset_minutes)?;
        Some((t.weekday(), t.hour()))
    }

    /// Seconds from `self` to `later` (negative if `later` is earlier).
    pub fn seconds_until(self, later: Timestamp) -> i64 {
        (later.0 - self.0) / 1000
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at_offset(0).and_then(|t| t.format(&Rfc3339).ok()) {
            Some(s) => f.write_str(&s),
            None => write!(f, "@{}ms", self.0),
        }
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = OffsetDateTime::parse(s, &Rfc3339).map_err(|e| {
            TimestampError(format!(
                "`{s}` is not an RFC 3339 date-time such as `2026-11-20T14:05:00Z`: {e}"
            ))
        })?;
        let ms = t.unix_timestamp_nanos() / 1_000_000;
        i64::try_from(ms)
            .map(Timestamp)
            .map_err(|_| TimestampError(format!("`{s}` is out of range")))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Timestamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "An RFC 3339 date-time, e.g. 2026-11-20T14:05:00Z"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_rfc3339() {
        let t: Timestamp = "2026-11-20T14:05:00Z".parse().unwrap();
        assert_eq!(t.to_string(), "2026-11-20T14:05:00Z");
        let t2: Timestamp = "2026-11-20T15:05:00+01:00".parse().unwrap();
        assert_eq!(t, t2);
        assert!("yesterday".parse::<Timestamp>().is_err());
    }

    #[test]
    fn local_weekday_follows_the_offset() {
        // Friday 23:30 UTC is Saturday 01:30 in UTC+2 and Friday 18:30 in UTC-5.
        let t: Timestamp = "2026-11-20T23:30:00Z".parse().unwrap();
        assert_eq!(t.local_weekday_hour(0), Some((Weekday::Friday, 23)));
        assert_eq!(t.local_weekday_hour(120), Some((Weekday::Saturday, 1)));
        assert_eq!(t.local_weekday_hour(-300), Some((Weekday::Friday, 18)));
        assert_eq!(t.local_weekday_hour(100_000), None);
    }
}
