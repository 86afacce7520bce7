//! Issue 14: a database migration the git source did not recognise made a
//! change risk `low` where the playbooks say a migration is `high`. A real
//! repository per layout, the real binary, the built-in risk policy.

use super::support::{git, run, shipgate};

/// The risk level `shipgate check` gives a branch that adds `path`.
fn risk_of_a_branch_adding(path: &str) -> (serde_json::Value, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q"]);
    std::fs::write(root.join("README.md"), "# shop\n").unwrap();
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "chore: initial"]);
    git(root, &["checkout", "-q", "-b", "feature"]);
    let file = root.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "alter table orders add column total int;\n").unwrap();
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "fix: orders total"]);
    let config = root.join("shipgate.toml");
    std::fs::write(
        &config,
        "[deployment]\nservice = \"shop\"\nenvironment = \"staging\"\n\n[sources.git]\n\n\
         [[policies]]\nname = \"risk\"\nsource = \"builtin:risk\"\n",
    )
    .unwrap();
    let mut cmd = shipgate();
    cmd.current_dir(root)
        .args([
            "check",
            "--format",
            "json",
            "--now",
            "2026-11-23T10:00:00Z",
            "-c",
        ])
        .arg(&config);
    for var in [
        "GITHUB_ACTIONS",
        "GITHUB_BASE_REF",
        "GITHUB_SHA",
        "GITHUB_EVENT_PATH",
    ] {
        cmd.env_remove(var);
    }
    let (_, out, err) = run(&mut cmd);
    let report: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let rules: Vec<serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].clone())
        .collect();
    (report["risk"].clone(), serde_json::Value::from(rules))
}

#[test]
fn a_migration_in_any_common_layout_is_high_risk() {
    for path in [
        "db/migrate/20261122_add_orders.sql",
        "db/migrate/20261122000000_add_orders.rb",
        "shop/orders/migrations/0002_order_total.py",
        "src/main/resources/db/changelog/changes/002-orders.xml",
        "prisma/migrations/20261122000000_orders/migration.sql",
        "migrations/20261122000000_orders.sql",
        "priv/repo/migrations/20261122000000_orders.exs",
    ] {
        let (risk, rules) = risk_of_a_branch_adding(path);
        assert_eq!(risk, "high", "{path}: {rules}");
        assert!(
            rules
                .as_array()
                .unwrap()
                .contains(&serde_json::Value::from("risk.migration")),
            "{path}: {rules}"
        );
    }
    // Documentation about migrations is not one.
    let (risk, rules) = risk_of_a_branch_adding("docs/migrations.md");
    assert_ne!(risk, "high", "{rules}");
    assert!(
        !rules
            .as_array()
            .unwrap()
            .contains(&serde_json::Value::from("risk.migration")),
        "{rules}"
    );
}
