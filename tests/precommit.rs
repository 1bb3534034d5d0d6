//! The pre-commit hook, run by real pre-commit (`pre-commit try-repo`
//! against this repository): a broken staged migration is refused with the
//! rule id, the fixed one passes. pre-commit comes from requirements-dev.txt
//! (scripts/test.sh); its first run builds miglint with cargo (unoptimised,
//! in the folder the packaging tests share), cached in target/pre-commit-home
//! for later runs.

mod common;

use std::path::Path;
use std::process::Command;

use common::{git, write_tree};

const ADD_FLAG: &str = "\"\"\"Add memories.flag.\n\nRevision ID: 002\nRevises: 001\n\"\"\"\n\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision = \"002\"\ndown_revision = \"001\"\n\n\ndef upgrade() -> None:\n    BODY\n\n\ndef downgrade() -> None:\n    with op.batch_alter_table(\"memories\") as batch_op:\n        batch_op.drop_column(\"flag\")\n";

#[test]
fn pre_commit_refuses_a_broken_migration_and_accepts_the_fix() {
    let python = std::env::var("MIGLINT_ORACLE_PYTHON").unwrap_or_else(|_| {
        panic!("MIGLINT_ORACLE_PYTHON is not set: run the tests with scripts/test.sh, which installs pre-commit into .venv")
    });
    let this_repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let home = this_repo.join("target/pre-commit-home");
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    let first =
        std::fs::read(this_repo.join("examples/alembic-sqlite/migrations/versions/001_initial.py"))
            .unwrap();
    write_tree(
        dir.path(),
        &[("migrations/versions/001_initial.py", &first)],
    );
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "initial"]);

    let run = || {
        let out = common::unoptimised_packaging_build(
            Command::new(&python)
                .current_dir(dir.path())
                .env("PRE_COMMIT_HOME", &home)
                .args(["-m", "pre_commit", "try-repo"])
                .arg(this_repo)
                .arg("miglint"),
        )
        .output()
        .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };

    let broken = ADD_FLAG.replace(
        "BODY",
        "op.add_column(\"memories\", sa.Column(\"flag\", sa.String(), nullable=True))",
    );
    write_tree(
        dir.path(),
        &[("migrations/versions/002_add_flag.py", broken.as_bytes())],
    );
    git(dir.path(), &["add", "-A"]);
    let (code, out) = run();
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("error[batch-mode]"), "{out}");
    assert!(
        out.contains("migrations/versions/002_add_flag.py:15:5"),
        "{out}"
    );

    let fixed = ADD_FLAG.replace(
        "BODY",
        "with op.batch_alter_table(\"memories\") as batch_op:\n        batch_op.add_column(sa.Column(\"flag\", sa.String(), nullable=True))",
    );
    write_tree(
        dir.path(),
        &[("migrations/versions/002_add_flag.py", fixed.as_bytes())],
    );
    git(dir.path(), &["add", "-A"]);
    let (code, out) = run();
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("miglint") && out.contains("Passed"), "{out}");
}
