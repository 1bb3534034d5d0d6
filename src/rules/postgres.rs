//! What the PostgreSQL lock rules share: which tables a migration works on
//! while the application uses them, and how each tool lets a migration run
//! outside a transaction.

use std::collections::HashSet;

use crate::analysis::SetAnalysis;
use crate::migration::{Flavour, Migration, OpKind, Operation, Reach, SqlTool};
use crate::project::config::Dialect;

/// The operations of `set`'s upgrades that run on a table already in use:
/// not one the same migration creates (empty, and unseen by the application
/// until the migration commits), on PostgreSQL, when they run for sure or
/// under a guard the chain decides.
pub fn on_live_tables(set: &SetAnalysis) -> Vec<(&Migration, &Operation, String)> {
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
                        .or_else(|| index_table(set, name))
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
fn index_table(set: &SetAnalysis, name: &str) -> Option<String> {
    set.migrations
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

/// Whether the tool runs `op` of `m` inside a transaction: Alembic on
/// PostgreSQL does, outside `autocommit_block()`; yoyo and the SQL-folder
/// tools as their loaders read it. `None` when it cannot be known.
pub fn in_transaction(m: &Migration, op: &Operation) -> Option<bool> {
    match m.flavour {
        Flavour::Alembic => Some(!op.online.autocommit),
        _ => m.in_transaction,
    }
}

/// How each tool lets a migration run outside a transaction.
pub fn transaction_opt_out(flavour: Flavour) -> &'static str {
    match flavour {
        Flavour::Alembic => "run it inside `with op.get_context().autocommit_block():`",
        Flavour::YoyoPy => "set `__transactional__ = False` in the migration",
        Flavour::YoyoSql => "put `-- transactional: false` at the top of the file",
        Flavour::Sql(SqlTool::Sqlx) => "start the file with `-- no-transaction`",
        Flavour::Sql(SqlTool::Diesel) => {
            "add `metadata.toml` with `run_in_transaction = false` beside its up.sql"
        }
        Flavour::Sql(SqlTool::Dbmate) => "write `-- migrate:up transaction:false`",
        Flavour::Sql(SqlTool::Refinery | SqlTool::GolangMigrate) => {
            "run it outside the tool, on a connection with no transaction open"
        }
    }
}

/// The table name the way messages show it.
pub fn shown(table: &str) -> String {
    if table.is_empty() {
        "its table".to_string()
    } else {
        format!("`{table}`")
    }
}
