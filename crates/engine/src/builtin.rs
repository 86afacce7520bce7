//! The policies embedded in the `shipgate` binary, and the default
//! configuration that uses them.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/builtins.rs"));
}

/// The configuration used when no `--config` is given and no
/// `shipgate.toml` is found (the command line looks for one from the working directory up to the repository root).
pub const DEFAULT_CONFIG: &str = include_str!("default.toml");

/// The component of the built-in policy `name`.
pub fn get(name: &str) -> Option<&'static [u8]> {
    generated::BUILTINS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, bytes)| *bytes)
}

/// The names of the built-in policies.
pub fn names() -> impl Iterator<Item = &'static str> {
    generated::BUILTINS.iter().map(|(n, _)| *n)
}

/// A built-in's machine code, compiled by the build script with the
/// runtime's code settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Precompiled {
    /// The built-in's name.
    pub name: &'static str,
    /// The fingerprint of the engine it was compiled with (see
    /// `runtime::engine_config::fingerprint`).
    pub engine: &'static str,
    /// What `Engine::precompile_component` returned.
    pub artifact: &'static [u8],
}

/// The machine code of the built-in whose component has this sha256, if it
/// was precompiled (not in a cross-compiled build).
pub(crate) fn precompiled(component_sha256: &str) -> Option<Precompiled> {
    generated::PRECOMPILED
        .iter()
        .find(|(_, sha256, _)| *sha256 == component_sha256)
        .map(|&(name, _, artifact)| Precompiled {
            name,
            engine: generated::PRECOMPILED_FOR,
            artifact,
        })
}
