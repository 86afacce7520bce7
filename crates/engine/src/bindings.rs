//! The component-model bindings of `wit/policy.wit` and the conversions
//! between them and the model types. Private: no generated type leaks into
//! the public API.
//!
//! The conversions come from the model's one table of the contract's records
//! and enums ([`shipgate_model::contract`]), which the guest SDK expands too.

use shipgate_model as model;

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "policy",
});

pub(crate) use exports::shipgate::policy::api;
pub(crate) use shipgate_model::contract::Conv;

shipgate_model::impl_conversions!(api);

/// The evaluation input of the contract.
pub(crate) fn evaluation(stage: model::Stage, snapshot: model::Snapshot) -> api::Evaluation {
    api::Evaluation {
        stage: stage.conv(),
        snapshot: snapshot.conv(),
    }
}
