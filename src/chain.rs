//! Orders a folder's migrations into their revision graph and records what
//! is wrong with it. Everything after this stage sees an ordered list.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;

use crate::load::env::NamingConvention;
use crate::migration::{Flavour, Migration, Named, Parents, SetFlavour};
use crate::project::config::Dialect;
use crate::project::env_py::AlembicEnv;

/// One migrations folder: its migrations in file-name order and their graph.
pub struct MigrationSet {
    pub dir: PathBuf,
    pub flavour: SetFlavour,
    /// Sorted by file name.
    pub migrations: Vec<Migration>,
    pub chain: Chain,
    /// File numbers, when the folder numbers its files.
    pub numbering: Option<Numbering>,
    /// With `--base`: the folder as it is at the merge base.
    pub base: Option<Box<BaseSet>>,
    /// The database the folder is written for.
    pub dialect: Dialect,
    /// Where the project said so, when it was detected rather than
    /// configured ([`crate::project::dialect`]).
    pub dialect_evidence: Option<String>,
    /// What Alembic's `env.py` says about every migration.
    pub env: AlembicEnv,
    /// The naming convention of the `target_metadata` Alembic's `env.py`
    /// passes ([`crate::load::env`]).
    pub naming_convention: NamingConvention,
    /// Other folders of the same Alembic revision graph, whose files are
    /// among `migrations` (see [`MigrationSet::spanning`]).
    pub other_dirs: Vec<PathBuf>,
}

/// A migrations folder at the merge base (`--base`).
pub struct BaseSet {
    /// What the user named the base (`origin/main`).
    pub label: String,
    /// Each file at the merge base: (file name, its source in the `SourceDb`).
    pub files: Vec<(String, crate::source::FileId)>,
    /// The migrations on the base branch's tip (loaded like the current
    /// ones): new migrations must come after these.
    pub migrations: MigrationSet,
}

impl BaseSet {
    /// Loads the base's files; their sources are added to `sources` so
    /// findings can point into them (a deleted migration, say).
    pub fn load(
        current: &MigrationSet,
        mut files: crate::project::discover::BaseFiles,
        label: &str,
        sources: &mut crate::source::SourceDb,
    ) -> BaseSet {
        let dialect = current.dialect;
        let dirs = std::mem::take(&mut files.dirs);
        let mut add = |files: Vec<(String, Vec<u8>)>| -> Vec<(String, crate::source::FileId)> {
            files
                .into_iter()
                .map(|(name, bytes)| {
                    let path = dirs.get(&name).unwrap_or(&current.dir).join(&name);
                    let shown = format!("{label}:{}", crate::paths::display_path(&path, None));
                    let id =
                        sources.add(crate::source::SourceFile::from_bytes(&path, shown, &bytes));
                    (name, id)
                })
                .collect()
        };
        let ids = add(std::mem::take(&mut files.merge_base));
        let tip_ids = add(std::mem::take(&mut files.tip));
        let mut migrations = Vec::new();
        for (name, id) in &tip_ids {
            let flavour = match current.flavour {
                SetFlavour::Alembic if name.ends_with(".py") => Flavour::Alembic,
                SetFlavour::Yoyo if name.ends_with(".py") => Flavour::YoyoPy,
                SetFlavour::Yoyo if name.ends_with(".sql") && !name.ends_with(".rollback.sql") => {
                    Flavour::YoyoSql
                }
                SetFlavour::Sql(tool)
                    if tool
                        .parse(name)
                        .is_some_and(|p| p.part != crate::layout::Part::Down) =>
                {
                    Flavour::Sql(tool)
                }
                _ => continue,
            };
            migrations.push(crate::load::load(
                flavour,
                sources.get(*id),
                *id,
                None,
                dialect,
            ));
        }
        BaseSet {
            label: label.to_string(),
            files: ids,
            migrations: MigrationSet::new(current.dir.clone(), current.flavour, migrations)
                .with_dialect(dialect, None),
        }
    }

    /// The current files added or changed since the base.
    pub fn changed_files(
        &self,
        current: &MigrationSet,
        sources: &crate::source::SourceDb,
    ) -> Vec<crate::source::FileId> {
        let mut out = Vec::new();
        for m in &current.migrations {
            for id in std::iter::once(m.file).chain(m.rollback_file) {
                let f = sources.get(id);
                let name = Some(crate::layout::name_in_set(&f.path));
                let at_base = self
                    .files
                    .iter()
                    .find(|(n, _)| Some(n) == name.as_ref())
                    .map(|(_, b)| &sources.get(*b).text);
                if at_base != Some(&f.text) {
                    out.push(id);
                }
            }
        }
        out
    }
}

/// The sequence numbers of a numbered folder, computed once.
#[derive(Debug, Default)]
pub struct Numbering {
    /// (number, digits) of each migration, by index.
    pub of: Vec<Option<(u64, usize)>>,
    /// (number, index), sorted.
    pub sorted: Vec<(u64, usize)>,
}

impl Numbering {
    /// Numbered when at least half of the files carry a sequence number.
    /// Folders of hex revision ids or dates are not numbered.
    fn of_set(migrations: &[Migration]) -> Option<Numbering> {
        let of: Vec<_> = migrations.iter().map(|m| file_number(&m.stem)).collect();
        let count = of.iter().filter(|n| n.is_some()).count();
        if count == 0 || count * 2 < migrations.len() {
            return None;
        }
        let mut sorted: Vec<(u64, usize)> = of
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n.map(|(k, _)| (k, i)))
            .collect();
        sorted.sort();
        Some(Numbering { of, sorted })
    }

    pub fn number(&self, i: usize) -> Option<u64> {
        self.of.get(i).copied().flatten().map(|(n, _)| n)
    }

    /// The migration numbered just below migration `i`.
    pub fn previous(&self, i: usize) -> Option<usize> {
        let n = self.number(i)?;
        let below = self.sorted.partition_point(|&(k, _)| k < n);
        below.checked_sub(1).map(|p| self.sorted[p].1)
    }

    /// The highest number in the folder.
    pub fn top(&self) -> u64 {
        self.sorted.last().map(|l| l.0).unwrap_or(0)
    }
}

impl MigrationSet {
    /// Sorts the migrations by file name (a SQL-folder tool's by version)
    /// and builds their graph and numbering.
    pub fn new(dir: PathBuf, flavour: SetFlavour, mut migrations: Vec<Migration>) -> Self {
        if let Some(tool) = flavour.tool() {
            migrations.sort_by(|a, b| {
                tool.version_key(a.id_str())
                    .cmp(&tool.version_key(b.id_str()))
                    .then_with(|| a.stem.cmp(&b.stem))
            });
        } else {
            migrations.sort_by(|a, b| a.stem.cmp(&b.stem));
        }
        let chain = Chain::build(flavour, &migrations);
        let numbering = Numbering::of_set(&migrations);
        MigrationSet {
            dir,
            flavour,
            migrations,
            chain,
            numbering,
            base: None,
            dialect: Dialect::Sqlite,
            dialect_evidence: None,
            env: AlembicEnv::default(),
            naming_convention: NamingConvention::Default,
            other_dirs: Vec::new(),
        }
    }

    /// The set as one revision graph over several folders: each folder
    /// numbers its own files, so file numbers say nothing about the order.
    pub fn spanning(mut self, other_dirs: Vec<PathBuf>) -> Self {
        if !other_dirs.is_empty() {
            self.numbering = None;
        }
        self.other_dirs = other_dirs;
        self
    }

    /// The set as linted for `dialect`, detected from `evidence` when given.
    pub fn with_dialect(mut self, dialect: Dialect, evidence: Option<String>) -> Self {
        self.dialect = dialect;
        self.dialect_evidence = evidence;
        self
    }

    /// Migrations in applied order (parents first).
    pub fn ordered(&self) -> impl Iterator<Item = &Migration> {
        self.chain.order.iter().map(|&i| &self.migrations[i])
    }
}

/// The revision graph of one set.
#[derive(Debug, Default)]
pub struct Chain {
    /// Revision id → indices of the migrations that claim it.
    pub by_id: HashMap<String, Vec<usize>>,
    /// Effective parents of each migration (indices). For yoyo files that
    /// declare no dependencies, the previous file, as yoyo orders them.
    pub parents: Vec<Vec<usize>>,
    /// Parent references that name no migration: (child index, the reference).
    pub missing: Vec<(usize, Named)>,
    pub roots: Vec<usize>,
    pub heads: Vec<usize>,
    /// Topological order, ties broken by file name.
    pub order: Vec<usize>,
    /// Migrations that could not be ordered because they sit on a cycle.
    pub cycle: Vec<usize>,
}

impl Chain {
    pub fn build(flavour: SetFlavour, migrations: &[Migration]) -> Chain {
        let mut chain = Chain::default();
        for (i, m) in migrations.iter().enumerate() {
            if let Some(id) = &m.id {
                chain.by_id.entry(id.name.clone()).or_default().push(i);
            }
        }
        for (i, m) in migrations.iter().enumerate() {
            let mut parents = Vec::new();
            match &m.parents {
                Parents::Of(list) => {
                    for p in list {
                        match chain.by_id.get(&p.name) {
                            Some(idx) => parents.push(idx[0]),
                            None => chain.missing.push((i, p.clone())),
                        }
                    }
                }
                Parents::Root | Parents::Undeclared
                    if flavour.ordered_by_name() && i > 0 && m.parents_span.is_none() =>
                {
                    parents.push(i - 1);
                }
                _ => {}
            }
            parents.retain(|&p| p != i);
            chain.parents.push(parents);
        }
        let n = migrations.len();
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut indegree = vec![0usize; n];
        for (i, ps) in chain.parents.iter().enumerate() {
            for &p in ps {
                children[p].push(i);
                indegree[i] += 1;
            }
        }
        let has_missing: BTreeSet<usize> = chain.missing.iter().map(|(i, _)| *i).collect();
        for (i, kids) in children.iter().enumerate() {
            if chain.parents[i].is_empty() && !has_missing.contains(&i) {
                chain.roots.push(i);
            }
            if kids.is_empty() {
                chain.heads.push(i);
            }
        }
        let mut ready: BTreeSet<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
        while let Some(i) = ready.pop_first() {
            chain.order.push(i);
            for &c in &children[i] {
                indegree[c] -= 1;
                if indegree[c] == 0 {
                    ready.insert(c);
                }
            }
        }
        if chain.order.len() < n {
            let placed: BTreeSet<usize> = chain.order.iter().copied().collect();
            chain.cycle = (0..n).filter(|i| !placed.contains(i)).collect();
            // Keep every migration visible to later stages, in file order.
            chain.order.extend(chain.cycle.iter().copied());
            chain.heads.retain(|h| !chain.cycle.contains(h));
        } else if flavour == SetFlavour::Alembic && chain.missing.is_empty() {
            chain.order = alembic_order(&chain.parents, &chain.heads);
        }
        chain
    }
}

/// The order `alembic upgrade heads` applies a revision graph in: Alembic's
/// own topological sort (`RevisionMap._topological_sort`), which walks down
/// from the heads (in file order), staying on one branch until another
/// head still needs its next revision, then reversed. Sibling branches run
/// one after the other as Alembic runs them, which matters when both touch
/// the same table. `parents` in declared order, indices in file order (as
/// Alembic's revision map, read from the sorted file names).
fn alembic_order(parents: &[Vec<usize>], heads: &[usize]) -> Vec<usize> {
    let ancestors = |from: usize| -> HashSet<usize> {
        let mut seen = HashSet::from([from]);
        let mut todo = vec![from];
        while let Some(i) = todo.pop() {
            for &p in &parents[i] {
                if seen.insert(p) {
                    todo.push(p);
                }
            }
        }
        seen
    };
    let mut todo: HashSet<usize> = heads.iter().flat_map(|&h| ancestors(h)).collect();
    let mut current: Vec<usize> = heads.to_vec();
    let mut ancestors_of: Vec<HashSet<usize>> = current.iter().map(|&h| ancestors(h)).collect();
    let mut out = Vec::with_capacity(todo.len());
    let mut at = 0;
    while !current.is_empty() {
        let candidate = current[at];
        // Another head that still needs the candidate is walked first.
        if let Some(other) =
            (0..current.len()).find(|&k| k != at && ancestors_of[k].contains(&candidate))
        {
            at = other;
            continue;
        }
        if todo.remove(&candidate) {
            out.push(candidate);
        }
        let next: Vec<usize> = parents[candidate]
            .iter()
            .copied()
            .filter(|p| todo.contains(p) && !current.contains(p))
            .collect();
        if next.is_empty() {
            current.remove(at);
            ancestors_of.remove(at);
            at = at.saturating_sub(1);
        } else if parents[candidate].len() == 1 {
            current[at] = next[0];
            ancestors_of[at].remove(&candidate);
        } else {
            current[at] = next[0];
            ancestors_of[at] = ancestors(next[0]);
            for &p in &next[1..] {
                current.push(p);
                ancestors_of.push(ancestors(p));
            }
        }
    }
    out.reverse();
    out
}

/// The leading number of a migration file name: `007_add_users` → (7, 3 digits).
/// Long digit runs (dates, timestamps) do not count as sequence numbers.
pub fn file_number(stem: &str) -> Option<(u64, usize)> {
    if is_dated(stem) {
        return None;
    }
    let digits = stem.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 6 || stem.as_bytes().get(digits) != Some(&b'_') {
        return None;
    }
    stem[..digits].parse().ok().map(|n| (n, digits))
}

/// Alembic `file_template`s that start with the date
/// (`2022_02_04_093838_619bea85701a_slug`, `2022-02-04_...`): the year is
/// not a sequence number.
fn is_dated(stem: &str) -> bool {
    let b = stem.as_bytes();
    let digits = |from: usize, n: usize| {
        b.len() >= from + n && b[from..from + n].iter().all(u8::is_ascii_digit)
    };
    let sep = |at: usize| matches!(b.get(at), Some(b'_' | b'-'));
    digits(0, 4) && sep(4) && digits(5, 2) && sep(7) && digits(8, 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, Span};

    fn mig(stem: &str, parents: &[&str]) -> Migration {
        let mut m = Migration::new(FileId(0), Flavour::Alembic, stem.to_string());
        let span = Span::new(FileId(0), 0, 0);
        m.id = Some(Named {
            name: stem[..3].to_string(),
            span,
        });
        m.parents = if parents.is_empty() {
            Parents::Root
        } else {
            Parents::Of(
                parents
                    .iter()
                    .map(|p| Named {
                        name: p.to_string(),
                        span,
                    })
                    .collect(),
            )
        };
        m
    }

    #[test]
    fn dated_file_templates_are_not_numbered() {
        assert_eq!(file_number("2022_02_04_093838_619bea85701a_slug"), None);
        assert_eq!(file_number("2024-01-31_add_users"), None);
        assert_eq!(file_number("007_add_users"), Some((7, 3)));
        assert_eq!(file_number("2022_add_users"), Some((2022, 4)));
    }

    #[test]
    fn orders_parents_first_and_finds_heads() {
        let set = MigrationSet::new(
            PathBuf::from("v"),
            SetFlavour::Alembic,
            vec![
                mig("003_c", &["001"]),
                mig("001_a", &[]),
                mig("002_b", &["001"]),
            ],
        );
        let order: Vec<_> = set.ordered().map(|m| m.stem.as_str()).collect();
        // Alembic walks down from the heads in file order and emits the
        // later sibling first on the way up (held against real Alembic by
        // tests/oracle.rs).
        assert_eq!(order, ["001_a", "003_c", "002_b"]);
        assert_eq!(set.chain.heads.len(), 2);
        assert_eq!(set.chain.roots, vec![0]);
    }

    #[test]
    fn finds_cycles_and_missing_parents() {
        let set = MigrationSet::new(
            PathBuf::from("v"),
            SetFlavour::Alembic,
            vec![
                mig("001_a", &["002"]),
                mig("002_b", &["001"]),
                mig("003_c", &["009"]),
            ],
        );
        assert_eq!(set.chain.cycle, vec![0, 1]);
        assert_eq!(set.chain.missing[0].1.name, "009");
        assert_eq!(set.chain.order.len(), 3);
    }
}
