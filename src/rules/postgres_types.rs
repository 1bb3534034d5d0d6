//! `postgres-types`: PostgreSQL column types teams come to regret:
//! `timestamp` without time zone, 4-byte integer primary keys, and (when
//! the house prefers `text`) `varchar(n)`.

use serde::Deserialize;

use super::{Context, Rule, RuleMeta, Severity};
use crate::analysis::SetAnalysis;
use crate::migration::{Column, OpKind};
use crate::project::config::{ConfigError, Dialect, RuleConfig, Settings, rule_options};

pub const META: RuleMeta = RuleMeta {
    id: "postgres-types",
    severity: Severity::Warning,
    summary: "PostgreSQL timestamp without time zone, integer primary key, or (opt-in) varchar(n)",
    doc: include_str!("../../rules/postgres-types.md"),
    has_examples: true,
    build,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct PostgresTypes {
    /// `timestamp` without time zone (`sa.DateTime()`).
    timestamp: bool,
    /// `integer` / `serial` primary keys.
    int_primary_key: bool,
    /// `varchar(n)` / `sa.String(n)`, where the house prefers `text`.
    varchar: bool,
}

impl Default for PostgresTypes {
    fn default() -> Self {
        PostgresTypes {
            timestamp: true,
            int_primary_key: true,
            varchar: false,
        }
    }
}

fn build(config: Option<&RuleConfig>, _: &Settings) -> Result<Box<dyn Rule>, ConfigError> {
    Ok(Box::new(rule_options::<PostgresTypes>(META.id, config)?))
}

/// A type as written, without spaces, quotes or module prefixes,
/// lowercase: `sa.DateTime(timezone=True)` → `datetime(timezone=true)`.
fn plain(ty: &str) -> String {
    let t: String = ty
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '"')
        .collect::<String>()
        .to_ascii_lowercase();
    ["sa.", "sqlalchemy.", "postgresql.", "types.", "dialects."]
        .iter()
        .fold(t, |t, p| t.trim_start_matches(p).to_string())
}

impl PostgresTypes {
    /// What is wrong with the column's type, and what to write instead.
    fn judge(&self, column: &Column) -> Option<(&'static str, &'static str)> {
        let ty = plain(column.type_name.as_deref()?);
        let name = ty.split('(').next().unwrap_or(&ty);
        let timestamp = matches!(name, "timestamp" | "timestampwithouttimezone" | "datetime")
            && !ty.contains("timezone=true")
            && !ty.contains("withtimezone");
        if self.timestamp && timestamp {
            return Some((
                "`timestamp` without time zone stores the wall clock of whoever wrote it",
                "use `timestamptz` (`sa.DateTime(timezone=True)`), which stores an instant",
            ));
        }
        let int = matches!(
            name,
            "integer" | "int" | "int4" | "serial" | "serial4" | "smallint" | "smallserial"
        );
        if self.int_primary_key && column.primary_key && int {
            return Some((
                "a 4-byte integer primary key runs out at 2,147,483,647 rows",
                "use `bigint` (`sa.BigInteger()`, `bigserial`, or `bigint GENERATED ALWAYS AS IDENTITY`)",
            ));
        }
        let varchar = matches!(name, "varchar" | "charactervarying" | "string" | "unicode")
            && ty.contains('(')
            && !ty.contains("()");
        if self.varchar && varchar {
            return Some((
                "`varchar(n)` needs a table rewrite to change its limit",
                "use `text` (`sa.Text()`), with a `CHECK (length(col) <= n)` if a limit matters",
            ));
        }
        None
    }
}

impl Rule for PostgresTypes {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        if set.dialect != Dialect::Postgresql {
            return;
        }
        for m in &set.migrations {
            for op in m.upgrade_ops() {
                let (table, columns): (&str, Vec<&Column>) = match &op.kind {
                    OpKind::CreateTable { name, columns, .. } => (name, columns.iter().collect()),
                    OpKind::AddColumn { table, column } => (table, vec![column]),
                    _ => continue,
                };
                for column in columns {
                    // Advice about a table or column gone by head is noise.
                    let at_head = set
                        .replay
                        .schema
                        .table(table)
                        .is_some_and(|t| t.column(&column.name).is_some());
                    if !at_head {
                        continue;
                    }
                    let Some((why, help)) = self.judge(column) else {
                        continue;
                    };
                    let span = cx.first_line(column.span);
                    cx.report(span, format!("`{table}.{}`: {why}", column.name))
                        .label(column.type_name.clone().unwrap_or_default())
                        .help(help);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(ty: &str, primary_key: bool) -> Column {
        Column {
            name: "c".into(),
            type_name: Some(ty.into()),
            nullable: true,
            default: None,
            primary_key,
            unique: false,
            references: None,
            foreign_key_name: None,
            generated: false,
            span: crate::source::Span::new(crate::source::FileId(0), 0, 0),
        }
    }

    #[test]
    fn types_as_written_in_sql_and_sqlalchemy() {
        let all = PostgresTypes {
            varchar: true,
            ..PostgresTypes::default()
        };
        for bad in [
            "timestamp",
            "TIMESTAMP WITHOUT TIME ZONE",
            "sa.DateTime()",
            "varchar(20)",
            "sa.String(50)",
        ] {
            assert!(all.judge(&column(bad, false)).is_some(), "{bad}");
        }
        for good in [
            "timestamptz",
            "timestamp with time zone",
            "sa.DateTime(timezone=True)",
            "text",
            "sa.String()",
            "sa.Text()",
            "bigint",
        ] {
            assert!(all.judge(&column(good, false)).is_none(), "{good}");
        }
        assert!(all.judge(&column("sa.Integer()", true)).is_some());
        assert!(all.judge(&column("serial", true)).is_some());
        assert!(all.judge(&column("sa.Integer()", false)).is_none());
        assert!(all.judge(&column("bigserial", true)).is_none());
        // varchar(n) only when the house asks.
        assert!(
            PostgresTypes::default()
                .judge(&column("varchar(20)", false))
                .is_none()
        );
    }
}
