//! Real projects' Alembic chains, from their published wheels (pinned by
//! version and sha256 in `tests/realworld/manifest.json`, downloaded into
//! `.cache/realworld/`, never committed), run by real Alembic on SQLite one
//! revision at a time up and back down, with miglint held against what
//! Alembic did: `tests/realworld/measure.py --check` fails when an error
//! finding that Alembic contradicts appears, a true one disappears, the
//! replayed schema agrees less with SQLite's, or any project's findings
//! change from `tests/realworld/expected.json` (rerun with `--update` and
//! review the diff). Then `fixcheck.py` runs `--fix --unsafe-fixes` on
//! committed copies of the chains and real Alembic on the result: every
//! step that applied before must still apply, with the same schema but for
//! what the fixes add. Where the manifest names a project's models, Alembic's
//! `compare_metadata` at head is the oracle for `model-drift`. The Python
//! environment comes from `scripts/test.sh`.
//!
//! The chains of the projects that support PostgreSQL run again on a real
//! PostgreSQL server (`scripts/postgres.sh`), linted with `dialect =
//! "postgresql"` and held against `tests/realworld/expected-postgresql.json`
//! the same way.

mod common;

use std::path::Path;
use std::process::Command;

fn python() -> String {
    std::env::var("MIGLINT_ORACLE_PYTHON").unwrap_or_else(|_| {
        panic!("MIGLINT_ORACLE_PYTHON is not set: run the tests with scripts/test.sh")
    })
}

fn run(step: &str, args: &[&str]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(python())
        .arg(root.join("tests/realworld").join(step))
        .args(args)
        .current_dir(root)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {step}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    print!("{stdout}");
    assert!(
        out.status.success(),
        "{step} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
}

#[test]
fn real_projects_chains_hold_against_real_alembic() {
    run("fetch.py", &[]);
    run("run.py", &["--out", ".cache/realworld/alembic.json"]);
    run(
        "measure.py",
        &[
            "--alembic",
            ".cache/realworld/alembic.json",
            "--miglint",
            env!("CARGO_BIN_EXE_miglint"),
            "--out",
            ".cache/realworld/measure.json",
            "--markdown",
            ".cache/realworld/measure.md",
            "--check",
            "tests/realworld/expected.json",
        ],
    );
    let server = common::Postgres::start();
    let socket = server.socket();
    let socket = socket.to_str().expect("a UTF-8 socket path");
    run(
        "run.py",
        &[
            "--postgres",
            socket,
            "--out",
            ".cache/realworld/alembic-postgresql.json",
        ],
    );
    drop(server);
    run(
        "measure.py",
        &[
            "--database",
            "postgresql",
            "--alembic",
            ".cache/realworld/alembic-postgresql.json",
            "--miglint",
            env!("CARGO_BIN_EXE_miglint"),
            "--out",
            ".cache/realworld/measure-postgresql.json",
            "--markdown",
            ".cache/realworld/measure-postgresql.md",
            "--check",
            "tests/realworld/expected-postgresql.json",
        ],
    );
    run(
        "fixcheck.py",
        &[
            "--miglint",
            env!("CARGO_BIN_EXE_miglint"),
            "--alembic",
            ".cache/realworld/alembic.json",
        ],
    );
}
