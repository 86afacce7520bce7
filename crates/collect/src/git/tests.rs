//! Tests of the `git` source on real repositories made by the test.

use std::cell::Cell;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use shipgate_model::{DependencyChange, DependencyChangeKind, Timestamp};
use tempfile::TempDir;

use super::*;
use crate::MapVars;

/// A repository in a temporary folder, with fixed names and dates.
struct Repo {
    dir: TempDir,
    clock: Cell<u64>,
}

impl Repo {
    fn new() -> Repo {
        let repo = Repo {
            dir: TempDir::new().unwrap(),
            clock: Cell::new(0),
        };
        repo.git(&["init", "-q"]);
        repo
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs git in the repository; the test fails if git does.
    fn git(&self, args: &[&str]) -> String {
        let date = format!("@{} +0000", 1_793_000_000 + self.clock.get() * 60);
        let mut command = Command::new("git");
        command
            .arg("-C")
            .arg(self.path())
            .args([
                "-c",
                "init.defaultBranch=main",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Ada Lovelace")
            .env("GIT_AUTHOR_EMAIL", "ada@example.com")
            .env("GIT_COMMITTER_NAME", "Ada Lovelace")
            .env("GIT_COMMITTER_EMAIL", "ada@example.com")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date);
        for var in REPOSITORY_VARS {
            command.env_remove(var);
        }
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    fn write(&self, path: &str, contents: impl AsRef<[u8]>) {
        let full = self.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, contents).unwrap();
    }

    fn remove(&self, path: &str) {
        std::fs::remove_file(self.path().join(path)).unwrap();
    }

    /// Commits everything; returns the commit id.
    fn commit(&self, message: &str) -> String {
        self.clock.set(self.clock.get() + 1);
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    fn ctx(&self, vars: MapVars) -> Context {
        Context {
            base_dir: self.path().to_owned(),
            now: Timestamp(0),
            vars: Arc::new(vars),
            commit: None,
        }
    }

    fn collect(&self, config: &GitConfig) -> Result<GitFacts, SourceError> {
        collect(config, &self.ctx(MapVars::default()))
    }
}

fn file(path: &str, status: FileStatus, added: u32, removed: u32) -> FileChange {
    FileChange {
        path: path.to_owned(),
        status,
        lines_added: added,
        lines_removed: removed,
    }
}

fn dep(
    ecosystem: &str,
    name: &str,
    change: DependencyChangeKind,
    from: Option<&str>,
    to: Option<&str>,
) -> DependencyChange {
    DependencyChange {
        ecosystem: ecosystem.to_owned(),
        name: name.to_owned(),
        change,
        from_version: from.map(str::to_owned),
        to_version: to.map(str::to_owned),
    }
}

fn config(toml_text: &str) -> GitConfig {
    toml::from_str(toml_text).unwrap()
}

fn cargo_lock(serde: &str) -> String {
    format!(
        r#"version = 4

[[package]]
name = "anyhow"
version = "1.0.75"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "app"
version = "0.1.0"

[[package]]
name = "serde"
version = "{serde}"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#
    )
}

fn package_lock(is_odd: bool) -> String {
    let extra = if is_odd {
        "    \"node_modules/is-odd\": { \"version\": \"3.0.1\" },\n"
    } else {
        ""
    };
    format!(
        "{{\n  \"name\": \"shop\",\n  \"lockfileVersion\": 3,\n  \"packages\": {{\n    \"\": {{ \"name\": \"shop\" }},\n{extra}    \"node_modules/left-pad\": {{ \"version\": \"1.3.0\" }}\n  }}\n}}\n"
    )
}

/// The main scenario: `main` with one commit, then a feature branch with
/// seven commits, then one more commit on `main`.
struct Scenario {
    repo: Repo,
    initial: String,
    feature: Vec<String>,
    main_only: String,
}

fn scenario() -> Scenario {
    let repo = Repo::new();
    repo.write("README.md", "# shop\n");
    repo.write("Cargo.lock", cargo_lock("1.0.1"));
    repo.write("package-lock.json", package_lock(false));
    repo.write(".env.example", "# Postgres URL\nDATABASE_URL=\nPORT=8080\n");
    repo.write("docs/guide.md", "# Guide\n\nHow to deploy.\n");
    repo.write("src/lib.rs", "pub fn parse() {}\n");
    repo.write(
        "services/payments/charge.rs",
        "pub fn charge() {}\npub fn v1() {}\n",
    );
    let initial = repo.commit("chore: initial commit");

    repo.git(&["switch", "-q", "-c", "feature"]);
    let mut feature = Vec::new();
    repo.write(
        "db/migrate/20261101_add_orders.rb",
        "class AddOrders < ActiveRecord::Migration[7.1]\n  def change = create_table(:orders)\nend\n",
    );
    feature.push(repo.commit("feat(db): add orders table"));
    repo.write(
        ".env.example",
        "# Postgres URL\nDATABASE_URL=\nPORT=8080\n# Signs webhook payloads\nPAYMENTS_WEBHOOK_SECRET=\n",
    );
    repo.write("services/payments/.env.sample", "STRIPE_KEY=\n");
    feature.push(repo.commit("feat: configure the payments webhook"));
    repo.write("Cargo.lock", cargo_lock("1.0.2"));
    repo.write("package-lock.json", package_lock(true));
    feature.push(repo.commit("build(deps): bump serde, add is-odd"));
    repo.write("services/payments/charge.rs", "pub fn charge() {}\n");
    feature.push(repo.commit("feat(api)!: drop the v1 endpoints"));
    repo.write("docs/guide.md", "# Guide\n\nHow to deploy safely.\n");
    feature.push(repo.commit("docs: explain the release"));
    repo.write("src/lib.rs", "pub fn parse() -> bool {\n    true\n}\n");
    feature.push(repo.commit(
        "fix: handle breaking change in parser\n\nThe parser no longer chokes on a breaking change note.",
    ));
    repo.write("config/keys.toml", "deadline = 5\n");
    feature.push(repo.commit(
        "refactor!: rename the config keys\n\nBREAKING CHANGE: `timeout` is now `deadline`\nReviewed-by: Grace",
    ));

    repo.git(&["switch", "-q", "main"]);
    repo.write("docs/main.md", "only on main\n");
    let main_only = repo.commit("docs: main-only note");
    repo.git(&["switch", "-q", "feature"]);
    Scenario {
        repo,
        initial,
        feature,
        main_only,
    }
}

#[test]
fn feature_branch_against_its_merge_base() {
    let s = scenario();
    let facts = s
        .repo
        .collect(&config(
            r#"
[areas]
payments = ["services/payments/**", "**/billing/**"]
docs = ["docs/**", "*.md"]
infra = ["deploy/**"]
"#,
        ))
        .unwrap();
    assert_eq!(facts.head, s.feature[6]);
    assert_eq!(facts.head, s.repo.git(&["rev-parse", "feature"]));
    assert_eq!(facts.base.as_deref(), Some(s.initial.as_str()));

    use FileStatus::{Added, Modified};
    assert_eq!(
        facts.change.files,
        vec![
            file(".env.example", Modified, 2, 0),
            file("Cargo.lock", Modified, 1, 1),
            file("config/keys.toml", Added, 1, 0),
            file("db/migrate/20261101_add_orders.rb", Added, 3, 0),
            file("docs/guide.md", Modified, 1, 1),
            file("package-lock.json", Modified, 1, 0),
            file("services/payments/.env.sample", Added, 1, 0),
            file("services/payments/charge.rs", Modified, 0, 1),
            file("src/lib.rs", Modified, 3, 1),
        ]
    );

    let subjects: Vec<(&str, &str, Option<&str>)> = facts
        .change
        .commits
        .iter()
        .map(|c| (c.sha.as_str(), c.subject.as_str(), c.author.as_deref()))
        .collect();
    let expected_subjects = [
        "feat(db): add orders table",
        "feat: configure the payments webhook",
        "build(deps): bump serde, add is-odd",
        "feat(api)!: drop the v1 endpoints",
        "docs: explain the release",
        "fix: handle breaking change in parser",
        "refactor!: rename the config keys",
    ];
    let expected: Vec<(&str, &str, Option<&str>)> = s
        .feature
        .iter()
        .zip(expected_subjects)
        .map(|(sha, subject)| (sha.as_str(), subject, Some("Ada Lovelace")))
        .collect();
    assert_eq!(subjects, expected);

    assert_eq!(
        facts.change.breaking_changes,
        vec![
            BreakingChange {
                source: s.feature[3].clone(),
                description: "feat(api)!: drop the v1 endpoints".to_owned(),
            },
            BreakingChange {
                source: s.feature[6].clone(),
                description: "`timeout` is now `deadline`".to_owned(),
            },
        ]
    );
    assert_eq!(
        facts.change.migrations,
        vec![Migration {
            path: "db/migrate/20261101_add_orders.rb".to_owned(),
            framework: Some("rails".to_owned()),
        }]
    );
    assert_eq!(
        facts.change.dependency_changes,
        vec![
            dep(
                "cargo",
                "serde",
                DependencyChangeKind::Updated,
                Some("1.0.1"),
                Some("1.0.2")
            ),
            dep(
                "npm",
                "is-odd",
                DependencyChangeKind::Added,
                None,
                Some("3.0.1")
            ),
        ]
    );
    assert_eq!(facts.change.areas, ["docs", "payments"]);
    assert_eq!(
        facts.env_vars_added,
        ["PAYMENTS_WEBHOOK_SECRET", "STRIPE_KEY"]
    );
}

#[test]
fn explicit_base() {
    let s = scenario();
    // An ancestor of head: the range starts there.
    let facts = s
        .repo
        .collect(&GitConfig {
            base: Some(s.feature[2].clone()),
            ..GitConfig::default()
        })
        .unwrap();
    assert_eq!(facts.base.as_deref(), Some(s.feature[2].as_str()));
    let shas: Vec<&str> = facts
        .change
        .commits
        .iter()
        .map(|c| c.sha.as_str())
        .collect();
    assert_eq!(
        shas,
        [&s.feature[3], &s.feature[4], &s.feature[5], &s.feature[6]]
    );
    let paths: Vec<&str> = facts.change.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "config/keys.toml",
            "docs/guide.md",
            "services/payments/charge.rs",
            "src/lib.rs"
        ]
    );
    assert_eq!(facts.change.migrations, vec![]);
    assert_eq!(facts.change.dependency_changes, vec![]);
    assert_eq!(facts.env_vars_added, Vec::<String>::new());
    assert_eq!(facts.change.breaking_changes.len(), 2);

    // `main` moved on since the branch: its merge base is the base, so the
    // main-only file is not part of the change.
    let facts = s
        .repo
        .collect(&config("base = \"main\"\nhead = \"feature\""))
        .unwrap();
    assert_eq!(facts.base.as_deref(), Some(s.initial.as_str()));
    assert_eq!(facts.change.commits.len(), 7);
    assert!(!facts.change.files.iter().any(|f| f.path == "docs/main.md"));

    // head = base: an empty change.
    let facts = s.repo.collect(&config("base = \"HEAD\"")).unwrap();
    assert_eq!(facts.base.as_deref(), Some(facts.head.as_str()));
    assert_eq!(facts.change, Change::default());
}

#[test]
fn default_base_candidates_and_github_base_ref() {
    let s = scenario();
    // origin/main comes before main.
    s.repo
        .git(&["update-ref", "refs/remotes/origin/main", &s.feature[0]]);
    let facts = s.repo.collect(&GitConfig::default()).unwrap();
    assert_eq!(facts.base.as_deref(), Some(s.feature[0].as_str()));

    // GITHUB_BASE_REF: origin/<ref> first, then <ref>.
    s.repo
        .git(&["update-ref", "refs/remotes/origin/release", &s.feature[1]]);
    let with = |value: &str| {
        collect(
            &GitConfig::default(),
            &s.repo.ctx(MapVars::new([("GITHUB_BASE_REF", value)])),
        )
    };
    assert_eq!(
        with("release").unwrap().base.as_deref(),
        Some(s.feature[1].as_str())
    );
    s.repo.git(&["branch", "local-only", &s.feature[4]]);
    assert_eq!(
        with("local-only").unwrap().base.as_deref(),
        Some(s.feature[4].as_str())
    );
    assert_eq!(
        with("gone").unwrap_err().0,
        "GITHUB_BASE_REF is `gone` but neither `origin/gone` nor `gone` exists here; fetch it or set `base`"
    );
}

#[test]
fn on_the_default_branch_the_base_is_the_parent() {
    let s = scenario();
    let facts = s.repo.collect(&config("head = \"main\"")).unwrap();
    assert_eq!(facts.head, s.main_only);
    assert_eq!(facts.base.as_deref(), Some(s.initial.as_str()));
    assert_eq!(
        facts.change.files,
        vec![file("docs/main.md", FileStatus::Added, 1, 0)]
    );
    assert_eq!(facts.change.commits.len(), 1);
    assert_eq!(facts.change.commits[0].subject, "docs: main-only note");
}

#[test]
fn root_commit_diffs_against_the_empty_tree() {
    let repo = Repo::new();
    repo.write(".env.example", "A=\nB=1\n");
    repo.write("requirements.txt", "flask==3.0.0\n");
    repo.write("migrations/0001_init.up.sql", "create table t (id int);\n");
    let root = repo.commit("feat!: first");
    let facts = repo.collect(&GitConfig::default()).unwrap();
    assert_eq!(facts.head, root);
    assert_eq!(facts.base, None);
    assert_eq!(
        facts.change.files,
        vec![
            file(".env.example", FileStatus::Added, 2, 0),
            file("migrations/0001_init.up.sql", FileStatus::Added, 1, 0),
            file("requirements.txt", FileStatus::Added, 1, 0),
        ]
    );
    assert_eq!(facts.change.commits.len(), 1);
    assert_eq!(
        facts.change.breaking_changes,
        vec![BreakingChange {
            source: root,
            description: "feat!: first".to_owned(),
        }]
    );
    assert_eq!(
        facts.change.migrations,
        vec![Migration {
            path: "migrations/0001_init.up.sql".to_owned(),
            framework: Some("golang-migrate".to_owned()),
        }]
    );
    assert_eq!(
        facts.change.dependency_changes,
        vec![dep(
            "pypi",
            "flask",
            DependencyChangeKind::Added,
            None,
            Some("3.0.0")
        )]
    );
    assert_eq!(facts.env_vars_added, ["A", "B"]);
}

#[test]
fn renames_binaries_deletions_and_odd_names() {
    let repo = Repo::new();
    let lines: String = (1..=10).map(|i| format!("line {i}\n")).collect();
    repo.write("old name.txt", &lines);
    repo.write("requirements.txt", "Flask==3.0.0\n");
    repo.write("gone.txt", "bye\n");
    let settings = "# Settings for the service\n# Keep this file in sync\nKEEP=\n";
    repo.write("config/.env.example", settings);
    let base = repo.commit("chore: start");
    repo.git(&["switch", "-q", "-c", "topic"]);
    repo.remove("old name.txt");
    repo.write(
        "docs/new näme.txt",
        lines.replace("line 5\n", "line five\n"),
    );
    repo.write("assets/logo.bin", [0u8, 159, 146, 150, 0, 255, 1, 2]);
    repo.write("weird\tname \"quoted\".md", "a\nb\n");
    repo.remove("requirements.txt");
    repo.remove("gone.txt");
    // A renamed declaration file: only new names are added.
    repo.remove("config/.env.example");
    repo.write("settings/.env.example", format!("{settings}NEW_ONE=\n"));
    repo.commit("refactor: move things");

    let facts = repo
        .collect(&config(
            "[areas]\nlegacy = [\"old name.txt\"]\nassets = [\"assets/*\"]\nnone = [\"*.rs\"]",
        ))
        .unwrap();
    assert_eq!(facts.base.as_deref(), Some(base.as_str()));
    use FileStatus::{Added, Deleted, Renamed};
    assert_eq!(
        facts.change.files,
        vec![
            file("assets/logo.bin", Added, 0, 0),
            file("docs/new näme.txt", Renamed, 1, 1),
            file("gone.txt", Deleted, 0, 1),
            file("requirements.txt", Deleted, 0, 1),
            file("settings/.env.example", Renamed, 1, 0),
            file("weird\tname \"quoted\".md", Added, 2, 0),
        ]
    );
    assert_eq!(facts.change.areas, ["assets", "legacy"]);
    assert_eq!(
        facts.change.dependency_changes,
        vec![dep(
            "pypi",
            "flask",
            DependencyChangeKind::Removed,
            Some("3.0.0"),
            None
        )]
    );
    assert_eq!(facts.env_vars_added, ["NEW_ONE"]);
    assert_eq!(facts.change.migrations, vec![]);
}

#[test]
fn errors_are_one_line_and_name_the_problem() {
    let s = scenario();
    let err = s.repo.collect(&config("base = \"nope\"")).unwrap_err();
    assert_eq!(err.0, "invalid range `nope..HEAD`: unknown revision `nope`");
    let err = s
        .repo
        .collect(&config("base = \"main\"\nhead = \"--output=x\""))
        .unwrap_err();
    assert_eq!(
        err.0,
        "invalid range `main..--output=x`: unknown revision `--output=x`"
    );
    let err = s.repo.collect(&config("head = \"nope\"")).unwrap_err();
    assert_eq!(err.0, "invalid head `nope`: unknown revision `nope`");

    let plain = TempDir::new().unwrap();
    let ctx = Context {
        base_dir: plain.path().to_owned(),
        now: Timestamp(0),
        vars: Arc::new(MapVars::default()),
        commit: None,
    };
    let err = collect(&GitConfig::default(), &ctx).unwrap_err();
    assert_eq!(
        err.0,
        format!("not a git repository: {}", plain.path().display())
    );
    let err = collect(&config("repo = \"missing\""), &ctx).unwrap_err();
    assert_eq!(
        err.0,
        format!(
            "not a git repository: {} (no such folder)",
            plain.path().join("missing").display()
        )
    );

    let err = s
        .repo
        .collect(&config("[areas]\nbad = [\"a/***\"]"))
        .unwrap_err();
    assert!(
        err.0.starts_with("invalid glob `a/***` in areas.bad: "),
        "{err}"
    );

    // No default branch to compare with.
    let trunk = Repo::new();
    trunk.git(&["switch", "-q", "-c", "trunk"]);
    trunk.write("a", "a\n");
    trunk.commit("one");
    let err = trunk.collect(&GitConfig::default()).unwrap_err();
    assert_eq!(
        err.0,
        "cannot find the default branch (none of origin/HEAD, origin/main, origin/master, main, master exists); set `base` in [sources.git] or pass --base"
    );

    // Unrelated histories.
    trunk.git(&["switch", "-q", "--orphan", "other"]);
    trunk.write("b", "b\n");
    trunk.commit("two");
    let err = trunk.collect(&config("base = \"trunk\"")).unwrap_err();
    assert_eq!(err.0, "invalid range `trunk..HEAD`: no common history");
}

#[test]
fn a_shallow_clone_is_not_taken_for_a_root_commit() {
    let s = scenario();
    let clone = TempDir::new().unwrap();
    let url = format!("file://{}", s.repo.path().display());
    s.repo.git(&[
        "clone",
        "-q",
        "--depth",
        "1",
        "--branch",
        "main",
        &url,
        clone.path().to_str().unwrap(),
    ]);
    let ctx = Context {
        base_dir: clone.path().to_owned(),
        now: Timestamp(0),
        vars: Arc::new(MapVars::default()),
        commit: None,
    };
    let hint =
        "; the clone is shallow: fetch the history (e.g. `fetch-depth: 0` in actions/checkout)";
    let err = collect(&GitConfig::default(), &ctx).unwrap_err();
    assert_eq!(
        err.0,
        format!("`HEAD` is on the default branch and its parent is missing{hint}")
    );
    let base = &s.initial;
    let err = collect(&config(&format!("base = \"{base}\"")), &ctx).unwrap_err();
    assert_eq!(
        err.0,
        format!("invalid range `{base}..HEAD`: unknown revision `{base}`{hint}")
    );
}

#[test]
fn a_malformed_lockfile_fails_the_source() {
    let repo = Repo::new();
    repo.write("web/package-lock.json", package_lock(false));
    repo.commit("chore: start");
    repo.git(&["switch", "-q", "-c", "topic"]);
    repo.write("web/package-lock.json", "{ not json\n");
    let head = repo.commit("chore: break the lockfile");
    let err = repo.collect(&GitConfig::default()).unwrap_err();
    assert_eq!(
        err.0,
        format!(
            "cannot read the lockfile `web/package-lock.json` at {}: key must be a string at line 1 column 3",
            &head[..12]
        )
    );

    // The same for a malformed declaration file.
    repo.write("web/.env.example", "OK=1\nthis is not an assignment\n");
    repo.commit("chore: break the example");
    repo.write("web/package-lock.json", package_lock(false));
    repo.commit("chore: fix the lockfile");
    let err = repo.collect(&GitConfig::default()).unwrap_err();
    assert_eq!(
        err.0,
        format!(
            "`web/.env.example` at {}: line 2 is not `NAME=value`",
            &repo.git(&["rev-parse", "HEAD"])[..12]
        )
    );
}

#[test]
fn configuration() {
    let c = GitConfig::default();
    assert!(c.default_migrations);
    assert_eq!(
        c.env_files,
        [".env.example", ".env.sample", ".env.template"]
    );
    let c = config(
        r#"
repo = "sub"
base = "v1.2.0"
head = "HEAD~1"
migrations = ["schema/*.sql"]
default_migrations = false
env_files = [".env.dist"]
timeout = "5s"
[areas]
payments = ["services/payments/**"]
"#,
    );
    assert_eq!(c.repo.as_deref(), Some(Path::new("sub")));
    assert_eq!(c.migrations, ["schema/*.sql"]);
    assert!(!c.default_migrations);
    assert_eq!(c.env_files, [".env.dist"]);
    assert_eq!(c.areas["payments"], ["services/payments/**"]);
    assert!(toml::from_str::<GitConfig>("bases = \"x\"").is_err());
}

/// One framework's layout: the files a commit adds to a repository, and
/// which of them are migrations (path, framework), in path order.
struct Layout {
    name: &'static str,
    files: &'static [&'static str],
    migrations: &'static [(&'static str, Option<&'static str>)],
}

/// Real projects' layouts, each with files next to its migrations that are
/// not migrations.
const LAYOUTS: &[Layout] = &[
    Layout {
        name: "rails",
        files: &[
            "db/migrate/20261122000000_add_orders.rb",
            "db/schema.rb",
            "db/seeds.rb",
            "app/models/migration.rb",
            "lib/tasks/migrate.rake",
        ],
        migrations: &[("db/migrate/20261122000000_add_orders.rb", Some("rails"))],
    },
    Layout {
        // Issue 14: SQL in Rails' folder was classified risk `low`.
        name: "sql in db/migrate",
        files: &["db/migrate/20261122_add_orders.sql", "db/migrate/README.md"],
        migrations: &[("db/migrate/20261122_add_orders.sql", None)],
    },
    Layout {
        name: "django",
        files: &[
            "shop/orders/migrations/0001_initial.py",
            "shop/orders/migrations/0002_order_total.py",
            "shop/orders/migrations/__init__.py",
            "shop/orders/models.py",
            "shop/orders/management/commands/migrate_orders.py",
        ],
        migrations: &[
            ("shop/orders/migrations/0001_initial.py", Some("django")),
            ("shop/orders/migrations/0002_order_total.py", Some("django")),
        ],
    },
    Layout {
        name: "alembic",
        files: &[
            "alembic/versions/3f2a1b_add_orders.py",
            "alembic/env.py",
            "alembic/script.py.mako",
            "alembic.ini",
        ],
        migrations: &[("alembic/versions/3f2a1b_add_orders.py", Some("alembic"))],
    },
    Layout {
        name: "flask-migrate (alembic in migrations/)",
        files: &[
            "migrations/versions/9c1d_add_orders.py",
            "migrations/env.py",
            "migrations/alembic.ini",
            "migrations/script.py.mako",
            "migrations/README",
        ],
        migrations: &[("migrations/versions/9c1d_add_orders.py", Some("alembic"))],
    },
    Layout {
        name: "flyway",
        files: &[
            "src/main/resources/db/migration/V2__add_orders.sql",
            "src/main/resources/db/migration/R__orders_view.sql",
            "src/main/java/com/acme/db/migration/V3__Backfill.java",
            "src/main/resources/application.yml",
        ],
        migrations: &[
            (
                "src/main/java/com/acme/db/migration/V3__Backfill.java",
                Some("flyway"),
            ),
            (
                "src/main/resources/db/migration/R__orders_view.sql",
                Some("flyway"),
            ),
            (
                "src/main/resources/db/migration/V2__add_orders.sql",
                Some("flyway"),
            ),
        ],
    },
    Layout {
        name: "liquibase",
        files: &[
            "src/main/resources/db/changelog/db.changelog-master.yaml",
            "src/main/resources/db/changelog/changes/002-orders.xml",
            "src/main/java/com/acme/liquibase/LiquibaseConfig.java",
        ],
        migrations: &[
            (
                "src/main/resources/db/changelog/changes/002-orders.xml",
                Some("liquibase"),
            ),
            (
                "src/main/resources/db/changelog/db.changelog-master.yaml",
                Some("liquibase"),
            ),
        ],
    },
    Layout {
        name: "prisma",
        files: &[
            "prisma/migrations/20261122000000_add_orders/migration.sql",
            "prisma/migrations/migration_lock.toml",
            "prisma/schema.prisma",
        ],
        migrations: &[(
            "prisma/migrations/20261122000000_add_orders/migration.sql",
            Some("prisma"),
        )],
    },
    Layout {
        name: "golang-migrate",
        files: &[
            "db/migrations/000002_add_orders.up.sql",
            "db/migrations/000002_add_orders.down.sql",
            "internal/db/migrate.go",
        ],
        migrations: &[(
            "db/migrations/000002_add_orders.up.sql",
            Some("golang-migrate"),
        )],
    },
    Layout {
        name: "sqlx",
        files: &[
            "migrations/20261122000000_add_orders.sql",
            "src/migrate.rs",
            "src/db.rs",
        ],
        migrations: &[("migrations/20261122000000_add_orders.sql", None)],
    },
    Layout {
        name: "diesel",
        files: &[
            "migrations/2026-11-22-000000_add_orders/up.sql",
            "migrations/2026-11-22-000000_add_orders/down.sql",
            "src/schema.rs",
            "diesel.toml",
        ],
        migrations: &[(
            "migrations/2026-11-22-000000_add_orders/up.sql",
            Some("diesel"),
        )],
    },
    Layout {
        name: "knex",
        files: &[
            "migrations/20261122000000_add_orders.js",
            "src/migrations/20261123000000_add_items.ts",
            "knexfile.js",
            "src/migrate.ts",
        ],
        migrations: &[
            ("migrations/20261122000000_add_orders.js", None),
            ("src/migrations/20261123000000_add_items.ts", None),
        ],
    },
    Layout {
        name: "ecto",
        files: &[
            "priv/repo/migrations/20261122000000_add_orders.exs",
            "priv/repo/seeds.exs",
            "lib/shop/release.ex",
        ],
        migrations: &[(
            "priv/repo/migrations/20261122000000_add_orders.exs",
            Some("ecto"),
        )],
    },
    Layout {
        name: "laravel",
        files: &[
            "database/migrations/2026_11_22_000000_create_orders_table.php",
            "database/seeders/OrderSeeder.php",
        ],
        migrations: &[(
            "database/migrations/2026_11_22_000000_create_orders_table.php",
            Some("laravel"),
        )],
    },
    Layout {
        name: "entity framework",
        files: &[
            "src/Shop/Migrations/20261122000000_AddOrders.cs",
            "src/Shop/Migrations/20261122000000_AddOrders.Designer.cs",
            "src/Shop/Data/ShopContext.cs",
        ],
        migrations: &[
            (
                "src/Shop/Migrations/20261122000000_AddOrders.Designer.cs",
                Some("entity-framework"),
            ),
            (
                "src/Shop/Migrations/20261122000000_AddOrders.cs",
                Some("entity-framework"),
            ),
        ],
    },
    Layout {
        name: "no migration at all",
        files: &[
            "docs/migrations.md",
            "src/migrate.rs",
            "src/migration.rs",
            "src/migrations/mod.rs",
            "CHANGELOG.md",
            "scripts/migrate.sh",
        ],
        migrations: &[],
    },
];

#[test]
fn each_frameworks_layout_counts_its_migrations_and_nothing_else() {
    for layout in LAYOUTS {
        let repo = Repo::new();
        repo.write("README.md", "# shop\n");
        repo.commit("chore: initial commit");
        for path in layout.files {
            repo.write(path, format!("-- {path}\n"));
        }
        repo.commit("feat: orders");
        let facts = repo.collect(&config("base = \"HEAD~1\"")).unwrap();
        let mut paths: Vec<&str> = facts.change.files.iter().map(|f| f.path.as_str()).collect();
        let mut written = layout.files.to_vec();
        written.sort_unstable();
        paths.sort_unstable();
        assert_eq!(paths, written, "{}", layout.name);
        let expected: Vec<Migration> = layout
            .migrations
            .iter()
            .map(|(path, framework)| Migration {
                path: (*path).to_owned(),
                framework: framework.map(str::to_owned),
            })
            .collect();
        assert_eq!(facts.change.migrations, expected, "{}", layout.name);
    }
}
