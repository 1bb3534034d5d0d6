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
