//! Telling modules from components, componentizing, and listing imports.

use wasmparser::{Parser, Payload};

use crate::BuildError;

/// What a `.wasm` file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WasmKind {
    /// A core WebAssembly module.
    Module,
    /// A component.
    Component,
}

/// Whether the bytes are a core module or a component.
pub fn wasm_kind(bytes: &[u8]) -> Result<WasmKind, BuildError> {
    if Parser::is_component(bytes) {
        Ok(WasmKind::Component)
    } else if Parser::is_core_wasm(bytes) {
        Ok(WasmKind::Module)
    } else {
        Err(BuildError::NotWasm)
    }
}

/// Turns a core module built with the SDK (it carries `wit-bindgen`'s
/// component-type section) into a component.
pub fn componentize(core: &[u8]) -> Result<Vec<u8>, BuildError> {
    let mut encoder = wit_component::ComponentEncoder::default();
    encoder
        .module(core)
        .map_err(|e| BuildError::Componentize(format!("{e:#}")))?;
    encoder
        .validate(true)
        .encode()
        .map_err(|e| BuildError::Componentize(format!("{e:#}")))
}

/// The names of a component's top-level imports (e.g.
/// `wasi:cli/environment@0.2.0`). A Shipgate policy has none.
pub fn component_imports(component: &[u8]) -> Result<Vec<String>, BuildError> {
    top_level_names(component, Side::Imports)
}

/// The names of a component's top-level exports (a policy exports
/// `shipgate:policy/api@0.2.0`).
pub fn component_exports(component: &[u8]) -> Result<Vec<String>, BuildError> {
    top_level_names(component, Side::Exports)
}

/// Which names of a component [`top_level_names`] lists.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Imports,
    Exports,
}

/// The names of the outermost component's imports or exports (not those of
/// components nested inside it).
fn top_level_names(component: &[u8], side: Side) -> Result<Vec<String>, BuildError> {
    let parse_error = |e: wasmparser::BinaryReaderError| BuildError::Parse(e.to_string());
    let mut names = Vec::new();
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(component) {
        match payload.map_err(parse_error)? {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 1 && side == Side::Imports => {
                for import in reader {
                    names.push(import.map_err(parse_error)?.name.name.to_string());
                }
            }
            Payload::ComponentExportSection(reader) if depth == 1 && side == Side::Exports => {
                for export in reader {
                    names.push(export.map_err(parse_error)?.name.name.to_string());
                }
            }
            _ => {}
        }
    }
    Ok(names)
}
