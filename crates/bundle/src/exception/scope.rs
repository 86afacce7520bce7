//! Whether an exception's scope (service, environment) is a deployment's:
//! the one check, in `shipgate-core` (the engine applies it too).

pub use shipgate_core::config::waivers::{OutOfScope, scope_check as check};
