//! The GitHub Action's run step (scripts/action.sh, called by action.yml),
//! run as in a pull request: annotations printed, SARIF written and
//! validated against the SARIF 2.1.0 schema.

mod common;

use std::path::Path;
use std::process::Command;

use common::{alembic_revision, git, write_tree};

/// A checkout of a pull request: `origin/main` has 001 and 002; the pull
/// request edits 002 (already merged) and adds 003 outside batch mode.
fn pull_request() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    write_tree(
        dir.path(),
        &[
            (
                "migrations/versions/001_users.py",
                alembic_revision(1, "    pass").as_bytes(),
            ),
            (
                "migrations/versions/002_seed.py",
                alembic_revision(2, "    op.execute(\"SELECT 1\")").as_bytes(),
            ),
        ],
    );
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "main"]);
    git(
        dir.path(),
        &["update-ref", "refs/remotes/origin/main", "HEAD"],
    );
    git(dir.path(), &["checkout", "-q", "-b", "feature"]);
    write_tree(
        dir.path(),
        &[
            (
                "migrations/versions/002_seed.py",
                alembic_revision(2, "    op.execute(\"SELECT 2\")").as_bytes(),
            ),
            (
                "migrations/versions/003_email.py",
                alembic_revision(
                    3,
                    "    op.add_column(\"users\", sa.Column(\"email\", sa.String()))",
                )
                .as_bytes(),
            ),
        ],
    );
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "feature"]);
    dir
}

fn run_action(dir: &Path, extra: &[(&str, &str)]) -> (i32, String, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/action.sh");
    let mut cmd = Command::new("bash");
    cmd.current_dir(dir)
        .arg(script)
        .arg("run")
        .env("MIGLINT", env!("CARGO_BIN_EXE_miglint"))
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_BASE_REF", "main")
        .env("GITHUB_HEAD_REF", "feature")
        .env("GITHUB_WORKSPACE", dir)
        .env("INPUT_PATH", ".")
        .env("NO_COLOR", "1");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn pull_request_annotations_and_valid_sarif() {
    let dir = pull_request();
    let sarif = dir.path().join("miglint.sarif");
    let (code, stdout, stderr) =
        run_action(dir.path(), &[("INPUT_SARIF_FILE", sarif.to_str().unwrap())]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines.iter().any(|l| l
            .starts_with("::error file=migrations/versions/003_email.py,line=15,col=5,")
            && l.contains("title=miglint(batch-mode)::")),
        "{stdout}"
    );
    assert!(
        lines.iter().any(|l| l
            .starts_with("::error file=migrations/versions/002_seed.py,line=15,")
            && l.contains(
                "title=miglint(immutable-migration)::migration `002` is already on origin/main"
            )),
        "{stdout}"
    );
    assert!(
        lines.iter().all(|l| l.starts_with("::")),
        "only workflow commands: {stdout}"
    );

    // The SARIF file holds the same findings and validates against the schema.
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    assert_eq!(
        doc["runs"][0]["results"].as_array().unwrap().len(),
        lines.len()
    );
    common::assert_valid_sarif(&sarif);
}

#[test]
fn changed_only_input_limits_annotations_to_the_pull_request() {
    let dir = pull_request();
    // A legacy problem on main, untouched by the pull request.
    let (_, before, _) = run_action(dir.path(), &[]);
    let legacy = alembic_revision(1, "    op.drop_column(\"users\", \"legacy\")");
    git(dir.path(), &["checkout", "-q", "main"]);
    write_tree(
        dir.path(),
        &[("migrations/versions/001_users.py", legacy.as_bytes())],
    );
    git(dir.path(), &["commit", "-q", "-am", "legacy on main"]);
    git(
        dir.path(),
        &["update-ref", "refs/remotes/origin/main", "HEAD"],
    );
    git(dir.path(), &["checkout", "-q", "feature"]);
    git(dir.path(), &["rebase", "-q", "main"]);
    let (_, all, _) = run_action(dir.path(), &[]);
    assert!(all.contains("001_users.py"), "{all}");
    let (code, changed, stderr) = run_action(dir.path(), &[("INPUT_CHANGED_ONLY", "true")]);
    assert_eq!(code, 1, "{changed}{stderr}");
    assert!(!changed.contains("001_users.py"), "{changed}");
    assert!(changed.contains("003_email.py"), "{changed}");
    assert!(!before.is_empty());
}
