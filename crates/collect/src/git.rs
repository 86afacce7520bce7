//! The `git` source: what the change base..head touches, read from a local
//! repository with the `git` command line.
//!
//! It runs the `git` program (not a library such as gix): git is on every
//! CI machine, reads every repository format and setting the user's own git
//! reads (shallow clones, worktrees, partial clones, SHA-256, safe
//! directories...), and keeps the cold build short. Every call is
//! `git --no-pager -C <repo> -c core.quotepath=off ...` with `LC_ALL=C`,
//! NUL-separated output where paths appear (odd file names are safe), and
//! without `GIT_DIR`/`GIT_WORK_TREE`-style variables, since the repository
//! is named explicitly. A failing call becomes a one-line [`SourceError`].
//!
//! # The range
//!
//! - head: `head`, default `HEAD`.
//! - base, when `base` is given: the merge base of `base` and head (what
//!   `git diff base...head` compares; the same commit when `base` is an
//!   ancestor of head), so that commits the base gained later do not show
//!   up as changes.
//! - base by default: with `GITHUB_BASE_REF` set (a pull request on GitHub
//!   Actions), the merge base of head with `origin/$GITHUB_BASE_REF` (else
//!   `$GITHUB_BASE_REF`); otherwise with the first of `origin/HEAD`,
//!   `origin/main`, `origin/master`, `main`, `master` that exists. If that
//!   merge base is head itself (head is on the default branch), the base is
//!   head's first parent; if head has no parent, the change is the whole
//!   tree (base none, diffed against the empty tree).
//!
//! # What is read
//!
//! - `files`: `git diff --numstat` and `--name-status` with rename
//!   detection (`-M`); a renamed file has its new path; binary files count 0
//!   lines.
//! - `commits`: `git log base..head`, oldest first.
//! - `breaking_changes`: Conventional Commits markers (see
//!   `git/conventional.rs`): a subject `type!:` / `type(scope)!:` or a
//!   `BREAKING CHANGE:` footer; one entry per commit, `source` the commit id.
//! - `migrations`: files not deleted that match the migration globs (see
//!   `git/migrations.rs`).
//! - `dependency_changes`: the lockfiles among the changed files, at base
//!   and at head (see `git/lockfiles.rs`). A lockfile that does not parse
//!   fails the source, naming the file: a gap says more than a silent "no
//!   dependency changes".
//! - `areas`: the `[sources.git.areas]` whose globs match a changed file
//!   (its new or old path).
//! - `env_vars_added`: names declared at head but not at base in the
//!   changed files named like `.env.example` (any folder), read with the
//!   `environment` source's parser.
//!
//! Globs use `*` within one folder and `**` across folders.

mod conventional;
mod lockfiles;
mod migrations;

pub use shipgate_core::config::sources::git::{DEFAULT_ENV_FILES, GitConfig};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use glob::Pattern;
use shipgate_model::{BreakingChange, Change, CommitInfo, FileChange, FileStatus, Migration};

use super::environment;
use super::support::{Context, SourceError};

/// The branches tried, in order, for the default base.
pub const DEFAULT_BRANCHES: [&str; 5] = [
    "origin/HEAD",
    "origin/main",
    "origin/master",
    "main",
    "master",
];

/// What the `git` source found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GitFacts {
    /// The head commit's full id.
    pub head: String,
    /// The base commit's full id.
    pub base: Option<String>,
    /// Files, commits, migrations, breaking changes, dependencies, areas.
    pub change: Change,
    /// Variable names the range adds to `.env.example`-style files.
    pub env_vars_added: Vec<String>,
}

/// Reads the change from the repository. Blocking: runs `git`.
pub fn collect(config: &GitConfig, ctx: &Context) -> Result<GitFacts, SourceError> {
    let repo = config
        .repo
        .as_deref()
        .map_or_else(|| ctx.base_dir.clone(), |r| ctx.resolve(r));
    // Configuration mistakes first, before any git call.
    let migrations = migrations::Migrations::new(config.default_migrations, &config.migrations)?;
    let areas = compile_areas(&config.areas)?;

    let git = Git::open(repo)?;
    let (head, base) = resolve_range(&git, config, ctx)?;
    let files = changed_files(&git, base.as_deref(), &head)?;
    let commits = commits(&git, base.as_deref(), &head)?;

    let breaking_changes = commits
        .iter()
        .filter_map(|c| {
            conventional::breaking(&c.info.subject, &c.message).map(|description| BreakingChange {
                source: c.info.sha.clone(),
                description,
            })
        })
        .collect();
    let migrations = files
        .iter()
        .filter(|f| f.status != FileStatus::Deleted)
        .filter_map(|f| {
            migrations.classify(&f.path).map(|framework| Migration {
                path: f.path.clone(),
                framework,
            })
        })
        .collect();
    let dependency_changes = dependency_changes(&git, &files, base.as_deref(), &head)?;
    let areas = areas
        .into_iter()
        .filter(|(_, globs)| {
            files.iter().any(|f| {
                std::iter::once(&f.path)
                    .chain(&f.old_path)
                    .any(|p| globs.iter().any(|g| g.matches_with(p, migrations::MATCH)))
            })
        })
        .map(|(name, _)| name)
        .collect();
    let env_vars_added = env_vars_added(&git, &config.env_files, &files, base.as_deref(), &head)?;

    Ok(GitFacts {
        head,
        base,
        change: Change {
            files: files
                .into_iter()
                .map(|f| FileChange {
                    path: f.path,
                    status: f.status,
                    lines_added: f.added,
                    lines_removed: f.removed,
                })
                .collect(),
            commits: commits.into_iter().map(|c| c.info).collect(),
            migrations,
            breaking_changes,
            dependency_changes,
            areas,
        },
        env_vars_added,
    })
}

/// The areas' globs, compiled, by name.
fn compile_areas(
    areas: &BTreeMap<String, Vec<String>>,
) -> Result<BTreeMap<String, Vec<Pattern>>, SourceError> {
    areas
        .iter()
        .map(|(name, globs)| {
            let key = format!("areas.{name}");
            let compiled = globs
                .iter()
                .map(|g| migrations::compile(g, &key))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((name.clone(), compiled))
        })
        .collect()
}

/// Variables read from the environment that would point git elsewhere than
/// the repository named with `-C`.
const REPOSITORY_VARS: [&str; 6] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
];

/// A git command that exited with an error.
#[derive(Debug)]
struct Failure {
    /// The first line of its standard error, without `fatal: `.
    reason: String,
}

/// The `git` program, run in one repository.
#[derive(Debug)]
struct Git {
    repo: PathBuf,
}

impl Git {
    /// Checks that `repo` is (inside) a git repository.
    fn open(repo: PathBuf) -> Result<Git, SourceError> {
        if !repo.is_dir() {
            return Err(SourceError::new(format!(
                "not a git repository: {} (no such folder)",
                repo.display()
            )));
        }
        let git = Git { repo };
        git.run(&["rev-parse", "--git-dir"])?;
        Ok(git)
    }

    /// Runs git; `Ok(Err(_))` if it ran and failed.
    fn try_run(&self, args: &[&str]) -> Result<Result<Vec<u8>, Failure>, SourceError> {
        let mut command = Command::new("git");
        command
            .arg("--no-pager")
            .arg("-C")
            .arg(&self.repo)
            .args([
                "-c",
                "core.quotepath=off",
                "-c",
                "color.ui=false",
                "-c",
                "log.showSignature=false",
                "-c",
                "diff.relative=false",
            ])
            .args(args)
            .env("LC_ALL", "C")
            .env("GIT_OPTIONAL_LOCKS", "0")
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for var in REPOSITORY_VARS {
            command.env_remove(var);
        }
        let output = command.output().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                SourceError::new("git is not installed (no `git` program on the PATH)")
            }
            _ => SourceError::new(format!("cannot run git: {e}")),
        })?;
        if output.status.success() {
            return Ok(Ok(output.stdout));
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let line = stderr
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("");
        let reason = ["fatal: ", "error: "]
            .iter()
            .find_map(|p| line.strip_prefix(p))
            .unwrap_or(line);
        let reason = if reason.is_empty() {
            match output.status.code() {
                Some(code) => format!("exit code {code}"),
                None => "killed by a signal".to_owned(),
            }
        } else {
            reason.to_owned()
        };
        Ok(Err(Failure { reason }))
    }

    /// Runs git; a failure is an error describing it.
    fn run(&self, args: &[&str]) -> Result<Vec<u8>, SourceError> {
        self.try_run(args)?.map_err(|f| self.describe(args, &f))
    }

    /// Runs git for one line of text output.
    fn run_line(&self, args: &[&str]) -> Result<String, SourceError> {
        let out = self.run(args)?;
        Ok(String::from_utf8_lossy(&out).trim().to_owned())
    }

    /// A failure as one line, with the usual causes spelt out.
    fn describe(&self, args: &[&str], failure: &Failure) -> SourceError {
        let repo = self.repo.display();
        let reason = &failure.reason;
        if reason.contains("not a git repository") {
            SourceError::new(format!("not a git repository: {repo}"))
        } else if reason.contains("dubious ownership") {
            SourceError::new(format!(
                "git refuses the repository {repo}: it is owned by another user \
                 (trust it with `git config --global --add safe.directory {repo}`)"
            ))
        } else {
            SourceError::new(format!("`git {}` failed: {reason}", args.join(" ")))
        }
    }

    /// The full commit id of `rev`, or `None` if it names no commit.
    fn resolve(&self, rev: &str) -> Result<Option<String>, SourceError> {
        if rev.is_empty() || rev.starts_with('-') || rev.contains(['\0', '\n']) {
            return Ok(None);
        }
        let spec = format!("{rev}^{{commit}}");
        match self.try_run(&["rev-parse", "--verify", "--quiet", &spec])? {
            Ok(out) => Ok(Some(String::from_utf8_lossy(&out).trim().to_owned())),
            Err(_) => Ok(None),
        }
    }

    /// The merge base of two commits, or `None` if they share no history.
    fn merge_base(&self, a: &str, b: &str) -> Result<Option<String>, SourceError> {
        match self.try_run(&["merge-base", a, b])? {
            Ok(out) => Ok(Some(String::from_utf8_lossy(&out).trim().to_owned())),
            Err(f) if f.reason.starts_with("exit code 1") => Ok(None),
            Err(f) => Err(self.describe(&["merge-base", a, b], &f)),
        }
    }

    /// Why two commits may have no merge base: a shallow clone.
    fn shallow_hint(&self) -> &'static str {
        match self.run_line(&["rev-parse", "--is-shallow-repository"]) {
            Ok(answer) if answer == "true" => {
                "; the clone is shallow: fetch the history (e.g. `fetch-depth: 0` in actions/checkout)"
            }
            _ => "",
        }
    }

    /// A file's contents at a commit, if it is at most `cap` bytes (its
    /// size is asked first, so a larger blob is never read).
    fn show(
        &self,
        commit: &str,
        path: &str,
        cap: shipgate_core::bounded::Cap,
    ) -> Result<Vec<u8>, SourceError> {
        let object = format!("{commit}:{path}");
        let size = self.run_line(&["cat-file", "-s", &object])?;
        if size.parse::<u64>().map_or(true, |size| size > cap.bytes) {
            return Err(SourceError::new(format!(
                "`{path}` at {}: {}",
                short(commit),
                shipgate_core::bounded::ReadError::TooLarge { cap }
            )));
        }
        self.run(&["cat-file", "blob", &object])
    }
}

/// Resolves head and base to full commit ids.
fn resolve_range(
    git: &Git,
    config: &GitConfig,
    ctx: &Context,
) -> Result<(String, Option<String>), SourceError> {
    let head_spec = config.head.as_deref().unwrap_or("HEAD");
    if let Some(base_spec) = &config.base {
        let range = format!("{base_spec}..{head_spec}");
        let unknown = |rev: &str| {
            SourceError::new(format!(
                "invalid range `{range}`: unknown revision `{rev}`{}",
                git.shallow_hint()
            ))
        };
        let head = git.resolve(head_spec)?.ok_or_else(|| unknown(head_spec))?;
        let base = git.resolve(base_spec)?.ok_or_else(|| unknown(base_spec))?;
        let merge_base = git.merge_base(&base, &head)?.ok_or_else(|| {
            SourceError::new(format!(
                "invalid range `{range}`: no common history{}",
                git.shallow_hint()
            ))
        })?;
        return Ok((head, Some(merge_base)));
    }

    let head = git.resolve(head_spec)?.ok_or_else(|| {
        SourceError::new(format!(
            "invalid head `{head_spec}`: unknown revision `{head_spec}`{}",
            git.shallow_hint()
        ))
    })?;
    let github_base = ctx.vars.get("GITHUB_BASE_REF").filter(|r| !r.is_empty());
    let candidates: Vec<String> = match &github_base {
        Some(branch) => vec![format!("origin/{branch}"), branch.clone()],
        None => DEFAULT_BRANCHES.map(str::to_owned).to_vec(),
    };
    let mut branch = None;
    for candidate in &candidates {
        if let Some(id) = git.resolve(candidate)? {
            branch = Some((candidate, id));
            break;
        }
    }
    let Some((branch, branch_id)) = branch else {
        return Err(SourceError::new(match &github_base {
            Some(name) => format!(
                "GITHUB_BASE_REF is `{name}` but neither `origin/{name}` nor `{name}` exists here; fetch it or set `base`"
            ),
            None => format!(
                "cannot find the default branch (none of {} exists); set `base` in [sources.git] or pass --base",
                DEFAULT_BRANCHES.join(", ")
            ),
        }));
    };
    let merge_base = git.merge_base(&branch_id, &head)?.ok_or_else(|| {
        SourceError::new(format!(
            "`{head_spec}` and `{branch}` have no common history{}",
            git.shallow_hint()
        ))
    })?;
    if merge_base != head {
        return Ok((head, Some(merge_base)));
    }
    // On the default branch: the change is head's own commit.
    let parent = git.resolve(&format!("{head}^1"))?;
    if parent.is_none() && !git.shallow_hint().is_empty() {
        // Not a root commit: its parent was not fetched.
        return Err(SourceError::new(format!(
            "`{head_spec}` is on the default branch and its parent is missing{}",
            git.shallow_hint()
        )));
    }
    Ok((head, parent))
}

/// One changed file, with its old path if it was renamed or copied.
#[derive(Debug, Clone, PartialEq)]
struct ChangedFile {
    path: String,
    old_path: Option<String>,
    status: FileStatus,
    added: u32,
    removed: u32,
}

/// NUL-separated output as strings (the last, empty piece dropped).
fn nul_fields(out: &[u8]) -> Vec<String> {
    let mut fields: Vec<String> = out
        .split(|b| *b == 0)
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    if fields.last().is_some_and(String::is_empty) {
        fields.pop();
    }
    fields
}

/// The id of the empty tree, in this repository's hash.
fn empty_tree(git: &Git) -> Result<String, SourceError> {
    git.run_line(&["hash-object", "-t", "tree", "--stdin"])
}

fn unexpected(command: &str) -> SourceError {
    SourceError::new(format!("unexpected output from `git {command}`"))
}

/// The files changed from base (or the empty tree) to head, sorted by path.
fn changed_files(
    git: &Git,
    base: Option<&str>,
    head: &str,
) -> Result<Vec<ChangedFile>, SourceError> {
    let from = match base {
        Some(base) => base.to_owned(),
        None => empty_tree(git)?,
    };
    let diff = |format: &str| {
        git.run(&[
            "diff",
            format,
            "-z",
            "-M",
            "--no-ext-diff",
            "--no-textconv",
            "--ignore-submodules=none",
            &from,
            head,
            "--",
        ])
    };

    let mut files: BTreeMap<String, ChangedFile> = BTreeMap::new();
    let status_fields = nul_fields(&diff("--name-status")?);
    let mut fields = status_fields.into_iter();
    while let Some(status) = fields.next() {
        let letter = status
            .chars()
            .next()
            .ok_or_else(|| unexpected("diff --name-status"))?;
        let (status, old_path) = match letter {
            'R' | 'C' => {
                let old = fields
                    .next()
                    .ok_or_else(|| unexpected("diff --name-status"))?;
                let kind = if letter == 'R' {
                    FileStatus::Renamed
                } else {
                    FileStatus::Added
                };
                (kind, Some(old))
            }
            'A' => (FileStatus::Added, None),
            'D' => (FileStatus::Deleted, None),
            _ => (FileStatus::Modified, None),
        };
        let path = fields
            .next()
            .ok_or_else(|| unexpected("diff --name-status"))?;
        files.insert(
            path.clone(),
            ChangedFile {
                path,
                old_path,
                status,
                added: 0,
                removed: 0,
            },
        );
    }

    let numstat_fields = nul_fields(&diff("--numstat")?);
    let mut fields = numstat_fields.into_iter();
    while let Some(record) = fields.next() {
        let mut parts = record.splitn(3, '\t');
        let (Some(added), Some(removed), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(unexpected("diff --numstat"));
        };
        let path = if path.is_empty() {
            // A rename: the old and the new path follow.
            fields.next().ok_or_else(|| unexpected("diff --numstat"))?;
            fields.next().ok_or_else(|| unexpected("diff --numstat"))?
        } else {
            path.to_owned()
        };
        // `-` for binary files: no lines.
        let count = |n: &str| {
            n.parse::<u64>()
                .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX))
        };
        if let Some(file) = files.get_mut(&path) {
            file.added = count(added);
            file.removed = count(removed);
        }
    }
    Ok(files.into_values().collect())
}

/// One commit, with its whole message.
#[derive(Debug)]
struct Commit {
    info: CommitInfo,
    message: String,
}

/// The commits of the range, oldest first.
fn commits(git: &Git, base: Option<&str>, head: &str) -> Result<Vec<Commit>, SourceError> {
    let range = match base {
        Some(base) => format!("{base}..{head}"),
        None => head.to_owned(),
    };
    let out = git.run(&[
        "log",
        "-z",
        "--reverse",
        "--no-color",
        "--format=tformat:%H%x00%an%x00%s%x00%B",
        &range,
        "--",
    ])?;
    let fields = nul_fields(&out);
    if !fields.len().is_multiple_of(4) {
        return Err(unexpected("log"));
    }
    Ok(fields
        .chunks(4)
        .map(|c| Commit {
            info: CommitInfo {
                sha: c[0].trim().to_owned(),
                subject: c[2].clone(),
                author: Some(c[1].clone()).filter(|a| !a.is_empty()),
            },
            message: c[3].clone(),
        })
        .collect())
}

/// A file's text at a commit; absent when the commit is `None`.
fn text_at(
    git: &Git,
    commit: Option<&str>,
    path: &str,
    cap: shipgate_core::bounded::Cap,
) -> Result<String, SourceError> {
    match commit {
        Some(commit) => Ok(String::from_utf8_lossy(&git.show(commit, path, cap)?).into_owned()),
        None => Ok(String::new()),
    }
}

/// A file at a commit: `(commit, path)`; `None` when it is absent there.
type Side<'a> = Option<(&'a str, &'a str)>;

/// The path of `file` at base and at head (`None`: absent there).
fn sides<'a>(file: &'a ChangedFile, base: Option<&'a str>, head: &'a str) -> (Side<'a>, Side<'a>) {
    let before = match file.status {
        FileStatus::Added => None,
        _ => base.map(|b| (b, file.old_path.as_deref().unwrap_or(&file.path))),
    };
    let after = match file.status {
        FileStatus::Deleted => None,
        _ => Some((head, file.path.as_str())),
    };
    (before, after)
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// Dependency changes from the changed lockfiles, one lockfile at a time.
fn dependency_changes(
    git: &Git,
    files: &[ChangedFile],
    base: Option<&str>,
    head: &str,
) -> Result<Vec<shipgate_model::DependencyChange>, SourceError> {
    let mut changes = Vec::new();
    for file in files {
        let Some(kind) = lockfiles::Lockfile::of(&file.path) else {
            continue;
        };
        let (before, after) = sides(file, base, head);
        let read = |side: Side<'_>| -> Result<lockfiles::Locked, SourceError> {
            let Some((commit, path)) = side else {
                return Ok(lockfiles::Locked::new());
            };
            let text = text_at(git, Some(commit), path, shipgate_core::bounded::LOCKFILE)?;
            kind.parse(&text).map_err(|e| {
                SourceError::new(format!(
                    "cannot read the lockfile `{path}` at {}: {e}",
                    short(commit)
                ))
            })
        };
        let (before, after) = (read(before)?, read(after)?);
        changes.extend(lockfiles::diff(kind.ecosystem(), &before, &after));
    }
    changes.sort_by(|a, b| {
        (&a.ecosystem, &a.name, &a.from_version, &a.to_version).cmp(&(
            &b.ecosystem,
            &b.name,
            &b.from_version,
            &b.to_version,
        ))
    });
    changes.dedup();
    Ok(changes)
}

/// Names declared at head but not at base, over the changed declaration
/// files, sorted.
fn env_vars_added(
    git: &Git,
    env_files: &[String],
    files: &[ChangedFile],
    base: Option<&str>,
    head: &str,
) -> Result<Vec<String>, SourceError> {
    let mut before: BTreeSet<String> = BTreeSet::new();
    let mut after: BTreeSet<String> = BTreeSet::new();
    let is_env_file = |path: &str| {
        let name = path.rsplit('/').next().unwrap_or(path);
        env_files.iter().any(|f| f == name)
    };
    for file in files {
        if !is_env_file(&file.path) && !file.old_path.as_deref().is_some_and(is_env_file) {
            continue;
        }
        let (was, is) = sides(file, base, head);
        for (side, names) in [(was, &mut before), (is, &mut after)] {
            let Some((commit, path)) = side else {
                continue;
            };
            if !is_env_file(path) {
                continue;
            }
            let text = text_at(git, Some(commit), path, shipgate_core::bounded::DOTENV)?;
            let declarations = environment::parse_dotenv(&text)
                .map_err(|e| SourceError::new(format!("`{path}` at {}: {e}", short(commit))))?;
            names.extend(declarations.into_iter().map(|d| d.name));
        }
    }
    Ok(after.difference(&before).cloned().collect())
}

/// For the fuzz targets: the dependency changes between two texts of the
/// lockfile `name` (its format chosen by the file name, as the source
/// chooses it), each text read as [`collect`] reads it; `None` when `name`
/// is not a lockfile's.
#[doc(hidden)]
#[doc(hidden)]
pub fn lockfile_changes(
    name: &str,
    before: &str,
    after: &str,
) -> Option<Result<Vec<shipgate_model::DependencyChange>, String>> {
    let kind = lockfiles::Lockfile::of(name)?;
    let changes = kind.parse(before).and_then(|before| {
        let after = kind.parse(after)?;
        Ok(lockfiles::diff(kind.ecosystem(), &before, &after))
    });
    Some(changes)
}

#[cfg(test)]
mod tests;
