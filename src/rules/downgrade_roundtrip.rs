//! `downgrade-roundtrip`: upgrade then downgrade leaves the tables the
//! migration touched different (the replay records the differences).

use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;
use crate::migration::Flavour;
use crate::schema::facts::Fact;

pub const META: RuleMeta = RuleMeta {
    id: "downgrade-roundtrip",
    severity: Severity::Error,
    summary: "Upgrade then downgrade does not return the schema it started from",
    doc: include_str!("../../rules/downgrade-roundtrip.md"),
    has_examples: true,
    build: no_options::<DowngradeRoundtrip>,
};

/// How many differences a finding lists before "and N more".
const SHOWN: usize = 5;

#[derive(Default)]
pub struct DowngradeRoundtrip;

impl Rule for DowngradeRoundtrip {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        for event in &set.replay.events {
            let Fact::RoundTrip {
                flavour,
                differences,
            } = &event.fact
            else {
                continue;
            };
            let what = if *flavour == Flavour::Alembic {
                "downgrade()"
            } else {
                "the rollback"
            };
            let shown: Vec<&str> = differences.iter().take(SHOWN).map(String::as_str).collect();
            let more = if differences.len() > SHOWN {
                format!(" (and {} more)", differences.len() - SHOWN)
            } else {
                String::new()
            };
            let at = cx.first_line(event.span);
            cx.report(
                at,
                format!("{what} does not undo the upgrade: {}{more}", shown.join("; ")),
            )
            .label("after upgrade then this, the schema differs")
            .help("undo every operation of the upgrade, in reverse order, so that downgrading returns the schema it started from");
        }
    }
}
