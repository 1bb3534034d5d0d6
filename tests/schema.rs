//! `miglint schema` and the replay behind it: every operation kind, both
//! flavours, and SQL chains compared with what real SQLite builds.

mod common;

use std::path::Path;

use common::{miglint, write_tree};
use miglint::project::config::Settings;
use miglint::rules::schema_consistency;
use miglint::schema::Schema;
use miglint::schema::facts::Fact;

fn stdout_of(cmd: &mut assert_cmd::Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Loads a project and returns its only set's replayed schema and the facts met.
fn replay(dir: &Path) -> (Schema, Vec<String>) {
    let settings = Settings::defaults(dir.to_path_buf());
    let discovery = miglint::project::discover::discover(&settings, &[dir.to_path_buf()]).unwrap();
    let loaded =
        miglint::analysis::analyse(&settings, discovery, miglint::analysis::Wanted::default());
    assert_eq!(loaded.sets.len(), 1);
    let set = &loaded.sets[0];
    // Conflicts worded as `schema-consistency` words them; other facts as data.
    let findings = set
        .replay
        .events
        .iter()
        .map(|e| match &e.fact {
            Fact::Conflict(c) => format!("schema-consistency: {}", schema_consistency::message(c)),
            other => format!("{other:?}"),
        })
        .collect();
    (set.replay.schema.clone(), findings)
}

#[test]
fn schema_of_the_examples_is_stable_and_accepted_by_sqlite() {
    for example in ["examples/alembic-sqlite", "examples/yoyo-sqlite"] {
        let sql = stdout_of(miglint().args(["schema", example]));
        insta::assert_snapshot!(example.replace('/', "_"), sql);
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(&sql)
            .unwrap_or_else(|e| panic!("SQLite rejects the schema of {example}: {e}\n{sql}"));
    }
    let json = stdout_of(miglint().args(["schema", "examples/yoyo-sqlite", "--format", "json"]));
    insta::assert_snapshot!("yoyo_schema_json", json);
}

#[test]
fn schema_at_a_revision_and_unknown_revisions() {
    let sql = stdout_of(miglint().args(["schema", "examples/alembic-sqlite", "--at", "001"]));
    assert!(sql.contains("CREATE TABLE memories"));
    assert!(!sql.contains("status"));
    assert!(!sql.contains("sessions"));
    miglint()
        .args(["schema", "examples/alembic-sqlite", "--at", "999"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no migration `999`"));
}

/// `--each`: the schema after every revision, each equal to `--at` it.
#[test]
fn schema_after_each_revision() {
    let json = stdout_of(miglint().args([
        "schema",
        "examples/alembic-sqlite",
        "--each",
        "--format",
        "json",
    ]));
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let revisions = doc["sets"][0]["revisions"].as_array().unwrap();
    let at: Vec<&str> = revisions
        .iter()
        .map(|r| r["at"].as_str().unwrap())
        .collect();
    assert_eq!(at, ["001", "002", "003"]);
    for r in revisions {
        let one = stdout_of(miglint().args([
            "schema",
            "examples/alembic-sqlite",
            "--format",
            "json",
            "--at",
            r["at"].as_str().unwrap(),
        ]));
        let one: serde_json::Value = serde_json::from_str(&one).unwrap();
        assert_eq!(one["sets"][0]["schema"], r["schema"], "at {}", r["at"]);
    }
    let sql = stdout_of(miglint().args(["schema", "examples/alembic-sqlite", "--each"]));
    assert_eq!(sql.matches("-- after ").count(), 3, "{sql}");
    miglint()
        .args(["schema", "examples/alembic-sqlite", "--each", "--at", "001"])
        .assert()
        .code(2);
}

fn rev(n: u32, up: &str, down: &str) -> String {
    let parent = if n == 1 {
        "None".to_string()
    } else {
        format!("\"{:03}\"", n - 1)
    };
    format!(
        "\"\"\"Revision {n}.\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision = \"{n:03}\"\ndown_revision = {parent}\n\n\ndef upgrade() -> None:\n{up}\n\n\ndef downgrade() -> None:\n{down}\n"
    )
}

const TS: &str = "sa.Column(\"created_at\", sa.DateTime(), nullable=False, server_default=sa.func.now()), sa.Column(\"updated_at\", sa.DateTime(), nullable=False, server_default=sa.func.now())";

#[test]
fn alembic_operations_replay_in_batch_and_plain_form() {
    let dir = tempfile::tempdir().unwrap();
    let revisions = [
        rev(
            1,
            &format!(
                "    op.create_table(\"users\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"email\", sa.String(120), nullable=False), {TS})\n    op.create_table(\"teams\", sa.Column(\"id\", sa.Integer(), primary_key=True), {TS})"
            ),
            "    op.drop_table(\"teams\")\n    op.drop_table(\"users\")",
        ),
        rev(
            2,
            "    with op.batch_alter_table(\"users\") as batch_op:\n        batch_op.add_column(sa.Column(\"team_id\", sa.Integer(), nullable=True))\n        batch_op.add_column(sa.Column(\"nick\", sa.String(), nullable=True))\n        batch_op.create_foreign_key(\"fk_users_team\", \"teams\", [\"team_id\"], [\"id\"])\n        batch_op.create_unique_constraint(\"uq_users_email\", [\"email\"])\n        batch_op.create_index(\"ix_users_team_id_nick\", [\"team_id\", \"nick\"], unique=True)\n        batch_op.create_index(\"ix_users_nick\", [\"nick\"], sqlite_where=sa.text(\"nick IS NOT NULL\"))",
            "    with op.batch_alter_table(\"users\") as batch_op:\n        batch_op.drop_index(\"ix_users_nick\")\n        batch_op.drop_index(\"ix_users_team_id_nick\")\n        batch_op.drop_constraint(\"uq_users_email\", type_=\"unique\")\n        batch_op.drop_constraint(\"fk_users_team\", type_=\"foreignkey\")\n        batch_op.drop_column(\"nick\")\n        batch_op.drop_column(\"team_id\")",
        ),
        rev(
            3,
            "    with op.batch_alter_table(\"users\") as batch_op:\n        batch_op.alter_column(\"email\", new_column_name=\"mail\", type_=sa.Text(), nullable=True)\n    op.rename_table(\"teams\", \"groups\")",
            "    op.rename_table(\"groups\", \"teams\")\n    with op.batch_alter_table(\"users\") as batch_op:\n        batch_op.alter_column(\"mail\", new_column_name=\"email\", type_=sa.String(120), nullable=False)",
        ),
    ];
    for (i, text) in revisions.iter().enumerate() {
        write_tree(
            dir.path(),
            &[(
                &format!("migrations/versions/{:03}_r.py", i + 1),
                text.as_bytes(),
            )],
        );
    }
    let (schema, findings) = replay(dir.path());
    assert!(findings.is_empty(), "{findings:#?}");
    let users = &schema.tables["users"];
    let mail = users.column("mail").unwrap();
    assert_eq!(mail.sql_type.as_deref(), Some("TEXT"));
    assert!(mail.nullable);
    assert!(users.column("email").is_none());
    assert_eq!(
        users.foreign_keys[0].ref_table, "groups",
        "rename_table rewrites references"
    );
    assert_eq!(
        users.unique_constraints[0].columns,
        ["mail"],
        "rename_column rewrites constraints"
    );
    let ix = &schema.indexes["ix_users_team_id_nick"];
    assert!(ix.unique);
    assert_eq!(ix.columns, ["team_id", "nick"]);
    assert!(schema.indexes["ix_users_nick"].where_clause.is_some());
    assert!(schema.tables.contains_key("groups") && !schema.tables.contains_key("teams"));
    assert_eq!(
        users.column("id").unwrap().sql_type.as_deref(),
        Some("INTEGER")
    );
    assert!(
        !users.column("id").unwrap().nullable,
        "SQLAlchemy primary keys are NOT NULL"
    );
}

#[test]
fn impossible_operations_are_schema_consistency_findings() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "migrations/versions/001_r.py",
                rev(1, &format!("    op.create_table(\"users\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"email\", sa.String()), {TS})\n    op.create_index(\"ix_users_email\", \"users\", [\"email\"])"), "    op.drop_table(\"users\")").as_bytes(),
            ),
            (
                "migrations/versions/002_r.py",
                rev(
                    2,
                    "    with op.batch_alter_table(\"users\") as batch_op:\n        batch_op.drop_column(\"email\")\n        batch_op.drop_column(\"missing\")\n        batch_op.add_column(sa.Column(\"id\", sa.Integer()))\n    op.create_table(\"users\")\n    op.drop_index(\"ix_nope\")\n    op.rename_table(\"ghosts\", \"spirits\")",
                    "    pass",
                )
                .as_bytes(),
            ),
        ],
    );
    let (_, findings) = replay(dir.path());
    let expected = [
        "column `users.email` is still covered by index `ix_users_email`",
        "column `users.missing` does not exist",
        "column `users.id` already exists",
        "table `users` already exists",
        "index `ix_nope` does not exist",
        "table `ghosts` is used here, but no migration creates it",
    ];
    for e in expected {
        assert!(
            findings
                .iter()
                .any(|f| f == &format!("schema-consistency: {e}")),
            "missing `{e}` in {findings:#?}"
        );
    }
}

/// The schema SQLite itself holds, in the replay's terms: (table, column,
/// type, notnull) rows and (index, table, columns, unique) rows.
fn sqlite_facts(conn: &rusqlite::Connection) -> (Vec<String>, Vec<String>) {
    let mut columns = Vec::new();
    let mut indexes = Vec::new();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for t in &tables {
        let mut stmt = conn
            .prepare(&format!("PRAGMA table_info(\"{t}\")"))
            .unwrap();
        let rows = stmt
            .query_map([], |r| {
                Ok(format!(
                    "{t}.{} {} notnull={} pk={}",
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(5)? > 0
                ))
            })
            .unwrap();
        columns.extend(rows.map(Result::unwrap));
        let mut stmt = conn
            .prepare(&format!("PRAGMA index_list(\"{t}\")"))
            .unwrap();
        let list: Vec<(String, bool, String)> = stmt
            .query_map([], |r| Ok((r.get(1)?, r.get::<_, i64>(2)? == 1, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for (name, unique, origin) in list {
            // Indexes SQLite makes for UNIQUE / PRIMARY KEY constraints are
            // not CREATE INDEX statements; the replay keeps them as constraints.
            if origin != "c" {
                continue;
            }
            let mut info = conn
                .prepare(&format!("PRAGMA index_info(\"{name}\")"))
                .unwrap();
            let cols: Vec<String> = info
                .query_map([], |r| r.get(2))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            indexes.push(format!("{name} on {t}({}) unique={unique}", cols.join(",")));
        }
    }
    columns.sort();
    indexes.sort();
    (columns, indexes)
}

fn replay_facts(schema: &Schema) -> (Vec<String>, Vec<String>) {
    let mut columns = Vec::new();
    for t in schema.tables.values() {
        let pk = t.primary_key_columns();
        for c in &t.columns {
            columns.push(format!(
                "{}.{} {} notnull={} pk={}",
                t.name,
                c.name,
                c.sql_type.clone().unwrap_or_default(),
                u8::from(!c.nullable),
                pk.contains(&c.name.as_str())
            ));
        }
    }
    let mut indexes: Vec<String> = schema
        .indexes
        .values()
        .map(|ix| {
            format!(
                "{} on {}({}) unique={}",
                ix.name,
                ix.table,
                ix.columns.join(","),
                ix.unique
            )
        })
        .collect();
    columns.sort();
    indexes.sort();
    (columns, indexes)
}

#[test]
fn yoyo_sql_replay_matches_what_sqlite_builds() {
    let steps: &[(&str, &str)] = &[
        (
            "CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL DEFAULT 0, updated_at TEXT NOT NULL DEFAULT 0);\nCREATE TABLE IF NOT EXISTS posts (id INTEGER PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), title TEXT, body TEXT, created_at TEXT NOT NULL DEFAULT 0, updated_at TEXT NOT NULL DEFAULT 0);",
            "DROP TABLE IF EXISTS posts;\nDROP TABLE IF EXISTS users;",
        ),
        (
            "CREATE INDEX IF NOT EXISTS idx_posts_user_id_title ON posts(user_id, title);\nCREATE UNIQUE INDEX IF NOT EXISTS idx_posts_title ON posts(title) WHERE title IS NOT NULL;",
            "DROP INDEX IF EXISTS idx_posts_title;\nDROP INDEX IF EXISTS idx_posts_user_id_title;",
        ),
        (
            "ALTER TABLE posts ADD COLUMN score REAL NOT NULL DEFAULT 0;\nALTER TABLE posts RENAME COLUMN body TO content;\nALTER TABLE users RENAME TO accounts;",
            "ALTER TABLE accounts RENAME TO users;\nALTER TABLE posts RENAME COLUMN content TO body;\nALTER TABLE posts DROP COLUMN score;",
        ),
        (
            "DROP INDEX IF EXISTS idx_posts_title;\nDROP INDEX IF EXISTS idx_posts_user_id_title;\nALTER TABLE posts DROP COLUMN title;",
            "ALTER TABLE posts ADD COLUMN title TEXT;\nCREATE UNIQUE INDEX IF NOT EXISTS idx_posts_title ON posts(title) WHERE title IS NOT NULL;\nCREATE INDEX IF NOT EXISTS idx_posts_user_id_title ON posts(user_id, title);",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    for (i, (apply, rollback)) in steps.iter().enumerate() {
        let stem = format!("migrations/{:04}_step.sql", i + 1);
        let rb = format!("migrations/{:04}_step.rollback.sql", i + 1);
        write_tree(
            dir.path(),
            &[(&stem, apply.as_bytes()), (&rb, rollback.as_bytes())],
        );
        conn.execute_batch(apply).unwrap();
        let (schema, findings) = replay(dir.path());
        assert!(findings.is_empty(), "step {}: {findings:#?}", i + 1);
        assert_eq!(
            replay_facts(&schema),
            sqlite_facts(&conn),
            "after step {}",
            i + 1
        );
    }
    // A drop SQLite refuses is one the replay flags.
    let probe = rusqlite::Connection::open_in_memory().unwrap();
    for (apply, _) in steps {
        probe.execute_batch(apply).unwrap();
    }
    probe
        .execute_batch("CREATE INDEX idx_posts_user_id ON posts(user_id);")
        .unwrap();
    assert!(
        probe
            .execute_batch("ALTER TABLE posts DROP COLUMN user_id;")
            .is_err()
    );
    write_tree(
        dir.path(),
        &[
            ("migrations/0005_step.sql", b"CREATE INDEX IF NOT EXISTS idx_posts_user_id ON posts(user_id);\nALTER TABLE posts DROP COLUMN user_id;"),
            ("migrations/0005_step.rollback.sql", b"SELECT 1;"),
        ],
    );
    let (_, findings) = replay(dir.path());
    assert!(
        findings.iter().any(|f| f.starts_with(
            "DropColumnRefused { table: \"posts\", column: \"user_id\", because: Indexed"
        )),
        "{findings:#?}"
    );
    std::fs::remove_file(dir.path().join("migrations/0005_step.sql")).unwrap();
    // Rolling everything back in SQLite leaves nothing; replay agrees that
    // every rollback undoes its step (no downgrade-roundtrip finding above).
    for (_, rollback) in steps.iter().rev() {
        conn.execute_batch(rollback).unwrap();
    }
    assert_eq!(sqlite_facts(&conn), (vec![], vec![]));
}

#[test]
fn filtered_columns_come_from_sql_strings_and_sqlalchemy_expressions() {
    let dir = tempfile::tempdir().unwrap();
    let ts = "created_at TEXT NOT NULL DEFAULT 0, updated_at TEXT NOT NULL DEFAULT 0";
    let create = format!(
        "CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, email TEXT, nick TEXT, team TEXT, secret TEXT, pin TEXT, {ts});\nCREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, author TEXT, body TEXT, {ts});\nCREATE INDEX IF NOT EXISTS idx_notes_author ON notes(author);"
    );
    write_tree(
        dir.path(),
        &[
            ("pyproject.toml", b"[project]\nname = \"app\"\n"),
            ("migrations/0001_init.sql", create.as_bytes()),
            ("migrations/0001_init.rollback.sql", b"DROP TABLE IF EXISTS notes; DROP TABLE IF EXISTS users;"),
            (
                "app/models.py",
                b"from sqlalchemy.orm import Mapped, mapped_column\n\nclass User(Base):\n    __tablename__ = \"users\"\n    id: Mapped[str] = mapped_column(primary_key=True)\n    email: Mapped[str] = mapped_column()\n    nickname: Mapped[str] = mapped_column(\"nick\")\n    team: Mapped[str] = mapped_column()\n    secret: Mapped[str] = mapped_column()\n    pin: Mapped[str] = mapped_column()\n",
            ),
            (
                "app/queries.py",
                b"from sqlalchemy import select, text\nfrom .models import User\n\ndef by_email(s, e):\n    return s.execute(select(User).where(User.email == e)).all()\n\ndef by_nick(s, n):\n    return s.query(User).filter_by(nickname=n).order_by(User.team.desc()).all()\n\nRAW = text(\"SELECT n.id FROM notes n JOIN users u ON u.id = n.author WHERE n.body LIKE :q\")\n\ndef unlock(s, i, x, p):\n    s.execute(select(User).where(User.id == i, User.secret == x))\n    s.query(User).filter_by(id=i, secret=x)\n    s.execute(select(User).where(or_(User.id == i, User.pin == p)))\n",
            ),
        ],
    );
    let out = miglint()
        .current_dir(dir.path())
        .args([
            "lint",
            "--select",
            "filtered-column-index",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut found: Vec<String> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            d["message"]
                .as_str()
                .unwrap()
                .split('`')
                .nth(1)
                .unwrap()
                .to_string()
        })
        .collect();
    found.sort();
    // users.id is the primary key and notes.author is indexed; the rest is
    // not. users.secret is only ever tested beside the primary key (found
    // by it); users.pin beside it with OR, which the key does not serve.
    assert_eq!(
        found,
        [
            "notes.body",
            "users.email",
            "users.nick",
            "users.pin",
            "users.team"
        ],
        "{json}"
    );
}

#[test]
fn yoyo_python_steps_replay_views_triggers_virtual_tables_and_drops() {
    let dir = tempfile::tempdir().unwrap();
    let ts = "created_at TEXT NOT NULL DEFAULT 0, updated_at TEXT NOT NULL DEFAULT 0";
    let step = |apply: &str, rollback: &str| {
        format!(
            "from yoyo import step\n\nsteps = [step(\"\"\"{apply}\"\"\", \"\"\"{rollback}\"\"\")]\n"
        )
    };
    let files = [
        step(
            &format!(
                "CREATE TABLE IF NOT EXISTS a (id INTEGER PRIMARY KEY, n INTEGER CHECK (n > 0), {ts}); CREATE TABLE IF NOT EXISTS old (id TEXT, {ts})"
            ),
            "DROP TABLE IF EXISTS old; DROP TABLE IF EXISTS a",
        ),
        step(
            "CREATE VIEW IF NOT EXISTS v_a AS SELECT id FROM a; CREATE TRIGGER IF NOT EXISTS t_a AFTER UPDATE ON a BEGIN UPDATE a SET n = 1 WHERE id = NEW.id; END",
            "DROP TRIGGER IF EXISTS t_a; DROP VIEW IF EXISTS v_a",
        ),
        step(
            "CREATE VIRTUAL TABLE IF NOT EXISTS docs USING fts5(body); DROP TABLE IF EXISTS old",
            &format!("CREATE TABLE IF NOT EXISTS old (id TEXT, {ts}); DROP TABLE IF EXISTS docs"),
        ),
    ];
    for (i, text) in files.iter().enumerate() {
        write_tree(
            dir.path(),
            &[(&format!("migrations/{:04}_s.py", i + 1), text.as_bytes())],
        );
    }
    let (schema, findings) = replay(dir.path());
    assert!(findings.is_empty(), "{findings:#?}");
    assert!(schema.views.contains_key("v_a"));
    assert!(schema.triggers.contains_key("t_a"));
    assert_eq!(
        schema.tables["docs"].virtual_module.as_deref(),
        Some("fts5")
    );
    assert!(!schema.tables.contains_key("old"), "dropped in an upgrade");
    assert_eq!(
        schema.tables["a"].checks.len(),
        0,
        "inline CHECKs stay with their column"
    );

    // A rollback that forgets the view is caught, and so is a view dropped twice.
    write_tree(
        dir.path(),
        &[(
            "migrations/0002_s.py",
            step(
                "CREATE VIEW IF NOT EXISTS v_a AS SELECT id FROM a; CREATE TRIGGER IF NOT EXISTS t_a AFTER UPDATE ON a BEGIN SELECT 1; END",
                "DROP TRIGGER IF EXISTS t_a",
            )
            .as_bytes(),
        )],
    );
    let (_, findings) = replay(dir.path());
    assert!(
        findings
            .iter()
            .any(|f| f.starts_with("RoundTrip") && f.contains("view `v_a` is left over")),
        "{findings:#?}"
    );
}

#[test]
fn alembic_primary_and_check_constraints_and_constraint_drops() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[(
            "migrations/versions/001_r.py",
            rev(
                1,
                &format!("    op.create_table(\"pairs\", sa.Column(\"a\", sa.Integer(), nullable=False), sa.Column(\"b\", sa.Integer(), nullable=False), {TS})\n    with op.batch_alter_table(\"pairs\") as batch_op:\n        batch_op.create_primary_key(\"pk_pairs\", [\"a\", \"b\"])\n        batch_op.create_check_constraint(\"ck_pairs_a\", \"a > 0\")\n        batch_op.drop_constraint(\"ck_pairs_a\", type_=\"check\")\n        batch_op.drop_constraint(\"ck_missing\", type_=\"check\")"),
                "    op.drop_table(\"pairs\")",
            )
            .as_bytes(),
        )],
    );
    let (schema, findings) = replay(dir.path());
    assert_eq!(schema.tables["pairs"].primary_key_columns(), ["a", "b"]);
    assert!(schema.tables["pairs"].checks.is_empty());
    assert_eq!(
        findings,
        ["schema-consistency: table `pairs` has no constraint named `ck_missing`"]
    );
}

/// Chains that start after `create_all` + `alembic stamp`: without a
/// baseline, one finding per table the chain uses but never creates; with
/// `baseline = "schema.sql"`, the replay starts from that dump.
#[test]
fn chains_built_on_create_all_start_from_the_baseline() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            ("alembic.ini", b"[alembic]\nscript_location = migrations\n"),
            (
                "migrations/versions/001_r.py",
                rev(
                    1,
                    "    op.add_column(\"runs\", sa.Column(\"note\", sa.String()))\n    op.create_index(\"ix_runs_note\", \"runs\", [\"note\"])\n    with op.batch_alter_table(\"metrics\") as batch_op:\n        batch_op.alter_column(\"value\", nullable=False)",
                    "    with op.batch_alter_table(\"metrics\") as batch_op:\n        batch_op.alter_column(\"value\", nullable=True)\n    op.drop_index(\"ix_runs_note\")\n    op.drop_column(\"runs\", \"note\")",
                )
                .as_bytes(),
            ),
        ],
    );
    let (_, findings) = replay(dir.path());
    assert_eq!(
        findings,
        [
            "schema-consistency: table `runs` is used here, but no migration creates it",
            "schema-consistency: table `metrics` is used here, but no migration creates it",
        ],
        "one finding per table, not per operation"
    );
    let out = miglint()
        .args(["lint", "--no-cache", "--select", "schema-consistency"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("baseline = \"schema.sql\""), "{text}");

    write_tree(
        dir.path(),
        &[
            ("miglint.toml", b"baseline = \"schema.sql\"\n"),
            (
                "schema.sql",
                b"CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT);\nCREATE TABLE metrics (id INTEGER PRIMARY KEY, value REAL);\n",
            ),
        ],
    );
    let settings = Settings::load(dir.path(), None).unwrap();
    let discovery =
        miglint::project::discover::discover(&settings, &[dir.path().to_path_buf()]).unwrap();
    let loaded =
        miglint::analysis::analyse(&settings, discovery, miglint::analysis::Wanted::default());
    let set = &loaded.sets[0];
    assert!(set.replay.events.is_empty(), "{:#?}", set.replay.events);
    let runs = set.replay.schema.table("runs").unwrap();
    assert!(runs.column("note").is_some());
    assert!(
        set.replay
            .schema
            .indexes_of("runs")
            .any(|ix| ix.name == "ix_runs_note")
    );
    let sql = stdout_of(
        miglint()
            .arg("schema")
            .arg(dir.path())
            .current_dir(dir.path()),
    );
    assert!(sql.contains("note"), "{sql}");

    // A baseline that is not there is a configuration error, with its line.
    write_tree(
        dir.path(),
        &[("miglint.toml", b"\nbaseline = \"missing.sql\"\n")],
    );
    let out = miglint()
        .arg("lint")
        .arg(dir.path())
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("miglint.toml:2: baseline: `missing.sql` is not a file"),
        "{err}"
    );
}

/// A foreign key named in its column (`CONSTRAINT fk REFERENCES t(id)`)
/// keeps its name in the replayed schema.
#[test]
fn inline_foreign_keys_keep_their_names() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "migrations/0001_users.sql",
                b"CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY);\nCREATE TABLE IF NOT EXISTS posts (id TEXT PRIMARY KEY, user_id TEXT CONSTRAINT fk_posts_user REFERENCES users(id));\n",
            ),
            (
                "migrations/0001_users.rollback.sql",
                b"DROP TABLE IF EXISTS posts;\nDROP TABLE IF EXISTS users;\n",
            ),
        ],
    );
    let sql = stdout_of(miglint().arg("schema").arg(dir.path()));
    assert!(
        sql.contains("CONSTRAINT fk_posts_user FOREIGN KEY (user_id) REFERENCES users (id)"),
        "{sql}"
    );
}
