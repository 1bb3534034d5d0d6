//! `filtered-column-index`: every column the application filters, joins or
//! sorts on, and every foreign key column, leads some index.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Context, Rule, RuleMeta, Severity};
use crate::chain::{MigrationSet, SetFlavour};
use crate::config::{ConfigError, RuleConfig, Settings, rule_options};
use crate::replay::{Schema, Table};
use crate::source::Span;

pub const ID: &str = "filtered-column-index";

pub const META: RuleMeta = RuleMeta {
    id: ID,
    severity: Severity::Error,
    summary: "A column the application filters or sorts on (or a foreign key) that no index leads with",
    doc: include_str!("../../rules/filtered-column-index.md"),
    has_examples: true,
    build,
};

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct FilteredColumnIndex {
    /// More columns that must be indexed: `["table.column"]`.
    columns: Vec<String>,
}

fn build(config: Option<&RuleConfig>, _: &Settings) -> Result<Box<dyn Rule>, ConfigError> {
    let rule: FilteredColumnIndex = rule_options(ID, config)?;
    for c in &rule.columns {
        if c.split_once('.')
            .is_none_or(|(t, c)| t.is_empty() || c.is_empty())
        {
            return Err(ConfigError(format!(
                "{}: [rules.{ID}] columns: `{c}` is not `table.column`",
                config.map(|c| c.location.as_str()).unwrap_or("config")
            )));
        }
    }
    Ok(Box::new(rule))
}

/// Whether some index (or key) starts with `column`.
fn leads_an_index(schema: &Schema, table: &Table, column: &str) -> bool {
    let same = |c: &str| c.eq_ignore_ascii_case(column);
    let pk = table.primary_key_columns();
    (pk.len() == 1 && same(pk[0]))
        || table.column(column).is_some_and(|c| c.unique)
        || table
            .unique_constraints
            .iter()
            .any(|u| u.columns.first().is_some_and(|c| same(c)))
        || schema
            .indexes_of(&table.name)
            .any(|ix| ix.columns.first().is_some_and(|c| same(c)))
}

/// Why a column needs an index: the first query using it (and how many), or
/// that it is a foreign key, or that the configuration says so.
enum Reason {
    Query { span: Span, count: usize },
    ForeignKey,
    Configured,
}

impl Rule for FilteredColumnIndex {
    fn check(&self, set: &MigrationSet, cx: &mut Context) {
        let schema = &set.replay.schema;
        let mut wanted: BTreeMap<(String, String), Reason> = BTreeMap::new();
        for u in &set.queries {
            let key = (u.table.to_ascii_lowercase(), u.column.to_ascii_lowercase());
            match wanted.get_mut(&key) {
                Some(Reason::Query { count, .. }) => *count += 1,
                Some(_) => {}
                None => {
                    wanted.insert(
                        key,
                        Reason::Query {
                            span: u.span,
                            count: 1,
                        },
                    );
                }
            }
        }
        for t in schema.tables.values() {
            for fk in &t.foreign_keys {
                if let Some(c) = fk.columns.first() {
                    wanted
                        .entry((t.name.to_ascii_lowercase(), c.to_ascii_lowercase()))
                        .or_insert(Reason::ForeignKey);
                }
            }
        }
        for c in &self.columns {
            if let Some((t, col)) = c.split_once('.') {
                wanted
                    .entry((t.to_ascii_lowercase(), col.to_ascii_lowercase()))
                    .or_insert(Reason::Configured);
            }
        }
        for ((table, column), reason) in wanted {
            let Some(t) = schema.tables.get(&table) else {
                continue;
            };
            if t.virtual_module.is_some() {
                continue;
            }
            let Some(col) = t.column(&column) else {
                continue;
            };
            if leads_an_index(schema, t, &column) {
                continue;
            }
            let (t_name, c_name) = (t.name.clone(), col.name.clone());
            let help = match set.flavour {
                SetFlavour::Alembic => format!(
                    "add `op.create_index(\"ix_{t_name}_{c_name}\", \"{t_name}\", [\"{c_name}\"])` (with `op.drop_index` in the downgrade)"
                ),
                SetFlavour::Yoyo => format!(
                    "add `CREATE INDEX IF NOT EXISTS idx_{t_name}_{c_name} ON {t_name}({c_name})` (rollback: `DROP INDEX IF EXISTS idx_{t_name}_{c_name}`)"
                ),
            };
            let origin = col.origin;
            let known_origin = origin.end > origin.start;
            let (primary, why) = match &reason {
                Reason::Query { span, count } => {
                    let more = if *count > 1 {
                        format!(" ({} places)", count)
                    } else {
                        String::new()
                    };
                    (
                        if known_origin {
                            cx.first_line(origin)
                        } else {
                            *span
                        },
                        format!(
                            "`{t_name}.{c_name}` is filtered or sorted on{more} but no index starts with it"
                        ),
                    )
                }
                Reason::ForeignKey => (
                    cx.first_line(origin),
                    format!("foreign key column `{t_name}.{c_name}` has no index"),
                ),
                Reason::Configured => (
                    cx.first_line(origin),
                    format!(
                        "`{t_name}.{c_name}` must be indexed (configured) but no index starts with it"
                    ),
                ),
            };
            let d = cx.report(primary, why);
            d.label("created here");
            if let Reason::Query { span, .. } = reason
                && known_origin
            {
                d.secondary(span, "used here");
            }
            d.help(help);
        }
    }
}
