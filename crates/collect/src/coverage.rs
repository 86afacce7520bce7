//! The `coverage` source: line coverage from a Cobertura XML or an LCOV file.
//!
//! ```toml
//! [sources.coverage]
//! path = "coverage/cobertura.xml"
//! format = "cobertura"   # or "lcov"; default: recognised from the content
//! ```
//!
//! - Cobertura: `lines-covered / lines-valid × 100` from the `<coverage>`
//!   root when both attributes are there (`lines-valid="0"` is an error: no
//!   lines were measured), else `line-rate × 100`.
//! - LCOV: the sum of `LH` over the sum of `LF` across all records × 100. A
//!   record without `LF`/`LH` is counted from its `DA` lines (a line with a
//!   hit count above zero is covered).
//!
//! The result is a percentage from 0 to 100; a report whose numbers fall
//! outside that (more lines covered than measured) is an error, not clamped.
//! Float noise below 10⁻¹⁰ is rounded away (`0.8523` gives `85.23`).
//!
//! When `format` is not set, a file whose first markup is an XML element is
//! read as Cobertura, a file with `SF:`, `LF:`, `LH:` or `TN:` lines as
//! LCOV; anything else is an error that names the formats understood.

pub use shipgate_core::config::sources::coverage::{CoverageConfig, CoverageFormat};

use quick_xml::events::Event;

use super::support::{Context, SourceError};

/// Reads line coverage in percent (0–100). Blocking: reads a file.
pub fn collect(config: &CoverageConfig, ctx: &Context) -> Result<f64, SourceError> {
    let Some(path) = &config.path else {
        return Err(SourceError::new(
            "no report configured: set `path` in [sources.coverage], e.g. path = \"coverage/cobertura.xml\"",
        ));
    };
    let full = ctx.resolve(path);
    let name = path.display().to_string();
    let text = shipgate_core::bounded::read_file_to_string(&full, shipgate_core::bounded::COVERAGE)
        .map_err(|e| SourceError::new(format!("cannot read coverage report `{name}`: {e}")))?;
    let text = text.as_str();
    let format = match config.format {
        Some(format) => format,
        None => sniff(text).ok_or_else(|| {
            SourceError::new(format!(
                "cannot tell the format of coverage report `{name}`: it is neither Cobertura XML \
                 (a <coverage> root element) nor LCOV (SF:/LF:/LH: records); set `format` in \
                 [sources.coverage] to \"cobertura\" or \"lcov\" if it is one of them"
            ))
        })?,
    };
    let percent = match format {
        CoverageFormat::Cobertura => cobertura(text, &name)?,
        CoverageFormat::Lcov => lcov(text, &name)?,
    };
    Ok(tidy(percent))
}

/// The format a report's content looks like.
fn sniff(text: &str) -> Option<CoverageFormat> {
    if text.trim_start().starts_with('<') {
        return Some(CoverageFormat::Cobertura);
    }
    let lcov_key = |line: &str| {
        let line = line.trim_start();
        ["SF:", "LF:", "LH:", "TN:"]
            .iter()
            .any(|key| line.starts_with(key))
    };
    text.lines().any(lcov_key).then_some(CoverageFormat::Lcov)
}

/// Rounds away float noise below 10⁻¹⁰.
fn tidy(percent: f64) -> f64 {
    (percent * 1e10).round() / 1e10
}

/// Line coverage of a Cobertura report.
fn cobertura(text: &str, name: &str) -> Result<f64, SourceError> {
    if let Some(problem) = xml_problem(text) {
        return Err(SourceError::new(format!(
            "coverage report `{name}` is not well-formed XML: {problem}"
        )));
    }
    let mut reader = quick_xml::Reader::from_str(text);
    let root = loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => break e,
            Ok(Event::Eof) => {
                return Err(SourceError::new(format!(
                    "`{name}` is not a Cobertura report: it has no <coverage> element"
                )));
            }
            Err(e) => {
                return Err(SourceError::new(format!(
                    "coverage report `{name}` is not well-formed XML: {}",
                    shipgate_core::escape::escape_line(&e.to_string())
                )));
            }
            Ok(_) => {}
        }
    };
    let root_name = root.local_name().as_ref().to_owned();
    if root_name != "coverage" {
        return Err(SourceError::new(format!(
            "`{name}` is not a Cobertura report: its root element is <{root_name}>, not <coverage>"
        )));
    }
    let attribute = |key: &str| -> Result<Option<f64>, SourceError> {
        let attr = root.try_get_attribute(key).map_err(|e| {
            SourceError::new(format!(
                "coverage report `{name}` is not well-formed XML: {}",
                shipgate_core::escape::escape_line(&e.to_string())
            ))
        })?;
        let Some(attr) = attr else { return Ok(None) };
        let value = attr.value.trim().to_owned();
        match value.parse::<f64>() {
            Ok(n) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
            _ => Err(SourceError::new(format!(
                "`{name}`: <coverage {key}=\"{}\"> is not a non-negative number",
                shipgate_core::escape::escape_line(&value)
            ))),
        }
    };
    let covered = attribute("lines-covered")?;
    let valid = attribute("lines-valid")?;
    if let (Some(covered), Some(valid)) = (covered, valid) {
        if valid == 0.0 {
            return Err(SourceError::new(format!(
                "`{name}` measured no lines (lines-valid=\"0\")"
            )));
        }
        if covered > valid {
            return Err(SourceError::new(format!(
                "`{name}` covers more lines than it measured (lines-covered=\"{covered}\", lines-valid=\"{valid}\")"
            )));
        }
        return Ok(covered * 100.0 / valid);
    }
    match attribute("line-rate")? {
        Some(rate) if rate <= 1.0 => Ok(rate * 100.0),
        Some(rate) => Err(SourceError::new(format!(
            "`{name}`: <coverage line-rate=\"{rate}\"> is above 1"
        ))),
        None => Err(SourceError::new(format!(
            "`{name}`: <coverage> has neither lines-covered/lines-valid nor line-rate"
        ))),
    }
}

/// One LCOV record's line counts.
#[derive(Default)]
struct Record {
    lines_found: Option<u64>,
    lines_hit: Option<u64>,
    da_found: u64,
    da_hit: u64,
}

/// Line coverage of an LCOV tracefile.
fn lcov(text: &str, name: &str) -> Result<f64, SourceError> {
    let mut found: u64 = 0;
    let mut hit: u64 = 0;
    let mut record = Record::default();
    let mut flush = |record: &mut Record| {
        let taken = std::mem::take(record);
        found = found.saturating_add(taken.lines_found.unwrap_or(taken.da_found));
        hit = hit.saturating_add(taken.lines_hit.unwrap_or(taken.da_hit));
    };
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line == "end_of_record" {
            flush(&mut record);
            continue;
        }
        let bad = |what: &str| {
            let excerpt: String = line.chars().take(60).collect();
            let excerpt = shipgate_core::escape::escape_line(&excerpt);
            SourceError::new(format!("`{name}` line {number} is not {what}: `{excerpt}`"))
        };
        let Some((key, value)) = line.split_once(':') else {
            return Err(bad("an LCOV record"));
        };
        let count = |value: &str| {
            value
                .trim()
                .parse::<u64>()
                .map_err(|_| bad("a valid count"))
        };
        match key {
            "SF" => flush(&mut record),
            "LF" => record.lines_found = Some(count(value)?),
            "LH" => record.lines_hit = Some(count(value)?),
            "DA" => {
                let mut fields = value.split(',');
                let hits = fields.nth(1).ok_or_else(|| bad("a valid DA record"))?;
                let hits: i64 = hits.trim().parse().map_err(|_| bad("a valid DA record"))?;
                record.da_found += 1;
                if hits > 0 {
                    record.da_hit += 1;
                }
            }
            _ => {}
        }
    }
    flush(&mut record);
    if found == 0 {
        return Err(SourceError::new(format!(
            "`{name}` measured no lines (LF is 0 or missing in every record)"
        )));
    }
    if hit > found {
        return Err(SourceError::new(format!(
            "`{name}` covers more lines than it measured (LH {hit} > LF {found})"
        )));
    }
    // Integer counts fit f64 exactly up to 2^53, far beyond any codebase.
    Ok(hit as f64 * 100.0 / found as f64)
}

/// Why `text` is not well-formed XML, with the line and column where that
/// can be placed; `None` when it is. Also used by the `junit` source.
pub(super) fn xml_problem(text: &str) -> Option<String> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut open: Vec<String> = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                open.push(e.name().as_ref().to_owned());
            }
            Ok(Event::End(_)) => {
                open.pop();
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => {
                let at = usize::try_from(reader.error_position()).unwrap_or(usize::MAX);
                let (line, column) = line_column(text, at);
                // The parser's error quotes the document: on one line.
                let e = shipgate_core::escape::escape_line(&e.to_string()).into_owned();
                return Some(format!("line {line} column {column}: {e}"));
            }
        }
    }
    open.last()
        .map(|tag| format!("the document ends before `</{tag}>` (truncated?)"))
}

/// 1-based line and column (in characters) of byte offset `at`.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let bytes = text.as_bytes();
    let at = at.min(bytes.len());
    let before = &bytes[..at];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    use shipgate_model::Timestamp;

    use super::*;
    use crate::support::MapVars;

    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ci")
    }

    fn run_in(base: &Path, path: &str, format: Option<CoverageFormat>) -> Result<f64, SourceError> {
        let config = CoverageConfig {
            path: Some(PathBuf::from(path)),
            format,
            timeout: None,
        };
        let ctx = Context {
            base_dir: base.to_owned(),
            now: Timestamp(0),
            vars: Arc::new(MapVars::default()),
            commit: None,
        };
        collect(&config, &ctx)
    }

    fn run(path: &str, format: Option<CoverageFormat>) -> Result<f64, SourceError> {
        run_in(&fixtures(), path, format)
    }

    /// Writes `content` to a temporary file and reads it as a report.
    fn run_text(content: &str, format: Option<CoverageFormat>) -> Result<f64, SourceError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("report"), content).unwrap();
        run_in(dir.path(), "report", format)
    }

    #[test]
    fn cobertura_uses_lines_covered_over_lines_valid() {
        // 871 / 1000; its line-rate is deliberately rounded to 0.87 so the
        // test fails if line-rate were used instead.
        assert_eq!(run("coverage/cobertura.xml", None), Ok(87.1));
        assert_eq!(
            run("coverage/cobertura.xml", Some(CoverageFormat::Cobertura)),
            Ok(87.1)
        );
    }

    #[test]
    fn cobertura_without_line_counts_uses_line_rate() {
        assert_eq!(run("coverage/cobertura-rate-only.xml", None), Ok(85.23));
    }

    #[test]
    fn lcov_sums_lh_over_lf_across_records() {
        // (100 + 67) / (120 + 80).
        assert_eq!(run("coverage/lcov.info", None), Ok(83.5));
        assert_eq!(
            run("coverage/lcov.info", Some(CoverageFormat::Lcov)),
            Ok(83.5)
        );
    }

    #[test]
    fn lcov_record_without_lf_is_counted_from_da_lines() {
        let report = "TN:\nSF:src/a.rs\nDA:1,3\nDA:2,0\nDA:3,1\nDA:4,0\nend_of_record\n\
                      SF:src/b.rs\nDA:1,1\nLF:6\nLH:4\nend_of_record\n";
        // (2 + 4) / (4 + 6): the second record's LF/LH win over its DA line.
        assert_eq!(run_text(report, None), Ok(60.0));
    }

    #[test]
    fn zero_and_full_coverage_are_exact() {
        let zero = r#"<coverage lines-valid="10" lines-covered="0" line-rate="0"/>"#;
        assert_eq!(run_text(zero, None), Ok(0.0));
        assert_eq!(
            run_text("SF:a\nLF:7\nLH:7\nend_of_record\n", None),
            Ok(100.0)
        );
    }

    #[test]
    fn sniffing_rejects_what_is_neither_and_names_the_formats() {
        let err = run("coverage/summary.txt", None).unwrap_err();
        assert_eq!(
            err.0,
            "cannot tell the format of coverage report `coverage/summary.txt`: it is neither \
             Cobertura XML (a <coverage> root element) nor LCOV (SF:/LF:/LH: records); set \
             `format` in [sources.coverage] to \"cobertura\" or \"lcov\" if it is one of them"
        );
    }

    #[test]
    fn xml_that_is_not_cobertura_is_an_error() {
        let err = run("junit/shard-1.xml", None).unwrap_err();
        assert_eq!(
            err.0,
            "`junit/shard-1.xml` is not a Cobertura report: its root element is <testsuites>, not <coverage>"
        );
        // An LCOV file read as Cobertura has no element at all.
        let err = run("coverage/lcov.info", Some(CoverageFormat::Cobertura)).unwrap_err();
        assert_eq!(
            err.0,
            "`coverage/lcov.info` is not a Cobertura report: it has no <coverage> element"
        );
    }

    #[test]
    fn malformed_cobertura_names_the_file_and_position() {
        let err = run("coverage/malformed.xml", None).unwrap_err();
        assert_eq!(
            err.0,
            "coverage report `coverage/malformed.xml` is not well-formed XML: line 5 column 7: \
             ill-formed document: expected `</class>`, but `</classes>` was found"
        );
    }

    #[test]
    fn cobertura_with_no_lines_or_impossible_numbers_is_an_error() {
        let err = run_text(r#"<coverage lines-valid="0" lines-covered="0"/>"#, None).unwrap_err();
        assert_eq!(err.0, "`report` measured no lines (lines-valid=\"0\")");
        let err = run_text(r#"<coverage lines-valid="5" lines-covered="6"/>"#, None).unwrap_err();
        assert_eq!(
            err.0,
            "`report` covers more lines than it measured (lines-covered=\"6\", lines-valid=\"5\")"
        );
        let err = run_text(r#"<coverage line-rate="high"/>"#, None).unwrap_err();
        assert_eq!(
            err.0,
            "`report`: <coverage line-rate=\"high\"> is not a non-negative number"
        );
        let err = run_text(r#"<coverage branch-rate="1"/>"#, None).unwrap_err();
        assert_eq!(
            err.0,
            "`report`: <coverage> has neither lines-covered/lines-valid nor line-rate"
        );
    }

    #[test]
    fn control_characters_of_a_report_stay_out_of_the_reason() {
        // Found by the `lcov` and `cobertura` fuzz targets: the excerpt of a
        // bad LCOV line, or the XML parser's error quoting a tag, held a
        // carriage return; a gap's reason is one line.
        let err = run_text("SF:a\nend_of\0\r_record\n", Some(CoverageFormat::Lcov)).unwrap_err();
        assert_eq!(
            err.0,
            "`report` line 2 is not an LCOV record: `end_of\\u{0}\\r_record`"
        );
        let err = run_text(
            "<coverage lines-valid=\"2\" lines-covered=\"1\">\n</line\0\rs>\n</coverage>\n",
            Some(CoverageFormat::Cobertura),
        )
        .unwrap_err();
        assert!(!err.0.contains(['\n', '\r']), "{:?}", err.0);
        assert!(err.0.contains("</line\\u{0}\\rs>"), "{:?}", err.0);
        let err = run_text(
            "<coverage lines-valid=\"1\n\t0\" lines-covered=\"1\"/>\n",
            Some(CoverageFormat::Cobertura),
        )
        .unwrap_err();
        assert_eq!(
            err.0,
            "`report`: <coverage lines-valid=\"1\\n\\t0\"> is not a non-negative number"
        );
    }

    #[test]
    fn malformed_lcov_names_the_file_and_line() {
        let err = run_text("SF:a\nLF:ten\nend_of_record\n", None).unwrap_err();
        assert_eq!(err.0, "`report` line 2 is not a valid count: `LF:ten`");
        let err = run_text("SF:a\ngarbage here\n", Some(CoverageFormat::Lcov)).unwrap_err();
        assert_eq!(
            err.0,
            "`report` line 2 is not an LCOV record: `garbage here`"
        );
        let err = run_text("TN:\nSF:a\nend_of_record\n", None).unwrap_err();
        assert_eq!(
            err.0,
            "`report` measured no lines (LF is 0 or missing in every record)"
        );
    }

    #[test]
    fn missing_path_and_missing_file_are_errors() {
        let ctx = Context {
            base_dir: fixtures(),
            now: Timestamp(0),
            vars: Arc::new(MapVars::default()),
            commit: None,
        };
        let err = collect(&CoverageConfig::default(), &ctx).unwrap_err();
        assert!(err.0.contains("set `path` in [sources.coverage]"), "{err}");
        let err = run("coverage/nope.xml", None).unwrap_err();
        assert!(
            err.0
                .starts_with("cannot read coverage report `coverage/nope.xml`: No such file"),
            "{err}"
        );
    }

    #[test]
    fn config_reads_format_and_rejects_unknown_ones() {
        let config: CoverageConfig =
            toml::from_str("path = \"lcov.info\"\nformat = \"lcov\"\ntimeout = \"2s\"").unwrap();
        assert_eq!(config.format, Some(CoverageFormat::Lcov));
        let err =
            toml::from_str::<CoverageConfig>("path = \"x\"\nformat = \"jacoco\"").unwrap_err();
        assert!(
            err.to_string().contains("unknown variant `jacoco`"),
            "{err}"
        );
    }
}
