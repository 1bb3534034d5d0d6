//! Front ends: each reads one file into the shared [`crate::model`].
//! Loading is pure and per file, so it runs in parallel and is easy to fuzz.

pub mod alembic;
pub mod python;
pub mod sql;
pub mod suppression;
pub mod yoyo;

use crate::config::Dialect;
use crate::model::{Flavour, LoadProblem, Migration};
use crate::source::{FileId, SourceFile, Span};

/// Reads one migration file (and its rollback companion for yoyo SQL).
pub fn load(
    flavour: Flavour,
    file: &SourceFile,
    id: FileId,
    rollback: Option<(&SourceFile, FileId)>,
    dialect: Dialect,
) -> Migration {
    let stem = migration_stem(&file.path);
    let mut m = match flavour {
        Flavour::Alembic => alembic::load(file, id, stem, dialect),
        Flavour::YoyoPy => yoyo::load_py(file, id, stem, dialect),
        Flavour::YoyoSql => yoyo::load_sql(file, id, rollback, stem, dialect),
    };
    for (f, fid) in std::iter::once((file, id)).chain(rollback) {
        if let Some((at, message)) = &f.decode_problem {
            m.problems.insert(
                0,
                LoadProblem {
                    span: Span::new(fid, *at, *at),
                    message: message.clone(),
                },
            );
        }
    }
    m
}

/// `001_initial.py` → `001_initial`; `0001_x.rollback.sql` → `0001_x`.
pub fn migration_stem(path: &std::path::Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for ext in [".rollback.sql", ".py", ".sql"] {
        if let Some(stem) = name.strip_suffix(ext) {
            return stem.to_string();
        }
    }
    name
}
