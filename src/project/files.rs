//! Where the application lives: the project a migrations folder belongs
//! to, and the application and model files miglint reads there.

use std::path::{Path, PathBuf};

/// Folders never searched for migrations or application code.
pub const SKIP_DIRS: &[&str] = &[
    "node_modules",
    "__pycache__",
    "site-packages",
    ".venv",
    "venv",
    ".tox",
    ".git",
    "target",
];

/// Files that mark the top of a project.
const PROJECT_MARKERS: &[&str] = &[
    "alembic.ini",
    "pyproject.toml",
    "setup.py",
    "miglint.toml",
    ".miglint.toml",
    "requirements.txt",
    ".git",
];

/// The project a migrations folder belongs to: the nearest folder above it
/// with a project marker, not above `boundary`.
pub fn project_root(migrations: &Path, boundary: &Path) -> PathBuf {
    let here = Path::new(".");
    let mut dir = Some(migrations);
    while let Some(d) = dir {
        // `migrations`.parent() is "": the current folder.
        let d = if d.as_os_str().is_empty() { here } else { d };
        if PROJECT_MARKERS.iter().any(|m| d.join(m).exists()) {
            return d.to_path_buf();
        }
        if d == boundary || d == here {
            break;
        }
        dir = d.parent();
    }
    boundary.to_path_buf()
}

/// Application files below `root`: `.py` and `.sql` outside `exclude`
/// (the migration folders), respecting `.gitignore`.
pub fn application_files(root: &Path, exclude: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let exclude: Vec<PathBuf> = exclude.iter().map(|p| clean(p)).collect();
    let walker = ignore::WalkBuilder::new(root)
        .require_git(false)
        .filter_entry(move |e| {
            let is_dir = e.file_type().is_some_and(|t| t.is_dir());
            !(is_dir
                && (SKIP_DIRS.contains(&e.file_name().to_string_lossy().as_ref())
                    || exclude.contains(&clean(e.path()))))
        })
        .build();
    for entry in walker.flatten() {
        let name = entry.file_name().to_string_lossy();
        if entry.file_type().is_some_and(|t| t.is_file())
            && (name.ends_with(".py") || name.ends_with(".sql"))
        {
            out.push(clean(entry.path()));
        }
    }
    out.sort();
    out
}

fn clean(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| *c != std::path::Component::CurDir)
        .collect()
}

/// Model files below `root`: `models.py` anywhere, and `.py` files in a
/// `models/` folder, outside `exclude`.
pub fn model_files(root: &Path, exclude: &[PathBuf]) -> Vec<PathBuf> {
    application_files(root, exclude)
        .into_iter()
        .filter(|p| is_model_file(p))
        .collect()
}

/// `models.py`, or a `.py` file in a `models/` folder.
pub fn is_model_file(p: &Path) -> bool {
    let name = p.file_name().map(|n| n.to_string_lossy());
    let parent = p
        .parent()
        .and_then(|d| d.file_name())
        .map(|n| n.to_string_lossy());
    name.as_deref() == Some("models.py")
        || (parent.as_deref() == Some("models") && p.extension().is_some_and(|e| e == "py"))
}
