//! Checks shared by policies' `check_config`: each refuses a value with a
//! [`ConfigError`] naming the key, in the same words in every policy.

use crate::ConfigError;

/// An optional rate must be a fraction in `[0, 1]` (`0.02` = 2%).
///
/// ```
/// use shipgate_sdk::checks;
/// assert!(checks::rate("max_error_rate", Some(0.02)).is_ok());
/// assert!(checks::rate("max_error_rate", None).is_ok());
/// let e = checks::rate("max_error_rate", Some(2.0)).unwrap_err();
/// assert_eq!(e.to_string(), "key `max_error_rate`: must be a rate in [0, 1], got 2");
/// ```
pub fn rate(key: &str, rate: Option<f64>) -> Result<(), ConfigError> {
    match rate {
        Some(r) if !(0.0..=1.0).contains(&r) => Err(ConfigError::new(
            key,
            format!("must be a rate in [0, 1], got {r}"),
        )),
        _ => Ok(()),
    }
}

/// A metric's name must not be blank.
///
/// ```
/// use shipgate_sdk::checks;
/// assert!(checks::metric_name("error_rate_metric", "error_rate").is_ok());
/// let e = checks::metric_name("error_rate_metric", " ").unwrap_err();
/// assert_eq!(e.to_string(), "key `error_rate_metric`: must be a metric name, got \"\"");
/// ```
pub fn metric_name(key: &str, name: &str) -> Result<(), ConfigError> {
    if name.trim().is_empty() {
        return Err(ConfigError::new(key, "must be a metric name, got \"\""));
    }
    Ok(())
}
