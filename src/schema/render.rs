//! The replayed schema written out: `CREATE TABLE` / `CREATE INDEX`
//! statements SQLite accepts, or JSON.

use std::fmt::Write as _;

use serde::Serialize;

use crate::schema::{ColumnState, Index, Schema, Table};

/// SQLite's keywords (`sqlite3_keyword_name`, SQLite 3.40), sorted: a name
/// that is one is quoted, as SQLAlchemy quotes it (a column named `commit`
/// is a syntax error unquoted).
const RESERVED: &[&str] = &[
    "abort",
    "action",
    "add",
    "after",
    "all",
    "alter",
    "always",
    "analyze",
    "and",
    "as",
    "asc",
    "attach",
    "autoincrement",
    "before",
    "begin",
    "between",
    "by",
    "cascade",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "commit",
    "conflict",
    "constraint",
    "create",
    "cross",
    "current",
    "current_date",
    "current_time",
    "current_timestamp",
    "database",
    "default",
    "deferrable",
    "deferred",
    "delete",
    "desc",
    "detach",
    "distinct",
    "do",
    "drop",
    "each",
    "else",
    "end",
    "escape",
    "except",
    "exclude",
    "exclusive",
    "exists",
    "explain",
    "fail",
    "filter",
    "first",
    "following",
    "for",
    "foreign",
    "from",
    "full",
    "generated",
    "glob",
    "group",
    "groups",
    "having",
    "if",
    "ignore",
    "immediate",
    "in",
    "index",
    "indexed",
    "initially",
    "inner",
    "insert",
    "instead",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "key",
    "last",
    "left",
    "like",
    "limit",
    "match",
    "materialized",
    "natural",
    "no",
    "not",
    "nothing",
    "notnull",
    "null",
    "nulls",
    "of",
    "offset",
    "on",
    "or",
    "order",
    "others",
    "outer",
    "over",
    "partition",
    "plan",
    "pragma",
    "preceding",
    "primary",
    "query",
    "raise",
    "range",
    "recursive",
    "references",
    "regexp",
    "reindex",
    "release",
    "rename",
    "replace",
    "restrict",
    "returning",
    "right",
    "rollback",
    "row",
    "rows",
    "savepoint",
    "select",
    "set",
    "table",
    "temp",
    "temporary",
    "then",
    "ties",
    "to",
    "transaction",
    "trigger",
    "unbounded",
    "union",
    "unique",
    "update",
    "using",
    "vacuum",
    "values",
    "view",
    "virtual",
    "when",
    "where",
    "window",
    "with",
    "without",
];

/// A name, quoted only when SQLite needs it quoted.
pub fn ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && RESERVED
            .binary_search(&name.to_ascii_lowercase().as_str())
            .is_err();
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

fn idents(names: &[String]) -> String {
    names
        .iter()
        .map(|n| ident(n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A DEFAULT clause value: literals as they are, expressions in parentheses.
pub fn default_sql(value: &str) -> String {
    let v = value.trim();
    let upper = v.to_ascii_uppercase();
    let literal = v.starts_with('\'')
        || v.parse::<f64>().is_ok()
        || matches!(
            upper.as_str(),
            "NULL" | "TRUE" | "FALSE" | "CURRENT_TIMESTAMP" | "CURRENT_DATE" | "CURRENT_TIME"
        )
        || (v.starts_with('(') && v.ends_with(')'));
    if literal {
        v.to_string()
    } else {
        format!("({v})")
    }
}

/// A partial index condition written in Python (`sa.text("x > 0")`) or SQL.
fn where_sql(value: &str) -> String {
    let v = value.trim();
    let inner = v
        .strip_prefix("sa.text(")
        .or_else(|| v.strip_prefix("text("))
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or(v)
        .trim();
    let q = inner.chars().next();
    if matches!(q, Some('"' | '\'')) && inner.len() >= 2 && inner.ends_with(q.unwrap_or('"')) {
        inner[1..inner.len() - 1].to_string()
    } else {
        inner.to_string()
    }
}

/// CREATE TABLE then CREATE INDEX statements for `schema`, one each.
pub fn create_statements(schema: &Schema) -> Vec<String> {
    schema
        .tables
        .values()
        .map(table_sql)
        .chain(schema.indexes.values().map(index_sql))
        .collect()
}

pub fn table_sql(t: &Table) -> String {
    if let Some(module) = &t.virtual_module {
        return match &t.virtual_sql {
            Some(sql) => format!("{};\n", sql.trim().trim_end_matches(';').trim_end()),
            None => format!(
                "-- virtual table {} USING {module}: its arguments are not modelled\n",
                ident(&t.name)
            ),
        };
    }
    let mut lines = Vec::new();
    let table_pk = t.primary_key_columns();
    let inline_pk = table_pk.len() == 1 && t.primary_key.is_empty();
    for c in &t.columns {
        lines.push(column_sql(c, c.primary_key && inline_pk));
    }
    if !inline_pk && !table_pk.is_empty() {
        let cols: Vec<String> = table_pk.iter().map(|c| c.to_string()).collect();
        lines.push(format!("PRIMARY KEY ({})", idents(&cols)));
    }
    for u in &t.unique_constraints {
        let name = u
            .name
            .as_ref()
            .map(|n| format!("CONSTRAINT {} ", ident(n)))
            .unwrap_or_default();
        lines.push(format!("{name}UNIQUE ({})", idents(&u.columns)));
    }
    for fk in &t.foreign_keys {
        let name = fk
            .name
            .as_ref()
            .map(|n| format!("CONSTRAINT {} ", ident(n)))
            .unwrap_or_default();
        let target = if fk.ref_columns.is_empty() {
            ident(&fk.ref_table)
        } else {
            format!("{} ({})", ident(&fk.ref_table), idents(&fk.ref_columns))
        };
        lines.push(format!(
            "{name}FOREIGN KEY ({}) REFERENCES {target}",
            idents(&fk.columns)
        ));
    }
    format!(
        "CREATE TABLE {} (\n    {}\n);\n",
        ident(&t.name),
        lines.join(",\n    ")
    )
}

/// A column's definition, as in CREATE TABLE or ALTER TABLE ... ADD COLUMN.
pub fn column_sql(c: &ColumnState, primary_key: bool) -> String {
    let mut line = ident(&c.name);
    if let Some(ty) = &c.sql_type {
        let _ = write!(line, " {ty}");
    }
    if !c.nullable {
        line.push_str(" NOT NULL");
    }
    if let Some(d) = &c.default {
        let _ = write!(line, " DEFAULT {}", default_sql(d));
    }
    if primary_key {
        line.push_str(" PRIMARY KEY");
    }
    if c.unique {
        line.push_str(" UNIQUE");
    }
    line
}

pub fn index_sql(ix: &Index) -> String {
    let cols: Vec<String> = ix
        .columns
        .iter()
        .map(|c| {
            if c.chars().all(|ch| ch.is_alphanumeric() || ch == '_') {
                ident(c)
            } else {
                c.clone()
            }
        })
        .collect();
    let mut s = format!(
        "CREATE {}INDEX {} ON {} ({})",
        if ix.unique { "UNIQUE " } else { "" },
        ident(&ix.name),
        ident(&ix.table),
        cols.join(", ")
    );
    if let Some(w) = &ix.where_clause {
        let _ = write!(s, " WHERE {}", where_sql(w));
    }
    s.push_str(";\n");
    s
}

/// The whole schema as SQL, tables in dependency-free name order, then indexes.
pub fn schema_sql(schema: &Schema) -> String {
    let mut out = String::new();
    for t in schema.tables.values() {
        out.push_str(&table_sql(t));
        out.push('\n');
    }
    for ix in schema.indexes.values() {
        out.push_str(&index_sql(ix));
    }
    for v in schema.views.values() {
        let _ = writeln!(out, "-- view {}: its definition is not modelled", ident(v));
    }
    for t in schema.triggers.values() {
        let _ = writeln!(
            out,
            "-- trigger {}: its definition is not modelled",
            ident(t)
        );
    }
    out
}

#[derive(Serialize)]
pub struct SchemaJson<'a> {
    /// Something miglint could not read may have made or renamed tables:
    /// tables may exist that `tables` does not list.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub incomplete: bool,
    pub tables: Vec<TableJson<'a>>,
    pub indexes: Vec<IndexJson<'a>>,
    pub views: Vec<&'a str>,
    pub triggers: Vec<&'a str>,
}

#[derive(Serialize)]
pub struct TableJson<'a> {
    #[serde(flatten)]
    pub table: &'a Table,
    /// Something miglint could not read touched the table: what is shown
    /// of it is no fact.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub uncertain: bool,
}

#[derive(Serialize)]
pub struct IndexJson<'a> {
    #[serde(flatten)]
    pub index: &'a Index,
    #[serde(rename = "where", skip_serializing_if = "Option::is_none")]
    pub where_sql: Option<String>,
    /// On an uncertain table, or its name made uncertain.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub uncertain: bool,
}

/// What of a schema miglint cannot be sure of: whether it lists every
/// table, which tables and which names.
pub struct Unsure<'a> {
    pub incomplete: bool,
    pub table: &'a dyn Fn(&str) -> bool,
    pub name: &'a dyn Fn(&str) -> bool,
}

/// The schema as JSON, each table and index marked where miglint cannot
/// be sure of it: a table `unsure` names, an index on one or whose name
/// it names.
pub fn schema_json<'a>(schema: &'a Schema, unsure: &Unsure) -> SchemaJson<'a> {
    let (unsure_table, unsure_name) = (unsure.table, unsure.name);
    SchemaJson {
        incomplete: unsure.incomplete,
        tables: schema
            .tables
            .values()
            .map(|t| TableJson {
                table: t,
                uncertain: unsure_table(&t.name),
            })
            .collect(),
        indexes: schema
            .indexes
            .values()
            .map(|ix| IndexJson {
                index: ix,
                where_sql: ix.where_clause.as_deref().map(where_sql),
                uncertain: unsure_table(&ix.table) || unsure_name(&ix.name),
            })
            .collect(),
        views: schema.views.values().map(String::as_str).collect(),
        triggers: schema.triggers.values().map(String::as_str).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_only_when_needed() {
        assert_eq!(ident("users"), "users");
        assert_eq!(ident("order"), "\"order\"");
        assert_eq!(ident("my table"), "\"my table\"");
        // Every SQLite keyword, not only the common ones: zenml's
        // `code_reference.commit` made `CREATE TABLE` a syntax error.
        assert_eq!(ident("commit"), "\"commit\"");
        assert_eq!(ident("Action"), "\"Action\"");
        assert!(
            RESERVED.windows(2).all(|w| w[0] < w[1]),
            "sorted, for binary_search"
        );
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for word in RESERVED {
            let sql = format!("CREATE TABLE {} ({} TEXT)", ident(word), ident(word));
            conn.execute_batch(&sql).unwrap();
        }
    }

    #[test]
    fn defaults_and_conditions_render_as_sqlite_reads_them() {
        assert_eq!(default_sql("CURRENT_TIMESTAMP"), "CURRENT_TIMESTAMP");
        assert_eq!(default_sql("'active'"), "'active'");
        assert_eq!(
            default_sql("strftime('%s', 'now')"),
            "(strftime('%s', 'now'))"
        );
        assert_eq!(
            where_sql("sa.text(\"deleted_at IS NULL\")"),
            "deleted_at IS NULL"
        );
    }
}
