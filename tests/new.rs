//! `miglint new`: the file it writes passes `miglint lint` and applies and
//! rolls back with the real Alembic / yoyo (the oracle's Python
//! environment, `MIGLINT_ORACLE_PYTHON`, set up by `scripts/test.sh`).

mod common;

use std::path::Path;

use common::miglint;

/// A copy of a bundled example (without models, so model-drift does not
/// ask for model updates the test does not make).
fn example(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name);
    copy(&src, dir.path());
    let _ = std::fs::remove_file(dir.path().join("app/models.py"));
    dir
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn new(dir: &Path, args: &[&str]) -> String {
    let out = miglint()
        .current_dir(dir)
        .env("SOURCE_DATE_EPOCH", "1763856000")
        .arg("new")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "miglint new {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn lint_passes(dir: &Path) {
    let out = miglint().current_dir(dir).arg("lint").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// The migration ids of a folder, in file order.
fn revisions(migrations: &Path, alembic: bool) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(migrations)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| (n.ends_with(".py") || n.ends_with(".sql")) && !n.ends_with(".rollback.sql"))
        .filter(|n| n.as_bytes()[0].is_ascii_digit())
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let stem = n.rsplit_once('.').unwrap().0.to_string();
            if alembic {
                stem.split('_').next().unwrap().to_string()
            } else {
                stem
            }
        })
        .collect()
}

/// Applies every migration with the real tool, one at a time, then rolls
/// all of them back; panics with the tool's error when one is refused.
fn apply_for_real(dir: &Path, alembic: bool) {
    let migrations = if alembic {
        dir.join("migrations/versions")
    } else {
        dir.join("migrations")
    };
    let job = serde_json::json!({
        "flavour": if alembic { "alembic" } else { "yoyo" },
        "dir": dir,
        "revisions": revisions(&migrations, alembic),
    });
    let results = common::oracle_driver(&[job]);
    assert!(
        results[0].get("error").is_none(),
        "the real tool refused it: {}",
        results[0]
    );
    let steps = results[0]["steps"].as_array().unwrap();
    assert!(!steps.is_empty());
    let _ = std::fs::remove_file(dir.join("oracle.db"));
}

/// Each option of `miglint new`, one migration after another in one
/// project: each file is snapshotted, passes lint, and applies for real.
fn every_option(example_name: &str, alembic: bool, extra: &[&str]) {
    let dir = example(example_name);
    let cases: &[(&str, &[&str])] = &[
        (
            "add priority",
            &[
                "--add-column",
                "messages.priority:Integer",
                "--default",
                "0",
                "--index",
            ],
        ),
        (
            "add summary",
            &["--add-column", "messages.summary:Text", "--nullable"],
        ),
        (
            "create tags",
            &[
                "--create-table",
                "tags",
                "--add-column",
                "tags.label:String(40)",
                "--default",
                "none",
            ],
        ),
        ("index tags label", &["--add-index", "tags.label"]),
        (
            "link tags to messages",
            &["--add-fk", "tags.message_id:messages.id"],
        ),
        ("empty skeleton", &[]),
    ];
    let table = if alembic { "memories" } else { "messages" };
    for (description, args) in cases {
        let args: Vec<String> = args
            .iter()
            .map(|a| a.replace("messages.", &format!("{table}.")))
            .chain(extra.iter().map(|s| s.to_string()))
            .collect();
        let mut all = vec![description.to_string()];
        all.extend(args);
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let said = new(dir.path(), &all);
        assert!(said.starts_with("Created "), "{said}");
        assert!(!said.contains("note:"), "the new file has findings: {said}");
        lint_passes(dir.path());
    }
    let migrations = if alembic {
        dir.path().join("migrations/versions")
    } else {
        dir.path().join("migrations")
    };
    let mut written: Vec<String> = std::fs::read_dir(&migrations)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.as_bytes()[0].is_ascii_digit())
        .collect();
    written.sort();
    let mut shown = String::new();
    for name in written.iter().filter(|n| {
        let number: u32 = n.split('_').next().unwrap().parse().unwrap();
        number >= if alembic { 4 } else { 5 }
    }) {
        shown.push_str(&format!("=== {name}\n"));
        shown.push_str(&std::fs::read_to_string(migrations.join(name)).unwrap());
    }
    let snapshot = format!(
        "new_{}{}",
        example_name.replace('-', "_"),
        extra.join("").replace('-', "_")
    );
    insta::assert_snapshot!(snapshot, shown);
    apply_for_real(dir.path(), alembic);
}

#[test]
fn alembic_migrations_from_every_option_lint_clean_and_apply() {
    every_option("alembic-sqlite", true, &[]);
}

#[test]
fn yoyo_python_migrations_from_every_option_lint_clean_and_apply() {
    every_option("yoyo-sqlite", false, &["--python"]);
}

#[test]
fn yoyo_sql_migrations_from_every_option_lint_clean_and_apply() {
    every_option("yoyo-sqlite", false, &["--sql"]);
}

#[test]
fn refuses_to_overwrite_and_explains_bad_requests() {
    let dir = example("alembic-sqlite");
    // A file miglint does not read (excluded) sits where 004 would go.
    std::fs::write(
        dir.path().join("miglint.toml"),
        "exclude = [\"*_add_status.py\"]\n",
    )
    .unwrap();
    let taken = dir.path().join("migrations/versions/004_add_status.py");
    std::fs::write(&taken, "# mine\n").unwrap();
    let fail = |args: &[&str], want: &str| {
        let out = miglint()
            .current_dir(dir.path())
            .arg("new")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
    };
    fail(
        &[
            "add status",
            "--add-column",
            "memories.flag:Boolean",
            "--nullable",
        ],
        "already exists; miglint new never overwrites a file",
    );
    assert_eq!(std::fs::read_to_string(&taken).unwrap(), "# mine\n");
    fail(
        &["x", "--add-column", "nope.flag:Boolean", "--nullable"],
        "no table `nope`",
    );
    fail(
        &["x", "--add-column", "memories.flag:Boolean"],
        "--nullable or --default",
    );
    fail(
        &["x", "--add-column", "memories.status:String", "--nullable"],
        "already exists",
    );
    fail(
        &["x", "--add-column", "memories.flag:Money", "--nullable"],
        "not one miglint knows",
    );
    fail(&["x", "--create-table", "sessions"], "already exists");
    fail(
        &["x", "--add-index", "memories.nope"],
        "no column `memories.nope`",
    );
    fail(
        &["x", "--add-fk", "memories.owner:people.id"],
        "no column `people.id`",
    );
    fail(&["!!!"], "needs at least one letter");
    // Dry run: printed, nothing written.
    let out = new(
        dir.path(),
        &[
            "add flag",
            "--add-column",
            "memories.flag:Boolean",
            "--nullable",
            "--dry-run",
        ],
    );
    assert!(
        out.contains("batch_op.add_column(sa.Column(\"flag\", sa.Boolean(), nullable=True))"),
        "{out}"
    );
    assert!(out.contains("Create Date: 2025-11-23"), "{out}");
    assert!(
        !dir.path()
            .join("migrations/versions/004_add_flag.py")
            .exists()
    );
}

/// `miglint new` in each SQL-folder tool's example: the next migration in
/// the folder's own layout, clean under `miglint lint`, and applied (then
/// reverted, where the tool can) by the real tool.
#[test]
fn sql_folder_migrations_follow_each_tools_layout_lint_clean_and_apply() {
    let programs: std::collections::BTreeMap<&str, std::path::PathBuf> =
        common::sql_tool_programs().into_iter().collect();
    // SOURCE_DATE_EPOCH 1763856000 is 2025-11-23 00:00:00 UTC.
    let expected: &[(&str, &[&str])] = &[
        (
            "sqlx",
            &[
                "migrations/20251123000000_add_tags.up.sql",
                "migrations/20251123000000_add_tags.down.sql",
            ],
        ),
        (
            "diesel",
            &[
                "migrations/2025-11-23-000000_add_tags/up.sql",
                "migrations/2025-11-23-000000_add_tags/down.sql",
            ],
        ),
        ("refinery", &["migrations/V3__add_tags.sql"]),
        (
            "golang-migrate",
            &[
                "migrations/000003_add_tags.up.sql",
                "migrations/000003_add_tags.down.sql",
            ],
        ),
        ("dbmate", &["db/migrations/20251123000000_add_tags.sql"]),
    ];
    for (tool, files) in expected {
        let dir = example(&format!("sql-folders/{tool}"));
        new(
            dir.path(),
            &[
                "add tags",
                "--create-table",
                "tags",
                "--add-column",
                "notes.title:TEXT",
                "--nullable",
            ],
        );
        for f in *files {
            assert!(dir.path().join(f).is_file(), "{tool}: {f} not written");
        }
        lint_passes(dir.path());
        let Some(program) = programs.get(tool) else {
            continue; // golang-migrate: no registry this project reaches ships it
        };
        let db = dir.path().join("app.db");
        let db = db.to_str().unwrap();
        let run = |args: &[&str]| {
            let out = std::process::Command::new(program)
                .args(args)
                .current_dir(dir.path())
                .env("DATABASE_URL", format!("sqlite://{db}"))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{tool} {args:?}: {}{}",
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&out.stdout)
            );
        };
        let sqlx_url = format!("sqlite://{db}?mode=rwc");
        let dbmate_url = format!("sqlite:{db}");
        let (up, down): (Vec<&str>, Vec<&str>) = match *tool {
            "sqlx" => (
                vec!["migrate", "run", "--no-dotenv", "--database-url", &sqlx_url],
                vec![
                    "migrate",
                    "revert",
                    "--no-dotenv",
                    "--database-url",
                    &sqlx_url,
                ],
            ),
            "diesel" => (
                vec!["migration", "run", "--database-url", db],
                vec!["migration", "revert", "--database-url", db],
            ),
            "dbmate" => (
                vec!["--url", &dbmate_url, "--no-dump-schema", "up"],
                vec!["--url", &dbmate_url, "--no-dump-schema", "rollback"],
            ),
            _ => {
                std::fs::File::create(db).unwrap();
                (vec!["migrate", "-e", "DATABASE_URL"], Vec::new())
            }
        };
        run(&up);
        if !down.is_empty() {
            for _ in 0..3 {
                run(&down);
            }
        }
    }
}

/// A forward-only sqlx folder gets a forward-only migration.
#[test]
fn a_forward_only_sqlx_folder_gets_a_forward_only_file() {
    let dir = example("sql-folders/sqlx");
    let migrations = dir.path().join("migrations");
    for e in std::fs::read_dir(&migrations).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".down.sql") {
            std::fs::remove_file(&path).unwrap();
        } else {
            std::fs::rename(&path, migrations.join(name.replace(".up.sql", ".sql"))).unwrap();
        }
    }
    new(dir.path(), &["add tags", "--create-table", "tags"]);
    assert!(migrations.join("20251123000000_add_tags.sql").is_file());
    assert!(!migrations.join("20251123000000_add_tags.down.sql").exists());
    lint_passes(dir.path());
}
