//! miglint from PyPI: the wheel maturin builds from pyproject.toml,
//! installed with pip into a fresh virtual environment, with `uv tool
//! install` and `uvx`, and through the `miglint-python` pre-commit hook.
//! The Python tools come from requirements-dev.txt (scripts/test.sh).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn run(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn python() -> String {
    std::env::var("MIGLINT_ORACLE_PYTHON").unwrap_or_else(|_| {
        panic!("MIGLINT_ORACLE_PYTHON is not set: run the tests with scripts/test.sh, which installs maturin, uv and pre-commit into .venv")
    })
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A folder holding the miglint wheel (built once for every test here).
fn wheelhouse() -> &'static Path {
    static WHEELS: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &WHEELS
        .get_or_init(|| {
            let work = tempfile::tempdir().unwrap();
            let wheels = work.path().join("wheels");
            let (code, out) = run(common::unoptimised_packaging_build(
                Command::new(python())
                    .current_dir(root())
                    .args(["-m", "maturin", "build", "--release", "--locked", "--out"])
                    .arg(&wheels),
            ));
            assert_eq!(code, 0, "maturin build failed: {out}");
            (work, wheels)
        })
        .1
}

/// The `.venv/bin` folder of the Python running the tests.
fn venv_bin() -> PathBuf {
    Path::new(&python()).parent().unwrap().to_path_buf()
}

/// `miglint` as users meet it: the version, a broken and a clean project.
fn behaves(miglint: &Path) {
    let (code, out) = run(Command::new(miglint).arg("--version"));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(env!("CARGO_PKG_VERSION")), "{out}");
    let (code, out) = run(Command::new(miglint)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_BASE_REF")
        .args(["lint", "examples/broken"]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error[batch-mode]"), "{out}");
    let (code, out) = run(Command::new(miglint)
        .current_dir(root())
        .args(["lint", "examples/alembic-sqlite"]));
    assert_eq!(code, 0, "{out}");
}

#[test]
fn pip_install_gives_a_working_miglint() {
    let work = tempfile::tempdir().unwrap();
    let venv = work.path().join("venv");
    let (code, out) = run(Command::new(python()).args(["-m", "venv"]).arg(&venv));
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(Command::new(venv.join("bin/python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-index",
            "--disable-pip-version-check",
            "--find-links",
        ])
        .arg(wheelhouse())
        .arg("miglint"));
    assert_eq!(code, 0, "pip install failed: {out}");
    behaves(&venv.join("bin/miglint"));
}

#[test]
fn uv_tool_install_and_uvx_give_a_working_miglint() {
    let work = tempfile::tempdir().unwrap();
    let uv = venv_bin().join("uv");
    let env = |cmd: &mut Command| {
        cmd.env("UV_TOOL_DIR", work.path().join("tools"))
            .env("UV_TOOL_BIN_DIR", work.path().join("bin"))
            .env("UV_CACHE_DIR", work.path().join("cache"))
            .env("UV_PYTHON", python())
            .env("UV_NO_INDEX", "1")
            .env("UV_FIND_LINKS", wheelhouse())
            .env_remove("VIRTUAL_ENV");
    };
    let mut install = Command::new(&uv);
    install.args(["tool", "install", "miglint"]);
    env(&mut install);
    let (code, out) = run(&mut install);
    assert_eq!(code, 0, "uv tool install failed: {out}");
    behaves(&work.path().join("bin/miglint"));

    // `uvx miglint lint ...`, without installing.
    let mut uvx = Command::new(venv_bin().join("uvx"));
    uvx.current_dir(root())
        .env("NO_COLOR", "1")
        .args(["miglint", "lint", "examples/broken"]);
    env(&mut uvx);
    let (code, out) = run(&mut uvx);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error[batch-mode]"), "{out}");
}

/// The pinned version of a package in requirements-dev.txt.
fn pinned(package: &str) -> String {
    let text = std::fs::read_to_string(root().join("requirements-dev.txt")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{package}==")))
        .unwrap_or_else(|| panic!("{package} is not pinned in requirements-dev.txt"))
        .trim()
        .to_string()
}

#[test]
fn the_hook_repository_pins_this_version() {
    let text = std::fs::read_to_string(root().join("pre-commit-python/pyproject.toml")).unwrap();
    let version = env!("CARGO_PKG_VERSION");
    assert!(text.contains(&format!("version = \"{version}\"")), "{text}");
    assert!(text.contains(&format!("\"miglint=={version}\"")), "{text}");
}

#[test]
fn the_python_pre_commit_hook_refuses_a_broken_migration() {
    let work = tempfile::tempdir().unwrap();
    // The hook repository, as it is published.
    let hooks = work.path().join("miglint-pre-commit");
    for name in [".pre-commit-hooks.yaml", "pyproject.toml", "README.md"] {
        std::fs::create_dir_all(&hooks).unwrap();
        std::fs::copy(
            root().join("pre-commit-python").join(name),
            hooks.join(name),
        )
        .unwrap();
    }
    common::git(&hooks, &["init", "-q", "-b", "main"]);
    common::git(&hooks, &["add", "-A"]);
    common::git(&hooks, &["commit", "-q", "-m", "hooks"]);
    // Offline: the miglint wheel and the hook's build backend from a folder.
    let links = work.path().join("links");
    std::fs::create_dir_all(&links).unwrap();
    for wheel in std::fs::read_dir(wheelhouse()).unwrap() {
        let wheel = wheel.unwrap().path();
        std::fs::copy(&wheel, links.join(wheel.file_name().unwrap())).unwrap();
    }
    let (code, out) = run(Command::new(python())
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--dest",
        ])
        .arg(&links)
        .arg(format!("setuptools=={}", pinned("setuptools"))));
    assert_eq!(code, 0, "pip download setuptools: {out}");

    let project = work.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    common::git(&project, &["init", "-q", "-b", "main"]);
    let broken = common::alembic_revision(
        1,
        "    op.add_column(\"users\", sa.Column(\"email\", sa.String(), nullable=True))",
    );
    common::write_tree(
        &project,
        &[("migrations/versions/001_users.py", broken.as_bytes())],
    );
    common::git(&project, &["add", "-A"]);
    let (code, out) = run(Command::new(python())
        .current_dir(&project)
        .env("PRE_COMMIT_HOME", work.path().join("pre-commit-home"))
        .env("PIP_NO_INDEX", "1")
        .env("PIP_FIND_LINKS", &links)
        .env("NO_COLOR", "1")
        .args(["-m", "pre_commit", "try-repo"])
        .arg(&hooks)
        .arg("miglint-python"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error[batch-mode]"), "{out}");
    assert!(out.contains("migrations/versions/001_users.py"), "{out}");
}

/// The crate as crates.io gets it: `cargo package` makes it, and `cargo
/// install` from the unpacked package gives a working miglint.
#[test]
fn the_packaged_crate_installs_with_cargo_install() {
    let work = tempfile::tempdir().unwrap();
    let (code, out) = run(common::unoptimised_packaging_build(
        Command::new(env!("CARGO")).current_dir(root()).args([
            "package",
            "--locked",
            "--allow-dirty",
            "--no-verify",
        ]),
    ));
    assert_eq!(code, 0, "cargo package failed: {out}");
    let name = format!("miglint-{}", env!("CARGO_PKG_VERSION"));
    let crate_file = root().join(format!("target/packaging/package/{name}.crate"));
    let (code, out) = run(Command::new("tar")
        .arg("-xzf")
        .arg(&crate_file)
        .arg("-C")
        .arg(work.path()));
    assert_eq!(code, 0, "{out}");
    // Tests and fixtures stay out of the published crate.
    assert!(work.path().join(&name).join("src/main.rs").is_file());
    assert!(
        work.path()
            .join(&name)
            .join("rules/batch-mode.md")
            .is_file()
    );
    assert!(!work.path().join(&name).join("tests").exists());
    let (code, out) = run(common::unoptimised_packaging_build(
        Command::new(env!("CARGO"))
            .args(["install", "--locked", "--quiet", "--path"])
            .arg(work.path().join(&name))
            .arg("--root")
            .arg(work.path().join("root")),
    ));
    assert_eq!(code, 0, "cargo install failed: {out}");
    behaves(&work.path().join("root/bin/miglint"));
}

/// The sdist PyPI gets beside the wheels builds and installs from source.
#[test]
fn the_sdist_builds_and_installs() {
    let work = tempfile::tempdir().unwrap();
    let (code, out) = run(Command::new(python())
        .current_dir(root())
        .args(["-m", "maturin", "sdist", "--out"])
        .arg(work.path()));
    assert_eq!(code, 0, "maturin sdist failed: {out}");
    let sdist = std::fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".tar.gz"))
        .expect("an sdist");
    let site = work.path().join("site");
    let mut pip = Command::new(python());
    pip.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-build-isolation",
        "--no-deps",
        "--target",
    ])
    .arg(&site)
    .arg(&sdist)
    // maturin's build backend runs the `maturin` beside that Python.
    .env(
        "PATH",
        format!(
            "{}:{}",
            venv_bin().display(),
            std::env::var("PATH").unwrap_or_default()
        ),
    );
    let (code, out) = run(common::unoptimised_packaging_build(&mut pip));
    assert_eq!(code, 0, "pip install of the sdist failed: {out}");
    behaves(&site.join("bin/miglint"));
}
