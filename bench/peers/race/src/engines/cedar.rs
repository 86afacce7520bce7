//! Cedar (`cedar-policy`): one `permit` per verdict, each annotated with it;
//! the verdict is the strictest of the policies that are satisfied (the
//! response's reason), `go` when none is.
//!
//! Cedar has no floating point: every metric value is given in millionths,
//! as a `Long` (an error rate of 2% is `20000`).

use std::collections::HashMap;
use std::str::FromStr;

use cedar_policy::{Authorizer, Context, Entities, EntityUid, PolicyId, PolicySet, Request};
use shipgate_engine::model::Verdict;

use super::{Decide, Engine, verdict};
use crate::input::Input;

/// The rule in Cedar, values in millionths.
pub const POLICIES: &str = r#"
// Roll back: the canary's error rate is above 2%, or above 2x the baseline's.
@verdict("rollback")
permit (principal, action, resource)
when {
    context.metrics.error_rate.canary > 20000 ||
    context.metrics.error_rate.canary > 2 * context.metrics.error_rate.baseline
};

// Hold: the canary's p95 latency is above 2x the baseline's.
@verdict("hold")
permit (principal, action, resource)
when { context.metrics.latency_p95.canary > 2 * context.metrics.latency_p95.baseline };

// No-go: a required environment variable is absent from the target.
@verdict("no-go")
permit (principal, action, resource)
when { !context.present.containsAll(context.required) };
"#;

/// Cedar, with the policies parsed once.
pub struct Cedar {
    authorizer: Authorizer,
    policies: PolicySet,
    entities: Entities,
    verdicts: HashMap<PolicyId, Verdict>,
    principal: EntityUid,
    action: EntityUid,
    resource: EntityUid,
}

impl Cedar {
    /// Parses the policies.
    pub fn new() -> anyhow::Result<Cedar> {
        let policies = PolicySet::from_str(POLICIES)?;
        let verdicts = policies
            .policies()
            .map(|p| {
                let name = p
                    .annotation("verdict")
                    .ok_or_else(|| anyhow::anyhow!("policy `{}` has no @verdict", p.id()))?;
                Ok((p.id().clone(), verdict(name)?))
            })
            .collect::<anyhow::Result<_>>()?;
        let uid = |s: &str| EntityUid::from_str(s).map_err(anyhow::Error::from);
        Ok(Cedar {
            authorizer: Authorizer::new(),
            policies,
            entities: Entities::empty(),
            verdicts,
            principal: uid(r#"Deployer::"shipgate""#)?,
            action: uid(r#"Action::"promote""#)?,
            resource: uid(r#"Service::"checkout""#)?,
        })
    }
}

/// A value in millionths.
fn millionths(x: f64) -> serde_json::Value {
    serde_json::json!((x * 1e6).round() as i64)
}

impl Engine for Cedar {
    fn name(&self) -> &'static str {
        "Cedar (cedar-policy)"
    }

    fn prepare<'a>(&'a self, input: &Input) -> anyhow::Result<Decide<'a>> {
        let context = Context::from_json_value(input.document_with(millionths), None)?;
        let request = Request::new(
            self.principal.clone(),
            self.action.clone(),
            self.resource.clone(),
            context,
            None,
        )?;
        Ok(Box::new(move || {
            let response = self
                .authorizer
                .is_authorized(&request, &self.policies, &self.entities);
            if let Some(e) = response.diagnostics().errors().next() {
                anyhow::bail!("cedar: {e}");
            }
            Ok(response
                .diagnostics()
                .reason()
                .filter_map(|id| self.verdicts.get(id).copied())
                .max()
                .unwrap_or(Verdict::Go))
        }))
    }
}
