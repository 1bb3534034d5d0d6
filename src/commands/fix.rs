//! How `miglint lint --fix` / `--diff` apply the edits rules attach to
//! their findings ([`crate::edit`] builds them). A fixed file is read again
//! before it is written; when the fix made it unreadable it is left alone.

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostic::{Applicability, Edit};
use crate::edit::apply_edits;
use crate::report::Outcome;
use crate::source::{FileId, SourceFile};

/// Which migration files are history: already applied somewhere, so that a
/// fix there changes nothing in existing databases and makes new ones
/// differ from them.
pub enum History {
    /// With `--base`: the files already at the merge base. Without it, in
    /// a git repository: the files committed in HEAD and not modified
    /// since (staged, modified and untracked files are new).
    Known(BTreeSet<FileId>),
    /// Outside git: no migration is known to be history.
    Unknown,
}

impl History {
    pub fn find(outcome: &Outcome) -> History {
        let file_name = |id: FileId| crate::layout::name_in_set(&outcome.sources.get(id).path);
        let mut history = BTreeSet::new();
        if outcome.sets.iter().any(|s| s.base.is_some()) {
            for set in &outcome.sets {
                let Some(base) = &set.base else { continue };
                for m in &set.migrations {
                    for id in std::iter::once(m.file).chain(m.rollback_file) {
                        let name = file_name(id);
                        if base.files.iter().any(|(n, _)| *n == name) {
                            history.insert(id);
                        }
                    }
                }
            }
            return History::Known(history);
        }
        let Ok(repo) = crate::project::git::Repo::open("--fix") else {
            return History::Unknown;
        };
        for set in &outcome.sets {
            let committed: Vec<(String, crate::project::git::BlobId)> = std::iter::once(&set.dir)
                .chain(&set.other_dirs)
                .flat_map(|dir| repo.committed(dir))
                .collect();
            for m in &set.migrations {
                for id in std::iter::once(m.file).chain(m.rollback_file) {
                    let name = file_name(id);
                    let Some(blob) = committed.iter().find(|(n, _)| *n == name) else {
                        continue;
                    };
                    let text = outcome.sources.get(id).text.as_bytes();
                    if crate::project::git::BlobId::of(text) == Some(blob.1) {
                        history.insert(id);
                    }
                }
            }
        }
        History::Known(history)
    }

    fn contains(&self, id: FileId) -> bool {
        match self {
            History::Known(files) => files.contains(&id),
            History::Unknown => false,
        }
    }
}

/// Marks each finding's fix safe or unsafe: unsafe when it edits history.
/// A fix that may never edit history (it changes what a migration does
/// when it runs) is withdrawn there.
pub fn classify(outcome: &mut Outcome, history: &History) {
    for d in &mut outcome.diagnostics {
        let Some(fix) = &mut d.fix else { continue };
        if fix.files().any(|f| history.contains(f)) {
            if fix.on_history {
                fix.applicability = Applicability::Unsafe;
            } else {
                d.fix = None;
            }
        }
    }
}

/// What `--fix` / `--diff` did.
#[derive(Default)]
pub struct FixReport {
    /// (display path, unified diff) of each changed file.
    pub diffs: Vec<(String, String)>,
    /// Findings whose fix was applied.
    pub fixed: usize,
    /// Files a fix would have made unreadable: (path, why).
    pub refused: Vec<(String, String)>,
    /// Files that could not be written: (path, error).
    pub failed: Vec<(String, String)>,
    /// Fixes left out because they would edit history (`--unsafe-fixes`).
    pub unsafe_left: usize,
    /// Fixes the whole-chain check dropped: (fix, the new finding it raised).
    pub dropped: Vec<(String, String)>,
}

/// Lints the whole chain as it would be with these files' new texts.
/// An error when the project cannot be read again.
pub type ChainCheck<'a> = &'a dyn Fn(&[(std::path::PathBuf, String)]) -> Result<Outcome, String>;

/// Findings of `after` that `before` does not have (by rule, file and
/// message; positions move with the edits), worded for a note.
fn new_findings(before: &Outcome, after: &Result<Outcome, String>) -> Vec<String> {
    let after = match after {
        Ok(after) => after,
        Err(e) => return vec![format!("the chain could not be checked: {e}")],
    };
    let key = |o: &Outcome, d: &crate::diagnostic::Diagnostic| {
        (
            d.rule,
            o.sources.get(d.span.file).display_path.clone(),
            d.message.clone(),
        )
    };
    let mut had: BTreeMap<(&str, String, String), usize> = BTreeMap::new();
    for d in &before.diagnostics {
        *had.entry(key(before, d)).or_default() += 1;
    }
    let mut new = Vec::new();
    for d in &after.diagnostics {
        let k = key(after, d);
        match had.get_mut(&k) {
            Some(n) if *n > 0 => *n -= 1,
            _ => new.push(format!("{}: {}: {}", k.1, k.0, k.2)),
        }
    }
    new
}

/// The texts of the files one fix edits, with only its edits.
fn alone(outcome: &Outcome, fix: &crate::diagnostic::Fix) -> Vec<(FileId, String, usize)> {
    let mut files: Vec<FileId> = fix.edits.iter().map(|e| e.span.file).collect();
    files.sort();
    files.dedup();
    files
        .into_iter()
        .map(|id| {
            let edits: Vec<&Edit> = fix.edits.iter().filter(|e| e.span.file == id).collect();
            (id, apply_edits(&outcome.sources.get(id).text, &edits), 1)
        })
        .collect()
}

/// Applies the fixes of `outcome`'s findings; writes the files when `write`.
/// A fix touching several files (a migration and its rollback) is applied
/// to all of them or to none.
pub fn apply(
    outcome: &Outcome,
    write: bool,
    unsafe_fixes: bool,
    check: Option<ChainCheck>,
) -> FixReport {
    let mut report = FixReport::default();
    let fixes: Vec<&crate::diagnostic::Fix> = outcome
        .diagnostics
        .iter()
        .filter_map(|d| d.fix.as_ref())
        .filter(|f| {
            let wanted = unsafe_fixes || f.applicability == Applicability::Safe;
            report.unsafe_left += usize::from(!wanted);
            wanted
        })
        .collect();
    let mut excluded = vec![false; fixes.len()];
    let mut refused: BTreeMap<FileId, String> = BTreeMap::new();
    // Each round either settles or drops the fixes touching a refused file;
    // then the whole chain is linted with the edits, and fixes that raise
    // a new finding anywhere are dropped (and the rest planned again).
    let planned = loop {
        let planned = loop {
            let mut per_file: BTreeMap<FileId, (Vec<&Edit>, usize)> = BTreeMap::new();
            for (i, fix) in fixes.iter().enumerate() {
                if excluded[i] {
                    continue;
                }
                let mut files: Vec<FileId> = fix.edits.iter().map(|e| e.span.file).collect();
                files.sort();
                files.dedup();
                for e in &fix.edits {
                    per_file.entry(e.span.file).or_default().0.push(e);
                }
                if let Some(f) = files.first() {
                    per_file.entry(*f).or_default().1 += 1;
                }
            }
            let mut planned = Vec::new();
            let mut newly_refused = false;
            for (id, (edits, count)) in per_file {
                let file = outcome.sources.get(id);
                if refused.contains_key(&id) {
                    continue;
                }
                let why = match std::fs::read(&file.path) {
                    // Files decoded from something other than plain UTF-8 (a BOM,
                    // UTF-16) would change beyond the fix: leave them.
                    Ok(bytes) if bytes != file.text.as_bytes() => {
                        Some("not plain UTF-8 (or changed since it was read)".to_string())
                    }
                    Ok(_) => None,
                    Err(e) => Some(e.to_string()),
                };
                let new_text = apply_edits(&file.text, &edits);
                let why = why.or_else(|| unreadable_after(outcome, id, &new_text));
                match why {
                    Some(why) => {
                        refused.insert(id, why);
                        newly_refused = true;
                    }
                    None if new_text != file.text => planned.push((id, new_text, count)),
                    None => {}
                }
            }
            if !newly_refused {
                break planned;
            }
            for (i, fix) in fixes.iter().enumerate() {
                if fix.edits.iter().any(|e| refused.contains_key(&e.span.file)) {
                    excluded[i] = true;
                }
            }
        };
        let Some(check) = &check else { break planned };
        // A renumbering renames its file: its edits make no sense under the
        // old name, and its own tests hold it.
        let renamed: BTreeSet<FileId> = fixes
            .iter()
            .enumerate()
            .filter(|(i, f)| !excluded[*i] && !f.renames.is_empty())
            .flat_map(|(_, f)| f.files())
            .collect();
        let texts = |planned: &[(FileId, String, usize)]| -> Vec<(std::path::PathBuf, String)> {
            planned
                .iter()
                .filter(|(id, _, _)| !renamed.contains(id))
                .map(|(id, text, _)| (outcome.sources.get(*id).path.clone(), text.clone()))
                .collect()
        };
        let new = new_findings(outcome, &check(&texts(&planned)));
        if new.is_empty() {
            break planned;
        }
        // Which fixes raise them: each alone, then the rest together.
        let mut dropped_any = false;
        for (i, fix) in fixes.iter().enumerate() {
            if excluded[i] || fix.edits.is_empty() || !fix.renames.is_empty() {
                continue;
            }
            let alone = alone(outcome, fix);
            let new = new_findings(outcome, &check(&texts(&alone)));
            if let Some(first) = new.first() {
                excluded[i] = true;
                dropped_any = true;
                report.dropped.push((fix.title.clone(), first.clone()));
            }
        }
        if !dropped_any {
            for (i, fix) in fixes.iter().enumerate() {
                if !excluded[i] && fix.renames.is_empty() {
                    excluded[i] = true;
                    report.dropped.push((
                        fix.title.clone(),
                        format!("together with the other fixes: {}", new[0]),
                    ));
                }
            }
        }
    };
    for (id, why) in refused {
        report
            .refused
            .push((outcome.sources.get(id).display_path.clone(), why));
    }
    // Renames ride with the edits of their fix.
    let mut planned: Vec<(FileId, String, usize, Option<String>)> = planned
        .into_iter()
        .map(|(id, text, count)| (id, text, count, None))
        .collect();
    for (i, fix) in fixes.iter().enumerate() {
        if excluded[i] {
            continue;
        }
        for (id, name) in &fix.renames {
            match planned.iter_mut().find(|p| p.0 == *id) {
                Some(p) => p.3 = Some(name.clone()),
                None => planned.push((
                    *id,
                    outcome.sources.get(*id).text.clone(),
                    usize::from(fix.edits.is_empty()),
                    Some(name.clone()),
                )),
            }
        }
    }
    planned.sort_by_key(|p| p.0);
    for (id, new_text, count, rename) in planned {
        let file = outcome.sources.get(id);
        let shown = file.display_path.clone();
        let target = rename.as_ref().map(|name| file.path.with_file_name(name));
        let shown_target = match &rename {
            Some(name) => match shown.rsplit_once('/') {
                Some((dir, _)) => format!("{dir}/{name}"),
                None => name.clone(),
            },
            None => shown.clone(),
        };
        let mut diff = similar::TextDiff::from_lines(file.text.as_str(), new_text.as_str())
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{shown}"), &format!("b/{shown_target}"))
            .to_string();
        if rename.is_some() {
            diff = format!("rename from {shown}\nrename to {shown_target}\n{diff}");
        }
        if write {
            let written = match &target {
                Some(t) => crate::write::write_atomically(t, &new_text, false)
                    .and_then(|()| std::fs::remove_file(&file.path)),
                None => crate::write::write_atomically(&file.path, &new_text, true),
            };
            if let Err(e) = written {
                report.failed.push((shown, e.to_string()));
                continue;
            }
        }
        report.fixed += count;
        report.diffs.push((shown, diff));
    }
    report
}

/// Reads the fixed text again as the migration it belongs to; a reason when
/// it has more problems (syntax errors, SQL that no longer parses) than before.
fn unreadable_after(outcome: &Outcome, id: FileId, new_text: &str) -> Option<String> {
    let (set, migration) = outcome
        .sets
        .iter()
        .flat_map(|s| s.migrations.iter().map(move |m| (s, m)))
        .find(|(_, m)| m.file == id || m.rollback_file == Some(id))?;
    let main = outcome.sources.get(migration.file);
    let rollback = migration.rollback_file.map(|r| outcome.sources.get(r));
    let replaced = |f: &SourceFile, fid: FileId| {
        if fid == id {
            SourceFile::from_bytes(&f.path, f.display_path.clone(), new_text.as_bytes())
        } else {
            SourceFile::from_bytes(&f.path, f.display_path.clone(), f.text.as_bytes())
        }
    };
    let new_main = replaced(main, migration.file);
    let new_rollback = rollback.map(|r| replaced(r, migration.rollback_file.expect("has one")));
    let reloaded = crate::load::load(
        migration.flavour,
        &new_main,
        migration.file,
        new_rollback
            .as_ref()
            .map(|r| (r, migration.rollback_file.expect("has one"))),
        set.dialect,
    );
    (reloaded.problems.len() > migration.problems.len()).then(|| {
        let first = reloaded
            .problems
            .last()
            .map(|p| p.message.clone())
            .unwrap_or_default();
        format!("the fix would make it unreadable ({first}); not written")
    })
}
