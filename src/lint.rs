//! One lint run: discovered files → sources → migrations (in parallel) →
//! chains → rules → suppressions → sorted diagnostics.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::chain::MigrationSet;
use crate::config::Settings;
use crate::diagnostic::Diagnostic;
use crate::discover::{Discovery, Skipped};
use crate::model::Migration;
use crate::rules::{Context, RuleSet, internal_error};
use crate::source::{FileId, SourceDb, SourceFile, Span};
use crate::suppress;

/// What a run found.
pub struct Outcome {
    pub sources: SourceDb,
    pub diagnostics: Vec<Diagnostic>,
    /// Migration files read (rollback companions not counted).
    pub files: usize,
    pub skipped: Vec<Skipped>,
    pub sets: Vec<MigrationSet>,
    /// What a rule could not check (code it cannot read statically).
    pub notes: Vec<Note>,
}

/// Something left unchecked, with where it is.
#[derive(Clone, Debug)]
pub struct Note {
    pub span: Span,
    pub message: String,
}

impl Outcome {
    pub fn errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == crate::diagnostic::Severity::Error)
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
}

/// How a path is shown: relative to the working directory, with `/`.
pub fn display_path(path: &Path, cwd: Option<&Path>) -> String {
    let shown = match cwd {
        Some(cwd) if path.is_absolute() => path.strip_prefix(cwd).unwrap_or(path),
        _ => path,
    };
    let s = shown.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
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

/// Files read and migrations loaded, before any rule runs.
pub struct Loaded {
    pub sources: SourceDb,
    pub sets: Vec<MigrationSet>,
    pub files: usize,
    pub skipped: Vec<Skipped>,
    pub only: Option<BTreeSet<PathBuf>>,
    /// Files whose reading crashed (`internal-error` findings).
    pub crashed: Vec<Diagnostic>,
    /// The folders named on the command line.
    pub roots: Vec<PathBuf>,
    /// `--changed-only`: files added or changed since the base.
    pub changed: Option<BTreeSet<FileId>>,
    /// `miglint: ignore` comments in model files.
    pub model_suppressions: Vec<crate::model::SuppressionComment>,
}

pub fn run(settings: &Settings, rule_set: &RuleSet, discovery: Discovery) -> Outcome {
    let execute_sql = settings.dialect == crate::config::Dialect::Sqlite
        && rule_set
            .severity_of(crate::rules::sqlite_exec::ID)
            .is_some();
    check(
        settings,
        rule_set,
        load_sets(settings, discovery, execute_sql),
    )
}

/// Reads and loads every discovered file (in parallel) and builds the sets.
pub fn load(settings: &Settings, discovery: Discovery) -> Loaded {
    load_sets(settings, discovery, false)
}

/// [`load`], running the migrations' SQL in SQLite while the sets are
/// replayed when `execute_sql`.
fn load_sets(settings: &Settings, discovery: Discovery, execute_sql: bool) -> Loaded {
    let cwd = std::env::current_dir().ok();
    let mut sources = SourceDb::default();
    let Discovery {
        sets: set_inputs,
        only,
        skipped,
        roots,
        base_label,
        changed_only,
    } = discovery;

    // Decode every file in parallel, then number them in a fixed order.
    struct Pending {
        set: usize,
        flavour: crate::model::Flavour,
        main: SourceFile,
        rollback: Option<SourceFile>,
    }
    let mut dirs = Vec::new();
    let mut inputs = Vec::new();
    let mut bases = Vec::new();
    for (si, set) in set_inputs.into_iter().enumerate() {
        bases.push(set.base);
        dirs.push((set.dir, set.flavour));
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
    let loaded: Vec<(usize, Result<Migration, Diagnostic>)> = jobs
        .par_iter()
        .map(|&(set, flavour, main, rollback)| {
            let file = sources.get(main);
            let rb = rollback.map(|id| (sources.get(id), id));
            let result = catch_unwind(AssertUnwindSafe(|| {
                inject_fault(file);
                crate::load::load(flavour, file, main, rb, settings.dialect)
            }))
            .map_err(|payload| {
                internal_error::diagnostic(
                    Span::new(main, 0, 0),
                    &format!("reading this file failed: {}", panic_message(&*payload)),
                )
            });
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
        .map(|((dir, flavour), migrations)| {
            if execute_sql {
                MigrationSet::new_executing(
                    dir,
                    flavour,
                    migrations,
                    &sources,
                    settings.cache_dir.as_deref(),
                )
            } else {
                MigrationSet::new(dir, flavour, migrations)
            }
        })
        .collect();
    let mut changed = changed_only.then(BTreeSet::new);
    if let Some(label) = &base_label {
        for (set, files) in sets.iter_mut().zip(bases) {
            let base = crate::chain::BaseSet::load(
                set,
                files.unwrap_or_default(),
                label,
                &mut sources,
                settings.dialect,
            );
            if let Some(changed) = changed.as_mut() {
                changed.extend(base.changed_files(set, &sources));
            }
            set.base = Some(Box::new(base));
        }
    }
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
    }
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
            vec![crate::queries::project_root(&set.dir, &boundary)]
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
    for place in places {
        if place.is_file() {
            files.push(place.clone());
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

/// Reads the application's queries for every set (`filtered-column-index`).
fn attach_queries(settings: &Settings, loaded: &mut Loaded) {
    let cwd = std::env::current_dir().ok();
    let migration_dirs: Vec<PathBuf> = loaded.sets.iter().map(|s| s.dir.clone()).collect();
    let groups = by_project(loaded, &settings.queries);
    for (places, set_indexes) in &groups {
        let files = files_of(places, &groups, &migration_dirs, |p, exclude| {
            crate::queries::application_files(p, exclude)
        });
        let first = loaded.sources.len() as u32;
        let (new_sources, uses) = crate::queries::scan(&files, first, cwd.as_deref());
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
    let migration_dirs: Vec<PathBuf> = loaded.sets.iter().map(|s| s.dir.clone()).collect();
    let configured = !settings.models.is_empty();
    let groups = by_project(loaded, &settings.models);
    for (places, set_indexes) in &groups {
        let files = files_of(places, &groups, &migration_dirs, |p, exclude| {
            if configured {
                crate::queries::application_files(p, exclude)
                    .into_iter()
                    .filter(|f| f.extension().is_some_and(|e| e == "py"))
                    .collect()
            } else {
                crate::models::model_files(p, exclude)
            }
        });
        let sources: Vec<SourceFile> = files
            .par_iter()
            .filter_map(|p| {
                let bytes = std::fs::read(p).ok()?;
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
        let models = std::sync::Arc::new(crate::models::read(&parsed));
        for py in &parsed {
            loaded.model_suppressions.extend(py.suppressions());
        }
        drop(parsed);
        for f in sources {
            loaded.sources.add(f);
        }
        for &i in set_indexes {
            loaded.sets[i].models = models.clone();
        }
    }
}

/// Runs the rules and suppressions over loaded sets.
fn check(settings: &Settings, rule_set: &RuleSet, mut loaded: Loaded) -> Outcome {
    if rule_set
        .severity_of(crate::rules::filtered_column_index::ID)
        .is_some()
    {
        attach_queries(settings, &mut loaded);
    }
    if rule_set
        .severity_of(crate::rules::model_drift::ID)
        .is_some()
    {
        attach_models(settings, &mut loaded);
    }
    let Loaded {
        sources,
        sets,
        files,
        skipped,
        only,
        crashed,
        roots: _,
        changed,
        model_suppressions,
    } = loaded;
    let mut diagnostics = Vec::new();
    if rule_set.severity_of(internal_error::ID).is_some() {
        diagnostics.extend(crashed);
    }

    let rule_findings: Vec<Vec<Diagnostic>> = sets
        .par_iter()
        .map(|set| {
            let mut out = Vec::new();
            for (meta, severity, rule) in &rule_set.rules {
                let mut found = Vec::new();
                let ran = catch_unwind(AssertUnwindSafe(|| {
                    let mut cx = Context {
                        rule: meta.id,
                        severity: *severity,
                        settings,
                        sources: &sources,
                        out: &mut found,
                    };
                    rule.check(set, &mut cx);
                }));
                match ran {
                    Ok(()) => out.append(&mut found),
                    Err(payload) => {
                        if let Some(first) = set.migrations.first() {
                            out.push(internal_error::diagnostic(
                                Span::new(first.file, 0, 0),
                                &format!(
                                    "rule `{}` failed on this folder: {}",
                                    meta.id,
                                    panic_message(&*payload)
                                ),
                            ));
                        }
                    }
                }
            }
            out
        })
        .collect();
    diagnostics.extend(rule_findings.into_iter().flatten());

    let comments: Vec<_> = sets
        .iter()
        .flat_map(|s| s.migrations.iter())
        .flat_map(|m| m.suppressions.iter().cloned())
        .chain(model_suppressions)
        .collect();
    let mut diagnostics = suppress::apply(diagnostics, &comments, &sources, rule_set);

    if let Some(changed) = &changed {
        // Whole-chain findings stay when a changed file takes part in them.
        diagnostics.retain(|d| {
            changed.contains(&d.span.file)
                || d.labels.iter().any(|l| changed.contains(&l.span.file))
        });
    }
    if let Some(only) = &only {
        let wanted: BTreeSet<FileId> = (0..sources.len() as u32)
            .map(FileId)
            .filter(|&id| only.contains(&PathBuf::from(&sources.get(id).path)))
            .collect();
        diagnostics.retain(|d| wanted.contains(&d.span.file));
    }
    diagnostics.sort_by(|a, b| {
        let pa = &sources.get(a.span.file).display_path;
        let pb = &sources.get(b.span.file).display_path;
        (pa, a.span.start, a.span.end, a.rule, &a.message).cmp(&(
            pb,
            b.span.start,
            b.span.end,
            b.rule,
            &b.message,
        ))
    });
    diagnostics.dedup();
    let mut notes = Vec::new();
    if rule_set
        .severity_of(crate::rules::model_drift::ID)
        .is_some()
    {
        let mut seen: Vec<&std::sync::Arc<crate::models::ModelSet>> = Vec::new();
        for set in &sets {
            if seen.iter().any(|s| std::sync::Arc::ptr_eq(s, &set.models)) {
                continue;
            }
            seen.push(&set.models);
            notes.extend(set.models.unresolved.iter().map(|u| Note {
                span: u.span,
                message: format!("{}: {}", crate::rules::model_drift::ID, u.what),
            }));
        }
    }
    Outcome {
        sources,
        diagnostics,
        files,
        skipped,
        sets,
        notes,
    }
}
