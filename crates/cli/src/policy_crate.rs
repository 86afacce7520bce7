//! Building a policy crate into a component: `shipgate build`.
//!
//! The crate is found with `cargo metadata`, checked to be a policy (a
//! `cdylib` that depends on `shipgate-sdk`), compiled with `cargo build
//! --release --target wasm32-unknown-unknown`, turned into a component, and
//! checked the way the host will load it: no imports, the contract's export,
//! a working `info`. The component is written with its sha256 next to it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde::Serialize;
use sha2::{Digest as _, Sha256};
use shipgate_build::{BuildError, GUEST_TARGET, GuestBuild};

use shipgate_core::config::Limits;
use shipgate_engine::runtime::{CacheMode, PolicyInfo, Runtime};

/// The interface every policy exports, with the contract's version.
pub const CONTRACT_EXPORT: &str = "shipgate:policy/api@0.2.0";

/// The SDK crate a policy depends on.
pub const SDK_PACKAGE: &str = "shipgate-sdk";

/// How to build.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Where to write the component; default
    /// `<target dir>/shipgate/<package>.wasm`.
    pub out: Option<PathBuf>,
    /// Pass `--locked` to cargo.
    pub locked: bool,
    /// Show cargo's progress on stderr (a person at a terminal).
    pub show_cargo: bool,
}

/// A policy crate that was built.
#[derive(Debug, Clone, Serialize)]
pub struct BuiltPolicy {
    /// The package name.
    pub package: String,
    /// The package's version.
    pub version: String,
    /// Its `Cargo.toml`.
    pub manifest: PathBuf,
    /// The component written.
    pub component: PathBuf,
    /// The file holding the component's sha256 (`sha256sum` format).
    pub sha256_file: PathBuf,
    /// sha256 of the component, hex.
    pub sha256: String,
    /// Size of the component in bytes.
    pub bytes: usize,
    /// The component's imports (always empty for a built policy).
    pub imports: Vec<String>,
    /// The component's exports.
    pub exports: Vec<String>,
    /// What the policy says about itself.
    pub info: PolicyInfo,
    /// Wall time of the cargo build, componentizing and checks.
    #[serde(serialize_with = "as_seconds")]
    pub took: Duration,
}

fn as_seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Why a crate could not be built into a policy component.
#[derive(Debug, thiserror::Error)]
pub enum CrateError {
    /// There is no `Cargo.toml` at the path.
    #[error("no Cargo.toml in `{}`: `shipgate build` takes a policy crate's directory (`shipgate new policy NAME` makes one)", .0.display())]
    NoManifest(PathBuf),
    /// `cargo metadata` failed or gave something unexpected.
    #[error("cannot read the crate's metadata: {0}")]
    Metadata(String),
    /// The crate is not a policy.
    #[error("`{package}` is not a policy crate: {reason}")]
    NotAPolicy {
        /// The package.
        package: String,
        /// What is missing, and how to add it.
        reason: String,
    },
    /// A workspace with no, or more than one, policy crate.
    #[error("{0}")]
    Ambiguous(String),
    /// The wasm target is not installed for the toolchain in use.
    #[error(
        "the `{GUEST_TARGET}` target is not installed for the Rust toolchain at `{sysroot}`\n  help: add it with `rustup target add {GUEST_TARGET}`"
    )]
    TargetMissing {
        /// The toolchain's sysroot.
        sysroot: String,
    },
    /// cargo or componentizing failed.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The component imports something.
    #[error(
        "the component imports {0}; a policy must import nothing\n  help: build for `{GUEST_TARGET}` (not a WASI target), and avoid crates that need the clock, randomness or files"
    )]
    Imports(String),
    /// The component exports nothing: the crate never calls `export_policy!`.
    #[error(
        "the component exports nothing\n  help: export the policy type with `shipgate_sdk::export_policy!(YourPolicy);` in the crate's lib.rs"
    )]
    NoExport,
    /// The component does not export the contract.
    #[error(
        "the component exports {0}, not `{CONTRACT_EXPORT}`\n  help: the crate was built against an SDK of another contract version; depend on the SDK that matches this shipgate"
    )]
    Exports(String),
    /// The host cannot load it.
    #[error("the host cannot load the component: {0}")]
    Load(String),
    /// `--no-build`, but the crate was never built.
    #[error("`{}` does not exist: build the crate first (`shipgate build`), or leave out `--no-build`", .0.display())]
    NotBuilt(PathBuf),
    /// A file could not be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Builds the policy crate at `path` (its directory or its `Cargo.toml`).
pub fn build(path: &Path, options: &BuildOptions) -> Result<BuiltPolicy, CrateError> {
    let start = Instant::now();
    let manifest = manifest_path(path)?;
    let crate_dir = manifest.parent().unwrap_or(Path::new(".")).to_owned();
    let meta = metadata(&manifest)?;
    let package = pick_package(&meta, &manifest)?;
    check_target(&crate_dir)?;
    let guest = GuestBuild {
        manifest_path: manifest.clone(),
        packages: vec![package.name.clone()],
        target_dir: meta.target_directory.clone(),
        profile: "release".to_owned(),
        locked: options.locked,
        stream_output: options.show_cargo,
    };
    let built = guest.run()?.into_iter().next().ok_or_else(|| {
        CrateError::Metadata(format!("cargo built nothing for `{}`", package.name))
    })?;
    let component = built.component;
    let imports = shipgate_build::component_imports(&component)?;
    if !imports.is_empty() {
        return Err(CrateError::Imports(quoted(&imports)));
    }
    let exports = shipgate_build::component_exports(&component)?;
    if exports.is_empty() {
        return Err(CrateError::NoExport);
    }
    if !exports.iter().any(|e| e == CONTRACT_EXPORT) {
        return Err(CrateError::Exports(quoted(&exports)));
    }
    let info = load_info(&component)?;

    let out = options
        .out
        .clone()
        .unwrap_or_else(|| output_in(&meta, package));
    let sha256 = hex::encode(Sha256::digest(&component));
    let sha256_file = PathBuf::from(format!("{}.sha256", out.display()));
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| CrateError::Io { path, source }
    };
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    std::fs::write(&out, &component).map_err(io(&out))?;
    let file_name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    std::fs::write(&sha256_file, format!("{sha256}  {file_name}\n")).map_err(io(&sha256_file))?;
    Ok(BuiltPolicy {
        package: package.name.clone(),
        version: package.version.clone(),
        manifest,
        component: out,
        sha256_file,
        sha256,
        bytes: component.len(),
        imports,
        exports,
        info,
        took: start.elapsed(),
    })
}

/// Where `shipgate build` writes a package's component by default.
fn output_in(meta: &Metadata, package: &Package) -> PathBuf {
    meta.target_directory
        .join("shipgate")
        .join(format!("{}.wasm", package.name))
}

/// The component the last `shipgate build` of the crate at `path` wrote
/// (without building); an error when there is none yet.
pub fn default_output(path: &Path) -> Result<PathBuf, CrateError> {
    let manifest = manifest_path(path)?;
    let meta = metadata(&manifest)?;
    let package = pick_package(&meta, &manifest)?;
    let out = output_in(&meta, package);
    if out.is_file() {
        Ok(out)
    } else {
        Err(CrateError::NotBuilt(out))
    }
}

/// The name a component gives itself in `info`.
pub fn policy_name(component: &Path) -> Result<String, CrateError> {
    let bytes = std::fs::read(component).map_err(|source| CrateError::Io {
        path: component.to_owned(),
        source,
    })?;
    Ok(load_info(&bytes)?.name)
}

/// Loads a component as the host will and returns its `info`. Through the
/// on-disk cache, so that the `shipgate test` that follows a build does not
/// compile the component a second time.
fn load_info(component: &[u8]) -> Result<PolicyInfo, CrateError> {
    let load = |e: &dyn std::fmt::Display| CrateError::Load(e.to_string());
    let runtime = Runtime::new(&Limits::default(), &CacheMode::Default).map_err(|e| load(&e))?;
    let policy = runtime.load(component).map_err(|e| load(&e))?;
    Ok(policy.info().clone())
}

fn quoted(names: &[String]) -> String {
    if names.is_empty() {
        return "nothing".to_owned();
    }
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `Cargo.toml` at `path`: the file itself or the one in the directory.
fn manifest_path(path: &Path) -> Result<PathBuf, CrateError> {
    let manifest = if path.file_name().is_some_and(|n| n == "Cargo.toml") {
        path.to_owned()
    } else {
        path.join("Cargo.toml")
    };
    if !manifest.is_file() {
        return Err(CrateError::NoManifest(path.to_owned()));
    }
    manifest.canonicalize().map_err(|source| CrateError::Io {
        path: manifest,
        source,
    })
}

/// What `cargo metadata --no-deps` says that matters here.
#[derive(Debug, serde::Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    target_directory: PathBuf,
}

#[derive(Debug, serde::Deserialize)]
struct Package {
    name: String,
    version: String,
    manifest_path: PathBuf,
    dependencies: Vec<Dependency>,
    targets: Vec<Target>,
}

#[derive(Debug, serde::Deserialize)]
struct Dependency {
    name: String,
    #[serde(default)]
    kind: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
struct Target {
    kind: Vec<String>,
}

impl Package {
    /// Why this package is not a policy, or `None` if it is one.
    fn not_a_policy(&self) -> Option<String> {
        let depends_on_sdk = self
            .dependencies
            .iter()
            .any(|d| d.name == SDK_PACKAGE && d.kind.is_none());
        if !depends_on_sdk {
            return Some(format!(
                "it does not depend on `{SDK_PACKAGE}` (policies implement `shipgate_sdk::Policy` and call `export_policy!`)"
            ));
        }
        let cdylib = self
            .targets
            .iter()
            .any(|t| t.kind.iter().any(|k| k == "cdylib"));
        if !cdylib {
            return Some(
                "its library is not a `cdylib`\n  help: add `[lib] crate-type = [\"cdylib\", \"rlib\"]` to its Cargo.toml".to_owned(),
            );
        }
        None
    }
}

fn metadata(manifest: &Path) -> Result<Metadata, CrateError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--manifest-path",
        ])
        .arg(manifest)
        .output()
        .map_err(|e| CrateError::Metadata(format!("cannot run cargo: {e}")))?;
    if !output.status.success() {
        return Err(CrateError::Metadata(
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| CrateError::Metadata(e.to_string()))
}

/// The package `manifest` describes, or in a workspace's root manifest, its
/// only policy crate.
fn pick_package<'m>(meta: &'m Metadata, manifest: &Path) -> Result<&'m Package, CrateError> {
    let same = |p: &Package| p.manifest_path.canonicalize().ok().as_deref() == Some(manifest);
    if let Some(package) = meta.packages.iter().find(|p| same(p)) {
        return match package.not_a_policy() {
            Some(reason) => Err(CrateError::NotAPolicy {
                package: package.name.clone(),
                reason,
            }),
            None => Ok(package),
        };
    }
    let policies: Vec<&Package> = meta
        .packages
        .iter()
        .filter(|p| p.not_a_policy().is_none())
        .collect();
    match policies.as_slice() {
        [one] => Ok(one),
        [] => Err(CrateError::Ambiguous(format!(
            "the workspace `{}` has no policy crate",
            manifest.display()
        ))),
        many => Err(CrateError::Ambiguous(format!(
            "the workspace `{}` has {} policy crates ({}); give the path of one",
            manifest.display(),
            many.len(),
            many.iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Fails early, with the command that fixes it, when the toolchain that
/// builds in `dir` has no `wasm32-unknown-unknown` standard library.
fn check_target(dir: &Path) -> Result<(), CrateError> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let Ok(output) = Command::new(rustc)
        .args(["--print", "sysroot"])
        .current_dir(dir)
        .output()
    else {
        // No rustc to ask: cargo's own error will say more.
        return Ok(());
    };
    if !output.status.success() {
        return Ok(());
    }
    let sysroot = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let lib = Path::new(&sysroot)
        .join("lib")
        .join("rustlib")
        .join(GUEST_TARGET)
        .join("lib");
    if lib.is_dir() {
        Ok(())
    } else {
        Err(CrateError::TargetMissing { sysroot })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(deps: &[(&str, Option<&str>)], kinds: &[&str]) -> Package {
        Package {
            name: "p".into(),
            version: "0.1.0".into(),
            manifest_path: PathBuf::from("/nowhere/Cargo.toml"),
            dependencies: deps
                .iter()
                .map(|(n, k)| Dependency {
                    name: (*n).into(),
                    kind: k.map(Into::into),
                })
                .collect(),
            targets: vec![Target {
                kind: kinds.iter().map(|k| (*k).into()).collect(),
            }],
        }
    }

    #[test]
    fn a_policy_is_a_cdylib_that_depends_on_the_sdk() {
        assert_eq!(
            package(&[(SDK_PACKAGE, None)], &["cdylib", "rlib"]).not_a_policy(),
            None
        );
        let no_sdk = package(&[("serde", None)], &["cdylib"]).not_a_policy();
        assert!(
            no_sdk
                .unwrap()
                .contains("does not depend on `shipgate-sdk`")
        );
        let dev_only = package(&[(SDK_PACKAGE, Some("dev"))], &["cdylib"]).not_a_policy();
        assert!(dev_only.is_some());
        let no_cdylib = package(&[(SDK_PACKAGE, None)], &["lib"]).not_a_policy();
        assert!(
            no_cdylib
                .unwrap()
                .contains("crate-type = [\"cdylib\", \"rlib\"]")
        );
    }

    #[test]
    fn a_directory_without_cargo_toml_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = manifest_path(dir.path()).unwrap_err();
        assert!(matches!(err, CrateError::NoManifest(_)));
        assert!(err.to_string().contains("shipgate new policy"));
    }
}
