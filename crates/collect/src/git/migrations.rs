//! Which changed files are database migrations, and of which framework.
//!
//! The default globs, tried in this order (the first that matches names the
//! framework); each matches at any depth, so `services/api/db/migrate/x.rb`
//! is a Rails migration in a monorepo:
//!
//! | glob | framework |
//! | --- | --- |
//! | `**/db/migrate/*.rb` | `rails` |
//! | `**/db/migrate/*` | none (SQL or other files in Rails' folder) |
//! | `**/prisma/migrations/*/migration.sql` | `prisma` |
//! | `**/alembic/versions/*.py`, `**/migrations/versions/*.py` | `alembic` |
//! | `**/db/migration/**/*.sql`, `.java`, `.kt` (also under `src/main/resources/`) | `flyway` |
//! | `**/db/changelog/**`, `**/db.changelog*`, `**/liquibase/**/*.xml`, `.yaml`, `.yml`, `.json`, `.sql` | `liquibase` |
//! | `**/priv/repo/migrations/*.exs` | `ecto` |
//! | `**/migrations/*/up.sql` | `diesel` |
//! | `**/*.up.sql` | `golang-migrate` (also sqlx's and dbmate's reversible migrations) |
//! | `**/migrations/[0-9][0-9][0-9][0-9]_*.py` | `django` |
//! | `**/database/migrations/*.php` | `laravel` |
//! | `**/migrations/Version*.php` | `doctrine` |
//! | `**/Migrations/*.cs` | `entity-framework` |
//! | `**/migrations/**` | none (a generic migrations folder: sqlx, Knex, TypeORM, Sequelize, goose, dbmate, Supabase, plain SQL...) |
//! | `**/migration/**/*.sql`, `**/migrate/*.sql` | none (plain SQL in a `migration` or `migrate` folder) |
//!
//! The defaults skip files that are not migrations themselves: `__init__.py`,
//! `*.pyc`, `*.md`, `README*`, `.gitkeep`, `.keep`, Prisma's
//! `migration_lock.toml`, Alembic's `env.py`, `script.py.mako` and
//! `alembic.ini`, a Rust `mod.rs`, and down migrations (`down.sql`,
//! `*.down.sql`), which come with their up migration. Globs from the
//! configuration (`migrations = [...]`) are tried after the defaults, as
//! written, and name no framework.

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
    ("**/db/migrate/*", None),
    ("**/prisma/migrations/*/migration.sql", Some("prisma")),
    ("**/alembic/versions/*.py", Some("alembic")),
    ("**/migrations/versions/*.py", Some("alembic")),
    ("**/db/migration/**/*.sql", Some("flyway")),
    ("**/db/migration/**/*.java", Some("flyway")),
    ("**/db/migration/**/*.kt", Some("flyway")),
    ("**/db/changelog/**", Some("liquibase")),
    ("**/db.changelog*", Some("liquibase")),
    ("**/liquibase/**/*.xml", Some("liquibase")),
    ("**/liquibase/**/*.yaml", Some("liquibase")),
    ("**/liquibase/**/*.yml", Some("liquibase")),
    ("**/liquibase/**/*.json", Some("liquibase")),
    ("**/liquibase/**/*.sql", Some("liquibase")),
    ("**/priv/repo/migrations/*.exs", Some("ecto")),
    ("**/migrations/*/up.sql", Some("diesel")),
    ("**/*.up.sql", Some("golang-migrate")),
    ("**/migrations/[0-9][0-9][0-9][0-9]_*.py", Some("django")),
    ("**/database/migrations/*.php", Some("laravel")),
    ("**/migrations/Version*.php", Some("doctrine")),
    ("**/Migrations/*.cs", Some("entity-framework")),
    ("**/migrations/**", None),
    ("**/migration/**/*.sql", None),
    ("**/migrate/*.sql", None),
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
        "__init__.py"
            | ".gitkeep"
            | ".keep"
            | "migration_lock.toml"
            | "down.sql"
            | "env.py"
            | "script.py.mako"
            | "alembic.ini"
            | "mod.rs"
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
            // Issue 14: SQL in Rails' folder was missed.
            ("db/migrate/20261122_add_orders.sql", Some(None)),
            ("db/migrate/README.md", None),
            ("db/migrate/.keep", None),
            ("db/schema.rb", None),
            ("db/seeds.rb", None),
            ("db/migration/V1_1__add.kt", Some(Some("flyway"))),
            (
                "src/main/resources/db/changelog/db.changelog-master.yaml",
                Some(Some("liquibase")),
            ),
            (
                "db/changelog/changes/001-create-orders.xml",
                Some(Some("liquibase")),
            ),
            ("config/db.changelog-master.xml", Some(Some("liquibase"))),
            ("liquibase/changes/002.sql", Some(Some("liquibase"))),
            ("src/main/java/com/acme/liquibase/Setup.java", None),
            (
                "shop/orders/migrations/0001_initial.py",
                Some(Some("django")),
            ),
            (
                "shop/orders/migrations/0003_squashed_0002.py",
                Some(Some("django")),
            ),
            // Not numbered: not Django's, but still in a migrations folder.
            ("app/migrations/backfill.py", Some(None)),
            ("migrations/env.py", None),
            ("migrations/script.py.mako", None),
            ("migrations/alembic.ini", None),
            ("migrations/20261122_orders.sql", Some(None)),
            (
                "migrations/20261122_orders.up.sql",
                Some(Some("golang-migrate")),
            ),
            ("migrations/20261122_orders.down.sql", None),
            ("src/migrations/1700000000000-AddOrders.ts", Some(None)),
            ("db/migrations/20261122_orders.sql", Some(None)),
            ("supabase/migrations/20261122_orders.sql", Some(None)),
            ("src/migrations/mod.rs", None),
            (
                "database/migrations/2026_11_22_000000_create_orders_table.php",
                Some(Some("laravel")),
            ),
            (
                "migrations/Version20261122000000.php",
                Some(Some("doctrine")),
            ),
            (
                "src/Api/Migrations/20261122_AddOrders.cs",
                Some(Some("entity-framework")),
            ),
            ("sql/migration/001_orders.sql", Some(None)),
            ("migrate/001_orders.sql", Some(None)),
            ("src/migrate/mod.rs", None),
            ("src/migration.rs", None),
            ("lib/tasks/migrate.rake", None),
            ("app/models/migration.rb", None),
            ("docs/migrate/howto.md", None),
            ("CHANGELOG.md", None),
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
