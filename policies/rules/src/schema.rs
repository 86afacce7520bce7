//! The shape of the snapshot as expressions see it: its JSON form's field
//! names and types, so that a misspelt field or enum value is a load-time
//! error and not an expression that is quietly `false`.
//!
//! The tables mirror `shipgate_model`; a test compares them with the model's
//! JSON Schema so that they cannot drift apart.

use std::collections::BTreeMap;
use std::rc::Rc;

use shipgate_sdk::{
    CheckConclusion, DependencyChangeKind, DeployKind, DeploymentOutcome, FileStatus, MergeState,
    MetricOutcome, ReviewState, RolloutStrategy, Severity, Verdict,
};

/// A type an expression can have, as far as the checker can tell.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    /// Not known until evaluation: nothing is checked.
    Dyn,
    /// `true` or `false`.
    Bool,
    /// An integer or a double.
    Number,
    /// A string.
    String,
    /// A string with a fixed set of values (`deployment.kind`).
    Enum(&'static str, &'static [&'static str]),
    /// A timestamp, written as an RFC 3339 string in the JSON form.
    Timestamp,
    /// A measurement: use `has_data`, `value` and `ratio` on it.
    Measurement,
    /// A list of one type.
    List(Box<Ty>),
    /// A map from strings to one type (`labels`).
    Map(Box<Ty>),
    /// A record of the snapshot.
    Record(&'static Record),
    /// The `params` table, typed from the configuration itself.
    Params(Rc<BTreeMap<String, Ty>>),
    /// The `variables` defined so far, typed from their expressions.
    Variables(Rc<BTreeMap<String, Ty>>),
}

impl Ty {
    /// How the type reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Ty::Dyn => "a value".into(),
            Ty::Bool => "a bool".into(),
            Ty::Number => "a number".into(),
            Ty::String => "a string".into(),
            Ty::Enum(what, _) => format!("a {what} (a string)"),
            Ty::Timestamp => "a timestamp (an RFC 3339 string)".into(),
            Ty::Measurement => "a measurement".into(),
            Ty::List(of) => format!("a list of {}", of.describe_plural()),
            Ty::Map(_) => "a map".into(),
            Ty::Record(record) => format!("a {}", record.name),
            Ty::Params(_) => "the params table".into(),
            Ty::Variables(_) => "the variables".into(),
        }
    }

    fn describe_plural(&self) -> String {
        match self {
            Ty::Record(record) => format!("{}s", record.name),
            Ty::String => "strings".into(),
            Ty::Number => "numbers".into(),
            other => other.describe(),
        }
    }

    /// The type of `params`, from the configuration's JSON value.
    pub fn of_json(value: &serde_json::Value) -> Ty {
        match value {
            serde_json::Value::Null => Ty::Dyn,
            serde_json::Value::Bool(_) => Ty::Bool,
            serde_json::Value::Number(_) => Ty::Number,
            serde_json::Value::String(_) => Ty::String,
            serde_json::Value::Array(items) => {
                let first = items.first().map_or(Ty::Dyn, Ty::of_json);
                if items.iter().all(|item| Ty::of_json(item) == first) {
                    Ty::List(Box::new(first))
                } else {
                    Ty::List(Box::new(Ty::Dyn))
                }
            }
            serde_json::Value::Object(map) => Ty::Params(Rc::new(
                map.iter()
                    .map(|(key, value)| (key.clone(), Ty::of_json(value)))
                    .collect(),
            )),
        }
    }
}

/// A record of the snapshot: its name in messages and its fields.
#[derive(Debug, PartialEq)]
pub struct Record {
    /// What the record is called in messages (`metric`).
    pub name: &'static str,
    /// Field name and type, in the JSON form's order.
    pub fields: &'static [(&'static str, Field)],
}

impl Record {
    /// The type of field `name`, if the record has it.
    pub fn field(&self, name: &str) -> Option<Ty> {
        self.fields
            .iter()
            .find(|(field, _)| *field == name)
            .map(|(_, field)| field.ty())
    }

    /// The field names, comma-separated, for messages.
    pub fn field_names(&self) -> String {
        self.fields
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A field's type, as a `const`-friendly description of a [`Ty`].
#[derive(Debug, PartialEq)]
pub enum Field {
    /// A bool.
    Bool,
    /// A number.
    Number,
    /// A string.
    String,
    /// A timestamp.
    Timestamp,
    /// An enum of the model.
    Enum(&'static str, &'static [&'static str]),
    /// A measurement.
    Measurement,
    /// A record.
    Record(&'static Record),
    /// A list of records.
    Records(&'static Record),
    /// A list of strings.
    Strings,
    /// A list of numbers.
    Numbers,
    /// A list of enum values.
    Enums(&'static str, &'static [&'static str]),
    /// A map of strings to strings.
    StringMap,
}

impl Field {
    /// The type an expression gets for the field.
    pub fn ty(&self) -> Ty {
        match self {
            Field::Bool => Ty::Bool,
            Field::Number => Ty::Number,
            Field::String => Ty::String,
            Field::Timestamp => Ty::Timestamp,
            Field::Enum(what, names) => Ty::Enum(what, names),
            Field::Measurement => Ty::Measurement,
            Field::Record(record) => Ty::Record(record),
            Field::Records(record) => Ty::List(Box::new(Ty::Record(record))),
            Field::Strings => Ty::List(Box::new(Ty::String)),
            Field::Numbers => Ty::List(Box::new(Ty::Number)),
            Field::Enums(what, names) => Ty::List(Box::new(Ty::Enum(what, names))),
            Field::StringMap => Ty::Map(Box::new(Ty::String)),
        }
    }
}

use Field as F;

/// `deployment`.
pub static DEPLOYMENT: Record = Record {
    name: "deployment",
    fields: &[
        ("service", F::String),
        ("environment", F::String),
        ("version", F::String),
        ("commit", F::String),
        ("base_commit", F::String),
        ("pull_request", F::Record(&PULL_REQUEST)),
        ("kind", F::Enum("deploy kind", DeployKind::NAMES)),
        ("severity", F::Enum("severity", Severity::NAMES)),
        ("requested_at", F::Timestamp),
        ("utc_offset_minutes", F::Number),
        ("actor", F::String),
    ],
};

/// `deployment.pull_request`.
pub static PULL_REQUEST: Record = Record {
    name: "pull request",
    fields: &[
        ("number", F::Number),
        ("title", F::String),
        ("author", F::String),
        ("base_branch", F::String),
        ("head_branch", F::String),
        ("url", F::String),
    ],
};

/// `ci`.
pub static CI: Record = Record {
    name: "ci",
    fields: &[
        ("checks", F::Records(&CHECK)),
        ("test_suites", F::Records(&TEST_SUITE)),
        ("coverage_percent", F::Number),
        ("artifacts", F::Records(&ARTIFACT)),
        ("merge_state", F::Enum("merge state", MergeState::NAMES)),
        ("commits_behind_base", F::Number),
        ("approvals", F::Records(&APPROVAL)),
    ],
};

/// An element of `ci.checks`.
pub static CHECK: Record = Record {
    name: "check",
    fields: &[
        ("name", F::String),
        (
            "conclusion",
            F::Enum("check conclusion", CheckConclusion::NAMES),
        ),
        ("required", F::Bool),
        ("url", F::String),
    ],
};

/// An element of `ci.test_suites`.
pub static TEST_SUITE: Record = Record {
    name: "test suite",
    fields: &[
        ("name", F::String),
        ("tests", F::Number),
        ("failures", F::Number),
        ("errors", F::Number),
        ("skipped", F::Number),
        ("duration_ms", F::Number),
        ("smoke", F::Bool),
    ],
};

/// An element of `ci.artifacts`.
pub static ARTIFACT: Record = Record {
    name: "artifact",
    fields: &[
        ("name", F::String),
        ("kind", F::String),
        ("reference", F::String),
        ("built", F::Bool),
        ("digest", F::String),
    ],
};

/// An element of `ci.approvals`.
pub static APPROVAL: Record = Record {
    name: "approval",
    fields: &[
        ("reviewer", F::String),
        ("state", F::Enum("review state", ReviewState::NAMES)),
        ("human", F::Bool),
        ("at", F::Timestamp),
    ],
};

/// `change`.
pub static CHANGE: Record = Record {
    name: "change",
    fields: &[
        ("files", F::Records(&FILE_CHANGE)),
        ("commits", F::Records(&COMMIT)),
        ("migrations", F::Records(&MIGRATION)),
        ("breaking_changes", F::Records(&BREAKING_CHANGE)),
        ("dependency_changes", F::Records(&DEPENDENCY_CHANGE)),
        ("areas", F::Strings),
    ],
};

/// An element of `change.files`.
pub static FILE_CHANGE: Record = Record {
    name: "file change",
    fields: &[
        ("path", F::String),
        ("status", F::Enum("file status", FileStatus::NAMES)),
        ("lines_added", F::Number),
        ("lines_removed", F::Number),
    ],
};

/// An element of `change.commits`.
pub static COMMIT: Record = Record {
    name: "commit",
    fields: &[
        ("sha", F::String),
        ("subject", F::String),
        ("author", F::String),
    ],
};

/// An element of `change.migrations`.
pub static MIGRATION: Record = Record {
    name: "migration",
    fields: &[("path", F::String), ("framework", F::String)],
};

/// An element of `change.breaking_changes`.
pub static BREAKING_CHANGE: Record = Record {
    name: "breaking change",
    fields: &[("source", F::String), ("description", F::String)],
};

/// An element of `change.dependency_changes`.
pub static DEPENDENCY_CHANGE: Record = Record {
    name: "dependency change",
    fields: &[
        ("ecosystem", F::String),
        ("name", F::String),
        (
            "change",
            F::Enum("dependency change", DependencyChangeKind::NAMES),
        ),
        ("from_version", F::String),
        ("to_version", F::String),
    ],
};

/// `environment`.
pub static ENVIRONMENT: Record = Record {
    name: "environment",
    fields: &[("declared", F::Records(&ENV_VAR)), ("present", F::Strings)],
};

/// An element of `environment.declared`.
pub static ENV_VAR: Record = Record {
    name: "declared variable",
    fields: &[
        ("name", F::String),
        ("required", F::Bool),
        ("has_default", F::Bool),
        ("documented", F::Bool),
        ("added", F::Bool),
    ],
};

/// `rollout`.
pub static ROLLOUT: Record = Record {
    name: "rollout",
    fields: &[
        (
            "strategy",
            F::Enum("rollout strategy", RolloutStrategy::NAMES),
        ),
        ("phase", F::Number),
        ("traffic_percent", F::Number),
        ("seconds_in_phase", F::Number),
        ("steps", F::Records(&ROLLOUT_STEP)),
        ("history", F::Records(&INTERVAL)),
    ],
};

/// An element of `rollout.steps`.
pub static ROLLOUT_STEP: Record = Record {
    name: "rollout step",
    fields: &[("traffic_percent", F::Number), ("hold_seconds", F::Number)],
};

/// An element of `rollout.history`.
pub static INTERVAL: Record = Record {
    name: "interval result",
    fields: &[
        ("phase", F::Number),
        ("at", F::Timestamp),
        ("verdict", F::Enum("verdict", Verdict::NAMES)),
        ("data_missing", F::Bool),
        ("rules", F::Strings),
        ("policies", F::Records(&POLICY_INTERVAL)),
    ],
};

/// An element of an interval's `policies`: always empty in what a policy is
/// given (its own results are the interval's top fields).
pub static POLICY_INTERVAL: Record = Record {
    name: "policy interval",
    fields: &[
        ("policy", F::String),
        ("advisory", F::Bool),
        ("verdict", F::Enum("verdict", Verdict::NAMES)),
        ("data_missing", F::Bool),
        ("rules", F::Strings),
        ("metrics", F::Records(&METRIC_INTERVAL)),
    ],
};

/// An element of a policy interval's `metrics`.
pub static METRIC_INTERVAL: Record = Record {
    name: "metric interval",
    fields: &[
        ("metric", F::String),
        ("outcome", F::Enum("metric outcome", MetricOutcome::NAMES)),
        ("rules", F::Strings),
    ],
};

/// `health`: what the HTTP health probes found.
pub static HEALTH: Record = Record {
    name: "health",
    fields: &[("probes", F::Records(&PROBE))],
};

/// An element of `health.probes`.
pub static PROBE: Record = Record {
    name: "probe",
    fields: &[
        ("name", F::String),
        ("url", F::String),
        ("expected_status", F::Number),
        ("results", F::Records(&PROBE_RESULT)),
    ],
};

/// An element of a probe's `results`.
pub static PROBE_RESULT: Record = Record {
    name: "probe result",
    fields: &[
        ("status", F::Number),
        ("latency_ms", F::Number),
        ("body_matched", F::Bool),
        ("error", F::String),
        ("tries", F::Number),
    ],
};

/// An element of `metrics`.
pub static METRIC: Record = Record {
    name: "metric",
    fields: &[
        ("name", F::String),
        ("unit", F::String),
        ("baseline", F::Measurement),
        ("canary", F::Measurement),
    ],
};

/// An element of `alerts`.
pub static ALERT: Record = Record {
    name: "alert",
    fields: &[
        ("name", F::String),
        ("severity", F::String),
        ("since", F::Timestamp),
        ("labels", F::StringMap),
    ],
};

/// An element of `error_signatures`.
pub static ERROR_SIGNATURE: Record = Record {
    name: "error signature",
    fields: &[
        ("signature", F::String),
        ("count", F::Number),
        ("new", F::Bool),
        ("critical", F::Bool),
    ],
};

/// An element of `history`.
pub static PAST_DEPLOYMENT: Record = Record {
    name: "past deployment",
    fields: &[
        ("version", F::String),
        ("at", F::Timestamp),
        (
            "outcome",
            F::Enum("deployment outcome", DeploymentOutcome::NAMES),
        ),
        ("kind", F::Enum("deploy kind", DeployKind::NAMES)),
    ],
};

/// An element of `gaps`.
pub static GAP: Record = Record {
    name: "gap",
    fields: &[("source", F::String), ("reason", F::String)],
};

/// The snapshot itself: each field is a variable of its own in expressions.
pub static SNAPSHOT: Record = Record {
    name: "snapshot",
    fields: &[
        ("deployment", F::Record(&DEPLOYMENT)),
        ("ci", F::Record(&CI)),
        ("change", F::Record(&CHANGE)),
        ("environment", F::Record(&ENVIRONMENT)),
        ("rollout", F::Record(&ROLLOUT)),
        ("health", F::Record(&HEALTH)),
        ("metrics", F::Records(&METRIC)),
        ("alerts", F::Records(&ALERT)),
        ("error_signatures", F::Records(&ERROR_SIGNATURE)),
        ("history", F::Records(&PAST_DEPLOYMENT)),
        ("labels", F::StringMap),
        ("gaps", F::Records(&GAP)),
    ],
};

/// The weekdays as `local_time` names them, from Monday.
pub const WEEKDAYS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// What `local_time(deployment)` returns.
pub static LOCAL_TIME: Record = Record {
    name: "local time",
    fields: &[
        ("weekday", F::Enum("weekday", WEEKDAYS)),
        ("hour", F::Number),
        ("minute", F::Number),
    ],
};

/// The stage names, for `stage == '...'`.
pub const STAGES: &[&str] = &["gate", "canary", "risk", "verify"];
