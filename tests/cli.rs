//! The command line as users meet it: formats, exit codes, config, suppressions.

mod common;

use common::{alembic_revision, miglint, write_tree};
use predicates::prelude::*;

fn stdout_of(cmd: &mut assert_cmd::Command) -> String {
    String::from_utf8(cmd.output().unwrap().stdout).unwrap()
}

/// An Alembic project whose `alembic.ini` names a PostgreSQL database, with
/// these revisions as `001_a.py`, `002_b.py`, ...
fn postgres_alembic_project(dir: &std::path::Path, revisions: &[&str]) {
    let mut files: Vec<(String, Vec<u8>)> = vec![(
        "alembic.ini".into(),
        b"[alembic]\nscript_location = migrations\nsqlalchemy.url = postgresql://localhost/app\n"
            .to_vec(),
    )];
    for (i, text) in revisions.iter().enumerate() {
        let name = format!(
            "migrations/versions/{:03}_{}.py",
            i + 1,
            (b'a' + i as u8) as char
        );
        files.push((name, text.as_bytes().to_vec()));
    }
    let borrowed: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect();
    write_tree(dir, &borrowed);
}

/// A yoyo project's `yoyo.ini` on PostgreSQL.
const YOYO_POSTGRES_INI: &[u8] =
    b"[DEFAULT]\nsources = migrations\ndatabase = postgresql://localhost/shop\n";

/// `miglint lint --no-cache --select <rules>` in `dir`: its output.
fn lint_selecting(dir: &std::path::Path, rules: &str) -> String {
    stdout_of(
        miglint()
            .current_dir(dir)
            .args(["lint", "--no-cache", "--select", rules]),
    )
}

/// Revision 001: creates table `t` with a bigint primary key.
fn table_t() -> String {
    revision(
        "001",
        None,
        "    op.create_table(\"t\", sa.Column(\"id\", sa.BigInteger(), primary_key=True))",
        "    op.drop_table(\"t\")",
    )
}

/// An Alembic revision file: `upgrade` and `downgrade` are the bodies,
/// indented.
fn revision(id: &str, parent: Option<&str>, upgrade: &str, downgrade: &str) -> String {
    let down_revision = parent.map_or("None".to_string(), |p| format!("\"{p}\""));
    let revises = parent.unwrap_or("");
    format!(
        "\"\"\"{id}\n\nRevision ID: {id}\nRevises: {revises}\n\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision = \"{id}\"\ndown_revision = {down_revision}\n\n\ndef upgrade():\n{upgrade}\n\n\ndef downgrade():\n{downgrade}\n"
    )
}

#[test]
fn clean_examples_pass_with_exit_zero() {
    for example in [
        "examples/alembic-sqlite",
        "examples/yoyo-sqlite",
        "examples/sql-folders",
    ] {
        let out = miglint().args(["lint", example]).assert().code(0);
        let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let (last, notes) = lines.split_last().expect("a summary line");
        assert!(last.starts_with("All checks passed"), "{text}");
        // The only notes say which database each folder is linted for.
        for note in notes {
            assert!(
                note.starts_with("note: ") && note.contains("this folder is linted as SQLite"),
                "{text}"
            );
        }
    }
}

#[test]
fn broken_example_text_output() {
    let out = miglint().args(["lint", "examples/broken"]).assert().code(1);
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(!text.contains('\x1b'), "no colour when not on a terminal");
    insta::assert_snapshot!("broken_text", text);
}

#[test]
fn sql_folder_examples_are_read_as_their_tools() {
    let text = stdout_of(miglint().args(["schema", "examples/sql-folders", "--format", "json"]));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let read: Vec<(String, String)> = json["sets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["path"].as_str().unwrap().to_string(),
                s["flavour"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for tool in ["dbmate", "diesel", "golang-migrate", "refinery", "sqlx"] {
        assert!(
            read.iter().any(|(path, flavour)| path
                .starts_with(&format!("examples/sql-folders/{tool}/"))
                && flavour == tool),
            "examples/sql-folders/{tool} not read as {tool}: {read:?}"
        );
    }
    for set in json["sets"].as_array().unwrap() {
        assert_eq!(
            set["schema"]["tables"][0]["name"], "notes",
            "{}",
            set["path"]
        );
    }
}

#[test]
fn broken_example_fires_every_rule() {
    let text = stdout_of(miglint().args(["lint", "examples/broken", "--format", "json"]));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let fired: std::collections::BTreeSet<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["rule"].as_str().unwrap())
        .collect();
    // immutable-migration needs history (`--base`); tests/git.rs covers it.
    for meta in miglint::rules::ALL
        .iter()
        .filter(|m| m.has_examples && m.id != "immutable-migration")
    {
        assert!(
            fired.contains(meta.id),
            "examples/broken does not raise {}",
            meta.id
        );
    }
}

#[test]
fn json_output_is_the_documented_contract() {
    let text = stdout_of(miglint().args(["lint", "examples/broken", "--format", "json"]));
    insta::assert_snapshot!("broken_json", text);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["version"], 1);
    let first = &json["diagnostics"][0];
    for key in [
        "rule",
        "severity",
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "message",
        "help",
    ] {
        assert!(first.get(key).is_some(), "missing {key}");
    }
    assert_eq!(json["summary"]["errors"], 23);
    assert_eq!(json["summary"]["warnings"], 12);
}

#[test]
fn github_format_prints_workflow_commands_and_is_default_in_actions() {
    let explicit = stdout_of(miglint().args(["lint", "examples/broken", "--format", "github"]));
    insta::assert_snapshot!("broken_github", explicit);
    let implicit = stdout_of(
        miglint()
            .env("GITHUB_ACTIONS", "true")
            .args(["lint", "examples/broken"]),
    );
    assert_eq!(explicit, implicit);
    assert!(
        explicit
            .lines()
            .all(|l| l.starts_with("::error file=") || l.starts_with("::warning file="))
    );
}

#[test]
fn sarif_output_has_one_rule_entry_per_rule_and_located_results() {
    let text = stdout_of(miglint().args(["lint", "examples/broken", "--format", "sarif"]));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["version"], "2.1.0");
    let run = &json["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), miglint::rules::ALL.len());
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 35);
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().unwrap() >= 1);
    }
}

#[test]
fn exit_zero_and_quiet() {
    miglint()
        .args(["lint", "examples/broken", "--exit-zero"])
        .assert()
        .code(0);
    let quiet = stdout_of(miglint().args(["lint", "examples/broken", "--quiet"]));
    assert!(!quiet.contains("warning["));
    assert!(quiet.contains("error[batch-mode]"));
}

#[test]
fn select_and_ignore_choose_rules() {
    let text = stdout_of(miglint().args([
        "lint",
        "examples/broken",
        "--select",
        "batch-mode",
        "--format",
        "json",
    ]));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let rules: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["batch-mode"]);
    let text = stdout_of(miglint().args([
        "lint",
        "examples/broken",
        "--ignore",
        "batch-mode,revision-chain",
        "--format",
        "json",
    ]));
    assert!(!text.contains("\"batch-mode\""));
    assert!(!text.contains("\"revision-chain\""));
    assert!(text.contains("\"timestamp-columns\""));
}

#[test]
fn usage_and_io_failures_exit_two_with_one_line() {
    miglint()
        .args(["lint", "no/such/folder"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "miglint: error: cannot read no/such/folder",
        ));
    miglint()
        .args(["lint", "examples/broken", "--select", "no-such-rule"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown rule `no-such-rule`"));
    miglint().args(["lint", "--format", "xml"]).assert().code(2);
    miglint().args(["explain", "nope"]).assert().code(2);
    miglint().args(["frobnicate"]).assert().code(2);
}

#[test]
fn config_errors_name_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[(
            "miglint.toml",
            b"dialect = \"sqlite\"\nmigratoins = [\"x\"]\n",
        )],
    );
    miglint()
        .current_dir(dir.path())
        .args(["lint"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("miglint.toml:2"))
        .stderr(predicate::str::contains("migratoins"));

    write_tree(
        dir.path(),
        &[("miglint.toml", b"[rules.timestamp-columns]\ncolumns = 3\n")],
    );
    miglint()
        .current_dir(dir.path())
        .args(["lint"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "miglint.toml:1: [rules.timestamp-columns]",
        ));

    write_tree(dir.path(), &[("miglint.toml", b"\n\n[rules.batch-mod]\n")]);
    miglint()
        .current_dir(dir.path())
        .args(["lint"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "miglint.toml:3: unknown rule `batch-mod`",
        ));

    write_tree(
        dir.path(),
        &[("miglint.toml", b"[rules.batch-mode]\nseverity = \"loud\"\n")],
    );
    miglint()
        .current_dir(dir.path())
        .args(["lint"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("severity"));

    write_tree(dir.path(), &[("miglint.toml", b"dialect = [\n")]);
    miglint()
        .current_dir(dir.path())
        .args(["lint"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("miglint.toml:"));
}

fn batch_violation_project(dir: &std::path::Path, line: &str) {
    write_tree(
        dir,
        &[(
            "migrations/versions/001_add_email.py",
            alembic_revision(1, line).as_bytes(),
        )],
    );
}

#[test]
fn config_from_pyproject_changes_severity_and_dialect() {
    let dir = tempfile::tempdir().unwrap();
    batch_violation_project(
        dir.path(),
        "    op.add_column(\"users\", sa.Column(\"email\", sa.String()))",
    );
    miglint()
        .current_dir(dir.path())
        .args(["lint"])
        .assert()
        .code(1);

    write_tree(
        dir.path(),
        &[("pyproject.toml", b"[project]\nname = \"app\"\n\n[tool.miglint.rules.batch-mode]\nseverity = \"warning\"\n")],
    );
    miglint()
        .current_dir(dir.path())
        .args(["lint"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("warning[batch-mode]"));

    write_tree(
        dir.path(),
        &[("miglint.toml", b"dialect = \"postgresql\"\n")],
    );
    miglint()
        .current_dir(dir.path())
        .args(["lint"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("batch-mode").not());
    miglint()
        .current_dir(dir.path())
        .args(["lint", "--dialect", "sqlite"])
        .assert()
        .code(1);
}

#[test]
fn config_migrations_key_points_at_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    batch_violation_project(
        dir.path(),
        "    op.add_column(\"users\", sa.Column(\"email\", sa.String()))",
    );
    write_tree(
        dir.path(),
        &[("miglint.toml", b"migrations = [\"migrations/versions\"]\n")],
    );
    miglint()
        .current_dir(dir.path())
        .args(["lint"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "migrations/versions/001_add_email.py",
        ));
    write_tree(
        dir.path(),
        &[("miglint.toml", b"migrations = [\"nowhere\"]\n")],
    );
    miglint()
        .current_dir(dir.path())
        .args(["lint"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nowhere"));
}

#[test]
fn inline_suppressions_trailing_above_and_file_wide() {
    let dir = tempfile::tempdir().unwrap();
    let add = "op.add_column(\"users\", sa.Column(\"email\", sa.String()))";
    batch_violation_project(
        dir.path(),
        &format!("    {add}  # miglint: ignore[batch-mode]"),
    );
    miglint()
        .current_dir(dir.path())
        .args(["lint"])
        .assert()
        .code(0);

    batch_violation_project(
        dir.path(),
        &format!("    # miglint: ignore[batch-mode]\n    {add}"),
    );
    miglint()
        .current_dir(dir.path())
        .args(["lint"])
        .assert()
        .code(0);

    batch_violation_project(
        dir.path(),
        &format!("    {add}\n    # miglint: ignore-file[batch-mode]"),
    );
    miglint()
        .current_dir(dir.path())
        .args(["lint"])
        .assert()
        .code(0);

    // Two lines above is too far: the finding stays and the comment is unused.
    batch_violation_project(
        dir.path(),
        &format!("    # miglint: ignore[batch-mode]\n\n    {add}"),
    );
    let out = stdout_of(miglint().current_dir(dir.path()).args(["lint"]));
    assert!(out.contains("error[batch-mode]"), "{out}");
    assert!(out.contains("warning[unused-ignore]"), "{out}");

    batch_violation_project(
        dir.path(),
        &format!("    {add}  # miglint: ignore[batch-mode, no-such-rule]"),
    );
    let out = stdout_of(miglint().current_dir(dir.path()).args(["lint"]));
    assert!(
        out.contains("unknown rule `no-such-rule` in suppression"),
        "{out}"
    );
    assert!(!out.contains("error[batch-mode]"), "{out}");
}

#[test]
fn sql_suppression_inside_a_yoyo_string() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[(
            "migrations/0001_index.py",
            b"from yoyo import step\n\nsteps = [\n    step(\n        \"\"\"\n        CREATE TABLE IF NOT EXISTS a (b TEXT, created_at TEXT NOT NULL DEFAULT 0, updated_at TEXT NOT NULL DEFAULT 0);\n        -- miglint: ignore[if-exists-guard]\n        CREATE INDEX idx_a ON a(b)\n        \"\"\",\n        \"DROP INDEX IF EXISTS idx_a; DROP TABLE IF EXISTS a\",\n    ),\n]\n",
        )],
    );
    miglint()
        .current_dir(dir.path())
        .args(["lint"])
        .assert()
        .code(0);
}

#[test]
fn named_files_show_only_their_findings_but_chain_rules_see_the_folder() {
    let file = "examples/broken/alembic-sqlite/migrations/versions/002_add_name_to_users.py";
    let text = stdout_of(miglint().args(["lint", file, "--format", "json"]));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let diags = json["diagnostics"].as_array().unwrap();
    assert!(diags.iter().all(|d| d["path"] == file), "{text}");
    assert!(diags.iter().any(|d| d["rule"] == "batch-mode"));
    // 003 (not named) skips 002: that finding belongs to 003 and is not shown.
    assert!(!text.contains("skips"));
    let file = "examples/broken/alembic-sqlite/migrations/versions/003_add_posts.py";
    let text = stdout_of(miglint().args(["lint", file, "--format", "json"]));
    assert!(text.contains("skips `002_add_name_to_users.py`"), "{text}");
}

#[test]
fn files_outside_migration_folders_are_counted_as_skipped() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &[("app/main.py", b"print('hi')\n")]);
    miglint()
        .current_dir(dir.path())
        .args(["lint", "app/main.py"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "note: skipped app/main.py: not in a migrations folder miglint reads",
        ))
        .stdout(predicate::str::contains("1 file skipped"));
}

#[test]
fn rules_and_explain() {
    let text = stdout_of(miglint().args(["rules"]));
    for meta in miglint::rules::ALL {
        assert!(text.contains(meta.id));
    }
    let json: serde_json::Value =
        serde_json::from_str(&stdout_of(miglint().args(["rules", "--format", "json"]))).unwrap();
    assert_eq!(json.as_array().unwrap().len(), miglint::rules::ALL.len());
    assert_eq!(json[1]["id"], "batch-mode");
    assert_eq!(json[1]["severity"], "error");
    let doc = stdout_of(miglint().args(["explain", "batch-mode"]));
    assert!(doc.starts_with("# batch-mode"));
    assert!(doc.contains("## Bad"));
}

#[test]
fn version_and_help_exit_zero() {
    miglint()
        .arg("--version")
        .assert()
        .code(0)
        .stdout(predicate::str::contains(env!("CARGO_PKG_VERSION")));
    miglint().args(["lint", "--help"]).assert().code(0);
}

#[test]
fn sqlite_version_setting_decides_which_alter_forms_exist() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "migrations/0001_init.sql",
                b"CREATE TABLE IF NOT EXISTS t (id TEXT PRIMARY KEY, old TEXT, created_at TEXT NOT NULL DEFAULT 0, updated_at TEXT NOT NULL DEFAULT 0);",
            ),
            ("migrations/0001_init.rollback.sql", b"DROP TABLE IF EXISTS t;"),
            ("migrations/0002_drop.sql", b"ALTER TABLE t DROP COLUMN old;"),
            ("migrations/0002_drop.rollback.sql", b"ALTER TABLE t ADD COLUMN old TEXT;"),
        ],
    );
    // The bundled SQLite has DROP COLUMN.
    miglint()
        .current_dir(dir.path())
        .args(["lint"])
        .assert()
        .code(0);
    write_tree(
        dir.path(),
        &[("miglint.toml", b"sqlite-version = \"3.31.1\"\n")],
    );
    miglint()
        .current_dir(dir.path())
        .args(["lint"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "DROP COLUMN (`t.old`) needs SQLite 3.35.0; the target is 3.31.1",
        ));
    write_tree(
        dir.path(),
        &[("miglint.toml", b"sqlite-version = \"three\"\n")],
    );
    miglint()
        .current_dir(dir.path())
        .args(["lint"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("miglint.toml:1: sqlite-version"));
}

/// The rules raised in `dir` with the given configuration.
fn rules_with(dir: &std::path::Path, config: &str, args: &[&str]) -> Vec<String> {
    write_tree(dir, &[("miglint.toml", config.as_bytes())]);
    let text = stdout_of(
        miglint()
            .current_dir(dir)
            .args(["lint", "--format", "json"])
            .args(args),
    );
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{} {}",
                d["rule"].as_str().unwrap(),
                d["path"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn settings_and_rule_options_change_what_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let ts = "created_at TEXT NOT NULL DEFAULT 0, updated_at TEXT NOT NULL DEFAULT 0";
    write_tree(
        dir.path(),
        &[
            (
                "migrations/0001_init.sql",
                format!("CREATE TABLE IF NOT EXISTS user_roles (id TEXT PRIMARY KEY);\nCREATE TABLE IF NOT EXISTS links (id TEXT PRIMARY KEY, url TEXT, kind TEXT, {ts});\nCREATE INDEX IF NOT EXISTS links_by_url ON links(url);").as_bytes(),
            ),
            (
                "migrations/0001_init.rollback.sql",
                b"DROP INDEX IF EXISTS links_by_url; DROP TABLE IF EXISTS links; DROP TABLE IF EXISTS user_roles;",
            ),
            ("migrations/0002_old_legacy.py", b"from yoyo import step\nsteps = [step(\"CREATE INDEX i ON links(kind)\", \"DROP INDEX IF EXISTS i\")]\n"),
            ("app/a.py", b"Q = text(\"SELECT id FROM links WHERE url = :u\")\n"),
            ("app/b.py", b"Q = text(\"SELECT id FROM links WHERE kind = :k\")\n"),
        ],
    );
    let has = |found: &[String], what: &str| found.iter().any(|f| f.starts_with(what));
    let default = rules_with(dir.path(), "", &[]);
    assert!(has(&default, "timestamp-columns"), "{default:?}");
    assert!(
        has(&default, "index-naming migrations/0001_init.sql"),
        "{default:?}"
    );
    assert!(
        has(&default, "if-exists-guard migrations/0002_old_legacy.py"),
        "{default:?}"
    );

    let found = rules_with(
        dir.path(),
        "[rules.timestamp-columns]\nignore-tables = [\"user_roles\"]\n",
        &[],
    );
    assert!(!has(&found, "timestamp-columns"), "{found:?}");
    let found = rules_with(
        dir.path(),
        "[rules.index-naming]\nyoyo = \"{table}_by_{columns}\"\n",
        &[],
    );
    assert!(
        !has(&found, "index-naming migrations/0001_init.sql"),
        "{found:?}"
    );
    let found = rules_with(dir.path(), "[rules.sequential-numbering]\nwidth = 3\n", &[]);
    assert!(has(&found, "sequential-numbering"), "{found:?}");
    let found = rules_with(dir.path(), "exclude = [\"*_legacy.py\"]\n", &[]);
    assert!(
        !found.iter().any(|f| f.contains("0002_old_legacy")),
        "{found:?}"
    );
    // Without the legacy index, links.kind (filtered in app/b.py) is unindexed.
    assert!(has(&found, "filtered-column-index"), "{found:?}");
    // Only app/a.py is read: links.kind (used in b.py) is no longer wanted...
    let found = rules_with(
        dir.path(),
        "exclude = [\"*_legacy.py\"]\nqueries = [\"app/a.py\"]\n",
        &[],
    );
    assert!(!has(&found, "filtered-column-index"), "{found:?}");
    // ...unless the rule's own option asks for it.
    let found = rules_with(
        dir.path(),
        "exclude = [\"*_legacy.py\"]\nqueries = [\"app/a.py\"]\n[rules.filtered-column-index]\ncolumns = [\"links.kind\"]\n",
        &[],
    );
    assert!(has(&found, "filtered-column-index"), "{found:?}");

    // --config reads the named file instead of searching.
    write_tree(
        dir.path(),
        &[(
            "ci/strict.toml",
            b"[rules.timestamp-columns]\nseverity = \"off\"\n",
        )],
    );
    let found = rules_with(dir.path(), "", &["--config", "ci/strict.toml"]);
    assert!(!has(&found, "timestamp-columns"), "{found:?}");
    miglint()
        .current_dir(dir.path())
        .args(["lint", "--config", "ci/missing.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot read config ci/missing.toml",
        ));
}

#[test]
fn a_configuration_file_named_alone_lints_the_whole_project() {
    // A commit that changes only the configuration (pre-commit passes just
    // that file): every finding may change, so all of them are shown.
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            ("alembic.ini", b"[alembic]\nscript_location = migrations\n"),
            (
                "migrations/versions/001_users.py",
                alembic_revision(
                    1,
                    "    op.add_column(\"users\", sa.Column(\"email\", sa.String(), nullable=True))",
                )
                .as_bytes(),
            ),
            ("miglint.toml", b"dialect = \"sqlite\"\n"),
        ],
    );
    for named in ["miglint.toml", "alembic.ini"] {
        let (code, text) = run_in(dir.path(), &["lint", named]);
        assert_eq!(code, Some(1), "{named}: {text}");
        assert!(text.contains("error[batch-mode]"), "{named}: {text}");
        assert!(!text.contains("skipped"), "{named}: {text}");
    }
}

/// A folder that looks like migrations but matches no layout is named, and
/// a folder named for another database is skipped with a note, not linted
/// as SQLite.
#[test]
fn unreadable_and_other_database_folders_are_named_never_passed_in_silence() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "a/migrations/create_users.sql",
                b"CREATE TABLE users (id INTEGER);\n",
            ),
            (
                "b/migrations/oracle/V1__users.sql",
                b"CREATE TABLE users (id NUMBER PRIMARY KEY);\n",
            ),
        ],
    );
    lint_here(dir.path())
        .code(0)
        .stdout(predicate::str::contains(
            "note: skipped a/migrations: named like a migrations folder, but its .sql files match no layout",
        ))
        .stdout(predicate::str::contains(
            "note: skipped b/migrations/oracle: the folder name `oracle` names Oracle, which miglint does not lint yet",
        ))
        .stdout(predicate::str::contains("No migrations found"));
}

/// sqlx forward-only files need no down file, unless the project asks for
/// reversible pairs with `allow-forward-only = false`.
#[test]
fn sqlx_forward_only_files_pass_unless_the_project_asks_for_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let ts = "TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now'))";
    let table = format!(
        "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, created_at {ts}, updated_at {ts});\n"
    );
    write_tree(
        dir.path(),
        &[
            ("Cargo.toml", b"[package]\nname = \"app\"\n"),
            ("migrations/20240101000000_notes.sql", table.as_bytes()),
        ],
    );
    lint_here(dir.path()).code(0);
    write_tree(
        dir.path(),
        &[(
            "miglint.toml",
            b"[rules.rollback-required]\nallow-forward-only = false\n",
        )],
    );
    lint_here(dir.path())
        .code(1)
        .stdout(predicate::str::contains(
            "`20240101000000_notes.sql` is forward-only: `sqlx migrate revert` cannot undo it",
        ));
}

/// A monorepo linted from its root: each Alembic project as the database
/// its `alembic.ini` names, and a package's own configuration for it.
#[test]
fn each_project_is_linted_with_its_own_database_and_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let migration: &[u8] = b"\"\"\"t\n\nRevision ID: 001\nRevises:\n\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision = \"001\"\ndown_revision = None\n\n\ndef upgrade():\n    op.create_table(\"t\", sa.Column(\"id\", sa.Integer(), primary_key=True))\n    op.alter_column(\"t\", \"id\", nullable=False)\n\n\ndef downgrade():\n    op.drop_table(\"t\")\n";
    let ini =
        |url: &str| format!("[alembic]\nscript_location = migrations\nsqlalchemy.url = {url}\n");
    let (lite, pg) = (
        ini("sqlite:///app.db"),
        ini("postgresql+psycopg://localhost/app"),
    );
    write_tree(
        dir.path(),
        &[
            ("lite/alembic.ini", lite.as_bytes()),
            ("lite/migrations/versions/001_t.py", migration),
            ("pg/alembic.ini", pg.as_bytes()),
            ("pg/migrations/versions/001_t.py", migration),
            ("conf/alembic.ini", lite.as_bytes()),
            ("conf/migrations/versions/001_t.py", migration),
            (
                "conf/pyproject.toml",
                b"[tool.miglint.rules.batch-mode]\nseverity = \"warning\"\n",
            ),
        ],
    );
    let out = miglint()
        .current_dir(dir.path())
        .args(["lint", "--select", "batch-mode"])
        .assert()
        .code(1);
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    // SQLite needs a batch; PostgreSQL runs the ALTER as it is.
    assert!(
        text.contains(
            "error[batch-mode]: `op.alter_column` on table `t` outside batch mode\n  --> lite/"
        ),
        "{text}"
    );
    assert!(!text.contains("--> pg/"), "{text}");
    assert!(
        text.contains(
            "this folder is linted as PostgreSQL, as alembic.ini's `sqlalchemy.url` says"
        ),
        "{text}"
    );
    // The package's pyproject.toml governs its folder, from the root too.
    assert!(
        text.contains(
            "warning[batch-mode]: `op.alter_column` on table `t` outside batch mode\n  --> conf/"
        ),
        "{text}"
    );

    let shown = stdout_of(
        miglint()
            .current_dir(dir.path())
            .args(["lint", "--show-settings"]),
    );
    assert!(
        shown.contains("configuration: conf/pyproject.toml"),
        "{shown}"
    );
    assert!(
        shown.contains("left to their own configuration: conf"),
        "{shown}"
    );
    assert!(
        shown.contains("pg/migrations/versions: alembic, 1 file, PostgreSQL (as alembic.ini's `sqlalchemy.url` says)"),
        "{shown}"
    );
    // A machine format cannot hold two projects' reports in one document.
    miglint()
        .current_dir(dir.path())
        .args(["lint", "--format", "json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("belong to 2 projects"));
    // Named alone, the package is linted with its configuration.
    miglint()
        .current_dir(dir.path())
        .args([
            "lint",
            "--select",
            "batch-mode",
            "conf/migrations/versions/001_t.py",
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("warning[batch-mode]"));
}

/// PostgreSQL statements the SQL parser does not read are never reported
/// as errors: a kind the first words give is kept (`DROP INDEX
/// CONCURRENTLY`), a function leaves tables alone, and a `DO` block makes
/// what follows uncertain, with a note.
#[test]
fn postgres_statements_the_parser_lacks_are_read_or_noted_never_errors() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "migrations/0001_init.sql",
                b"-- depends:\n-- transactional: false\nCREATE TABLE IF NOT EXISTS users (id serial PRIMARY KEY, email text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());\nCREATE INDEX CONCURRENTLY IF NOT EXISTS idx_users_email ON users (email);\nCREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql COST 1 AS $$ BEGIN NEW.updated_at = now(); RETURN NEW; END $$;\nDROP INDEX CONCURRENTLY IF EXISTS idx_users_email;\nDO $$ BEGIN CREATE TYPE mood AS ENUM ('ok'); END $$;\n",
            ),
            (
                "migrations/0001_init.rollback.sql",
                b"DROP TABLE IF EXISTS users;\n",
            ),
        ],
    );
    miglint()
        .current_dir(dir.path())
        .args(["lint", "--no-cache", "--dialect", "postgresql", "."])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("parse-error").not())
        .stdout(predicate::str::contains(
            "note: migrations/0001_init.sql:7:1: not read statically: SQL miglint's parser does not read",
        ));
    let schema = stdout_of(miglint().current_dir(dir.path()).args([
        "schema",
        "--dialect",
        "postgresql",
        ".",
    ]));
    assert!(!schema.contains("idx_users_email"), "{schema}");
}

/// On PostgreSQL, constraints the migrations leave unnamed have the names
/// the server gives them, and dropping those is no drop of nothing.
#[test]
fn postgres_automatic_constraint_names_are_known() {
    let dir = tempfile::tempdir().unwrap();
    let first = revision(
        "001",
        None,
        "    op.create_table(\"teams\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"code\", sa.Text(), unique=True))\n    op.create_table(\"users\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"team_id\", sa.Integer(), sa.ForeignKey(\"teams.id\")))",
        "    op.drop_table(\"users\")\n    op.drop_table(\"teams\")",
    );
    let second = revision(
        "002",
        Some("001"),
        "    op.drop_constraint(\"users_team_id_fkey\", \"users\", type_=\"foreignkey\")\n    op.drop_constraint(\"teams_code_key\", \"teams\", type_=\"unique\")\n    op.drop_constraint(\"users_pkey\", \"users\", type_=\"primary\")",
        "    op.create_primary_key(\"users_pkey\", \"users\", [\"id\"])\n    op.create_unique_constraint(\"teams_code_key\", \"teams\", [\"code\"])\n    op.create_foreign_key(\"users_team_id_fkey\", \"users\", \"teams\", [\"team_id\"], [\"id\"])",
    );
    postgres_alembic_project(dir.path(), &[&first, &second]);
    let text = lint_selecting(dir.path(), "schema-consistency,downgrade-roundtrip");
    assert!(text.contains("All checks passed"), "{text}");
    // On SQLite the same names are unknown: SQLite names nothing.
    let text = stdout_of(miglint().current_dir(dir.path()).args([
        "lint",
        "--no-cache",
        "--dialect",
        "sqlite",
        "--select",
        "schema-consistency",
    ]));
    assert!(text.contains("users_team_id_fkey"), "{text}");
}

/// On PostgreSQL every help text and fix is PostgreSQL: `now()` stamps,
/// no `CREATE TRIGGER IF NOT EXISTS`, no batch mode, no SQLite types.
#[test]
fn postgres_advice_is_valid_postgres() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "migrations/0001_init.sql",
                b"-- depends:\nCREATE TABLE IF NOT EXISTS users (id serial PRIMARY KEY, email varchar(200) NOT NULL, data jsonb);\nCREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();\nCREATE INDEX ON users (email);\n",
            ),
            (
                "migrations/0001_init.rollback.sql",
                b"DROP TABLE IF EXISTS users;\n",
            ),
        ],
    );
    let text = stdout_of(miglint().current_dir(dir.path()).args([
        "lint",
        "--no-cache",
        "--dialect",
        "postgresql",
        ".",
    ]));
    assert!(
        text.contains("add `created_at TIMESTAMPTZ NOT NULL DEFAULT now()`"),
        "{text}"
    );
    assert!(
        text.contains("write `CREATE OR REPLACE TRIGGER users_touch`"),
        "{text}"
    );
    assert!(
        text.contains("PostgreSQL takes `IF NOT EXISTS` only with a name"),
        "{text}"
    );
    for sqlite_only in [
        "strftime",
        "IF NOT EXISTS users_touch",
        "sqlite-types",
        "batch",
    ] {
        assert!(!text.contains(sqlite_only), "{sqlite_only}: {text}");
    }
}

/// The PostgreSQL lock rules read Alembic's operations as they read SQL:
/// `postgresql_concurrently=True`, `autocommit_block()`, and tables the
/// migration creates itself left alone.
#[test]
fn postgres_lock_rules_read_alembic_operations() {
    let dir = tempfile::tempdir().unwrap();
    let first = revision(
        "001",
        None,
        "    op.create_table(\"teams\", sa.Column(\"id\", sa.Integer(), primary_key=True))\n    op.create_table(\"users\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"team_id\", sa.Integer()), sa.Column(\"email\", sa.Text()))\n    op.create_index(\"ix_users_email\", \"users\", [\"email\"])\n    op.create_foreign_key(\"fk_users_team\", \"users\", \"teams\", [\"team_id\"], [\"id\"])",
        "    op.drop_table(\"users\")\n    op.drop_table(\"teams\")",
    );
    let second = revision(
        "002",
        Some("001"),
        "    op.create_index(\"ix_users_team_id\", \"users\", [\"team_id\"])\n    op.create_index(\"ix_users_team_email\", \"users\", [\"team_id\", \"email\"], postgresql_concurrently=True)\n    with op.get_context().autocommit_block():\n        op.drop_index(\"ix_users_email\", table_name=\"users\", postgresql_concurrently=True)\n    op.create_check_constraint(\"ck_users_email\", \"users\", \"email <> ''\")\n    op.alter_column(\"users\", \"email\", nullable=False)\n    op.alter_column(\"users\", \"team_id\", type_=sa.BigInteger())\n    op.alter_column(\"teams\", \"id\", new_column_name=\"team_id\")",
        "    pass",
    );
    postgres_alembic_project(dir.path(), &[&first, &second]);
    let text = lint_selecting(
        dir.path(),
        "concurrent-index,concurrently-in-transaction,constraint-not-valid,set-not-null,table-rewrite,renaming",
    );
    let found: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("warning[") || l.starts_with("error["))
        .collect();
    assert_eq!(
        found,
        [
            "warning[concurrent-index]: creating an index without `CONCURRENTLY` locks `users` while it runs",
            "error[concurrently-in-transaction]: PostgreSQL refuses `CONCURRENTLY` inside a transaction, and the tool runs this migration in one",
            "warning[constraint-not-valid]: adding a check constraint to `users` checks every row while writes wait",
            "warning[set-not-null]: `SET NOT NULL` on `email` reads all of `users` under an ACCESS EXCLUSIVE lock",
            "warning[table-rewrite]: changing the type of `team_id` rewrites `users` and its indexes",
            "warning[renaming]: renaming column `teams.id` to `team_id` breaks the code still running with the old name",
        ],
        "{text}"
    );
}

/// `ALTER INDEX ... RENAME TO ...` (how PostgreSQL projects rename an
/// index, Alembic having no operation for it) moves the index's name, also
/// when the index is the one PostgreSQL made for a primary key.
#[test]
fn alter_index_rename_moves_the_name() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "migrations/0001_a.sql",
                b"CREATE TABLE IF NOT EXISTS t (id bigserial PRIMARY KEY, a text, created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());\nCREATE INDEX IF NOT EXISTS idx_t_a ON t (a);\n",
            ),
            ("migrations/0001_a.rollback.sql", b"DROP TABLE IF EXISTS t;\n"),
            (
                "migrations/0002_b.sql",
                b"ALTER INDEX idx_t_a RENAME TO idx_t_a_renamed;\nDROP INDEX IF EXISTS idx_t_a_renamed;\nDROP INDEX idx_t_a;\nALTER INDEX t_pkey RENAME TO things_pkey;\nALTER TABLE t DROP CONSTRAINT things_pkey;\n",
            ),
            (
                "migrations/0002_b.rollback.sql",
                b"CREATE INDEX IF NOT EXISTS idx_t_a ON t (a);\n",
            ),
        ],
    );
    let text = stdout_of(miglint().current_dir(dir.path()).args([
        "lint",
        "--no-cache",
        "--dialect",
        "postgresql",
        "--select",
        "schema-consistency",
    ]));
    let found: Vec<&str> = text.lines().filter(|l| l.starts_with("error[")).collect();
    assert_eq!(
        found,
        ["error[schema-consistency]: index `idx_t_a` does not exist"],
        "{text}"
    );
}

/// PostgreSQL drops a column's indexes with it ("Indexes and table
/// constraints involving the column will be automatically dropped"), where
/// SQLite's batch copy fails on them.
#[test]
fn postgres_drops_a_columns_indexes_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let first = revision(
        "001",
        None,
        "    op.create_table(\"t\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"a\", sa.Text()))\n    op.create_index(\"ix_t_a\", \"t\", [\"a\"])",
        "    op.drop_table(\"t\")",
    );
    let second = revision(
        "002",
        Some("001"),
        "    with op.batch_alter_table(\"t\") as batch_op:\n        batch_op.drop_column(\"a\")",
        "    with op.batch_alter_table(\"t\") as batch_op:\n        batch_op.add_column(sa.Column(\"a\", sa.Text()))\n        batch_op.create_index(\"ix_t_a\", [\"a\"])",
    );
    write_tree(
        dir.path(),
        &[
            ("alembic.ini", b"[alembic]\nscript_location = migrations\n"),
            ("migrations/versions/001_a.py", first.as_bytes()),
            ("migrations/versions/002_b.py", second.as_bytes()),
        ],
    );
    let lint = |dialect: &str| {
        stdout_of(miglint().current_dir(dir.path()).args([
            "lint",
            "--no-cache",
            "--dialect",
            dialect,
            "--select",
            "schema-consistency,downgrade-roundtrip",
        ]))
    };
    let sqlite = lint("sqlite");
    assert!(
        sqlite.contains("is still covered by index `ix_t_a`"),
        "{sqlite}"
    );
    let postgres = lint("postgresql");
    assert!(postgres.contains("All checks passed"), "{postgres}");
}

/// A MySQL project: its DDL read with MySQL's grammar, no SQLite advice,
/// and the rules that judge the replayed schema off, with a note, until
/// the replay is proven against a real MySQL server.
#[test]
fn mysql_is_read_and_checked_without_the_replay_rules() {
    let dir = tempfile::tempdir().unwrap();
    let migration = "\"\"\"a\n\nRevision ID: 001\nRevises:\n\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision = \"001\"\ndown_revision = None\n\n\ndef upgrade():\n    op.execute(\"CREATE TABLE `users` (`id` INT UNSIGNED NOT NULL AUTO_INCREMENT, `email` VARCHAR(200), PRIMARY KEY (`id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4\")\n    op.alter_column(\"users\", \"email\", nullable=False, existing_type=sa.String(200))\n    op.drop_index(\"ix_missing\", table_name=\"users\")\n\n\ndef downgrade():\n    op.drop_table(\"users\")\n";
    write_tree(
        dir.path(),
        &[
            (
                "alembic.ini",
                b"[alembic]\nscript_location = migrations\nsqlalchemy.url = mysql+pymysql://app@localhost/app\n",
            ),
            ("migrations/versions/001_a.py", migration.as_bytes()),
        ],
    );
    let text = stdout_of(
        miglint()
            .current_dir(dir.path())
            .args(["lint", "--no-cache"]),
    );
    for absent in [
        "[parse-error]",
        "[batch-mode]",
        "[schema-consistency]",
        "sqlite",
        "strftime",
    ] {
        assert!(!text.contains(absent), "{absent}: {text}");
    }
    assert!(
        text.contains("this folder is linted as MySQL, as alembic.ini's `sqlalchemy.url` says"),
        "{text}"
    );
    assert!(text.contains("on MySQL, schema-consistency, foreign-key-target, downgrade-roundtrip, filtered-column-index, model-drift are off"), "{text}");
    assert!(
        text.contains("error[timestamp-columns]: table `users` has no `created_at` column"),
        "{text}"
    );
    assert!(
        text.contains("DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"),
        "{text}"
    );
}

/// What real PostgreSQL projects showed to be noise: an index dropped just
/// before its table, a column renamed in the migration that added it, and
/// type advice about a column that is gone by head.
#[test]
fn postgres_lock_rules_leave_moot_operations_alone() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "yoyo.ini",
                YOYO_POSTGRES_INI,
            ),
            (
                "migrations/0001_a.sql",
                b"CREATE TABLE IF NOT EXISTS t (id bigserial PRIMARY KEY, at timestamp, created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());\nCREATE TABLE IF NOT EXISTS old (id bigserial PRIMARY KEY, a text, created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());\nCREATE INDEX IF NOT EXISTS idx_old_a ON old (a);\n",
            ),
            ("migrations/0001_a.rollback.sql", b"DROP TABLE IF EXISTS old;\nDROP TABLE IF EXISTS t;\n"),
            (
                "migrations/0002_b.sql",
                b"SET lock_timeout = '5s';\nDROP INDEX IF EXISTS idx_old_a;\nDROP TABLE IF EXISTS old;\nALTER TABLE t ADD COLUMN IF NOT EXISTS note text;\nALTER TABLE t RENAME COLUMN note TO remark;\nALTER TABLE t DROP COLUMN IF EXISTS at;\n",
            ),
            ("migrations/0002_b.rollback.sql", b"SELECT 1;\n"),
        ],
    );
    let text = lint_selecting(dir.path(), "concurrent-index,renaming,postgres-types");
    assert!(text.contains("All checks passed"), "{text}");
}

/// An `env.py` that sets `lock_timeout` for every migration answers
/// `lock-timeout` for the whole folder.
#[test]
fn lock_timeout_set_in_env_py_counts() {
    let dir = tempfile::tempdir().unwrap();
    let first = table_t();
    let second = revision(
        "002",
        Some("001"),
        "    op.add_column(\"t\", sa.Column(\"note\", sa.Text()))",
        "    op.drop_column(\"t\", \"note\")",
    );
    postgres_alembic_project(dir.path(), &[&first, &second]);
    let lint = || lint_selecting(dir.path(), "lock-timeout");
    assert!(lint().contains("warning[lock-timeout]"));
    write_tree(
        dir.path(),
        &[(
            "migrations/env.py",
            b"with connectable.connect() as connection:\n    connection.exec_driver_sql(\"SET lock_timeout = '5s'\")\n",
        )],
    );
    assert!(lint().contains("All checks passed"), "{}", lint());
}

/// Whether Alembic runs a migration in a transaction is `env.py`'s to say:
/// the template's `begin_transaction()` does, an autocommit connection does
/// not, and an `env.py` that hands the run to the application's code leaves
/// it unknown, so `concurrently-in-transaction` stays silent and a note says
/// why (a real project's connection was in autocommit).
#[test]
fn concurrently_in_transaction_follows_env_py() {
    let dir = tempfile::tempdir().unwrap();
    let first = table_t();
    let second = revision(
        "002",
        Some("001"),
        "    op.create_index(\"ix_t_id\", \"t\", [\"id\"], postgresql_concurrently=True)",
        "    op.drop_index(\"ix_t_id\", table_name=\"t\", postgresql_concurrently=True)",
    );
    postgres_alembic_project(dir.path(), &[&first, &second]);
    let lint = |env: &str| {
        write_tree(dir.path(), &[("migrations/env.py", env.as_bytes())]);
        lint_selecting(dir.path(), "concurrently-in-transaction")
    };
    let template = "with connectable.connect() as connection:\n    context.configure(connection=connection)\n    with context.begin_transaction():\n        context.run_migrations()\n";
    let text = lint(template);
    assert_eq!(
        text.matches("error[concurrently-in-transaction]").count(),
        2,
        "{text}"
    );
    let autocommit = template.replace(
        "connectable.connect()",
        "connectable.connect().execution_options(isolation_level=\"AUTOCOMMIT\")",
    );
    assert!(lint(&autocommit).contains("All checks passed"));
    let text = lint(
        "from app.storage import run_migrations_online\n\nrun_migrations_online(context, config)\n",
    );
    assert!(text.contains("All checks passed"), "{text}");
    assert!(
        text.contains("002_b.py:14:5: concurrently-in-transaction: `env.py` hands the run to code miglint does not read"),
        "{text}"
    );
}

/// PostgreSQL refuses to drop a table that other tables' foreign keys still
/// point at (a real project's downgrade dropped the parent first, and the
/// server refused it); dropping the child first, or CASCADE, is fine.
#[test]
fn postgres_drop_of_a_referenced_table_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let create = |order: &str| {
        revision(
            "001",
            None,
            "    op.create_table(\"parent\", sa.Column(\"id\", sa.BigInteger(), primary_key=True))\n    op.create_table(\"child\", sa.Column(\"id\", sa.BigInteger(), primary_key=True), sa.Column(\"parent_id\", sa.BigInteger(), sa.ForeignKey(\"parent.id\")))",
            order,
        )
    };
    let lint = || lint_selecting(dir.path(), "schema-consistency");
    postgres_alembic_project(
        dir.path(),
        &[&create(
            "    op.drop_table(\"parent\")\n    op.drop_table(\"child\")",
        )],
    );
    let text = lint();
    assert!(
        text.contains(
            "PostgreSQL refuses to drop table `parent`: foreign keys of `child` still point at it"
        ),
        "{text}"
    );
    postgres_alembic_project(
        dir.path(),
        &[&create(
            "    op.drop_table(\"child\")\n    op.drop_table(\"parent\")",
        )],
    );
    assert!(lint().contains("All checks passed"), "{}", lint());
    postgres_alembic_project(
        dir.path(),
        &[&create(
            "    op.execute(\"DROP TABLE parent CASCADE\")\n    op.drop_table(\"child\")",
        )],
    );
    assert!(lint().contains("All checks passed"), "{}", lint());
}

/// PostgreSQL makes every primary key column NOT NULL, whether the key is
/// declared on the column, in the table, or added later; the replayed
/// schema says so (SQLite keeps the column's own nullability).
#[test]
fn postgres_primary_key_columns_are_not_null() {
    let dir = tempfile::tempdir().unwrap();
    let first = revision(
        "001",
        None,
        "    op.create_table(\"tag\", sa.Column(\"id\", sa.String(), primary_key=True), sa.Column(\"user_id\", sa.String()))",
        "    op.drop_table(\"tag\")",
    );
    let second = revision(
        "002",
        Some("001"),
        "    op.drop_constraint(\"tag_pkey\", \"tag\", type_=\"primary\")\n    op.create_primary_key(\"pk_id_user_id\", \"tag\", [\"id\", \"user_id\"])",
        "    op.drop_constraint(\"pk_id_user_id\", \"tag\", type_=\"primary\")\n    op.create_primary_key(\"tag_pkey\", \"tag\", [\"id\"])",
    );
    postgres_alembic_project(dir.path(), &[&first, &second]);
    let nullable = |at: &str| {
        let out = stdout_of(
            miglint()
                .current_dir(dir.path())
                .args(["schema", "--format", "json", "--at", at]),
        );
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        let columns = &json["sets"][0]["schema"]["tables"][0]["columns"];
        columns
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_string(),
                    c["nullable"].as_bool().unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        nullable("001"),
        [("id".to_string(), false), ("user_id".to_string(), true)]
    );
    assert_eq!(
        nullable("002"),
        [("id".to_string(), false), ("user_id".to_string(), false)]
    );
}

/// `drop-still-read`: a column the application reads and the chain drops
/// for good is reported at the drop; SQL in a helper module beside the
/// revisions (in Alembic's script directory) is migration code, not the
/// application; a column dropped and added again is not gone.
#[test]
fn drop_still_read_reads_the_application_not_migration_helpers() {
    let dir = tempfile::tempdir().unwrap();
    let first = revision(
        "001",
        None,
        "    op.create_table(\"logs\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"objpk\", sa.Integer()))",
        "    op.drop_table(\"logs\")",
    );
    let second = revision(
        "002",
        Some("001"),
        "    op.drop_column(\"logs\", \"objpk\")",
        "    op.add_column(\"logs\", sa.Column(\"objpk\", sa.Integer()))",
    );
    postgres_alembic_project(dir.path(), &[&first, &second]);
    write_tree(
        dir.path(),
        &[
            ("migrations/env.py", b"context.run_migrations()\n"),
            (
                "migrations/utils/cleanup.py",
                b"def clean(conn):\n    conn.execute(\"DELETE FROM logs WHERE logs.objpk IS NULL\")\n",
            ),
        ],
    );
    let lint = || lint_selecting(dir.path(), "drop-still-read");
    assert!(lint().contains("All checks passed"), "{}", lint());
    write_tree(
        dir.path(),
        &[(
            "app/logs.py",
            b"def recent(db):\n    return db.execute(\"SELECT id FROM logs ORDER BY objpk\")\n",
        )],
    );
    let text = lint();
    assert!(
        text.contains("column `logs.objpk` is dropped here, but the application still reads it"),
        "{text}"
    );
    assert!(text.contains("app/logs.py:2:"), "{text}");
    let third = revision(
        "003",
        Some("002"),
        "    op.add_column(\"logs\", sa.Column(\"objpk\", sa.Integer()))",
        "    op.drop_column(\"logs\", \"objpk\")",
    );
    postgres_alembic_project(dir.path(), &[&first, &second, &third]);
    assert!(lint().contains("All checks passed"), "{}", lint());
}

/// `DROP COLUMN IF EXISTS` of a column that is gone and `ADD COLUMN IF NOT
/// EXISTS` of one that is there do nothing on PostgreSQL: no finding (the
/// column-level guard used to be read only from `ALTER TABLE IF EXISTS`).
#[test]
fn postgres_column_guards_are_guards() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "yoyo.ini",
                YOYO_POSTGRES_INI,
            ),
            (
                "migrations/0001_create_orders.sql",
                b"CREATE TABLE IF NOT EXISTS orders (id bigserial PRIMARY KEY, note text);\n",
            ),
            (
                "migrations/0001_create_orders.rollback.sql",
                b"DROP TABLE IF EXISTS orders;\n",
            ),
            (
                "migrations/0002_tidy.sql",
                b"ALTER TABLE orders DROP COLUMN IF EXISTS email;\nALTER TABLE orders ADD COLUMN IF NOT EXISTS note text;\n",
            ),
            (
                "migrations/0002_tidy.rollback.sql",
                b"SELECT 1;\n",
            ),
        ],
    );
    let text = lint_selecting(dir.path(), "schema-consistency");
    assert!(text.contains("All checks passed"), "{text}");
}

/// PostgreSQL names an unnamed index `<table>_<columns>_idx` (a function
/// call by its name), then `..._idx1` when that is taken, shortened to 63
/// bytes; the names below are those a real PostgreSQL 16.2 gave.
#[test]
fn postgres_names_unnamed_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let long = "a_very_long_table_name_that_goes_on_and_on_and_on_forever_x";
    let create = format!(
        "CREATE TABLE IF NOT EXISTS orders (id bigserial PRIMARY KEY, customer_email text, status text);\nCREATE TABLE IF NOT EXISTS {long} (a_long_column_name_that_also_goes_on_and_on int);\n"
    );
    let indexes = format!(
        "CREATE INDEX ON orders (status);\nCREATE INDEX ON orders (status);\nCREATE INDEX ON orders (lower(customer_email));\nCREATE INDEX ON orders (status, customer_email);\nCREATE INDEX ON {long} (a_long_column_name_that_also_goes_on_and_on);\n"
    );
    write_tree(
        dir.path(),
        &[
            ("yoyo.ini", YOYO_POSTGRES_INI),
            ("migrations/0001_create.sql", create.as_bytes()),
            ("migrations/0002_indexes.sql", indexes.as_bytes()),
        ],
    );
    let out = stdout_of(
        miglint()
            .current_dir(dir.path())
            .args(["schema", "--format", "json"]),
    );
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut names: Vec<&str> = json["sets"][0]["schema"]["indexes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "a_very_long_table_name_that_g_a_long_column_name_that_also__idx",
            "orders_lower_idx",
            "orders_status_customer_email_idx",
            "orders_status_idx",
            "orders_status_idx1"
        ]
    );
}

/// Two tables that point at each other, created in one migration: SQLite
/// takes the first one's foreign key to a table made a moment later, so
/// no `foreign-key-target`; PostgreSQL refuses it at once, so there it is
/// one.
#[test]
fn a_foreign_key_to_a_table_made_later_in_the_same_migration() {
    let dir = tempfile::tempdir().unwrap();
    let first = revision(
        "001",
        None,
        "    op.create_table(\"a\", sa.Column(\"id\", sa.BigInteger(), primary_key=True), sa.Column(\"b_id\", sa.BigInteger(), sa.ForeignKey(\"b.id\")))\n    op.create_table(\"b\", sa.Column(\"id\", sa.BigInteger(), primary_key=True), sa.Column(\"a_id\", sa.BigInteger(), sa.ForeignKey(\"a.id\")))",
        "    op.drop_table(\"b\")\n    op.drop_table(\"a\")",
    );
    postgres_alembic_project(dir.path(), &[&first]);
    let lint = |dialect: &str| {
        stdout_of(miglint().current_dir(dir.path()).args([
            "lint",
            "--no-cache",
            "--dialect",
            dialect,
            "--select",
            "foreign-key-target",
        ]))
    };
    assert!(
        lint("sqlite").contains("All checks passed"),
        "{}",
        lint("sqlite")
    );
    let text = lint("postgresql");
    assert!(
        text.contains("error[foreign-key-target]") && text.contains("`b`"),
        "{text}"
    );
}

/// Linted from inside a migrations folder (`cd migrations/versions`), there
/// is no application to read: the revisions' own SQL is not taken for the
/// application's queries.
#[test]
fn linted_from_inside_the_migrations_folder_no_application_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let first = revision(
        "001",
        None,
        "    op.create_table(\"t\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"b\", sa.Integer()))\n    op.execute(\"UPDATE t SET b = 1 WHERE b = 2\")",
        "    op.drop_table(\"t\")",
    );
    postgres_alembic_project(dir.path(), &[&first]);
    write_tree(
        dir.path(),
        &[("migrations/env.py", b"context.run_migrations()\n")],
    );
    let text = lint_selecting(
        &dir.path().join("migrations/versions"),
        "filtered-column-index",
    );
    assert!(text.contains("All checks passed"), "{text}");
}

/// A base revision that refuses its own downgrade: Alembic stops at the
/// `raise`, so nothing is rolled back.
#[test]
fn a_downgrade_that_raises_first_is_no_rollback() {
    let dir = tempfile::tempdir().unwrap();
    let revision = common::alembic_revision(1, "").replace(
        "def downgrade() -> None:\n",
        "def downgrade() -> None:\n    \"\"\"Base revision.\"\"\"\n    raise Exception(\"Base revision, no downgrade is possible\")\n\n\ndef _unused() -> None:\n",
    );
    assert!(revision.contains("raise Exception"), "{revision}");
    write_tree(
        dir.path(),
        &[("migrations/versions/001_users.py", revision.as_bytes())],
    );
    lint_here(dir.path())
        .code(1)
        .stdout(predicate::str::contains(
            "error[rollback-required]: `downgrade()` does nothing: it raises before it undoes anything, and Alembic stops there",
        ));
}

/// Alembic's SQLite batch copies every column of the old table into the
/// new one, generated ones too, which SQLite refuses; a block that only
/// adds a column or an index does not recreate the table.
#[test]
fn a_batch_that_recreates_a_table_with_a_generated_column_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let create = alembic_revision(
        1,
        "    op.create_table(\"spans\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"start\", sa.Integer(), nullable=False), sa.Column(\"end\", sa.Integer(), nullable=False), sa.Column(\"duration\", sa.Integer(), sa.Computed(\"\\\"end\\\" - start\", persisted=True)), sa.Column(\"created_at\", sa.DateTime(), nullable=False, server_default=sa.func.now()), sa.Column(\"updated_at\", sa.DateTime(), nullable=False, server_default=sa.func.now()))",
    )
    .replace(
        "op.drop_table(\"users\")",
        "op.drop_table(\"spans\")\n    op.drop_table(\"users\")",
    );
    let batch =
        |up: &[&str], down: &[&str]| common::batch_revision(2, "Change spans.", "spans", up, down);
    let adds = batch(
        &["batch_op.add_column(sa.Column(\"note\", sa.Text(), nullable=True))"],
        &["batch_op.drop_column(\"note\")"],
    );
    write_tree(
        dir.path(),
        &[
            ("migrations/versions/001_spans.py", create.as_bytes()),
            ("migrations/versions/002_note.py", adds.as_bytes()),
        ],
    );
    let (code, text) = run_in(dir.path(), &["lint", "."]);
    assert_eq!(
        text.matches("generated column `duration`").count(),
        1,
        "only the downgrade's drop_column recreates the table: {text}"
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("error[schema-consistency]: batch mode recreates `spans` and copies its rows into generated column `duration`, which SQLite refuses\n  --> migrations/versions/002_note.py:21:9"),
        "{text}"
    );
}

/// A plugin folder whose first revision continues the main folder's chain
/// (Alembic's `version_locations`) is one revision graph with it: replayed
/// after the main folder's revisions, not alone from an empty database.
#[test]
fn a_folder_that_continues_another_folders_chain_is_one_graph_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = "\"\"\"Audit.\n\nRevision ID: a1b2c3d4e5f6\nRevises: 001\n\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision = \"a1b2c3d4e5f6\"\ndown_revision = \"001\"\nbranch_labels = (\"audit\",)\n\n\ndef upgrade() -> None:\n    with op.batch_alter_table(\"users\") as batch_op:\n        batch_op.add_column(sa.Column(\"audited\", sa.Boolean(), nullable=True))\n\n\ndef downgrade() -> None:\n    with op.batch_alter_table(\"users\") as batch_op:\n        batch_op.drop_column(\"audited\")\n";
    write_tree(
        dir.path(),
        &[
            (
                "app/migrations/versions/001_users.py",
                alembic_revision(1, "").as_bytes(),
            ),
            (
                "plugins/audit/migrations/versions/a1b2c3d4e5f6_audit.py",
                plugin.as_bytes(),
            ),
        ],
    );
    let (code, text) = run_in(dir.path(), &["lint", "."]);
    assert_eq!(code, Some(0), "{text}");
    let (_, schema) = run_in(dir.path(), &["schema", "."]);
    assert_eq!(schema.matches("CREATE TABLE").count(), 1, "{schema}");
    assert!(schema.contains("audited BOOLEAN"), "{schema}");

    // Named alone, as a pre-commit run names it: the folder it continues
    // is read too.
    let (code, text) = run_in(
        dir.path(),
        &[
            "lint",
            "plugins/audit/migrations/versions/a1b2c3d4e5f6_audit.py",
        ],
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("1 migration file") || text.contains("no findings"),
        "{text}"
    );
}

/// Chains that start after `create_all()` and `alembic stamp`: with
/// `baseline = "models"`, the tables the models map are taken as made
/// before the first migration (with a note), not reported as never
/// created.
#[test]
fn baseline_models_takes_model_tables_as_made_by_create_all() {
    let dir = tempfile::tempdir().unwrap();
    let revision = alembic_revision(
        1,
        "    with op.batch_alter_table(\"builders\") as batch_op:\n        batch_op.add_column(sa.Column(\"project_id\", sa.Integer(), sa.ForeignKey(\"projects.id\"), nullable=True))\n        batch_op.create_index(\"ix_builders_project_id\", [\"project_id\"])",
    );
    let models = "from sqlalchemy import Column, DateTime, ForeignKey, Integer\nfrom sqlalchemy.orm import declarative_base\n\nBase = declarative_base()\n\n\nclass Builder(Base):\n    __tablename__ = \"builders\"\n    id = Column(Integer, primary_key=True)\n    project_id = Column(Integer, ForeignKey(\"projects.id\"), nullable=True, index=True)\n    created_at = Column(DateTime, nullable=False)\n    updated_at = Column(DateTime, nullable=False)\n";
    write_tree(
        dir.path(),
        &[
            ("migrations/versions/001_projects.py", revision.as_bytes()),
            ("app/models.py", models.as_bytes()),
        ],
    );
    let lint = || run_in(dir.path(), &["lint", "--ignore", "model-drift", "."]);
    let (_, text) = lint();
    assert!(
        text.contains("table `builders` is used here, but no migration creates it"),
        "{text}"
    );
    write_tree(dir.path(), &[("miglint.toml", b"baseline = \"models\"\n")]);
    let (code, text) = lint();
    assert!(!text.contains("`builders` is used"), "{text}");
    assert!(
        text.contains("note: migrations/versions/001_projects.py:1:1: baseline = \"models\": `builders` taken as made by `create_all()` before the first migration"),
        "{text}"
    );
    assert_eq!(code, Some(0), "{text}");
}

/// `miglint lint .` in `dir`, for assertions on its exit code and output.
fn lint_here(dir: &std::path::Path) -> assert_cmd::assert::Assert {
    miglint().current_dir(dir).args(["lint", "."]).assert()
}

/// `miglint ARGS` in `dir`: its exit code and stdout.
fn run_in(dir: &std::path::Path, args: &[&str]) -> (Option<i32>, String) {
    let out = miglint().current_dir(dir).args(args).output().unwrap();
    (out.status.code(), String::from_utf8(out.stdout).unwrap())
}

/// `baseline = "models"`: a foreign key to a table `create_all()` made
/// (mapped by a model, created by no migration) points at a table that is
/// there; with no models at all, a note says the setting found nothing.
#[test]
fn baseline_models_satisfies_foreign_keys_to_model_tables() {
    let dir = tempfile::tempdir().unwrap();
    let revision = alembic_revision(
        1,
        "    op.create_table(\"orders\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"customer_id\", sa.Integer(), sa.ForeignKey(\"customers.id\"), index=True), sa.Column(\"created_at\", sa.DateTime(), nullable=False, server_default=sa.func.now()), sa.Column(\"updated_at\", sa.DateTime(), nullable=False, server_default=sa.func.now()))",
    )
    .replace(
        "op.drop_table(\"users\")",
        "op.drop_table(\"orders\")\n    op.drop_table(\"users\")",
    );
    write_tree(
        dir.path(),
        &[("migrations/versions/001_orders.py", revision.as_bytes())],
    );
    let lint = || run_in(dir.path(), &["lint", "--select", "foreign-key-target", "."]);
    let (_, text) = lint();
    assert!(
        text.contains("error[foreign-key-target]") && text.contains("`customers`"),
        "{text}"
    );
    write_tree(dir.path(), &[("miglint.toml", b"baseline = \"models\"\n")]);
    let (_, text) = lint();
    assert!(
        text.contains("baseline = \"models\", but no SQLAlchemy models were found"),
        "{text}"
    );
    let models = "from sqlalchemy import Column, Integer\nfrom sqlalchemy.orm import declarative_base\n\nBase = declarative_base()\n\n\nclass Customer(Base):\n    __tablename__ = \"customers\"\n    id = Column(Integer, primary_key=True)\n";
    write_tree(dir.path(), &[("app/models.py", models.as_bytes())]);
    let (code, text) = lint();
    assert!(!text.contains("error[foreign-key-target]"), "{text}");
    assert_eq!(code, Some(0), "{text}");
}
