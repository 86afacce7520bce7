//! Rego, in regorus: its tree-walking interpreter (a policy compiled once,
//! an engine made from it per evaluation, as `CompiledPolicy` does) and its
//! bytecode VM (the program compiled once, one VM reused: `set_input` +
//! `execute`).

use std::sync::Arc;

use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::program::Program;
use regorus::rvm::vm::RegoVM;
use regorus::{CompiledPolicy, Engine as Rego, Rc, Value};

use super::{Decide, Engine, verdict};
use crate::input::Input;

/// The rule in Rego.
pub const POLICY: &str = r#"
package race

import rego.v1

# Roll back: the canary's error rate is above 2%, or above 2x the baseline's.
rollback if input.metrics.error_rate.canary > 0.02

rollback if input.metrics.error_rate.canary > 2 * input.metrics.error_rate.baseline

# No-go: a required environment variable is absent from the target.
no_go if {
	some name in input.required
	not name in input.present
}

# Hold: the canary's p95 latency is above 2x the baseline's.
hold if input.metrics.latency_p95.canary > 2 * input.metrics.latency_p95.baseline

# The strictest verdict wins.
default verdict := "go"

verdict := "rollback" if {
	rollback
} else := "no-go" if {
	no_go
} else := "hold" if {
	hold
}
"#;

/// The rule the engines evaluate.
const ENTRY_POINT: &str = "data.race.verdict";

fn compile() -> anyhow::Result<CompiledPolicy> {
    let mut engine = Rego::new();
    engine.add_policy("race.rego".to_owned(), POLICY.to_owned())?;
    engine.compile_with_entrypoint(&Rc::from(ENTRY_POINT))
}

/// The regorus value of an input.
fn value(input: &Input) -> anyhow::Result<Value> {
    Value::from_json_str(&input.document().to_string())
}

/// The verdict in a rule's value.
fn answer(value: &Value) -> anyhow::Result<shipgate_engine::model::Verdict> {
    match value {
        Value::String(s) => verdict(s),
        other => anyhow::bail!("rego answered {other}"),
    }
}

/// regorus' interpreter.
pub struct Interpreter {
    policy: CompiledPolicy,
}

impl Interpreter {
    /// Compiles the policy.
    pub fn new() -> anyhow::Result<Interpreter> {
        Ok(Interpreter { policy: compile()? })
    }
}

impl Engine for Interpreter {
    fn name(&self) -> &'static str {
        "Rego (regorus interpreter)"
    }

    fn prepare<'a>(&'a self, input: &Input) -> anyhow::Result<Decide<'a>> {
        let input = value(input)?;
        Ok(Box::new(move || {
            answer(&self.policy.eval_with_input(input.clone())?)
        }))
    }
}

/// regorus' bytecode VM.
pub struct Vm {
    program: Arc<Program>,
}

impl Vm {
    /// Compiles the policy to the VM's program.
    pub fn new() -> anyhow::Result<Vm> {
        let program = Compiler::compile_from_policy(&compile()?, &[ENTRY_POINT])?;
        Ok(Vm { program })
    }
}

impl Engine for Vm {
    fn name(&self) -> &'static str {
        "Rego (regorus bytecode VM)"
    }

    fn prepare<'a>(&'a self, input: &Input) -> anyhow::Result<Decide<'a>> {
        let input = value(input)?;
        let mut vm = RegoVM::new();
        vm.load_program(self.program.clone());
        Ok(Box::new(move || {
            vm.set_input(input.clone());
            answer(&vm.execute()?)
        }))
    }
}
