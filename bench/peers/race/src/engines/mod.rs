//! The contenders. Each turns an [`Input`] into its own native value before
//! anything is timed (a Cedar request, a CEL context, a Rego value, a
//! converted snapshot) and returns a closure that decides it: only the
//! closure is timed.

mod cedar;
mod cel;
mod native;
mod rego;
mod shipgate;

use shipgate_engine::model::Verdict;

use crate::input::Input;

/// One prepared input's decision, repeated by the timing loop.
pub type Decide<'a> = Box<dyn FnMut() -> anyhow::Result<Verdict> + 'a>;

/// A contender in the race: the rule compiled or loaded once.
pub trait Engine {
    /// Its row in the table.
    fn name(&self) -> &'static str;

    /// Converts `input` to the engine's native value (not timed) and returns
    /// the decision the timing loop repeats.
    fn prepare<'a>(&'a self, input: &Input) -> anyhow::Result<Decide<'a>>;
}

/// Every contender, in the table's order, each with its rule compiled or
/// loaded.
pub fn all() -> anyhow::Result<Vec<Box<dyn Engine>>> {
    let shipgate = shipgate::Shipgate::new()?;
    Ok(vec![
        Box::new(native::Native),
        Box::new(shipgate.native()),
        Box::new(cedar::Cedar::new()?),
        Box::new(cel::CelInterpreter::new()?),
        Box::new(cel::Cel::new()?),
        Box::new(rego::Interpreter::new()?),
        Box::new(rego::Vm::new()?),
        Box::new(shipgate.component()?),
        Box::new(shipgate.rules()?),
    ])
}

/// The verdict named `name` (`go`, `hold`, `no-go`, `rollback`).
fn verdict(name: &str) -> anyhow::Result<Verdict> {
    name.parse()
        .map_err(|e| anyhow::anyhow!("the engine answered `{name}`: {e}"))
}
