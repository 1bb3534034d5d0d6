//! Which folders hold migrations, of which flavour, and which files in them
//! are migrations. Files are read here, once.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use rayon::prelude::*;
use regex::bytes::Regex;

use crate::migration::Flavour;
use crate::migration::SetFlavour;
use crate::project::config::{ConfigError, Settings};

/// A migrations folder and the files to load from it.
#[derive(Debug)]
pub struct SetInput {
    pub dir: PathBuf,
    pub flavour: SetFlavour,
    pub files: Vec<FileInput>,
    /// With `--base`: this folder's files at the merge base and at the tip.
    pub base: Option<BaseFiles>,
}

/// A folder's `.py` / `.sql` files (name, content) as `--base` sees them.
#[derive(Debug, Default)]
pub struct BaseFiles {
    /// At the merge base of HEAD and the base branch: what is merged.
    pub merge_base: Vec<(String, Vec<u8>)>,
    /// At the base branch's tip: what it holds now.
    pub tip: Vec<(String, Vec<u8>)>,
}

#[derive(Debug)]
pub struct FileInput {
    pub path: PathBuf,
    pub flavour: Flavour,
    pub bytes: Vec<u8>,
    /// A yoyo `.sql` migration's `.rollback.sql` companion.
    pub rollback: Option<(PathBuf, Vec<u8>)>,
}

/// A file that was named or found but not linted, and why.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Discovery {
    pub sets: Vec<SetInput>,
    /// When files were named on the command line: only their findings are shown.
    pub only: Option<BTreeSet<PathBuf>>,
    pub skipped: Vec<Skipped>,
    /// The folders named on the command line (the current folder when
    /// files were named): a project is never looked for above them.
    pub roots: Vec<PathBuf>,
    /// With `--base`: what the user named it, for messages.
    pub base_label: Option<String>,
    /// `--changed-only`: show only findings in files changed since the base.
    pub changed_only: bool,
}

impl Discovery {
    /// `--staged`: every file as staged for the next commit; files that are
    /// not staged are not part of it and are skipped.
    pub fn use_staged(&mut self, repo: &crate::project::git::Repo) {
        for set in &mut self.sets {
            let mut kept = Vec::new();
            for mut f in std::mem::take(&mut set.files) {
                match repo.staged(&f.path) {
                    Some(bytes) => {
                        f.bytes = bytes;
                        f.rollback = f
                            .rollback
                            .take()
                            .and_then(|(p, _)| repo.staged(&p).map(|b| (p, b)));
                        kept.push(f);
                    }
                    None => self.skipped.push(Skipped {
                        path: f.path.clone(),
                        reason: "not staged for commit".into(),
                    }),
                }
            }
            set.files = kept;
        }
    }

    /// Reads these files' contents as given instead of from disk (a fix
    /// checked before it is written).
    pub fn replace_contents(&mut self, texts: &[(PathBuf, String)]) {
        for set in &mut self.sets {
            for f in &mut set.files {
                if let Some((_, text)) = texts.iter().find(|(p, _)| *p == f.path) {
                    f.bytes = text.clone().into_bytes();
                }
                if let Some((path, bytes)) = &mut f.rollback
                    && let Some((_, text)) = texts.iter().find(|(p, _)| p == path)
                {
                    *bytes = text.clone().into_bytes();
                }
            }
        }
    }

    /// `--base`: attaches each folder's files at the merge base.
    pub fn use_base(&mut self, repo: &crate::project::git::Repo, base: &crate::project::git::Base) {
        for set in &mut self.sets {
            set.base = Some(BaseFiles {
                merge_base: repo.files_at(base, crate::project::git::At::MergeBase, &set.dir),
                tip: repo.files_at(base, crate::project::git::At::Tip, &set.dir),
            });
        }
        self.base_label = Some(base.label.clone());
    }
}

static ALEMBIC_REVISION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^down_revision\s*(:[^=\n]*)?=").expect("valid regex"));
static YOYO_PY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^\s*(from\s+yoyo\s+import|import\s+yoyo\b)|^__depends__\s*(:[^=\n]*)?=")
        .expect("valid regex")
});
static YOYO_SQL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^--\s*depends\s*:").expect("valid regex"));
static NUMBERED_SQL: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"^\d+_[^.]*\.sql$").expect("valid regex"));

fn io_error(path: &Path, e: std::io::Error) -> ConfigError {
    ConfigError(format!("cannot read {}: {e}", path.display()))
}

/// Finds the migration sets for the given paths (files or folders).
pub fn discover(settings: &Settings, paths: &[PathBuf]) -> Result<Discovery, ConfigError> {
    let mut discovery = Discovery::default();
    let mut dirs: BTreeMap<PathBuf, Option<SetFlavour>> = BTreeMap::new();
    let mut explicit: Vec<PathBuf> = Vec::new();
    let mut models_named: Vec<PathBuf> = Vec::new();
    let mut config_named = false;

    if !settings.migrations.is_empty() && paths.iter().all(|p| p.is_dir()) {
        for dir in &settings.migrations {
            if !dir.is_dir() {
                return Err(ConfigError(format!(
                    "migrations folder {} from {} does not exist",
                    dir.display(),
                    settings
                        .config_path
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|| "the configuration".into())
                )));
            }
            dirs.insert(clean(dir), None);
        }
    } else {
        for path in paths {
            let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
            discovery.roots.push(if meta.is_file() {
                PathBuf::from(".")
            } else {
                clean(path)
            });
            if meta.is_file() && is_config_file(path) {
                // The configuration changed (a pre-commit run on a commit that
                // touches only it): every finding may change, so lint and show
                // the whole project.
                config_named = true;
                for (dir, flavour) in find_migration_dirs(Path::new("."))? {
                    dirs.insert(dir, Some(flavour));
                }
            } else if meta.is_file() && is_model_file(settings, path) {
                // A model named alone (a pre-commit run after editing
                // models.py): lint the project it belongs to and show the
                // findings in the model.
                explicit.push(clean(path));
                models_named.push(clean(path));
                for (dir, flavour) in find_migration_dirs(Path::new("."))? {
                    dirs.insert(dir, Some(flavour));
                }
            } else if meta.is_file() {
                explicit.push(clean(path));
                let parent = path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                dirs.entry(clean(parent)).or_insert(None);
            } else {
                for (dir, flavour) in find_migration_dirs(path)? {
                    dirs.insert(dir, Some(flavour));
                }
            }
        }
    }

    for (dir, known) in dirs {
        let set = read_dir(settings, &dir, known, &mut discovery.skipped)?;
        match set {
            Some(set) => discovery.sets.push(set),
            None => {
                for f in explicit.iter().filter(|f| f.parent() == Some(&dir)) {
                    discovery.skipped.push(Skipped {
                        path: f.clone(),
                        reason: "not in an Alembic or yoyo migrations folder".into(),
                    });
                }
            }
        }
    }
    if !explicit.is_empty() {
        let mut only = BTreeSet::new();
        for f in explicit {
            let known = discovery.sets.iter().any(|s| {
                s.files
                    .iter()
                    .any(|fi| fi.path == f || fi.rollback.as_ref().is_some_and(|(p, _)| *p == f))
            });
            let already = discovery.skipped.iter().any(|s| s.path == f);
            if !known && !already && !models_named.contains(&f) {
                discovery.skipped.push(Skipped {
                    path: f.clone(),
                    reason: "not a migration file".into(),
                });
            }
            only.insert(f);
        }
        discovery.only = (!config_named).then_some(only);
    }
    Ok(discovery)
}

/// miglint's own configuration, or a file it reads settings from.
fn is_config_file(path: &Path) -> bool {
    matches!(
        path.file_name().and_then(|n| n.to_str()),
        Some("miglint.toml" | ".miglint.toml" | "pyproject.toml" | "alembic.ini")
    )
}

/// Whether `path` holds SQLAlchemy models: below a configured `models`
/// place, or named as the conventions name them.
fn is_model_file(settings: &Settings, path: &Path) -> bool {
    if !settings.models.is_empty() {
        let path = clean(path);
        let absolute = std::fs::canonicalize(&path).ok();
        return settings.models.iter().any(|m| {
            path.starts_with(clean(m))
                || std::fs::canonicalize(m)
                    .ok()
                    .zip(absolute.as_ref())
                    .is_some_and(|(m, p)| p.starts_with(m))
        });
    }
    super::files::is_model_file(path)
}

/// `./a/b` → `a/b`, so paths compare and display the same way.
fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        if c != std::path::Component::CurDir {
            out.push(c);
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

/// Migration folders below `root`: from `alembic.ini`, else by content.
fn find_migration_dirs(root: &Path) -> Result<Vec<(PathBuf, SetFlavour)>, ConfigError> {
    let ini = root.join("alembic.ini");
    if ini.is_file() {
        let text = std::fs::read_to_string(&ini).map_err(|e| io_error(&ini, e))?;
        if let Some(loc) = script_location(&text) {
            let loc = loc.replace("%(here)s", &root.display().to_string());
            let loc = Path::new(&loc);
            let base = if loc.is_absolute() {
                loc.to_path_buf()
            } else {
                root.join(loc)
            };
            let versions = base.join("versions");
            if versions.is_dir() {
                return Ok(vec![(clean(&versions), SetFlavour::Alembic)]);
            }
        }
    }
    // Walk once, collecting names; read only a sample of each folder to
    // decide its flavour. The files themselves are read later, once.
    let mut per_dir: BTreeMap<PathBuf, Vec<std::ffi::OsString>> = BTreeMap::new();
    let mut last: Option<(PathBuf, PathBuf)> = None;
    let walker = ignore::WalkBuilder::new(root)
        .require_git(false)
        .filter_entry(|e| {
            !(e.file_type().is_some_and(|t| t.is_dir())
                && super::files::SKIP_DIRS.contains(&e.file_name().to_string_lossy().as_ref()))
        })
        .build();
    for entry in walker {
        let Ok(entry) = entry else { continue };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let name = entry.file_name().to_string_lossy();
        if !(name.ends_with(".py") || name.ends_with(".sql")) {
            continue;
        }
        if let Some(dir) = entry.path().parent() {
            // A folder's files come one after another: clean its path once.
            if last.as_ref().is_none_or(|(raw, _)| raw != dir) {
                last = Some((dir.to_path_buf(), clean(dir)));
            }
            let key = &last.as_ref().expect("set just above").1;
            let name = entry.file_name().to_os_string();
            match per_dir.get_mut(key) {
                Some(names) => names.push(name),
                None => {
                    per_dir.insert(key.clone(), vec![name]);
                }
            }
        }
    }
    Ok(per_dir
        .into_par_iter()
        .filter_map(|(dir, mut files)| {
            files.sort_unstable();
            // Up to SAMPLE files spread over the folder decide its flavour.
            let step = files.len().div_ceil(SAMPLE).max(1);
            let (mut alembic, mut yoyo) = (0, 0);
            for name in files.iter().step_by(step) {
                match sniff(&name.to_string_lossy(), &read_head(&dir.join(name))) {
                    Some(SetFlavour::Alembic) => alembic += 1,
                    Some(SetFlavour::Yoyo) => yoyo += 1,
                    None => {}
                }
            }
            match (alembic, yoyo) {
                (0, 0) => None,
                (a, y) if a >= y => Some((dir, SetFlavour::Alembic)),
                _ => Some((dir, SetFlavour::Yoyo)),
            }
        })
        .collect())
}

/// How many files of a folder are read to decide its flavour.
const SAMPLE: usize = 32;

/// The flavour a file's name and first bytes point to, if any.
fn sniff(name: &str, head: &[u8]) -> Option<SetFlavour> {
    if name.ends_with(".py") && ALEMBIC_REVISION.is_match(head) {
        Some(SetFlavour::Alembic)
    } else if (name.ends_with(".py") && YOYO_PY.is_match(head))
        || (name.ends_with(".sql")
            && (YOYO_SQL.is_match(head)
                || name.ends_with(".rollback.sql")
                || NUMBERED_SQL.is_match(name)))
    {
        Some(SetFlavour::Yoyo)
    } else {
        None
    }
}

/// The first 16 KiB of a file: enough to see its imports and header.
fn read_head(path: &Path) -> Vec<u8> {
    let mut buf = Vec::new();
    if let Ok(f) = std::fs::File::open(path) {
        let _ = f.take(16 * 1024).read_to_end(&mut buf);
    }
    buf
}

fn script_location(ini: &str) -> Option<String> {
    let mut in_alembic = false;
    for line in ini.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_alembic = line == "[alembic]";
            continue;
        }
        if in_alembic
            && let Some((key, value)) = line.split_once('=')
            && key.trim() == "script_location"
        {
            return Some(value.trim().to_string());
        }
    }
    None
}

/// Debug builds only: `MIGLINT_DEBUG_DELETE=<file name>` deletes that file
/// after the folder is listed and before it is read, so tests can prove a
/// file that vanishes mid-run is reported, not lost or fatal.
fn delete_for_tests(names: &[(String, PathBuf)]) {
    if cfg!(debug_assertions)
        && let Some(target) = std::env::var_os("MIGLINT_DEBUG_DELETE")
    {
        for (name, path) in names {
            if std::ffi::OsStr::new(name) == target {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// Reads the migration files of one folder; `None` if it holds none.
fn read_dir(
    settings: &Settings,
    dir: &Path,
    known: Option<SetFlavour>,
    skipped: &mut Vec<Skipped>,
) -> Result<Option<SetInput>, ConfigError> {
    let mut names: Vec<(String, PathBuf)> = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| io_error(dir, e))?;
    let clean_dir = clean(dir);
    let rel_dir = clean_dir.strip_prefix(&settings.root).unwrap_or(&clean_dir);
    let check_exclude = !settings.exclude.is_empty();
    for entry in entries {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(name.ends_with(".py") || name.ends_with(".sql")) || name.starts_with('_') {
            continue;
        }
        let path = clean_dir.join(&name);
        // The entry's own type (no extra stat); symlinks are followed.
        let kind = match entry.file_type() {
            Ok(t) if t.is_symlink() => std::fs::metadata(&path).map(|m| m.file_type()),
            other => other,
        };
        let why_not = match kind {
            Ok(t) if t.is_dir() => continue,
            Ok(t) if t.is_file() => None,
            // Reading a named pipe would wait for a writer forever.
            Ok(_) => Some("not a regular file (a pipe, socket or device)"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Some("a symbolic link to a file that does not exist")
            }
            Err(_) => None,
        };
        if let Some(reason) = why_not {
            skipped.push(Skipped {
                path,
                reason: reason.into(),
            });
            continue;
        }
        if check_exclude
            && (settings.exclude.is_match(rel_dir.join(&name)) || settings.exclude.is_match(&name))
        {
            continue;
        }
        names.push((name, path));
    }
    names.sort_unstable();
    delete_for_tests(&names);
    let read: Vec<std::io::Result<Vec<u8>>> = names
        .par_iter()
        .map(|(_, path)| std::fs::read(path))
        .collect();
    let mut files: Vec<(String, PathBuf, Vec<u8>)> = Vec::with_capacity(names.len());
    for (r, (name, path)) in read.into_iter().zip(names) {
        match r {
            Ok(bytes) => files.push((name, path, bytes)),
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io_error(&path, e)),
            // Deleted since the folder was listed (a checkout, an editor's
            // save): counted as skipped, with the reason.
            Err(_) => skipped.push(Skipped {
                path,
                reason: "deleted while miglint was reading the folder".into(),
            }),
        }
    }
    let flavour = match known {
        Some(f) => f,
        None => {
            let flavours: Vec<_> = files.iter().map(|(n, _, b)| sniff(n, b)).collect();
            let alembic = flavours
                .iter()
                .filter(|f| **f == Some(SetFlavour::Alembic))
                .count();
            let yoyo = flavours
                .iter()
                .filter(|f| **f == Some(SetFlavour::Yoyo))
                .count();
            match (alembic, yoyo) {
                (0, 0) => return Ok(None),
                (a, y) if a >= y => SetFlavour::Alembic,
                _ => SetFlavour::Yoyo,
            }
        }
    };
    // Rollback companions are set aside by name and joined to their
    // migration below; a rollback without one is not a migration.
    let (rollbacks, mains): (Vec<_>, Vec<_>) = files
        .into_iter()
        .partition(|(name, _, _)| name.ends_with(".rollback.sql"));
    let mut rollbacks: std::collections::HashMap<String, (PathBuf, Vec<u8>)> = rollbacks
        .into_iter()
        .map(|(name, path, bytes)| (name, (path, bytes)))
        .collect();
    let mut files = Vec::new();
    for (name, path, bytes) in mains {
        let flavour = match flavour {
            SetFlavour::Alembic if name.ends_with(".py") => Flavour::Alembic,
            SetFlavour::Yoyo if name.ends_with(".py") && !name.starts_with("post-apply") => {
                Flavour::YoyoPy
            }
            SetFlavour::Yoyo if name.ends_with(".sql") => Flavour::YoyoSql,
            _ => continue,
        };
        let rollback = if flavour == Flavour::YoyoSql {
            rollbacks.remove(&format!("{}.rollback.sql", name.trim_end_matches(".sql")))
        } else {
            None
        };
        files.push(FileInput {
            path,
            flavour,
            bytes,
            rollback,
        });
    }
    Ok(Some(SetInput {
        dir: dir.to_path_buf(),
        flavour,
        files,
        base: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_script_location() {
        let ini = "[alembic]\nscript_location = %(here)s/migrations\n[loggers]\nkeys = root\n";
        assert_eq!(script_location(ini).unwrap(), "%(here)s/migrations");
    }

    #[test]
    fn clean_drops_current_dir() {
        assert_eq!(clean(Path::new("./a/./b")), PathBuf::from("a/b"));
        assert_eq!(clean(Path::new(".")), PathBuf::from("."));
    }
}
