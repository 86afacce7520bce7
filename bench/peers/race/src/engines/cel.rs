//! CEL, in both Rust interpreters: `cel-interpreter` (cel-rust before its
//! rename) and `cel` (cel-rust today, the crate the `rules` policy runs in
//! its component). The expression is compiled once; the variables are
//! converted to CEL values once per input.

use super::{Decide, Engine, verdict};
use crate::input::Input;

/// The rule in CEL: the strictest verdict first.
pub const EXPRESSION: &str = "\
(metrics.error_rate.canary > 0.02 || metrics.error_rate.canary > 2.0 * metrics.error_rate.baseline)
  ? 'rollback'
  : required.exists(n, !(n in present))
    ? 'no-go'
    : metrics.latency_p95.canary > 2.0 * metrics.latency_p95.baseline
      ? 'hold'
      : 'go'";

/// A CEL engine: the same code for both crates, whose APIs match.
macro_rules! cel_engine {
    ($(#[$doc:meta])* $name:ident, $krate:ident, $row:literal) => {
        $(#[$doc])*
        pub struct $name {
            program: $krate::Program,
        }

        impl $name {
            /// Compiles the expression.
            pub fn new() -> anyhow::Result<$name> {
                let program = $krate::Program::compile(EXPRESSION)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", $row))?;
                Ok($name { program })
            }
        }

        impl Engine for $name {
            fn name(&self) -> &'static str {
                $row
            }

            fn prepare<'a>(&'a self, input: &Input) -> anyhow::Result<Decide<'a>> {
                let document = input.document();
                let mut context = $krate::Context::default();
                for key in ["metrics", "required", "present"] {
                    let value = $krate::to_value(&document[key])
                        .map_err(|e| anyhow::anyhow!("{}: `{key}`: {e}", $row))?;
                    context.add_variable_from_value(key, value);
                }
                Ok(Box::new(move || {
                    match self.program.execute(&context) {
                        Ok($krate::Value::String(s)) => verdict(&s),
                        Ok(other) => anyhow::bail!("{}: answered {other:?}", $row),
                        Err(e) => anyhow::bail!("{}: {e}", $row),
                    }
                }))
            }
        }
    };
}

cel_engine!(
    /// `cel-interpreter`.
    CelInterpreter,
    cel_interpreter,
    "CEL (cel-interpreter)"
);
cel_engine!(
    /// `cel`, as the `rules` policy uses it, here natively.
    Cel,
    cel,
    "CEL (cel, natively)"
);
