//! Hooks: the user's commands that move traffic and roll back. Shipgate
//! decides; these act.
//!
//! A hook is a list run as it is (no shell), or a string run by `sh -c`.
//! The run's values are in the environment as `SHIPGATE_PERCENT`,
//! `SHIPGATE_PHASE`, `SHIPGATE_SERVICE`, `SHIPGATE_ENVIRONMENT`,
//! `SHIPGATE_VERSION`, with `SHIPGATE_HOOK` (`traffic` or `rollback`),
//! `SHIPGATE_PREVIOUS_PERCENT` and, for a rollback, `SHIPGATE_REASON` (a
//! rollback decided in the verify step after the last phase has that
//! phase as `SHIPGATE_PHASE`: the step moves no traffic). In
//! the list form the placeholders `{percent}`, `{phase}`, `{service}`,
//! `{environment}` and `{version}` are replaced in the arguments, each value
//! inside its one argument. A string hook is shell text, and a value pasted
//! into it would be read as shell (`--release 'v1; touch PWNED'`), so a
//! placeholder in a string hook is refused at load: write
//! `"$SHIPGATE_VERSION"` (quoted) instead, or use the list form.
//!
//! A hook's environment is an allowlist ([`env`]): the base variables, the
//! names `[watch] hook_env` lists and the `SHIPGATE_*` values, not the whole
//! environment of Shipgate. What is kept of its output is capped and
//! redacted ([`output`]).
//!
//! A hook runs in the configuration's directory, in a process group of its
//! own: a Ctrl-C at the terminal reaches Shipgate, not the hook, and
//! Shipgate lets a running hook finish (within `hook_timeout`) before it
//! stops, so no hook is left half-run without being reported. A hook that
//! outlives its timeout is killed with everything it started, including
//! children that left its process group ([`tree`]).

pub mod env;
pub mod output;
pub mod tree;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

pub use shipgate_core::config::watch::{EnvName, HookCommand, PLACEHOLDERS};
pub use shipgate_engine::decision_log::{HookKind, HookRun, HookStatus};

/// What a hook is told: the placeholders and environment variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookContext {
    /// Which hook.
    pub kind: HookKind,
    /// The phase, counted from 1.
    pub phase: usize,
    /// The share of traffic the phase asks for.
    pub percent: u8,
    /// The share before it (0 before the first phase).
    pub previous_percent: u8,
    /// The service.
    pub service: String,
    /// The target environment.
    pub environment: String,
    /// The version being rolled out.
    pub version: String,
    /// Why (a rollback's triggering findings).
    pub reason: Option<String>,
}

impl HookContext {
    fn value(&self, placeholder: &str) -> String {
        match placeholder {
            "{percent}" => self.percent.to_string(),
            "{phase}" => self.phase.to_string(),
            "{service}" => self.service.clone(),
            "{environment}" => self.environment.clone(),
            "{version}" => self.version.clone(),
            _ => String::new(),
        }
    }

    /// One argument of a list-form hook with its placeholders filled: the
    /// values stay inside this one argument.
    fn fill(&self, arg: &str) -> String {
        PLACEHOLDERS
            .iter()
            .fold(arg.to_owned(), |a, (p, _)| a.replace(p, &self.value(p)))
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("SHIPGATE_HOOK", self.kind.as_str().to_owned()),
            ("SHIPGATE_PERCENT", self.percent.to_string()),
            (
                "SHIPGATE_PREVIOUS_PERCENT",
                self.previous_percent.to_string(),
            ),
            ("SHIPGATE_PHASE", self.phase.to_string()),
            ("SHIPGATE_SERVICE", self.service.clone()),
            ("SHIPGATE_ENVIRONMENT", self.environment.clone()),
            ("SHIPGATE_VERSION", self.version.clone()),
        ];
        if let Some(reason) = &self.reason {
            env.push(("SHIPGATE_REASON", reason.clone()));
        }
        env
    }

    /// The command line as it will run (the list form's placeholders
    /// filled), redacted: for the report.
    pub fn command_line(&self, command: &HookCommand) -> String {
        let line = match command {
            HookCommand::Shell(s) => s.clone(),
            HookCommand::Argv(args) => args
                .iter()
                .map(|a| self.fill(a))
                .collect::<Vec<_>>()
                .join(" "),
        };
        shipgate_core::redact::scrub(&line).into_owned()
    }
}

/// Runs hooks: with a timeout, or (`--dry-run`) not at all.
#[derive(Debug, Clone)]
pub struct HookRunner {
    /// Kill a hook after this long.
    pub timeout: Duration,
    /// Run nothing; report what would have run.
    pub dry_run: bool,
    /// The working directory of every hook.
    pub dir: std::path::PathBuf,
    /// The variables of Shipgate's environment passed to hooks besides
    /// [`env::BASE_VARIABLES`] (`[watch] hook_env`).
    pub env: Vec<EnvName>,
}

impl HookRunner {
    /// Runs `command` (if any) for `ctx`, to its end or its timeout.
    pub async fn run(&self, command: Option<&HookCommand>, ctx: &HookContext) -> HookRun {
        let mut run = HookRun {
            hook: ctx.kind,
            phase: ctx.phase,
            percent: ctx.percent,
            command: command.map(|c| ctx.command_line(c)).unwrap_or_default(),
            status: HookStatus::NotConfigured,
            millis: 0,
            stdout: String::new(),
            stderr: String::new(),
        };
        let Some(command) = command else {
            return run;
        };
        if self.dry_run {
            run.status = HookStatus::DryRun;
            return run;
        }
        let started = Instant::now();
        let inherited = env::inherited(&self.env, std::env::vars_os());
        let (status, stdout, stderr) =
            execute(command, ctx, inherited, &self.dir, self.timeout).await;
        run.millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        run.status = status;
        run.stdout = stdout;
        run.stderr = stderr;
        run
    }
}

/// Spawns the hook and waits for it; at the timeout kills it with all it
/// started.
async fn execute(
    command: &HookCommand,
    ctx: &HookContext,
    inherited: Vec<(std::ffi::OsString, std::ffi::OsString)>,
    dir: &Path,
    timeout: Duration,
) -> (HookStatus, String, String) {
    let mut cmd = match command {
        HookCommand::Shell(s) => {
            // The text as configured: no value is pasted into it.
            let mut cmd = tokio::process::Command::new("sh");
            cmd.arg("-c").arg(s);
            cmd
        }
        HookCommand::Argv(args) => {
            let mut filled = args.iter().map(|a| ctx.fill(a));
            let program = filled.next().unwrap_or_default();
            let mut cmd = tokio::process::Command::new(program);
            cmd.args(filled);
            cmd
        }
    };
    let marker = tree::marker_value();
    cmd.current_dir(dir)
        .env_clear()
        .envs(inherited)
        .envs(ctx.env())
        .env(tree::MARKER, &marker)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            return (
                HookStatus::NotStarted {
                    error: shipgate_core::redact::scrub(&e.to_string()).into_owned(),
                },
                String::new(),
                String::new(),
            );
        }
    };
    let stdout = child.stdout.take().map(output::read_tail);
    let stderr = child.stderr.take().map(output::read_tail);
    let pid = child.id();
    let status = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(status)) => exit_status(status),
        Ok(Err(e)) => HookStatus::NotStarted {
            error: format!("cannot wait for it: {e}"),
        },
        Err(_) => {
            tree::kill(pid, &marker);
            let _ = child.kill().await;
            HookStatus::TimedOut
        }
    };
    // Children of the hook that keep the pipes open must not hold us up.
    let grace = Duration::from_millis(500);
    let collect = |task: Option<tokio::task::JoinHandle<String>>| async move {
        match task {
            Some(task) => tokio::time::timeout(grace, task)
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default(),
            None => String::new(),
        }
    };
    let (out, err) = tokio::join!(collect(stdout), collect(stderr));
    (status, out, err)
}

fn exit_status(status: std::process::ExitStatus) -> HookStatus {
    if let Some(code) = status.code() {
        return HookStatus::Exited { code };
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return HookStatus::Signalled { signal };
        }
    }
    HookStatus::Exited { code: -1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(kind: HookKind) -> HookContext {
        HookContext {
            kind,
            phase: 2,
            percent: 50,
            previous_percent: 10,
            service: "orders".into(),
            environment: "production".into(),
            version: "v2.4.1".into(),
            reason: (kind == HookKind::Rollback).then(|| "canary.error-rate: 5% > 2%".into()),
        }
    }

    fn runner(dir: &Path) -> HookRunner {
        HookRunner {
            timeout: Duration::from_secs(5),
            dry_run: false,
            dir: dir.to_owned(),
            env: Vec::new(),
        }
    }

    fn block_on<T>(f: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn a_shell_hook_sees_its_variables_in_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        let cmd = HookCommand::Shell(
            "echo weight $SHIPGATE_PERCENT phase $SHIPGATE_PHASE \
             $SHIPGATE_SERVICE/$SHIPGATE_ENVIRONMENT \
             $SHIPGATE_VERSION from $SHIPGATE_PREVIOUS_PERCENT $SHIPGATE_HOOK; pwd; \
             echo oops >&2; exit 7"
                .into(),
        );
        let run = block_on(runner(dir.path()).run(Some(&cmd), &ctx(HookKind::Traffic)));
        assert_eq!(run.status, HookStatus::Exited { code: 7 });
        assert!(!run.status.succeeded());
        let mut lines = run.stdout.lines();
        assert_eq!(
            lines.next(),
            Some("weight 50 phase 2 orders/production v2.4.1 from 10 traffic")
        );
        let pwd = std::fs::canonicalize(lines.next().unwrap()).unwrap();
        assert_eq!(pwd, std::fs::canonicalize(dir.path()).unwrap());
        assert_eq!(run.stderr, "oops");
        // The shell text is reported as configured: nothing is pasted in.
        assert!(
            run.command
                .starts_with("echo weight $SHIPGATE_PERCENT phase"),
            "{}",
            run.command
        );
    }

    /// The attack: a version (or branch name) that is shell. In a string
    /// hook it is read from the environment, quoted; in a list it is one
    /// argument. Either way nothing runs it.
    #[test]
    fn a_value_that_is_shell_is_never_run() {
        let dir = tempfile::tempdir().unwrap();
        let mut attack = ctx(HookKind::Traffic);
        attack.version = "v1; touch PWNED; $(touch PWNED2) `touch PWNED3`".into();
        attack.service = "feature/x';touch PWNED4;'".into();
        let shell =
            HookCommand::Shell("printf '%s|%s' \"$SHIPGATE_VERSION\" \"$SHIPGATE_SERVICE\"".into());
        let run = block_on(runner(dir.path()).run(Some(&shell), &attack));
        assert_eq!(run.status, HookStatus::Exited { code: 0 });
        assert_eq!(run.stdout, format!("{}|{}", attack.version, attack.service));
        let argv = HookCommand::Argv(vec![
            "sh".into(),
            "-c".into(),
            "printf '%s|%s' \"$1\" \"$2\"".into(),
            "set-weight".into(),
            "{version}".into(),
            "--service={service}".into(),
        ]);
        let run = block_on(runner(dir.path()).run(Some(&argv), &attack));
        assert_eq!(run.status, HookStatus::Exited { code: 0 });
        assert_eq!(
            run.stdout,
            format!("{}|--service={}", attack.version, attack.service)
        );
        // A string hook is run as configured: a placeholder in it (refused
        // at load, see below) would not be filled in with shell.
        let spliced = HookCommand::Shell("echo {version}".into());
        let run = block_on(runner(dir.path()).run(Some(&spliced), &attack));
        assert_eq!(run.stdout, "{version}");
        let created: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(created.is_empty(), "{created:?}");
    }

    #[test]
    fn a_setsid_child_does_not_survive_the_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let cmd = HookCommand::Shell(
            "setsid sleep 1000 & echo $! > setsid.pid; \
             (setsid sleep 1000 & echo $! > double.pid) ; \
             echo started; sleep 1000"
                .into(),
        );
        let mut r = runner(dir.path());
        r.timeout = Duration::from_millis(500);
        let run = block_on(r.run(Some(&cmd), &ctx(HookKind::Traffic)));
        assert_eq!(run.status, HookStatus::TimedOut);
        assert_eq!(run.stdout, "started");
        for file in ["setsid.pid", "double.pid"] {
            let pid: u32 = std::fs::read_to_string(dir.path().join(file))
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            // Killed processes may take a moment to be gone.
            let mut polls = 0;
            while tree::alive(pid) && polls < 200 {
                std::thread::sleep(Duration::from_millis(10));
                polls += 1;
            }
            assert!(!tree::alive(pid), "{file}: {pid} survived the timeout");
        }
    }

    #[test]
    fn an_argv_hook_runs_without_a_shell_and_a_rollback_gets_its_reason() {
        let dir = tempfile::tempdir().unwrap();
        let cmd = HookCommand::Argv(vec![
            "sh".into(),
            "-c".into(),
            "printf '%s|%s|%s' \"$0\" \"$1\" \"$SHIPGATE_REASON\"".into(),
            "{service}".into(),
            "$HOME {percent}".into(),
        ]);
        let run = block_on(runner(dir.path()).run(Some(&cmd), &ctx(HookKind::Rollback)));
        assert_eq!(run.status, HookStatus::Exited { code: 0 });
        // `$HOME` is not expanded: no shell reads the arguments.
        assert_eq!(run.stdout, "orders|$HOME 50|canary.error-rate: 5% > 2%");
    }

    #[test]
    fn a_hook_past_its_timeout_is_killed_with_its_children() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("survived");
        let cmd = HookCommand::Shell(format!(
            "(sleep 2; touch {}) & echo started; sleep 30",
            marker.display()
        ));
        let mut r = runner(dir.path());
        r.timeout = Duration::from_millis(300);
        let started = Instant::now();
        let run = block_on(r.run(Some(&cmd), &ctx(HookKind::Traffic)));
        assert_eq!(run.status, HookStatus::TimedOut);
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(run.stdout, "started");
        std::thread::sleep(Duration::from_millis(2500));
        assert!(!marker.exists(), "the hook's child outlived the kill");
    }

    #[test]
    fn dry_run_and_missing_hooks_run_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("ran");
        let cmd = HookCommand::Shell(format!("touch {}", marker.display()));
        let mut r = runner(dir.path());
        r.dry_run = true;
        let run = block_on(r.run(Some(&cmd), &ctx(HookKind::Traffic)));
        assert_eq!(run.status, HookStatus::DryRun);
        assert!(run.command.starts_with("touch "));
        assert!(!marker.exists());
        let none = block_on(runner(dir.path()).run(None, &ctx(HookKind::Rollback)));
        assert_eq!(none.status, HookStatus::NotConfigured);
        assert!(none.status.succeeded());
    }

    #[test]
    fn a_missing_program_is_reported_not_raised() {
        let dir = tempfile::tempdir().unwrap();
        let cmd = HookCommand::Argv(vec!["/nonexistent/set-weight".into()]);
        let run = block_on(runner(dir.path()).run(Some(&cmd), &ctx(HookKind::Traffic)));
        assert!(
            matches!(&run.status, HookStatus::NotStarted { error } if error.contains("No such file")),
            "{:?}",
            run.status
        );
    }
}
