//! `shipgate watch` attacked and starved, with the real binary: a watch that
//! cannot see does not move traffic; a version that is shell is never run; a
//! hook does not see (or leak) the environment's secrets; a metric no policy
//! reads does not count as missing data; a policy that fails in every
//! interval does not hold the rollout forever.

use serde_json::Value;
use shipgate_engine::decision_log;

use crate::support::{hostile, run};
use crate::watch::{
    Rollout, WINDOW, assert_every_interval_replays, healthy, metric, of_kind, rules,
    start_prometheus, verdicts,
};

/// A traffic hook that records each invocation (its arguments and the
/// version it was given) in `invocations.log`.
const RECORDING_HOOK: &str = "#!/bin/sh\n\
    printf '%s|%s\\n' \"$*\" \"$SHIPGATE_VERSION\" >> invocations.log\n";

/// An address nothing listens on.
fn unreachable_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

/// Prometheus unreachable: the watch refuses to start, non-zero, saying
/// why; the traffic hook never ran, nothing was logged. The same with a
/// Prometheus that answers but no enforced policy at the canary stage.
#[test]
fn a_watch_that_cannot_see_never_moves_traffic() {
    let rollout = Rollout::new(&unreachable_url(), "", WINDOW);
    std::fs::write(rollout.path("hooks/set-weight.sh"), RECORDING_HOOK).unwrap();
    let (code, stdout, stderr) = run(&mut rollout.command(&["--plan", "10:2s,100:2s"]));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("not starting the rollout") && stderr.contains("no traffic was moved"),
        "{stderr}"
    );
    assert!(stderr.contains("canary.data-missing"), "{stderr}");
    assert!(
        stderr.contains("source `prometheus` could not be read"),
        "{stderr}"
    );
    assert!(
        !rollout.path("invocations.log").exists(),
        "the traffic hook ran: {:?}",
        rollout.lines("invocations.log")
    );
    assert!(!rollout.path("rollback.log").exists());
    assert!(!rollout.path("decisions.jsonl").exists());
    assert!(!stdout.contains("phase 1/"), "{stdout}");

    // Prometheus answers, but the canary policy only answers the gate.
    let (_exporter, prometheus) = start_prometheus(healthy());
    let gate_only = Rollout::new(&prometheus.url(), "", WINDOW);
    let toml = std::fs::read_to_string(gate_only.path("shipgate.toml"))
        .unwrap()
        .replace("stages = [\"canary\"]", "stages = [\"gate\"]");
    std::fs::write(gate_only.path("shipgate.toml"), toml).unwrap();
    std::fs::write(gate_only.path("hooks/set-weight.sh"), RECORDING_HOOK).unwrap();
    let (code, stdout, stderr) = run(&mut gate_only.command(&["--plan", "10:2s,100:2s"]));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("no enforced policy answers the canary stage"),
        "{stderr}"
    );
    assert!(!gate_only.path("invocations.log").exists());
    assert!(!stdout.contains("ROLLOUT COMPLETE"), "{stdout}");
}

/// The attack: `--release 'v1; touch PWNED'` and a branch-name-shaped
/// version, through a list-form traffic hook and a string-form rollback
/// hook (which reads `"$SHIPGATE_VERSION"`). No file is created; each hook
/// sees the value whole. A placeholder in a string hook is refused at load,
/// naming file, line and key, and the fix.
#[test]
fn a_version_that_is_shell_is_never_run() {
    let (_exporter, prometheus) = start_prometheus(healthy());
    let rollout = Rollout::new(&prometheus.url(), "max_error_rate = 0.001", WINDOW);
    std::fs::write(rollout.path("hooks/set-weight.sh"), RECORDING_HOOK).unwrap();
    let toml = std::fs::read_to_string(rollout.path("shipgate.toml"))
        .unwrap()
        .replace(
            "traffic_hook = [\"sh\", \"hooks/set-weight.sh\", \"{percent}\"]",
            "traffic_hook = [\"sh\", \"hooks/set-weight.sh\", \"{percent}\", \"{version}\"]",
        )
        .replace(
            "rollback_hook = \"sh hooks/rollback.sh\"",
            "rollback_hook = \"echo \\\"$SHIPGATE_VERSION\\\" >> rollback.log\"",
        );
    std::fs::write(rollout.path("shipgate.toml"), &toml).unwrap();
    for version in [
        "v1; touch PWNED",
        "feature/$(touch PWNED)`touch PWNED`'\";touch PWNED;#",
    ] {
        // The error rate (0.4%) is above the ceiling set above: the first
        // interval rolls back, so both hooks run.
        let (code, events, stderr) = rollout
            .start(&["--release", version, "--plan", "10:5s,100:5s", "--no-log"])
            .finish();
        assert_eq!(code, 3, "{events:#?}\n{stderr}");
        assert!(!rollout.path("PWNED").exists(), "{version}: injected");
        assert_eq!(
            rollout.lines("invocations.log"),
            [format!("10 {version}|{version}")]
        );
        assert_eq!(rollout.lines("rollback.log"), [version]);
        std::fs::remove_file(rollout.path("invocations.log")).unwrap();
        std::fs::remove_file(rollout.path("rollback.log")).unwrap();
    }

    let refused = toml.replace(
        "rollback_hook = \"echo \\\"$SHIPGATE_VERSION\\\" >> rollback.log\"",
        "rollback_hook = \"./rollback.sh {version}\"",
    );
    let line = refused
        .lines()
        .position(|l| l.starts_with("rollback_hook"))
        .unwrap()
        + 1;
    std::fs::write(rollout.path("shipgate.toml"), refused).unwrap();
    let (code, stdout, stderr) =
        run(&mut rollout.command(&["--release", "v1; touch PWNED", "--plan", "10:5s,100:5s"]));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("shipgate.toml:{line}:"))
            && stderr.contains("key `watch.rollback_hook`")
            && stderr.contains("`{version}` in a string hook would be pasted into shell text")
            && stderr.contains("write \"$SHIPGATE_VERSION\" (in double quotes)"),
        "{stderr}"
    );
    assert!(!rollout.path("PWNED").exists());
    assert!(!rollout.path("invocations.log").exists());
}

/// A hook that runs `env`: a secret of Shipgate's environment that the
/// configuration does not pass never reaches it; one it passes by name
/// reaches it and is redacted from the events and the decision log. What
/// is kept of a hook's output is capped.
#[test]
fn a_hook_that_runs_env_leaks_no_secret() {
    const NOT_PASSED: &str = "ghp_the_token_hooks_never_see_0123456789";
    const AWS: &str = "aws-secret-never-passed-9876543210";
    const PASSED: &str = "argo-token-passed-by-name-5555";
    let (_exporter, prometheus) = start_prometheus(healthy());
    let rollout = Rollout::with(
        &prometheus.url(),
        "",
        WINDOW,
        "hook_env = [\"ARGO_TOKEN\", \"DEPLOY_*\"]",
    );
    std::fs::write(
        rollout.path("hooks/set-weight.sh"),
        "#!/bin/sh\nenv | sort\n# far more output than is kept\n\
         i=0; while [ $i -lt 2000 ]; do echo \"filler line $i\" >&2; i=$((i+1)); done\n",
    )
    .unwrap();
    let mut cmd = rollout.command(&["--plan", "10:1s"]);
    cmd.env("GITHUB_TOKEN", NOT_PASSED)
        .env("AWS_SECRET_ACCESS_KEY", AWS)
        .env("ARGO_TOKEN", PASSED)
        .env("DEPLOY_TARGET", "blue-cluster");
    let (code, events, stderr) = rollout.spawn(cmd).finish();
    assert_eq!(code, 0, "{events:#?}\n{stderr}");
    let hook = of_kind(&events, "hook")[0];
    let env = hook["stdout"].as_str().unwrap();
    let names: Vec<&str> = env
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, _)| k)
        .collect();
    for name in names.iter().filter(|n| !n.starts_with("SHIPGATE_")) {
        assert!(
            [
                "ARGO_TOKEN",
                "DEPLOY_TARGET",
                "HOME",
                "LANG",
                "LC_ALL",
                "LOGNAME",
                "PATH",
                "PWD",
                "SHLVL",
                "TMPDIR",
                "TZ",
                "USER",
                "_",
            ]
            .contains(name),
            "the hook saw `{name}`:\n{env}"
        );
    }
    let lines: Vec<&str> = env.lines().collect();
    for line in [
        "ARGO_TOKEN=***",
        "DEPLOY_TARGET=blue-cluster",
        "SHIPGATE_VERSION=v2.4.1",
    ] {
        assert!(lines.contains(&line), "{line}:\n{env}");
    }
    assert!(!names.contains(&"GITHUB_TOKEN") && !names.contains(&"AWS_SECRET_ACCESS_KEY"));
    // The end of stderr is kept, cut at a line, within the cap.
    let kept = hook["stderr"].as_str().unwrap();
    assert!(
        kept.starts_with("[earlier output cut]\nfiller line "),
        "{kept}"
    );
    assert!(kept.ends_with("filler line 1999"), "{kept}");
    assert!(kept.len() <= 4096 + 32, "{}", kept.len());
    // No secret in the events or the decision log.
    let log = std::fs::read_to_string(rollout.path("decisions.jsonl")).unwrap();
    let stream = serde_json::to_string(&events).unwrap();
    for secret in [NOT_PASSED, AWS, PASSED] {
        assert!(!log.contains(secret), "{secret} in the decision log");
        assert!(!stream.contains(secret), "{secret} in the events");
    }
    let records = decision_log::read(&rollout.path("decisions.jsonl")).unwrap();
    assert_eq!(records[0].hooks[0].stdout, env);
}

/// The false rollback of the issue: CPU is collected but read by no
/// enforced policy, and has no value (the pod has no CPU limit). Intervals
/// are not "data missing" for it; when Prometheus then goes away, the
/// no-data count starts at that interval (hold, hold, rollback at 3), not
/// at the start of the rollout.
#[test]
fn a_metric_no_policy_reads_without_data_is_not_missing_data() {
    let (_exporter, prometheus) = start_prometheus(healthy());
    // The CPU query of a pod without a CPU limit: no quota series, no value.
    let no_limit = "[sources.prometheus.queries]\ncpu_usage = \
        'sum(rate(container_cpu_usage_seconds_total{$selector, container!=\"\"}[$window])) / \
        sum(container_spec_cpu_quota{$selector, container=\"no-limit\"})'";
    let rollout = Rollout::new(
        &prometheus.url(),
        "max_intervals_without_data = 3",
        &format!("{WINDOW}\n{no_limit}"),
    );
    let mut watching = rollout.start(&["--plan", "10:2s,50:60s,100:2s"]);
    for n in ["a first", "a second"] {
        watching.until(&format!("{n} interval in phase 2"), |e| {
            e["event"] == "interval" && e["phase"] == 2
        });
    }
    prometheus.stop();
    let (code, events, stderr) = watching.finish();
    assert_eq!(code, 3, "{events:#?}\n{stderr}");
    let intervals = of_kind(&events, "interval");
    let healthy_ones: Vec<&&Value> = intervals
        .iter()
        .take_while(|i| i["gaps"].as_array().unwrap().is_empty())
        .collect();
    assert!(healthy_ones.len() >= 4, "{intervals:#?}");
    for i in &healthy_ones {
        assert_eq!(i["verdict"], "go", "{i}");
        assert_eq!(i["data_missing"], false, "{i}");
        let cpu = metric(i, "cpu_usage");
        assert!(
            cpu["canary"].is_null() && cpu["baseline"].is_null(),
            "{cpu}"
        );
    }
    let without_data = &intervals[healthy_ones.len()..];
    assert_eq!(
        without_data
            .iter()
            .map(|i| i["verdict"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["hold", "hold", "rollback"],
        "{without_data:#?}"
    );
    for i in without_data {
        assert_eq!(i["data_missing"], true, "{i}");
    }
    assert!(rules(without_data[2]).contains(&"canary.no-data-limit"));
    assert_eq!(verdicts(&events).len(), healthy_ones.len() + 3);
}

/// The canary's policy block as [`Rollout::new`] writes it with no config.
const CANARY_BLOCK: &str = "[[policies]]\nname = \"canary\"\nsource = \"builtin:canary\"\n\
    stages = [\"canary\"]\n\n[policies.config]\n\n";

/// A policy that decides before traffic moves (so the watch starts) and
/// then fails in every interval, next to a healthy canary (`Err`, the
/// default limit of 3) and instead of it (an infinite loop stopped by its
/// fuel, `max_failed_evaluations = 2`): each interval holds, naming the
/// failure, and at the limit the watch rolls back (exit 3), the rollback
/// hook run once with a reason naming the policy and its failure. Every
/// interval replays as it was decided. Without the bound the watch held
/// forever (the test stops it after a few intervals more).
#[test]
fn a_policy_that_fails_every_interval_rolls_back_at_the_limit() {
    let (_exporter, prometheus) = start_prometheus(healthy());
    let stuck = |mode: &str| {
        format!(
            "{}once_traffic_moves = true\n\n",
            hostile("stuck", mode, "stages = [\"canary\"]")
        )
    };
    let beside = Rollout::new(&prometheus.url(), "", WINDOW);
    let toml = std::fs::read_to_string(beside.path("shipgate.toml")).unwrap();
    assert!(toml.contains(CANARY_BLOCK), "{toml}");
    std::fs::write(
        beside.path("shipgate.toml"),
        toml.replace(CANARY_BLOCK, &format!("{CANARY_BLOCK}{}", stuck("fail"))),
    )
    .unwrap();
    let instead = Rollout::with(&prometheus.url(), "", WINDOW, "max_failed_evaluations = 2");
    let toml = std::fs::read_to_string(instead.path("shipgate.toml")).unwrap();
    std::fs::write(
        instead.path("shipgate.toml"),
        format!(
            "[limits]\nfuel = 20000000\n\n{}",
            toml.replace(CANARY_BLOCK, &stuck("loop"))
        ),
    )
    .unwrap();

    for (rollout, kind, limit) in [(&beside, "policy-error", 3), (&instead, "fuel", 2)] {
        let (code, events, stderr) = rollout
            .start(&["--plan", "10:2s,100:2s"])
            .finish_within(limit + 3);
        assert_eq!(code, 3, "{kind}: {events:#?}\n{stderr}");
        let intervals = of_kind(&events, "interval");
        assert_eq!(intervals.len(), limit, "{kind}: {intervals:#?}");
        for i in &intervals {
            assert_eq!(i["verdict"], "hold", "{i}");
            assert_eq!(i["failed"][0]["policy"], "stuck", "{i}");
            assert_eq!(i["failed"][0]["kind"], kind, "{i}");
            assert_eq!(i["failed"].as_array().unwrap().len(), 1, "{i}");
        }
        let reason = format!(
            "policy `stuck` failed ({kind}) in {limit} consecutive intervals, reaching \
             [watch] max_failed_evaluations = {limit}: the canary cannot be judged, roll back"
        );
        let end = of_kind(&events, "end")[0];
        assert_eq!(end["outcome"], "rolled-back", "{end}");
        assert_eq!(end["reason"], reason.as_str());
        assert_eq!(rollout.lines("traffic.log"), ["10"]);
        assert_eq!(rollout.lines("rollback.log"), [format!("10|{reason}")]);
        assert_every_interval_replays(rollout, &events);
    }
}
