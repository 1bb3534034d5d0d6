//! `schema-consistency`: found by replaying the chain (see `crate::replay`).

use super::{Context, Rule, RuleMeta, Severity, no_options, report_replay};
use crate::chain::MigrationSet;

pub const META: RuleMeta = RuleMeta {
    id: crate::replay::SCHEMA_CONSISTENCY,
    severity: Severity::Error,
    summary: "An operation impossible against the schema at that point (missing or duplicate table, column, index)",
    doc: include_str!("../../rules/schema-consistency.md"),
    has_examples: true,
    build: no_options::<SchemaConsistency>,
};

#[derive(Default)]
pub struct SchemaConsistency;

impl Rule for SchemaConsistency {
    fn check(&self, set: &MigrationSet, cx: &mut Context) {
        report_replay(set, cx);
    }
}
