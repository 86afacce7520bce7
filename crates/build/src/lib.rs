//! Builds Shipgate policy crates into WebAssembly components.
//!
//! A policy crate is compiled for `wasm32-unknown-unknown` (a std guest built
//! for `wasm32-wasip2` would import thirteen WASI interfaces even when it does
//! no I/O), and the core module is turned into a component with
//! `wit-component`, using the component-type metadata that `wit-bindgen`
//! embedded in it. The result imports nothing.
//!
//! Used by the host's and the tests' build scripts (a nested `cargo build`
//! into a target directory of its own, so it never waits on the outer build's
//! lock) and by `shipgate build`.
//!
//! ```
//! use shipgate_build::{WasmKind, wasm_kind};
//!
//! // The preamble of an empty core module, then of an empty component.
//! assert_eq!(wasm_kind(b"\0asm\x01\0\0\0").unwrap(), WasmKind::Module);
//! assert_eq!(wasm_kind(b"\0asm\x0d\0\x01\0").unwrap(), WasmKind::Component);
//! assert!(wasm_kind(b"not wasm").is_err());
//! ```
#![deny(missing_docs)]

mod cargo;
mod wasm;

pub use cargo::{
    BuiltGuest, GuestBuild, build_for_build_script, guest_target_dir, workspace_root_of,
};
pub use wasm::{WasmKind, component_exports, component_imports, componentize, wasm_kind};

/// The target policies are compiled for.
pub const GUEST_TARGET: &str = "wasm32-unknown-unknown";

/// The cargo profile guests are built with (see the workspace `Cargo.toml`).
pub const GUEST_PROFILE: &str = "guest";

/// Why a guest could not be built or componentized.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// `cargo` could not be started.
    #[error("could not run `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// `cargo build` failed.
    #[error("`{command}` failed ({status}){hint}")]
    Cargo {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// A hint about the likely cause, with a leading newline, or empty.
        hint: String,
    },
    /// The build finished but the expected `.wasm` is not there.
    #[error("expected `{0}` after the build, but it is missing (is the crate a `cdylib`?)")]
    MissingOutput(std::path::PathBuf),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The bytes are not a WebAssembly core module or component.
    #[error("not a WebAssembly module or component")]
    NotWasm,
    /// `wit-component` refused the module.
    #[error("could not turn the core module into a component: {0}")]
    Componentize(String),
    /// The component could not be parsed.
    #[error("invalid component: {0}")]
    Parse(String),
}
