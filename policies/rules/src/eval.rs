//! Evaluating compiled rules against a snapshot.

use std::collections::HashMap;

use cel::{Context, ExecutionError, Value};
use shipgate_sdk::{Decision, Finding, RULES_MISSING_PREFIX, Requirement, Snapshot, Stage};

use crate::functions::{self, MISSING};
use crate::rules::{MessagePiece, Rule, Rules};
use crate::template;

/// What one rule's `when` came to.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleResult {
    /// `true`: the rule fires.
    Fired,
    /// `false`.
    Quiet,
    /// The expression needed data the snapshot does not have.
    Missing(String),
}

/// Evaluates every rule that answers `stage` and collects their findings.
pub fn evaluate(rules: &Rules, stage: Stage, snapshot: &Snapshot) -> Result<Decision, String> {
    let (context, missing) = context(rules, stage, snapshot)?;
    let mut findings = Vec::new();
    let mut risk = None;
    let mut requirements: Vec<Requirement> = Vec::new();
    for rule in &rules.rules {
        if !answers(rule, stage) {
            continue;
        }
        let finding = match rule_result(rule, &context, &missing)? {
            RuleResult::Quiet => continue,
            RuleResult::Fired => {
                risk = risk.max(rule.config.risk);
                for requirement in &rule.config.requires {
                    if !requirements.contains(requirement) {
                        requirements.push(requirement.clone());
                    }
                }
                Finding::new(
                    rule.config.id.clone(),
                    rule.config.verdict,
                    message(rule, &context, &missing),
                )
            }
            RuleResult::Missing(why) => Finding::new(
                rule.config.id.clone(),
                rule.config.on_missing,
                format!("{RULES_MISSING_PREFIX}: {why}"),
            ),
        };
        findings.push(match &rule.config.metric {
            Some(metric) => finding.metric(metric.clone()),
            None => finding,
        });
    }
    let mut decision = Decision::from_findings(findings);
    for requirement in requirements {
        decision = decision.require(requirement);
    }
    Ok(match risk {
        Some(risk) => decision.with_risk(risk),
        None => decision,
    })
}

/// The `variables` whose expression needed data the snapshot does not
/// have: name → why. Reading one is missing data too.
pub type MissingVariables = HashMap<String, String>;

/// The variables and helpers expressions see for one snapshot, with the
/// configuration's `variables` evaluated in order.
pub fn context<'a>(
    rules: &'a Rules,
    stage: Stage,
    snapshot: &Snapshot,
) -> Result<(Context<'a, 'a>, MissingVariables), String> {
    let mut context = Context::with_env(rules.env.clone());
    functions::register(&mut context).map_err(|e| format!("cannot register the helpers: {e}"))?;
    let mut json = serde_json::to_value(snapshot)
        .map_err(|e| format!("cannot expose the snapshot to expressions: {e}"))?;
    fill_empty_collections(&mut json, &crate::schema::SNAPSHOT);
    for name in crate::schema::SNAPSHOT.fields.iter().map(|(name, _)| *name) {
        context.add_variable_from_value(name, json.get(name).map_or(Value::Null, value_of_json));
    }
    context.add_variable_from_value(
        "params",
        value_of_json(&serde_json::Value::Object(rules.params.clone())),
    );
    context.add_variable_from_value("stage", stage.as_str());
    let needed = needed_variables(rules, stage);
    let mut values: HashMap<String, Value> = HashMap::new();
    let mut missing = MissingVariables::new();
    for (variable, _) in rules
        .variables
        .iter()
        .zip(&needed)
        .filter(|(_, needed)| **needed)
    {
        let name = &variable.name;
        context.add_variable_from_value("variables", Value::from(values.clone()));
        match variable.program.execute(&context) {
            Ok(value) => {
                values.insert(name.clone(), value);
            }
            Err(error) => match missing_reason(&error, &missing) {
                Some(why) => {
                    missing.insert(name.clone(), why);
                }
                None => return Err(format!("variable `{name}` failed: {error}")),
            },
        }
    }
    context.add_variable_from_value("variables", Value::from(values));
    Ok((context, missing))
}

/// Puts back the empty lists and maps the JSON form leaves out
/// (`interval.rules` when no rule fired), so that only optional values can
/// be absent: `'canary.error-rate' in i.rules` is `false`, not missing data.
fn fill_empty_collections(json: &mut serde_json::Value, record: &crate::schema::Record) {
    use crate::schema::Field;
    let Some(object) = json.as_object_mut() else {
        return;
    };
    for (name, field) in record.fields {
        match (field, object.get_mut(*name)) {
            (Field::Record(inner), Some(value)) => fill_empty_collections(value, inner),
            (Field::Records(inner), Some(serde_json::Value::Array(items))) => {
                for item in items {
                    fill_empty_collections(item, inner);
                }
            }
            (Field::Records(_) | Field::Strings | Field::Numbers | Field::Enums(..), None) => {
                object.insert((*name).to_owned(), serde_json::Value::Array(Vec::new()));
            }
            (Field::StringMap, None) => {
                object.insert(
                    (*name).to_owned(),
                    serde_json::Value::Object(Default::default()),
                );
            }
            _ => {}
        }
    }
}

/// Which variables (by position) the rules answering `stage` read, directly
/// or through other variables: only those are evaluated.
fn needed_variables(rules: &Rules, stage: Stage) -> Vec<bool> {
    let mut needed = vec![false; rules.variables.len()];
    let mark = |reads: &crate::check::Reads, needed: &mut Vec<bool>, before: usize| {
        for (index, variable) in rules.variables.iter().enumerate().take(before) {
            if reads.all || reads.names.contains(&variable.name) {
                needed[index] = true;
            }
        }
    };
    for rule in &rules.rules {
        if answers(rule, stage) {
            mark(&rule.reads, &mut needed, rules.variables.len());
        }
    }
    // A variable reads only earlier ones: one pass from the last back.
    for index in (0..rules.variables.len()).rev() {
        if needed[index] {
            mark(&rules.variables[index].reads, &mut needed, index);
        }
    }
    needed
}

/// Whether a rule answers `stage`.
fn answers(rule: &Rule, stage: Stage) -> bool {
    rule.config
        .stages
        .as_ref()
        .is_none_or(|stages| stages.contains(&stage))
}

/// A JSON value as CEL sees it. Every integer is an `int` (TOML's integers
/// are signed, and the snapshot's counts are small), so `params.n - 1` and
/// `suite.failures + suite.errors` are plain arithmetic; other numbers are
/// `double`s.
pub fn value_of_json(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::Int(i),
            (None, Some(u)) => Value::UInt(u),
            (None, None) => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::String(std::sync::Arc::new(s.clone())),
        serde_json::Value::Array(items) => Value::List(std::sync::Arc::new(
            items.iter().map(value_of_json).collect(),
        )),
        serde_json::Value::Object(map) => {
            let entries: std::collections::HashMap<String, Value> = map
                .iter()
                .map(|(key, value)| (key.clone(), value_of_json(value)))
                .collect();
            Value::from(entries)
        }
    }
}

/// Runs a rule's `when`.
pub fn rule_result(
    rule: &Rule,
    context: &Context<'_, '_>,
    missing: &MissingVariables,
) -> Result<RuleResult, String> {
    match rule.when.execute(context) {
        Ok(Value::Bool(true)) => Ok(RuleResult::Fired),
        Ok(Value::Bool(false)) => Ok(RuleResult::Quiet),
        Ok(other) => Err(format!(
            "rule `{}`: `when` is {}, not true or false",
            rule.config.id,
            template::render(&other)
        )),
        Err(error) => match missing_reason(&error, missing) {
            Some(why) => Ok(RuleResult::Missing(why)),
            None => Err(format!("rule `{}`: `when` failed: {error}", rule.config.id)),
        },
    }
}

/// Why an evaluation error means missing data, or `None` when it is a real
/// error: a helper's *data missing*, a field the snapshot leaves out (an
/// optional value; names are checked at load time), or a selection on a
/// section that was not collected (`null`).
pub fn missing_reason(error: &ExecutionError, missing: &MissingVariables) -> Option<String> {
    match error {
        ExecutionError::FunctionError { message, .. } => {
            message.strip_prefix(MISSING).map(str::to_owned)
        }
        ExecutionError::NoSuchKey(key) => Some(match missing.get(key.as_str()) {
            Some(why) => format!("variable `{key}`: {why}"),
            None => format!("`{key}` is not in the snapshot"),
        }),
        ExecutionError::NoSuchOverload(overload)
            if overload.function() == "_._"
                && overload
                    .argument_types()
                    .first()
                    .is_some_and(|ty| ty.starts_with("null")) =>
        {
            // The interpreter names the operand's type, not the field.
            Some("a field of a section the snapshot does not have (it is null)".to_owned())
        }
        _ => None,
    }
}

/// The rule's message with its expressions rendered; an expression that
/// cannot be evaluated renders as `<…>` with the reason, so that a message
/// never hides the finding.
fn message(rule: &Rule, context: &Context<'_, '_>, missing: &MissingVariables) -> String {
    rule.message
        .iter()
        .map(|piece| match piece {
            MessagePiece::Text(text) => text.clone(),
            MessagePiece::Expr(program) => match program.execute(context) {
                Ok(value) => template::render(&value),
                Err(error) => match missing_reason(&error, missing) {
                    Some(why) => format!("<missing: {why}>"),
                    None => format!("<error: {error}>"),
                },
            },
        })
        .collect()
}
