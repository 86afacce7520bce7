//! Which changed files are database migrations, and of which framework.
//!
//! The default globs, tried in this order (the first that matches names the
//! framework); each matches at any depth, so `services/api/db/migrate/x.rb`
//! is a Rails migration in a monorepo:
//!
//! | glob | framework |
//! | --- | --- |
//! | `**/db/migrate/*.rb` | `rails` |
//! | `**/prisma/migrations/*/migration.sql` | `prisma` |
//! | `**/alembic/versions/*.py`, `**/migrations/versions/*.py` | `alembic` |
//! | `**/db/migration/**/*.sql`, `**/db/migration/**/*.java` (also under `src/main/resources/`) | `flyway` |
//! | `**/priv/repo/migrations/*.exs` | `ecto` |
//! | `**/migrations/*/up.sql` | `diesel` |
//! | `**/*.up.sql` | `golang-migrate` |
//! | `**/migrations/*.py` | `django` |
//! | `**/migrations/**` | none (a generic migrations folder: knex, sqlx, plain SQL...) |
//!
//! The defaults skip files that are not migrations themselves: `__init__.py`,
//! `*.pyc`, `*.md`, `README*`, `.gitkeep`, `.keep`, Prisma's
//! `migration_lock.toml`, and down migrations (`down.sql`, `*.down.sql`),
//! which come with their up migration. Globs from the configuration
//! (`migrations = [...]`) are tried after the defaults, as written, and
//! name no framework.

use glob::{MatchOptions, Pattern};

use super::super::support::SourceError;

/// `*` stays within a folder, `**` spans folders (as in the `risk` policy).
pub(super) const MATCH: MatchOptions = MatchOptions {
    case_sensitive: true,
    require_literal_separator: true,
    require_literal_leading_dot: false,
};

/// The default globs and their frameworks, in the order they are tried.
pub(super) const DEFAULTS: &[(&str, Option<&str>)] = &[
    ("**/db/migrate/*.rb", Some("rails")),
    ("**/prisma/migrations/*/migration.sql", Some("prisma")),
    ("**/alembic/versions/*.py", Some("alembic")),
    ("**/migrations/versions/*.py", Some("alembic")),
    ("**/db/migration/**/*.sql", Some("flyway")),
    ("**/db/migration/**/*.java", Some("flyway")),
    ("**/priv/repo/migrations/*.exs", Some("ecto")),
    ("**/migrations/*/up.sql", Some("diesel")),
    ("**/*.up.sql", Some("golang-migrate")),
    ("**/migrations/*.py", Some("django")),
    ("**/migrations/**", None),
];

/// Compiled migration globs.
#[derive(Debug)]
pub(super) struct Migrations {
    defaults: Vec<(Pattern, Option<&'static str>)>,
    extra: Vec<Pattern>,
}

impl Migrations {
    /// The defaults (unless `defaults` is false) and `extra` globs.
    pub(super) fn new(defaults: bool, extra: &[String]) -> Result<Self, SourceError> {
        let mut compiled = Vec::new();
        if defaults {
            for (glob, framework) in DEFAULTS {
                compiled.push((compile(glob, "migrations")?, *framework));
            }
        }
        let extra = extra
            .iter()
            .map(|g| compile(g, "migrations"))
            .collect::<Result<_, _>>()?;
        Ok(Migrations {
            defaults: compiled,
            extra,
        })
    }

    /// `None` if `path` is not a migration; else `Some(framework)`.
    pub(super) fn classify(&self, path: &str) -> Option<Option<String>> {
        if !skipped_by_defaults(path) {
            for (pattern, framework) in &self.defaults {
                if pattern.matches_with(path, MATCH) {
                    return Some(framework.map(str::to_owned));
                }
            }
        }
        self.extra
            .iter()
            .any(|p| p.matches_with(path, MATCH))
            .then_some(None)
    }
}

/// Compiles a glob from the configuration; `key` names where it came from.
pub(super) fn compile(glob: &str, key: &str) -> Result<Pattern, SourceError> {
    Pattern::new(glob)
        .map_err(|e| SourceError::new(format!("invalid glob `{glob}` in {key}: {}", e.msg)))
}

/// Files in migration folders that are not migrations.
fn skipped_by_defaults(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(
        name,
        "__init__.py" | ".gitkeep" | ".keep" | "migration_lock.toml" | "down.sql"
    ) || name.starts_with("README")
        || name.ends_with(".md")
        || name.ends_with(".pyc")
        || name.ends_with(".down.sql")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_globs_name_the_framework() {
        let m = Migrations::new(true, &[]).unwrap();
        let cases: &[(&str, Option<Option<&str>>)] = &[
            ("db/migrate/20261101_add_orders.rb", Some(Some("rails"))),
            ("services/api/db/migrate/20261101_x.rb", Some(Some("rails"))),
            ("db/migrate/helpers/util.rb", None),
            (
                "prisma/migrations/20261101_init/migration.sql",
                Some(Some("prisma")),
            ),
            ("prisma/migrations/migration_lock.toml", None),
            ("alembic/versions/abc123_add.py", Some(Some("alembic"))),
            ("migrations/versions/abc123_add.py", Some(Some("alembic"))),
            ("db/migration/V1__init.sql", Some(Some("flyway"))),
            (
                "src/main/resources/db/migration/V2__x.sql",
                Some(Some("flyway")),
            ),
            (
                "app/src/main/resources/db/migration/v1/V3__y.sql",
                Some(Some("flyway")),
            ),
            ("priv/repo/migrations/20261101_add.exs", Some(Some("ecto"))),
            (
                "migrations/2026-11-01-000000_create/up.sql",
                Some(Some("diesel")),
            ),
            ("migrations/2026-11-01-000000_create/down.sql", None),
            (
                "migrations/000001_create.up.sql",
                Some(Some("golang-migrate")),
            ),
            ("db/000001_create.up.sql", Some(Some("golang-migrate"))),
            ("db/000001_create.down.sql", None),
            (
                "shop/orders/migrations/0002_order_total.py",
                Some(Some("django")),
            ),
            ("shop/orders/migrations/__init__.py", None),
            ("migrations/20261101_add_users.js", Some(None)),
            ("packages/db/migrations/001.sql", Some(None)),
            ("migrations/README.md", None),
            ("migrations/.gitkeep", None),
            ("src/migrate.rs", None),
            ("docs/migrations.md", None),
            ("up.sql", None),
        ];
        for (path, expected) in cases {
            let got = m.classify(path);
            assert_eq!(got.as_ref().map(|f| f.as_deref()), *expected, "{path}");
        }
    }

    #[test]
    fn configured_globs_add_or_replace() {
        let m = Migrations::new(true, &["schema/changes/*.sql".to_owned()]).unwrap();
        assert_eq!(m.classify("schema/changes/001.sql"), Some(None));
        assert_eq!(m.classify("schema/changes/a/001.sql"), None);
        assert_eq!(
            m.classify("db/migrate/1_x.rb"),
            Some(Some("rails".to_owned()))
        );

        let only = Migrations::new(false, &["schema/**/*.sql".to_owned()]).unwrap();
        assert_eq!(only.classify("db/migrate/1_x.rb"), None);
        assert_eq!(only.classify("schema/a/b/1.sql"), Some(None));
        // Without the defaults, a configured glob is taken as written.
        let readme = Migrations::new(false, &["migrations/*".to_owned()]).unwrap();
        assert_eq!(readme.classify("migrations/README.md"), Some(None));

        let err = Migrations::new(true, &["a/***".to_owned()]).unwrap_err();
        assert!(
            err.0.starts_with("invalid glob `a/***` in migrations: "),
            "{err}"
        );
    }
}
