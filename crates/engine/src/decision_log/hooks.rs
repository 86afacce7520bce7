//! The hooks a watch ran, as its log records keep them: which hook, how it
//! ended, and what it printed (capped and redacted by the watch).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Which hook ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HookKind {
    /// Moves traffic to the phase's share.
    Traffic,
    /// Rolls the deploy back.
    Rollback,
}

impl HookKind {
    /// `traffic` or `rollback`.
    pub fn as_str(self) -> &'static str {
        match self {
            HookKind::Traffic => "traffic",
            HookKind::Rollback => "rollback",
        }
    }
}

/// How a hook ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum HookStatus {
    /// It exited with this code.
    Exited {
        /// The exit code.
        code: i32,
    },
    /// A signal ended it.
    Signalled {
        /// The signal's number.
        signal: i32,
    },
    /// It ran past `hook_timeout` and was killed with its process group.
    TimedOut,
    /// It could not be started.
    NotStarted {
        /// Why.
        error: String,
    },
    /// `--dry-run`: not run.
    DryRun,
    /// No hook of this kind is configured.
    NotConfigured,
}

impl HookStatus {
    /// Whether the hook did its job (exit 0, or nothing to run).
    pub fn succeeded(&self) -> bool {
        matches!(
            self,
            HookStatus::Exited { code: 0 } | HookStatus::DryRun | HookStatus::NotConfigured
        )
    }
}

impl fmt::Display for HookStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HookStatus::Exited { code } => write!(f, "exit {code}"),
            HookStatus::Signalled { signal } => write!(f, "killed by signal {signal}"),
            HookStatus::TimedOut => f.write_str("timed out, killed"),
            HookStatus::NotStarted { error } => write!(f, "could not start: {error}"),
            HookStatus::DryRun => f.write_str("not run (--dry-run)"),
            HookStatus::NotConfigured => f.write_str("no hook configured"),
        }
    }
}

/// One hook run, as reported and logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookRun {
    /// Which hook.
    pub hook: HookKind,
    /// The phase it ran for, from 1.
    pub phase: usize,
    /// The share of traffic it was asked for.
    pub percent: u8,
    /// The command line (a list's placeholders filled), redacted; empty when
    /// none is configured.
    pub command: String,
    /// How it ended.
    #[serde(flatten)]
    pub status: HookStatus,
    /// How long it ran, in milliseconds.
    pub millis: u64,
    /// The end of its standard output ([`output::OUTPUT_TAIL`] bytes at
    /// most), redacted.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stdout: String,
    /// The end of its standard error, as `stdout`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stderr: String,
}
