//! `foreign-key-target`: found by replaying the chain (see `crate::replay`).

use super::{Context, Rule, RuleMeta, Severity, no_options, report_replay};
use crate::chain::MigrationSet;

pub const META: RuleMeta = RuleMeta {
    id: crate::replay::FOREIGN_KEY_TARGET,
    severity: Severity::Error,
    summary: "A foreign key to a table or column that does not exist at that point of the chain",
    doc: include_str!("../../rules/foreign-key-target.md"),
    has_examples: true,
    build: no_options::<ForeignKeyTarget>,
};

#[derive(Default)]
pub struct ForeignKeyTarget;

impl Rule for ForeignKeyTarget {
    fn check(&self, set: &MigrationSet, cx: &mut Context) {
        report_replay(set, cx);
    }
}
