//! Odd input never panics and never hides the findings of other files.

mod common;

use common::{alembic_revision, miglint, write_tree};

fn json_lint(dir: &std::path::Path) -> (i32, serde_json::Value) {
    let out = miglint()
        .current_dir(dir)
        .args(["lint", "--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code().unwrap(), json)
}

fn rules_of(json: &serde_json::Value) -> Vec<(String, String, u64)> {
    json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap().to_string(),
                d["path"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

const BATCH_LINE: &str = "    op.add_column(\"users\", sa.Column(\"email\", sa.String()))";

#[test]
fn syntax_error_is_reported_and_other_files_still_linted() {
    let dir = tempfile::tempdir().unwrap();
    let broken = alembic_revision(2, "    op.create_table(\"x\",\n    def oops(:");
    write_tree(
        dir.path(),
        &[
            (
                "migrations/versions/001_a.py",
                alembic_revision(1, BATCH_LINE).as_bytes(),
            ),
            ("migrations/versions/002_b.py", broken.as_bytes()),
        ],
    );
    let (code, json) = json_lint(dir.path());
    assert_eq!(code, 1);
    let found = rules_of(&json);
    assert!(
        found
            .iter()
            .any(|(r, p, _)| r == "parse-error" && p.ends_with("002_b.py")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|(r, p, _)| r == "batch-mode" && p.ends_with("001_a.py")),
        "{found:?}"
    );
    // The chain still knows 002 (its header parsed), so no missing-parent noise.
    assert!(
        !found.iter().any(|(r, _, _)| r == "revision-chain"),
        "{found:?}"
    );
}

#[test]
fn empty_files_are_linted_without_panic() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "migrations/0001_a.py",
                b"from yoyo import step\nsteps = [step(\"SELECT 1\", \"SELECT 1\")]\n",
            ),
            ("migrations/0002_empty.py", b""),
            ("migrations/0003_empty.sql", b""),
        ],
    );
    let (code, json) = json_lint(dir.path());
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["summary"]["files"], 3);

    // An empty Alembic revision cannot be loaded by Alembic either.
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "migrations/versions/001_a.py",
                alembic_revision(1, "    pass").as_bytes(),
            ),
            ("migrations/versions/002_empty.py", b""),
        ],
    );
    let (_, json) = json_lint(dir.path());
    let found = rules_of(&json);
    assert!(
        found
            .iter()
            .any(|(r, p, _)| r == "revision-chain" && p.ends_with("002_empty.py")),
        "{found:?}"
    );
}

#[test]
fn invalid_utf8_is_a_parse_error_at_the_byte_and_the_rest_is_linted() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = alembic_revision(1, BATCH_LINE).into_bytes();
    let at = bytes.iter().position(|&b| b == b'R').unwrap();
    bytes.splice(at..at, [0xFF, 0xFE, b' ']);
    write_tree(dir.path(), &[("migrations/versions/001_a.py", &bytes)]);
    let (code, json) = json_lint(dir.path());
    assert_eq!(code, 1);
    let found = rules_of(&json);
    assert!(
        found.iter().any(|(r, _, l)| r == "parse-error" && *l == 1),
        "{found:?}"
    );
    assert!(found.iter().any(|(r, _, _)| r == "batch-mode"), "{found:?}");
}

#[test]
fn utf16_is_reported_not_guessed() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = vec![0xFF, 0xFE];
    for c in "-- depends:\nCREATE TABLE a (x);\n".encode_utf16() {
        bytes.extend(c.to_le_bytes());
    }
    write_tree(
        dir.path(),
        &[
            ("migrations/0001_a.sql", b"SELECT 1;\n"),
            ("migrations/0001_a.rollback.sql", b"SELECT 1;\n"),
            ("migrations/0002_b.sql", &bytes),
        ],
    );
    let (_, json) = json_lint(dir.path());
    assert!(json.to_string().contains("UTF-16"), "{json}");
}

#[test]
fn crlf_line_endings_keep_lines_and_columns_right() {
    let dir = tempfile::tempdir().unwrap();
    let text = alembic_revision(1, BATCH_LINE).replace('\n', "\r\n");
    write_tree(
        dir.path(),
        &[("migrations/versions/001_a.py", text.as_bytes())],
    );
    let (_, json) = json_lint(dir.path());
    let d = &json["diagnostics"][0];
    assert_eq!(d["rule"], "batch-mode");
    assert_eq!(d["line"], 16);
    assert_eq!(d["column"], 5);
    // A yoyo SQL step with CRLF inside a Python string points at the statement.
    let dir = tempfile::tempdir().unwrap();
    let text = "from yoyo import step\r\n\r\nsteps = [\r\n    step(\r\n        \"\"\"\r\n        SELECT 1;\r\n        CREATE INDEX idx_a ON a(b)\r\n        \"\"\",\r\n        \"DROP INDEX IF EXISTS idx_a\",\r\n    ),\r\n]\r\n";
    write_tree(dir.path(), &[("migrations/0001_a.py", text.as_bytes())]);
    let (_, json) = json_lint(dir.path());
    let d = &json["diagnostics"][0];
    assert_eq!(d["rule"], "if-exists-guard");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(7), Some(9))
    );
}

#[test]
fn byte_order_mark_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(alembic_revision(1, BATCH_LINE).bytes());
    write_tree(dir.path(), &[("migrations/versions/001_a.py", &bytes)]);
    let (_, json) = json_lint(dir.path());
    let found = rules_of(&json);
    assert_eq!(
        found,
        vec![(
            "batch-mode".to_string(),
            "migrations/versions/001_a.py".to_string(),
            16
        )]
    );
}

#[test]
fn five_megabyte_files_are_linted() {
    let dir = tempfile::tempdir().unwrap();
    let mut sql = String::from("-- a large data migration\n");
    let mut i = 0;
    while sql.len() < 5 * 1024 * 1024 {
        sql.push_str(&format!(
            "INSERT INTO events (id, kind, payload) VALUES ({i}, 'seed', 'lorem ipsum dolor sit amet consectetur');\n"
        ));
        i += 1;
    }
    sql.push_str("CREATE INDEX idx_events_kind ON events(kind);\n");
    let mut py = alembic_revision(1, BATCH_LINE);
    while py.len() < 5 * 1024 * 1024 {
        py.push_str("\n# padding comment line for a very large revision file ................\n");
    }
    write_tree(
        dir.path(),
        &[
            ("yoyo/0001_seed.sql", sql.as_bytes()),
            ("yoyo/0001_seed.rollback.sql", b"DELETE FROM events;\n"),
            ("alembic/versions/001_big.py", py.as_bytes()),
        ],
    );
    let (code, json) = json_lint(dir.path());
    assert_eq!(code, 1);
    let found = rules_of(&json);
    assert!(
        found.iter().any(|(r, _, _)| r == "if-exists-guard"),
        "{found:?}"
    );
    assert!(found.iter().any(|(r, _, _)| r == "batch-mode"), "{found:?}");
}

#[test]
fn a_crash_in_one_file_is_an_internal_error_and_the_rest_is_linted() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "migrations/versions/001_a.py",
                alembic_revision(1, BATCH_LINE).as_bytes(),
            ),
            (
                "migrations/versions/002_b.py",
                alembic_revision(2, "    pass").as_bytes(),
            ),
        ],
    );
    let out = miglint()
        .current_dir(dir.path())
        .env("MIGLINT_DEBUG_PANIC", "002_b.py")
        .args(["lint", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found = rules_of(&json);
    assert!(
        found
            .iter()
            .any(|(r, p, _)| r == "internal-error" && p.ends_with("002_b.py")),
        "{found:?}"
    );
    assert!(found.iter().any(|(r, _, _)| r == "batch-mode"), "{found:?}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn output_is_byte_identical_whatever_the_thread_count() {
    let run = |threads: Option<&str>, format: &str| {
        let mut cmd = miglint();
        if let Some(t) = threads {
            cmd.env("RAYON_NUM_THREADS", t);
        }
        cmd.args(["lint", "examples", "--format", format])
            .output()
            .unwrap()
            .stdout
    };
    for format in ["text", "json", "sarif"] {
        let one = run(Some("1"), format);
        assert!(!one.is_empty());
        assert_eq!(one, run(None, format), "{format}: 1 thread vs default");
        assert_eq!(one, run(Some("4"), format), "{format}: 1 thread vs 4");
    }
}

#[test]
fn binary_nul_and_latin1_files_get_one_clear_finding_each() {
    let dir = tempfile::tempdir().unwrap();
    let mut binary: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    binary[0] = b'S';
    write_tree(
        dir.path(),
        &[
            (
                "migrations/0001_ok.py",
                b"from yoyo import step\nsteps = [step(\"SELECT 1\", \"SELECT 1\")]\n",
            ),
            ("migrations/0002_blob.sql", &binary),
            ("migrations/0002_blob.rollback.sql", b"SELECT 1;\n"),
            (
                "migrations/0003_nul.py",
                b"from yoyo import step\x00\nsteps = []\n",
            ),
            ("migrations/0004_latin1.sql", b"-- caf\xe9\nSELECT 1;\n"),
            ("migrations/0004_latin1.rollback.sql", b"SELECT 1;\n"),
        ],
    );
    let (code, json) = json_lint(dir.path());
    assert_eq!(code, 1);
    let found = rules_of(&json);
    let per_file = |name: &str| found.iter().filter(|(_, p, _)| p.ends_with(name)).count();
    assert_eq!(per_file("0002_blob.sql"), 1, "{found:?}");
    assert_eq!(per_file("0003_nul.py"), 1, "{found:?}");
    assert_eq!(per_file("0004_latin1.sql"), 1, "{found:?}");
    assert!(json.to_string().contains("looks binary"));
    assert!(json.to_string().contains("not valid UTF-8 (byte 0xE9"));
}

#[cfg(unix)]
#[test]
fn symlink_loops_and_empty_projects_end_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &[("app/main.py", b"print('hi')\n")]);
    std::os::unix::fs::symlink("..", dir.path().join("app/up")).unwrap();
    std::os::unix::fs::symlink("self", dir.path().join("app/self")).unwrap();
    miglint()
        .current_dir(dir.path())
        .args(["lint"])
        .timeout(std::time::Duration::from_secs(20))
        .assert()
        .code(0)
        .stdout(predicates::str::contains("No migrations found"));
}

#[test]
fn configuration_values_of_the_wrong_type_exit_two_with_file_and_line() {
    let cases: &[(&str, &str)] = &[
        ("dialect = 3\n", "miglint.toml:1"),
        ("migrations = \"db\"\n", "miglint.toml:1"),
        ("exclude = [1]\n", "miglint.toml:1"),
        ("sqlite-version = 3.35\n", "miglint.toml:1"),
        ("[rules.batch-mode]\nseverity = 1\n", "miglint.toml:1"),
        ("[rules]\nbatch-mode = 1\n", "miglint.toml:2"),
        ("rules = 1\n", "miglint.toml:1"),
        (
            "[rules.timestamp-columns]\ncolumns = \"created_at\"\n",
            "miglint.toml:1",
        ),
        (
            "[rules.sequential-numbering]\nwidth = -1\n",
            "miglint.toml:1",
        ),
        (
            "[rules.index-naming]\nalembic = \"plain\"\n",
            "miglint.toml:1",
        ),
        (
            "[rules.filtered-column-index]\ncolumns = [\"nodot\"]\n",
            "miglint.toml:1",
        ),
        ("\u{0}", "miglint.toml"),
    ];
    for (toml, want) in cases {
        let dir = tempfile::tempdir().unwrap();
        write_tree(dir.path(), &[("miglint.toml", toml.as_bytes())]);
        let out = miglint()
            .current_dir(dir.path())
            .args(["lint"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{toml:?}: {stderr}");
        assert!(stderr.contains(want), "{toml:?}: {stderr}");
        assert_eq!(
            stderr.trim().lines().count(),
            1,
            "{toml:?}: one line, got {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{toml:?}: {stderr}");
    }
}

/// A yoyo migration whose module also holds `data` (seed rows and the like).
fn yoyo_with(data: &str) -> String {
    format!(
        "\"\"\"\nSeed\n\"\"\"\nfrom yoyo import step\n\n{data}\n\nsteps = [\n    step(\n        \"CREATE TABLE IF NOT EXISTS seed (id TEXT PRIMARY KEY, created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)\",\n        \"DROP TABLE IF EXISTS seed\",\n    ),\n]\n"
    )
}

#[test]
fn nesting_100000_deep_is_refused_or_read_never_a_stack_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let n = 100_000;
    let parens = format!("X = {}1{}", "(".repeat(n), ")".repeat(n));
    let lists = format!("X = {}{}", "[".repeat(n), "]".repeat(n));
    let chain = format!("X = 1{}\nY = {}x", "+1".repeat(n), "not ".repeat(n));
    write_tree(
        dir.path(),
        &[
            ("migrations/0001_parens.py", yoyo_with(&parens).as_bytes()),
            ("migrations/0002_lists.py", yoyo_with(&lists).as_bytes()),
            ("migrations/0003_chain.py", yoyo_with(&chain).as_bytes()),
            (
                "migrations/0004_sql.sql",
                format!("SELECT {}1{};\n", "(".repeat(n), ")".repeat(n)).as_bytes(),
            ),
            ("migrations/0004_sql.rollback.sql", b"SELECT 1;\n"),
            ("app/queries.py", parens.as_bytes()),
        ],
    );
    let (code, json) = json_lint(dir.path());
    assert_eq!(code, 1);
    let found = rules_of(&json);
    // Too deep for Python itself: a parse error at the 201st bracket.
    for f in ["0001_parens.py", "0002_lists.py"] {
        assert!(
            found
                .iter()
                .any(|(r, p, l)| r == "parse-error" && p.ends_with(f) && *l == 6),
            "{f}: {found:?}"
        );
    }
    // A long chain is valid Python: read, and nothing to report about it.
    assert!(
        !found.iter().any(|(_, p, _)| p.ends_with("0003_chain.py")),
        "{found:?}"
    );
    assert_eq!(json["summary"]["files"], 4);
}

#[test]
fn fifty_megabyte_files_are_linted() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = String::from("ROWS = [\n");
    let mut i = 0;
    while rows.len() < 50 * 1024 * 1024 {
        rows.push_str(&format!(
            "    (\"{i:08}\", \"user{i}@example.com\", {i}),\n"
        ));
        i += 1;
    }
    rows.push_str("]\n");
    let big = yoyo_with(&rows).replace("CREATE TABLE IF NOT EXISTS", "CREATE TABLE");
    write_tree(dir.path(), &[("migrations/0001_seed.py", big.as_bytes())]);
    let (code, json) = json_lint(dir.path());
    assert_eq!(code, 1);
    let found = rules_of(&json);
    let last_line = big.lines().count() as u64;
    assert!(
        found
            .iter()
            .any(|(r, _, l)| r == "if-exists-guard" && *l > last_line - 10),
        "{found:?}"
    );
}

#[test]
fn a_folder_of_100000_files_is_linted_whole() {
    let dir = tempfile::tempdir().unwrap();
    // 50,000 yoyo migrations, each a .sql and a .rollback.sql.
    let spec = miglint_corpus::CorpusSpec {
        flavour: miglint_corpus::CorpusFlavour::YoyoSql,
        count: 50_000,
        violations: 0.0,
        seed: 7,
    };
    miglint_corpus::generate(&spec, dir.path()).unwrap();
    let files = std::fs::read_dir(dir.path().join("migrations"))
        .unwrap()
        .count();
    assert_eq!(files, 100_000);
    let out = miglint()
        .current_dir(dir.path())
        .args(["lint", "--format", "json", "--ignore", "sqlite-exec"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["summary"]["files"], 50_000);
    assert_eq!(json["summary"]["skipped"], 0);
    assert_eq!(out.status.code(), Some(0), "{}", json["diagnostics"][0]);
}

#[test]
fn a_file_deleted_while_linting_is_reported_as_skipped() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "migrations/versions/001_a.py",
                alembic_revision(1, "    pass").as_bytes(),
            ),
            (
                "migrations/versions/002_b.py",
                alembic_revision(2, BATCH_LINE).as_bytes(),
            ),
            (
                "migrations/versions/003_c.py",
                alembic_revision(3, "    pass").as_bytes(),
            ),
        ],
    );
    let out = miglint()
        .current_dir(dir.path())
        .env("MIGLINT_DEBUG_DELETE", "003_c.py")
        .arg("lint")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("error[batch-mode]"), "{text}");
    assert!(
        text.contains("note: skipped migrations/versions/003_c.py: deleted while miglint was reading the folder"),
        "{text}"
    );
    assert!(
        text.contains("in 2 migration files, 1 file skipped."),
        "{text}"
    );
}

#[test]
fn killing_a_fix_mid_write_leaves_the_old_file_or_the_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = String::from("ROWS = [\n");
    let mut i = 0;
    while rows.len() < 10 * 1024 * 1024 {
        rows.push_str(&format!("    (\"{i:08}\", {i}),\n"));
        i += 1;
    }
    rows.push_str("]\n");
    let original = yoyo_with(&rows).replace("CREATE TABLE IF NOT EXISTS", "CREATE TABLE");
    let fixed = yoyo_with(&rows);
    let path = dir.path().join("migrations/0001_seed.py");
    let bin = assert_cmd::cargo::cargo_bin("miglint");
    let run = |kill_after: Option<std::time::Duration>| -> std::time::Duration {
        write_tree(
            dir.path(),
            &[("migrations/0001_seed.py", original.as_bytes())],
        );
        let start = std::time::Instant::now();
        let mut child = std::process::Command::new(&bin)
            .current_dir(dir.path())
            .args(["lint", "--fix"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        if let Some(d) = kill_after {
            std::thread::sleep(d);
            let _ = child.kill();
        }
        let _ = child.wait();
        start.elapsed()
    };
    // How long a whole run takes here, then kills spread over its second
    // half, where the file is written.
    let whole = run(None);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), fixed);
    let mut outcomes = std::collections::BTreeSet::new();
    for k in 8..=20 {
        let delay = whole * k / 16;
        run(Some(delay));
        let now = std::fs::read_to_string(&path).unwrap();
        assert!(
            now == original || now == fixed,
            "after a kill at {delay:?} the file is neither the old nor the new one ({} bytes)",
            now.len()
        );
        outcomes.insert(now == fixed);
    }
    // A left-over temporary file is never taken for a migration.
    let (_, json) = json_lint(dir.path());
    assert_eq!(json["summary"]["files"], 1);
    assert_eq!(json["summary"]["skipped"], 0);
    eprintln!("kill outcomes seen (fixed?): {outcomes:?}");
}

#[cfg(unix)]
#[test]
fn named_pipes_and_dangling_links_are_skipped_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[(
            "migrations/versions/001_a.py",
            alembic_revision(1, BATCH_LINE).as_bytes(),
        )],
    );
    let versions = dir.path().join("migrations/versions");
    let fifo = versions.join("002_pipe.py");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    std::os::unix::fs::symlink(dir.path().join("nowhere.py"), versions.join("003_link.py"))
        .unwrap();
    // A pipe would block a reader forever: the run must end by itself.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("miglint"))
        .current_dir(dir.path())
        .args(["lint", "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            panic!("miglint waited on a named pipe");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json["summary"]["files"], 1);
    assert_eq!(json["summary"]["skipped"], 2);
    assert!(rules_of(&json).iter().any(|(r, _, _)| r == "batch-mode"));
}

/// Odd SQL-folder input: a diesel folder with only `down.sql`, a sqlx down
/// file without its up file, a dbmate file without markers, bytes that are
/// not UTF-8 in a diesel `up.sql`, an empty refinery file. Each is named (a
/// note or a finding at its place), nothing panics, and the good migration
/// beside them is still linted.
#[test]
fn odd_sql_folder_files_are_named_and_the_rest_is_linted() {
    let dir = tempfile::tempdir().unwrap();
    let good = "CREATE TABLE notes (id INTEGER PRIMARY KEY);\n";
    write_tree(
        dir.path(),
        &[
            ("diesel/migrations/2024-01-01-000000_notes/up.sql", good.as_bytes()),
            (
                "diesel/migrations/2024-01-01-000000_notes/down.sql",
                b"DROP TABLE IF EXISTS notes;\n",
            ),
            (
                "diesel/migrations/2024-01-02-000000_orphan/down.sql",
                b"DROP TABLE IF EXISTS tags;\n",
            ),
            (
                "diesel/migrations/2024-01-03-000000_bytes/up.sql",
                b"ALTER TABLE notes ADD COLUMN t TEXT DEFAULT '\xff';\n",
            ),
            ("sqlx/Cargo.toml", b"[package]\nname = \"app\"\n"),
            ("sqlx/migrations/1_notes.sql", good.as_bytes()),
            ("sqlx/migrations/2_gone.down.sql", b"DROP TABLE gone;\n"),
            (
                "dbmate/db/migrations/20240101000000_notes.sql",
                b"-- migrate:up\nCREATE TABLE notes (id INTEGER PRIMARY KEY);\n-- migrate:down\nDROP TABLE notes;\n",
            ),
            ("dbmate/db/migrations/20240102000000_plain.sql", b"CREATE TABLE x (a);\n"),
            ("refinery/migrations/V1__notes.sql", good.as_bytes()),
            ("refinery/migrations/V2__empty.sql", b""),
        ],
    );
    let out = miglint()
        .current_dir(dir.path())
        .args(["lint", "--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = rules_of(&json);
    let has = |rule: &str, path: &str| rules.iter().any(|(r, p, _)| r == rule && p.ends_with(path));
    // Not UTF-8: parse-error at the byte; the migration before it still linted.
    assert!(
        has("parse-error", "2024-01-03-000000_bytes/up.sql"),
        "{rules:?}"
    );
    assert!(
        has("timestamp-columns", "2024-01-01-000000_notes/up.sql"),
        "{rules:?}"
    );
    // A dbmate file without `-- migrate:up`: dbmate runs nothing from it.
    assert!(has("parse-error", "20240102000000_plain.sql"), "{rules:?}");
    assert!(
        has("timestamp-columns", "refinery/migrations/V1__notes.sql"),
        "{rules:?}"
    );
    assert!(
        has("timestamp-columns", "sqlx/migrations/1_notes.sql"),
        "{rules:?}"
    );
    // Down files without their up file are named, not dropped in silence.
    let text = miglint()
        .current_dir(dir.path())
        .args(["lint"])
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    for orphan in ["2024-01-02-000000_orphan/down.sql", "2_gone.down.sql"] {
        assert!(
            text.lines().any(|l| l.starts_with("note: skipped")
                && l.contains(orphan)
                && l.contains("a down file without its up file")),
            "{orphan} not named:\n{text}"
        );
    }
}
