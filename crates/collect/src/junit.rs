//! The `junit` source: test suites and counts from JUnit XML reports.
//!
//! ```toml
//! [sources.junit]
//! paths = ["target/junit/*.xml", "web/reports/junit.xml"]
//! ```
//!
//! Every glob must match at least one file: a report that is not there is
//! not evidence that the tests passed, so it is a gap, not an empty list.
//! Reports may have a `<testsuites>` root, a single `<testsuite>` root, or
//! suites nested in suites.
//!
//! How suites become [`TestSuite`] entries:
//!
//! - A suite with its own `<testcase>` elements is counted from them: tests,
//!   failures, errors and skipped are the number of test cases with that
//!   outcome (the elements are the evidence; a summary attribute that
//!   disagrees with them is not trusted).
//! - A suite with no test cases of its own but with nested suites is only a
//!   container: its nested suites are listed instead (its summary attributes
//!   would count them twice).
//! - A suite with neither is taken from its `tests`, `failures`, `errors` and
//!   `skipped` attributes.
//! - A suite without a name is named after its file (without extension).
//! - The duration is the suite's `time` attribute, else the sum of its test
//!   cases' `time`; absent when neither is above zero.
//!
//! A name that appears more than once, in one report or in several (a
//! sharded or matrix build writes one report per shard), is one entry whose
//! counts and durations are the sums. The list is sorted by name.
//!
//! **Smoke tests.** The reports matched by `smoke` are those of the smoke
//! tests run against the deployed service; their suites are tagged
//! `smoke = true` for the `verify` stage:
//!
//! ```toml
//! [sources.junit]
//! paths = ["target/junit/*.xml"]
//! smoke = ["reports/smoke/*.xml"]
//! ```
//!
//! A file both lists match is a smoke report (read once). A smoke suite and
//! a regular one of the same name stay two entries (one tagged), never
//! summed: a smoke run's failures are not the build's, and the other way
//! round. Either list alone is enough; every glob of both must match a
//! file (a smoke report that is not there is a gap, not a pass).

pub use shipgate_core::config::sources::junit::JunitConfig;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use shipgate_model::TestSuite;

use super::support::{Context, SourceError};

/// Reads the reports. Blocking: reads files.
pub fn collect(config: &JunitConfig, ctx: &Context) -> Result<Vec<TestSuite>, SourceError> {
    if config.paths.is_empty() && config.smoke.is_empty() {
        return Err(SourceError::new(
            "no reports configured: set `paths` in [sources.junit], e.g. paths = [\"target/junit/*.xml\"] (or `smoke` for smoke-test reports)",
        ));
    }
    let smoke_files = matching_files(&config.smoke, ctx)?;
    let files = matching_files(&config.paths, ctx)?;
    let tagged = smoke_files
        .iter()
        .map(|file| (file, true))
        .chain(files.difference(&smoke_files).map(|file| (file, false)));
    // Keyed by (name, smoke): a smoke suite is never summed into a regular
    // one of the same name.
    let mut merged: BTreeMap<(String, bool), TestSuite> = BTreeMap::new();
    for (file, smoke) in tagged {
        for mut suite in read_report(file, ctx)? {
            suite.smoke = smoke;
            match merged.get_mut(&(suite.name.clone(), smoke)) {
                Some(existing) => add(existing, &suite),
                None => {
                    merged.insert((suite.name.clone(), smoke), suite);
                }
            }
        }
    }
    Ok(merged.into_values().collect())
}

/// The files the globs match, each once, in path order. A glob that
/// matches no file is an error.
fn matching_files(patterns: &[String], ctx: &Context) -> Result<BTreeSet<PathBuf>, SourceError> {
    let mut files = BTreeSet::new();
    for pattern in patterns {
        let full = if Path::new(pattern).is_absolute() {
            pattern.clone()
        } else {
            // The base directory is literal text, not a pattern.
            let base = glob::Pattern::escape(&ctx.base_dir.to_string_lossy());
            format!("{}/{pattern}", base.trim_end_matches('/'))
        };
        let entries = glob::glob(&full).map_err(|e| {
            SourceError::new(format!(
                "invalid glob `{pattern}` in [sources.junit] paths: {}",
                e.msg
            ))
        })?;
        let mut matched = false;
        for entry in entries {
            let path = entry.map_err(|e| {
                SourceError::new(format!(
                    "cannot read `{}` while matching `{pattern}`: {}",
                    shown(e.path(), ctx),
                    e.error()
                ))
            })?;
            if path.is_dir() {
                continue;
            }
            matched = true;
            files.insert(path);
        }
        if !matched {
            return Err(SourceError::new(format!(
                "no JUnit report matches `{pattern}` (in {})",
                ctx.base_dir.display()
            )));
        }
    }
    Ok(files)
}

/// `path` relative to the base directory when it is inside it.
fn shown(path: &Path, ctx: &Context) -> String {
    path.strip_prefix(&ctx.base_dir)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The deepest element nesting a report may have. `junit-parser` reads
/// nested suites recursively: a report nested a few hundred deep would
/// overflow the stack and abort the process, where a real report nests a
/// handful of suites.
const MAX_NESTING: usize = 64;

/// How deep `text`'s elements nest, read without recursion (as far as the
/// XML reads; a malformed document is reported by the parser).
fn nesting(text: &str) -> usize {
    let mut reader = quick_xml::Reader::from_str(text);
    let (mut depth, mut deepest) = (0usize, 0usize);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(_)) => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            Ok(quick_xml::events::Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(quick_xml::events::Event::Eof) | Err(_) => return deepest,
            Ok(_) => {}
        }
    }
}

/// The suites of one report.
fn read_report(path: &Path, ctx: &Context) -> Result<Vec<TestSuite>, SourceError> {
    let name = shown(path, ctx);
    let text = shipgate_core::bounded::read_file_to_string(path, shipgate_core::bounded::JUNIT)
        .map_err(|e| SourceError::new(format!("cannot read JUnit report `{name}`: {e}")))?;
    if text.trim().is_empty() {
        return Err(SourceError::new(format!("JUnit report `{name}` is empty")));
    }
    if nesting(&text) > MAX_NESTING {
        return Err(SourceError::new(format!(
            "JUnit report `{name}` nests elements more than {MAX_NESTING} deep"
        )));
    }
    let report = junit_parser::from_reader(text.as_bytes()).map_err(|e| {
        if let Some(problem) = super::coverage::xml_problem(&text) {
            return SourceError::new(format!(
                "JUnit report `{name}` is not well-formed XML: {problem}"
            ));
        }
        match e {
            junit_parser::Error::UnexpectedEndOfFile(ref element) if element == "testsuites" => {
                SourceError::new(format!(
                    "`{name}` is not a JUnit report: it has no <testsuites> or <testsuite> element"
                ))
            }
            e => SourceError::new(format!(
                "JUnit report `{name}` cannot be read: {}",
                with_sources(&e)
            )),
        }
    })?;
    let fallback = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| name.clone());
    let mut suites = Vec::new();
    for suite in &report.suites {
        flatten(suite, &fallback, &mut suites);
    }
    Ok(suites)
}

/// An error and its causes, `: `-separated, on one line.
fn with_sources(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.replace(['\n', '\r'], " ")
}

/// Appends the entries of `suite` and its nested suites (see the module
/// documentation for the rules).
fn flatten(suite: &junit_parser::TestSuite, fallback: &str, out: &mut Vec<TestSuite>) {
    let name = if suite.name.trim().is_empty() {
        fallback.to_owned()
    } else {
        suite.name.clone()
    };
    if !suite.cases.is_empty() {
        let count = |f: fn(&junit_parser::TestStatus) -> bool| {
            u32::try_from(suite.cases.iter().filter(|c| f(&c.status)).count()).unwrap_or(u32::MAX)
        };
        let cases_time: f64 = suite.cases.iter().map(|c| c.time).sum();
        out.push(TestSuite {
            name,
            tests: u32::try_from(suite.cases.len()).unwrap_or(u32::MAX),
            failures: count(junit_parser::TestStatus::is_failure),
            errors: count(junit_parser::TestStatus::is_error),
            skipped: count(junit_parser::TestStatus::is_skipped),
            duration_ms: millis(suite.time).or_else(|| millis(cases_time)),
            smoke: false,
        });
    } else if suite.suites.is_empty() {
        let narrow = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        out.push(TestSuite {
            name,
            tests: narrow(suite.tests),
            failures: narrow(suite.failures),
            errors: narrow(suite.errors),
            skipped: narrow(suite.skipped),
            duration_ms: millis(suite.time),
            smoke: false,
        });
    }
    for nested in &suite.suites {
        flatten(nested, fallback, out);
    }
}

/// Seconds as whole milliseconds; `None` unless above zero and finite.
fn millis(seconds: f64) -> Option<u64> {
    if seconds.is_finite() && seconds > 0.0 {
        // Saturating float-to-int conversion.
        Some((seconds * 1000.0).round() as u64)
    } else {
        None
    }
}

/// Adds `other`'s counts and duration to `into`.
fn add(into: &mut TestSuite, other: &TestSuite) {
    into.tests = into.tests.saturating_add(other.tests);
    into.failures = into.failures.saturating_add(other.failures);
    into.errors = into.errors.saturating_add(other.errors);
    into.skipped = into.skipped.saturating_add(other.skipped);
    into.duration_ms = match (into.duration_ms, other.duration_ms) {
        (Some(a), Some(b)) => Some(a.saturating_add(b)),
        (a, b) => a.or(b),
    };
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use shipgate_model::Timestamp;

    use super::*;
    use crate::support::MapVars;

    /// The committed fixtures.
    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ci")
    }

    fn ctx(base: &Path) -> Context {
        Context {
            base_dir: base.to_owned(),
            now: Timestamp(0),
            vars: Arc::new(MapVars::default()),
            commit: None,
        }
    }

    fn run(base: &Path, paths: &[&str]) -> Result<Vec<TestSuite>, SourceError> {
        let config = JunitConfig {
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
            ..JunitConfig::default()
        };
        collect(&config, &ctx(base))
    }

    fn run_smoke(
        base: &Path,
        paths: &[&str],
        smoke: &[&str],
    ) -> Result<Vec<TestSuite>, SourceError> {
        let config = JunitConfig {
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
            smoke: smoke.iter().map(|p| (*p).to_owned()).collect(),
            timeout: None,
        };
        collect(&config, &ctx(base))
    }

    fn smoke(mut suite: TestSuite) -> TestSuite {
        suite.smoke = true;
        suite
    }

    #[test]
    fn smoke_reports_are_tagged_and_kept_apart_from_the_builds() {
        // `shard-1.xml` (suite `unit`) is both a build report and, named
        // in `smoke` too, a smoke report: smoke wins and it is read once.
        let suites = run_smoke(
            &fixtures(),
            &["junit/shard-*.xml"],
            &["junit/single-suite.xml", "junit/shard-1.xml"],
        )
        .unwrap();
        assert_eq!(
            suites,
            vec![
                smoke(suite("checkout::api", [4, 1, 0, 1], Some(1_234))),
                // shard-2 alone: the build's `unit`.
                suite("unit", [2, 1, 0, 0], Some(1_500)),
                // shard-1, the smoke run's `unit`: not summed with the build's.
                smoke(suite("unit", [2, 0, 0, 0], Some(1_000))),
            ]
        );
    }

    #[test]
    fn smoke_alone_is_enough_and_a_missing_smoke_report_is_a_gap() {
        let suites = run_smoke(&fixtures(), &[], &["junit/single-suite.xml"]).unwrap();
        assert_eq!(
            suites,
            vec![smoke(suite("checkout::api", [4, 1, 0, 1], Some(1_234)))]
        );
        let err = run_smoke(&fixtures(), &["junit/testsuites.xml"], &["smoke/*.xml"]).unwrap_err();
        assert_eq!(
            err.0,
            format!(
                "no JUnit report matches `smoke/*.xml` (in {})",
                fixtures().display()
            )
        );
    }

    /// A report of `depth` suites, each nested in the one before.
    fn nested(depth: usize) -> String {
        format!(
            "<testsuites>{}<testcase name=\"t\"/>{}</testsuites>",
            "<testsuite name=\"s\">".repeat(depth),
            "</testsuite>".repeat(depth)
        )
    }

    #[test]
    fn deeply_nested_suites_are_a_gap_not_a_stack_overflow() {
        // Before the nesting bound, 300 levels (7 kB) overflowed a 2 MiB
        // stack and aborted the process.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("deep.xml"), nested(100_000)).unwrap();
        let err = run(dir.path(), &["deep.xml"]).unwrap_err();
        assert_eq!(
            err.0,
            "JUnit report `deep.xml` nests elements more than 64 deep"
        );
        // At the bound (the root and 63 suites) the report is read.
        std::fs::write(dir.path().join("deep.xml"), nested(MAX_NESTING - 1)).unwrap();
        let suites = run(dir.path(), &["deep.xml"]).unwrap();
        assert_eq!(suites, vec![suite("s", [1, 0, 0, 0], None)]);
    }

    fn suite(name: &str, counts: [u32; 4], duration_ms: Option<u64>) -> TestSuite {
        TestSuite {
            name: name.to_owned(),
            tests: counts[0],
            failures: counts[1],
            errors: counts[2],
            skipped: counts[3],
            duration_ms,
            smoke: false,
        }
    }

    #[test]
    fn single_testsuite_root_is_counted_from_its_cases() {
        let suites = run(&fixtures(), &["junit/single-suite.xml"]).unwrap();
        assert_eq!(
            suites,
            vec![suite("checkout::api", [4, 1, 0, 1], Some(1_234))]
        );
    }

    #[test]
    fn testsuites_root_lists_every_suite_sorted_with_failures_errors_and_skips() {
        let suites = run(&fixtures(), &["junit/testsuites.xml"]).unwrap();
        assert_eq!(
            suites,
            vec![
                // No `time` attribute: the sum of its cases (0.25 + 0.5 s).
                suite("db", [2, 0, 1, 0], Some(750)),
                // Attribute-only suite: no cases, counts from the attributes.
                suite("e2e", [12, 2, 0, 3], Some(61_000)),
                suite("unit", [3, 1, 0, 1], Some(2_500)),
            ]
        );
    }

    #[test]
    fn nested_suites_are_listed_and_containers_not_counted_twice() {
        let suites = run(&fixtures(), &["junit/nested.xml"]).unwrap();
        assert_eq!(
            suites,
            vec![
                suite("all.a", [2, 0, 0, 0], Some(100)),
                suite("all.b", [1, 1, 0, 0], Some(200)),
            ]
        );
    }

    #[test]
    fn same_named_suites_from_several_files_are_summed() {
        // Two shards of a matrix build, both reporting `unit`, plus the
        // `<testsuites>` report which also has a `unit` suite.
        let suites = run(&fixtures(), &["junit/shard-*.xml", "junit/testsuites.xml"]).unwrap();
        assert_eq!(
            suites,
            vec![
                suite("db", [2, 0, 1, 0], Some(750)),
                suite("e2e", [12, 2, 0, 3], Some(61_000)),
                // 3 + 2 + 2 tests; 1 + 0 + 1 failures; durations 2.5 + 1 + 1.5 s.
                suite("unit", [7, 2, 0, 1], Some(5_000)),
            ]
        );
    }

    #[test]
    fn a_file_matched_by_two_globs_is_read_once() {
        let suites = run(&fixtures(), &["junit/shard-1.xml", "junit/shard-*.xml"]).unwrap();
        assert_eq!(suites, vec![suite("unit", [4, 1, 0, 0], Some(2_500))]);
    }

    #[test]
    fn unnamed_suite_takes_the_file_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("pytest.xml"),
            r#"<?xml version="1.0"?><testsuite tests="1"><testcase name="t" time="0.004"/></testsuite>"#,
        )
        .unwrap();
        let suites = run(dir.path(), &["*.xml"]).unwrap();
        assert_eq!(suites, vec![suite("pytest", [1, 0, 0, 0], Some(4))]);
    }

    #[test]
    fn a_glob_that_matches_nothing_is_an_error_not_an_empty_list() {
        let err = run(&fixtures(), &["junit/*.xml", "target/junit/*.xml"]).unwrap_err();
        assert_eq!(
            err.0,
            format!(
                "no JUnit report matches `target/junit/*.xml` (in {})",
                fixtures().display()
            )
        );
    }

    #[test]
    fn no_paths_is_an_error_that_says_what_to_set() {
        let err = run(&fixtures(), &[]).unwrap_err();
        assert!(err.0.contains("set `paths` in [sources.junit]"), "{err}");
    }

    #[test]
    fn malformed_xml_names_the_file_and_the_position() {
        let err = run(&fixtures(), &["junit-bad/malformed.xml"]).unwrap_err();
        assert_eq!(
            err.0,
            "JUnit report `junit-bad/malformed.xml` is not well-formed XML: \
             line 4 column 3: ill-formed document: expected `</testcase>`, but `</testsuite>` was found"
        );
    }

    #[test]
    fn truncated_report_names_the_unclosed_element() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("cut.xml"),
            "<testsuite name=\"x\" tests=\"2\">\n  <testcase name=\"a\"/>\n  <testcase name=\"b\">",
        )
        .unwrap();
        let err = run(dir.path(), &["cut.xml"]).unwrap_err();
        assert_eq!(
            err.0,
            "JUnit report `cut.xml` is not well-formed XML: \
             the document ends before `</testcase>` (truncated?)"
        );
    }

    #[test]
    fn a_line_break_in_a_malformed_report_stays_out_of_the_reason() {
        // Found by the `junit` fuzz target: the XML parser's error quotes a
        // closing tag that holds a line break; a gap's reason is one line.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("torn.xml"),
            "<testsuite name=\"x\">\n<testcase name=\"a\">\n</tes\r\nt>\n</testsuite>\n",
        )
        .unwrap();
        let err = run(dir.path(), &["torn.xml"]).unwrap_err();
        assert!(
            err.0
                .starts_with("JUnit report `torn.xml` is not well-formed XML: line 3 column "),
            "{}",
            err.0
        );
        assert!(!err.0.contains(['\n', '\r']), "{:?}", err.0);
        assert!(err.0.contains("tes\\r\\nt"), "{:?}", err.0);
    }

    #[test]
    fn bad_count_attribute_names_the_file_and_the_cause() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("r.xml"),
            r#"<testsuites><testsuite name="x" tests="many"/></testsuites>"#,
        )
        .unwrap();
        let err = run(dir.path(), &["r.xml"]).unwrap_err();
        assert_eq!(
            err.0,
            "JUnit report `r.xml` cannot be read: Error while converting u64 attribute: \
             invalid digit found in string"
        );
    }

    #[test]
    fn xml_that_is_not_junit_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("c.xml"), r#"<coverage line-rate="1"/>"#).unwrap();
        let err = run(dir.path(), &["c.xml"]).unwrap_err();
        assert_eq!(
            err.0,
            "`c.xml` is not a JUnit report: it has no <testsuites> or <testsuite> element"
        );
    }

    #[test]
    fn empty_and_unreadable_files_are_errors_naming_them() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("empty.xml"), "  \n").unwrap();
        let err = run(dir.path(), &["empty.xml"]).unwrap_err();
        assert_eq!(err.0, "JUnit report `empty.xml` is empty");

        std::fs::write(
            dir.path().join("latin1.xml"),
            b"<testsuite name=\"caf\xe9\"/>",
        )
        .unwrap();
        let err = run(dir.path(), &["latin1.xml"]).unwrap_err();
        assert!(
            err.0.starts_with(
                "cannot read JUnit report `latin1.xml`: stream did not contain valid UTF-8"
            ),
            "{err}"
        );
    }

    #[test]
    fn invalid_glob_is_an_error() {
        let err = run(&fixtures(), &["junit/[.xml"]).unwrap_err();
        assert!(
            err.0
                .starts_with("invalid glob `junit/[.xml` in [sources.junit] paths:"),
            "{err}"
        );
    }
}
