//! The results cache: a warm run reports exactly what a cold one does, a
//! changed migration is run again, and a damaged or unwritable cache changes
//! nothing but speed.

mod common;

use std::path::Path;

use common::{miglint, write_tree};

const USERS: &str = "-- create users\n\nCREATE TABLE IF NOT EXISTS users (\n    id TEXT PRIMARY KEY,\n    email TEXT NOT NULL,\n    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now')),\n    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now'))\n);\n";

/// A yoyo project whose second migration inserts into `column` of `users`,
/// after `padding` comment lines.
fn project(dir: &Path, column: &str, padding: usize) {
    let seed = format!(
        "-- seed the admin\n-- depends: 0001_users\n{}\nINSERT INTO users (id, {column}) VALUES ('admin', 'admin@example.com');\n",
        "-- note\n".repeat(padding)
    );
    write_tree(
        dir,
        &[
            ("migrations/0001_users.sql", USERS.as_bytes()),
            (
                "migrations/0001_users.rollback.sql",
                b"DROP TABLE IF EXISTS users;\n",
            ),
            ("migrations/0002_seed.sql", seed.as_bytes()),
            (
                "migrations/0002_seed.rollback.sql",
                b"DELETE FROM users WHERE id = 'admin';\n",
            ),
        ],
    );
}

/// `miglint lint` in `dir` with `args`: exit code and stdout.
fn lint(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = miglint()
        .current_dir(dir)
        .env_remove("MIGLINT_CACHE_DIR")
        .arg("lint")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn cache_files(root: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let Ok(versions) = std::fs::read_dir(root) else {
        return files;
    };
    for entry in versions.flatten() {
        if entry.path().is_dir() {
            files.extend(
                std::fs::read_dir(entry.path())
                    .unwrap()
                    .flatten()
                    .map(|e| e.path()),
            );
        }
    }
    files
}

#[test]
fn a_warm_run_reports_what_a_cold_run_did() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), "mail", 0);
    let cold = lint(dir.path(), &[]);
    assert_eq!(cold.0, Some(1), "{}", cold.1);
    assert!(
        cold.1
            .contains("error[sqlite-exec]: SQLite: table users has no column named mail"),
        "{}",
        cold.1
    );
    assert!(
        cold.1.contains("migrations/0002_seed.sql:4:1"),
        "{}",
        cold.1
    );

    let cache = dir.path().join(".miglint_cache");
    assert_eq!(
        std::fs::read_to_string(cache.join(".gitignore")).unwrap(),
        "# Automatically created by miglint.\n*\n",
        "the cache keeps itself out of git"
    );
    assert!(cache.join("CACHEDIR.TAG").is_file());
    let files = cache_files(&cache);
    assert_eq!(files.len(), 1);
    let written = std::fs::metadata(&files[0]).unwrap().modified().unwrap();

    assert_eq!(lint(dir.path(), &[]), cold, "warm run");
    assert_eq!(
        std::fs::metadata(&files[0]).unwrap().modified().unwrap(),
        written,
        "every result was found under the same key, so the file was left as it was"
    );
    assert_eq!(lint(dir.path(), &["--format", "json"]).0, Some(1));
    assert_eq!(lint(dir.path(), &["--no-cache"]), cold, "no cache");
}

#[test]
fn a_changed_migration_runs_again() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), "mail", 0);
    assert_eq!(lint(dir.path(), &[]).0, Some(1));

    project(dir.path(), "email", 0);
    let fixed = lint(dir.path(), &[]);
    assert_eq!(fixed.0, Some(0), "{}", fixed.1);
    assert!(!fixed.1.contains("sqlite-exec"), "{}", fixed.1);

    // The same failing statement three lines lower: reported where it now is.
    project(dir.path(), "mail", 3);
    let moved = lint(dir.path(), &[]);
    assert!(
        moved.1.contains("migrations/0002_seed.sql:7:1"),
        "{}",
        moved.1
    );
    assert_eq!(moved, lint(dir.path(), &["--no-cache"]));
    assert_eq!(moved, lint(dir.path(), &[]), "warm again");
}

#[test]
fn a_damaged_cache_is_rebuilt_not_believed() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), "mail", 0);
    let cold = lint(dir.path(), &[]);
    let cache = dir.path().join(".miglint_cache");
    let files = cache_files(&cache);
    assert_eq!(files.len(), 1);
    let good = std::fs::read(&files[0]).unwrap();

    for damaged in [
        Vec::new(),
        b"not a cache".to_vec(),
        good[..good.len() / 2].to_vec(),
        good.iter().map(|b| b ^ 0x55).collect(),
    ] {
        std::fs::write(&files[0], &damaged).unwrap();
        assert_eq!(lint(dir.path(), &[]), cold);
        assert_eq!(
            std::fs::read(&files[0]).unwrap(),
            good,
            "the file is rewritten whole"
        );
    }
}

#[test]
fn the_cache_can_live_elsewhere_or_nowhere() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    project(dir.path(), "mail", 0);
    let cold = lint(dir.path(), &["--no-cache"]);
    assert!(!dir.path().join(".miglint_cache").exists(), "--no-cache");

    let other = elsewhere.path().join("by-flag");
    assert_eq!(
        lint(dir.path(), &["--cache-dir", other.to_str().unwrap()]),
        cold
    );
    assert_eq!(cache_files(&other).len(), 1);

    let by_env = elsewhere.path().join("by-env");
    let out = miglint()
        .current_dir(dir.path())
        .env("MIGLINT_CACHE_DIR", &by_env)
        .arg("lint")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), cold.1);
    assert_eq!(cache_files(&by_env).len(), 1);
    assert!(!dir.path().join(".miglint_cache").exists());

    // A cache that cannot be written (its folder is a file) changes nothing.
    let blocked = elsewhere.path().join("a-file");
    std::fs::write(&blocked, "").unwrap();
    assert_eq!(
        lint(dir.path(), &["--cache-dir", blocked.to_str().unwrap()]),
        cold
    );
}
