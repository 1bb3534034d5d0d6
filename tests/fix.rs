//! `--fix` and `--diff`: each safe fix, shown as the diff it makes; the
//! fixed file passes the rule that flagged it, nothing else changes, and a
//! fix that would break the file is not written.

mod common;

use std::path::Path;

use common::{CREATE_USERS, alembic_revision, miglint, write_tree};

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = miglint().current_dir(dir).args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Real Alembic or yoyo applies the project in `dir` up to head and back.
fn assert_applies(dir: &Path, what: &str) {
    if let Err(e) = common::real_tool_applies(dir) {
        panic!("{what}: the real tool refuses the chain: {e}");
    }
}

/// `--diff` (snapshotted), then `--fix`: afterwards `rule` is gone, the
/// files hold exactly what the diff showed, `--diff` has nothing left, and
/// the real tool applies the fixed chain up to head and back (the batch
/// fix makes a chain it refused apply).
fn fixes(name: &str, files: &[(&str, &str)], rule: &str) {
    let dir = tempfile::tempdir().unwrap();
    let bytes: Vec<(&str, &[u8])> = files.iter().map(|(p, b)| (*p, b.as_bytes())).collect();
    write_tree(dir.path(), &bytes);
    let (code, before, _) = run(dir.path(), &["lint", "--select", rule]);
    assert_eq!(code, 1, "{name}: the rule fires first:\n{before}");
    let (code, diff, _) = run(dir.path(), &["lint", "--diff"]);
    assert_eq!(code, 1, "{name}: --diff exits 1 when there is a fix");
    for (path, body) in files {
        assert_eq!(
            std::fs::read_to_string(dir.path().join(path)).unwrap(),
            *body,
            "--diff writes nothing"
        );
    }
    insta::assert_snapshot!(format!("fix_{name}"), diff);

    let (_, out, _) = run(dir.path(), &["lint", "--fix"]);
    assert!(out.starts_with("Fixed "), "{out}");
    let (code, after, _) = run(dir.path(), &["lint", "--select", rule]);
    assert_eq!(code, 0, "{name}: fixed, the rule passes:\n{after}");
    let (code, left, _) = run(dir.path(), &["lint", "--diff"]);
    assert_eq!(
        (code, left.as_str()),
        (0, ""),
        "{name}: nothing left to fix"
    );
    // Only the lines the diff showed changed.
    let changed: usize = files
        .iter()
        .map(|(path, body)| {
            let now = std::fs::read_to_string(dir.path().join(path)).unwrap();
            similar::TextDiff::from_lines(*body, now.as_str())
                .iter_all_changes()
                .filter(|c| c.tag() != similar::ChangeTag::Equal)
                .count()
        })
        .sum();
    let shown = diff
        .lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-'))
                && !l.starts_with("+++")
                && !l.starts_with("---")
        })
        .count();
    assert_eq!(
        changed, shown,
        "{name}: the fix changed exactly what --diff showed"
    );
    assert_applies(dir.path(), &format!("{name}, fixed"));
}

const TS: &str = "TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now'))";

#[test]
fn if_exists_guards_in_sql_files_and_python_strings() {
    fixes(
        "guards_sql",
        &[
            (
                "migrations/0001_tags.sql",
                &format!(
                    "-- Tags\nCREATE TABLE tags (\n    id TEXT PRIMARY KEY,\n    created_at {TS},\n    updated_at {TS}\n);\n\ncreate unique index idx_tags_id2 ON tags(id);\n"
                ),
            ),
            (
                "migrations/0001_tags.rollback.sql",
                "DROP INDEX IF EXISTS idx_tags_id2;\nDROP TABLE tags;\n",
            ),
        ],
        "if-exists-guard",
    );
    fixes(
        "guards_python",
        &[(
            "migrations/0001_tags.py",
            &format!(
                "\"\"\"\nTags\n\"\"\"\nfrom yoyo import step\n\nsteps = [\n    step(\n        \"\"\"\n        CREATE TABLE tags (\n            id TEXT PRIMARY KEY,\n            created_at {TS},\n            updated_at {TS}\n        )\n        \"\"\",\n        \"DROP TABLE tags\",\n    ),\n]\n"
            ),
        )],
        "if-exists-guard",
    );
}

#[test]
fn missing_timestamps_are_added_after_the_last_column() {
    fixes(
        "timestamps_sql",
        &[
            (
                "migrations/0001_users.sql",
                &format!(
                    "CREATE TABLE IF NOT EXISTS users (\n    id TEXT PRIMARY KEY\n);\n\nCREATE TABLE IF NOT EXISTS notes (\n    id TEXT PRIMARY KEY,\n    user_id TEXT NOT NULL,\n    created_at {TS},\n    FOREIGN KEY (user_id) REFERENCES users(id)\n);\nCREATE INDEX IF NOT EXISTS idx_notes_user_id ON notes(user_id);\n"
                ),
            ),
            (
                "migrations/0001_users.rollback.sql",
                "DROP INDEX IF EXISTS idx_notes_user_id;\nDROP TABLE IF EXISTS notes;\nDROP TABLE IF EXISTS users;\n",
            ),
        ],
        "timestamp-columns",
    );
    let one_line = alembic_revision(1, "").replace(
        CREATE_USERS,
        "    op.create_table(\"users\", sa.Column(\"id\", sa.String(), primary_key=True))",
    );
    fixes(
        "timestamps_alembic",
        &[
            ("alembic.ini", "[alembic]\nscript_location = migrations\n"),
            ("migrations/versions/001_users.py", &one_line),
        ],
        "timestamp-columns",
    );
}

#[test]
fn column_operations_are_wrapped_in_batch_mode() {
    let body = "    op.add_column(\n        \"users\",\n        sa.Column(\"name\", sa.String(), nullable=True),\n    )\n    op.alter_column(\"users\", \"name\", existing_type=sa.String(), nullable=True)  # keep it optional";
    let mut second = alembic_revision(2, body);
    second = second.replace(
        "    op.execute(\"SELECT 1\")",
        "    op.drop_column(\"users\", \"name\")",
    );
    fixes(
        "batch_mode",
        &[
            ("alembic.ini", "[alembic]\nscript_location = migrations\n"),
            ("migrations/versions/001_users.py", &alembic_revision(1, "")),
            ("migrations/versions/002_name.py", &second),
        ],
        "batch-mode",
    );
}

#[test]
fn a_fix_that_would_break_the_file_is_not_written() {
    let dir = tempfile::tempdir().unwrap();
    // SQL in a single-quoted Python string: the timestamp default's quotes
    // would end the string early.
    let text = "\"\"\"\nTags\n\"\"\"\nfrom yoyo import step\n\nsteps = [\n    step(\n        'CREATE TABLE IF NOT EXISTS tags (id TEXT PRIMARY KEY, created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)',\n        'DROP TABLE IF EXISTS tags',\n    ),\n]\n";
    write_tree(dir.path(), &[("migrations/0001_tags.py", text.as_bytes())]);
    let (code, out, err) = run(dir.path(), &["lint", "--fix"]);
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("the fix would make it unreadable"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("migrations/0001_tags.py")).unwrap(),
        text
    );
    assert!(out.contains("error[timestamp-columns]"), "{out}");
}

#[test]
fn fix_and_staged_do_not_mix() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(dir.path(), &["lint", "--fix", "--staged"]);
    assert_eq!(code, 2);
    assert!(err.contains("use one"), "{err}");
}

/// A repository whose `main` holds `base` files and whose branch adds
/// `change` files; returns the `--base main --diff` output.
fn index_fix_case(name: &str, base: &[(&str, &str)], change: &[(&str, &str)]) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    common::git(d, &["init", "-q", "-b", "main"]);
    let bytes: Vec<(&str, &[u8])> = base.iter().map(|(p, b)| (*p, b.as_bytes())).collect();
    write_tree(d, &bytes);
    common::git(d, &["add", "-A"]);
    common::git(d, &["commit", "-q", "-m", "base"]);
    common::git(d, &["checkout", "-q", "-b", "change"]);
    let bytes: Vec<(&str, &[u8])> = change.iter().map(|(p, b)| (*p, b.as_bytes())).collect();
    write_tree(d, &bytes);
    let (code, _, _) = run(d, &["lint", "--select", "filtered-column-index"]);
    assert_eq!(code, 1, "{name}: the rule fires first");
    assert_applies(d, &format!("{name}, before the fix"));
    // Without --base nothing says the migration is new: no fix.
    let (_, without, _) = run(d, &["lint", "--diff", "--select", "filtered-column-index"]);
    assert_eq!(without, "", "{name}");
    let (code, diff, _) = run(
        d,
        &[
            "lint",
            "--base",
            "main",
            "--diff",
            "--select",
            "filtered-column-index",
        ],
    );
    assert_eq!(code, 1, "{name}");
    insta::assert_snapshot!(format!("fix_{name}"), diff);
    run(d, &["lint", "--base", "main", "--fix"]);
    let (code, out, _) = run(d, &["lint", "--base", "main"]);
    assert_eq!(code, 0, "{name}: after the fix everything passes:\n{out}");
    assert_applies(d, &format!("{name}, fixed"));
}

#[test]
fn the_missing_index_goes_into_the_new_migration_that_adds_the_column() {
    let add_owner = common::batch_revision(
        2,
        "Add users.owner.",
        "users",
        &["batch_op.add_column(sa.Column(\"owner\", sa.String(), nullable=True))"],
        &["batch_op.drop_column(\"owner\")"],
    );
    let query =
        "from sqlalchemy import text\nQ = text(\"SELECT id FROM users WHERE owner = :o\")\n";
    index_fix_case(
        "index_alembic",
        &[
            ("alembic.ini", "[alembic]\nscript_location = migrations\n"),
            ("migrations/versions/001_users.py", &alembic_revision(1, "")),
        ],
        &[
            ("migrations/versions/002_owner.py", &add_owner),
            ("app/queries.py", query),
        ],
    );
    let users = format!(
        "CREATE TABLE IF NOT EXISTS users (\n    id TEXT PRIMARY KEY,\n    created_at {TS},\n    updated_at {TS}\n);\n"
    );
    index_fix_case(
        "index_yoyo_sql",
        &[
            ("migrations/0001_users.sql", &users),
            (
                "migrations/0001_users.rollback.sql",
                "DROP TABLE IF EXISTS users;\n",
            ),
        ],
        &[
            (
                "migrations/0002_owner.sql",
                "-- Add users.owner\nALTER TABLE users ADD COLUMN owner TEXT;\n",
            ),
            (
                "migrations/0002_owner.rollback.sql",
                "-- Undo\nALTER TABLE users DROP COLUMN owner;\n",
            ),
            ("app/queries.py", query),
        ],
    );
    index_fix_case(
        "index_yoyo_py",
        &[
            ("migrations/0001_users.sql", &users),
            (
                "migrations/0001_users.rollback.sql",
                "DROP TABLE IF EXISTS users;\n",
            ),
        ],
        &[
            (
                "migrations/0002_owner.py",
                "\"\"\"\nAdd users.owner\n\"\"\"\nfrom yoyo import step\n\nsteps = [\n    step(\n        \"ALTER TABLE users ADD COLUMN owner TEXT\",\n        \"ALTER TABLE users DROP COLUMN owner\",\n    ),\n]\n",
            ),
            ("app/queries.py", query),
        ],
    );
}

/// Migrations already applied are history: `--fix` leaves them alone by
/// default (editing them changes no existing database and makes new ones
/// differ), says how many fixes it left, and applies them only with
/// `--unsafe-fixes`. Untracked and modified files are new.
#[test]
fn fixes_to_history_need_unsafe_fixes() {
    let dir = tempfile::tempdir().unwrap();
    let first = format!(
        "CREATE TABLE guilds (\n    id TEXT PRIMARY KEY,\n    created_at {TS},\n    updated_at {TS}\n);\n"
    );
    write_tree(
        dir.path(),
        &[
            ("migrations/0001_guilds.sql", first.as_bytes()),
            (
                "migrations/0001_guilds.rollback.sql",
                b"DROP TABLE IF EXISTS guilds;\n",
            ),
        ],
    );
    common::git(dir.path(), &["init", "-q", "-b", "main"]);
    common::git(dir.path(), &["add", "."]);
    common::git(dir.path(), &["commit", "-q", "-m", "first"]);
    assert_applies(dir.path(), "history");

    let (code, out, err) = run(dir.path(), &["lint", "--fix"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(!out.contains("Fixed"), "{out}");
    assert!(
        err.contains("1 more fix would edit migrations already applied; see --unsafe-fixes"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("migrations/0001_guilds.sql")).unwrap(),
        first,
        "history is not edited"
    );
    let (_, json, _) = run(dir.path(), &["lint", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let guard = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "if-exists-guard")
        .unwrap();
    assert_eq!(guard["fix"]["applicability"], "unsafe", "{guard:#}");

    // A new migration's fix is safe; the committed one stays as it is.
    let second = "CREATE INDEX idx_guilds_id ON guilds(id);\n";
    write_tree(
        dir.path(),
        &[
            ("migrations/0002_index.sql", second.as_bytes()),
            (
                "migrations/0002_index.rollback.sql",
                b"DROP INDEX IF EXISTS idx_guilds_id;\n",
            ),
        ],
    );
    let (_, out, err) = run(dir.path(), &["lint", "--fix"]);
    assert!(out.starts_with("Fixed 1 finding in 1 file."), "{out}{err}");
    assert!(
        std::fs::read_to_string(dir.path().join("migrations/0002_index.sql"))
            .unwrap()
            .contains("CREATE INDEX IF NOT EXISTS idx_guilds_id")
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("migrations/0001_guilds.sql")).unwrap(),
        first
    );

    // With --unsafe-fixes, history too.
    let (_, out, _) = run(dir.path(), &["lint", "--fix", "--unsafe-fixes"]);
    assert!(out.starts_with("Fixed 1 finding in 1 file."), "{out}");
    assert!(
        std::fs::read_to_string(dir.path().join("migrations/0001_guilds.sql"))
            .unwrap()
            .contains("CREATE TABLE IF NOT EXISTS guilds")
    );
    let (code, out, _) = run(dir.path(), &["lint"]);
    assert_eq!(code, 0, "{out}");
    assert_applies(dir.path(), "history fixed with --unsafe-fixes");
}

/// Adding a column to a table that a later migration copies by position
/// (`INSERT INTO guilds SELECT * FROM guilds_old`) would make that copy
/// fail: the timestamp fix is not offered there.
#[test]
fn no_columns_are_added_to_a_table_copied_by_position() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "migrations/0001_guilds.sql",
                b"CREATE TABLE IF NOT EXISTS guilds (\n    id TEXT PRIMARY KEY,\n    name TEXT\n);\n",
            ),
            ("migrations/0001_guilds.rollback.sql", b"DROP TABLE IF EXISTS guilds;\n"),
            (
                "migrations/0002_rebuild.sql",
                b"ALTER TABLE guilds RENAME TO guilds_old;\nCREATE TABLE IF NOT EXISTS guilds (\n    id TEXT PRIMARY KEY,\n    name TEXT\n);\nINSERT INTO guilds SELECT * FROM guilds_old;\nDROP TABLE IF EXISTS guilds_old;\n",
            ),
            ("migrations/0002_rebuild.rollback.sql", b"SELECT 1;\n"),
        ],
    );
    let (_, json, _) = run(
        dir.path(),
        &["lint", "--format", "json", "--select", "timestamp-columns"],
    );
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let found = json["diagnostics"].as_array().unwrap();
    assert!(!found.is_empty());
    assert!(found.iter().all(|d| d["fix"].is_null()), "{json:#}");
    assert_applies(dir.path(), "the rebuild");
    run(dir.path(), &["lint", "--fix"]);
    assert_applies(dir.path(), "the rebuild, fixed");
}

/// Before writing, the whole chain is linted with the fixes applied: a fix
/// that raises a new finding anywhere is dropped with a note, and the others
/// are written. Here a later migration rebuilds the table, and its rollback
/// restores the original shape: with the columns added to the first
/// migration, that rollback no longer undoes its upgrade.
#[test]
fn a_fix_that_breaks_a_later_migration_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let rebuilt = format!(
        "DROP TABLE IF EXISTS guilds;\nCREATE TABLE IF NOT EXISTS guilds (\n    id TEXT PRIMARY KEY,\n    name TEXT,\n    created_at {TS},\n    updated_at {TS}\n);\n"
    );
    write_tree(
        dir.path(),
        &[
            (
                "migrations/0001_guilds.sql",
                b"CREATE TABLE IF NOT EXISTS guilds (\n    id TEXT PRIMARY KEY\n);\nCREATE TABLE tags (\n    id TEXT PRIMARY KEY,\n    created_at TEXT NOT NULL DEFAULT ''\n);\n",
            ),
            (
                "migrations/0001_guilds.rollback.sql",
                b"DROP TABLE IF EXISTS tags;\nDROP TABLE IF EXISTS guilds;\n",
            ),
            ("migrations/0002_rebuild.sql", rebuilt.as_bytes()),
            (
                "migrations/0002_rebuild.rollback.sql",
                b"DROP TABLE IF EXISTS guilds;\nCREATE TABLE IF NOT EXISTS guilds (\n    id TEXT PRIMARY KEY\n);\n",
            ),
        ],
    );
    assert_applies(dir.path(), "the rebuild");
    let (_, out, err) = run(dir.path(), &["lint", "--fix"]);
    assert!(out.starts_with("Fixed 2 findings in 1 file."), "{out}{err}");
    assert!(
        err.contains("fix `add `created_at`` not applied: with it, migrations/0002_rebuild"),
        "{err}"
    );
    assert_eq!(err.matches("not a git repository").count(), 1, "{err}");
    let fixed = std::fs::read_to_string(dir.path().join("migrations/0001_guilds.sql")).unwrap();
    // The guard and the other table's column went in; `guilds` kept its shape.
    assert!(fixed.contains("CREATE TABLE IF NOT EXISTS tags"), "{fixed}");
    assert!(fixed.contains("updated_at TEXT NOT NULL"), "{fixed}");
    assert!(
        fixed.starts_with("CREATE TABLE IF NOT EXISTS guilds (\n    id TEXT PRIMARY KEY\n);"),
        "{fixed}"
    );
    assert_applies(dir.path(), "the rebuild, fixed");
}

/// The timestamp fix is not offered when a later migration adds that
/// column itself (here to the table a rebuild renames into place), and it
/// writes the column with the file's own name for SQLAlchemy.
#[test]
fn timestamp_fixes_know_the_chain_and_the_files_imports() {
    let dir = tempfile::tempdir().unwrap();
    let first = "\"\"\"Jobs.\"\"\"\nfrom alembic import op\nimport sqlalchemy as db\n\nrevision = \"001\"\ndown_revision = None\n\n\ndef upgrade() -> None:\n    op.create_table(\"jobs_new\", db.Column(\"id\", db.Integer(), primary_key=True))\n    op.rename_table(\"jobs_new\", \"jobs\")\n\n\ndef downgrade() -> None:\n    op.drop_table(\"jobs\")\n";
    let second = "\"\"\"Created.\"\"\"\nfrom alembic import op\nimport sqlalchemy as db\n\nrevision = \"002\"\ndown_revision = \"001\"\n\n\ndef upgrade() -> None:\n    with op.batch_alter_table(\"jobs\") as batch_op:\n        batch_op.add_column(db.Column(\"created_at\", db.DateTime(), nullable=True))\n\n\ndef downgrade() -> None:\n    with op.batch_alter_table(\"jobs\") as batch_op:\n        batch_op.drop_column(\"created_at\")\n";
    write_tree(
        dir.path(),
        &[
            ("alembic.ini", b"[alembic]\nscript_location = migrations\n"),
            ("migrations/versions/001_jobs.py", first.as_bytes()),
            ("migrations/versions/002_created.py", second.as_bytes()),
        ],
    );
    let (_, json, _) = run(
        dir.path(),
        &["lint", "--format", "json", "--select", "timestamp-columns"],
    );
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let fixes: Vec<(&str, &serde_json::Value)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["message"].as_str().unwrap(), &d["fix"]))
        .collect();
    assert!(
        fixes
            .iter()
            .any(|(m, f)| m.contains("no `created_at`") && f.is_null()),
        "{json:#}"
    );
    assert!(
        fixes
            .iter()
            .any(|(m, f)| m.contains("no `updated_at`") && !f.is_null()),
        "{json:#}"
    );
    let (_, diff, _) = run(
        dir.path(),
        &["lint", "--diff", "--select", "timestamp-columns"],
    );
    assert!(
        diff.contains("db.Column(\"updated_at\", db.DateTime()"),
        "{diff}"
    );
    assert_applies(dir.path(), "jobs");
    run(dir.path(), &["lint", "--fix"]);
    assert_applies(dir.path(), "jobs, fixed");
}

/// SARIF carries each fix as its replacements, with whether `--fix`
/// applies it, and still validates against the SARIF 2.1.0 schema.
#[test]
fn sarif_fixes_carry_the_edits_and_validate() {
    let dir = tempfile::tempdir().unwrap();
    let sql = format!(
        "CREATE TABLE tags (\n    id TEXT PRIMARY KEY,\n    created_at {TS},\n    updated_at {TS}\n);\n"
    );
    write_tree(
        dir.path(),
        &[
            ("migrations/0001_tags.sql", sql.as_bytes()),
            (
                "migrations/0001_tags.rollback.sql",
                b"DROP TABLE IF EXISTS tags;\n",
            ),
        ],
    );
    let (_, out, _) = run(dir.path(), &["lint", "--format", "sarif"]);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let guard = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "if-exists-guard")
        .unwrap();
    let fix = &guard["fixes"][0];
    assert_eq!(fix["properties"]["applicability"], "safe", "{fix:#}");
    let change = &fix["artifactChanges"][0];
    assert_eq!(
        change["artifactLocation"]["uri"],
        "migrations/0001_tags.sql"
    );
    assert_eq!(
        change["replacements"][0]["deletedRegion"]["charOffset"],
        "CREATE TABLE".len()
    );
    assert_eq!(
        change["replacements"][0]["insertedContent"]["text"],
        " IF NOT EXISTS"
    );
    let sarif = dir.path().join("out.sarif");
    std::fs::write(&sarif, &out).unwrap();
    common::assert_valid_sarif(&sarif);
}

/// sqlx checksums what it applied: a committed migration is history, so
/// plain `--fix` leaves it alone and fixes only the new one (a diesel
/// folder's nested `up.sql` included), `--base` reports an edit to the
/// committed one as `immutable-migration`, and the real sqlx-cli still
/// applies the fixed folder.
#[test]
fn sql_folder_history_is_left_alone_and_new_migrations_are_fixed() {
    let programs: std::collections::BTreeMap<&str, std::path::PathBuf> =
        common::sql_tool_programs().into_iter().collect();
    let dir = tempfile::tempdir().unwrap();
    let first = "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\n";
    write_tree(
        dir.path(),
        &[
            ("Cargo.toml", b"[package]\nname = \"app\"\n"),
            ("migrations/20240101000000_notes.sql", first.as_bytes()),
        ],
    );
    common::git(dir.path(), &["init", "-q", "-b", "main"]);
    common::git(dir.path(), &["add", "."]);
    common::git(dir.path(), &["commit", "-q", "-m", "first"]);
    common::git(dir.path(), &["checkout", "-q", "-b", "change"]);
    let second = format!(
        "CREATE TABLE tags (\n    id INTEGER PRIMARY KEY,\n    created_at {TS},\n    updated_at {TS}\n);\n"
    );
    write_tree(
        dir.path(),
        &[("migrations/20240102000000_tags.sql", second.as_bytes())],
    );
    let (_, out, err) = run(dir.path(), &["lint", "--fix"]);
    assert!(out.starts_with("Fixed 1 finding in 1 file."), "{out}{err}");
    assert!(
        err.contains("would edit migrations already applied; see --unsafe-fixes"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("migrations/20240101000000_notes.sql")).unwrap(),
        first,
        "history is not edited"
    );
    assert!(
        std::fs::read_to_string(dir.path().join("migrations/20240102000000_tags.sql"))
            .unwrap()
            .contains("CREATE TABLE IF NOT EXISTS tags")
    );
    let db = dir.path().join("app.db");
    let out = std::process::Command::new(&programs["sqlx"])
        .args(["migrate", "run", "--no-dotenv", "--database-url"])
        .arg(format!("sqlite://{}?mode=rwc", db.display()))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Editing the committed migration: sqlx would refuse the checksum.
    std::fs::write(
        dir.path().join("migrations/20240101000000_notes.sql"),
        "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT);\n",
    )
    .unwrap();
    let (code, json, _) = run(dir.path(), &["lint", "--base", "main", "--format", "json"]);
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(
        json["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["rule"] == "immutable-migration"
                && d["path"]
                    .as_str()
                    .unwrap()
                    .ends_with("20240101000000_notes.sql")),
        "{json:#}"
    );

    // diesel: the fix lands in the new migration's nested up.sql.
    let diesel = tempfile::tempdir().unwrap();
    write_tree(
        diesel.path(),
        &[
            (
                "migrations/2024-01-01-000000_tags/up.sql",
                second.as_bytes(),
            ),
            (
                "migrations/2024-01-01-000000_tags/down.sql",
                b"DROP TABLE tags;\n",
            ),
        ],
    );
    let (_, out, err) = run(diesel.path(), &["lint", "--fix"]);
    assert!(
        out.starts_with("Fixed 2 findings in 2 files."),
        "{out}{err}"
    );
    assert!(
        std::fs::read_to_string(
            diesel
                .path()
                .join("migrations/2024-01-01-000000_tags/down.sql")
        )
        .unwrap()
        .contains("DROP TABLE IF EXISTS tags")
    );
}
