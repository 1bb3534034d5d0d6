//! Front ends: each reads one file into the shared [`crate::migration`].
//! Loading is per file, so it runs in parallel and is easy to fuzz; an
//! Alembic revision also reads the project modules it imports helpers from
//! ([`imports`]), never writing anything.

pub mod alembic;
mod attributes;
pub mod env;
pub mod eval;
pub mod imports;
pub mod python;
pub mod sql;
pub mod sqlfolder;
pub mod suppression;
pub mod yoyo;

use crate::migration::{Flavour, LoadProblem, Migration};
use crate::project::config::Dialect;
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
        Flavour::Sql(tool) => sqlfolder::load(tool, file, id, rollback, stem, dialect),
    };
    if flavour.is_yoyo() {
        m.in_transaction = Some(!yoyo::transactional_off(&file.text));
    }
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
    m.shrink_to_fit();
    m
}

/// Migrations as [`load`] read them in an earlier run, kept by a
/// long-running process (the language server): a file whose text, name,
/// ids and dialect are the same is not parsed again. Migrations whose
/// reading looked at other files are never kept.
#[derive(Default)]
pub struct LoadMemo(
    std::sync::Mutex<std::collections::HashMap<std::path::PathBuf, (u64, Migration)>>,
);

impl LoadMemo {
    /// [`load`], or the migration it gave for the same input.
    pub fn load(
        &self,
        flavour: Flavour,
        file: &SourceFile,
        id: FileId,
        rollback: Option<(&SourceFile, FileId)>,
        dialect: Dialect,
    ) -> Migration {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (flavour, dialect).hash(&mut hasher);
        for (f, fid) in std::iter::once((file, id)).chain(rollback) {
            (&f.path, &f.text, &f.decode_problem, fid).hash(&mut hasher);
        }
        let key = hasher.finish();
        let memo = || self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((k, m)) = memo().get(&file.path)
            && *k == key
        {
            return m.clone();
        }
        let m = load(flavour, file, id, rollback, dialect);
        if m.reads_other_files {
            memo().remove(&file.path);
        } else {
            memo().insert(file.path.clone(), (key, m.clone()));
        }
        m
    }
}

/// A schema dump (the `baseline` a chain starts from): its statements as
/// operations, and what could not be read.
pub fn load_schema_sql(
    file: &SourceFile,
    id: FileId,
    dialect: Dialect,
) -> (Vec<crate::migration::Operation>, Vec<LoadProblem>) {
    let out = sql::read_sql_file(file, id, dialect);
    (out.ops, out.problems)
}

/// `001_initial.py` → `001_initial`; `0001_x.rollback.sql` → `0001_x`;
/// `0001_x.up.sql` → `0001_x`; diesel's `2024-01-01-000000_x/up.sql` →
/// `2024-01-01-000000_x`.
pub fn migration_stem(path: &std::path::Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if crate::layout::is_diesel_file(&name)
        && let Some(folder) = path.parent().and_then(|p| p.file_name())
    {
        return folder.to_string_lossy().into_owned();
    }
    for ext in [".rollback.sql", ".up.sql", ".down.sql", ".py", ".sql"] {
        if let Some(stem) = name.strip_suffix(ext) {
            return stem.to_string();
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::{OpKind, Rollback};

    #[test]
    fn the_memo_keeps_migrations_that_read_only_their_own_file() {
        let file = |name: &str, text: &str| {
            SourceFile::from_bytes(std::path::Path::new(name), name.into(), text.as_bytes())
        };
        let own = "from alembic import op\nrevision = \"1\"\ndown_revision = None\n\ndef upgrade():\n    op.drop_table(\"a\")\n";
        let helper = "from alembic import op\nfrom migrations.util import gone\nrevision = \"2\"\ndown_revision = \"1\"\n\ndef upgrade():\n    gone(\"a\")\n";
        let memo = LoadMemo::default();
        let kept = |path: &str| {
            memo.0
                .lock()
                .unwrap()
                .contains_key(std::path::Path::new(path))
        };
        let a = file("versions/1_a.py", own);
        let m = memo.load(Flavour::Alembic, &a, FileId(0), None, Dialect::Sqlite);
        assert!(!m.reads_other_files);
        assert!(kept("versions/1_a.py"));
        let again = memo.load(Flavour::Alembic, &a, FileId(0), None, Dialect::Sqlite);
        assert_eq!(format!("{again:?}"), format!("{m:?}"));
        // Another id or another text: read again, and kept as that.
        let moved = memo.load(Flavour::Alembic, &a, FileId(5), None, Dialect::Sqlite);
        assert_eq!(moved.file, FileId(5));
        let edited = file("versions/1_a.py", &own.replace("\"a\"", "\"b\""));
        let m = memo.load(Flavour::Alembic, &edited, FileId(5), None, Dialect::Sqlite);
        assert_eq!(m.steps[0].apply[0].kind.tables(), ["b"]);
        // A helper imported from the project may change on its own: never kept.
        let b = file("versions/2_b.py", helper);
        let m = memo.load(Flavour::Alembic, &b, FileId(1), None, Dialect::Sqlite);
        assert!(m.reads_other_files);
        assert!(!kept("versions/2_b.py"));
    }

    /// Every migration of a project stays in memory for the whole run: its
    /// lists hold exactly what they list.
    #[test]
    fn loaded_migrations_keep_no_spare_room() {
        let text = "from alembic import op\nimport sqlalchemy as sa\n\nrevision = \"002\"\ndown_revision = \"001\"\n\n\ndef upgrade():\n    op.create_table(\"notes\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"body\", sa.Text()))\n    op.execute(\"UPDATE notes SET body = ''\")\n\n\ndef downgrade():\n    op.drop_table(\"notes\")\n";
        let file = SourceFile::from_bytes(
            std::path::Path::new("versions/002_notes.py"),
            "versions/002_notes.py".into(),
            text.as_bytes(),
        );
        let m = load(Flavour::Alembic, &file, FileId(0), None, Dialect::Sqlite);
        assert_eq!(m.steps.capacity(), m.steps.len());
        let step = &m.steps[0];
        assert_eq!(step.apply.len(), 2);
        assert_eq!(step.apply.capacity(), 2);
        let Rollback::Ops { ops, .. } = &step.rollback else {
            panic!("a downgrade with operations");
        };
        assert_eq!(ops.capacity(), 1);
        let OpKind::CreateTable { columns, .. } = &step.apply[0].kind else {
            panic!("create_table first");
        };
        assert_eq!(columns.capacity(), 2);
    }
}
