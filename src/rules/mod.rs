//! The rules. Each lives in its own file with its id, default severity,
//! summary and check; its words and examples live in `rules/<id>.md`.
//! To add a rule: write its file, its doc, and one line in [`ALL`].

use crate::analysis::SetAnalysis;
use crate::diagnostic::Diagnostic;
pub use crate::diagnostic::Severity;
use crate::migration::{Flavour, SqlTool};
use crate::project::config::{ConfigError, RuleConfig, Settings};
use crate::source::{FileId, SourceDb, Span};

mod batch_mode;
mod concurrent_index;
pub mod concurrently_in_transaction;
mod constraint_not_valid;
mod downgrade_roundtrip;
pub mod drop_still_read;
pub mod filtered_column_index;
mod foreign_key_target;
mod if_exists_guard;
mod immutable_migration;
mod index_naming;
pub mod internal_error;
mod lock_timeout;
pub mod model_drift;
mod no_virtual_tables;
mod not_null_default;
mod parse_error;
mod postgres_types;
mod pragma_in_transaction;
mod renaming;
mod revision_chain;
mod rollback_required;
pub mod schema_consistency;
mod sequential_numbering;
mod set_not_null;
mod sqlite_alter_support;
pub mod sqlite_exec;
mod sqlite_types;
mod table_rewrite;
mod timestamp_columns;
mod undefined_attribute;
pub mod unused_ignore;
mod version_order;

/// Every rule miglint knows, in the order `miglint rules` lists them.
pub const ALL: &[RuleMeta] = &[
    parse_error::META,
    batch_mode::META,
    sequential_numbering::META,
    version_order::META,
    revision_chain::META,
    immutable_migration::META,
    timestamp_columns::META,
    if_exists_guard::META,
    rollback_required::META,
    undefined_attribute::META,
    schema_consistency::META,
    filtered_column_index::META,
    model_drift::META,
    foreign_key_target::META,
    downgrade_roundtrip::META,
    not_null_default::META,
    sqlite_alter_support::META,
    sqlite_exec::META,
    pragma_in_transaction::META,
    concurrently_in_transaction::META,
    concurrent_index::META,
    constraint_not_valid::META,
    set_not_null::META,
    table_rewrite::META,
    renaming::META,
    drop_still_read::META,
    lock_timeout::META,
    postgres_types::META,
    index_naming::META,
    no_virtual_tables::META,
    sqlite_types::META,
    unused_ignore::META,
    internal_error::META,
];

/// The rules that judge the replayed schema. On MySQL they stay off (with
/// a note) until the replay is held against a real MySQL server.
pub const NEED_REPLAY: &[&str] = &[
    schema_consistency::ID,
    "foreign-key-target",
    "downgrade-roundtrip",
    filtered_column_index::ID,
    model_drift::ID,
];

/// Builds a rule from its `[rules.<id>]` table (options already validated).
pub type BuildRule = fn(Option<&RuleConfig>, &Settings) -> Result<Box<dyn Rule>, ConfigError>;

/// A rule's identity and how to build it from its configuration.
pub struct RuleMeta {
    /// Stable kebab-case id, used in output, config and suppressions.
    pub id: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    /// The rule's Markdown doc (`rules/<id>.md`), embedded in the binary.
    pub doc: &'static str,
    /// Whether the doc's Bad/Good examples can be linted (false only for
    /// `internal-error`, which no input should ever trigger).
    pub has_examples: bool,
    pub build: BuildRule,
}

pub fn find(id: &str) -> Option<&'static RuleMeta> {
    ALL.iter().find(|m| m.id == id)
}

/// A check over one migrations folder and what is known about it.
pub trait Rule: Send + Sync {
    fn check(&self, set: &SetAnalysis, cx: &mut Context);
}

/// Builds a rule that has no options.
pub fn no_options<R: Rule + Default + 'static>(
    _: Option<&RuleConfig>,
    _: &Settings,
) -> Result<Box<dyn Rule>, ConfigError> {
    Ok(Box::new(R::default()))
}

/// Where a rule reports its findings.
pub struct Context<'a> {
    pub rule: &'static str,
    pub severity: Severity,
    pub settings: &'a Settings,
    pub sources: &'a SourceDb,
    pub out: &'a mut Vec<Diagnostic>,
}

impl Context<'_> {
    pub fn report(&mut self, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        self.out.push(Diagnostic::new(
            self.rule,
            self.severity,
            span,
            message.into(),
        ));
        self.out.last_mut().expect("just pushed")
    }

    /// The span cut at the end of its first line ([`crate::source::SourceFile::first_line`]).
    pub fn first_line(&self, span: Span) -> Span {
        self.sources.get(span.file).first_line(span)
    }

    /// The file name (no folder) of a migration file.
    pub fn file_name(&self, file: FileId) -> String {
        let f = self.sources.get(file);
        let name = crate::layout::name_in_set(&f.path);
        if name.is_empty() {
            f.display_path.clone()
        } else {
            name
        }
    }

    pub fn text(&self, span: Span) -> &str {
        self.sources.get(span.file).slice(span)
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

/// Every `[rules.<id>]` table of the configuration names a rule miglint
/// knows. Commands that load settings check this even when they run no rule.
pub fn settings_name_known_rules(settings: &Settings) -> Result<(), ConfigError> {
    match settings.rules.iter().find(|(id, _)| find(id).is_none()) {
        Some((id, config)) => Err(ConfigError(format!(
            "{}: unknown rule `{id}` in [rules.{id}] (see `miglint rules`)",
            config.location
        ))),
        None => Ok(()),
    }
}

/// The enabled rules of a run, with their effective severities.
pub struct RuleSet {
    pub rules: Vec<(&'static RuleMeta, Severity, Box<dyn Rule>)>,
}

impl RuleSet {
    /// Applies config severities, then `--select` (only these) and `--ignore`.
    pub fn build(
        settings: &Settings,
        select: &[String],
        ignore: &[String],
    ) -> Result<RuleSet, ConfigError> {
        settings_name_known_rules(settings)?;
        for id in select.iter().chain(ignore) {
            if find(id).is_none() {
                return Err(ConfigError(format!(
                    "unknown rule `{id}` (see `miglint rules`)"
                )));
            }
        }
        let mut rules = Vec::new();
        for meta in ALL {
            let config = settings.rules.get(meta.id);
            let mut severity = match config.and_then(|c| c.severity) {
                Some(s) => s,
                None => Some(meta.severity),
            };
            if !select.is_empty() && !select.iter().any(|s| s == meta.id) {
                severity = None;
            }
            if ignore.iter().any(|s| s == meta.id) {
                severity = None;
            }
            // Rules are always built so bad options are reported even when off.
            let rule = (meta.build)(config, settings)?;
            if let Some(severity) = severity {
                rules.push((meta, severity, rule));
            }
        }
        Ok(RuleSet { rules })
    }

    pub fn severity_of(&self, id: &str) -> Option<Severity> {
        self.rules
            .iter()
            .find(|(m, _, _)| m.id == id)
            .map(|(_, s, _)| *s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn unknown_rule_tables_are_errors_with_their_line() {
        let text = "\n[rules.no-such-rule]\n";
        let settings = Settings::from_text(Path::new("miglint.toml"), text, false)
            .unwrap()
            .unwrap();
        let e = settings_name_known_rules(&settings).unwrap_err();
        assert!(
            e.0.contains("miglint.toml:2: unknown rule `no-such-rule`"),
            "{e}"
        );
        assert!(RuleSet::build(&settings, &[], &[]).is_err());
    }
}
