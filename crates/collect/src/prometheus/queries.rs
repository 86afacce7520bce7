//! Queries: asking for one metric of one track ([`measure`]) and reading
//! the answers: an instant query's as one number ([`instant_value`]), a
//! `timestamp()` query's as the newest sample time ([`newest_time`]), a
//! range query's as samples ([`samples`]).

use shipgate_model::{Measurement, StaleValue, Timestamp};

use super::api::{self, Answer, Api};
use super::planning::Asking;

/// One metric of one track.
pub(super) async fn measure(api: &Api, query: &str, range: bool, asking: Asking) -> Measurement {
    if range {
        let start = Timestamp(asking.now.0.saturating_sub(millis(asking.window)));
        let answer = api.range(query, start, asking.now, asking.step).await;
        return answer.and_then(samples).unwrap_or_else(Measurement::Error);
    }
    let (value, stamp) = match asking.stale_after {
        None => (api.instant(query, asking.now).await, None),
        Some(_) => {
            // On lines of their own: a template may end in a `#` comment.
            let stamp_query = format!("timestamp(\n{query}\n)");
            let (value, stamp) = tokio::join!(
                api.instant(query, asking.now),
                api.instant(&stamp_query, asking.now)
            );
            (value, Some(stamp))
        }
    };
    let value = match value.and_then(instant_value) {
        Ok(Reading::Nothing) => return Measurement::NoData,
        Ok(Reading::Scalar(v)) => return Measurement::Value(v),
        Ok(Reading::Number(v)) => v,
        Err(reason) => return Measurement::Error(reason),
    };
    let (Some(bound), Some(stamp)) = (asking.stale_after, stamp) else {
        return Measurement::Value(value);
    };
    match stamp.and_then(newest_time) {
        Err(reason) => Measurement::Error(reason),
        Ok(Some(sampled)) => {
            let age = asking.now.0 as f64 / 1000.0 - sampled;
            if age > bound.as_secs_f64() {
                Measurement::Stale(StaleValue {
                    value,
                    age_seconds: age.round().clamp(0.0, f64::from(u32::MAX)) as u32,
                })
            } else {
                Measurement::Value(value)
            }
        }
        // The series went out of reach between the two queries.
        Ok(None) => Measurement::Value(value),
    }
}

/// Milliseconds of `d`, saturating.
fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// An instant query's reading.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Reading {
    /// One series, a finite value.
    Number(f64),
    /// A finite scalar (it has no sample time).
    Scalar(f64),
    /// Nothing usable: no series, or NaN / ±Inf.
    Nothing,
}

/// Reads an instant query's answer as one number.
fn instant_value(answer: Answer) -> Result<Reading, String> {
    match answer {
        Answer::Vector(samples) => match samples.as_slice() {
            [] => Ok(Reading::Nothing),
            [one] if one.value.is_finite() => Ok(Reading::Number(one.value)),
            [_] => Ok(Reading::Nothing),
            many => Err(series_error(many.len())),
        },
        Answer::Scalar(v) if v.is_finite() => Ok(Reading::Scalar(v)),
        Answer::Scalar(_) => Ok(Reading::Nothing),
        Answer::Matrix(_) => Err(
            "returned a range vector; a metric needs an instant vector (or set range = true)"
                .into(),
        ),
        Answer::String => Err("returned a string, not a number".into()),
    }
}

/// The error for a query that answered `n` series.
fn series_error(n: usize) -> String {
    // No `;` in a reason: the gap joins the problems with "; ".
    format!("returned {n} series (aggregate the query to one, e.g. with sum())")
}

/// The newest sample time (seconds) in the answer of `timestamp(...)`.
fn newest_time(answer: Answer) -> Result<Option<f64>, String> {
    match answer {
        Answer::Vector(samples) => Ok(samples
            .iter()
            .map(|s| s.value)
            .filter(|v| v.is_finite())
            .reduce(f64::max)),
        _ => Ok(None),
    }
}

/// Reads a range query's answer as samples.
fn samples(answer: Answer) -> Result<Measurement, String> {
    match answer {
        Answer::Matrix(series) => match series.as_slice() {
            [] => Ok(Measurement::NoData),
            [one] => {
                let values: Vec<f64> = one
                    .values
                    .iter()
                    .copied()
                    .filter(|v| v.is_finite())
                    .collect();
                Ok(if values.is_empty() {
                    Measurement::NoData
                } else {
                    Measurement::Samples(values)
                })
            }
            many => Err(series_error(many.len())),
        },
        _ => Err("a range query did not answer a range vector".into()),
    }
}

/// For the fuzz targets: a query answer with HTTP status `status` and
/// body `body`, parsed and read as an instant value, a freshness answer and
/// a range answer, as [`collect`](super::collect) reads them; as debug text.
#[doc(hidden)]
pub fn read_answer(status: u16, body: &[u8]) -> Result<String, String> {
    let status = reqwest::StatusCode::from_u16(status).map_err(|e| e.to_string())?;
    let answer = api::parse(status, body)?;
    Ok(format!(
        "{:?} {:?} {:?}",
        instant_value(answer.clone()),
        newest_time(answer.clone()),
        samples(answer)
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::api::{Sample, Series};
    use super::*;

    fn vector(values: &[f64]) -> Answer {
        Answer::Vector(
            values
                .iter()
                .map(|&value| Sample {
                    labels: BTreeMap::new(),
                    value,
                })
                .collect(),
        )
    }

    #[test]
    fn instant_answers() {
        assert_eq!(instant_value(vector(&[0.25])), Ok(Reading::Number(0.25)));
        assert_eq!(instant_value(vector(&[])), Ok(Reading::Nothing));
        assert_eq!(instant_value(vector(&[f64::NAN])), Ok(Reading::Nothing));
        assert_eq!(
            instant_value(vector(&[f64::INFINITY])),
            Ok(Reading::Nothing)
        );
        assert_eq!(
            instant_value(vector(&[1.0, 2.0, 3.0])),
            Err("returned 3 series (aggregate the query to one, e.g. with sum())".into())
        );
        assert_eq!(instant_value(Answer::Scalar(2.0)), Ok(Reading::Scalar(2.0)));
        assert!(instant_value(Answer::Matrix(vec![])).is_err());
        assert!(instant_value(Answer::String).is_err());
        assert_eq!(newest_time(vector(&[5.0, 7.0, f64::NAN])), Ok(Some(7.0)));
        assert_eq!(newest_time(vector(&[])), Ok(None));
    }

    #[test]
    fn range_answers() {
        let series = |values: &[f64]| Series {
            values: values.to_vec(),
        };
        assert_eq!(
            samples(Answer::Matrix(vec![series(&[1.0, f64::NAN, 2.0])])),
            Ok(Measurement::Samples(vec![1.0, 2.0]))
        );
        assert_eq!(
            samples(Answer::Matrix(vec![series(&[f64::NAN])])),
            Ok(Measurement::NoData)
        );
        assert_eq!(samples(Answer::Matrix(vec![])), Ok(Measurement::NoData));
        assert!(samples(Answer::Matrix(vec![series(&[1.0]), series(&[2.0])])).is_err());
        assert!(samples(vector(&[1.0])).is_err());
    }
}
