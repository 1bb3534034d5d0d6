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

/// A clean Alembic revision numbered `n` whose upgrade body is `body`.
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
    format!(
        "\"\"\"Revision {n}.\n\nRevision ID: {n:03}\nRevises: {revises}\n\"\"\"\n\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision = \"{n:03}\"\ndown_revision = {parent}\n\n\ndef upgrade() -> None:\n{body}\n\n\ndef downgrade() -> None:\n    op.execute(\"SELECT 1\")\n"
    )
}
