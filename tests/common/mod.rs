//! Helpers shared by the CLI tests.
#![allow(dead_code)]

use std::path::Path;

use assert_cmd::Command;

/// `miglint` with a clean environment: no colour, not in GitHub Actions.
pub fn miglint() -> Command {
    let mut cmd = Command::cargo_bin("miglint").expect("binary builds");
    cmd.env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_BASE_REF")
        .env("NO_COLOR", "1");
    cmd
}

/// Writes `files` (path, content) under `root`.
pub fn write_tree(root: &Path, files: &[(&str, &[u8])]) {
    for (path, body) in files {
        let full = root.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, body).unwrap();
    }
}

/// The one-line `op.create_table("users", ...)` revision 1 starts with, so
/// later bodies can change `users` (replay knows the table exists).
pub const CREATE_USERS: &str = "    op.create_table(\"users\", sa.Column(\"id\", sa.String(), primary_key=True), sa.Column(\"created_at\", sa.DateTime(), nullable=False, server_default=sa.func.now()), sa.Column(\"updated_at\", sa.DateTime(), nullable=False, server_default=sa.func.now()))";

/// A clean Alembic revision numbered `n` whose upgrade body is `body`.
/// Revision 1 first creates `users` (line 15) and its downgrade drops it, so
/// `body` starts on line 16 there and on line 15 in later revisions.
pub fn alembic_revision(n: u32, body: &str) -> String {
    let parent = if n == 1 {
        "None".to_string()
    } else {
        format!("\"{:03}\"", n - 1)
    };
    let revises = if n == 1 {
        String::new()
    } else {
        format!("{:03}", n - 1)
    };
    let (body, down) = if n == 1 {
        (
            format!("{CREATE_USERS}\n{body}"),
            "op.drop_table(\"users\")",
        )
    } else {
        (body.to_string(), "op.execute(\"SELECT 1\")")
    };
    format!(
        "\"\"\"Revision {n}.\n\nRevision ID: {n:03}\nRevises: {revises}\n\"\"\"\n\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision = \"{n:03}\"\ndown_revision = {parent}\n\n\ndef upgrade() -> None:\n{body}\n\n\ndef downgrade() -> None:\n    {down}\n"
    )
}

/// Runs `git` in `dir` with a fixed identity; panics with git's message on failure.
pub fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "miglint-tests")
        .env("GIT_AUTHOR_EMAIL", "tests@example.com")
        .env("GIT_COMMITTER_NAME", "miglint-tests")
        .env("GIT_COMMITTER_EMAIL", "tests@example.com")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An Alembic revision `n` (parent `n - 1`) whose upgrade and downgrade
/// are each one `op.batch_alter_table(table)` block of the given lines.
pub fn batch_revision(n: u32, title: &str, table: &str, up: &[&str], down: &[&str]) -> String {
    let block = |lines: &[&str]| {
        let body: Vec<String> = lines.iter().map(|l| format!("        {l}")).collect();
        format!(
            "    with op.batch_alter_table(\"{table}\") as batch_op:\n{}",
            body.join("\n")
        )
    };
    format!(
        "\"\"\"{title}\n\nRevision ID: {n:03}\nRevises: {:03}\n\"\"\"\n\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision = \"{n:03}\"\ndown_revision = \"{:03}\"\n\n\ndef upgrade() -> None:\n{}\n\n\ndef downgrade() -> None:\n{}\n",
        n - 1,
        n - 1,
        block(up),
        block(down)
    )
}

/// The `env.py` real Alembic runs a test project with, when it has none:
/// the database URL from the configuration, batch mode on SQLite.
pub const ENV_PY: &str = "from alembic import context\nfrom sqlalchemy import engine_from_config, pool\n\nconfig = context.config\nconnectable = engine_from_config(config.get_section(config.config_ini_section, {}), prefix=\"sqlalchemy.\", poolclass=pool.NullPool)\nwith connectable.connect() as connection:\n    context.configure(connection=connection, render_as_batch=True)\n    with context.begin_transaction():\n        context.run_migrations()\n";

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == ".git" || name == ".miglint_cache" {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Real Alembic (when `dir` has an `alembic.ini`) or real yoyo applies the
/// project in `dir` to SQLite one migration at a time up to head, then
/// back down to base (`tests/oracle/driver.py`, on a copy, given a minimal
/// `env.py` when it has none). `Err` carries what the tool refused.
pub fn real_tool_applies(dir: &Path) -> Result<(), String> {
    let work = tempfile::tempdir().unwrap();
    let copy = work.path().join("project");
    copy_tree(dir, &copy);
    let alembic = copy.join("alembic.ini").exists();
    if alembic && !copy.join("migrations/env.py").exists() {
        std::fs::write(copy.join("migrations/env.py"), ENV_PY).unwrap();
    }
    let job = serde_json::json!({
        "flavour": if alembic { "alembic" } else { "yoyo" },
        "dir": copy,
    });
    let results = oracle_driver(&[job]);
    match results[0]["error"].as_str() {
        Some(e) => Err(e.to_string()),
        None => Ok(()),
    }
}

/// Runs `tests/oracle/driver.py` (real Alembic or yoyo, from the Python
/// `scripts/test.sh` installs) on `jobs`; returns its result per job.
pub fn oracle_driver(jobs: &[serde_json::Value]) -> Vec<serde_json::Value> {
    let python = std::env::var("MIGLINT_ORACLE_PYTHON").unwrap_or_else(|_| {
        panic!("MIGLINT_ORACLE_PYTHON is not set: run the tests with scripts/test.sh")
    });
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("jobs.json");
    std::fs::write(&file, serde_json::to_vec(jobs).unwrap()).unwrap();
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/driver.py");
    let out = std::process::Command::new(python)
        .arg(driver)
        .arg(&file)
        .output()
        .expect("run the oracle driver");
    assert!(
        out.status.success(),
        "driver failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Validates the SARIF file at `path` against the SARIF 2.1.0 schema (with
/// the Python `scripts/test.sh` installs jsonschema into).
pub fn assert_valid_sarif(path: &Path) {
    let python = std::env::var("MIGLINT_ORACLE_PYTHON").unwrap_or_else(|_| {
        panic!("MIGLINT_ORACLE_PYTHON is not set: run the tests with scripts/test.sh, which installs jsonschema into .venv")
    });
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sarif/sarif-2.1.0-rtm.5.json");
    let check = std::process::Command::new(python)
        .args([
            "-c",
            "import json, sys, jsonschema\nschema = json.load(open(sys.argv[2]))\njsonschema.validators.validator_for(schema)(schema).validate(json.load(open(sys.argv[1])))",
        ])
        .arg(path)
        .arg(&schema)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "SARIF does not validate: {}",
        String::from_utf8_lossy(&check.stderr)
    );
}

/// The facts the driver dumps, from miglint's replayed schema.
pub fn facts(schema: &miglint::schema::Schema) -> serde_json::Value {
    let mut tables: Vec<String> = schema.tables.values().map(|t| t.name.clone()).collect();
    tables.sort();
    let mut columns = Vec::new();
    let mut fks = Vec::new();
    for t in schema.tables.values() {
        let pk = t.primary_key_columns();
        for c in &t.columns {
            columns.push(serde_json::json!([
                t.name,
                c.name,
                c.sql_type.clone().unwrap_or_default(),
                !c.nullable,
                c.default.as_deref().map(normalize_default),
                pk.contains(&c.name.as_str())
            ]));
        }
        for fk in &t.foreign_keys {
            for (from, to) in fk.columns.iter().zip(&fk.ref_columns) {
                fks.push(serde_json::json!([t.name, from, fk.ref_table, to]));
            }
        }
    }
    let mut indexes: Vec<serde_json::Value> = schema
        .indexes
        .values()
        .map(|ix| {
            // SQLite's index_info names a column, and nothing (NULL) for
            // an expression.
            let columns: Vec<Option<&str>> = ix
                .columns
                .iter()
                .map(|c| {
                    let name = c.split_whitespace().next().unwrap_or("");
                    let plain = !c.contains('(')
                        && name.chars().all(|ch| ch.is_alphanumeric() || ch == '_');
                    plain.then_some(name)
                })
                .collect();
            serde_json::json!([ix.name, ix.table, columns, ix.unique])
        })
        .collect();
    let key = |v: &serde_json::Value| v.to_string();
    columns.sort_by_key(key);
    indexes.sort_by_key(key);
    fks.sort_by_key(key);
    serde_json::json!({"tables": tables, "columns": columns, "indexes": indexes, "fks": fks})
}

/// SQLite keeps a DEFAULT expression without its outer parentheses.
pub fn normalize_default(d: &str) -> String {
    let d = d.trim();
    d.strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or(d)
        .to_string()
}

pub fn normalize_driver(schema: &serde_json::Value) -> serde_json::Value {
    let mut s = schema.clone();
    let key = |v: &serde_json::Value| v.to_string();
    if let Some(cols) = s["columns"].as_array_mut() {
        for c in cols.iter_mut() {
            if let Some(d) = c[4].as_str() {
                c[4] = serde_json::Value::String(normalize_default(d));
            }
        }
        cols.sort_by_key(key);
    }
    for k in ["indexes", "fks"] {
        if let Some(v) = s[k].as_array_mut() {
            v.sort_by_key(key);
        }
    }
    s
}

/// The SQL-folder tools the oracle runs, and where their programs are:
/// `scripts/tools.sh` builds sqlx, diesel and refinery (its folders are in
/// `MIGLINT_TOOLS_BIN`); dbmate comes from PyPI into the oracle's venv.
pub fn sql_tool_programs() -> Vec<(&'static str, std::path::PathBuf)> {
    let dirs = std::env::var("MIGLINT_TOOLS_BIN").unwrap_or_else(|_| {
        panic!("MIGLINT_TOOLS_BIN is not set: run the tests with scripts/test.sh, which builds the migration CLIs")
    });
    let python = std::env::var("MIGLINT_ORACLE_PYTHON").expect("MIGLINT_ORACLE_PYTHON");
    let venv_bin = Path::new(&python).parent().unwrap().to_path_buf();
    let find = |program: &str| {
        std::env::split_paths(&dirs)
            .chain(std::iter::once(venv_bin.clone()))
            .map(|d| d.join(program))
            .find(|p| p.is_file())
            .unwrap_or_else(|| panic!("{program} not found in MIGLINT_TOOLS_BIN or the venv"))
    };
    vec![
        ("sqlx", find("sqlx")),
        ("diesel", find("diesel")),
        ("refinery", find("refinery")),
        ("dbmate", find("dbmate")),
    ]
}

/// A throwaway PostgreSQL server (`scripts/postgres.sh`: the pinned
/// `pgserver` wheel's binaries, unpacked once into `.cache`), listening on
/// a socket in its own folder; stopped when dropped.
pub struct Postgres {
    dir: tempfile::TempDir,
}

impl Postgres {
    pub fn start() -> Postgres {
        let dir = tempfile::tempdir().unwrap();
        // Under root the server runs as `nobody`, which must reach the folder.
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let out = std::process::Command::new(Self::script())
            .arg("start")
            .arg(dir.path().join("data"))
            .arg(dir.path().join("socket"))
            .output()
            .expect("run scripts/postgres.sh");
        assert!(
            out.status.success(),
            "scripts/postgres.sh start failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Postgres { dir }
    }

    fn script() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/postgres.sh")
    }

    /// The folder of the server's socket (libpq's `host`).
    pub fn socket(&self) -> std::path::PathBuf {
        self.dir.path().join("socket")
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = std::process::Command::new(Self::script())
            .arg("stop")
            .arg(self.dir.path().join("data"))
            .output();
    }
}

/// Sets up `cmd`, a tool that builds miglint the way users' tools do (`cargo
/// install`, maturin, pip on the sdist, pre-commit), to build in one folder
/// shared by all the packaging tests, with the release profile's optimiser
/// and LTO turned off. What these tests prove is the packaging (the crate's
/// and the sdist's contents, the wheel, the hook), not the optimised code:
/// this way the dependencies compile once for all of them, quickly, instead
/// of once each with full optimisation (which took most of the test run).
pub fn unoptimised_packaging_build(cmd: &mut std::process::Command) -> &mut std::process::Command {
    cmd.env(
        "CARGO_TARGET_DIR",
        Path::new(env!("CARGO_MANIFEST_DIR")).join("target/packaging"),
    )
    .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
    .env("CARGO_PROFILE_RELEASE_LTO", "off")
    .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "256")
}
