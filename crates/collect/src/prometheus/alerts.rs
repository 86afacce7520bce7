//! Alerts: the firing ones, read from Prometheus's own `ALERTS` series, with
//! their active-since time from `ALERTS_FOR_STATE`.

use std::collections::BTreeMap;

use shipgate_model::{Alert, Timestamp};

use super::api::{Answer, Api};

/// The firing alerts that match `matchers`, with their active-since time.
pub(super) async fn firing_alerts(
    api: &Api,
    matchers: &str,
    now: Timestamp,
) -> Result<Vec<Alert>, String> {
    let matchers = matchers.trim().trim_end_matches(',');
    let (firing, state) = if matchers.is_empty() {
        (
            r#"ALERTS{alertstate="firing"}"#.to_owned(),
            "ALERTS_FOR_STATE".to_owned(),
        )
    } else {
        (
            format!(r#"ALERTS{{alertstate="firing", {matchers}}}"#),
            format!("ALERTS_FOR_STATE{{{matchers}}}"),
        )
    };
    let (firing, state) = tokio::join!(api.instant(&firing, now), api.instant(&state, now));
    let Answer::Vector(firing) = firing? else {
        return Err("the ALERTS query did not answer an instant vector".into());
    };
    // Active-since times by the alert's labels (alertname included).
    let since: Vec<(BTreeMap<String, String>, f64)> = match state {
        Ok(Answer::Vector(samples)) => samples
            .into_iter()
            .map(|mut s| {
                s.labels.remove("__name__");
                (s.labels, s.value)
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut alerts: Vec<Alert> = firing
        .into_iter()
        .map(|sample| {
            let mut labels = sample.labels;
            labels.remove("__name__");
            labels.remove("alertstate");
            let since = since
                .iter()
                .find(|(l, _)| *l == labels)
                .map(|(_, at)| *at)
                .filter(|at| at.is_finite() && *at > 0.0)
                .map(|at| Timestamp((at * 1000.0).round() as i64));
            let name = labels.remove("alertname").unwrap_or_default();
            Alert {
                name,
                severity: labels.get("severity").cloned(),
                since,
                labels,
            }
        })
        .collect();
    alerts.sort_by(|a, b| (&a.name, &a.labels).cmp(&(&b.name, &b.labels)));
    Ok(alerts)
}
