//! `sqlite-exec` runs each migration on the tables the earlier ones built:
//! a statement SQLite refuses only once its table holds rows is run there
//! with a row, and virtual tables exist for the migrations that follow.

mod common;

use std::path::Path;

use common::{CREATE_USERS, miglint, write_tree};

const USERS: &str = "CREATE TABLE IF NOT EXISTS users (\n    id TEXT PRIMARY KEY,\n    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now')),\n    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now'))\n);\n";

/// The `sqlite-exec` findings of `miglint lint` in `dir`: (file name, line,
/// message) each.
fn exec_findings(dir: &Path) -> Vec<(String, u64, String)> {
    let out = miglint()
        .current_dir(dir)
        .args(["lint", "--no-cache", "--format", "json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "sqlite-exec")
        .map(|d| {
            let path = Path::new(d["path"].as_str().unwrap());
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                d["line"].as_u64().unwrap(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_non_constant_default_is_refused_on_a_table_holding_rows() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            ("migrations/0001_users.sql", USERS.as_bytes()),
            (
                "migrations/0001_users.rollback.sql",
                b"DROP TABLE IF EXISTS users;\n",
            ),
            // `users` existed before: in use, it holds rows.
            (
                "migrations/0002_seen.sql",
                b"ALTER TABLE users ADD COLUMN seen_at TEXT DEFAULT CURRENT_TIMESTAMP;\n",
            ),
            (
                "migrations/0002_seen.rollback.sql",
                b"ALTER TABLE users DROP COLUMN seen_at;\n",
            ),
            // `jobs` is created here, so it is empty when the column comes.
            (
                "migrations/0003_jobs.sql",
                b"CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);\nALTER TABLE jobs ADD COLUMN ran_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now'));\n",
            ),
            (
                "migrations/0003_jobs.rollback.sql",
                b"DROP TABLE IF EXISTS jobs;\n",
            ),
            // A constant default is accepted whatever the table holds.
            (
                "migrations/0004_plan.sql",
                b"ALTER TABLE users ADD COLUMN plan TEXT NOT NULL DEFAULT 'free';\n",
            ),
            (
                "migrations/0004_plan.rollback.sql",
                b"ALTER TABLE users DROP COLUMN plan;\n",
            ),
        ],
    );
    assert_eq!(
        exec_findings(dir.path()),
        vec![(
            "0002_seen.sql".to_string(),
            1,
            "SQLite: Cannot add a column with non-constant default".to_string(),
        )]
    );
}

#[test]
fn an_alembic_add_column_outside_a_batch_is_run_on_rows() {
    let dir = tempfile::tempdir().unwrap();
    let revision = |n: u32, up: &str, down: &str| {
        let parent = if n == 1 {
            "None".to_string()
        } else {
            format!("\"{:03}\"", n - 1)
        };
        format!(
            "from alembic import op\nimport sqlalchemy as sa\n\nrevision = \"{n:03}\"\ndown_revision = {parent}\n\n\ndef upgrade() -> None:\n{up}\n\n\ndef downgrade() -> None:\n{down}\n"
        )
    };
    let plain = "    op.add_column(\"users\", sa.Column(\"seen_at\", sa.DateTime(), nullable=True, server_default=sa.func.now()))";
    // In a batch, Alembic rebuilds the table for an expression default.
    let batched = "    with op.batch_alter_table(\"users\") as batch_op:\n        batch_op.add_column(sa.Column(\"ran_at\", sa.DateTime(), nullable=True, server_default=sa.text(\"(datetime('now'))\")))";
    let drop = |c: &str| {
        format!(
            "    with op.batch_alter_table(\"users\") as batch_op:\n        batch_op.drop_column(\"{c}\")"
        )
    };
    write_tree(
        dir.path(),
        &[
            ("alembic.ini", b"[alembic]\nscript_location = migrations\n"),
            (
                "migrations/versions/001_users.py",
                revision(1, CREATE_USERS, "    op.drop_table(\"users\")").as_bytes(),
            ),
            (
                "migrations/versions/002_seen.py",
                revision(2, plain, &drop("seen_at")).as_bytes(),
            ),
            (
                "migrations/versions/003_ran.py",
                revision(3, batched, &drop("ran_at")).as_bytes(),
            ),
        ],
    );
    assert_eq!(
        exec_findings(dir.path()),
        vec![(
            "002_seen.py".to_string(),
            9,
            "SQLite: Cannot add a column with non-constant default".to_string(),
        )]
    );
}

#[test]
fn a_virtual_table_is_there_for_later_migrations() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "migrations/0001_search.sql",
                b"CREATE VIRTUAL TABLE IF NOT EXISTS search_index USING fts5(body);\n",
            ),
            (
                "migrations/0001_search.rollback.sql",
                b"DROP TABLE IF EXISTS search_index;\n",
            ),
            (
                "migrations/0002_seed.sql",
                b"INSERT INTO search_index (body) VALUES ('hello');\nDELETE FROM search_index_data WHERE id > 10;\n",
            ),
            (
                "migrations/0002_seed.rollback.sql",
                b"DELETE FROM search_index;\n",
            ),
            (
                "migrations/0003_wrong.sql",
                b"INSERT INTO search_index (title) VALUES ('hello');\n",
            ),
            (
                "migrations/0003_wrong.rollback.sql",
                b"DELETE FROM search_index;\n",
            ),
        ],
    );
    // Its columns are SQLite's to check, with its own message.
    assert_eq!(
        exec_findings(dir.path()),
        vec![(
            "0003_wrong.sql".to_string(),
            1,
            "SQLite: table search_index has no column named title".to_string(),
        )]
    );
}

/// A `server_default` made of adjacent string literals (as black splits a
/// long `sa.text(...)`) is the one string Python makes of it: the table it
/// belongs to is built in SQLite and the migrations after it run there.
#[test]
fn a_default_split_over_adjacent_literals_is_read_as_one_string() {
    let dir = tempfile::tempdir().unwrap();
    let first = "from alembic import op\nimport sqlalchemy as sa\n\nrevision = \"001\"\ndown_revision = None\n\n\ndef upgrade() -> None:\n    op.create_table(\n        \"flow\",\n        sa.Column(\n            \"id\",\n            sa.String(),\n            server_default=sa.text(\n                \"(lower(hex(randomblob(4))) || '-' || \"\n                \"lower(hex(randomblob(2))))\"\n            ),\n            primary_key=True,\n        ),\n        sa.Column(\"name\", sa.String(), nullable=True),\n    )\n\n\ndef downgrade() -> None:\n    op.drop_table(\"flow\")\n";
    let second = "from alembic import op\nimport sqlalchemy as sa\n\nrevision = \"002\"\ndown_revision = \"001\"\n\n\ndef upgrade() -> None:\n    op.execute(\"CREATE INDEX ix_flow_name_nocase ON flow (name COLLATE NOCASE)\")\n\n\ndef downgrade() -> None:\n    op.execute(\"DROP INDEX ix_flow_name_nocase\")\n";
    write_tree(
        dir.path(),
        &[
            ("alembic.ini", b"[alembic]\nscript_location = migrations\n"),
            ("migrations/versions/001_flow.py", first.as_bytes()),
            ("migrations/versions/002_index.py", second.as_bytes()),
        ],
    );
    assert_eq!(exec_findings(dir.path()), vec![]);
}
