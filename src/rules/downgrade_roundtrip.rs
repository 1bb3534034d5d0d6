//! `downgrade-roundtrip`: found by replaying the chain (see `crate::replay`).

use super::{Context, Rule, RuleMeta, Severity, no_options, report_replay};
use crate::chain::MigrationSet;

pub const META: RuleMeta = RuleMeta {
    id: crate::replay::DOWNGRADE_ROUNDTRIP,
    severity: Severity::Error,
    summary: "Upgrade then downgrade does not return the schema it started from",
    doc: include_str!("../../rules/downgrade-roundtrip.md"),
    has_examples: true,
    build: no_options::<DowngradeRoundtrip>,
};

#[derive(Default)]
pub struct DowngradeRoundtrip;

impl Rule for DowngradeRoundtrip {
    fn check(&self, set: &MigrationSet, cx: &mut Context) {
        report_replay(set, cx);
    }
}
