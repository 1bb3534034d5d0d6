//! Which folders hold migrations, of which flavour, and which files in them
//! are migrations. Files are read here, once.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use rayon::prelude::*;
use regex::bytes::Regex;

use crate::migration::Flavour;
use crate::migration::{SetFlavour, SqlTool};
use crate::project::config::{ConfigError, Dialect, Settings};
use crate::project::dialect::Database;

/// A migrations folder and the files to load from it.
#[derive(Debug)]
pub struct SetInput {
    pub dir: PathBuf,
    pub flavour: SetFlavour,
    pub files: Vec<FileInput>,
    /// With `--base`: this folder's files at the merge base and at the tip.
    pub base: Option<BaseFiles>,
    /// The database the folder is linted for: the configured one, else the
    /// one the project names ([`super::dialect`]), else SQLite.
    pub dialect: Dialect,
    /// Where the project named it, when it was detected.
    pub dialect_evidence: Option<String>,
    /// What an Alembic folder's `env.py` says about every migration.
    pub env: super::env_py::AlembicEnv,
    /// Other folders of the same Alembic revision graph (`version_locations`,
    /// a plugin folder whose revisions continue this folder's): their
    /// files are in `files` too.
    pub other_dirs: Vec<PathBuf>,
}

/// A folder's `.py` / `.sql` files (name, content) as `--base` sees them.
#[derive(Debug, Default)]
pub struct BaseFiles {
    /// At the merge base of HEAD and the base branch: what is merged.
    pub merge_base: Vec<(String, Vec<u8>)>,
    /// At the base branch's tip: what it holds now.
    pub tip: Vec<(String, Vec<u8>)>,
    /// Files of the set's other folders: the folder each is in.
    pub dirs: std::collections::HashMap<String, PathBuf>,
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
    /// Texts that replace files on disk (an editor's open buffers): the
    /// migrations' are put in place by [`Discovery::use_texts`], the
    /// application's are read from here when queries and models are read.
    pub texts: Texts,
}

/// File texts that stand in for the files on disk, by path.
pub type Texts = std::sync::Arc<std::collections::HashMap<PathBuf, String>>;

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
        self.replace_with(|path| texts.iter().find(|(p, _)| p == path).map(|(_, t)| t));
    }

    /// Reads every file in `texts` from there instead of from disk: the
    /// migrations now, the application's files when they are read.
    pub fn use_texts(&mut self, texts: Texts) {
        self.replace_with(|path| texts.get(path));
        self.texts = texts;
    }

    /// Replaces the bytes of each migration (and rollback companion) that
    /// `text_of` has a text for.
    fn replace_with<'t>(&mut self, text_of: impl Fn(&Path) -> Option<&'t String>) {
        for set in &mut self.sets {
            for f in &mut set.files {
                if let Some(text) = text_of(&f.path) {
                    f.bytes = text.clone().into_bytes();
                }
                if let Some((path, bytes)) = &mut f.rollback
                    && let Some(text) = text_of(path)
                {
                    *bytes = text.clone().into_bytes();
                }
            }
        }
    }

    /// `--base`: attaches each folder's files at the merge base.
    pub fn use_base(&mut self, repo: &crate::project::git::Repo, base: &crate::project::git::Base) {
        for set in &mut self.sets {
            let mut files = BaseFiles::default();
            for dir in std::iter::once(&set.dir).chain(&set.other_dirs) {
                let at = |at| repo.files_at(base, at, dir);
                let (merge_base, tip) = (
                    at(crate::project::git::At::MergeBase),
                    at(crate::project::git::At::Tip),
                );
                for (name, _) in merge_base.iter().chain(&tip) {
                    if dir != &set.dir {
                        files.dirs.insert(name.clone(), dir.clone());
                    }
                }
                files.merge_base.extend(merge_base);
                files.tip.extend(tip);
            }
            set.base = Some(files);
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
                add_found(
                    find_migration_dirs(Path::new("."))?,
                    &mut dirs,
                    &mut discovery.skipped,
                );
            } else if meta.is_file() && is_model_file(settings, path) {
                // A model named alone (a pre-commit run after editing
                // models.py): lint the project it belongs to and show the
                // findings in the model.
                explicit.push(clean(path));
                models_named.push(clean(path));
                add_found(
                    find_migration_dirs(Path::new("."))?,
                    &mut dirs,
                    &mut discovery.skipped,
                );
            } else if meta.is_file() {
                explicit.push(clean(path));
                let parent = set_dir_of(path);
                dirs.entry(clean(&parent)).or_insert(None);
            } else {
                add_found(
                    find_migration_dirs(path)?,
                    &mut dirs,
                    &mut discovery.skipped,
                );
            }
        }
    }

    // Projects with a configuration of their own are linted with it.
    let nested: Vec<PathBuf> = settings.nested.iter().map(|n| clean(n)).collect();
    dirs.retain(|dir, _| !nested.iter().any(|n| dir.starts_with(n)));
    for (dir, known) in dirs {
        match read_set(settings, &dir, known, &mut discovery.skipped)? {
            Folder::Set(set) => discovery.sets.push(set),
            Folder::Skipped => {}
            Folder::NotMigrations => {
                for f in explicit.iter().filter(|f| f.parent() == Some(&dir)) {
                    discovery.skipped.push(Skipped {
                        path: f.clone(),
                        reason: "not in a migrations folder miglint reads".into(),
                    });
                }
            }
        }
    }
    // Files named alone (a pre-commit run on a plugin's revision): the
    // folders their revisions continue are read too, so the graph is whole.
    if !explicit.is_empty() && dangling_revisions(&discovery.sets) {
        let read: BTreeSet<PathBuf> = discovery.sets.iter().map(|s| s.dir.clone()).collect();
        for (dir, flavour) in find_migration_dirs(Path::new("."))? {
            if flavour != Some(SetFlavour::Alembic)
                || read.contains(&dir)
                || nested.iter().any(|n| dir.starts_with(n))
            {
                continue;
            }
            if let Folder::Set(set) = read_set(settings, &dir, flavour, &mut discovery.skipped)? {
                discovery.sets.push(set);
            }
        }
    }
    join_revision_graphs(&mut discovery.sets);
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

/// The database a folder's name (or its parent's) says its migrations are
/// written for, when that is not the dialect being linted: a project that
/// keeps `migrations/sqlite` and `migrations/mysql` side by side.
fn named_for_other_database(dir: &Path, dialect: Dialect) -> Option<&'static str> {
    let found = super::dialect::folder_name(dir)?;
    (found.database != Database::Known(dialect)).then(|| found.database.name())
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

/// Adds the folders [`find_migration_dirs`] found; one that looks like a
/// migrations folder but matches no layout is named in a note.
fn add_found(
    found: Vec<(PathBuf, Option<SetFlavour>)>,
    dirs: &mut BTreeMap<PathBuf, Option<SetFlavour>>,
    skipped: &mut Vec<Skipped>,
) {
    for (dir, flavour) in found {
        match flavour {
            Some(f) => {
                dirs.insert(dir, Some(f));
            }
            None => skipped.push(Skipped {
                path: dir,
                reason: "named like a migrations folder, but its .sql files match no layout miglint reads (Alembic, yoyo, sqlx, diesel, refinery, golang-migrate, dbmate; see the README)".into(),
            }),
        }
    }
}

/// Whether a folder's name says it holds migrations.
fn named_like_migrations(dir: &Path) -> bool {
    dir.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
        matches!(
            n.to_ascii_lowercase().as_str(),
            "migrations" | "migration" | "migrate"
        )
    })
}

/// Migration folders below `root`: from `alembic.ini`, else by content.
/// A folder named like one (`migrations`) holding `.sql` files that match no
/// layout comes back with no flavour.
fn find_migration_dirs(root: &Path) -> Result<Vec<(PathBuf, Option<SetFlavour>)>, ConfigError> {
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
                return Ok(vec![(clean(&versions), Some(SetFlavour::Alembic))]);
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
        let diesel = diesel_folder(entry.path());
        let parent = match diesel {
            Some(_) => entry.path().parent().and_then(Path::parent),
            None => entry.path().parent(),
        };
        if let Some(dir) = parent {
            // A folder's files come one after another: clean its path once.
            if last.as_ref().is_none_or(|(raw, _)| raw != dir) {
                last = Some((dir.to_path_buf(), clean(dir)));
            }
            let key = &last.as_ref().expect("set just above").1;
            let name = match diesel {
                Some(folder) => std::ffi::OsString::from(format!("{folder}/{name}")),
                None => entry.file_name().to_os_string(),
            };
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
            let mut votes = Votes::default();
            for name in files.iter().step_by(step) {
                let name = name.to_string_lossy();
                votes.add(sniff(&name, &read_head(&dir.join(name.as_ref()))));
            }
            match votes.decide(&dir) {
                Some(f) => Some((dir, Some(f))),
                None if named_like_migrations(&dir)
                    && files.iter().any(|n| n.to_string_lossy().ends_with(".sql")) =>
                {
                    Some((dir, None))
                }
                None => None,
            }
        })
        .collect())
}

/// What a folder's sampled files point to.
#[derive(Default)]
struct Votes {
    alembic: usize,
    yoyo: usize,
    /// `<n>_x.sql` with no tool's mark: yoyo's, or sqlx's forward-only.
    plain: usize,
    tools: BTreeMap<SqlTool, usize>,
}

impl Votes {
    fn add(&mut self, sniffed: Option<Sniffed>) {
        match sniffed {
            Some(Sniffed::Set(SetFlavour::Alembic)) => self.alembic += 1,
            Some(Sniffed::Set(SetFlavour::Yoyo)) => self.yoyo += 1,
            Some(Sniffed::Set(SetFlavour::Sql(tool))) => *self.tools.entry(tool).or_default() += 1,
            Some(Sniffed::PlainSql) => self.plain += 1,
            None => {}
        }
    }

    /// The folder's flavour: the most files' flavour (Alembic wins ties, as
    /// it always has). `.up.sql` / `.down.sql` pairs and plain numbered SQL
    /// files are sqlx's in a Rust crate (a `Cargo.toml` above the folder,
    /// before any other project's mark), else golang-migrate's and yoyo's.
    fn decide(&self, dir: &Path) -> Option<SetFlavour> {
        let (tool, explicit) = self
            .tools
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(t, n)| (Some(*t), *n))
            .unwrap_or((None, 0));
        if self.alembic + self.yoyo + explicit + self.plain == 0 {
            return None;
        }
        let rust = self.plain > 0 && explicit == 0 && self.yoyo == 0 && in_rust_crate(dir);
        // Plain numbered files go with what else the folder shows: yoyo's
        // marks, a tool's, or, in a Rust crate, sqlx's forward-only files.
        let (yoyo, tools) = if self.yoyo > 0 {
            (self.yoyo + self.plain, explicit)
        } else if explicit > 0 || rust {
            (0, explicit + self.plain)
        } else {
            (self.plain, 0)
        };
        if self.alembic >= yoyo.max(tools) {
            return Some(SetFlavour::Alembic);
        }
        if tools > yoyo {
            return Some(match tool {
                Some(SqlTool::GolangMigrate) if in_rust_crate(dir) => {
                    SetFlavour::Sql(SqlTool::Sqlx)
                }
                Some(t) => SetFlavour::Sql(t),
                None => SetFlavour::Sql(SqlTool::Sqlx),
            });
        }
        Some(SetFlavour::Yoyo)
    }
}

/// Whether the folder belongs to a Rust crate: walking up from it, a
/// `Cargo.toml` comes before any mark of another language's project (a
/// Python `pyproject.toml`, `setup.py`, `setup.cfg` or `yoyo.ini`, a Go
/// `go.mod`, a Node `package.json`), the repository's root or the
/// filesystem's.
fn in_rust_crate(dir: &Path) -> bool {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let absolute = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    for d in absolute.ancestors().skip(1) {
        if d.join("Cargo.toml").is_file() {
            return true;
        }
        let other = [
            "pyproject.toml",
            "setup.py",
            "setup.cfg",
            "yoyo.ini",
            "go.mod",
            "package.json",
        ];
        if other.iter().any(|f| d.join(f).is_file()) || d.join(".git").exists() {
            return false;
        }
    }
    false
}

/// A diesel `up.sql` / `down.sql`: the name of its migration folder.
fn diesel_folder(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    if !crate::layout::is_diesel_file(name) {
        return None;
    }
    let folder = path.parent()?.file_name()?.to_str()?;
    crate::layout::is_diesel_folder(folder).then(|| folder.to_string())
}

/// The migrations folder a named file belongs to: its folder, or for a
/// diesel `up.sql` / `down.sql`, the folder above its migration's.
fn set_dir_of(path: &Path) -> PathBuf {
    let parent = |p: &Path| -> PathBuf {
        p.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf()
    };
    match diesel_folder(path) {
        Some(_) => parent(&parent(path)),
        None => parent(path),
    }
}

enum Sniffed {
    Set(SetFlavour),
    PlainSql,
}

/// How many files of a folder are read to decide its flavour.
const SAMPLE: usize = 32;

/// The flavour a file's name (`<folder>/up.sql` for diesel) and first
/// bytes point to, if any.
fn sniff(name: &str, head: &[u8]) -> Option<Sniffed> {
    let set = |f| Some(Sniffed::Set(f));
    if name.ends_with(".py") && ALEMBIC_REVISION.is_match(head) {
        set(SetFlavour::Alembic)
    } else if (name.ends_with(".py") && YOYO_PY.is_match(head))
        || (name.ends_with(".sql") && (YOYO_SQL.is_match(head) || name.ends_with(".rollback.sql")))
    {
        set(SetFlavour::Yoyo)
    } else if SqlTool::Diesel.parse(name).is_some() {
        set(SetFlavour::Sql(SqlTool::Diesel))
    } else if let Some(tool) = name
        .ends_with(".sql")
        .then(|| crate::layout::sniff(name, head))
        .flatten()
    {
        set(SetFlavour::Sql(tool))
    } else if name.ends_with(".sql") && NUMBERED_SQL.is_match(name) {
        Some(Sniffed::PlainSql)
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

/// `x.up.sql` / `x.down.sql` / `x/up.sql` → `x`: what joins the two sides.
fn pair_key(name: &str) -> String {
    for suffix in [".up.sql", ".down.sql", "/up.sql", "/down.sql"] {
        if let Some(stem) = name.strip_suffix(suffix) {
            return stem.to_string();
        }
    }
    name.to_string()
}

/// Lists a folder's `.py` / `.sql` files as (name, path), names prefixed
/// with `prefix`; diesel migration folders inside it go to `folders`.
fn list_files(
    settings: &Settings,
    dir: &Path,
    prefix: &str,
    names: &mut Vec<(String, PathBuf)>,
    mut folders: Option<&mut Vec<String>>,
    skipped: &mut Vec<Skipped>,
) -> Result<(), ConfigError> {
    let entries = std::fs::read_dir(dir).map_err(|e| io_error(dir, e))?;
    let clean_dir = clean(dir);
    let rel_dir = clean_dir.strip_prefix(&settings.root).unwrap_or(&clean_dir);
    let check_exclude = !settings.exclude.is_empty();
    for entry in entries {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_file_name = name.ends_with(".py") || name.ends_with(".sql");
        let maybe_folder = folders.is_some() && crate::layout::is_diesel_folder(&name);
        if !(is_file_name || maybe_folder) || name.starts_with('_') {
            continue;
        }
        let path = clean_dir.join(&name);
        // The entry's own type (no extra stat); symlinks are followed.
        let kind = match entry.file_type() {
            Ok(t) if t.is_symlink() => std::fs::metadata(&path).map(|m| m.file_type()),
            other => other,
        };
        let why_not = match kind {
            Ok(t) if t.is_dir() => {
                if maybe_folder && let Some(folders) = folders.as_deref_mut() {
                    folders.push(name);
                }
                continue;
            }
            _ if !is_file_name => continue,
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
        names.push((format!("{prefix}{name}"), path));
    }
    Ok(())
}

/// Reads the migration files of one folder; `None` if it holds none.
fn read_dir(
    settings: &Settings,
    dir: &Path,
    known: Option<SetFlavour>,
    skipped: &mut Vec<Skipped>,
) -> Result<Option<SetInput>, ConfigError> {
    let mut names: Vec<(String, PathBuf)> = Vec::new();
    let mut folders = Vec::new();
    list_files(settings, dir, "", &mut names, Some(&mut folders), skipped)?;
    // diesel keeps each migration in a folder of its own.
    for folder in folders {
        let mut inner = Vec::new();
        list_files(
            settings,
            &dir.join(&folder),
            &format!("{folder}/"),
            &mut inner,
            None,
            skipped,
        )?;
        names.extend(
            inner
                .into_iter()
                .filter(|(n, _)| SqlTool::Diesel.parse(n).is_some()),
        );
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
            let mut votes = Votes::default();
            for (name, _, bytes) in &files {
                votes.add(sniff(name, bytes));
            }
            match votes.decide(dir) {
                Some(f) => f,
                None => return Ok(None),
            }
        }
    };
    let files = match flavour {
        SetFlavour::Sql(tool) => pair_tool_files(tool, files, skipped),
        _ => pair_yoyo_files(flavour, files),
    };
    Ok(Some(SetInput {
        dir: dir.to_path_buf(),
        flavour,
        files,
        base: None,
        dialect: settings.dialect.unwrap_or(Dialect::Sqlite),
        dialect_evidence: None,
        env: if flavour == SetFlavour::Alembic {
            super::env_py::AlembicEnv::of_versions(dir)
        } else {
            Default::default()
        },
        other_dirs: Vec::new(),
    }))
}

/// What reading one folder gave.
enum Folder {
    Set(SetInput),
    /// Named for another database, or one miglint does not lint (said in
    /// `skipped`).
    Skipped,
    /// No migrations miglint reads.
    NotMigrations,
}

/// Reads one folder and finds its database, unless the configuration or
/// the project says it is for a database miglint does not lint here.
fn read_set(
    settings: &Settings,
    dir: &Path,
    known: Option<SetFlavour>,
    skipped: &mut Vec<Skipped>,
) -> Result<Folder, ConfigError> {
    let listed = settings.migrations.iter().any(|m| clean(m) == dir);
    if let Some(configured) = settings.dialect
        && let Some(database) = named_for_other_database(dir, configured)
        && !listed
    {
        skipped.push(Skipped {
            path: dir.to_path_buf(),
            reason: format!(
                "the folder is named for {database}, and miglint lints {} here (list it in `migrations` to lint it anyway)",
                configured.name()
            ),
        });
        return Ok(Folder::Skipped);
    }
    let Some(mut set) = read_dir(settings, dir, known, skipped)? else {
        return Ok(Folder::NotMigrations);
    };
    if settings.dialect.is_none()
        && let Some(found) = super::dialect::detect(
            dir,
            set.flavour,
            set.files.iter().map(|f| f.bytes.as_slice()),
        )
    {
        match found.database {
            Database::Known(d) => {
                set.dialect = d;
                set.dialect_evidence = Some(found.evidence);
            }
            Database::Other(name) => {
                skipped.push(Skipped {
                    path: dir.to_path_buf(),
                    reason: format!(
                        "{} names {name}, which miglint does not lint yet (set `dialect` to lint it as SQLite or PostgreSQL)",
                        found.evidence
                    ),
                });
                return Ok(Folder::Skipped);
            }
        }
    }
    Ok(Folder::Set(set))
}

/// Whether an Alembic folder's revisions name revisions that no folder read
/// holds.
fn dangling_revisions(sets: &[SetInput]) -> bool {
    let alembic: Vec<&SetInput> = sets
        .iter()
        .filter(|s| s.flavour == SetFlavour::Alembic)
        .collect();
    let ids: Vec<_> = alembic.iter().map(|s| revision_ids(s)).collect();
    let all: BTreeSet<&str> = ids
        .iter()
        .flat_map(|(own, _)| own.iter().copied())
        .collect();
    ids.iter()
        .any(|(_, named)| named.iter().any(|id| !all.contains(id)))
}

static REVISION_LINE: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r#"(?m)^(revision|down_revision|depends_on)\s*(?::[^=\n]*)?=\s*([^\n]*)"#)
        .expect("valid regex")
});
static QUOTED: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r#"["']([^"'\s]+)["']"#).expect("valid regex"));

/// An Alembic folder's revision ids, and the ids its `down_revision` and
/// `depends_on` name, read from the files' text (the loader reads them
/// properly later; this only finds which folders form one graph).
fn revision_ids(set: &SetInput) -> (BTreeSet<&str>, BTreeSet<&str>) {
    let (mut own, mut named) = (BTreeSet::new(), BTreeSet::new());
    for f in &set.files {
        // A file that is not UTF-8 names nothing here (the loader says why).
        let Ok(text) = std::str::from_utf8(&f.bytes) else {
            continue;
        };
        // The identifiers come before the functions (as Alembic's template
        // writes them): the rest of the file is not scanned.
        let text = text.find("\ndef ").map_or(text, |end| &text[..end]);
        for c in REVISION_LINE.captures_iter(text) {
            let (Some(key), Some(value)) = (c.get(1), c.get(2)) else {
                continue;
            };
            // A tuple may go on over the next lines: up to its `)`.
            let value = if value.as_str().trim_start().starts_with('(') {
                let rest = &text[value.start()..];
                &rest[..rest.find(')').map_or(rest.len(), |e| e + 1)]
            } else {
                value.as_str()
            };
            let ids = QUOTED
                .captures_iter(value)
                .filter_map(|q| q.get(1).map(|m| m.as_str()));
            if key.as_str() == "revision" {
                own.extend(ids.take(1));
            } else {
                named.extend(ids);
            }
        }
    }
    (own, named)
}

/// Alembic folders whose revisions continue another folder's (a root whose
/// `down_revision` or `depends_on` names a revision of that folder) are one
/// graph, as Alembic reads `version_locations`: their files join that
/// folder's set, replayed in one chain. Short revision ids (`001`) may
/// repeat across projects, so those join only within one project.
fn join_revision_graphs(sets: &mut Vec<SetInput>) {
    let alembic: Vec<usize> = (0..sets.len())
        .filter(|&i| sets[i].flavour == SetFlavour::Alembic)
        .collect();
    if alembic.len() < 2 {
        return;
    }
    let ids: Vec<(BTreeSet<String>, BTreeSet<String>)> = alembic
        .iter()
        .map(|&i| {
            let (own, named) = revision_ids(&sets[i]);
            let owned = |ids: BTreeSet<&str>| ids.into_iter().map(String::from).collect();
            (owned(own), owned(named))
        })
        .collect();
    let root = |i: usize| super::files::project_root(&sets[i].dir, Path::new("."));
    // joins[b] = a: folder b continues folder a.
    let mut joins: Vec<(usize, usize)> = Vec::new();
    for (b, (own_b, named_b)) in ids.iter().enumerate() {
        let outside: Vec<&String> = named_b.difference(own_b).collect();
        if outside.is_empty() {
            continue;
        }
        let owners: BTreeSet<usize> = outside
            .iter()
            .filter_map(|id| (0..ids.len()).find(|&a| a != b && ids[a].0.contains(*id)))
            .collect();
        let short = outside.iter().any(|id| id.len() < 8);
        if let [a] = owners.iter().copied().collect::<Vec<_>>()[..]
            && (!short || root(alembic[a]) == root(alembic[b]))
        {
            joins.push((alembic[b], alembic[a]));
        }
    }
    if joins.is_empty() {
        return;
    }
    // Follow chains of folders (c continues b, which continues a) to the
    // first folder; a cycle joins nothing.
    let target = |mut i: usize| {
        for _ in 0..sets.len() {
            match joins.iter().find(|(b, _)| *b == i) {
                Some(&(_, a)) => i = a,
                None => return Some(i),
            }
        }
        None
    };
    let moves: Vec<(usize, usize)> = joins
        .iter()
        .filter_map(|&(b, _)| target(b).filter(|&t| t != b).map(|t| (b, t)))
        .collect();
    for &(b, t) in &moves {
        let files = std::mem::take(&mut sets[b].files);
        let dir = sets[b].dir.clone();
        sets[t].files.extend(files);
        sets[t].other_dirs.push(dir);
    }
    let gone: BTreeSet<usize> = moves.iter().map(|&(b, _)| b).collect();
    let mut i = 0;
    sets.retain(|_| {
        i += 1;
        !gone.contains(&(i - 1))
    });
}

/// Alembic and yoyo: each `.py` / `.sql` file, a yoyo `.sql` file with its
/// `.rollback.sql` companion; a rollback without one is not a migration.
fn pair_yoyo_files(flavour: SetFlavour, files: Vec<(String, PathBuf, Vec<u8>)>) -> Vec<FileInput> {
    let (rollbacks, mains): (Vec<_>, Vec<_>) = files
        .into_iter()
        .filter(|(name, _, _)| !name.contains('/'))
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
    files
}

/// A SQL-folder tool's files: each migration with its down file (diesel's
/// `down.sql`, sqlx's and golang-migrate's `.down.sql`). Files the tool
/// would not read as migrations are reported, never passed in silence.
fn pair_tool_files(
    tool: SqlTool,
    files: Vec<(String, PathBuf, Vec<u8>)>,
    skipped: &mut Vec<Skipped>,
) -> Vec<FileInput> {
    use crate::layout::Part;
    let mut downs: BTreeMap<String, (PathBuf, Vec<u8>)> = BTreeMap::new();
    let mut mains = Vec::new();
    for (name, path, bytes) in files {
        match tool.parse(&name) {
            Some(p) if p.part == Part::Down => {
                downs.insert(pair_key(&name), (path, bytes));
            }
            Some(p) => mains.push((name, path, bytes, p.part)),
            None if name.ends_with(".py") => {}
            None => skipped.push(Skipped {
                path,
                reason: format!(
                    "not named as {} names migrations ({})",
                    tool.name(),
                    tool.pattern()
                ),
            }),
        }
    }
    let mut out = Vec::new();
    for (name, path, bytes, part) in mains {
        let rollback = if part == Part::Up {
            downs.remove(&pair_key(&name))
        } else {
            None
        };
        out.push(FileInput {
            path,
            flavour: Flavour::Sql(tool),
            bytes,
            rollback,
        });
    }
    for (_, (path, _)) in downs {
        skipped.push(Skipped {
            path,
            reason: "a down file without its up file".into(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_script_location() {
        let ini = "[alembic]\nscript_location = %(here)s/migrations\n[loggers]\nkeys = root\n";
        assert_eq!(script_location(ini).unwrap(), "%(here)s/migrations");
    }

    fn votes(names: &[(&str, &[u8])]) -> Votes {
        let mut v = Votes::default();
        for (name, head) in names {
            v.add(sniff(name, head));
        }
        v
    }

    #[test]
    fn each_tools_folder_is_told_by_its_names() {
        let root = tempfile_dir();
        let dir = root.join("migrations");
        std::fs::create_dir_all(&dir).unwrap();
        let decide = |names: &[(&str, &[u8])]| votes(names).decide(&dir);
        assert_eq!(
            decide(&[("2024-01-01-000000_a/up.sql", b"CREATE TABLE a (x);")]),
            Some(SetFlavour::Sql(SqlTool::Diesel))
        );
        assert_eq!(
            decide(&[("V1__init.sql", b""), ("V2__more.sql", b"")]),
            Some(SetFlavour::Sql(SqlTool::Refinery))
        );
        assert_eq!(
            decide(&[("20240101_a.sql", b"-- migrate:up\nCREATE TABLE a (x);\n")]),
            Some(SetFlavour::Sql(SqlTool::Dbmate))
        );
        // Outside a Rust crate, pairs are golang-migrate's and plain
        // numbered files yoyo's.
        assert_eq!(
            decide(&[("1_a.up.sql", b""), ("1_a.down.sql", b"")]),
            Some(SetFlavour::Sql(SqlTool::GolangMigrate))
        );
        assert_eq!(decide(&[("0001_a.sql", b"")]), Some(SetFlavour::Yoyo));
        assert_eq!(
            decide(&[("0001_a.sql", b""), ("0001_a.rollback.sql", b"")]),
            Some(SetFlavour::Yoyo)
        );
        assert_eq!(decide(&[("notes.sql", b"")]), None);
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn a_cargo_toml_above_makes_plain_and_paired_files_sqlx() {
        let root = tempfile_dir();
        let crate_dir = root.join("app");
        std::fs::create_dir_all(crate_dir.join("migrations")).unwrap();
        std::fs::write(crate_dir.join("Cargo.toml"), "[package]\n").unwrap();
        let dir = crate_dir.join("migrations");
        assert_eq!(
            votes(&[("1_a.sql", b"")]).decide(&dir),
            Some(SetFlavour::Sql(SqlTool::Sqlx))
        );
        assert_eq!(
            votes(&[("1_a.up.sql", b""), ("1_a.down.sql", b"")]).decide(&dir),
            Some(SetFlavour::Sql(SqlTool::Sqlx))
        );
        // A Go module between the folder and the crate: golang-migrate.
        let go = crate_dir.join("service");
        std::fs::create_dir_all(go.join("migrations")).unwrap();
        std::fs::write(go.join("go.mod"), "module x\n").unwrap();
        assert_eq!(
            votes(&[("1_a.up.sql", b""), ("1_a.down.sql", b"")]).decide(&go.join("migrations")),
            Some(SetFlavour::Sql(SqlTool::GolangMigrate))
        );
        let _ = std::fs::remove_dir_all(root);
    }

    fn tempfile_dir() -> PathBuf {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "miglint-discover-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn folders_named_for_another_database_are_told() {
        let sqlite = Dialect::Sqlite;
        assert_eq!(
            named_for_other_database(Path::new("migrations/mysql"), sqlite),
            Some("MySQL")
        );
        assert_eq!(
            named_for_other_database(Path::new("db/postgres/migrations"), sqlite),
            Some("PostgreSQL")
        );
        assert_eq!(
            named_for_other_database(Path::new("migrations/sqlite3"), sqlite),
            None
        );
        assert_eq!(
            named_for_other_database(Path::new("migrations"), sqlite),
            None
        );
        assert_eq!(
            named_for_other_database(Path::new("migrations/sqlite"), Dialect::Postgresql),
            Some("SQLite")
        );
    }

    #[test]
    fn clean_drops_current_dir() {
        assert_eq!(clean(Path::new("./a/./b")), PathBuf::from("a/b"));
        assert_eq!(clean(Path::new(".")), PathBuf::from("."));
    }
}
