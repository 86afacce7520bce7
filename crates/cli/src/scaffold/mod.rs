//! `shipgate new policy`: a new policy crate, ready to test and build.
//!
//! The crate's files are templates under `src/scaffold/template/`, compiled
//! into the binary and rendered by plain `{{placeholder}}` replacement:
//! `{{name}}` (the policy's and the package's name), `{{Type}}` (the policy
//! type, in CamelCase) and `{{sdk}}` (the SDK's path, escaped for a TOML
//! string). The test case's reviewed decision is rendered by
//! [`crate::cases::expected::render`], so it is byte-identical to what
//! `shipgate test --accept` writes.
//!
//! The crate depends on the guest SDK by path (it is not on crates.io yet).
//! By default that is `vendor/shipgate-sdk`, a copy of the SDK this binary
//! was built with, which it carries (see [`vendor`]): the crate builds on
//! any machine and in CI with no Shipgate checkout, and it keeps
//! building when `shipgate` is upgraded. `--sdk PATH` names a checkout's
//! SDK instead (for developing the SDK itself). The `Cargo.lock` of the
//! workspace the SDK is tested in is written along (and pruned by cargo to
//! what the crate uses), so that the crate builds with those versions.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use shipgate_model::Verdict;

use crate::cases::expected;
use shipgate_engine::outcome::Outcome;

pub mod vendor;

/// The SDK's package name, checked in the `Cargo.toml` of `--sdk PATH`.
pub const SDK_PACKAGE: &str = "shipgate-sdk";

/// The case file the new crate ships, relative to the crate.
pub const CASE_FILE: &str = "cases/error-spike.toml";

/// The reviewed decision of [`CASE_FILE`], relative to the crate.
pub const EXPECTED_FILE: &str = "cases/error-spike.expected.toml";

/// The name of the one case in [`CASE_FILE`].
pub const CASE_NAME: &str = "error-spike";

/// The templates: (path in the new crate, text).
const TEMPLATES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("template/Cargo.toml.tmpl")),
    (".gitignore", include_str!("template/gitignore")),
    ("README.md", include_str!("template/README.md")),
    ("src/lib.rs", include_str!("template/src/lib.rs")),
    (CASE_FILE, include_str!("template/cases/error-spike.toml")),
    (
        "cases/snapshots/error-spike.json",
        include_str!("template/cases/snapshots/error-spike.json"),
    ),
];

/// Names a crate cannot have: Rust's keywords (strict and reserved) and the
/// standard library's crates.
const RESERVED: &[&str] = &[
    "abstract",
    "alloc",
    "as",
    "async",
    "await",
    "become",
    "box",
    "break",
    "const",
    "continue",
    "core",
    "crate",
    "do",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "final",
    "fn",
    "for",
    "gen",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "macro",
    "match",
    "mod",
    "move",
    "mut",
    "override",
    "priv",
    "proc_macro",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "std",
    "struct",
    "super",
    "test",
    "trait",
    "true",
    "try",
    "type",
    "typeof",
    "unsafe",
    "unsized",
    "use",
    "virtual",
    "where",
    "while",
    "yield",
];

/// The longest name accepted (crates.io's limit).
const MAX_NAME_LEN: usize = 64;

/// Why a crate could not be created.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    /// The name is not a valid crate name.
    #[error("`{name}` is not a valid policy name: {reason}")]
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong with it, and what a valid one looks like.
        reason: String,
    },
    /// The directory exists and has files in it.
    #[error(
        "`{}` exists and is not empty: `shipgate new` only writes into a new or empty directory \
         (choose another with --dir DIR)",
        .0.display()
    )]
    DirNotEmpty(PathBuf),
    /// The directory's path is a file.
    #[error("`{}` exists and is not a directory (choose another with --dir DIR)", .0.display())]
    NotADirectory(PathBuf),
    /// `--sdk PATH` is not the SDK.
    #[error("--sdk `{}`: {message}", path.display())]
    NotTheSdk {
        /// The path given.
        path: PathBuf,
        /// What was found there instead.
        message: String,
    },
    /// The SDK embedded in the binary cannot be written (a bug of the
    /// build).
    #[error("the guest SDK embedded in this binary cannot be written: {0}")]
    EmbeddedSdk(String),
    /// A file could not be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// A file or directory could not be written.
    #[error("cannot write `{}`: {source}", path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

/// The SDK a new crate depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sdk {
    /// The SDK this binary carries, written into the crate.
    Vendored {
        /// Its folder, relative to the crate ([`vendor::SDK_DIR`]).
        dir: PathBuf,
        /// Its version (the binary's).
        version: &'static str,
    },
    /// An SDK on disk, given with `--sdk` (absolute, canonical).
    Path(PathBuf),
}

/// Where a new crate's `Cargo.lock` comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lockfile {
    /// The workspace's lockfile this binary was built with.
    Embedded,
    /// A copy of the lockfile of `--sdk`'s workspace.
    Copied(PathBuf),
}

/// A crate that was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The policy's (and package's) name.
    pub name: String,
    /// The crate's directory, as given.
    pub dir: PathBuf,
    /// The SDK the crate depends on.
    pub sdk: Sdk,
    /// The files written, relative to `dir`, in the order written.
    pub files: Vec<PathBuf>,
    /// Where the crate's `Cargo.lock` comes from; `None` when `--sdk`'s
    /// workspace has none.
    pub lockfile: Option<Lockfile>,
}

/// Checks that `name` is a valid crate name: a lowercase ASCII letter, then
/// lowercase letters, digits, `-` and `_`; not a Rust keyword or a standard
/// crate's name.
pub fn validate_name(name: &str) -> Result<(), ScaffoldError> {
    let invalid = |reason: String| ScaffoldError::InvalidName {
        name: name.to_owned(),
        reason,
    };
    let rule = "a policy name is a crate name: a lowercase ASCII letter, then lowercase letters, \
                digits, `-` and `_` (e.g. `team-gate`)";
    let Some(first) = name.chars().next() else {
        return Err(invalid(format!("it is empty; {rule}")));
    };
    if !first.is_ascii_lowercase() {
        return Err(invalid(format!("it starts with `{first}`; {rule}")));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_'))
    {
        return Err(invalid(format!("it contains `{bad}`; {rule}")));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(invalid(format!(
            "it is {} characters long, more than {MAX_NAME_LEN}",
            name.len()
        )));
    }
    let ident = name.replace('-', "_");
    if RESERVED.contains(&name) || RESERVED.contains(&ident.as_str()) {
        return Err(invalid(
            "it is a Rust keyword or a standard library crate's name; pick another (e.g. \
             `team-gate`)"
                .to_owned(),
        ));
    }
    Ok(())
}

/// The policy type's name: the name in CamelCase, ending in `Policy`
/// (`team-gate` → `TeamGatePolicy`, `error-ratio-policy` →
/// `ErrorRatioPolicy`). The suffix keeps it clear of every name the sample
/// code uses (`Config`, `Policy`, `Default`, `String`, ...).
pub fn type_name(name: &str) -> String {
    let camel: String = name
        .split(['-', '_'])
        .flat_map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
        })
        .collect();
    if camel.len() > "Policy".len() && camel.ends_with("Policy") {
        camel
    } else {
        format!("{camel}Policy")
    }
}

/// Checks that `path` is the guest SDK (a directory whose `Cargo.toml` is
/// the `shipgate-sdk` package) and returns it canonicalized.
pub fn check_sdk(path: &Path) -> Result<PathBuf, ScaffoldError> {
    let not_sdk = |message: String| ScaffoldError::NotTheSdk {
        path: path.to_owned(),
        message,
    };
    // Passing the checkout's root instead of its `guest-sdk` is the likely
    // mistake: say where the SDK is.
    let hint = if path.join("guest-sdk").join("Cargo.toml").is_file() {
        format!(
            "; the SDK of this checkout is `{}`",
            path.join("guest-sdk").display()
        )
    } else {
        "; pass the `guest-sdk` directory of a Shipgate checkout".to_owned()
    };
    let manifest = path.join("Cargo.toml");
    let text = match fs::read_to_string(&manifest) {
        Ok(text) => text,
        Err(e)
            if e.kind() == io::ErrorKind::NotFound || e.kind() == io::ErrorKind::NotADirectory =>
        {
            return Err(not_sdk(format!("there is no Cargo.toml in it{hint}")));
        }
        Err(source) => {
            return Err(ScaffoldError::Read {
                path: manifest,
                source,
            });
        }
    };
    let table: toml::Table = toml::from_str(&text)
        .map_err(|e| not_sdk(format!("its Cargo.toml is not valid TOML: {}", e.message())))?;
    let package = table
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str());
    match package {
        Some(SDK_PACKAGE) => {}
        Some(other) => {
            return Err(not_sdk(format!(
                "its Cargo.toml is package `{other}`, not `{SDK_PACKAGE}`{hint}"
            )));
        }
        None => {
            return Err(not_sdk(format!(
                "its Cargo.toml has no [package] (a workspace?), not `{SDK_PACKAGE}`{hint}"
            )));
        }
    }
    fs::canonicalize(path).map_err(|source| ScaffoldError::Read {
        path: path.to_owned(),
        source,
    })
}

/// The `Cargo.lock` of the SDK's workspace: next to the SDK's Cargo.toml, or
/// in its parent directory (the workspace root in a Shipgate checkout).
pub fn sdk_lockfile(sdk: &Path) -> Option<PathBuf> {
    [Some(sdk), sdk.parent()]
        .into_iter()
        .flatten()
        .map(|dir| dir.join("Cargo.lock"))
        .find(|lock| lock.is_file())
}

/// Replaces every `{{key}}` of `vars` in `template`, in one pass (a value is
/// never itself searched for placeholders). Unknown placeholders are left as
/// they are.
pub fn render(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let value = after.find("}}").and_then(|end| {
            let key = &after[..end];
            vars.iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (*v, end + 2))
        });
        match value {
            Some((value, len)) => {
                out.push_str(value);
                rest = &after[len..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `text` escaped for the inside of a TOML basic string (`"..."`).
fn toml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// The reviewed outcome of the shipped case, for a policy called `name`:
/// the sample rule rolls the error spike back.
pub fn expected_outcomes(name: &str) -> BTreeMap<String, Outcome> {
    let outcome = Outcome {
        verdict: Verdict::Rollback,
        risk: None,
        rules: BTreeMap::from([(format!("{name}.error-rate"), Verdict::Rollback)]),
        advisory: BTreeMap::new(),
        failed: BTreeMap::new(),
    };
    BTreeMap::from([(CASE_NAME.to_owned(), outcome)])
}

/// Every file of the new crate but `Cargo.lock` and the vendored SDK,
/// rendered: (path relative to the crate, text), in the order they are
/// written. `sdk` is the SDK's path (relative to the crate, or absolute).
pub fn files(name: &str, sdk: &str) -> Vec<(PathBuf, String)> {
    let type_name = type_name(name);
    let sdk = toml_escape(sdk);
    let vars = [
        ("name", name),
        ("Type", type_name.as_str()),
        ("sdk", sdk.as_str()),
    ];
    let mut files: Vec<(PathBuf, String)> = TEMPLATES
        .iter()
        .map(|(path, text)| (PathBuf::from(path), render(text, &vars)))
        .collect();
    let case_file_name = Path::new(CASE_FILE)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let golden = expected::render(&case_file_name, &expected_outcomes(name));
    files.push((PathBuf::from(EXPECTED_FILE), golden));
    files
}

/// Creates the crate of policy `name` in `dir` (which must not exist, or be
/// empty), depending on the SDK this binary carries, written into the
/// crate's `vendor/`, or with `sdk`, on the SDK at that path (checked with
/// [`check_sdk`]).
///
/// On an error after the directory was checked, the files and directories
/// written so far are removed again.
pub fn create(name: &str, dir: &Path, sdk: Option<&Path>) -> Result<Created, ScaffoldError> {
    validate_name(name)?;
    // An empty path is the current directory (which must then be empty).
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let (sdk, sdk_dependency, lockfile, lock_bytes, vendored) = match sdk {
        Some(path) => {
            let sdk = check_sdk(path)?;
            let Some(sdk_str) = sdk.to_str() else {
                return Err(ScaffoldError::NotTheSdk {
                    path: sdk.clone(),
                    message: "the path is not valid UTF-8, so Cargo.toml cannot name it".to_owned(),
                });
            };
            let sdk_str = sdk_str.to_owned();
            let lockfile = sdk_lockfile(&sdk);
            let lock_bytes = match &lockfile {
                Some(path) => Some(fs::read(path).map_err(|source| ScaffoldError::Read {
                    path: path.clone(),
                    source,
                })?),
                None => None,
            };
            (
                Sdk::Path(sdk),
                sdk_str,
                lockfile.map(Lockfile::Copied),
                lock_bytes,
                Vec::new(),
            )
        }
        None => (
            Sdk::Vendored {
                dir: PathBuf::from(vendor::SDK_DIR),
                version: vendor::VERSION,
            },
            vendor::SDK_DIR.to_owned(),
            Some(Lockfile::Embedded),
            Some(vendor::LOCKFILE.as_bytes().to_vec()),
            vendor::files().map_err(ScaffoldError::EmbeddedSdk)?,
        ),
    };
    match fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(ScaffoldError::DirNotEmpty(dir.to_owned()));
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) if e.kind() == io::ErrorKind::NotADirectory || dir.is_file() => {
            return Err(ScaffoldError::NotADirectory(dir.to_owned()));
        }
        Err(source) => {
            return Err(ScaffoldError::Read {
                path: dir.to_owned(),
                source,
            });
        }
    }

    let mut writer = Writer::default();
    let result = (|| {
        writer.dir(dir)?;
        let mut files = files(name, &sdk_dependency).into_iter();
        // Cargo.toml first, the lockfile next to it.
        if let Some((path, text)) = files.next() {
            writer.file(dir, &path, text.as_bytes())?;
        }
        if let Some(lock) = &lock_bytes {
            writer.file(dir, Path::new("Cargo.lock"), lock)?;
        }
        for (path, text) in files {
            writer.file(dir, &path, text.as_bytes())?;
        }
        for (path, bytes) in &vendored {
            writer.file(dir, path, bytes)?;
        }
        Ok(())
    })();
    if result.is_ok() && lock_bytes.is_some() {
        prune_lockfile(dir);
    }
    match result {
        Ok(()) => Ok(Created {
            name: name.to_owned(),
            dir: dir.to_owned(),
            sdk,
            files: writer.written,
            lockfile,
        }),
        Err(e) => {
            writer.undo(dir);
            Err(e)
        }
    }
}

/// Lets cargo drop the copied lockfile's entries the crate does not use
/// (without changing a version and without the network), so that the first
/// `cargo build --locked` finds it up to date. When cargo cannot (no
/// registry cache offline), the full lockfile stays and the first build
/// prunes it.
fn prune_lockfile(dir: &Path) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let pruned = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--manifest-path",
        ])
        .arg(dir.join("Cargo.toml"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    if !pruned.is_ok_and(|s| s.success()) {
        tracing::debug!(
            "cargo could not prune the copied Cargo.lock offline; the first build will"
        );
    }
}

/// Writes new files and directories, remembering them to undo on an error.
#[derive(Debug, Default)]
struct Writer {
    /// Directories created, absolute or relative as given, in order.
    dirs: Vec<PathBuf>,
    /// Files written, relative to the crate.
    written: Vec<PathBuf>,
}

impl Writer {
    /// Creates `dir` and its missing parents.
    fn dir(&mut self, dir: &Path) -> Result<(), ScaffoldError> {
        let mut missing: Vec<&Path> = dir
            .ancestors()
            .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
            .collect();
        missing.reverse();
        for d in missing {
            match fs::create_dir(d) {
                Ok(()) => self.dirs.push(d.to_owned()),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && d.is_dir() => {}
                Err(source) => {
                    return Err(ScaffoldError::Write {
                        path: d.to_owned(),
                        source,
                    });
                }
            }
        }
        Ok(())
    }

    /// Writes `root/path`, which must not exist yet.
    fn file(&mut self, root: &Path, path: &Path, bytes: &[u8]) -> Result<(), ScaffoldError> {
        let full = root.join(path);
        if let Some(parent) = full.parent() {
            self.dir(parent)?;
        }
        let write_err = |source| ScaffoldError::Write {
            path: full.clone(),
            source,
        };
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&full)
            .map_err(write_err)?;
        self.written.push(path.to_owned());
        file.write_all(bytes).map_err(write_err)?;
        Ok(())
    }

    /// Removes what was written, newest first (best effort).
    fn undo(&self, root: &Path) {
        for path in self.written.iter().rev() {
            let _ = fs::remove_file(root.join(path));
        }
        for dir in self.dirs.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
    }
}

#[cfg(test)]
mod tests;
