//! Broken `rules` configurations: `configure` compiles and checks
//! every expression when the host loads the configuration, and the error
//! names the file, the key's line, the rule and the position in the
//! expression. The messages are insta snapshots; the host refuses to start.

use shipgate_core::config::Config;
use shipgate_engine::policy_set::PolicySet;

use crate::support::{run, shared_cache, shipgate};

/// A configuration with one `rules` policy whose rule tables are `rules`.
fn config(params: &str, rules: &str) -> String {
    format!(
        "[[policies]]\nname = \"team-rules\"\nsource = \"builtin:rules\"\n[policies.config]\n\
         params = {{ {params} }}\n{rules}"
    )
}

/// One rule table.
fn rule(id: &str, when: &str, extra: &str) -> String {
    format!(
        "\n[[policies.config.rules]]\nid = \"{id}\"\nwhen = {when}\nverdict = \"rollback\"\n{extra}"
    )
}

/// Loads `text` as `shipgate.toml` and returns the error the host gives.
fn load_error(dir: &std::path::Path, text: &str) -> String {
    let path = dir.join("shipgate.toml");
    std::fs::write(&path, text).unwrap();
    let config = Config::load(&path).unwrap();
    let error = PolicySet::load(&config, &shared_cache())
        .err()
        .unwrap_or_else(|| panic!("loaded without an error:\n{text}"));
    error
        .to_string()
        .replace(&dir.display().to_string(), "<dir>")
}

#[test]
fn broken_expressions_are_refused_at_load_time_with_rule_and_position() {
    let dir = tempfile::tempdir().unwrap();
    let params = "max_error_rate = 0.02";
    let mut cases = vec![
        (
            "syntax error",
            rule(
                "canary.error-rate",
                "\"value(metric('error_rate').canary) >\"",
                "",
            ),
        ),
        (
            "unknown field, with a suggestion",
            rule(
                "canary.error-rate",
                "\"value(metric('error_rate').canry) > params.max_error_rate\"",
                "",
            ),
        ),
        (
            "unknown variable",
            rule("gate.hotfix", "\"deploymnet.kind == 'hotfix'\"", ""),
        ),
        (
            "unknown function",
            rule(
                "canary.error-rate",
                "\"vaule(metric('error_rate').canary) > 0.02\"",
                "",
            ),
        ),
        (
            "an enum compared with a value it does not have",
            rule("gate.hotfix", "\"deployment.kind == 'hotfx'\"", ""),
        ),
        (
            "an enum in a list of values it does not have",
            rule(
                "gate.merge",
                "\"ci.merge_state in ['behind', 'conflicted']\"",
                "",
            ),
        ),
        (
            "a params key the table does not have",
            rule(
                "canary.error-rate",
                "\"value(metric('error_rate').canary) > params.max_eror_rate\"",
                "",
            ),
        ),
        (
            "a when that is not a condition",
            rule(
                "canary.error-rate",
                "\"value(metric('error_rate').canary)\"",
                "",
            ),
        ),
        (
            "a helper given the wrong kind of argument",
            rule("canary.error-rate", "\"value(deployment) > 0.02\"", ""),
        ),
        (
            "a field of a list",
            rule("gate.checks", "\"ci.checks.conclusion == 'failure'\"", ""),
        ),
        (
            "an error on the second line of a multi-line expression",
            rule(
                "canary.error-rate",
                "'''\nhas_data(metric('error_rate').canary) &&\n  value(metric('error_rate').canary) > params.max_error_rat\n'''",
                "",
            ),
        ),
        (
            "a broken expression in the message",
            rule(
                "canary.error-rate",
                "\"value(metric('error_rate').canary) > 0.02\"",
                "message = \"rate {{ percent(value(metric('error_rate').canry)) }} is too high\"\n",
            ),
        ),
        (
            "an unclosed interpolation in the message",
            rule(
                "canary.error-rate",
                "\"value(metric('error_rate').canary) > 0.02\"",
                "message = \"rate {{ percent(value(metric('error_rate').canary)) is too high\"\n",
            ),
        ),
        (
            "an empty expression",
            rule("canary.error-rate", "\"  \"", ""),
        ),
        (
            "a rule id that is not one",
            rule("Canary Errors", "\"true\"", ""),
        ),
        (
            "the same id twice",
            format!(
                "{}{}",
                rule("canary.error-rate", "\"true\"", ""),
                rule("canary.error-rate", "\"false\"", "")
            ),
        ),
        (
            "a misspelt key of a rule",
            rule("canary.error-rate", "\"true\"", "on_misssing = \"go\"\n"),
        ),
        (
            "a verdict that does not exist",
            rule("canary.error-rate", "\"true\"", "on_missing = \"skip\"\n"),
        ),
        (
            "a weekday compared with a number (never true: weekdays are names)",
            rule(
                "window.weekend",
                "\"local_time(deployment).weekday == 5\"",
                "",
            ),
        ),
        (
            "a string ordered against a number (fails only when evaluated)",
            rule("gate.service", "\"deployment.service > 3\"", ""),
        ),
        (
            "a measurement compared with a number instead of its value",
            rule(
                "canary.error-rate",
                "\"metric('error_rate').canary > params.max_error_rate\"",
                "",
            ),
        ),
        (
            "an enum looked for in a list of numbers",
            rule("gate.hotfix", "\"deployment.severity in [0, 1]\"", ""),
        ),
        (
            "a substring test written with `in`",
            rule("gate.service", "\"'api' in deployment.service\"", ""),
        ),
    ];
    let variables = "\n[[policies.config.variables]]\nname = \"rate\"\nexpression = \"value(metric('error_rate').canary)\"\n";
    cases.push((
        "a misspelt variable",
        format!(
            "{variables}{}",
            rule("canary.error-rate", "\"variables.rat > 0.02\"", "")
        ),
    ));
    cases.push((
        "a variable that reads a later one",
        format!(
            "\n[[policies.config.variables]]\nname = \"breached\"\nexpression = \"variables.rate > 0.02\"\n{variables}{}",
            rule("canary.error-rate", "\"variables.breached\"", "")
        ),
    ));
    let mut out = String::new();
    for (what, rules) in cases {
        let text = config(params, &rules);
        out.push_str(&format!("## {what}\n{}\n\n", load_error(dir.path(), &text)));
    }
    insta::assert_snapshot!("rules-config-errors", out);
}

#[test]
fn the_host_refuses_to_start_on_a_broken_expression() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shipgate.toml");
    std::fs::write(
        &path,
        config(
            "",
            &rule(
                "canary.error-rate",
                "\"value(metric('error_rate').canry) > 0.02\"",
                "",
            ),
        ),
    )
    .unwrap();
    let snapshot = shipgate_tests::workspace().join("tests/scenarios/67-error-rate-5pct.json");
    let (code, stdout, stderr) = run(shipgate()
        .arg("eval")
        .arg("--snapshot")
        .arg(&snapshot)
        .arg("--config")
        .arg(&path));
    assert_ne!(code, 0, "{stdout}");
    assert!(stdout.is_empty(), "no decision is printed: {stdout}");
    assert!(
        stderr.contains("shipgate.toml:9:8:")
            && stderr.contains("rule `canary.error-rate`: `when` at 1:28: unknown field `canry`"),
        "{stderr}"
    );

    // The same rule, spelt right, decides: the canary's 5% error rate rolls back.
    std::fs::write(
        &path,
        config(
            "",
            &rule(
                "canary.error-rate",
                "\"value(metric('error_rate').canary) > 0.02\"",
                "",
            ),
        ),
    )
    .unwrap();
    let (code, stdout, stderr) = run(shipgate()
        .arg("eval")
        .arg("--snapshot")
        .arg(&snapshot)
        .arg("--config")
        .arg(&path));
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(stdout.contains("rollback  canary.error-rate"), "{stdout}");
}
