//! `foreign-key-target`: a foreign key to a table or column that does not
//! exist at that point of the chain (a fact the replay records).

use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;
use crate::schema::facts::Fact;

pub const META: RuleMeta = RuleMeta {
    id: "foreign-key-target",
    severity: Severity::Error,
    summary: "A foreign key to a table or column that does not exist at that point of the chain",
    doc: include_str!("../../rules/foreign-key-target.md"),
    has_examples: true,
    build: no_options::<ForeignKeyTarget>,
};

#[derive(Default)]
pub struct ForeignKeyTarget;

impl Rule for ForeignKeyTarget {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        for event in &set.replay.events {
            let Fact::DanglingForeignKey {
                owner,
                columns,
                target,
                column,
            } = &event.fact
            else {
                continue;
            };
            let at = cx.first_line(event.span);
            let columns = columns.join(", ");
            match column {
                None => {
                    cx.report(
                        at,
                        format!(
                            "foreign key `{owner}({columns})` points at table `{target}`, which does not exist here"
                        ),
                    )
                    .label("no such table at this point of the chain")
                    .help(format!(
                        "create `{target}` in an earlier migration, or fix the table name"
                    ));
                }
                Some(c) => {
                    cx.report(
                        at,
                        format!(
                            "foreign key `{owner}({columns})` points at `{target}.{c}`, which does not exist"
                        ),
                    )
                    .label("no such column");
                }
            }
        }
    }
}
