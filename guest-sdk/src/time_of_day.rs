//! The local weekday and hour of a deploy, without a clock.

use time::Weekday;

use crate::Deployment;

/// When a deploy was requested, in the organisation's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    /// The local weekday.
    pub weekday: Weekday,
    /// The local hour, 0–23.
    pub hour: u8,
    /// The local minute, 0–59.
    pub minute: u8,
}

/// The local time of the deploy request: `requested_at` shifted by the
/// organisation's `utc_offset_minutes`. `None` if the offset is out of range.
pub fn local_time(deployment: &Deployment) -> Option<LocalTime> {
    let t = deployment
        .requested_at
        .at_offset(deployment.utc_offset_minutes)?;
    Some(LocalTime {
        weekday: t.weekday(),
        hour: t.hour(),
        minute: t.minute(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DeployKind, Timestamp};

    #[test]
    fn friday_evening_in_utc_is_saturday_in_tokyo() {
        let at: Timestamp = "2026-11-20T16:30:00Z".parse().unwrap();
        let mut d = Deployment {
            service: "s".into(),
            environment: "production".into(),
            version: "1".into(),
            commit: "c".into(),
            base_commit: None,
            pull_request: None,
            kind: DeployKind::Regular,
            severity: None,
            requested_at: at,
            utc_offset_minutes: 0,
            actor: None,
        };
        assert_eq!(local_time(&d).unwrap().weekday, Weekday::Friday);
        d.utc_offset_minutes = 9 * 60;
        let t = local_time(&d).unwrap();
        assert_eq!((t.weekday, t.hour, t.minute), (Weekday::Saturday, 1, 30));
    }
}
