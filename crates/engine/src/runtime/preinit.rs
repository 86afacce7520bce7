//! Pre-initialisation with wasmtime-wizer: a policy's `configure` runs once
//! in an instrumented instance, and the instance's memories and globals
//! become the initial state of a new component.
//!
//! Only wizer's instrumentation and snapshot halves are used; the
//! instrumented component runs here, in a sandbox with the evaluation
//! budget, through the same empty linker as every policy. Wizer's
//! restrictions (one instance per core module, no table mutation, no start
//! function, ...) are checked when it instruments the component: a
//! component outside them is an error, and its policy keeps being
//! configured in every evaluation's instance.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use sha2::{Digest, Sha256};
use wasmtime::Store;
use wasmtime::component::{Instance, WasmList};
use wasmtime_wizer::{ComponentInstanceState, Wizer};

use super::Runtime;
use super::sandbox::{State, new_store};
use crate::bindings::Policy;

/// Why a policy could not be pre-initialised (it is still evaluated, with
/// `configure` in every instance).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreinitError {
    /// Wizer cannot snapshot this component (its restrictions).
    #[error("the component cannot be snapshotted: {0}")]
    Unsupported(String),
    /// The instrumented instance failed: its `configure` trapped or refused
    /// the configuration, or reading its state failed.
    #[error("pre-initialising failed: {0}")]
    Run(String),
    /// The instrumented component or the snapshot did not compile.
    #[error("cannot compile the pre-initialised component: {0}")]
    Compile(String),
}

/// The component `bytes` with its state after `configure(config_json)`.
pub(crate) fn snapshot(
    runtime: &Runtime,
    bytes: &[u8],
    config_json: &str,
) -> Result<Vec<u8>, PreinitError> {
    let wizer = Wizer::new();
    let (cx, instrumented) = wizer
        .instrument_component(bytes)
        .map_err(|e| PreinitError::Unsupported(format!("{e:#}")))?;
    let sha256 = hex::encode(Sha256::digest(&instrumented));
    let component = runtime
        .compile(
            &sha256,
            &instrumented,
            Some("(instrumented for pre-initialisation)"),
        )
        .map_err(|e| PreinitError::Compile(e.to_string()))?;
    let run = |e: wasmtime::Error| PreinitError::Run(format!("{e:#}"));
    let mut store =
        new_store(&runtime.engine, runtime.budget).map_err(|f| PreinitError::Run(f.message))?;
    // Reading a memory copies all of it out: allow up to the memory cap.
    store.set_hostcall_fuel(runtime.budget.max_memory.saturating_mul(2));
    let instance = runtime
        .linker
        .instantiate(&mut store, &component)
        .map_err(run)?;
    let policy = Policy::new(&mut store, &instance).map_err(run)?;
    match policy
        .shipgate_policy_api()
        .call_configure(&mut store, config_json)
        .map_err(run)?
    {
        Ok(()) => {}
        Err(e) => {
            return Err(PreinitError::Run(format!(
                "`configure` refused the configuration: {}: {}",
                e.key, e.message
            )));
        }
    }
    let mut state = Access {
        store: &mut store,
        instance,
        failed: None,
    };
    let snapshot = ready(wizer.snapshot_component(&cx, &mut state))
        .ok_or_else(|| PreinitError::Run("the snapshot did not complete".into()))?;
    if let Some(why) = state.failed {
        return Err(PreinitError::Run(why));
    }
    snapshot.map_err(|e| PreinitError::Run(format!("{e:#}")))
}

/// Polls a future that never waits (every call it makes is synchronous)
/// to its end; `None` if it would wait.
fn ready<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

/// Wizer's view of the instrumented instance: the accessor functions its
/// instrumentation exported, called synchronously. The first failure is
/// kept (the trait returns plain values) and fails the snapshot.
struct Access<'a> {
    store: &'a mut Store<State>,
    instance: Instance,
    failed: Option<String>,
}

impl Access<'_> {
    fn call<R, O>(
        &mut self,
        instance: &str,
        func: &str,
        use_ret: impl FnOnce(&Store<State>, R) -> O,
    ) -> Option<O>
    where
        R: wasmtime::component::Lift + Send + Sync + 'static,
    {
        let result = (|| {
            let (_, outer) = self
                .instance
                .get_export(&mut *self.store, None, instance)
                .ok_or_else(|| format!("no export `{instance}`"))?;
            let (_, index) = self
                .instance
                .get_export(&mut *self.store, Some(&outer), func)
                .ok_or_else(|| format!("no export `{instance}#{func}`"))?;
            let typed = self
                .instance
                .get_typed_func::<(), (R,)>(&mut *self.store, index)
                .map_err(|e| format!("`{instance}#{func}`: {e:#}"))?;
            let (ret,) = typed
                .call(&mut *self.store, ())
                .map_err(|e| format!("`{instance}#{func}`: {e:#}"))?;
            Ok::<_, String>(use_ret(&*self.store, ret))
        })();
        match result {
            Ok(v) => Some(v),
            Err(why) => {
                self.failed.get_or_insert(why);
                None
            }
        }
    }
}

impl ComponentInstanceState for Access<'_> {
    async fn call_func_ret_list_u8(
        &mut self,
        instance: &str,
        func: &str,
        contents: impl FnOnce(&[u8]) + Send,
    ) {
        // On failure `contents` is never called: the failure is kept and
        // the snapshot thrown away.
        let _ = self.call(instance, func, |store, list: WasmList<u8>| {
            contents(list.as_le_slice(store));
        });
    }

    async fn call_func_ret_s32(&mut self, instance: &str, func: &str) -> i32 {
        self.call(instance, func, |_, r: i32| r).unwrap_or_default()
    }

    async fn call_func_ret_s64(&mut self, instance: &str, func: &str) -> i64 {
        self.call(instance, func, |_, r: i64| r).unwrap_or_default()
    }

    async fn call_func_ret_f32(&mut self, instance: &str, func: &str) -> u32 {
        self.call(instance, func, |_, r: f32| r.to_bits())
            .unwrap_or_default()
    }

    async fn call_func_ret_f64(&mut self, instance: &str, func: &str) -> u64 {
        self.call(instance, func, |_, r: f64| r.to_bits())
            .unwrap_or_default()
    }
}
