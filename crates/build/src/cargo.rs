//! The nested `cargo build` of guest crates.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{BuildError, GUEST_PROFILE, GUEST_TARGET, componentize};

/// Environment variables of an outer cargo run that must not reach the
/// nested build: flags meant for the host target, wrappers such as
/// `clippy-driver`, and an explicit target or target directory.
const SCRUBBED_ENV: &[&str] = &[
    "CARGO_ENCODED_RUSTFLAGS",
    "RUSTFLAGS",
    "RUSTC_WORKSPACE_WRAPPER",
    "RUSTC_WRAPPER",
    "CLIPPY_ARGS",
    "CARGO_BUILD_TARGET",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_LLVM_COV",
    "LLVM_PROFILE_FILE",
];

/// The target directory guests are built into: `<workspace>/target/guests`,
/// or `$CARGO_TARGET_DIR/guests`. It is not the outer build's own directory,
/// so a build script can run `cargo` without waiting on the outer lock.
pub fn guest_target_dir(workspace_root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir).join("guests"),
        _ => workspace_root.join("target").join("guests"),
    }
}

/// One `cargo build` of one or more guest packages.
#[derive(Debug, Clone)]
pub struct GuestBuild {
    /// The `Cargo.toml` of the workspace or crate.
    pub manifest_path: PathBuf,
    /// The packages to build (`-p`); empty builds the manifest's package.
    pub packages: Vec<String>,
    /// Where cargo puts its output.
    pub target_dir: PathBuf,
    /// The cargo profile (`guest` in this workspace, `release` elsewhere).
    pub profile: String,
    /// Passed as `--locked`.
    pub locked: bool,
    /// Let cargo print its progress and errors to this process's stderr as
    /// they come (for a person at a terminal), instead of capturing them and
    /// printing them only when the build fails (for a build script).
    pub stream_output: bool,
}

/// A guest that was built: its core module and its component.
#[derive(Debug, Clone)]
pub struct BuiltGuest {
    /// The package name.
    pub package: String,
    /// The core module cargo wrote.
    pub core_path: PathBuf,
    /// The component made from it.
    pub component: Vec<u8>,
    /// The source files the build read (from cargo's dep-info), for
    /// `rerun-if-changed`.
    pub sources: Vec<PathBuf>,
}

impl GuestBuild {
    /// A build of `packages` from the workspace at `workspace_root` with the
    /// workspace's `guest` profile.
    pub fn in_workspace(workspace_root: &Path, packages: &[&str]) -> Self {
        GuestBuild {
            manifest_path: workspace_root.join("Cargo.toml"),
            packages: packages.iter().map(|p| (*p).to_owned()).collect(),
            target_dir: guest_target_dir(workspace_root),
            profile: GUEST_PROFILE.to_owned(),
            locked: false,
            stream_output: false,
        }
    }

    /// The command line this build runs.
    pub fn command(&self) -> Command {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.arg("build")
            .arg("--manifest-path")
            .arg(&self.manifest_path)
            .arg("--target")
            .arg(GUEST_TARGET)
            .arg("--profile")
            .arg(&self.profile)
            .arg("--target-dir")
            .arg(&self.target_dir);
        if self.locked {
            cmd.arg("--locked");
        }
        for p in &self.packages {
            cmd.arg("-p").arg(p);
        }
        for var in SCRUBBED_ENV {
            cmd.env_remove(var);
        }
        cmd
    }

    /// Runs the build and componentizes every package's core module.
    pub fn run(&self) -> Result<Vec<BuiltGuest>, BuildError> {
        let mut cmd = self.command();
        let command = describe(&cmd);
        let stderr = if self.stream_output {
            std::process::Stdio::inherit()
        } else {
            std::process::Stdio::piped()
        };
        let output = cmd
            .stdout(std::process::Stdio::null())
            .stderr(stderr)
            .output()
            .map_err(|source| BuildError::Spawn {
                command: command.clone(),
                source,
            })?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            eprint!("{stderr}");
            return Err(BuildError::Cargo {
                command,
                status: output.status.to_string(),
                hint: hint_for(&stderr),
            });
        }
        let out_dir = self.target_dir.join(GUEST_TARGET).join(&self.profile);
        self.packages
            .iter()
            .map(|package| {
                let stem = package.replace('-', "_");
                let core_path = out_dir.join(format!("{stem}.wasm"));
                let core = std::fs::read(&core_path).map_err(|source| {
                    if source.kind() == std::io::ErrorKind::NotFound {
                        BuildError::MissingOutput(core_path.clone())
                    } else {
                        BuildError::Io {
                            path: core_path.clone(),
                            source,
                        }
                    }
                })?;
                let component = componentize(&core)?;
                let sources = dep_info_sources(&out_dir.join(format!("{stem}.d")));
                Ok(BuiltGuest {
                    package: package.clone(),
                    core_path,
                    component,
                    sources,
                })
            })
            .collect()
    }
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Recognises the usual causes of a failed guest build.
fn hint_for(stderr: &str) -> String {
    if stderr.contains("target may not be installed")
        || stderr.contains("can't find crate for `core`")
        || stderr.contains("can't find crate for `std`")
    {
        format!(
            "\n  help: the `{GUEST_TARGET}` target is missing; add it with `rustup target add {GUEST_TARGET}`"
        )
    } else {
        String::new()
    }
}

/// The files listed in a cargo dep-info (`.d`) file; empty if unreadable.
fn dep_info_sources(path: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((_, deps)) = line.split_once(": ") else {
            continue;
        };
        // Paths are separated by spaces; a space inside a path is escaped.
        let mut current = String::new();
        let mut chars = deps.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&' ') => {
                    current.push(' ');
                    chars.next();
                }
                ' ' => {
                    if !current.is_empty() {
                        out.push(PathBuf::from(std::mem::take(&mut current)));
                    }
                }
                c => current.push(c),
            }
        }
        if !current.is_empty() {
            out.push(PathBuf::from(current));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The workspace a member crate in `manifest_dir` belongs to: the nearest
/// folder above it whose `Cargo.toml` has a `[workspace]` table (the crate's
/// own folder when there is none).
pub fn workspace_root_of(manifest_dir: &Path) -> &Path {
    manifest_dir
        .ancestors()
        .skip(1)
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|text| text.lines().any(|line| line.trim() == "[workspace]"))
        })
        .unwrap_or(manifest_dir)
}

/// For the build script of a member crate of the workspace:
/// builds `guests` (pairs of a name and a package), writes each component to
/// `OUT_DIR/<name>.component.wasm`, tells cargo to rerun when their sources
/// (or the WIT contract) change, and returns `OUT_DIR` and, per guest, its
/// name, component path and build.
#[allow(clippy::type_complexity)]
pub fn build_for_build_script(
    guests: &[(&str, &str)],
) -> Result<(PathBuf, Vec<(String, PathBuf, BuiltGuest)>), BuildError> {
    let env = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .ok_or_else(|| BuildError::Io {
                path: PathBuf::from(format!("${name}")),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "not set: not in a build script?",
                ),
            })
    };
    let out_dir = env("OUT_DIR")?;
    let manifest_dir = env("CARGO_MANIFEST_DIR")?;
    let workspace_root = workspace_root_of(&manifest_dir);
    let packages: Vec<&str> = guests.iter().map(|(_, p)| *p).collect();
    let built = GuestBuild::in_workspace(workspace_root, &packages).run()?;
    let mut out = Vec::with_capacity(built.len());
    for ((name, _), guest) in guests.iter().zip(built) {
        let path = out_dir.join(format!("{name}.component.wasm"));
        std::fs::write(&path, &guest.component).map_err(|source| BuildError::Io {
            path: path.clone(),
            source,
        })?;
        for source in &guest.sources {
            println!("cargo::rerun-if-changed={}", source.display());
        }
        out.push(((*name).to_owned(), path, guest));
    }
    println!(
        "cargo::rerun-if-changed={}",
        workspace_root.join("wit").display()
    );
    println!(
        "cargo::rerun-if-changed={}",
        workspace_root.join("Cargo.lock").display()
    );
    Ok((out_dir, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dep_info_with_escaped_spaces() {
        let dir = std::env::temp_dir().join(format!("sg-depinfo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let d = dir.join("x.d");
        std::fs::write(&d, "/t/x.wasm: /src/a\\ b.rs /src/lib.rs\n").unwrap();
        assert_eq!(
            dep_info_sources(&d),
            vec![PathBuf::from("/src/a b.rs"), PathBuf::from("/src/lib.rs")]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn names_the_missing_target() {
        assert!(
            hint_for("error[E0463]: can't find crate for `core`").contains("rustup target add")
        );
        assert_eq!(hint_for("some other error"), "");
    }

    #[test]
    fn nested_build_drops_outer_wrappers() {
        let b = GuestBuild::in_workspace(Path::new("/ws"), &["p"]);
        let cmd = b.command();
        let removed: Vec<_> = cmd
            .get_envs()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        assert!(removed.contains(&"RUSTC_WORKSPACE_WRAPPER".to_owned()));
        assert!(describe(&cmd).contains("--target wasm32-unknown-unknown --profile guest"));
    }
}
