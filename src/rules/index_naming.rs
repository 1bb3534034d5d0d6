//! `index-naming`: index names follow the project's style.

use serde::Deserialize;

use super::{Context, Rule, RuleMeta, Severity};
use crate::analysis::SetAnalysis;
use crate::migration::OpKind;
use crate::migration::SetFlavour;
use crate::project::config::{ConfigError, RuleConfig, Settings, rule_options};

pub const META: RuleMeta = RuleMeta {
    id: "index-naming",
    severity: Severity::Warning,
    summary: "Index name not in the project's style (ix_<table>_<column> / idx_<table>_<column>)",
    doc: include_str!("../../rules/index-naming.md"),
    has_examples: true,
    build,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct IndexNaming {
    /// Pattern for Alembic projects: `{table}` and `{columns}` (joined by `_`).
    alembic: String,
    /// Pattern for yoyo projects.
    yoyo: String,
}

impl Default for IndexNaming {
    fn default() -> Self {
        IndexNaming {
            alembic: "ix_{table}_{columns}".into(),
            yoyo: "idx_{table}_{columns}".into(),
        }
    }
}

fn build(config: Option<&RuleConfig>, _: &Settings) -> Result<Box<dyn Rule>, ConfigError> {
    let rule: IndexNaming = rule_options(META.id, config)?;
    for p in [&rule.alembic, &rule.yoyo] {
        if !p.contains("{table}") && !p.contains("{columns}") {
            return Err(ConfigError(format!(
                "{}: [rules.index-naming]: pattern `{p}` uses neither {{table}} nor {{columns}}",
                config.map(|c| c.location.as_str()).unwrap_or("config")
            )));
        }
    }
    Ok(Box::new(rule))
}

impl Rule for IndexNaming {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        let pattern = match set.flavour {
            SetFlavour::Alembic => &self.alembic,
            SetFlavour::Yoyo | SetFlavour::Sql(_) => &self.yoyo,
        };
        for m in &set.migrations {
            for op in m.upgrade_ops() {
                let OpKind::CreateIndex(ix) = &op.kind else {
                    continue;
                };
                let Some(name) = &ix.name else { continue };
                let expected = pattern
                    .replace("{table}", &ix.table)
                    .replace("{columns}", &ix.columns.join("_"));
                if name.eq_ignore_ascii_case(&expected) {
                    continue;
                }
                let span = cx.first_line(op.span);
                cx.report(
                    span,
                    format!("index `{name}` does not follow the naming style `{pattern}`"),
                )
                .help(format!("name it `{expected}`"));
            }
        }
    }
}
