//! Git-aware linting against real repositories made with the `git` command.

mod common;

use std::path::Path;

use common::{alembic_revision, git, miglint, write_tree};
use predicates::prelude::*;

/// A repository on `main` with revisions 001 and 002, and a branch `feature`.
fn repo() -> tempfile::TempDir {
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
                "migrations/versions/002_email.py",
                alembic_revision(2, "    op.execute(\"SELECT 1\")").as_bytes(),
            ),
        ],
    );
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "base"]);
    git(dir.path(), &["checkout", "-q", "-b", "feature"]);
    dir
}

/// [`repo`], where `main` merged `003_tags` meanwhile and `feature` adds
/// its own `003_posts` (not committed).
fn both_add_003() -> tempfile::TempDir {
    let dir = repo();
    git(dir.path(), &["checkout", "-q", "main"]);
    write_tree(
        dir.path(),
        &[(
            "migrations/versions/003_tags.py",
            alembic_revision(3, "    pass").as_bytes(),
        )],
    );
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "003 on main"]);
    git(dir.path(), &["checkout", "-q", "feature"]);
    write_tree(
        dir.path(),
        &[(
            "migrations/versions/003_posts.py",
            alembic_revision(3, "    pass").as_bytes(),
        )],
    );
    dir
}

fn json(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = miglint()
        .current_dir(dir)
        .args(["lint", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn modifying_a_merged_migration_is_reported_with_its_lines() {
    let dir = repo();
    let changed = alembic_revision(2, "    op.execute(\"SELECT 2\")");
    write_tree(
        dir.path(),
        &[("migrations/versions/002_email.py", changed.as_bytes())],
    );
    let (code, out) = json(dir.path(), &["--base", "main"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("\"rule\": \"immutable-migration\""), "{out}");
    assert!(
        out.contains("migration `002` is already on main and was modified (line 15)"),
        "{out}"
    );
    // Unchanged files are fine.
    git(dir.path(), &["checkout", "-q", "--", "."]);
    let (code, out) = json(dir.path(), &["--base", "main"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn deleting_or_renaming_a_merged_migration_is_reported() {
    let dir = repo();
    std::fs::rename(
        dir.path().join("migrations/versions/002_email.py"),
        dir.path().join("migrations/versions/002_add_email.py"),
    )
    .unwrap();
    let (_, out) = json(dir.path(), &["--base", "main"]);
    assert!(out.contains("was renamed to `002_add_email.py`"), "{out}");
    std::fs::remove_file(dir.path().join("migrations/versions/002_add_email.py")).unwrap();
    let (_, out) = json(dir.path(), &["--base", "main"]);
    assert!(
        out.contains("migration `002` (002_email.py) is on main and was deleted"),
        "{out}"
    );
    assert!(
        out.contains("\"path\": \"main:migrations/versions/002_email.py\""),
        "{out}"
    );
}

#[test]
fn two_branches_adding_the_same_number_are_caught_before_the_merge() {
    let dir = both_add_003();
    let (code, out) = json(dir.path(), &["--base", "main"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("main already has 003 (`003_tags`)"), "{out}");
    assert!(
        out.contains("renumber it to 004 and set down_revision = \\\"003\\\""),
        "{out}"
    );
    assert!(
        out.contains("the head on main is `003` (003_tags)"),
        "{out}"
    );
}

#[test]
fn changed_only_keeps_legacy_findings_out() {
    let dir = repo();
    // A legacy problem already on main: 002 uses op.add_column outside batch mode.
    let legacy = alembic_revision(
        2,
        "    op.add_column(\"users\", sa.Column(\"x\", sa.String()))",
    );
    write_tree(
        dir.path(),
        &[("migrations/versions/002_email.py", legacy.as_bytes())],
    );
    git(dir.path(), &["commit", "-q", "-am", "legacy"]);
    git(dir.path(), &["branch", "-f", "main"]);
    write_tree(
        dir.path(),
        &[(
            "migrations/versions/003_new.py",
            alembic_revision(3, "    op.drop_column(\"users\", \"x\")").as_bytes(),
        )],
    );
    let (_, all) = json(dir.path(), &["--base", "main"]);
    assert!(
        all.contains("002_email.py") && all.contains("003_new.py"),
        "{all}"
    );
    let (_, changed) = json(dir.path(), &["--base", "main", "--changed-only"]);
    assert!(!changed.contains("002_email.py"), "{changed}");
    assert!(changed.contains("003_new.py"), "{changed}");
}

#[test]
fn staged_content_is_linted_not_the_working_tree() {
    let dir = repo();
    let bad = alembic_revision(
        3,
        "    op.add_column(\"users\", sa.Column(\"x\", sa.String()))",
    );
    let good = alembic_revision(3, "    op.execute(\"UPDATE users SET id = id\")");
    // Stage the bad version, then fix it in the working tree only.
    write_tree(
        dir.path(),
        &[("migrations/versions/003_x.py", bad.as_bytes())],
    );
    git(dir.path(), &["add", "migrations/versions/003_x.py"]);
    write_tree(
        dir.path(),
        &[("migrations/versions/003_x.py", good.as_bytes())],
    );
    let (code, out) = json(dir.path(), &[]);
    assert_eq!(code, 0, "the working tree is fine: {out}");
    let (code, out) = json(dir.path(), &["--staged"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("batch-mode"), "{out}");
    // An untracked migration is not part of the commit.
    write_tree(
        dir.path(),
        &[(
            "migrations/versions/004_untracked.py",
            bad.replace("003", "004").as_bytes(),
        )],
    );
    git(dir.path(), &["add", "migrations/versions/003_x.py"]);
    let (code, out) = json(dir.path(), &["--staged"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("\"skipped\": 1"), "{out}");
}

#[test]
fn outside_git_or_without_the_base_exit_two_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[(
            "migrations/versions/001_a.py",
            alembic_revision(1, "    pass").as_bytes(),
        )],
    );
    miglint()
        .current_dir(dir.path())
        .args(["lint", "--staged"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--staged needs a git repository"));
    let dir = repo();
    miglint()
        .current_dir(dir.path())
        .args(["lint", "--base", "origin/nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--base origin/nope: no such branch",
        ))
        .stderr(predicate::str::contains("git fetch"));
    miglint()
        .current_dir(dir.path())
        .args(["lint", "--changed-only"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--changed-only needs --base"));
    // In a GitHub pull request the base defaults to origin/$GITHUB_BASE_REF.
    miglint()
        .current_dir(dir.path())
        .env("GITHUB_BASE_REF", "main")
        .args(["lint"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--base origin/main"));
}

#[test]
fn a_colliding_new_migration_is_renumbered_by_the_fix() {
    let dir = both_add_003();
    let posts = alembic_revision(3, "    pass");
    let diff = miglint()
        .current_dir(dir.path())
        .args(["lint", "--base", "main", "--diff"])
        .output()
        .unwrap();
    assert_eq!(diff.status.code(), Some(1));
    insta::assert_snapshot!("renumber_diff", String::from_utf8(diff.stdout).unwrap());
    miglint()
        .current_dir(dir.path())
        .args(["lint", "--base", "main", "--fix"])
        .output()
        .unwrap();
    let versions = dir.path().join("migrations/versions");
    assert!(!versions.join("003_posts.py").exists());
    let renumbered = std::fs::read_to_string(versions.join("004_posts.py")).unwrap();
    assert_eq!(
        renumbered,
        posts
            .replace("Revision ID: 003", "Revision ID: 004")
            .replace("Revises: 002", "Revises: 003")
            .replace("revision = \"003\"", "revision = \"004\"")
            .replace("down_revision = \"002\"", "down_revision = \"003\"")
    );
    // After merging main, the chain is whole and numbered.
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "posts"]);
    git(dir.path(), &["merge", "-q", "--no-edit", "main"]);
    miglint()
        .current_dir(dir.path())
        .args(["lint", "--base", "main"])
        .assert()
        .code(0);
}
