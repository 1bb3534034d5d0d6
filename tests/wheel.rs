//! `pip install miglint`: the wheel maturin builds from pyproject.toml,
//! installed into a fresh virtual environment, runs and lints.

use std::path::Path;
use std::process::Command;

fn run(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn the_wheel_installs_and_lints() {
    let python = std::env::var("MIGLINT_ORACLE_PYTHON").unwrap_or_else(|_| {
        panic!("MIGLINT_ORACLE_PYTHON is not set: run the tests with scripts/test.sh, which installs maturin into .venv")
    });
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = tempfile::tempdir().unwrap();
    let wheels = work.path().join("wheels");
    let (code, out) = run(Command::new(&python)
        .current_dir(root)
        .args(["-m", "maturin", "build", "--release", "--locked", "--out"])
        .arg(&wheels));
    assert_eq!(code, 0, "maturin build failed: {out}");
    let wheel = std::fs::read_dir(&wheels)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .expect("a wheel");

    let venv = work.path().join("venv");
    let (code, out) = run(Command::new(&python).args(["-m", "venv"]).arg(&venv));
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(Command::new(venv.join("bin/python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-index",
            "--disable-pip-version-check",
        ])
        .arg(&wheel));
    assert_eq!(code, 0, "pip install failed: {out}");

    let miglint = venv.join("bin/miglint");
    let (code, out) = run(Command::new(&miglint).arg("--version"));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(env!("CARGO_PKG_VERSION")), "{out}");
    let (code, out) = run(Command::new(&miglint)
        .current_dir(root)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_BASE_REF")
        .args(["lint", "examples/broken"]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error[batch-mode]"), "{out}");
    let (code, out) = run(Command::new(&miglint)
        .current_dir(root)
        .args(["lint", "examples/alembic-sqlite"]));
    assert_eq!(code, 0, "{out}");
}
