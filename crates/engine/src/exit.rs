//! The process exit codes, one enum for every command and front end.
//!
//! | code | meaning |
//! | --- | --- |
//! | 0 | go, or the command succeeded (a watch completed its rollout) |
//! | 1 | an error: a bad flag, a bad configuration, an unreadable input |
//! | 2 | no-go (`replay`: a verdict changed) |
//! | 3 | roll back (a watch rolled back) |
//! | 4 | hold |
//! | 130 | stopped by SIGINT (128 + 2) |
//! | 143 | stopped by SIGTERM (128 + 15) |
//!
//! It implements [`Termination`], so `main` returns it as it is; in JSON
//! (a report, a decision log record, a watch summary) it is its number.

use std::fmt;
use std::process::Termination;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use shipgate_model::Verdict;

/// How a `shipgate` process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ExitCode {
    /// 0: go, or the command did what it was asked.
    #[default]
    Success,
    /// 1: an error (a bad flag, a bad configuration, an unreadable input).
    Error,
    /// 2: no-go.
    NoGo,
    /// 2: `shipgate replay` found a decision whose verdict changed.
    VerdictChanged,
    /// 3: roll back.
    Rollback,
    /// 4: hold.
    Hold,
    /// 130: stopped by SIGINT (Ctrl-C).
    Interrupted,
    /// 143: stopped by SIGTERM.
    Terminated,
}

impl ExitCode {
    /// The number the process exits with.
    pub const fn code(self) -> u8 {
        match self {
            ExitCode::Success => 0,
            ExitCode::Error => 1,
            ExitCode::NoGo | ExitCode::VerdictChanged => 2,
            ExitCode::Rollback => 3,
            ExitCode::Hold => 4,
            ExitCode::Interrupted => 130,
            ExitCode::Terminated => 143,
        }
    }

    /// The exit code of `code`, as a log or a summary stores it; `None` for
    /// a number Shipgate never exits with. 2 reads as [`ExitCode::NoGo`].
    pub const fn from_code(code: i64) -> Option<ExitCode> {
        Some(match code {
            0 => ExitCode::Success,
            1 => ExitCode::Error,
            2 => ExitCode::NoGo,
            3 => ExitCode::Rollback,
            4 => ExitCode::Hold,
            130 => ExitCode::Interrupted,
            143 => ExitCode::Terminated,
            _ => return None,
        })
    }
}

impl From<Verdict> for ExitCode {
    /// 0 go, 2 no-go, 3 rollback, 4 hold.
    fn from(verdict: Verdict) -> ExitCode {
        match verdict {
            Verdict::Go => ExitCode::Success,
            Verdict::NoGo => ExitCode::NoGo,
            Verdict::Rollback => ExitCode::Rollback,
            Verdict::Hold => ExitCode::Hold,
        }
    }
}

impl fmt::Display for ExitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

impl Termination for ExitCode {
    fn report(self) -> std::process::ExitCode {
        std::process::ExitCode::from(self.code())
    }
}

impl Serialize for ExitCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.code())
    }
}

impl<'de> Deserialize<'de> for ExitCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = i64::deserialize(deserializer)?;
        ExitCode::from_code(code).ok_or_else(|| {
            serde::de::Error::custom(format!("`{code}` is not an exit code of Shipgate"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_and_serializes_as_its_number() {
        for exit in [
            ExitCode::Success,
            ExitCode::Error,
            ExitCode::NoGo,
            ExitCode::Rollback,
            ExitCode::Hold,
            ExitCode::Interrupted,
            ExitCode::Terminated,
        ] {
            assert_eq!(ExitCode::from_code(i64::from(exit.code())), Some(exit));
            let json = serde_json::to_string(&exit).unwrap();
            assert_eq!(json, exit.code().to_string());
            assert_eq!(serde_json::from_str::<ExitCode>(&json).unwrap(), exit);
        }
        assert_eq!(ExitCode::VerdictChanged.code(), 2);
        assert!(serde_json::from_str::<ExitCode>("7").is_err());
        assert_eq!(ExitCode::from(Verdict::Hold).code(), 4);
    }
}
