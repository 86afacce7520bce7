//! The string enums of the snapshot.

use crate::verdict::string_enum;

string_enum! {
    /// Why a deployment happens.
    DeployKind("deploy kind") {
        /// A planned change.
        Regular = "regular",
        /// An emergency fix.
        Hotfix = "hotfix",
        /// A return to an earlier version.
        Rollback = "rollback",
    }
}

string_enum! {
    /// Incident severity: P0 (system down) to P3 (minor issue).
    Severity("severity") {
        /// System down.
        P0 = "P0",
        /// Critical functionality broken.
        P1 = "P1",
        /// Major feature impacted.
        P2 = "P2",
        /// Minor issue.
        P3 = "P3",
    }
}

string_enum! {
    /// How a CI check ended, or `pending`.
    CheckConclusion("check conclusion") {
        /// Passed.
        Success = "success",
        /// Failed.
        Failure = "failure",
        /// Neither passed nor failed.
        Neutral = "neutral",
        /// Cancelled before it ended.
        Cancelled = "cancelled",
        /// Not run.
        Skipped = "skipped",
        /// Ran out of time.
        TimedOut = "timed-out",
        /// Waits for a person.
        ActionRequired = "action-required",
        /// Still running or queued.
        Pending = "pending",
        /// Superseded.
        Stale = "stale",
    }
}

string_enum! {
    /// Whether a change merges cleanly into its base.
    MergeState("merge state") {
        /// Merges cleanly and is up to date.
        Clean = "clean",
        /// Merges, but the branch is behind its base.
        Behind = "behind",
        /// Has merge conflicts.
        Conflicting = "conflicting",
        /// Blocked by branch protection.
        Blocked = "blocked",
        /// Not known.
        Unknown = "unknown",
    }
}

string_enum! {
    /// What a reviewer said.
    ReviewState("review state") {
        /// Approved.
        Approved = "approved",
        /// Asked for changes.
        ChangesRequested = "changes-requested",
        /// Commented only.
        Commented = "commented",
        /// The review was dismissed.
        Dismissed = "dismissed",
    }
}

string_enum! {
    /// How a file changed.
    FileStatus("file status") {
        /// New file.
        Added = "added",
        /// Changed file.
        Modified = "modified",
        /// Removed file.
        Deleted = "deleted",
        /// Moved file.
        Renamed = "renamed",
    }
}

string_enum! {
    /// How a dependency changed.
    DependencyChangeKind("dependency change") {
        /// New dependency.
        Added = "added",
        /// Dropped dependency.
        Removed = "removed",
        /// Version changed.
        Updated = "updated",
    }
}

string_enum! {
    /// How a rollout moves traffic.
    RolloutStrategy("rollout strategy") {
        /// A growing share of traffic on the new version.
        Canary = "canary",
        /// A second environment, switched at once.
        BlueGreen = "blue-green",
        /// One server after another.
        Rolling = "rolling",
        /// Everything at once.
        AllAtOnce = "all-at-once",
    }
}

string_enum! {
    /// How an earlier deployment ended.
    DeploymentOutcome("deployment outcome") {
        /// It stayed.
        Succeeded = "succeeded",
        /// It failed.
        Failed = "failed",
        /// It was rolled back.
        RolledBack = "rolled-back",
    }
}

macro_rules! default_variant {
    ($($ty:ident => $v:ident),+ $(,)?) => {
        $(impl Default for $ty {
            fn default() -> Self {
                $ty::$v
            }
        })+
    };
}

default_variant! {
    DeployKind => Regular,
    MergeState => Unknown,
    FileStatus => Modified,
    RolloutStrategy => Canary,
}
