//! Planning: which queries to ask. The configured metrics in order
//! ([`plan`]), each one's PromQL for each track ([`expand_queries`]), and
//! the settings every query of one collection shares ([`Asking`]).

use shipgate_core::config::sources::prometheus::{
    PrometheusConfig, QUERY_PLACEHOLDERS, TRACK_PLACEHOLDERS, TRACKS, standard_metric, template,
};
use shipgate_model::Timestamp;

/// One metric to ask for.
#[derive(Debug, Clone)]
pub(super) struct Planned {
    pub(super) name: String,
    pub(super) unit: Option<String>,
    pub(super) query: String,
    pub(super) range: bool,
}

/// The metrics of `config`, in order: the standard ones (those in `series`
/// as range queries), then the custom. A name in `series` that `metrics`
/// leaves out (only a config built in code can have one) is not asked for.
pub(super) fn plan(config: &PrometheusConfig) -> Vec<Planned> {
    let standard = config.metrics.iter().filter_map(|name| {
        let metric = standard_metric(name)?;
        Some(Planned {
            name: metric.name.to_owned(),
            unit: Some(metric.unit.to_owned()),
            query: config
                .queries
                .get(metric.name)
                .cloned()
                .unwrap_or_else(|| metric.query.to_owned()),
            range: config.series.iter().any(|s| s == metric.name),
        })
    });
    let custom = config.custom.iter().map(|m| Planned {
        name: m.name.clone(),
        unit: m.unit.clone(),
        query: m.query.clone(),
        range: m.range,
    });
    standard.chain(custom).collect()
}

/// The value of `$service`.
pub(super) fn service(config: &PrometheusConfig) -> Result<String, String> {
    config
        .service
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            "`$service` is used, but `service` is not set in [sources.prometheus]".into()
        })
}

/// The settings every query of one collection shares.
#[derive(Debug, Clone, Copy)]
pub(super) struct Asking {
    pub(super) now: Timestamp,
    pub(super) window: std::time::Duration,
    pub(super) step: std::time::Duration,
    pub(super) stale_after: Option<std::time::Duration>,
}

/// Each planned metric's PromQL for each track (baseline, canary), or why
/// it cannot be written.
pub(super) fn expand_queries(
    config: &PrometheusConfig,
    planned: &[Planned],
) -> Vec<[Result<String, String>; 2]> {
    let window = template::promql_duration(config.window.0);
    let selectors = TRACKS.map(|track| {
        let matchers = if track == "baseline" {
            &config.baseline
        } else {
            &config.canary
        };
        template::expand(matchers, TRACK_PLACEHOLDERS, |name| match name {
            "track" => Ok(track.to_owned()),
            _ => service(config),
        })
    });
    planned
        .iter()
        .map(|metric| {
            [0, 1].map(|t| {
                let selector = selectors[t].clone()?;
                template::expand(&metric.query, QUERY_PLACEHOLDERS, |name| match name {
                    "selector" => Ok(selector.clone()),
                    "window" => Ok(window.clone()),
                    "track" => Ok(TRACKS[t].to_owned()),
                    _ => service(config),
                })
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use shipgate_core::config::Duration;
    use shipgate_core::config::sources::prometheus::is_standard;

    use super::*;

    fn config(toml_text: &str) -> Result<PrometheusConfig, String> {
        toml::from_str(toml_text).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults() {
        let c = config(r#"url = "http://prom:9090""#).unwrap();
        assert_eq!(
            c,
            PrometheusConfig {
                url: "http://prom:9090".into(),
                ..PrometheusConfig::default()
            }
        );
        assert_eq!(c.window, Duration::from_secs(300));
        assert_eq!(c.stale_after, Duration::from_secs(120));
        assert_eq!(c.query_timeout, Duration::from_secs(5));
        assert_eq!(c.range_step, Duration::from_secs(15));
        assert_eq!(c.metrics.len(), 7);
        assert!(c.series.is_empty());
        assert!(c.alerts);
        assert_eq!(c.alert_matchers, r#"service="$service""#);
        assert_eq!(c.canary, r#"service="$service", track="canary""#);
        let names: Vec<_> = plan(&c).into_iter().map(|p| p.name).collect();
        assert_eq!(names, shipgate_model::STANDARD_METRICS);
    }

    #[test]
    fn the_standard_set_has_what_the_canary_policy_reads() {
        let policy = shipgate_policy_canary::Config::default();
        let mut names = vec![
            policy.error_rate_metric,
            policy.cpu_metric,
            policy.memory_metric,
        ];
        names.extend(policy.latency_metrics);
        for name in names {
            assert!(is_standard(&name), "the canary policy reads `{name}`");
        }
    }

    #[test]
    fn config_mistakes_are_caught_when_read() {
        let err = |text: &str| config(&format!("url = \"http://p\"\n{text}")).unwrap_err();
        assert!(
            err("metrics = [\"error_rates\"]").contains("`error_rates` is not a standard metric")
        );
        assert!(err("metrics = [\"error_rate\", \"error_rate\"]").contains("listed twice"));
        assert!(
            err("[queries]\nerror_rate = \"x[$windw]\"")
                .contains("error_rate: unknown placeholder `$windw`")
        );
        assert!(err("[queries]\np95 = \"x\"").contains("`p95` is not a standard metric"));
        assert!(
            err("[[custom]]\nname = \"q\"\nquery = \"x{$selectr}\"")
                .contains("q: unknown placeholder `$selectr`")
        );
        assert!(
            err("[[custom]]\nname = \"error_rate\"\nquery = \"x\"")
                .contains("is a standard metric")
        );
        assert!(
            err("[[custom]]\nname = \"a\"\nquery = \"x\"\n[[custom]]\nname = \"a\"\nquery = \"y\"")
                .contains("defined twice")
        );
        assert!(err("canary = 'track=\"$selector\"'").contains("unknown placeholder `$selector`"));
        assert!(err("canary = ' '").contains("empty"));
        assert!(err("alert_matchers = 'x=\"$track\"'").contains("unknown placeholder `$track`"));
        assert!(err("window = \"0s\"").contains("longer than 0s"));
        assert!(err("window = \"five minutes\"").contains("invalid duration"));
        assert!(err("bogus = 1").contains("unknown field"));
        assert!(err("series = [\"error_rates\"]").contains(
            "`error_rates` is not a standard metric; they are error_rate, latency_p50, \
                 latency_p95, latency_p99, request_rate, cpu_usage, memory_usage, http_5xx_rate, \
                 restarts, up (a custom \
                 metric is read as a series with `range = true`)"
        ));
        assert!(err("series = [\"error_rate\", \"error_rate\"]").contains("listed twice"));
        assert!(
            err("metrics = [\"error_rate\"]\nseries = [\"error_rate\", \"latency_p95\"]").contains(
                "`series` names `latency_p95`, which `metrics` leaves out; add it to \
                     `metrics` or take it out of `series`"
            )
        );
        assert!(
            config("service = \"x\"")
                .unwrap_err()
                .contains("missing field `url`")
        );
    }

    #[test]
    fn the_standard_queries_for_each_track() {
        let c = config(
            "url = \"http://p\"\nservice = \"checkout\"\nwindow = \"4s\"\n\
             [[custom]]\nname = \"c\"\nquery = 'x{service=\"${service}\", t=\"$track\"}'",
        )
        .unwrap();
        let planned = plan(&c);
        let queries = expand_queries(&c, &planned);
        let [baseline, canary] = &queries[0];
        assert_eq!(
            baseline.as_deref(),
            Ok(
                r#"sum(rate(http_requests_total{service="checkout", track="baseline", code=~"5.."}[4s])) / sum(rate(http_requests_total{service="checkout", track="baseline"}[4s]))"#
            )
        );
        assert_eq!(
            canary.as_deref(),
            Ok(
                r#"sum(rate(http_requests_total{service="checkout", track="canary", code=~"5.."}[4s])) / sum(rate(http_requests_total{service="checkout", track="canary"}[4s]))"#
            )
        );
        assert_eq!(
            queries[2][1].as_deref(),
            Ok(
                r#"histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{service="checkout", track="canary"}[4s])))"#
            )
        );
        assert_eq!(
            queries[7][1].as_deref(),
            Ok(r#"x{service="checkout", t="canary"}"#)
        );
        // An override replaces the standard template.
        let c = config(
            "url = \"http://p\"\nservice = \"s\"\nmetrics = [\"request_rate\"]\n\
             canary = 'app=\"$service\", version=\"v2\"'\n\
             [queries]\nrequest_rate = 'sum(rate(grpc_total{$selector}[$window]))'",
        )
        .unwrap();
        let queries = expand_queries(&c, &plan(&c));
        assert_eq!(
            queries[0][1].as_deref(),
            Ok(r#"sum(rate(grpc_total{app="s", version="v2"}[5m]))"#)
        );
    }
}
