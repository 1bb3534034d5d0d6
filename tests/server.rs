//! `miglint server` end to end: a real LSP client (pytest-lsp, pinned in
//! requirements-dev.txt and installed into .venv by scripts/test.sh)
//! starts the binary over stdio and opens, edits, fixes and closes
//! migrations, with the capabilities VS Code and Neovim announce
//! (tests/server/test_server.py says what each test proves).

use std::path::Path;

#[test]
fn language_server_end_to_end() {
    let python = std::env::var("MIGLINT_ORACLE_PYTHON").unwrap_or_else(|_| {
        panic!("MIGLINT_ORACLE_PYTHON is not set: run the tests with scripts/test.sh, which installs pytest-lsp into .venv")
    });
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(python)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .args(["-o", "asyncio_default_fixture_loop_scope=function"])
        .arg(root.join("tests/server"))
        .env("MIGLINT_BIN", env!("CARGO_BIN_EXE_miglint"))
        .current_dir(root)
        .output()
        .expect("run pytest");
    let report =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "pytest failed:\n{report}");
    // Every test ran, none was skipped or deselected.
    assert!(
        report.contains(" passed") && !report.contains("skipped"),
        "{report}"
    );
}
