//! SQL-folder tools (sqlx, diesel, refinery, golang-migrate, dbmate): each
//! migration is plain SQL, with its down side in a companion file or, for
//! dbmate, in a `-- migrate:down` section of the same file. The version in
//! the name is the migration's identity; the folder's order is its chain.

use crate::layout::{SqlTool, dbmate_sections};
use crate::load::sql::{SqlOutput, read_sql_file, read_sql_range};
use crate::migration::{Flavour, LoadProblem, Migration, Named, Parents, Rollback, Step};
use crate::project::config::Dialect;
use crate::source::{FileId, SourceFile, Span};

pub fn load(
    tool: SqlTool,
    file: &SourceFile,
    id: FileId,
    rollback: Option<(&SourceFile, FileId)>,
    stem: String,
    dialect: Dialect,
) -> Migration {
    let mut m = Migration::new(id, Flavour::Sql(tool), stem);
    let name = crate::layout::name_in_set(&file.path);
    let version = tool
        .parse(&name)
        .map(|n| n.version)
        .unwrap_or_else(|| m.stem.clone());
    m.id = Some(Named {
        name: version,
        span: Span::new(id, 0, 0),
    });
    // The tool chains each migration to the one before it in version order.
    m.parents = Parents::Root;
    m.in_transaction = in_transaction(tool, file, rollback.map(|(r, _)| r));
    m.reads_other_files = tool == SqlTool::Diesel && reads_metadata(file, rollback.map(|(r, _)| r));
    m.rollback_file = rollback.map(|(_, rid)| rid);
    let first_line = Span::new(id, 0, file.line_end(0));

    if tool == SqlTool::Dbmate {
        let (up, down) = dbmate_sections(&file.text);
        let Some(up) = up else {
            m.problems.push(LoadProblem {
                span: first_line,
                message:
                    "dbmate migration without a `-- migrate:up` line: dbmate runs nothing from it"
                        .into(),
            });
            m.ops_unknown = true;
            return m;
        };
        let out = read_sql_range(file, id, up, dialect);
        let rollback = match down {
            None => Rollback::Missing,
            Some(range) => {
                let at = range.start;
                let rout = read_sql_range(file, id, range, dialect);
                side_rollback(
                    &mut m,
                    rout,
                    Span::new(id, at, at),
                    "the `-- migrate:down` section holds no SQL statement",
                )
            }
        };
        push_step(&mut m, out, first_line, rollback);
        return m;
    }

    file_step(
        &mut m,
        file,
        id,
        rollback,
        dialect,
        "the down file holds no SQL statement (empty or only comments)",
    );
    m
}

/// Whether the tool wraps this migration in a transaction: sqlx unless the
/// file starts with `-- no-transaction`, dbmate unless its up marker says
/// `transaction:false`, refinery always, diesel unless the migration's
/// `metadata.toml` sets `run_in_transaction = false`. Only a `PRAGMA` or
/// `CONCURRENTLY` asks (`pragma-in-transaction`, `concurrently-in-transaction`),
/// so diesel's file is looked for only beside a migration that holds one.
fn in_transaction(tool: SqlTool, file: &SourceFile, down: Option<&SourceFile>) -> Option<bool> {
    let first = file.text.lines().next().unwrap_or("").trim();
    match tool {
        SqlTool::Sqlx => Some(first != "-- no-transaction"),
        SqlTool::Dbmate => Some(
            !file
                .text
                .lines()
                .find(|l| l.trim_start().starts_with("-- migrate:up"))
                .is_some_and(|l| l.contains("transaction:false")),
        ),
        SqlTool::Refinery => Some(true),
        SqlTool::Diesel if !reads_metadata(file, down) => None,
        SqlTool::Diesel => {
            let metadata = file.path.with_file_name("metadata.toml");
            match std::fs::read_to_string(&metadata) {
                Ok(text) => Some(!text.lines().any(|l| {
                    let l: String = l.chars().filter(|c| !c.is_whitespace()).collect();
                    l == "run_in_transaction=false"
                })),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(true),
                Err(_) => None,
            }
        }
        // golang-migrate wraps each file in a transaction unless the
        // database URL says `x-no-tx-wrap=true`, which miglint cannot see.
        SqlTool::GolangMigrate => None,
    }
}

/// Whether the file holds a statement that cares about the transaction
/// (`PRAGMA foreign_keys`, `CREATE INDEX CONCURRENTLY`).
/// Whether diesel's `metadata.toml` is read for this migration: only when
/// one of its files asks.
fn reads_metadata(file: &SourceFile, down: Option<&SourceFile>) -> bool {
    std::iter::once(file).chain(down).any(asks)
}

fn asks(file: &SourceFile) -> bool {
    let has = |word: &[u8]| {
        file.text
            .as_bytes()
            .windows(word.len())
            .any(|w| w.eq_ignore_ascii_case(word))
    };
    has(b"pragma") || has(b"concurrently")
}

/// The one step of a migration kept as a SQL file and, when there is one,
/// a companion file that undoes it (yoyo's `.rollback.sql`, diesel's
/// `down.sql`, sqlx's and golang-migrate's `.down.sql`).
pub fn file_step(
    m: &mut Migration,
    file: &SourceFile,
    id: FileId,
    rollback: Option<(&SourceFile, FileId)>,
    dialect: Dialect,
    empty_why: &'static str,
) {
    let out = read_sql_file(file, id, dialect);
    let rollback = match rollback {
        Some((rfile, rid)) => side_rollback(
            m,
            read_sql_file(rfile, rid, dialect),
            Span::new(rid, 0, rfile.line_end(0)),
            empty_why,
        ),
        None => Rollback::Missing,
    };
    push_step(m, out, Span::new(id, 0, file.line_end(0)), rollback);
}

fn side_rollback(m: &mut Migration, mut out: SqlOutput, span: Span, why: &'static str) -> Rollback {
    m.problems.append(&mut out.problems);
    m.suppressions.append(&mut out.suppressions);
    if out.statements == 0 {
        Rollback::Empty { span, why }
    } else {
        Rollback::Ops { span, ops: out.ops }
    }
}

fn push_step(m: &mut Migration, mut out: SqlOutput, span: Span, rollback: Rollback) {
    m.problems.append(&mut out.problems);
    m.suppressions.append(&mut out.suppressions);
    m.steps.push(Step {
        span,
        apply: out.ops,
        apply_does_work: out.statements > 0,
        rollback,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn load_one(tool: SqlTool, path: &str, text: &str) -> Migration {
        let file = SourceFile::from_bytes(Path::new(path), path.into(), text.as_bytes());
        load(tool, &file, FileId(0), None, "x".into(), Dialect::Sqlite)
    }

    /// Each tool's way out of its transaction is read.
    #[test]
    fn each_tools_transaction_opt_out_is_read() {
        let sqlx = |text| load_one(SqlTool::Sqlx, "m/1_a.sql", text).in_transaction;
        assert_eq!(sqlx("PRAGMA foreign_keys = OFF;\n"), Some(true));
        assert_eq!(
            sqlx("-- no-transaction\nPRAGMA foreign_keys = OFF;\n"),
            Some(false)
        );
        let dbmate = |text| load_one(SqlTool::Dbmate, "m/1_a.sql", text).in_transaction;
        assert_eq!(dbmate("-- migrate:up\nSELECT 1;\n"), Some(true));
        assert_eq!(
            dbmate("-- migrate:up transaction:false\nSELECT 1;\n"),
            Some(false)
        );
        assert_eq!(
            load_one(SqlTool::Refinery, "m/V1__a.sql", "SELECT 1;").in_transaction,
            Some(true)
        );
        // diesel's metadata.toml is looked for only where a pragma asks.
        let diesel = |text| {
            load_one(
                SqlTool::Diesel,
                "no-such-dir/2024-01-01-000000_a/up.sql",
                text,
            )
            .in_transaction
        };
        assert_eq!(diesel("SELECT 1;"), None);
        assert_eq!(diesel("PRAGMA foreign_keys = OFF;"), Some(true));
    }

    /// A diesel migration that asks for its `metadata.toml` says it read
    /// another file (so a long-running process never keeps it); others not.
    #[test]
    fn reading_metadata_toml_is_recorded() {
        let reads = |tool, path, text| load_one(tool, path, text).reads_other_files;
        let up = "m/2024-01-01-000000_a/up.sql";
        assert!(reads(SqlTool::Diesel, up, "PRAGMA foreign_keys = OFF;"));
        assert!(!reads(SqlTool::Diesel, up, "SELECT 1;"));
        assert!(!reads(
            SqlTool::Sqlx,
            "m/1_a.sql",
            "PRAGMA foreign_keys = OFF;"
        ));
    }
}
