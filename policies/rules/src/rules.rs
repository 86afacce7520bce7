//! The configuration: a list of rules, each compiled and checked once.

use std::sync::Arc;

use serde::Deserialize;
use shipgate_sdk::{ConfigError, Requirement, RiskLevel, Stage, Verdict};

use crate::check::{self, Problem, Reads, Scope};
use crate::functions;
use crate::schema::Ty;
use crate::template::{self, Piece};

/// The `config` table of a `rules` policy.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Named values the expressions read as `params.NAME`, so that a
    /// threshold is written once.
    #[serde(default)]
    pub params: serde_json::Map<String, serde_json::Value>,
    /// Named expressions, evaluated once per evaluation in order, that the
    /// rules (and later variables) read as `variables.NAME`.
    #[serde(default)]
    pub variables: Vec<VariableConfig>,
    /// The rules, evaluated in order.
    pub rules: Vec<RuleConfig>,
}

/// A named expression, as Kubernetes' ValidatingAdmissionPolicy has them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableConfig {
    /// The name: `variables.NAME` in expressions.
    pub name: String,
    /// A CEL expression over the snapshot, `params` and earlier variables.
    pub expression: String,
}

/// One rule as written in the configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// The rule id its findings carry (`canary.error-rate`).
    pub id: String,
    /// A CEL expression over the snapshot: the rule fires when it is `true`.
    pub when: String,
    /// The verdict of the finding when the rule fires.
    pub verdict: Verdict,
    /// The risk level the decision gets when the rule fires.
    #[serde(default)]
    pub risk: Option<RiskLevel>,
    /// The finding's message; `{{ expression }}` interpolates a value.
    #[serde(default)]
    pub message: Option<String>,
    /// The stages the rule answers (default: every stage).
    #[serde(default)]
    pub stages: Option<Vec<Stage>>,
    /// The verdict when the expression needs data the snapshot does not have
    /// (default `hold`).
    #[serde(default = "hold")]
    pub on_missing: Verdict,
    /// The metric the rule judges, so that reports can mark it.
    #[serde(default)]
    pub metric: Option<String>,
    /// What must happen for the deploy to proceed when the rule fires
    /// (`"staged-rollout"`, `{ extended-monitoring-hours = 48 }`, ...).
    #[serde(default)]
    pub requires: Vec<Requirement>,
}

fn hold() -> Verdict {
    Verdict::Hold
}

/// A rule ready to evaluate.
#[derive(Debug)]
pub struct Rule {
    /// As configured.
    pub config: RuleConfig,
    /// `when`, compiled.
    pub when: cel::Program,
    /// The message, split into text and compiled expressions.
    pub message: Vec<MessagePiece>,
    /// The variables `when` and the message read.
    pub reads: Reads,
}

/// A variable ready to evaluate.
#[derive(Debug)]
pub struct Variable {
    /// Its name.
    pub name: String,
    /// Its expression, compiled.
    pub program: cel::Program,
    /// The variables it reads.
    pub reads: Reads,
}

/// A piece of a compiled message.
#[derive(Debug)]
pub enum MessagePiece {
    /// Text as written.
    Text(String),
    /// An expression to render.
    Expr(cel::Program),
}

/// The compiled rules of one configuration.
pub struct Rules {
    /// The environment every expression was compiled for.
    pub env: Arc<cel::Env>,
    /// `params` as configured.
    pub params: serde_json::Map<String, serde_json::Value>,
    /// The variables, in order, compiled.
    pub variables: Vec<Variable>,
    /// The rules, in order.
    pub rules: Vec<Rule>,
}

/// The CEL environment of rules: the standard library, the `strings`,
/// `lists` and `math` extensions, and Shipgate's helpers.
pub fn environment() -> Result<cel::Env, String> {
    let mut env = cel::Env::stdlib();
    env.add_extension(cel::extensions::strings)
        .and_then(|()| env.add_extension(cel::extensions::lists))
        .and_then(|()| env.add_extension(cel::extensions::math))
        .and_then(|()| env.add_macro(cel::parser::Macro::receiver("bind", 3, bind_macro)))
        .and_then(|()| functions::register_overloads(&mut env))
        .map_err(|e| format!("cannot set up the expression environment: {e}"))?;
    Ok(env)
}

/// `cel.bind(name, init, body)`, as in cel-go: `body` with `name` bound to
/// the value of `init`, so a value is computed once and named. It expands
/// to a comprehension over an empty list whose accumulator is `name`.
fn bind_macro(
    helper: &mut cel::parser::MacroExprHelper<'_>,
    target: &mut Option<cel::common::ast::IdedExpr>,
    args: &mut Vec<cel::common::ast::IdedExpr>,
) -> Result<Option<cel::common::ast::IdedExpr>, cel::ParseError> {
    use cel::common::ast::{ComprehensionExpr, Expr, ListExpr, LiteralValue};
    if !matches!(target.as_ref().map(|t| &t.expr), Some(Expr::Ident(ns)) if ns == "cel") {
        return Ok(None);
    }
    let [name, init, body]: [cel::common::ast::IdedExpr; 3] = match std::mem::take(args).try_into()
    {
        Ok(args) => args,
        Err(_) => return Ok(None),
    };
    let Expr::Ident(variable) = name.expr else {
        return Err(helper.new_error(name.id, "cel.bind wants a name as its first argument"));
    };
    let bind = ComprehensionExpr {
        iter_range: helper.next_expr(Expr::List(ListExpr::new(Vec::new()))),
        iter_var: "#unused".to_owned(),
        iter_var2: None,
        accu_var: variable.clone(),
        accu_init: init,
        loop_cond: helper.next_expr(Expr::Literal(LiteralValue::Boolean(false.into()))),
        loop_step: helper.next_expr(Expr::Ident(variable)),
        result: body,
    };
    Ok(Some(helper.next_expr(Expr::Comprehension(Box::new(bind)))))
}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rules")
            .field("params", &self.params)
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

impl Rules {
    /// Compiles and checks every expression of `config`; the first problem
    /// is an error naming the rule, the key and the position.
    pub fn compile(config: &Config) -> Result<Rules, ConfigError> {
        let env = environment().map_err(|e| ConfigError::new("", e))?;
        if config.rules.is_empty() {
            return Err(ConfigError::new(
                "rules",
                "needs at least one rule ([[policies.config.rules]] with id, when and verdict)",
            ));
        }
        let mut scope = Scope::new(&config.params);
        let mut variables = Vec::with_capacity(config.variables.len());
        for (index, variable) in config.variables.iter().enumerate() {
            check_variable_name(config, index, variable)?;
            let (program, ty) =
                compile_checked(&env, &mut scope, &variable.expression).map_err(|problem| {
                    ConfigError::new(
                        format!("variables[{index}].expression"),
                        problem.describe(
                            &format!("variable `{}`", variable.name),
                            "expression",
                            &variable.expression,
                        ),
                    )
                })?;
            scope.define(&variable.name, ty.unwrap_or(Ty::Dyn));
            variables.push(Variable {
                name: variable.name.clone(),
                program,
                reads: scope.take_reads(),
            });
        }
        let mut rules = Vec::with_capacity(config.rules.len());
        for (index, rule) in config.rules.iter().enumerate() {
            check_id(config, index, rule)?;
            let key = |field: &str| format!("rules[{index}].{field}");
            let when = compile_checked(&env, &mut scope, &rule.when).map_err(|problem| {
                ConfigError::new(
                    key("when"),
                    problem.describe(&format!("rule `{}`", rule.id), "when", &rule.when),
                )
            })?;
            if let Some(ty) = &when.1
                && !matches!(ty, Ty::Bool | Ty::Dyn)
            {
                return Err(ConfigError::new(
                    key("when"),
                    format!(
                        "rule `{}`: `when` must be a condition (true or false), but it is {}",
                        rule.id,
                        ty.describe()
                    ),
                ));
            }
            let message = compile_message(&env, &mut scope, rule).map_err(|problem| {
                let text = rule.message.as_deref().unwrap_or_default();
                ConfigError::new(
                    key("message"),
                    problem.describe(&format!("rule `{}`", rule.id), "message", text),
                )
            })?;
            rules.push(Rule {
                config: rule.clone(),
                when: when.0,
                message,
                reads: scope.take_reads(),
            });
        }
        Ok(Rules {
            env: Arc::new(env),
            params: config.params.clone(),
            variables,
            rules,
        })
    }
}

fn check_variable_name(
    config: &Config,
    index: usize,
    variable: &VariableConfig,
) -> Result<(), ConfigError> {
    let key = format!("variables[{index}].name");
    let mut chars = variable.name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(ConfigError::new(
            key,
            format!(
                "`{}` is not a variable name: use letters, digits and `_`, not starting with a \
                 digit (such as `error_rate`)",
                variable.name
            ),
        ));
    }
    if let Some(first) = config.variables[..index]
        .iter()
        .position(|v| v.name == variable.name)
    {
        return Err(ConfigError::new(
            key,
            format!(
                "variable `{}` is already defined by variables[{first}]",
                variable.name
            ),
        ));
    }
    Ok(())
}

fn check_id(config: &Config, index: usize, rule: &RuleConfig) -> Result<(), ConfigError> {
    let key = format!("rules[{index}].id");
    let valid = !rule.id.is_empty()
        && rule
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
    if !valid {
        return Err(ConfigError::new(
            key,
            format!(
                "`{}` is not a rule id: use lowercase letters, digits, `.`, `-` and `_` \
                 (such as `canary.error-rate`)",
                rule.id
            ),
        ));
    }
    if let Some(first) = config.rules[..index].iter().position(|r| r.id == rule.id) {
        return Err(ConfigError::new(
            key,
            format!("rule id `{}` is already used by rules[{first}]", rule.id),
        ));
    }
    if rule.stages.as_ref().is_some_and(Vec::is_empty) {
        return Err(ConfigError::new(
            format!("rules[{index}].stages"),
            format!(
                "rule `{}`: an empty `stages` list would never run; leave it out to answer every \
                 stage",
                rule.id
            ),
        ));
    }
    Ok(())
}

impl Problem {
    /// The error text: rule, key, line and column in the text, message, and
    /// the line with a caret under the spot.
    pub fn describe(&self, subject: &str, field: &str, text: &str) -> String {
        let (line, column, source_line) = position(text, self.offset);
        let caret = " ".repeat(column.saturating_sub(1));
        format!(
            "{subject}: `{field}` at {line}:{column}: {}\n  | {source_line}\n  | {caret}^",
            self.message
        )
    }
}

/// The 1-based line and column (in characters) of a byte offset, and that
/// line's text.
fn position(text: &str, offset: usize) -> (usize, usize, &str) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    let line_end = text[offset..]
        .find('\n')
        .map_or(text.len(), |at| offset + at);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
        &text[line_start..line_end],
    )
}

/// The byte offset of a 1-based line and column (in characters).
fn offset_of(text: &str, line: isize, column: isize) -> usize {
    let mut offset = 0;
    for (index, source_line) in text.split_inclusive('\n').enumerate() {
        if index as isize + 1 == line {
            let column = usize::try_from(column.max(1) - 1).unwrap_or(0);
            return offset
                + source_line
                    .char_indices()
                    .nth(column)
                    .map_or(source_line.len(), |(at, _)| at);
        }
        offset += source_line.len();
    }
    text.len()
}

fn compile_checked(
    env: &cel::Env,
    scope: &mut Scope,
    source: &str,
) -> Result<(cel::Program, Option<Ty>), Problem> {
    if source.trim().is_empty() {
        return Err(Problem {
            offset: 0,
            message: "the expression is empty".into(),
        });
    }
    let program = env.compile(source).map_err(|errors| {
        let first = errors.errors.first();
        Problem {
            offset: first.map_or(0, |e| offset_of(source, e.pos.0, e.pos.1)),
            message: first.map_or_else(|| errors.to_string(), |e| e.msg.clone()),
        }
    })?;
    let ty = check::check(&program, scope)?;
    Ok((program, Some(ty)))
}

fn compile_message(
    env: &cel::Env,
    scope: &mut Scope,
    rule: &RuleConfig,
) -> Result<Vec<MessagePiece>, Problem> {
    let Some(text) = &rule.message else {
        return Ok(vec![MessagePiece::Text(format!(
            "rule `{}` matched: {}",
            rule.id, rule.when
        ))]);
    };
    let pieces = template::parse(text).map_err(|offset| Problem {
        offset,
        message: "`{{` is not closed by `}}`".into(),
    })?;
    pieces
        .into_iter()
        .map(|piece| match piece {
            Piece::Text(text) => Ok(MessagePiece::Text(text.to_owned())),
            Piece::Expr(source, at) => compile_checked(env, scope, source)
                .map(|(program, _)| MessagePiece::Expr(program))
                .map_err(|problem| Problem {
                    offset: at + problem.offset,
                    message: problem.message,
                }),
        })
        .collect()
}
