//! Evaluating compiled rules against a snapshot.

use cel::{Context, ExecutionError, Value};
use shipgate_sdk::{Decision, Finding, Snapshot, Stage};

use crate::functions::{self, MISSING};
use crate::rules::{MessagePiece, Rule, Rules};
use crate::template;

/// What one rule's `when` came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `true`: the rule fires.
    Fired,
    /// `false`.
    Quiet,
    /// The expression needed data the snapshot does not have.
    Missing(String),
}

/// Evaluates every rule that answers `stage` and collects their findings.
pub fn evaluate(rules: &Rules, stage: Stage, snapshot: &Snapshot) -> Result<Decision, String> {
    let context = context(rules, stage, snapshot)?;
    let mut findings = Vec::new();
    let mut risk = None;
    for rule in &rules.rules {
        if let Some(stages) = &rule.config.stages
            && !stages.contains(&stage)
        {
            continue;
        }
        let finding = match outcome(rule, &context)? {
            Outcome::Quiet => continue,
            Outcome::Fired => {
                risk = risk.max(rule.config.risk);
                Finding::new(
                    rule.config.id.clone(),
                    rule.config.verdict,
                    message(rule, &context),
                )
            }
            Outcome::Missing(why) => Finding::new(
                rule.config.id.clone(),
                rule.config.on_missing,
                format!("cannot decide, data missing: {why}"),
            ),
        };
        findings.push(match &rule.config.metric {
            Some(metric) => finding.metric(metric.clone()),
            None => finding,
        });
    }
    let decision = Decision::from_findings(findings);
    Ok(match risk {
        Some(risk) => decision.with_risk(risk),
        None => decision,
    })
}

/// The variables and helpers expressions see for one snapshot.
pub fn context<'a>(
    rules: &'a Rules,
    stage: Stage,
    snapshot: &Snapshot,
) -> Result<Context<'a, 'a>, String> {
    let mut context = Context::with_env(rules.env.clone());
    functions::register(&mut context).map_err(|e| format!("cannot register the helpers: {e}"))?;
    let variables: Result<(), cel::SerializationError> = (|| {
        context.add_variable("deployment", &snapshot.deployment)?;
        add_optional(&mut context, "ci", snapshot.ci.as_ref())?;
        add_optional(&mut context, "change", snapshot.change.as_ref())?;
        add_optional(&mut context, "environment", snapshot.environment.as_ref())?;
        add_optional(&mut context, "rollout", snapshot.rollout.as_ref())?;
        context.add_variable("metrics", &snapshot.metrics)?;
        context.add_variable("alerts", &snapshot.alerts)?;
        context.add_variable("error_signatures", &snapshot.error_signatures)?;
        context.add_variable("history", &snapshot.history)?;
        context.add_variable("labels", &snapshot.labels)?;
        context.add_variable("gaps", &snapshot.gaps)?;
        context.add_variable("params", &rules.params)?;
        context.add_variable("stage", stage.as_str())?;
        Ok(())
    })();
    variables.map_err(|e| format!("cannot expose the snapshot to expressions: {e}"))?;
    Ok(context)
}

fn add_optional<T: serde::Serialize>(
    context: &mut Context<'_, '_>,
    name: &str,
    value: Option<&T>,
) -> Result<(), cel::SerializationError> {
    match value {
        Some(value) => context.add_variable(name, value),
        None => {
            context.add_variable_from_value(name, Value::Null);
            Ok(())
        }
    }
}

/// Runs a rule's `when`.
pub fn outcome(rule: &Rule, context: &Context<'_, '_>) -> Result<Outcome, String> {
    match rule.when.execute(context) {
        Ok(Value::Bool(true)) => Ok(Outcome::Fired),
        Ok(Value::Bool(false)) => Ok(Outcome::Quiet),
        Ok(other) => Err(format!(
            "rule `{}`: `when` is {}, not true or false",
            rule.config.id,
            template::render(&other)
        )),
        Err(error) => match missing_reason(&error) {
            Some(why) => Ok(Outcome::Missing(why)),
            None => Err(format!("rule `{}`: `when` failed: {error}", rule.config.id)),
        },
    }
}

/// Why an evaluation error means missing data, or `None` when it is a real
/// error: a helper's *data missing*, a field the snapshot leaves out (an
/// optional value; names are checked at load time), or a selection on a
/// section that was not collected (`null`).
pub fn missing_reason(error: &ExecutionError) -> Option<String> {
    match error {
        ExecutionError::FunctionError { message, .. } => {
            message.strip_prefix(MISSING).map(str::to_owned)
        }
        ExecutionError::NoSuchKey(key) => Some(format!("`{key}` is not in the snapshot")),
        ExecutionError::NoSuchOverload(overload)
            if overload.function() == "_._"
                && overload
                    .argument_types()
                    .first()
                    .is_some_and(|ty| ty.starts_with("null")) =>
        {
            Some(format!(
                "`.{}` of a section the snapshot does not have (null)",
                overload.argument_types().get(1).map_or("?", String::as_str)
            ))
        }
        _ => None,
    }
}

/// The rule's message with its expressions rendered; an expression that
/// cannot be evaluated renders as `<…>` with the reason, so that a message
/// never hides the finding.
fn message(rule: &Rule, context: &Context<'_, '_>) -> String {
    rule.message
        .iter()
        .map(|piece| match piece {
            MessagePiece::Text(text) => text.clone(),
            MessagePiece::Expr(program) => match program.execute(context) {
                Ok(value) => template::render(&value),
                Err(error) => match missing_reason(&error) {
                    Some(why) => format!("<missing: {why}>"),
                    None => format!("<error: {error}>"),
                },
            },
        })
        .collect()
}
