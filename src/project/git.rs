//! What git knows: the content staged for the next commit, the migrations
//! as committed in HEAD, and as they are at the merge base with another
//! branch.

use std::path::{Component, Path, PathBuf};

use git2::{ObjectType, Oid, Repository};

use crate::project::config::ConfigError;

pub struct Repo {
    repo: Repository,
    /// The working directory, relative to the repository's top folder.
    cwd_in_repo: PathBuf,
}

/// The migrations' state at the merge base.
pub struct Base {
    /// What the user named (`origin/main`), for messages.
    pub label: String,
    /// The merge base of HEAD and the base branch: what is already merged.
    merge_base: Oid,
    /// The base branch's own tip: what it holds now (another branch may
    /// have added migration 028 since this branch started).
    tip: Oid,
}

/// Which of the base's two trees to read.
#[derive(Clone, Copy)]
pub enum At {
    MergeBase,
    Tip,
}

impl Repo {
    /// The repository holding the working directory. `why` names the option
    /// that needs it, for the error message.
    pub fn open(why: &str) -> Result<Repo, ConfigError> {
        let cwd = std::env::current_dir()
            .map_err(|e| ConfigError(format!("cannot read the working directory: {e}")))?;
        let repo = Repository::discover(&cwd).map_err(|_| {
            ConfigError(format!(
                "{why} needs a git repository, and {} is not inside one",
                cwd.display()
            ))
        })?;
        let top = repo
            .workdir()
            .ok_or_else(|| ConfigError(format!("{why} needs a repository with a working tree")))?;
        let top = std::fs::canonicalize(top).unwrap_or_else(|_| top.to_path_buf());
        let cwd = std::fs::canonicalize(&cwd).unwrap_or(cwd);
        let cwd_in_repo = cwd
            .strip_prefix(&top)
            .unwrap_or(Path::new(""))
            .to_path_buf();
        Ok(Repo { repo, cwd_in_repo })
    }

    /// A path (relative to the working directory) as git names it.
    pub fn git_path(&self, path: &Path) -> PathBuf {
        let joined = if path.is_absolute() {
            let top = self
                .repo
                .workdir()
                .map(|t| std::fs::canonicalize(t).unwrap_or_else(|_| t.to_path_buf()));
            let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
            match top {
                Some(top) => abs.strip_prefix(&top).map(Path::to_path_buf).unwrap_or(abs),
                None => abs,
            }
        } else {
            self.cwd_in_repo.join(path)
        };
        let mut out = PathBuf::new();
        for c in joined.components() {
            match c {
                Component::CurDir => {}
                Component::ParentDir => {
                    out.pop();
                }
                other => out.push(other),
            }
        }
        out
    }

    /// The content of `path` staged in the index, if it is staged.
    pub fn staged(&self, path: &Path) -> Option<Vec<u8>> {
        let index = self.repo.index().ok()?;
        let entry = index.get_path(&self.git_path(path), 0)?;
        let blob = self.repo.find_blob(entry.id).ok()?;
        Some(blob.content().to_vec())
    }

    /// The merge base of HEAD and `reference`.
    pub fn base(&self, reference: &str) -> Result<Base, ConfigError> {
        let missing = |detail: String| {
            let shallow = if self.repo.is_shallow() {
                " This clone is shallow (actions/checkout fetches one commit by default): \
                 fetch the base with `git fetch --depth=1000 origin <branch>`, or set \
                 `fetch-depth: 0` on actions/checkout."
            } else {
                " Fetch it first (`git fetch origin`)."
            };
            ConfigError(format!("--base {reference}: {detail}.{shallow}"))
        };
        let other = self
            .repo
            .revparse_single(reference)
            .and_then(|o| o.peel_to_commit())
            .map_err(|_| missing("no such branch, tag or commit here".into()))?;
        let head = self
            .repo
            .head()
            .and_then(|h| h.peel_to_commit())
            .map_err(|e| {
                ConfigError(format!(
                    "--base needs a commit checked out: {}",
                    e.message()
                ))
            })?;
        let base = self
            .repo
            .merge_base(head.id(), other.id())
            .map_err(|_| missing("no common history with HEAD".to_string()))?;
        let tree_of = |oid: Oid| {
            self.repo
                .find_commit(oid)
                .and_then(|c| c.tree())
                .map(|t| t.id())
                .map_err(|e| ConfigError(format!("--base {reference}: {}", e.message())))
        };
        Ok(Base {
            label: reference.to_string(),
            merge_base: tree_of(base)?,
            tip: tree_of(other.id())?,
        })
    }

    /// The `.py` / `.sql` files directly inside `dir` at the base, with their content.
    pub fn files_at(&self, base: &Base, at: At, dir: &Path) -> Vec<(String, Vec<u8>)> {
        let tree = match at {
            At::MergeBase => base.merge_base,
            At::Tip => base.tip,
        };
        self.files_in(tree, dir)
    }

    /// The `.py` / `.sql` files directly inside `dir` as committed in HEAD
    /// (none before the first commit), by name: the id of their content,
    /// without reading it.
    pub fn committed(&self, dir: &Path) -> Vec<(String, BlobId)> {
        match self.repo.head().and_then(|h| h.peel_to_tree()) {
            Ok(tree) => self
                .entries_in(tree.id(), dir)
                .into_iter()
                .map(|(name, id)| (name, BlobId(id)))
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    fn files_in(&self, tree: Oid, dir: &Path) -> Vec<(String, Vec<u8>)> {
        self.entries_in(tree, dir)
            .into_iter()
            .filter_map(|(name, id)| {
                let blob = self.repo.find_blob(id).ok()?;
                Some((name, blob.content().to_vec()))
            })
            .collect()
    }

    /// The migration files of `dir` in `tree` (diesel's as `folder/up.sql`),
    /// sorted by name, with their blob ids.
    fn entries_in(&self, tree: Oid, dir: &Path) -> Vec<(String, Oid)> {
        let Ok(root) = self.repo.find_tree(tree) else {
            return Vec::new();
        };
        let git_dir = self.git_path(dir);
        let tree = if git_dir.as_os_str().is_empty() {
            Some(root)
        } else {
            root.get_path(&git_dir)
                .ok()
                .and_then(|e| e.to_object(&self.repo).ok())
                .and_then(|o| o.into_tree().ok())
        };
        let Some(tree) = tree else { return Vec::new() };
        let mut out = Vec::new();
        for entry in tree.iter() {
            let Ok(name) = entry.name() else { continue };
            // diesel keeps each migration's up.sql / down.sql in a folder.
            if entry.kind() == Some(ObjectType::Tree) && crate::layout::is_diesel_folder(name) {
                let Ok(sub) = self.repo.find_tree(entry.id()) else {
                    continue;
                };
                for inner in sub.iter() {
                    if let Ok(file) = inner.name()
                        && crate::layout::is_diesel_file(file)
                        && inner.kind() == Some(ObjectType::Blob)
                    {
                        out.push((format!("{name}/{file}"), inner.id()));
                    }
                }
                continue;
            }
            if entry.kind() != Some(ObjectType::Blob)
                || !(name.ends_with(".py") || name.ends_with(".sql"))
            {
                continue;
            }
            out.push((name.to_string(), entry.id()));
        }
        out.sort();
        out
    }
}

/// What git names a file's content by: equal ids, equal bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlobId(Oid);

impl BlobId {
    /// The id git gives these bytes as a file.
    pub fn of(bytes: &[u8]) -> Option<BlobId> {
        Oid::hash_object(ObjectType::Blob, bytes).ok().map(BlobId)
    }
}
