//! Everything known about each migrations folder before the rules judge
//! it: the files read and loaded (in parallel), the chain, the replayed
//! schema with its facts, what real SQLite refused, and what the
//! application reads (queries, models) when a rule asks for it.

use std::collections::{BTreeSet, HashSet};
use std::ops::Deref;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::app::models::ModelSet;
use crate::app::queries::{ColumnUse, ScanMemo};
use crate::chain::MigrationSet;
use crate::migration::{Migration, OpKind, Operation, Reach, SuppressionComment};
use crate::paths::display_path;
use crate::project::config::{Dialect, Settings};
use crate::project::discover::{Discovery, Skipped, Texts};
use crate::schema::Schema;
use crate::schema::exec::ExecFailure;
use crate::schema::replay::Replay;
use crate::source::{FileId, SourceDb, SourceFile, Span};

/// One migrations folder with everything the stages before the rules
/// learned about it. It reads as its [`MigrationSet`] (the migrations and
/// their chain) plus the fields below.
pub struct SetAnalysis {
    pub set: MigrationSet,
    /// The schema the chain starts from (`baseline`, else empty).
    pub start: Schema,
    /// The schema the chain builds, and the facts met on the way.
    pub replay: Replay,
    /// What SQLite refused when the migrations ran (`None` when they were
    /// not run).
    pub sql_failures: Option<Vec<ExecFailure>>,
    /// Where the application filters or sorts on columns (read only when
    /// a rule asks for it).
    pub queries: Vec<ColumnUse>,
    /// The application's SQLAlchemy models (read only when a rule asks).
    pub models: Arc<ModelSet>,
}

impl Deref for SetAnalysis {
    type Target = MigrationSet;
    fn deref(&self) -> &MigrationSet {
        &self.set
    }
}

impl SetAnalysis {
    /// Replays `set` from `start` (the configured baseline, else an empty
    /// database); with `execute`, runs the migrations' SQL in SQLite too,
    /// keeping results in the cache folder it names.
    pub fn new(
        set: MigrationSet,
        start: Schema,
        execute: Option<(&SourceDb, Option<&Path>)>,
    ) -> SetAnalysis {
        let (replay, sql_failures) = match execute {
            Some((sources, cache_dir)) => {
                let (replay, failures) =
                    crate::schema::exec::replay_and_execute(&set, &start, sources, cache_dir);
                (replay, Some(failures))
            }
            None => (
                crate::schema::replay::replay_until(&set, &start, None),
                None,
            ),
        };
        SetAnalysis {
            set,
            start,
            replay,
            sql_failures,
            queries: Vec::new(),
            models: Arc::default(),
        }
    }
}

impl SetAnalysis {
    /// The operations of this folder's upgrades that run on a table already in use:
    /// not one the same migration creates (empty, and unseen by the application
    /// until the migration commits), on PostgreSQL, when they run for sure or
    /// under a guard the chain decides.
    pub fn on_live_tables(&self) -> Vec<(&Migration, &Operation, String)> {
        let set = self;
        let mut out = Vec::new();
        if set.dialect != Dialect::Postgresql {
            return out;
        }
        for m in &set.migrations {
            let mut created: HashSet<String> = HashSet::new();
            for op in m.upgrade_ops() {
                match &op.kind {
                    OpKind::CreateTable { name, .. } => {
                        created.insert(name.to_ascii_lowercase());
                        continue;
                    }
                    OpKind::RenameIndex { from, to }
                        if created.contains(&format!("index:{}", from.to_ascii_lowercase())) =>
                    {
                        created.insert(format!("index:{}", to.to_ascii_lowercase()));
                    }
                    OpKind::CreateIndex(ix) if ix.name.is_some() => {
                        // An index made here and dropped here was never live.
                        created.insert(format!(
                            "index:{}",
                            ix.name.as_deref().unwrap_or("").to_ascii_lowercase()
                        ));
                    }
                    _ => {}
                }
                if op.reach == Reach::Maybe {
                    continue;
                }
                let table = match &op.kind {
                    OpKind::DropIndex { name, table } => {
                        if created.contains(&format!("index:{}", name.to_ascii_lowercase())) {
                            continue;
                        }
                        // SQL's DROP INDEX names no table: the one it was made on.
                        table
                            .clone()
                            .or_else(|| self.index_table(name))
                            .unwrap_or_default()
                    }
                    other => match other.tables().first() {
                        Some(t) => t.to_string(),
                        None => continue,
                    },
                };
                if !table.is_empty() && created.contains(&table.to_ascii_lowercase()) {
                    continue;
                }
                out.push((m, op, table));
            }
        }
        out
    }

    /// The table the chain last created index `name` on.
    fn index_table(&self, name: &str) -> Option<String> {
        self.migrations
            .iter()
            .flat_map(|m| m.upgrade_ops())
            .filter_map(|op| match &op.kind {
                OpKind::CreateIndex(ix)
                    if ix
                        .name
                        .as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case(name)) =>
                {
                    Some(ix.table.clone())
                }
                _ => None,
            })
            .last()
    }
}

/// What to read beyond the migrations, for the rules that will run.
#[derive(Clone, Copy, Default)]
pub struct Wanted {
    /// Run each migration's SQL in SQLite (`sqlite-exec`).
    pub execute_sql: bool,
    /// The application's queries (`filtered-column-index`, `drop-still-read`).
    pub queries: bool,
    /// The application's models (`model-drift`).
    pub models: bool,
}

/// The message of a caught panic.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// Debug builds only: `MIGLINT_DEBUG_PANIC=<file name>` makes reading that
/// file panic, so tests can prove a crash stays contained to one file.
fn inject_fault(file: &SourceFile) {
    if cfg!(debug_assertions)
        && let Some(name) = std::env::var_os("MIGLINT_DEBUG_PANIC")
        && file.path.file_name() == Some(name.as_os_str())
    {
        panic!("injected fault for {}", file.display_path);
    }
}

/// A file whose reading crashed: where, and the panic's message.
pub type Crash = (Span, String);

/// Files read and migrations loaded, before any rule runs.
pub struct Loaded {
    pub sources: SourceDb,
    pub sets: Vec<SetAnalysis>,
    pub files: usize,
    pub skipped: Vec<Skipped>,
    pub only: Option<BTreeSet<PathBuf>>,
    /// Files whose reading crashed.
    pub crashed: Vec<Crash>,
    /// The folders named on the command line.
    pub roots: Vec<PathBuf>,
    /// `--changed-only`: files added or changed since the base.
    pub changed: Option<BTreeSet<FileId>>,
    /// `miglint: ignore` comments in model files.
    pub model_suppressions: Vec<SuppressionComment>,
    /// What could not be read in the baseline schema.
    pub baseline_notes: Vec<(Span, String)>,
    /// Texts that stand in for files on disk (an editor's open buffers).
    pub texts: Texts,
}

impl Loaded {
    /// A file's bytes: its text when one stands in for it, else the disk's.
    pub fn read(&self, path: &Path) -> Option<Vec<u8>> {
        match self.texts.get(path) {
            Some(text) => Some(text.clone().into_bytes()),
            None => std::fs::read(path).ok(),
        }
    }
}

/// Reads and loads every discovered file (in parallel), builds and replays
/// the sets, and reads what else `wanted` asks for.
pub fn analyse(settings: &Settings, discovery: Discovery, wanted: Wanted) -> Loaded {
    analyse_with(settings, discovery, wanted, None)
}

/// What a long-running process (the language server) keeps from one run
/// to the next: migrations and the application's queries already read,
/// taken again when their files did not change.
#[derive(Default)]
pub struct Memo {
    pub loads: crate::load::LoadMemo,
    pub queries: ScanMemo,
}

/// [`analyse`], taking from `memo` what the files did not change.
pub fn analyse_with(
    settings: &Settings,
    discovery: Discovery,
    wanted: Wanted,
    memo: Option<&Memo>,
) -> Loaded {
    let mut loaded = load_sets(settings, discovery, wanted.execute_sql, memo);
    if wanted.queries {
        attach_queries(settings, &mut loaded, memo.map(|m| &m.queries));
    }
    if wanted.models || settings.baseline_models {
        attach_models(settings, &mut loaded);
    }
    if settings.baseline_models {
        models_as_baseline(&mut loaded);
    }
    loaded
}

/// `baseline = "models"`: tables the models map that no migration creates
/// were made by `create_all()` before the chain, so using them is no
/// error. What they held then is not known (the models describe them as
/// they are now), so they stay uncertain, as an uncreated table does, and a
/// note names them.
fn models_as_baseline(loaded: &mut Loaded) {
    for set in &mut loaded.sets {
        let Some(first) = set.migrations.first().map(|m| m.file) else {
            continue;
        };
        let mapped: BTreeSet<String> = set
            .models
            .tables
            .iter()
            .map(|t| t.table.to_ascii_lowercase())
            .collect();
        use crate::schema::facts::{Conflict, Fact};
        let mut taken = Vec::new();
        set.replay.events.retain(|e| match &e.fact {
            Fact::Conflict(Conflict::NeverCreated { table })
                if mapped.contains(&table.to_ascii_lowercase()) =>
            {
                taken.push(table.clone());
                false
            }
            // A foreign key to a table `create_all()` made.
            Fact::DanglingForeignKey { target, .. }
                if mapped.contains(&target.to_ascii_lowercase())
                    && set.replay.schema.table(target).is_none() =>
            {
                false
            }
            _ => true,
        });
        let message = if set.models.tables.is_empty() {
            "baseline = \"models\", but no SQLAlchemy models were found: set `models` to where they are".to_string()
        } else if taken.is_empty() {
            continue;
        } else {
            taken.sort();
            let shown: Vec<String> = taken.iter().take(5).map(|t| format!("`{t}`")).collect();
            let more = match taken.len() {
                n if n > 5 => format!(" and {} more", n - 5),
                _ => String::new(),
            };
            format!(
                "baseline = \"models\": {}{more} taken as made by `create_all()` before the first migration; what they held then is not known, so operations on them are not judged",
                shown.join(", ")
            )
        };
        loaded
            .baseline_notes
            .push((Span::new(first, 0, 0), message));
    }
}

/// [`load`], running the migrations' SQL in SQLite while the sets are
/// replayed when `execute_sql`.
fn load_sets(
    settings: &Settings,
    discovery: Discovery,
    execute_sql: bool,
    memo: Option<&Memo>,
) -> Loaded {
    let cwd = std::env::current_dir().ok();
    let mut sources = SourceDb::default();
    let Discovery {
        sets: set_inputs,
        only,
        skipped,
        roots,
        base_label,
        changed_only,
        texts,
    } = discovery;

    // Decode every file in parallel, then number them in a fixed order.
    struct Pending {
        set: usize,
        flavour: crate::migration::Flavour,
        main: SourceFile,
        rollback: Option<SourceFile>,
    }
    let mut dirs = Vec::new();
    let mut inputs = Vec::new();
    let mut bases = Vec::new();
    for (si, set) in set_inputs.into_iter().enumerate() {
        bases.push(set.base);
        dirs.push((
            set.dir,
            set.flavour,
            set.dialect,
            set.dialect_evidence,
            set.env,
            set.other_dirs,
        ));
        for f in set.files {
            inputs.push((si, f));
        }
    }
    let pending: Vec<Pending> = inputs
        .into_par_iter()
        .map(|(set, f)| {
            let shown = display_path(&f.path, cwd.as_deref());
            let main = SourceFile::from_vec(&f.path, shown, f.bytes);
            let rollback = f.rollback.map(|(p, bytes)| {
                let shown = display_path(&p, cwd.as_deref());
                SourceFile::from_vec(&p, shown, bytes)
            });
            Pending {
                set,
                flavour: f.flavour,
                main,
                rollback,
            }
        })
        .collect();
    let files = pending.len();
    sources.reserve(pending.len() + pending.iter().filter(|p| p.rollback.is_some()).count());
    let mut jobs = Vec::with_capacity(pending.len());
    for p in pending {
        let main = sources.add(p.main);
        let rollback = p.rollback.map(|r| sources.add(r));
        jobs.push((p.set, p.flavour, main, rollback));
    }

    let mut crashed = Vec::new();
    let dialects: Vec<Dialect> = dirs.iter().map(|d| d.2).collect();
    let loaded: Vec<(usize, Result<Migration, Crash>)> = jobs
        .par_iter()
        .map(|&(set, flavour, main, rollback)| {
            let file = sources.get(main);
            let rb = rollback.map(|id| (sources.get(id), id));
            let result = catch_unwind(AssertUnwindSafe(|| {
                inject_fault(file);
                match memo {
                    Some(memo) => memo.loads.load(flavour, file, main, rb, dialects[set]),
                    None => crate::load::load(flavour, file, main, rb, dialects[set]),
                }
            }))
            .map_err(|payload| (Span::new(main, 0, 0), panic_message(&*payload)));
            (set, result)
        })
        .collect();

    let mut per_set: Vec<Vec<Migration>> = (0..dirs.len()).map(|_| Vec::new()).collect();
    for (set, result) in loaded {
        match result {
            Ok(m) => per_set[set].push(m),
            Err(d) => crashed.push(d),
        }
    }
    let mut sets: Vec<MigrationSet> = dirs
        .into_iter()
        .zip(per_set)
        .map(
            |((dir, flavour, dialect, evidence, env, other_dirs), mut migrations)| {
                let alembic = flavour == crate::migration::SetFlavour::Alembic;
                if alembic {
                    for m in &mut migrations {
                        m.in_transaction = env.transaction;
                    }
                }
                let convention = if alembic {
                    crate::load::env::of_versions(&dir)
                } else {
                    Default::default()
                };
                let mut set = MigrationSet::new(dir, flavour, migrations)
                    .with_dialect(dialect, evidence)
                    .spanning(other_dirs);
                set.env = env;
                set.naming_convention = convention;
                set
            },
        )
        .collect();
    let mut changed = changed_only.then(BTreeSet::new);
    if let Some(label) = &base_label {
        for (set, files) in sets.iter_mut().zip(bases) {
            let base =
                crate::chain::BaseSet::load(set, files.unwrap_or_default(), label, &mut sources);
            if let Some(changed) = changed.as_mut() {
                changed.extend(base.changed_files(set, &sources));
            }
            set.base = Some(Box::new(base));
        }
    }
    let cache_dir = settings.cache_dir.as_deref();
    let (start, baseline_notes) = baseline(settings, &mut sources);
    let sets = sets
        .into_iter()
        .map(|set| {
            let execute = execute_sql && set.dialect == Dialect::Sqlite;
            SetAnalysis::new(set, start.clone(), execute.then_some((&sources, cache_dir)))
        })
        .collect();
    Loaded {
        sources,
        sets,
        files,
        skipped,
        only,
        crashed,
        roots,
        changed,
        model_suppressions: Vec::new(),
        baseline_notes,
        texts,
    }
}

/// The schema databases start from: the configured `baseline` (a schema
/// dump, read like a SQL migration and applied), else empty. What in it
/// cannot be read is returned as notes.
fn baseline(settings: &Settings, sources: &mut SourceDb) -> (Schema, Vec<(Span, String)>) {
    let mut schema = Schema::default();
    let Some(path) = &settings.baseline else {
        return (schema, Vec::new());
    };
    let cwd = std::env::current_dir().ok();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            // Checked when the configuration was read; gone since.
            let id = sources.add(SourceFile::from_bytes(
                path,
                display_path(path, cwd.as_deref()),
                b"",
            ));
            return (
                schema,
                vec![(Span::new(id, 0, 0), format!("baseline not read: {e}"))],
            );
        }
    };
    let file = SourceFile::from_bytes(path, display_path(path, cwd.as_deref()), &bytes);
    let id = sources.add(file);
    let (ops, problems) = crate::load::load_schema_sql(
        sources.get(id),
        id,
        settings.dialect.unwrap_or(Dialect::Sqlite),
    );
    for op in &ops {
        crate::schema::replay::apply_quietly(&mut schema, op, crate::migration::Flavour::YoyoSql);
    }
    let notes = problems
        .into_iter()
        .map(|p| {
            (
                p.span,
                format!("baseline statement not read: {}", p.message),
            )
        })
        .collect();
    (schema, notes)
}

/// Groups the sets by where their application code is read from: the
/// `configured` places, else each set's project root.
fn by_project(loaded: &Loaded, configured: &[PathBuf]) -> Vec<(Vec<PathBuf>, Vec<usize>)> {
    let mut by_root: std::collections::BTreeMap<Vec<PathBuf>, Vec<usize>> = Default::default();
    for (i, set) in loaded.sets.iter().enumerate() {
        let places = if configured.is_empty() {
            let boundary = loaded
                .roots
                .iter()
                .filter(|r| set.dir.starts_with(r))
                .max_by_key(|r| r.components().count())
                .cloned()
                .unwrap_or_else(|| PathBuf::from("."));
            vec![crate::project::files::project_root(&set.dir, &boundary)]
        } else {
            configured.to_vec()
        };
        by_root.entry(places).or_default().push(i);
    }
    by_root.into_iter().collect()
}

/// The files of `places`: files as they are, folders walked by `walk`
/// with what to leave out (the migration folders, and the other projects
/// nested inside the folder).
fn files_of(
    places: &[PathBuf],
    groups: &[(Vec<PathBuf>, Vec<usize>)],
    migration_dirs: &[PathBuf],
    walk: impl Fn(&Path, &[PathBuf]) -> Vec<PathBuf>,
) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let inside = |place: &Path| {
        let place = place.canonicalize().ok();
        migration_dirs.iter().any(|d| {
            let d = d.canonicalize().ok();
            place.as_ref().zip(d).is_some_and(|(p, d)| p.starts_with(d))
        })
    };
    for place in places {
        if place.is_file() {
            files.push(place.clone());
            continue;
        }
        // Linted from inside a migrations folder: no application there.
        if inside(place) {
            continue;
        }
        let mut exclude = migration_dirs.to_vec();
        exclude.extend(
            groups
                .iter()
                .flat_map(|(p, _)| p)
                .filter(|other| {
                    *other != place
                        && (place == Path::new(".") || other.starts_with(place))
                        && other.is_dir()
                })
                .cloned(),
        );
        files.extend(walk(place, &exclude));
    }
    files
}

/// The folders that hold migration code rather than the application's: each
/// set's folder, and for Alembic its whole script directory (the folder
/// with `env.py`, where helper modules the revisions import live: their SQL
/// runs before and during the migrations, not in the application).
fn migration_code_dirs(loaded: &Loaded) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for s in &loaded.sets {
        dirs.push(s.dir.clone());
        if s.flavour == crate::migration::SetFlavour::Alembic
            && let Some(env_py) = crate::project::env_py::env_py_of(&s.dir)
            && let Some(script_dir) = env_py.parent()
        {
            dirs.push(script_dir.to_path_buf());
        }
    }
    dirs
}

/// Reads the application's queries for every set (`filtered-column-index`, `drop-still-read`).
fn attach_queries(settings: &Settings, loaded: &mut Loaded, memo: Option<&ScanMemo>) {
    let cwd = std::env::current_dir().ok();
    let migration_dirs = migration_code_dirs(loaded);
    let groups = by_project(loaded, &settings.queries);
    for (places, set_indexes) in &groups {
        let files = files_of(places, &groups, &migration_dirs, |p, exclude| {
            crate::project::files::application_files(p, exclude)
        });
        let first = loaded.sources.len() as u32;
        let read = |p: &Path| loaded.read(p);
        let (new_sources, uses) = match memo {
            Some(memo) => memo.scan(&files, first, cwd.as_deref(), &read),
            None => crate::app::queries::scan(&files, first, cwd.as_deref(), &read),
        };
        for f in new_sources {
            loaded.sources.add(f);
        }
        for &i in set_indexes {
            loaded.sets[i].queries = uses.clone();
        }
    }
}

/// Reads the SQLAlchemy models for every set (`model-drift`).
fn attach_models(settings: &Settings, loaded: &mut Loaded) {
    let cwd = std::env::current_dir().ok();
    let migration_dirs = migration_code_dirs(loaded);
    let configured = !settings.models.is_empty();
    let groups = by_project(loaded, &settings.models);
    for (places, set_indexes) in &groups {
        let files = files_of(places, &groups, &migration_dirs, |p, exclude| {
            if configured {
                crate::project::files::application_files(p, exclude)
                    .into_iter()
                    .filter(|f| f.extension().is_some_and(|e| e == "py"))
                    .collect()
            } else {
                crate::project::files::model_files(p, exclude)
            }
        });
        let sources: Vec<SourceFile> = files
            .par_iter()
            .filter_map(|p| {
                let bytes = loaded.read(p)?;
                Some(SourceFile::from_bytes(
                    p,
                    display_path(p, cwd.as_deref()),
                    &bytes,
                ))
            })
            .collect();
        let first = loaded.sources.len() as u32;
        let parsed: Vec<crate::load::python::PyFile> = sources
            .iter()
            .enumerate()
            .map(|(i, f)| crate::load::python::PyFile::parse(f, FileId(first + i as u32)))
            .collect();
        let models = std::sync::Arc::new(crate::app::models::read(&parsed));
        for py in &parsed {
            loaded.model_suppressions.extend(py.suppressions());
        }
        drop(parsed);
        for f in sources {
            loaded.sources.add(f);
        }
        for (i, own) in models_per_set(&models, set_indexes, &loaded.sets) {
            loaded.sets[i].models = own;
        }
    }
}

/// The models each of a project's sets is compared with. One set takes
/// them all. Several (two Alembic chains for two databases, each with its
/// own declarative base) each take the models of the tables they hold at
/// head or start from; a model whose table no set holds goes to the first,
/// so it is reported once.
fn models_per_set(
    models: &Arc<ModelSet>,
    set_indexes: &[usize],
    sets: &[SetAnalysis],
) -> Vec<(usize, Arc<ModelSet>)> {
    if set_indexes.len() < 2 {
        return set_indexes.iter().map(|&i| (i, models.clone())).collect();
    }
    // A set whose migrations create tables miglint cannot name (a
    // run-time prefix) may hold any table.
    let holds = |i: usize, table: &str| {
        let set = &sets[i];
        set.replay.schema.table(table).is_some()
            || set.start.table(table).is_some()
            || set.replay.uncertain.table(table)
    };
    set_indexes
        .iter()
        .enumerate()
        .map(|(n, &i)| {
            let tables = models
                .tables
                .iter()
                .filter(|m| {
                    holds(i, &m.table)
                        || (n == 0 && !set_indexes.iter().any(|&j| holds(j, &m.table)))
                })
                .cloned()
                .collect();
            let own = ModelSet {
                tables,
                unresolved: models.unresolved.clone(),
                index_unplaced: models.index_unplaced,
            };
            (i, Arc::new(own))
        })
        .collect()
}
