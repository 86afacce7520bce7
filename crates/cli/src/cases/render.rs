//! Showing a run: text for a person, JUnit XML for CI.

use std::fmt::Write as _;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::run::{CaseResult, RunResult, Status};
use shipgate_engine::outcome::Outcome;

/// The text report. `verbose` lists passing cases too; `accepted` says the
/// run wrote new reviewed decisions.
pub fn text(run: &RunResult, verbose: bool, accepted: bool) -> String {
    let mut s = String::new();
    for file in &run.files {
        let _ = write!(s, "{}", file.file.display());
        if let Some(d) = &file.description {
            let _ = write!(s, " — {d}");
        }
        s.push('\n');
        let passed = file
            .cases
            .iter()
            .filter(|c| c.status == Status::Passed)
            .count();
        let n = file.cases.len();
        let _ = writeln!(
            s,
            "  {n} case{}: {passed} passed",
            if n == 1 { "" } else { "s" }
        );
        for case in &file.cases {
            case_text(&mut s, case, verbose);
        }
        for name in &file.obsolete {
            let _ = writeln!(
                s,
                "  OBSOLETE {name}: a reviewed decision for a case that no longer exists"
            );
        }
        if file.accepted {
            let _ = writeln!(s, "  accepted → {}", file.expected_file.display());
        }
        s.push('\n');
    }

    coverage_text(&mut s, run);
    let c = run.counts();
    let ok = if run.ok(accepted) { "ok" } else { "FAILED" };
    let took = run.took.as_secs_f64();
    let pending = c.failed + c.new + c.obsolete;
    if accepted && pending > 0 {
        let _ = writeln!(
            s,
            "test result: {ok}. {} passed; {pending} accepted ({} new, {} changed, {} obsolete removed); {} errors ({took:.2} s)",
            c.passed, c.new, c.failed, c.obsolete, c.errors
        );
    } else {
        let _ = writeln!(
            s,
            "test result: {ok}. {} passed; {} failed; {} new; {} errors; {} obsolete ({took:.2} s)",
            c.passed, c.failed, c.new, c.errors, c.obsolete
        );
    }
    if !accepted && pending > 0 {
        let _ = writeln!(
            s,
            "review the decisions above; if they are right, accept them with `shipgate test --accept`"
        );
    }
    // The cases' and the policies' strings cannot drive the terminal.
    shipgate_core::escape::escape_lines(&s).into_owned()
}

/// Which declared rules the cases made fire.
fn coverage_text(s: &mut String, run: &RunResult) {
    let by_policy = |pick: &dyn Fn(&super::run::RuleCoverage) -> Vec<String>| {
        run.coverage
            .iter()
            .filter_map(|(policy, cov)| {
                let ids = pick(cov);
                (!ids.is_empty()).then(|| format!("  {policy}: {}", ids.join(", ")))
            })
            .collect::<Vec<_>>()
    };
    let declared: usize = run.coverage.values().map(|c| c.declared.len()).sum();
    if declared > 0 {
        let fired: usize = run.coverage.values().map(|c| c.fired.len()).sum();
        let never = by_policy(&|c| c.never_fired().into_iter().cloned().collect());
        let _ = writeln!(
            s,
            "rules: {fired} of {declared} declared rules fired in some case"
        );
        if !never.is_empty() {
            let _ = writeln!(s, "never fired:");
            for line in never {
                let _ = writeln!(s, "{line}");
            }
        }
        let only_go = by_policy(&|c| c.only_go().into_iter().cloned().collect());
        if !only_go.is_empty() {
            let _ = writeln!(
                s,
                "fired only at go (no case made them hold, block or roll back):"
            );
            for line in only_go {
                let _ = writeln!(s, "{line}");
            }
        }
    }
    let undeclared = by_policy(&|c| c.undeclared.iter().cloned().collect());
    if !undeclared.is_empty() {
        let _ = writeln!(s, "fired but not declared in the policy's info():");
        for line in undeclared {
            let _ = writeln!(s, "{line}");
        }
    }
}

fn case_text(s: &mut String, case: &CaseResult, verbose: bool) {
    let stage = case
        .stage
        .map(|st| format!(", stage {st}"))
        .unwrap_or_default();
    match &case.status {
        Status::Passed => {
            if verbose {
                let verdict = case
                    .outcome
                    .as_ref()
                    .map(|o| o.verdict.to_string())
                    .unwrap_or_default();
                let _ = writeln!(s, "  ok       {}  ({verdict})", case.name);
            }
        }
        Status::Failed { changes } => {
            let _ = writeln!(
                s,
                "  CHANGED  {}  (snapshot {}, policies {}{stage})",
                case.name,
                case.snapshot.display(),
                case.policies
            );
            let _ = writeln!(s, "           reviewed → now:");
            for change in changes {
                let _ = writeln!(s, "           {change}");
            }
        }
        Status::New => {
            let _ = writeln!(
                s,
                "  NEW      {}  (snapshot {}, policies {}{stage})",
                case.name,
                case.snapshot.display(),
                case.policies
            );
            if let Some(o) = &case.outcome {
                let _ = writeln!(s, "           {}", summary(o));
            }
        }
        Status::Error { message } => {
            let _ = writeln!(s, "  ERROR    {}", case.name);
            for line in message.lines() {
                let _ = writeln!(s, "           {line}");
            }
        }
    }
}

/// One line: the verdict, the risk and the rules that fired.
pub fn summary(o: &Outcome) -> String {
    let mut s = format!("verdict {}", o.verdict);
    if let Some(r) = o.risk {
        let _ = write!(s, ", risk {r}");
    }
    let fired = o.fired();
    if fired.is_empty() {
        s.push_str(", no rule fired");
    } else {
        let _ = write!(s, ", fired: {}", fired.join(", "));
    }
    for (policy, kind) in &o.failed {
        let _ = write!(s, ", policy {policy} failed ({kind})");
    }
    s
}

/// The run as JUnit XML: a test suite per case file, a test case per case.
/// A changed or new (unreviewed) decision is a failure, a case that could
/// not run is an error.
pub fn junit(run: &RunResult) -> Result<String, String> {
    let mut report = Report::new("shipgate test");
    report.set_time(run.took);
    for file in &run.files {
        let classname = file.file.display().to_string();
        let mut suite = TestSuite::new(classname.clone());
        for case in &file.cases {
            let status = match &case.status {
                Status::Passed => TestCaseStatus::success(),
                Status::Failed { changes } => {
                    let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    st.set_message("the decision differs from the reviewed one");
                    st.set_type("changed");
                    let diff: Vec<String> = changes.iter().map(ToString::to_string).collect();
                    st.set_description(format!("reviewed → now:\n{}", diff.join("\n")));
                    st
                }
                Status::New => {
                    let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    st.set_message("a new decision that nobody reviewed yet");
                    st.set_type("new");
                    if let Some(o) = &case.outcome {
                        st.set_description(summary(o));
                    }
                    st
                }
                Status::Error { message } => {
                    let mut st = TestCaseStatus::non_success(NonSuccessKind::Error);
                    st.set_message(message.lines().next().unwrap_or_default().to_owned());
                    st.set_type("error");
                    st.set_description(message.clone());
                    st
                }
            };
            let mut tc = TestCase::new(case.name.clone(), status);
            tc.set_classname(classname.clone());
            tc.set_time(case.took);
            suite.add_test_case(tc);
        }
        for name in &file.obsolete {
            let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
            st.set_message("a reviewed decision for a case that no longer exists");
            st.set_type("obsolete");
            let mut tc = TestCase::new(name.clone(), st);
            tc.set_classname(classname.clone());
            suite.add_test_case(tc);
        }
        report.add_test_suite(suite);
    }
    report.to_string().map_err(|e| e.to_string())
}
