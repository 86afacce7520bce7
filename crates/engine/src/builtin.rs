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
