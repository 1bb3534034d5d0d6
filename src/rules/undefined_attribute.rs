//! `undefined-attribute`: a migration uses `Class.name` on a class it
//! defines itself, and the class has no such name.

use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;

pub const META: RuleMeta = RuleMeta {
    id: "undefined-attribute",
    severity: Severity::Error,
    summary: "A migration uses an attribute that a class it defines does not have",
    doc: include_str!("../../rules/undefined-attribute.md"),
    has_examples: true,
    build: no_options::<UndefinedAttribute>,
};

#[derive(Default)]
pub struct UndefinedAttribute;

impl Rule for UndefinedAttribute {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        for m in &set.migrations {
            for missing in &m.missing_attributes {
                let fails = match missing.function.as_deref() {
                    Some("upgrade") => "the upgrade raises AttributeError here".to_string(),
                    Some("downgrade") => "the downgrade raises AttributeError here".to_string(),
                    Some(other) => format!("`{other}()` raises AttributeError here when it runs"),
                    None => "importing the migration raises AttributeError, so every Alembic command that loads it fails".to_string(),
                };
                cx.report(
                    missing.span,
                    format!(
                        "`{}` has no attribute `{}`: {fails}",
                        missing.class, missing.attribute
                    ),
                )
                .label(format!("not in class `{}`, defined in this file", missing.class))
                .help(format!(
                    "define `{}` in `{}` (a copy of a model kept in a migration must have what the migration uses), or use a name the class has",
                    missing.attribute, missing.class
                ));
            }
        }
    }
}
