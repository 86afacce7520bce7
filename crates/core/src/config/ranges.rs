//! The range of every limit of the configuration, checked at load.
//!
//! `[limits]` integers are checked as they are read (see `checked.rs`, with
//! the ranges below). Durations in the serde-checked tables
//! (`[sources.*]`, `[watch]`) are checked here after they are read, at the
//! key's place in the file. A value out of range is an error such as
//!
//! ```text
//! shipgate.toml:3:15: key `limits.deadline_ms`: integer `18446744073709551615` is out of range, expected `1` to `600000`
//! ```
//!
//! | key | range |
//! | --- | --- |
//! | `limits.fuel` | 1 to 100 000 000 000 |
//! | `limits.deadline_ms` | 1 to 600 000 (10 minutes) |
//! | `limits.memory_mib` | 1 to 4096 |
//! | `limits.max_output_bytes` | 1 to 67 108 864 (64 MiB) |
//! | `limits.max_findings` | 1 to 100 000 |
//! | `sources.*.timeout`, `sources.prometheus.query_timeout` | 1ms to 1h |
//! | `sources.prometheus.window` | 1s to 7d |
//! | `sources.prometheus.stale_after` | 0s (off) to 7d |
//! | `sources.prometheus.range_step` | 1ms to 1d |
//! | `watch.interval` | 100ms to 1d |
//! | `watch.hook_timeout` | 100ms to 1d |

use std::time::Duration;

use toml::de::DeValue;

use super::document::{Document, find_key};
use super::names::join_key;
use super::reader::Value;
use super::{ConfigError, SourcesConfig, WatchConfig};

/// `limits.fuel`: at most this much fuel (minutes of work).
pub const MAX_FUEL: u64 = 100_000_000_000;
/// `limits.deadline_ms`: at most ten minutes.
pub const MAX_DEADLINE_MS: u64 = 600_000;
/// `limits.max_output_bytes`: at most 64 MiB.
pub const MAX_OUTPUT_BYTES: u64 = 64 * 1024 * 1024;
/// `limits.max_findings`: at most this many findings.
pub const MAX_FINDINGS: u64 = 100_000;

const MS: Duration = Duration::from_millis(1);
const SECOND: Duration = Duration::from_secs(1);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

/// The range of each duration key: its path under its table, least, most.
type DurationRange = (&'static [&'static str], Duration, Duration);

const SOURCE_RANGES: &[DurationRange] = &[
    (&["git", "timeout"], MS, HOUR),
    (&["environment", "timeout"], MS, HOUR),
    (&["junit", "timeout"], MS, HOUR),
    (&["coverage", "timeout"], MS, HOUR),
    (&["github", "timeout"], MS, HOUR),
    (&["prometheus", "timeout"], MS, HOUR),
    (&["prometheus", "query_timeout"], MS, HOUR),
    (
        &["prometheus", "window"],
        SECOND,
        Duration::from_secs(7 * 86_400),
    ),
    (
        &["prometheus", "stale_after"],
        Duration::ZERO,
        Duration::from_secs(7 * 86_400),
    ),
    (&["prometheus", "range_step"], MS, DAY),
];

const WATCH_RANGES: &[DurationRange] = &[
    (&["interval"], Duration::from_millis(100), DAY),
    (&["hook_timeout"], Duration::from_millis(100), DAY),
    (&["verify_window"], Duration::ZERO, DAY),
    (&["verify_timeout"], Duration::ZERO, DAY),
];

impl Document<'_> {
    /// Checks the durations of `[sources]` (the table at `value`).
    pub(super) fn source_ranges(
        &self,
        value: &Value<'_>,
        sources: &SourcesConfig,
    ) -> Result<(), ConfigError> {
        let prometheus = sources.prometheus.as_ref();
        for &(path, min, max) in SOURCE_RANGES {
            let got = match path {
                ["git", _] => sources.git.as_ref().and_then(|c| c.timeout),
                ["environment", _] => sources.environment.as_ref().and_then(|c| c.timeout),
                ["junit", _] => sources.junit.as_ref().and_then(|c| c.timeout),
                ["coverage", _] => sources.coverage.as_ref().and_then(|c| c.timeout),
                ["github", _] => sources.github.as_ref().and_then(|c| c.timeout),
                ["prometheus", "timeout"] => prometheus.and_then(|c| c.timeout),
                ["prometheus", "query_timeout"] => prometheus.map(|c| c.query_timeout),
                ["prometheus", "window"] => prometheus.map(|c| c.window),
                ["prometheus", "stale_after"] => prometheus.map(|c| c.stale_after),
                ["prometheus", "range_step"] => prometheus.map(|c| c.range_step),
                _ => None,
            };
            if let Some(got) = got {
                self.duration_in(value, "sources", path, got.0, min, max)?;
            }
        }
        Ok(())
    }

    /// Checks the durations of `[watch]` (the table at `value`).
    pub(super) fn watch_ranges(
        &self,
        value: &Value<'_>,
        watch: &WatchConfig,
    ) -> Result<(), ConfigError> {
        for &(path, min, max) in WATCH_RANGES {
            let got = match path {
                ["interval"] => watch.interval.0,
                ["verify_window"] => watch.verify_window.0,
                ["verify_timeout"] => watch.verify_timeout.0,
                _ => watch.hook_timeout.0,
            };
            self.duration_in(value, "watch", path, got, min, max)?;
        }
        Ok(())
    }

    /// `got`, read from `path` below the table at `value` (key path
    /// `table`), must be from `min` to `max`; only a key the file has is
    /// checked (defaults are in range).
    fn duration_in(
        &self,
        value: &Value<'_>,
        table: &str,
        path: &[&str],
        got: Duration,
        min: Duration,
        max: Duration,
    ) -> Result<(), ConfigError> {
        let mut current = value;
        let mut key = table.to_owned();
        for segment in path {
            let DeValue::Table(inner) = current.get_ref() else {
                return Ok(());
            };
            let Some((_, next)) = find_key(inner, segment) else {
                return Ok(());
            };
            current = next;
            key = join_key(&key, segment);
        }
        if (min..=max).contains(&got) {
            return Ok(());
        }
        let shown = match current.get_ref() {
            DeValue::String(text) => text.to_string(),
            _ => humantime::format_duration(got).to_string(),
        };
        Err(self.error(
            current.span().start,
            Some(key),
            format!(
                "duration `{shown}` is out of range, expected `{}` to `{}`",
                humantime::format_duration(min),
                humantime::format_duration(max)
            ),
        ))
    }
}
