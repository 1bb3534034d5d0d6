//! `lock-timeout`: on PostgreSQL, a migration that locks a table in use
//! without setting `lock_timeout` first.

use std::sync::LazyLock;

use super::shown;
use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;
use crate::migration::{Migration, OpKind, Operation};

pub const META: RuleMeta = RuleMeta {
    id: "lock-timeout",
    severity: Severity::Warning,
    summary: "PostgreSQL migration that locks a table in use without SET lock_timeout",
    doc: include_str!("../../rules/lock-timeout.md"),
    has_examples: true,
    build: no_options::<LockTimeout>,
};

#[derive(Default)]
pub struct LockTimeout;

static SET_LOCK_TIMEOUT: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r"(?i)\bSET\s+(LOCAL\s+|SESSION\s+)?lock_timeout\b|set_config\s*\(\s*'lock_timeout'",
    )
    .expect("valid regex")
});

/// Whether `op` waits for an ACCESS EXCLUSIVE or SHARE lock on its table:
/// every ALTER TABLE form, and an index built or dropped without
/// `CONCURRENTLY`.
fn locks(op: &Operation) -> bool {
    match &op.kind {
        OpKind::AddColumn { .. }
        | OpKind::DropColumn { .. }
        | OpKind::AlterColumn { .. }
        | OpKind::RenameColumn { .. }
        | OpKind::RenameTable { .. }
        | OpKind::AddConstraint { .. }
        | OpKind::DropConstraint { .. }
        | OpKind::DropTable { .. } => true,
        OpKind::CreateIndex(_) | OpKind::DropIndex { .. } => !op.online.concurrently,
        _ => false,
    }
}

/// Whether the migration sets `lock_timeout` itself.
fn sets_timeout(m: &Migration) -> bool {
    m.upgrade_ops()
        .filter_map(|op| op.sql.as_ref())
        .any(|sql| SET_LOCK_TIMEOUT.is_match(&sql.statement))
}

impl Rule for LockTimeout {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        if set.env.lock_timeout {
            return;
        }
        let mut reported: Vec<*const Migration> = Vec::new();
        for (m, op, table) in set.on_live_tables() {
            if !locks(op) || reported.contains(&(m as *const Migration)) || sets_timeout(m) {
                continue;
            }
            reported.push(m);
            let help = if op.sql.is_some() {
                "start the migration with `SET lock_timeout = '5s';` (and retry it when it times out)"
            } else {
                "start `upgrade()` with `op.execute(\"SET LOCAL lock_timeout = '5s'\")`, or set it for every migration in env.py"
            };
            let span = cx.first_line(op.span);
            cx.report(
                span,
                format!(
                    "this waits for every query on {} to finish, and every query after it waits behind it: set `lock_timeout` first",
                    shown(&table)
                ),
            )
            .label("no lock_timeout set in this migration")
            .help(help);
        }
    }
}
