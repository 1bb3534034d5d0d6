//! Alembic revisions are Python: miglint reads them the way Alembic runs
//! them, as far as their own code says (constants, f-strings, `op.f`,
//! loops over literals, helper functions, the dialect they ask about), and
//! what it cannot decide (an inspector check, a `try`, a name from the
//! application) makes what it touches uncertain: no finding rests on it,
//! and a note says what was not read.

mod common;

use std::path::Path;

use common::{miglint, write_tree};
use miglint::analysis::{Wanted, analyse};
use miglint::project::config::Settings;
use miglint::schema::facts::Fact;

/// A chain of Alembic revisions 001, 002, ... with these upgrade and
/// downgrade bodies, preceded by `prelude` at module level in each.
fn chain(dir: &Path, revisions: &[(&str, &str, &str)]) {
    let mut files = Vec::new();
    for (i, (prelude, up, down)) in revisions.iter().enumerate() {
        let n = i + 1;
        let parent = if n == 1 {
            "None".to_string()
        } else {
            format!("\"{:03}\"", n - 1)
        };
        files.push((
            format!("migrations/versions/{n:03}_step.py"),
            format!(
                "\"\"\"Step {n}.\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision = \"{n:03}\"\ndown_revision = {parent}\n{prelude}\n\ndef upgrade() -> None:\n{up}\n\n\ndef downgrade() -> None:\n{down}\n"
            ),
        ));
    }
    files.push((
        "alembic.ini".into(),
        "[alembic]\nscript_location = migrations\n".into(),
    ));
    let borrowed: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_bytes()))
        .collect();
    write_tree(dir, &borrowed);
}

/// The replayed schema (as SQL) and the facts met, worded briefly.
fn replay(dir: &Path) -> (String, Vec<String>, Vec<String>) {
    let settings = Settings::defaults(dir.to_path_buf());
    let discovery = miglint::project::discover::discover(&settings, &[dir.to_path_buf()]).unwrap();
    let loaded = analyse(&settings, discovery, Wanted::default());
    let set = &loaded.sets[0];
    let sql = miglint::schema::render::schema_sql(&set.replay.schema);
    let facts = set
        .replay
        .events
        .iter()
        .map(|e| match &e.fact {
            Fact::Conflict(c) => miglint::rules::schema_consistency::message(c),
            other => format!("{other:?}"),
        })
        .collect();
    let notes = set.replay.notes.iter().map(|n| n.2.clone()).collect();
    (sql, facts, notes)
}

const TABLE: &str =
    "sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"name\", sa.String())";

#[test]
fn constants_fstrings_op_f_and_loops_give_the_names_alembic_uses() {
    let dir = tempfile::tempdir().unwrap();
    let up1 = format!(
        "    for name in TABLES:\n        op.create_table(name, {TABLE})\n        op.create_index(op.f(f\"ix_{{name}}_name\"), name, [\"name\"])\n    for old, new in RENAMES.items():\n        op.rename_table(old, new)"
    );
    chain(
        dir.path(),
        &[
            (
                "TABLES = (\"users\", \"posts\")\nRENAMES = {\"posts\": \"articles\"}\n",
                &up1,
                "    op.rename_table(\"articles\", \"posts\")\n    for name in (\"posts\", \"users\"):\n        op.drop_index(op.f(\"ix_\" + name + \"_name\"), table_name=name)\n        op.drop_table(name)",
            ),
            (
                "INDEX = \"ix_users_id_name\"\n",
                "    with op.batch_alter_table(\"users\") as batch_op:\n        batch_op.create_index(batch_op.f(INDEX), [\"id\", \"name\"])",
                "    with op.batch_alter_table(\"users\") as batch_op:\n        batch_op.drop_index(batch_op.f(INDEX))",
            ),
        ],
    );
    let (sql, facts, notes) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:#?}");
    assert!(notes.is_empty(), "{notes:#?}");
    for expected in [
        "CREATE TABLE users",
        "CREATE TABLE articles",
        "CREATE INDEX ix_users_name ON users (name)",
        "CREATE INDEX ix_posts_name ON articles (name)",
        "CREATE INDEX ix_users_id_name ON users (id, name)",
    ] {
        assert!(sql.contains(expected), "missing `{expected}` in\n{sql}");
    }
}

#[test]
fn helper_functions_of_the_file_are_read_with_their_arguments() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[(
            &format!(
                "\ndef _create(table, column=\"name\"):\n    op.create_table(table, {TABLE})\n    op.create_index(f\"ix_{{table}}_{{column}}\", table, [column])\n"
            ),
            "    _create(\"users\")\n    _create(table=\"teams\", column=\"id\")",
            "    op.drop_table(\"teams\")\n    op.drop_table(\"users\")",
        )],
    );
    let (sql, facts, _) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:#?}");
    assert!(
        sql.contains("CREATE INDEX ix_users_name ON users (name)"),
        "{sql}"
    );
    assert!(
        sql.contains("CREATE INDEX ix_teams_id ON teams (id)"),
        "{sql}"
    );
}

#[test]
fn dialect_branches_follow_the_sets_dialect() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[
            (
                "",
                &format!("    op.create_table(\"users\", {TABLE})"),
                "    op.drop_table(\"users\")",
            ),
            (
                "",
                "    bind = op.get_bind()\n    if bind.dialect.name == \"sqlite\":\n        with op.batch_alter_table(\"users\") as batch_op:\n            batch_op.add_column(sa.Column(\"email\", sa.String()))\n    else:\n        op.add_column(\"users\", sa.Column(\"email\", sa.String()))\n        op.drop_constraint(\"users_pkey\", \"users\")\n    if op.get_bind().engine.name in (\"postgresql\", \"mysql\"):\n        op.drop_table(\"nowhere\")\n    if op.get_context().dialect.name != \"sqlite\":\n        return\n    op.create_index(\"ix_users_email\", \"users\", [\"email\"])",
                "    op.drop_index(\"ix_users_email\")\n    with op.batch_alter_table(\"users\") as batch_op:\n        batch_op.drop_column(\"email\")",
            ),
        ],
    );
    let (sql, facts, notes) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:#?}");
    assert!(notes.is_empty(), "{notes:#?}");
    assert!(sql.contains("email"), "{sql}");
    assert!(sql.contains("CREATE INDEX ix_users_email"), "{sql}");
    // Nothing of the other branch reaches the findings either.
    let out = miglint()
        .args([
            "lint",
            "--format",
            "json",
            "--no-cache",
            "--select",
            "batch-mode,schema-consistency",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["diagnostics"].as_array().unwrap().len(), 0, "{json:#}");
}

#[test]
fn guards_miglint_cannot_decide_make_tables_uncertain_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[
            (
                "",
                &format!("    op.create_table(\"users\", {TABLE})"),
                "    op.drop_table(\"users\")",
            ),
            (
                "",
                &format!(
                    "    inspector = sa.inspect(op.get_bind())\n    if \"audit\" not in inspector.get_table_names():\n        op.create_table(\"audit\", {TABLE})\n    try:\n        op.drop_index(\"ix_legacy\")\n    except Exception:\n        pass"
                ),
                "    pass",
            ),
            (
                "",
                // Certain operations on what the guard may have made: no finding.
                "    op.add_column(\"audit\", sa.Column(\"at\", sa.DateTime()))\n    op.drop_index(\"ix_legacy\", table_name=\"users\")\n    op.drop_table(\"ghosts\")",
                "    op.drop_column(\"audit\", \"at\")",
            ),
        ],
    );
    let (_, facts, notes) = replay(dir.path());
    // The inspector check is decided (`audit` is created); the index the
    // `try` may have dropped is uncertain; `ghosts` is not.
    assert_eq!(
        facts,
        ["table `ghosts` is used here, but no migration creates it"],
        "{facts:#?}"
    );
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert!(
        notes[0].contains("condition miglint cannot decide"),
        "{notes:#?}"
    );
    assert!(notes[0].contains("`ix_legacy`"), "{notes:#?}");
}

#[test]
fn inspector_checks_are_decided_on_the_replayed_schema() {
    let dir = tempfile::tempdir().unwrap();
    let guarded = format!(
        "    inspector = sa.inspect(op.get_bind())\n    tables = set(inspector.get_table_names())\n    if \"users\" not in tables:\n        op.create_table(\"users\", {TABLE})\n    if not inspector.has_table(\"teams\"):\n        op.create_table(\"teams\", {TABLE})\n    else:\n        op.drop_table(\"teams\")"
    );
    chain(
        dir.path(),
        &[
            (
                "",
                &format!("    op.create_table(\"users\", {TABLE})"),
                "    op.drop_table(\"users\")",
            ),
            // `users` exists: not created again; `teams` does not: created.
            ("", &guarded, "    op.drop_table(\"teams\")"),
            // Both are certain afterwards.
            (
                "",
                "    op.add_column(\"teams\", sa.Column(\"size\", sa.Integer()))\n    op.drop_column(\"users\", \"missing\")",
                "    op.drop_column(\"teams\", \"size\")",
            ),
        ],
    );
    let (sql, facts, notes) = replay(dir.path());
    assert_eq!(
        facts,
        ["column `users.missing` does not exist"],
        "{facts:#?}"
    );
    assert!(notes.is_empty(), "{notes:#?}");
    assert!(sql.contains("CREATE TABLE teams"), "{sql}");

    // Column and index lists: `size` is there (not added twice), the index
    // is not (created once). The last check may have read the list before
    // the index was created: undecided, with a note.
    let columns = "    inspector = sa.inspect(op.get_bind())\n    cols = {c[\"name\"] for c in inspector.get_columns(\"teams\")}\n    if \"size\" not in cols:\n        op.add_column(\"teams\", sa.Column(\"size\", sa.Integer()))\n    indexes = [i.get(\"name\") for i in inspector.get_indexes(\"teams\")]\n    if \"ix_teams_size\" not in indexes:\n        op.create_index(\"ix_teams_size\", \"teams\", [\"size\"])\n    if \"ix_teams_size\" in set(indexes):\n        op.drop_index(\"ix_teams_size\")";
    write_tree(
        dir.path(),
        &[(
            "migrations/versions/004_step.py",
            format!(
                "from alembic import op\nimport sqlalchemy as sa\n\nrevision = \"004\"\ndown_revision = \"003\"\n\n\ndef upgrade() -> None:\n{columns}\n\n\ndef downgrade() -> None:\n    op.drop_index(\"ix_teams_size\")\n"
            )
            .as_bytes(),
        )],
    );
    let (sql, facts, notes) = replay(dir.path());
    assert_eq!(
        facts,
        ["column `users.missing` does not exist"],
        "{facts:#?}"
    );
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert!(notes[0].contains("`ix_teams_size`"), "{notes:#?}");
    assert!(sql.contains("size INTEGER"), "{sql}");
}

#[test]
fn names_from_the_application_are_unread_never_empty() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[
            (
                "from app.models import Webhook\n",
                &format!(
                    "    op.create_table(Webhook.__tablename__, {TABLE})\n    op.create_index(\"ix_webhooks_name\", Webhook.__tablename__, [\"name\"])"
                ),
                "    op.drop_table(Webhook.__tablename__)",
            ),
            (
                "",
                "    op.add_column(\"webhooks\", sa.Column(\"url\", sa.String()))",
                "    op.drop_column(\"webhooks\", \"url\")",
            ),
        ],
    );
    let (sql, facts, notes) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:#?}");
    assert!(!sql.contains("CREATE TABLE \"\""), "{sql}");
    assert!(!sql.contains("ON  ("), "{sql}");
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert!(notes[0].contains("computed at run time"), "{notes:#?}");
    assert!(
        notes[0].contains("no table is checked from here"),
        "{notes:#?}"
    );
    // The note reaches the user.
    let out = miglint()
        .args(["lint", "--no-cache"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("not read statically"), "{text}");
}

#[test]
fn inline_indexes_named_primary_keys_and_alembic_guards() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[
            (
                "",
                "    op.create_table(\"jobs\", sa.Column(\"id\", sa.Integer()), sa.Column(\"at\", sa.DateTime()), sa.PrimaryKeyConstraint(\"id\", name=op.f(\"jobs_pkey\")), sa.Index(\"jobs_at_idx\", \"at\", unique=False))",
                "    op.drop_table(\"jobs\")",
            ),
            (
                "",
                "    dialect = op.get_bind().engine.dialect.name\n    if dialect == \"sqlite\":\n        op.drop_index(\"jobs_at_idx\", table_name=\"jobs\")\n    op.drop_index(\"jobs_at_idx\", table_name=\"jobs\", if_exists=True)\n    op.create_index(\"jobs_at_idx\", \"jobs\", [\"at\"], if_not_exists=True)\n    op.create_index(\"jobs_at_idx\", \"jobs\", [\"at\"], if_not_exists=True)\n    with op.batch_alter_table(\"jobs\") as batch_op:\n        batch_op.drop_constraint(\"jobs_pkey\", type_=\"primary\")",
                "    pass",
            ),
        ],
    );
    let (sql, facts, notes) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:#?}");
    assert!(notes.is_empty(), "{notes:#?}");
    assert!(
        sql.contains("CREATE INDEX jobs_at_idx ON jobs (at)"),
        "{sql}"
    );
    assert!(!sql.contains("PRIMARY KEY"), "{sql}");
}

/// `f(...)` is read on whatever name the batch is bound to, not only
/// `batch_op`.
#[test]
fn any_batch_alias_names_with_f() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[(
            "",
            &format!(
                "    op.create_table(\"users\", {TABLE})\n    with op.batch_alter_table(\"users\") as b:\n        b.create_index(b.f(\"ix_users_name\"), [\"name\"])"
            ),
            "    with op.batch_alter_table(\"users\") as b:\n        b.drop_index(b.f(\"ix_users_name\"))\n    op.drop_table(\"users\")",
        )],
    );
    let (sql, facts, notes) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:#?}");
    assert!(notes.is_empty(), "{notes:#?}");
    assert!(
        sql.contains("CREATE INDEX ix_users_name ON users (name)"),
        "{sql}"
    );
}

/// Operations are never dropped without a word: every iteration of a loop
/// over literals is read even when an inner loop runs over rows, a helper
/// called in an assignment runs its operations, and an operation inside a
/// larger expression is read as one that may not run, with a note.
#[test]
fn operations_in_loops_assignments_and_expressions_are_all_read() {
    let dir = tempfile::tempdir().unwrap();
    let up1 = format!(
        "    conn = op.get_bind()\n    for kind in (\"tool\", \"function\"):\n        history = op.create_table(f\"{{kind}}_history\", {TABLE})\n        for row in conn.execute(sa.text(f\"SELECT id FROM {{kind}}\")):\n            print(row)\n    made = make_tags()"
    );
    let up2 = format!(
        "    config = sa.table(\"config\") if HAS_CONFIG() else op.create_table(\"config\", {TABLE})"
    );
    chain(
        dir.path(),
        &[
            (
                &format!("\n\ndef make_tags():\n    return op.create_table(\"tags\", {TABLE})\n"),
                &up1,
                "    op.drop_table(\"tags\")\n    op.drop_table(\"function_history\")\n    op.drop_table(\"tool_history\")",
            ),
            (
                "from app import HAS_CONFIG\n",
                &up2,
                "    op.drop_table(\"config\")",
            ),
        ],
    );
    let (sql, facts, notes) = replay(dir.path());
    for table in ["tool_history", "function_history", "tags", "config"] {
        assert!(
            sql.contains(&format!("CREATE TABLE {table} ")),
            "{table}:\n{sql}"
        );
    }
    assert!(facts.is_empty(), "{facts:?}");
    assert!(
        notes
            .iter()
            .any(|n| n.ends_with("`config` not checked from here")),
        "{notes:?}"
    );
}

/// `with helper("t") as batch_op:` where the file's helper returns
/// `op.batch_alter_table(...)` is a batch on `t`, as Alembic runs it.
#[test]
fn a_helper_returning_a_batch_is_a_batch() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[
            (
                "",
                &format!("    op.create_table(\"jobs\", {TABLE})"),
                "    op.drop_table(\"jobs\")",
            ),
            (
                "\n\ndef _with_batch(table_name):\n    \"\"\"A batch with our settings.\"\"\"\n    return op.batch_alter_table(table_name, recreate=\"auto\")\n",
                "    with _with_batch(\"jobs\") as batch_op:\n        batch_op.add_column(sa.Column(\"status\", sa.String()))\n        batch_op.create_index(\"ix_jobs_status\", [\"status\"])",
                "    with _with_batch(\"jobs\") as batch_op:\n        batch_op.drop_index(\"ix_jobs_status\")\n        batch_op.drop_column(\"status\")",
            ),
        ],
    );
    let (sql, facts, notes) = replay(dir.path());
    assert!(sql.contains("status VARCHAR"), "{sql}");
    assert!(
        sql.contains("CREATE INDEX ix_jobs_status ON jobs (status)"),
        "{sql}"
    );
    assert!(facts.is_empty(), "{facts:?}");
    assert!(notes.is_empty(), "{notes:?}");
    let out = miglint()
        .args(["lint", "--no-cache", "--select", "batch-mode"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// A helper of the file that returns what the inspector says stands for
/// it where it is called: `has_table("t")` returning `"t" in
/// get_table_names()` is an inspector check the replay decides.
#[test]
fn helpers_returning_inspector_checks_are_decided() {
    let dir = tempfile::tempdir().unwrap();
    let helpers = "\n\ndef get_inspector():\n    return sa.inspect(op.get_bind())\n\n\ndef get_table_names():\n    \"\"\"The tables now.\"\"\"\n    return get_inspector().get_table_names()\n\n\ndef has_table(table_name):\n    return table_name in get_table_names()\n\n\ndef existing():\n    conn = op.get_bind()\n    return set(sa.inspect(conn).get_table_names())\n";
    chain(
        dir.path(),
        &[
            (
                "",
                &format!("    op.create_table(\"users\", {TABLE})"),
                "    op.drop_table(\"users\")",
            ),
            (
                helpers,
                &format!(
                    "    if not has_table(\"users\"):\n        op.create_table(\"users\", {TABLE})\n    if \"teams\" not in existing():\n        op.create_table(\"teams\", {TABLE})\n    tables = existing()\n    if \"tags\" not in tables:\n        op.create_table(\"tags\", {TABLE})"
                ),
                "    op.drop_table(\"tags\")\n    op.drop_table(\"teams\")",
            ),
        ],
    );
    let (sql, facts, notes) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:?}");
    assert!(notes.is_empty(), "{notes:?}");
    for table in ["users", "teams", "tags"] {
        assert!(
            sql.contains(&format!("CREATE TABLE {table} ")),
            "{table}:\n{sql}"
        );
    }
}

/// Helpers imported from the project's own modules count for what they
/// return; their operations are not read from there.
#[test]
fn helpers_imported_from_the_project_are_read_for_what_they_return() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[
            (
                "",
                &format!("    op.create_table(\"users\", {TABLE})"),
                "    op.drop_table(\"users\")",
            ),
            (
                "from migrations.util import has_table, existing_tables as tables_now\n",
                &format!(
                    "    if not has_table(\"users\"):\n        op.create_table(\"users\", {TABLE})\n    if \"teams\" not in tables_now():\n        op.create_table(\"teams\", {TABLE})"
                ),
                "    op.drop_table(\"teams\")",
            ),
        ],
    );
    write_tree(
        dir.path(),
        &[(
            "migrations/util.py",
            b"from alembic import op\nfrom sqlalchemy import inspect\n\n\ndef get_inspector():\n    return inspect(op.get_bind())\n\n\ndef existing_tables():\n    return set(get_inspector().get_table_names())\n\n\ndef has_table(name):\n    return name in existing_tables()\n",
        )],
    );
    let (sql, facts, notes) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:?}");
    assert!(notes.is_empty(), "{notes:?}");
    assert!(sql.contains("CREATE TABLE teams "), "{sql}");
}

/// `if not has_table("t"): return` leaves what follows to run only when
/// `t` exists, and checks nest: each is decided on the replayed schema.
#[test]
fn early_returns_and_nested_checks_are_decided() {
    let dir = tempfile::tempdir().unwrap();
    let up2 = format!(
        "    inspector = sa.inspect(op.get_bind())\n    if \"runs\" not in inspector.get_table_names():\n        return\n    op.create_table(\"snapshots\", {TABLE})"
    );
    let up3 = format!(
        "    inspector = sa.inspect(op.get_bind())\n    tables = inspector.get_table_names()\n    if \"users\" in tables:\n        if \"teams\" not in tables:\n            op.create_table(\"teams\", {TABLE})\n    if not inspector.has_table(\"users\"):\n        return\n    op.add_column(\"users\", sa.Column(\"team\", sa.String()))"
    );
    chain(
        dir.path(),
        &[
            (
                "",
                &format!("    op.create_table(\"users\", {TABLE})"),
                "    op.drop_table(\"users\")",
            ),
            // `runs` does not exist: nothing after the return runs.
            ("", &up2, "    pass"),
            // `users` exists and `teams` does not: both run.
            (
                "",
                &up3,
                "    with op.batch_alter_table(\"users\") as batch_op:\n        batch_op.drop_column(\"team\")\n    op.drop_table(\"teams\")",
            ),
        ],
    );
    let (sql, facts, notes) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:?}");
    assert!(notes.is_empty(), "{notes:?}");
    assert!(!sql.contains("CREATE TABLE snapshots"), "{sql}");
    assert!(sql.contains("CREATE TABLE teams "), "{sql}");
    assert!(sql.contains("team VARCHAR"), "{sql}");
}

/// Tables described in a list (`(name, [sa.Column(...), ...], [...])`),
/// created in a loop with `op.create_table(name, *columns, *constraints)`
/// and dropped in reverse: each is read as written.
#[test]
fn table_specs_in_lists_are_read_through_starred_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let prelude = "\nTABLES = [\n    (\"users\", [sa.Column(\"id\", sa.Integer(), nullable=False), sa.Column(\"name\", sa.String())], [sa.PrimaryKeyConstraint(\"id\")]),\n    (\"teams\", [sa.Column(\"id\", sa.Integer(), nullable=False)], [sa.PrimaryKeyConstraint(\"id\")]),\n]\n";
    chain(
        dir.path(),
        &[(
            prelude,
            "    for name, columns, constraints in TABLES:\n        op.create_table(name, *columns, *constraints)",
            "    for name, _, _ in reversed(TABLES):\n        op.drop_table(name)",
        )],
    );
    let (sql, facts, notes) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:?}");
    assert!(notes.is_empty(), "{notes:?}");
    assert!(
        sql.contains("CREATE TABLE users (\n    id INTEGER NOT NULL,\n    name VARCHAR,\n    PRIMARY KEY (id)\n);"),
        "{sql}"
    );
    assert!(sql.contains("CREATE TABLE teams "), "{sql}");
    // A column held in a name miglint cannot read makes the table unread,
    // never created without it.
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[(
            "from app import EXTRA\n",
            "    op.create_table(\"users\", sa.Column(\"id\", sa.Integer(), primary_key=True), EXTRA)",
            "    op.drop_table(\"users\")",
        )],
    );
    let (sql, _, notes) = replay(dir.path());
    assert!(!sql.contains("CREATE TABLE users"), "{sql}");
    assert_eq!(notes.len(), 1, "{notes:?}");
}

/// A column type the project defines (`class JSONField(TypeDecorator):
/// impl = Text`), in the file or imported from the project, is what it
/// stores.
#[test]
fn type_decorators_are_what_they_store() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[(
            "from migrations.types import UtcDateTime\n\n\nclass JSONField(sa.types.TypeDecorator):\n    \"\"\"JSON as text.\"\"\"\n\n    impl = sa.Text\n    cache_ok = True\n",
            "    op.create_table(\"events\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"meta\", JSONField()), sa.Column(\"at\", UtcDateTime(timezone=True)))",
            "    op.drop_table(\"events\")",
        )],
    );
    write_tree(
        dir.path(),
        &[(
            "migrations/types.py",
            b"from sqlalchemy import TIMESTAMP\nfrom sqlalchemy.types import TypeDecorator\n\n\nclass UtcDateTime(TypeDecorator):\n    impl = TIMESTAMP(timezone=True)\n",
        )],
    );
    let (sql, facts, _) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:?}");
    assert!(sql.contains("meta TEXT"), "{sql}");
    assert!(sql.contains("at TIMESTAMP"), "{sql}");
}

/// A loop over (name, type) pairs adds each column with its type, where a
/// column list check allows it.
#[test]
fn columns_from_a_list_of_names_and_types() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[
            (
                "",
                &format!("    op.create_table(\"users\", {TABLE})"),
                "    op.drop_table(\"users\")",
            ),
            (
                "",
                "    inspector = sa.inspect(op.get_bind())\n    columns = {c[\"name\"] for c in inspector.get_columns(\"users\")}\n    for name, kind in [(\"bio\", sa.Text()), (\"name\", sa.String()), (\"age\", sa.Integer())]:\n        if name not in columns:\n            op.add_column(\"users\", sa.Column(name, kind, nullable=True))\n    if \"x\" in [sa.func.lower(\"X\"), \"y\"]:\n        op.create_table(\"extra\", sa.Column(\"id\", sa.Integer(), primary_key=True))",
                "    op.drop_table(\"extra\")\n    with op.batch_alter_table(\"users\") as batch_op:\n        batch_op.drop_column(\"age\")\n        batch_op.drop_column(\"bio\")",
            ),
        ],
    );
    let (sql, facts, notes) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:?}");
    assert!(sql.contains("bio TEXT"), "{sql}");
    assert!(sql.contains("age INTEGER"), "{sql}");
    // `name` was there: not added twice.
    assert_eq!(sql.matches("name VARCHAR").count(), 1, "{sql}");
    // A call miglint does not evaluate may be "x": the drop is not decided.
    assert_eq!(notes.len(), 1, "{notes:?}");
}

/// An index on a table that is not there is refused by SQLite: the replay
/// does not keep it, even for an operation that may not run.
#[test]
fn no_index_is_kept_on_a_missing_table() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[(
            "from app import has_column\n",
            "    if has_column(\"events\", \"kind\"):\n        op.create_index(\"ix_events_kind\", \"events\", [\"kind\"])",
            "    pass",
        )],
    );
    let (sql, _, notes) = replay(dir.path());
    assert!(!sql.contains("ix_events_kind"), "{sql}");
    assert_eq!(notes.len(), 1, "{notes:?}");
}

/// Foreign keys keep the name `sa.ForeignKey(..., name=...)` gives them,
/// and a batch's `naming_convention` names the unnamed ones, as Alembic's
/// batch does when it drops one by that name.
#[test]
fn foreign_keys_named_inline_or_by_the_batch_convention() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[
            (
                "",
                "    op.create_table(\"experiments\", sa.Column(\"id\", sa.Integer(), primary_key=True))\n    op.create_table(\"runs\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"experiment_id\", sa.Integer(), sa.ForeignKey(column=\"experiments.id\", name=\"fk_runs_experiment\")))\n    op.create_table(\"datasets\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"experiment_id\", sa.Integer(), sa.ForeignKey(\"experiments.id\")))",
                "    op.drop_table(\"datasets\")\n    op.drop_table(\"runs\")\n    op.drop_table(\"experiments\")",
            ),
            (
                "\nCONVENTION = {\"fk\": \"fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s\"}\n",
                "    with op.batch_alter_table(\"runs\") as batch_op:\n        batch_op.drop_constraint(\"fk_runs_experiment\", type_=\"foreignkey\")\n    with op.batch_alter_table(\"datasets\", naming_convention=CONVENTION) as batch_op:\n        batch_op.drop_constraint(\"fk_datasets_experiment_id_experiments\", type_=\"foreignkey\")",
                "    pass",
            ),
        ],
    );
    let (sql, facts, notes) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:?}");
    assert!(notes.is_empty(), "{notes:?}");
    assert!(!sql.contains("REFERENCES"), "{sql}");
    // Real Alembic drops both by those names.
    common::real_tool_applies(dir.path()).unwrap();
}

/// Columns named in a `PrimaryKeyConstraint` are NOT NULL, as SQLAlchemy
/// makes them, unless they say `nullable=`; a column from a helper of the
/// file is read where it is written.
#[test]
fn primary_key_columns_and_columns_from_helpers() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[(
            "\n\ndef _workspace_column():\n    return sa.Column(\"workspace\", sa.String(63), nullable=False, server_default=\"default\")\n",
            "    op.create_table(\"metrics\", sa.Column(\"key\", sa.String(250)), sa.Column(\"step\", sa.Integer(), nullable=True), sa.PrimaryKeyConstraint(\"key\", \"step\"))\n    with op.batch_alter_table(\"metrics\") as batch_op:\n        batch_op.add_column(_workspace_column())",
            "    op.drop_table(\"metrics\")",
        )],
    );
    let (sql, facts, notes) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:?}");
    assert!(notes.is_empty(), "{notes:?}");
    assert!(sql.contains("\"key\" VARCHAR(250) NOT NULL"), "{sql}");
    assert!(sql.contains("step INTEGER,"), "{sql}");
    assert!(
        sql.contains("workspace VARCHAR(63) NOT NULL DEFAULT 'default'"),
        "{sql}"
    );
    common::real_tool_applies(dir.path()).unwrap();
}

/// `Inspector.from_engine(bind.engine)` and `inspect(bind.engine)` are the
/// inspector too: an early return on what they list is decided.
#[test]
fn inspectors_from_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[(
            "from sqlalchemy.engine.reflection import Inspector\n",
            &format!(
                "    conn = op.get_bind()\n    tables = Inspector.from_engine(conn.engine).get_table_names()\n    if \"users\" in tables:\n        return\n    op.create_table(\"users\", {TABLE})\n    if \"teams\" not in sa.inspect(conn.engine).get_table_names():\n        op.create_table(\"teams\", {TABLE})"
            ),
            "    op.drop_table(\"teams\")\n    op.drop_table(\"users\")",
        )],
    );
    let (sql, facts, notes) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:?}");
    assert!(notes.is_empty(), "{notes:?}");
    assert!(sql.contains("CREATE TABLE users "), "{sql}");
    assert!(sql.contains("CREATE TABLE teams "), "{sql}");
}

/// What follows a `try` runs whenever the migration goes on, and Python
/// code that is not an operation (a query in a loop miglint cannot list)
/// leaves nothing uncertain: no note for either.
#[test]
fn data_code_in_tries_and_loops_leaves_nothing_uncertain() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[
            (
                "",
                &format!("    op.create_table(\"trials\", {TABLE})"),
                "    op.drop_table(\"trials\")",
            ),
            (
                "from sqlalchemy import orm\n",
                "    session = orm.Session(bind=op.get_bind())\n    try:\n        for row in session.query(sa.text(\"SELECT id FROM trials\")):\n            print(row)\n        session.commit()\n    except Exception as e:\n        session.rollback()\n        raise e\n    finally:\n        session.close()\n    with op.batch_alter_table(\"trials\") as batch_op:\n        batch_op.add_column(sa.Column(\"number\", sa.Integer(), nullable=True))",
                "    with op.batch_alter_table(\"trials\") as batch_op:\n        batch_op.drop_column(\"number\")",
            ),
        ],
    );
    let (sql, facts, notes) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:?}");
    assert!(notes.is_empty(), "{notes:?}");
    assert!(sql.contains("number INTEGER"), "{sql}");
}

/// A column type chosen by dialect is the one the set's dialect gets.
#[test]
fn column_types_chosen_by_dialect() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[(
            "from sqlalchemy.dialects.mysql import MEDIUMBLOB\n",
            "    op.create_table(\"results\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"body\", MEDIUMBLOB if op.get_bind().dialect.name == \"mysql\" else sa.LargeBinary(), nullable=False))",
            "    op.drop_table(\"results\")",
        )],
    );
    let (sql, facts, _) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:?}");
    assert!(sql.contains("body BLOB NOT NULL"), "{sql}");
}

/// A helper that checks the table first (`if not has_table(t): return
/// False`) and then the column is decided as the column check; and
/// `inspector.dialect.dialect_description` names the dialect.
#[test]
fn helpers_with_early_returns_and_the_dialect_description() {
    let dir = tempfile::tempdir().unwrap();
    let helpers = "\n\ndef get_inspector():\n    return sa.inspect(op.get_bind())\n\n\ndef has_table(name):\n    return name in get_inspector().get_table_names()\n\n\ndef has_column(table, column):\n    if not has_table(table):\n        return False\n    columns = [c.get(\"name\") for c in get_inspector().get_columns(table)]\n    return column in columns\n";
    chain(
        dir.path(),
        &[
            (
                "",
                &format!("    op.create_table(\"runs\", {TABLE})"),
                "    op.drop_table(\"runs\")",
            ),
            (
                helpers,
                "    if has_column(\"runs\", \"missing\"):\n        op.drop_table(\"runs\")\n    if not has_column(\"runs\", \"snapshot_id\"):\n        if \"postgresql\" in get_inspector().dialect.dialect_description:\n            op.add_column(\"runs\", sa.Column(\"snapshot_id\", sa.String()))\n        else:\n            with op.batch_alter_table(\"runs\") as batch_op:\n                batch_op.add_column(sa.Column(\"snapshot_id\", sa.String()))",
                "    with op.batch_alter_table(\"runs\") as batch_op:\n        batch_op.drop_column(\"snapshot_id\")",
            ),
        ],
    );
    let (sql, facts, notes) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:?}");
    assert!(notes.is_empty(), "{notes:?}");
    assert!(sql.contains("snapshot_id VARCHAR"), "{sql}");
    // The PostgreSQL branch is not SQLite's: no batch-mode finding there.
    let out = miglint()
        .args(["lint", "--no-cache", "--select", "batch-mode"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Columns read once, then added one by one under checks on that list:
/// adding one does not make the checks on the others undecided; a check
/// on a column this migration already changed stays undecided.
#[test]
fn checks_on_a_column_list_read_once() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[
            (
                "",
                &format!("    op.create_table(\"files\", {TABLE})"),
                "    op.drop_table(\"files\")",
            ),
            (
                "",
                "    cols = {c[\"name\"] for c in sa.inspect(op.get_bind()).get_columns(\"files\")}\n    if \"hash\" not in cols:\n        op.add_column(\"files\", sa.Column(\"hash\", sa.Text(), nullable=True))\n    if \"data\" not in cols:\n        op.add_column(\"files\", sa.Column(\"data\", sa.JSON(), nullable=True))",
                "    with op.batch_alter_table(\"files\") as batch_op:\n        batch_op.drop_column(\"data\")\n        batch_op.drop_column(\"hash\")",
            ),
            (
                "",
                "    cols = {c[\"name\"] for c in sa.inspect(op.get_bind()).get_columns(\"files\")}\n    op.add_column(\"files\", sa.Column(\"size\", sa.Integer(), nullable=True))\n    if \"size\" not in cols:\n        op.add_column(\"files\", sa.Column(\"size\", sa.Integer(), nullable=True))",
                "    pass",
            ),
        ],
    );
    let (sql, facts, notes) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:?}");
    assert!(sql.contains("hash TEXT"), "{sql}");
    assert!(sql.contains("data JSON"), "{sql}");
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("`files`"), "{notes:?}");
}

/// Tables named from model classes (`SqlTag.__tablename__`), imported from
/// the project or defined in the file, and loops over `sorted(...)`, which
/// run in sorted order.
#[test]
fn table_names_from_model_classes_and_sorted_loops() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[(
            "from migrations.models import SqlTag as Tag\n\n\nclass Note:\n    __tablename__ = \"notes\"\n",
            &format!(
                "    op.create_table(Tag.__tablename__, {TABLE})\n    op.create_table(Note.__tablename__, {TABLE})\n    op.create_table(\"src\", {TABLE})\n    prev = \"src\"\n    for name in sorted([\"t_b\", \"t_a\"]):\n        op.rename_table(prev, name)\n        prev = name"
            ),
            "    op.drop_table(\"t_b\")\n    op.drop_table(\"notes\")\n    op.drop_table(\"tags\")",
        )],
    );
    write_tree(
        dir.path(),
        &[(
            "migrations/models.py",
            b"class SqlTag:\n    __tablename__ = \"tags\"\n",
        )],
    );
    let (sql, facts, notes) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:?}");
    assert!(notes.is_empty(), "{notes:?}");
    for table in ["tags", "notes", "t_b"] {
        assert!(
            sql.contains(&format!("CREATE TABLE {table} ")),
            "{table}:\n{sql}"
        );
    }
    assert!(!sql.contains("CREATE TABLE t_a "), "{sql}");
}

/// `sa.Column(..., index=True)` in `create_table` and in a plain
/// `add_column`: Alembic creates the index (`ix_<table>_<column>`, unique
/// with `unique=True`), so dropping it later is not a drop of nothing.
#[test]
fn column_index_true_creates_the_index_alembic_creates() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[
            (
                "",
                "    op.create_table(\"things\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"name\", sa.String(50), index=True), sa.Column(\"code\", sa.String(50), index=True, unique=True))\n    op.add_column(\"things\", sa.Column(\"owner\", sa.Integer(), index=True))",
                "    op.drop_table(\"things\")",
            ),
            (
                "",
                "    op.drop_index(\"ix_things_name\", table_name=\"things\")",
                "    op.create_index(\"ix_things_name\", \"things\", [\"name\"])",
            ),
        ],
    );
    let (sql, facts, notes) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:#?}");
    assert!(notes.is_empty(), "{notes:#?}");
    // The schema real Alembic builds on SQLite.
    assert!(
        sql.contains("CREATE UNIQUE INDEX ix_things_code ON things (code)"),
        "{sql}"
    );
    assert!(
        sql.contains("CREATE INDEX ix_things_owner ON things (owner)"),
        "{sql}"
    );
    assert!(!sql.contains("ix_things_name"), "{sql}");
    assert!(
        !sql.contains("UNIQUE,") && !sql.contains("code VARCHAR(50) UNIQUE"),
        "{sql}"
    );
}

/// A type's length held by a module constant is the length Python passes
/// (`sa.String(HASH_LENGTH)` is `VARCHAR(64)`, not `VARCHAR`).
#[test]
fn type_lengths_from_constants() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[(
            "HASH_LENGTH = 64\nSCALE = 2",
            "    op.create_table(\"files\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"hash\", sa.String(HASH_LENGTH)), sa.Column(\"size\", sa.Numeric(10, SCALE)))",
            "    op.drop_table(\"files\")",
        )],
    );
    let (sql, facts, _) = replay(dir.path());
    assert!(sql.contains("hash VARCHAR(64)"), "{sql}");
    assert!(sql.contains("size NUMERIC(10, 2)"), "{sql}");
    assert!(facts.is_empty(), "{facts:?}");
}

/// Alembic applies a `batch_alter_table` block as a whole: a column
/// dropped before the index on it, in the same block, is no conflict
/// (real Alembic runs it up and down on SQLite); without the index drop in
/// the block, the copy would recreate the index and fail.
#[test]
fn a_batch_block_is_applied_as_a_whole() {
    let dir = tempfile::tempdir().unwrap();
    let create = (
        "",
        "    op.create_table(\"t\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"a\", sa.Text()))\n    op.create_index(\"ix_t_a\", \"t\", [\"a\"])",
        "    op.drop_index(\"ix_t_a\", table_name=\"t\")\n    op.drop_table(\"t\")",
    );
    chain(
        dir.path(),
        &[
            create,
            (
                "",
                "    with op.batch_alter_table(\"t\") as batch_op:\n        batch_op.drop_column(\"a\")\n        batch_op.drop_index(\"ix_t_a\")",
                "    with op.batch_alter_table(\"t\") as batch_op:\n        batch_op.add_column(sa.Column(\"a\", sa.Text()))\n        batch_op.create_index(\"ix_t_a\", [\"a\"])",
            ),
        ],
    );
    let (sql, facts, _) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:?}");
    assert!(!sql.contains("ix_t_a") && !sql.contains(" a TEXT"), "{sql}");

    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[
            create,
            (
                "",
                "    with op.batch_alter_table(\"t\") as batch_op:\n        batch_op.drop_column(\"a\")",
                "    with op.batch_alter_table(\"t\") as batch_op:\n        batch_op.add_column(sa.Column(\"a\", sa.Text()))\n        batch_op.create_index(\"ix_t_a\", [\"a\"])",
            ),
        ],
    );
    let (_, facts, _) = replay(dir.path());
    assert_eq!(
        facts,
        ["column `t.a` is still covered by index `ix_t_a`"],
        "{facts:?}"
    );
}

/// The database URL decides a branch by its scheme: `str(bind.engine.url)`,
/// `bind.engine.url.drivername`, Alembic's `sqlalchemy.url` option and
/// `url.get_backend_name()` start with the set's dialect; what comes after
/// the scheme (a driver, a host) is not known, so it decides nothing.
#[test]
fn url_prefixes_decide_dialect_branches() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[
            (
                "",
                &format!("    op.create_table(\"users\", {TABLE})"),
                "    op.drop_table(\"users\")",
            ),
            (
                "from alembic import context",
                "    bind = op.get_bind()\n    if str(bind.engine.url).startswith(\"mysql\"):\n        op.drop_table(\"nowhere\")\n    if bind.engine.url.drivername.startswith((\"postgresql\", \"mysql\")):\n        op.drop_table(\"nowhere\")\n    if context.config.get_main_option(\"sqlalchemy.url\").startswith(\"sqlite:\"):\n        op.create_index(\"ix_users_name\", \"users\", [\"name\"])\n    if bind.engine.url.get_backend_name() == \"sqlite\":\n        op.create_index(\"ix_users_id\", \"users\", [\"id\"])\n    if str(bind.engine.url).startswith(\"sqlite+pysqlite\"):\n        op.drop_table(\"maybe\")",
                "    op.drop_index(\"ix_users_id\")\n    op.drop_index(\"ix_users_name\")",
            ),
        ],
    );
    let (sql, facts, notes) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:#?}");
    assert!(sql.contains("CREATE INDEX ix_users_name"), "{sql}");
    assert!(sql.contains("CREATE INDEX ix_users_id"), "{sql}");
    // The driver after the scheme is not known: that branch is unsure.
    assert_eq!(notes.len(), 1, "{notes:#?}");
}

/// Alembic names what the migrations leave unnamed with the naming
/// convention of the `target_metadata` that `env.py` passes, read from
/// `env.py` or from the project module it comes from; when that module is
/// not there to read, a drop by a name miglint cannot know is not reported.
#[test]
fn target_metadata_naming_convention_names_unnamed_constraints() {
    let dir = tempfile::tempdir().unwrap();
    let revisions = [
        (
            "",
            "    op.create_table(\"a\", sa.Column(\"id\", sa.Integer(), primary_key=True))\n    op.create_table(\"t\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"a_id\", sa.Integer(), sa.ForeignKey(\"a.id\")))",
            "    op.drop_table(\"t\")\n    op.drop_table(\"a\")",
        ),
        (
            "",
            "    with op.batch_alter_table(\"t\") as batch_op:\n        batch_op.drop_constraint(\"fk_t_a_id_a\", type_=\"foreignkey\")",
            "    with op.batch_alter_table(\"t\") as batch_op:\n        batch_op.create_foreign_key(\"fk_t_a_id_a\", \"a\", [\"a_id\"], [\"id\"])",
        ),
    ];
    chain(dir.path(), &revisions);
    let facts = |env: &str, files: &[(&str, &[u8])]| {
        write_tree(dir.path(), &[("migrations/env.py", env.as_bytes())]);
        write_tree(dir.path(), files);
        replay(dir.path()).1
    };
    // No convention: the key has no name, and dropping one by name fails.
    assert_eq!(
        facts("target_metadata = None\n", &[]),
        ["table `t` has no constraint named `fk_t_a_id_a`"]
    );
    let convention = "{\"fk\": \"fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s\"}";
    let env = format!(
        "import sqlalchemy as sa\ntarget_metadata = sa.MetaData(naming_convention={convention})\n"
    );
    assert!(facts(&env, &[]).is_empty());
    let base = format!(
        "from sqlalchemy import MetaData\nNAMING = {convention}\nmetadata = MetaData(naming_convention=NAMING)\n"
    );
    let from_app = "from app import db\ntarget_metadata = db.metadata\n";
    assert!(facts(from_app, &[("app/db.py", base.as_bytes())]).is_empty());
    std::fs::remove_file(dir.path().join("app/db.py")).unwrap();
    assert!(facts(from_app, &[]).is_empty());
}

/// A foreign key to a missing table waits for the end of its migration
/// (SQLite takes it, the table may come later), but keeps the certainty it
/// had where it was made: a guard later in the same migration that makes
/// its own table uncertain does not hide it.
#[test]
fn a_dangling_foreign_key_survives_a_later_guard_on_its_table() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[(
            "",
            "    op.create_table(\"tags\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"event_id\", sa.Integer(), sa.ForeignKey(\"events.id\")))\n    try:\n        op.create_index(\"ix_tags_event_id\", \"tags\", [\"event_id\"])\n    except Exception:\n        pass",
            "    op.drop_table(\"tags\")",
        )],
    );
    let (_, facts, notes) = replay(dir.path());
    assert_eq!(facts.len(), 1, "{facts:?}");
    assert!(
        facts[0].contains("DanglingForeignKey") && facts[0].contains("events"),
        "{facts:?}"
    );
    assert_eq!(notes.len(), 1, "{notes:?}");
}

/// `sa.Column(..., index=True)` in `op.create_table` is named by the `ix`
/// template of `target_metadata`'s naming convention (Alembic builds the
/// table in a `MetaData` with it), else `ix_<table>_<column>`.
#[test]
fn index_true_is_named_by_the_ix_convention() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[
            (
                "",
                "    op.create_table(\"t\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"email\", sa.String(), index=True))",
                "    op.drop_table(\"t\")",
            ),
            (
                "",
                "    op.drop_index(\"ix_t__email\", table_name=\"t\")",
                "    op.create_index(\"ix_t__email\", \"t\", [\"email\"])",
            ),
        ],
    );
    let facts = |env: &str| {
        write_tree(dir.path(), &[("migrations/env.py", env.as_bytes())]);
        replay(dir.path()).1
    };
    assert_eq!(
        facts("target_metadata = None\n")[0],
        "index `ix_t__email` does not exist"
    );
    assert!(
        facts("import sqlalchemy as sa\ntarget_metadata = sa.MetaData(naming_convention={\"ix\": \"ix_%(table_name)s__%(column_0_N_name)s\"})\n")
            .is_empty()
    );
    // A convention miglint cannot read: the index's name is not known, so
    // no drop of it is judged, and a note says so.
    write_tree(
        dir.path(),
        &[(
            "migrations/env.py",
            b"from elsewhere import metadata_factory
target_metadata = metadata_factory()
",
        )],
    );
    let (_, facts, notes) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:?}");
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("naming convention"), "{notes:?}");
}

/// `from alembic import op as alembic_op`, and names bound to it, are `op`.
#[test]
fn other_names_for_op_are_read_as_op() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[(
            "from alembic import op as alembic_op\n\nops = alembic_op",
            "    o = ops\n    alembic_op.create_table(\"t\", sa.Column(\"id\", sa.Integer(), primary_key=True))\n    o.add_column(\"t\", sa.Column(\"x\", sa.Integer()))\n    with ops.batch_alter_table(\"t\") as batch:\n        batch.create_index(\"ix_t_x\", [\"x\"])",
            "    alembic_op.drop_table(\"t\")",
        )],
    );
    let (sql, facts, notes) = replay(dir.path());
    assert!(sql.contains("x INTEGER"), "{sql}");
    assert!(sql.contains("CREATE INDEX ix_t_x ON t (x)"), "{sql}");
    assert!(facts.is_empty(), "{facts:?}");
    assert!(notes.is_empty(), "{notes:?}");
}

/// A type the project names once more (`StringID = sa.String` in a module
/// the migration imports) is that type, called with the arguments written
/// at the call; one a class of it holds (`Types.UniqueText`) is what it
/// was made as; a helper of the file that returns a type by dialect
/// (`return mssql.JSON` / `else: return sa.JSON`) is the one of the set's
/// dialect.
#[test]
fn type_aliases_and_helpers_returning_types() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[(
            "from sqlalchemy.dialects import mssql\nfrom migrations.db_types import StringID, Types\n\n\ndef _get_json_type():\n    \"\"\"JSON by database.\"\"\"\n    dialect_name = op.get_bind().dialect.name\n    if dialect_name == \"mssql\":\n        return mssql.JSON\n    else:\n        return sa.JSON\n",
            "    json_type = _get_json_type()\n    op.create_table(\"runs\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"dag_id\", StringID(length=250)), sa.Column(\"meta\", json_type), sa.Column(\"key\", Types.UniqueText))",
            "    op.drop_table(\"runs\")",
        )],
    );
    write_tree(
        dir.path(),
        &[
            (
                "alembic.ini",
                b"[alembic]\nscript_location = migrations\nprepend_sys_path = %(here)s\n",
            ),
            (
                "migrations/db_types.py",
                b"import sqlalchemy as sa\n\nStringID = sa.String\n\n\nclass Types:\n    UniqueText = sa.String(512)\n",
            ),
        ],
    );
    let (sql, facts, notes) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:?}");
    assert!(notes.is_empty(), "{notes:?}");
    assert!(sql.contains("dag_id VARCHAR(250)"), "{sql}");
    assert!(sql.contains("meta JSON"), "{sql}");
    assert!(sql.contains("\"key\" VARCHAR(512)"), "{sql}");
    common::real_tool_applies(dir.path()).unwrap();
}

/// A helper handed the batch (`_rename_index(batch_op=batch_op, ...)`)
/// runs its operations in that batch, on that table.
#[test]
fn helpers_given_the_batch_run_in_it() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[
            (
                "",
                &format!(
                    "    op.create_table(\"assets\", {TABLE})\n    op.create_index(\"idx_dataset_name\", \"assets\", [\"name\"])"
                ),
                "    op.drop_table(\"assets\")",
            ),
            (
                "\n\ndef _rename_index(*, batch_op, original_name, new_name, columns, unique):\n    batch_op.drop_index(original_name)\n    batch_op.create_index(new_name, columns, unique=unique)\n\n\ndef _drop(bop, name):\n    bop.drop_index(name)\n",
                "    with op.batch_alter_table(\"assets\") as batch_op:\n        _rename_index(batch_op=batch_op, original_name=\"idx_dataset_name\", new_name=\"idx_asset_name\", columns=[\"name\"], unique=True)",
                "    with op.batch_alter_table(\"assets\") as b:\n        _drop(b, \"idx_asset_name\")\n        b.create_index(\"idx_dataset_name\", [\"name\"])",
            ),
        ],
    );
    let (sql, facts, notes) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:?}");
    assert!(notes.is_empty(), "{notes:?}");
    assert!(
        sql.contains("CREATE UNIQUE INDEX idx_asset_name ON assets (name)"),
        "{sql}"
    );
    assert!(!sql.contains("idx_dataset_name"), "{sql}");
    common::real_tool_applies(dir.path()).unwrap();
}

/// `sa.ForeignKey(column=SqlTraceInfo.request_id)`: the mapped class's
/// table and the attribute's column (named by the attribute, or by the
/// name `Column(...)` gives it).
#[test]
fn foreign_keys_to_model_attributes() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[(
            "from migrations.models import SqlTraceInfo as Info\n",
            "    op.create_table(Info.__tablename__, sa.Column(\"req_id\", sa.String(50), primary_key=True))\n    op.create_table(\"trace_tags\", sa.Column(\"key\", sa.String(250), primary_key=True), sa.Column(\"request_id\", sa.String(50), sa.ForeignKey(column=Info.request_id, name=\"fk_tags\"), nullable=False))",
            "    op.drop_table(\"trace_tags\")\n    op.drop_table(Info.__tablename__)",
        )],
    );
    write_tree(
        dir.path(),
        &[
            (
                "alembic.ini",
                b"[alembic]\nscript_location = migrations\nprepend_sys_path = %(here)s\n",
            ),
            (
            "migrations/models.py",
            b"import sqlalchemy as sa\nfrom sqlalchemy.orm import declarative_base\n\nBase = declarative_base()\n\n\nclass SqlTraceInfo(Base):\n    __tablename__ = \"trace_info\"\n    request_id = sa.Column(\"req_id\", sa.String(50), primary_key=True)\n",
        )],
    );
    let (sql, facts, notes) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:?}");
    assert!(notes.is_empty(), "{notes:?}");
    assert!(sql.contains("CREATE TABLE trace_tags "), "{sql}");
    assert!(sql.contains("REFERENCES trace_info (req_id)"), "{sql}");
    common::real_tool_applies(dir.path()).unwrap();
}

/// `{"a", "b"} & columns` holds those of the names the inspector lists: a
/// loop over it runs for each one that is there, and `if` on it asks
/// whether any is, both decided on the replayed schema.
#[test]
fn names_kept_by_an_inspector_list_are_decided_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[
            (
                "",
                "    op.create_table(\"users\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"api_key\", sa.Text()), sa.Column(\"oauth_sub\", sa.Text()))",
                "    op.drop_table(\"users\")",
            ),
            (
                "",
                "    inspector = sa.inspect(op.get_bind())\n    user_columns = {c[\"name\"] for c in inspector.get_columns(\"users\")}\n    cols_to_drop = {\"api_key\", \"oauth_sub\", \"legacy\"} & user_columns\n    if cols_to_drop:\n        with op.batch_alter_table(\"users\") as batch_op:\n            for col in cols_to_drop:\n                batch_op.drop_column(col)\n    gone = {\"legacy\"} & user_columns\n    if gone:\n        op.drop_table(\"users\")",
                "    op.add_column(\"users\", sa.Column(\"oauth_sub\", sa.Text()))\n    op.add_column(\"users\", sa.Column(\"api_key\", sa.Text()))",
            ),
        ],
    );
    let (sql, facts, notes) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:?}");
    assert!(notes.is_empty(), "{notes:?}");
    assert!(sql.contains("CREATE TABLE users "), "{sql}");
    assert!(!sql.contains("api_key"), "{sql}");
    assert!(!sql.contains("oauth_sub"), "{sql}");
    common::real_tool_applies(dir.path()).unwrap();
}

/// What miglint cannot read is marked in `miglint schema`, never guessed:
/// a type a module makes at run time (`__getattr__`), an `Enum` whose
/// values come from elsewhere, a default the project's code makes, a table whose constraint is dropped by the
/// name the inspector gives at run time, and the list of tables once one
/// is renamed from such a name. No round trip is judged on the unread type
/// (it once read `StringID(length=30)` as a type named `STRINGID`, and
/// reported the downgrade's `VARCHAR(30)` as not undoing the upgrade).
#[test]
fn what_miglint_cannot_read_is_marked_in_the_schema_not_guessed() {
    let dir = tempfile::tempdir().unwrap();
    chain(
        dir.path(),
        &[
            (
                "from migrations.db_types import STATES, StringID, now_sql\n",
                "    op.create_table(\"jobs\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"kind\", StringID(length=30)), sa.Column(\"state\", sa.Enum(*STATES, native_enum=False)), sa.Column(\"name\", sa.String(36)), sa.Column(\"at\", sa.DateTime(), server_default=now_sql()), sa.Column(\"done\", sa.Boolean(), server_default=sa.false()), sa.UniqueConstraint(\"name\", name=\"uq_jobs_name\"))",
                "    op.drop_table(\"jobs\")",
            ),
            (
                "from migrations.db_types import StringID\n",
                "    with op.batch_alter_table(\"jobs\") as batch_op:\n        batch_op.alter_column(\"kind\", existing_type=StringID(length=30), type_=sa.Text())",
                "    with op.batch_alter_table(\"jobs\") as batch_op:\n        batch_op.alter_column(\"kind\", existing_type=sa.Text(), type_=sa.String(30))",
            ),
            (
                "",
                "    unique = sa.inspect(op.get_bind()).get_unique_constraints(\"jobs\")[0]\n    with op.batch_alter_table(\"jobs\") as batch_op:\n        batch_op.drop_constraint(unique[\"name\"], type_=\"unique\")",
                "    with op.batch_alter_table(\"jobs\") as batch_op:\n        batch_op.create_unique_constraint(\"uq_jobs_name\", [\"name\"])",
            ),
            (
                "",
                "    tables = sa.inspect(op.get_bind()).get_table_names()\n    op.rename_table([t for t in tables if t.startswith(\"jo\")][0], \"jobs_renamed\")",
                "    op.rename_table(\"jobs_renamed\", \"jobs\")",
            ),
        ],
    );
    write_tree(
        dir.path(),
        &[
            (
                "alembic.ini",
                b"[alembic]\nscript_location = migrations\nprepend_sys_path = %(here)s\n",
            ),
            (
                "migrations/db_types.py",
                b"import sqlalchemy as sa\n\nSTATES = (\"queued\", \"running\")\n\n\ndef now_sql():\n    return sa.text(\"CURRENT_TIMESTAMP\")\n\n\ndef __getattr__(name):\n    if name == \"StringID\":\n        return sa.String\n    raise AttributeError(name)\n",
            ),
        ],
    );
    let json = String::from_utf8(
        miglint()
            .args(["schema", "--each", "--format", "json"])
            .arg(dir.path())
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let at = |rev: usize| &doc["sets"][0]["revisions"][rev]["schema"]["tables"][0];
    let column = |rev: usize, name: &str| {
        at(rev)["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(column(0, "kind")["type_unknown"], true, "{json}");
    assert_eq!(column(0, "state")["type_unknown"], true, "{json}");
    assert_eq!(column(0, "name")["type"], "VARCHAR(36)", "{json}");
    assert!(column(0, "name").get("type_unknown").is_none(), "{json}");
    // A default made by the project's own code: unknown, never its Python
    // text as SQL. SQLAlchemy's `false()` is 0 on SQLite.
    assert_eq!(column(0, "at")["default_unknown"], true, "{json}");
    assert!(column(0, "at")["default"].is_null(), "{json}");
    assert_eq!(column(0, "done")["default"], "0", "{json}");
    assert!(column(0, "done").get("default_unknown").is_none(), "{json}");
    // Altered to a type miglint knows: known again.
    assert!(column(1, "kind").get("type_unknown").is_none(), "{json}");
    assert!(at(1).get("uncertain").is_none(), "{json}");
    assert_eq!(at(2)["uncertain"], true, "{json}");
    // A table renamed from a name known only at run time: the list of
    // tables itself is no longer sure.
    let schema = |rev: usize| &doc["sets"][0]["revisions"][rev]["schema"];
    assert!(schema(2).get("incomplete").is_none(), "{json}");
    assert_eq!(schema(3)["incomplete"], true, "{json}");
    let lint = String::from_utf8(
        miglint()
            .args(["lint", "--no-cache", "--format", "json"])
            .arg(dir.path())
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(!lint.contains("downgrade-roundtrip"), "{lint}");
    common::real_tool_applies(dir.path()).unwrap();
}

/// Renames and foreign keys driven by a helper that builds its lists with
/// comprehensions (a dict reversed, a list of tuples spliced with `*`,
/// subscripts into both), walked with `zip`, as Alembic runs them. A list
/// changed in place by code miglint does not model (`names.append(...)`)
/// is no longer known: the loop over it is not read as the literal.
#[test]
fn comprehensions_zip_and_subscripts_are_read_as_python_runs_them() {
    let dir = tempfile::tempdir().unwrap();
    let helpers = "\ndef _changes():\n    mapping = {\"userschema\": \"users\", \"postschema\": \"posts\"}\n    reverse = {new: old for old, new in mapping.items()}\n    fks = [\n        *[(source, \"users\", \"user_id\") for source in [\"posts\"]],\n        (\"posts\", \"posts\", \"parent_id\"),\n    ]\n    old_fks = [(reverse[s], reverse[t], c) for s, t, c in fks if c != \"parent_id\"]\n    return list(mapping.keys()), list(mapping.values()), fks, old_fks\n\n\ndef _fk_name(source, column):\n    return f\"fk_{source}_{column}\"\n";
    chain(
        dir.path(),
        &[
            (
                "",
                "    op.create_table(\"userschema\", sa.Column(\"id\", sa.Integer(), primary_key=True))\n    op.create_table(\"postschema\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"user_id\", sa.Integer()), sa.Column(\"parent_id\", sa.Integer()))",
                "    op.drop_table(\"postschema\")\n    op.drop_table(\"userschema\")",
            ),
            (
                helpers,
                "    old, new, fks, old_fks = _changes()\n    for o, n in zip(old, new):\n        op.rename_table(o, n)\n    for i, (source, target, column) in enumerate(fks):\n        with op.batch_alter_table(source) as batch_op:\n            batch_op.create_foreign_key(_fk_name(source, column), target, [column], [\"id\"])",
                "    old, new, fks, old_fks = _changes()\n    for source, target, column in fks:\n        with op.batch_alter_table(source) as batch_op:\n            batch_op.drop_constraint(_fk_name(source, column), type_=\"foreignkey\")\n    for o, n in zip(old, new):\n        op.rename_table(n, o)",
            ),
            (
                "",
                "    names = [\"a\"]\n    names.append(\"b\")\n    for name in names:\n        op.add_column(\"users\", sa.Column(name, sa.String()))",
                "    with op.batch_alter_table(\"users\") as batch_op:\n        batch_op.drop_column(\"b\")\n        batch_op.drop_column(\"a\")",
            ),
        ],
    );
    let (sql, facts, notes) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:#?}");
    for expected in [
        "CREATE TABLE users",
        "CREATE TABLE posts",
        "CONSTRAINT fk_posts_user_id FOREIGN KEY (user_id) REFERENCES users (id)",
        "CONSTRAINT fk_posts_parent_id FOREIGN KEY (parent_id) REFERENCES posts (id)",
    ] {
        assert!(sql.contains(expected), "missing `{expected}` in\n{sql}");
    }
    assert!(!sql.contains("userschema"), "{sql}");
    // Only the list changed in place is unknown: one note, at revision 3.
    assert_eq!(notes.len(), 1, "{notes:#?}");
    let json = String::from_utf8(
        miglint()
            .args(["schema", "--format", "json"])
            .arg(dir.path())
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let users = doc["sets"][0]["schema"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "users")
        .cloned()
        .unwrap();
    assert_eq!(users["uncertain"], true, "{json}");
    common::real_tool_applies(dir.path()).unwrap();
}

/// Constants a migration imports from the project (`from app.limits import
/// NAME_LEN`) are read from the module that assigns them, once, at its top
/// level: a length, a prefix, a default. One assigned twice is not given.
#[test]
fn constants_imported_from_the_project_are_read() {
    // A project whose migration imports `names` from `app/limits.py`, and
    // names its table `table` (a literal, or an imported constant).
    let project = |names: &str, table: &str, limits: &[u8]| {
        let dir = tempfile::tempdir().unwrap();
        chain(
            dir.path(),
            &[(
                &format!("from app.limits import {names}\n"),
                &format!(
                    "    op.create_table({table}, sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"name\", sa.String(NAME_LEN)), sa.Column(\"state\", sa.String(8), server_default=sa.text(f\"'{{DEFAULT_STATE}}'\")))\n    op.create_index(f\"{{PREFIX}}_jobs_name\", {table}, [\"name\"])"
                ),
                &format!("    op.drop_table({table})"),
            )],
        );
        write_tree(
            dir.path(),
            &[
                (
                    "alembic.ini",
                    b"[alembic]\nscript_location = migrations\nprepend_sys_path = %(here)s\n",
                ),
                ("app/__init__.py", b""),
                ("app/limits.py", limits),
            ],
        );
        dir
    };
    let dir = project(
        "NAME_LEN, PREFIX, DEFAULT_STATE, TABLE",
        "TABLE",
        b"BASE = 32\nNAME_LEN = BASE * 2 if False else 64\nPREFIX = \"ix\"\nDEFAULT_STATE = \"queued\"\nTABLE = \"jobs\"\nTABLE = \"jobs\"\n",
    );
    let (sql, facts, notes) = replay(dir.path());
    assert!(facts.is_empty(), "{facts:#?}");
    // TABLE is assigned twice in its module: not read, and said so.
    assert!(!notes.is_empty(), "{notes:#?}");
    assert!(!sql.contains("CREATE TABLE jobs"), "{sql}");
    let dir2 = project(
        "NAME_LEN, PREFIX, DEFAULT_STATE",
        "\"jobs\"",
        b"NAME_LEN = 64\nPREFIX = \"ix\"\nDEFAULT_STATE = \"queued\"\n",
    );
    let (sql, facts, notes) = replay(dir2.path());
    assert!(facts.is_empty(), "{facts:#?}");
    assert!(notes.is_empty(), "{notes:#?}");
    for expected in [
        "name VARCHAR(64)",
        "state VARCHAR(8) DEFAULT 'queued'",
        "CREATE INDEX ix_jobs_name ON jobs (name)",
    ] {
        assert!(sql.contains(expected), "missing `{expected}` in\n{sql}");
    }
    common::real_tool_applies(dir.path()).unwrap();
    common::real_tool_applies(dir2.path()).unwrap();
    // Rebound in a branch the module runs at import time: which value
    // holds is not known, so the length is not read.
    let dir3 = project(
        "NAME_LEN, PREFIX, DEFAULT_STATE",
        "\"jobs\"",
        b"import os\nNAME_LEN = 64\nif os.environ.get(\"WIDE\"):\n    NAME_LEN = 128\nPREFIX = \"ix\"\nDEFAULT_STATE = \"queued\"\n",
    );
    let (sql, facts, _) = replay(dir3.path());
    assert!(facts.is_empty(), "{facts:#?}");
    assert!(!sql.contains("VARCHAR(64)"), "{sql}");
    assert!(
        sql.contains("CREATE INDEX ix_jobs_name ON jobs (name)"),
        "{sql}"
    );
    common::real_tool_applies(dir3.path()).unwrap();
}
