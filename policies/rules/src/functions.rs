//! Shipgate's helper functions for expressions. They make missing data
//! explicit: a helper that needs a number and finds none fails with a
//! *data missing* error, which the rule turns into its `on_missing` verdict
//! instead of an accidental `false`.

use std::collections::HashMap;
use std::sync::Arc;

use cel::common::value::{CowVal, Val};
use cel::objects::Key;
use cel::{Context, ExecutionError, FunctionContext, Value};
use shipgate_sdk::stats;
use shipgate_sdk::{Measurement, StaleValue, Timestamp};

use crate::schema::{self, Ty};

/// The start of every *data missing* error's message.
pub const MISSING: &str = "data missing: ";

/// A helper as the checker sees it.
#[derive(Debug)]
pub struct Helper {
    /// Its name.
    pub name: &'static str,
    /// How many arguments it takes.
    pub arity: usize,
    /// What each argument must be.
    pub params: &'static [Param],
    /// What it returns.
    pub returns: fn() -> Ty,
    /// Its signature and meaning, for messages.
    pub signature: &'static str,
}

/// What a helper's argument must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// A measurement (`metric('x').canary`).
    Measurement,
    /// A string.
    String,
    /// A number.
    Number,
    /// A list of numbers.
    Numbers,
    /// The `deployment` record.
    Deployment,
    /// A timestamp.
    Timestamp,
}

impl Param {
    /// How the parameter reads in a message.
    pub fn describe(&self) -> &'static str {
        match self {
            Param::Measurement => "a measurement",
            Param::String => "a string",
            Param::Number => "a number",
            Param::Numbers => "a list of numbers",
            Param::Deployment => "the deployment",
            Param::Timestamp => "a timestamp",
        }
    }
}

/// Whether an argument of type `got` can be passed where `want` is asked;
/// a `dyn` argument always can.
pub fn accepts(want: &Param, got: &Ty) -> bool {
    match (want, got) {
        (_, Ty::Dyn) => true,
        (Param::Measurement, Ty::Measurement) => true,
        (Param::String, Ty::String | Ty::Enum(..)) => true,
        (Param::Number, Ty::Number) => true,
        (Param::Numbers, Ty::List(element)) => matches!(**element, Ty::Number | Ty::Dyn),
        (Param::Deployment, Ty::Record(record)) => std::ptr::eq(*record, &schema::DEPLOYMENT),
        (Param::Timestamp, Ty::Timestamp | Ty::String) => true,
        _ => false,
    }
}

/// Every helper, in the order the documentation lists them.
pub static HELPERS: &[Helper] = &[
    Helper {
        name: "metric",
        arity: 1,
        params: &[Param::String],
        returns: || Ty::Record(&schema::METRIC),
        signature: "metric(name) is the metric of that name; data missing when the snapshot has none",
    },
    Helper {
        name: "has_data",
        arity: 1,
        params: &[Param::Measurement],
        returns: || Ty::Bool,
        signature: "has_data(m) is true when measurement m has a usable number",
    },
    Helper {
        name: "value",
        arity: 1,
        params: &[Param::Measurement],
        returns: || Ty::Number,
        signature: "value(m) is m's number (the mean of a series); data missing when there is none",
    },
    Helper {
        name: "samples",
        arity: 1,
        params: &[Param::Measurement],
        returns: || Ty::List(Box::new(Ty::Number)),
        signature: "samples(m) is m's series; data missing when m is not a non-empty series",
    },
    Helper {
        name: "has_samples",
        arity: 1,
        params: &[Param::Measurement],
        returns: || Ty::Bool,
        signature: "has_samples(m) is true when m is a non-empty series of finite samples",
    },
    Helper {
        name: "missing_reason",
        arity: 1,
        params: &[Param::Measurement],
        returns: || Ty::String,
        signature: "missing_reason(m) says why m has no number ('' when it has one)",
    },
    Helper {
        name: "ratio",
        arity: 2,
        params: &[Param::Measurement, Param::Measurement],
        returns: || Ty::Number,
        signature: "ratio(canary, baseline) is canary / baseline (1.0 for 0 / 0, infinity for x / 0); \
                    data missing when either side has no number",
    },
    Helper {
        name: "p_greater",
        arity: 2,
        params: &[Param::Numbers, Param::Numbers],
        returns: || Ty::Number,
        signature: "p_greater(canary, baseline) is the Mann-Whitney p-value that the canary series \
                    is greater than the baseline series",
    },
    Helper {
        name: "median",
        arity: 1,
        params: &[Param::Numbers],
        returns: || Ty::Number,
        signature: "median(list) of a non-empty list of numbers",
    },
    Helper {
        name: "mean",
        arity: 1,
        params: &[Param::Numbers],
        returns: || Ty::Number,
        signature: "mean(list) of a non-empty list of numbers",
    },
    Helper {
        name: "local_time",
        arity: 1,
        params: &[Param::Deployment],
        returns: || Ty::Record(&schema::LOCAL_TIME),
        signature: "local_time(deployment) is {weekday, hour, minute} of requested_at in the \
                    organisation's time zone (utc_offset_minutes); data missing when the offset \
                    is out of range",
    },
    Helper {
        name: "epoch_seconds",
        arity: 1,
        params: &[Param::Timestamp],
        returns: || Ty::Number,
        signature: "epoch_seconds(t) is the RFC 3339 timestamp t in seconds since 1970-01-01 UTC",
    },
    Helper {
        name: "epoch_millis",
        arity: 1,
        params: &[Param::Timestamp],
        returns: || Ty::Number,
        signature: "epoch_millis(t) is the RFC 3339 timestamp t in milliseconds since 1970-01-01 UTC",
    },
    Helper {
        name: "glob",
        arity: 2,
        params: &[Param::String, Param::String],
        returns: || Ty::Bool,
        signature: "glob(path, pattern) matches a path against a glob: `*` within a folder, `**/` \
                    across folders, a leading `./` ignored (as the risk policy's paths)",
    },
    Helper {
        name: "percent",
        arity: 1,
        params: &[Param::Number],
        returns: || Ty::String,
        signature: "percent(x) formats the ratio x as a percentage ('2.5%'), for messages",
    },
];

/// Registers every helper on an environment (`value` must be an overload:
/// the standard library's optional values own the name as a method).
pub fn register_overloads(env: &mut cel::Env) -> Result<(), cel::DeclarationError> {
    env.add_overload(
        "value",
        "shipgate_value",
        vec![cel::common::types::DYN_TYPE],
        value_overload,
    )
}

/// Registers the other helpers on an evaluation's context.
pub fn register(context: &mut Context<'_, '_>) -> Result<(), cel::DeclarationError> {
    context.add_function("metric", metric)?;
    context.add_function("has_data", |m: Value| -> Result<bool, ExecutionError> {
        Ok(measurement("has_data", &m)?.value().is_some())
    })?;
    context.add_function("samples", |m: Value| -> Result<Value, ExecutionError> {
        samples_of("samples", &m)
    })?;
    context.add_function("has_samples", |m: Value| -> Result<bool, ExecutionError> {
        Ok(samples_of("has_samples", &m).is_ok())
    })?;
    context.add_function(
        "missing_reason",
        |m: Value| -> Result<Value, ExecutionError> {
            Ok(Value::from(
                measurement("missing_reason", &m)?
                    .missing_reason()
                    .unwrap_or_default(),
            ))
        },
    )?;
    context.add_function("ratio", ratio)?;
    context.add_function("p_greater", p_greater)?;
    context.add_function("median", |list: Value| -> Result<f64, ExecutionError> {
        stats::median(&numbers("median", &list)?).map_err(|e| missing("median", e))
    })?;
    context.add_function("mean", |list: Value| -> Result<f64, ExecutionError> {
        stats::mean(&numbers("mean", &list)?).map_err(|e| missing("mean", e))
    })?;
    context.add_function("local_time", local_time)?;
    context.add_function("epoch_seconds", |t: Value| -> Result<i64, ExecutionError> {
        Ok(timestamp("epoch_seconds", &t)?.0.div_euclid(1000))
    })?;
    context.add_function("epoch_millis", |t: Value| -> Result<i64, ExecutionError> {
        Ok(timestamp("epoch_millis", &t)?.0)
    })?;
    context.add_function(
        "glob",
        |path: Arc<String>, pattern: Arc<String>| -> Result<bool, ExecutionError> {
            let compiled = glob::Pattern::new(&pattern).map_err(|e| {
                wrong(
                    "glob",
                    format!("`{pattern}` is not a valid glob: {}", e.msg),
                )
            })?;
            let path = path.strip_prefix("./").unwrap_or(&path);
            Ok(compiled.matches_with(path, GLOB))
        },
    )?;
    context.add_function("percent", |x: Value| -> Result<Value, ExecutionError> {
        Ok(Value::from(percent(number("percent", &x)?)))
    })?;
    Ok(())
}

/// Globs match across folders only through `**`, as in the `risk` policy.
const GLOB: glob::MatchOptions = glob::MatchOptions {
    case_sensitive: true,
    require_literal_separator: true,
    require_literal_leading_dot: false,
};

/// `x` as a percentage with up to two decimals: `0.025` is `2.5%`.
pub fn percent(x: f64) -> String {
    format!("{}%", trim_number(x * 100.0, 2))
}

/// A number with at most `decimals` decimals and no trailing zeros.
pub fn trim_number(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let text = format!("{x:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

fn missing(function: &str, why: impl std::fmt::Display) -> ExecutionError {
    ExecutionError::function_error(function, format!("{MISSING}{why}"))
}

fn wrong(function: &str, why: impl std::fmt::Display) -> ExecutionError {
    ExecutionError::function_error(function, why.to_string())
}

fn number(function: &str, value: &Value) -> Result<f64, ExecutionError> {
    match value {
        Value::Float(x) => Ok(*x),
        Value::Int(x) => Ok(*x as f64),
        Value::UInt(x) => Ok(*x as f64),
        other => Err(wrong(function, format!("wants a number, got {other:?}"))),
    }
}

fn numbers(function: &str, value: &Value) -> Result<Vec<f64>, ExecutionError> {
    match value {
        Value::List(items) => items.iter().map(|item| number(function, item)).collect(),
        other => Err(wrong(
            function,
            format!("wants a list of numbers, got {other:?}"),
        )),
    }
}

fn field<'a>(map: &'a Value, key: &str) -> Option<&'a Value> {
    match map {
        Value::Map(map) => map.map.get(&Key::from(key)),
        _ => None,
    }
}

/// A measurement from its JSON form: `"no-data"`, `{"value": x}`,
/// `{"samples": [...]}`, `{"error": "..."}` or `{"stale": {...}}`.
fn measurement(function: &str, value: &Value) -> Result<Measurement, ExecutionError> {
    if let Value::String(text) = value
        && text.as_str() == "no-data"
    {
        return Ok(Measurement::NoData);
    }
    if let Some(x) = field(value, "value") {
        return Ok(Measurement::Value(number(function, x)?));
    }
    if let Some(list) = field(value, "samples") {
        return Ok(Measurement::Samples(numbers(function, list)?));
    }
    if let Some(Value::String(error)) = field(value, "error") {
        return Ok(Measurement::Error(error.to_string()));
    }
    if let Some(stale) = field(value, "stale") {
        let age = field(stale, "age_seconds").map_or(Ok(0.0), |age| number(function, age))?;
        return Ok(Measurement::Stale(StaleValue {
            value: field(stale, "value").map_or(Ok(f64::NAN), |v| number(function, v))?,
            age_seconds: age as u32,
        }));
    }
    Err(wrong(
        function,
        format!("wants a measurement (such as metric('error_rate').canary), got {value:?}"),
    ))
}

fn samples_of(function: &str, m: &Value) -> Result<Value, ExecutionError> {
    match measurement(function, m)? {
        Measurement::Samples(samples)
            if !samples.is_empty() && samples.iter().all(|x| x.is_finite()) =>
        {
            Ok(Value::from(samples))
        }
        Measurement::Samples(_) => Err(missing(function, "no finite samples")),
        other => Err(missing(
            function,
            match other.missing_reason() {
                Some(reason) => format!("not a series ({reason})"),
                None => "a single value, not a series".to_owned(),
            },
        )),
    }
}

fn value_of(m: &Value) -> Result<f64, ExecutionError> {
    let m = measurement("value", m)?;
    m.value()
        .ok_or_else(|| missing("value", m.missing_reason().unwrap_or_default()))
}

fn value_overload<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let Some(arg) = args.first() else {
        return Err(wrong("value", "takes one measurement"));
    };
    let x = value_of(&Value::try_from(arg.as_ref())?)?;
    let boxed: Box<dyn Val> = Box::<dyn Val>::try_from(Value::Float(x))?;
    Ok(CowVal::Owned(boxed))
}

fn metric(ftx: &FunctionContext, name: Arc<String>) -> Result<Value, ExecutionError> {
    let metrics = ftx
        .ptx
        .get_variable("metrics")
        .map(|metrics| Value::try_from(metrics.as_ref()))
        .transpose()?;
    if let Some(Value::List(metrics)) = metrics {
        for metric in metrics.iter() {
            if let Some(Value::String(candidate)) = field(metric, "name")
                && candidate == &name
            {
                return Ok(metric.clone());
            }
        }
    }
    Err(missing(
        "metric",
        format!("the snapshot has no metric `{name}`"),
    ))
}

fn ratio(canary: Value, baseline: Value) -> Result<f64, ExecutionError> {
    let canary = measurement("ratio", &canary)?;
    let baseline = measurement("ratio", &baseline)?;
    match shipgate_sdk::ratio(&canary, &baseline) {
        shipgate_sdk::Ratio::Value(r) => Ok(r),
        shipgate_sdk::Ratio::BaselineZero { canary } => {
            Ok(if canary == 0.0 { 1.0 } else { f64::INFINITY })
        }
        missing_side => Err(missing("ratio", missing_side)),
    }
}

fn p_greater(canary: Value, baseline: Value) -> Result<f64, ExecutionError> {
    let canary = numbers("p_greater", &canary)?;
    let baseline = numbers("p_greater", &baseline)?;
    stats::mann_whitney(&canary, &baseline)
        .map(|test| test.p_greater)
        .map_err(|e| missing("p_greater", e))
}

fn timestamp(function: &str, value: &Value) -> Result<Timestamp, ExecutionError> {
    match value {
        Value::String(text) => text
            .parse()
            .map_err(|e| wrong(function, format!("not a timestamp: {e}"))),
        other => Err(wrong(function, format!("wants a timestamp, got {other:?}"))),
    }
}

fn local_time(deployment: Value) -> Result<Value, ExecutionError> {
    let at = timestamp(
        "local_time",
        field(&deployment, "requested_at").unwrap_or(&Value::Null),
    )?;
    let offset = field(&deployment, "utc_offset_minutes")
        .map_or(Ok(0.0), |offset| number("local_time", offset))?;
    // An offset no time zone has: the local time is unknown, which is
    // missing data (the `window` policy holds on it too).
    let local = at.at_offset(offset as i32).ok_or_else(|| {
        missing(
            "local_time",
            format!("the local time is unknown: utc_offset_minutes {offset} is out of range"),
        )
    })?;
    let weekday = schema::WEEKDAYS
        .get(usize::from(local.weekday().number_days_from_monday()))
        .copied()
        .unwrap_or_default();
    let mut map: HashMap<&str, Value> = HashMap::new();
    map.insert("weekday", Value::from(weekday));
    map.insert("hour", Value::Int(i64::from(local.hour())));
    map.insert("minute", Value::Int(i64::from(local.minute())));
    Ok(Value::from(map))
}
