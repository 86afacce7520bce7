//! Killing everything a hook started, wherever it went.
//!
//! A hook runs in a process group of its own, and killing the group is not
//! enough: a child that called `setsid` (or `setpgid`) has left the group,
//! and one whose parent exited (a double fork) is no longer below the hook
//! in the process tree. What every descendant keeps is the environment it
//! inherited, so each hook run gets a variable of its own, [`MARKER`] with a
//! value unique to the run, and at the timeout Shipgate kills the group,
//! then every process whose environment carries the marker, scanning
//! `/proc` until none is left (as Jenkins' process tree killer does with
//! `BUILD_ID`). A process that clears its environment (`env -i`) escapes;
//! nothing short of a cgroup catches that.

use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The variable that marks the processes of one hook run.
pub const MARKER: &str = "SHIPGATE_HOOK_RUN";

/// How many times `/proc` is scanned before giving up on a process tree
/// that keeps forking.
const MAX_SWEEPS: usize = 100;

/// A value for [`MARKER`] that no other run of this or another Shipgate
/// process uses: the process id, the time and a counter.
pub fn marker_value() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{}-{nanos}-{n}", std::process::id())
}

/// Kills the process group `pgid` (the hook leads its own), then every
/// process carrying `MARKER=value` in its environment. Returns how many
/// marked processes were found outside the group's first kill.
pub fn kill(pgid: Option<u32>, value: &str) -> usize {
    if let Some(pgid) = pgid {
        signal_kill(&[format!("-{pgid}")]);
    }
    let entry = format!("{MARKER}={value}");
    let mut found = 0;
    for _ in 0..MAX_SWEEPS {
        let marked = marked(&entry);
        if marked.is_empty() {
            break;
        }
        found += marked.len();
        signal_kill(&marked.iter().map(u32::to_string).collect::<Vec<_>>());
        std::thread::sleep(Duration::from_millis(5));
    }
    found
}

/// `kill -KILL -- TARGETS...` (a pid, or `-PGID` for a group).
fn signal_kill(targets: &[String]) {
    if targets.is_empty() {
        return;
    }
    let _ = std::process::Command::new("kill")
        .arg("-KILL")
        .arg("--")
        .args(targets)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// The live processes whose environment holds `entry` (`NAME=value`). A
/// zombie's environment reads empty, so a killed process drops out.
#[cfg(target_os = "linux")]
fn marked(entry: &str) -> Vec<u32> {
    let own = std::process::id();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != own)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|environ| {
                environ
                    .split(|&b| b == 0)
                    .any(|var| var == entry.as_bytes())
            })
        })
        .collect()
}

/// Elsewhere only the process group is killed.
#[cfg(not(target_os = "linux"))]
fn marked(_entry: &str) -> Vec<u32> {
    Vec::new()
}

/// Whether `pid` is a live process (not gone, not a zombie).
#[cfg(all(test, target_os = "linux"))]
pub(crate) fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        // `pid (comm) STATE ...`: the state follows the last `)`.
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
    })
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_double_forked_setsid_process_is_found_by_its_marker_and_killed() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let value = marker_value();
        // The shell starts a subshell that starts `setsid sleep` and exits
        // at once: the sleeper is in no group of ours and below no process
        // of ours.
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "(setsid sleep 1000 & echo $! > {}) ; exit 0",
                pid_file.display()
            ))
            .env(MARKER, &value)
            .status()
            .unwrap();
        assert!(status.success());
        let pid: u32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(alive(pid), "the sleeper should run");
        // At least the sleeper; on a loaded machine the subshell or
        // `setsid`'s own parent may not have exited yet and carry the marker
        // too.
        // The sleeper's environment can be unreadable for a moment while
        // `setsid` execs it: look again for up to a second.
        let mut killed = kill(None, &value);
        let mut tries = 0;
        while killed == 0 && tries < 100 {
            std::thread::sleep(Duration::from_millis(10));
            killed = kill(None, &value);
            tries += 1;
        }
        assert!(killed >= 1);
        let mut waited = 0;
        while alive(pid) && waited < 200 {
            std::thread::sleep(Duration::from_millis(10));
            waited += 1;
        }
        assert!(!alive(pid), "the sleeper survived");
        assert_eq!(kill(None, &value), 0, "nothing is left");
    }

    #[test]
    fn marker_values_differ() {
        assert_ne!(marker_value(), marker_value());
    }
}
