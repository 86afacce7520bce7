//! Checks across tables of a loaded configuration that no single table can
//! make, run once the policies are loaded.
//!
//! **Metrics the source was never configured to collect.** When
//! `[sources.prometheus]` is configured, every metric an enforced policy
//! needs must be one the source collects (`metrics`, or a
//! `[[sources.prometheus.custom]]` name). Otherwise every canary interval
//! would find it missing and hold, and a profile that rolls back after a
//! few intervals without data would roll back a healthy canary: that is a
//! configuration mistake, so it is an error at load, naming the file, the
//! key and the policy.
//!
//! Which metrics a policy needs is asked of the policy itself, not
//! hard-coded here: each enforced policy answering the `canary` or the
//! `verify` stage is
//! evaluated once on a probe snapshot that holds exactly the metrics the
//! source collects, each with the same small value on both sides and
//! nothing else missing. A finding above `go` that names a metric
//! (`Finding::metric`) the probe does not hold is a metric the policy needs
//! and the source cannot give. (The built-ins `canary` and `verify` name the
//! metric in their data-missing findings; a policy that does not name it is
//! not checked.)

use std::collections::BTreeSet;

use shipgate_model::{Measurement, Metric, Snapshot, Stage, Verdict};

use super::PolicySet;
use crate::config::{Config, ConfigError};

/// The value every probe metric has on both sides: a healthy canary (no
/// ratio above 1, no ceiling reached, a latency baseline above 0).
const PROBE_VALUE: f64 = 0.01;

/// Refuses a configuration whose enforced policies need a metric that
/// `[sources.prometheus]` does not collect. Without a `prometheus` source
/// (metrics come from a snapshot file) there is nothing to check.
pub fn check(config: &Config, policies: &PolicySet) -> Result<(), ConfigError> {
    let Some(prometheus) = &config.sources.prometheus else {
        return Ok(());
    };
    let collected: BTreeSet<&str> = prometheus
        .metrics
        .iter()
        .map(String::as_str)
        .chain(prometheus.custom.iter().map(|c| c.name.as_str()))
        .collect();
    let Some(probe) = probe(&collected) else {
        return Ok(());
    };
    // Only the stages an enforced policy answers: asking another would
    // only warn that nobody decides it.
    let reports: Vec<_> = [Stage::Canary, Stage::Verify]
        .into_iter()
        .filter(|stage| policies.decides(*stage))
        .map(|stage| policies.evaluate(stage, &probe))
        .collect();
    let mut needed: Vec<(&str, &str)> = Vec::new();
    for reported in reports
        .iter()
        .flat_map(|r| &r.findings)
        .filter(|f| !f.advisory)
    {
        let finding = &reported.finding;
        let Some(metric) = finding.metric.as_deref() else {
            continue;
        };
        if finding.verdict > Verdict::Go
            && !collected.contains(metric)
            && !needed.contains(&(reported.policy.as_str(), metric))
        {
            needed.push((reported.policy.as_str(), metric));
        }
    }
    let Some((policy, _)) = needed.first() else {
        return Ok(());
    };
    let metrics: Vec<String> = needed.iter().map(|(_, m)| format!("`{m}`")).collect();
    let policies: BTreeSet<String> = needed.iter().map(|(p, _)| format!("`{p}`")).collect();
    let (noun, pronoun) = if metrics.len() == 1 {
        ("metric", "it")
    } else {
        ("metrics", "them")
    };
    let message = format!(
        "enforced policy {} needs the {noun} {}, which the prometheus source is not configured \
         to collect",
        policies.into_iter().collect::<Vec<_>>().join(", "),
        metrics.join(", ")
    );
    let mut err = config.key_error("sources.prometheus.metrics", &message);
    err.help = Some(format!(
        "collect {pronoun} (add {pronoun} to `metrics`, or define {pronoun} under \
         [[sources.prometheus.custom]]), or configure policy `{policy}` not to require {pronoun}"
    ));
    Err(err)
}

/// A canary snapshot holding exactly `metrics`, all healthy, nothing else
/// missing.
fn probe(metrics: &BTreeSet<&str>) -> Option<Snapshot> {
    let mut snapshot: Snapshot = serde_json::from_value(serde_json::json!({
        "deployment": {
            "service": "preflight",
            "environment": "production",
            "version": "0.0.0",
            "commit": "0000000",
            "requested_at": "2026-01-06T10:00:00Z",
        },
    }))
    .ok()?;
    snapshot.metrics = metrics
        .iter()
        .map(|name| Metric {
            name: (*name).to_owned(),
            unit: None,
            baseline: Measurement::Value(PROBE_VALUE),
            canary: Measurement::Value(PROBE_VALUE),
        })
        .collect();
    Some(snapshot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_holds_exactly_the_collected_metrics_with_data() {
        let names = BTreeSet::from(["error_rate", "queue_depth"]);
        let probe = probe(&names).unwrap();
        let got: Vec<&str> = probe.metrics.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(got, ["error_rate", "queue_depth"]);
        assert!(
            probe
                .metrics
                .iter()
                .all(|m| m.baseline.value().is_some() && m.canary.value().is_some())
        );
        assert!(probe.gaps.is_empty() && probe.alerts.is_empty());
    }
}
