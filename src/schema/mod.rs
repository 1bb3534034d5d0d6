//! The schema the migrations build, as SQLite would hold it: tables,
//! columns, indexes, foreign keys, views and triggers; and the ways of
//! building it and asking about it, in the order a run uses them:
//! [`replay`] applies the migrations in chain order and records the facts
//! it meets, [`render`] writes a schema back as SQL, [`exec`] runs each
//! migration's own SQL in real SQLite (with results kept by [`cache`]).

pub mod cache;
pub mod exec;
pub mod facts;
pub mod render;
pub mod replay;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::migration::{Migration, OpKind};
use crate::source::Span;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ColumnState {
    pub name: String,
    /// The SQL type SQLite stores for the column (`VARCHAR`, `INTEGER`…).
    #[serde(rename = "type")]
    pub sql_type: Option<String>,
    /// The declared type is one miglint cannot read ([`replay::type_known`]):
    /// `sql_type` is then only its name, and the type is never compared.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub type_unknown: bool,
    pub nullable: bool,
    pub default: Option<String>,
    /// The declared default is one miglint cannot read
    /// ([`replay::default_known`]): `default` is then `None`, and the
    /// default is never compared.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub default_unknown: bool,
    pub primary_key: bool,
    pub unique: bool,
    /// `GENERATED ALWAYS AS (...)` / `sa.Computed(...)`: written by the
    /// database, never by an INSERT.
    #[serde(skip)]
    pub generated: bool,
    #[serde(skip)]
    pub origin: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ForeignKey {
    pub name: Option<String>,
    pub columns: Vec<String>,
    pub ref_table: String,
    pub ref_columns: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UniqueConstraint {
    pub name: Option<String>,
    pub columns: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Table {
    pub name: String,
    pub columns: Vec<ColumnState>,
    /// A table-level (possibly composite) primary key.
    pub primary_key: Vec<String>,
    /// The primary key constraint's name, when it was given one.
    #[serde(skip)]
    pub primary_key_name: Option<String>,
    pub unique_constraints: Vec<UniqueConstraint>,
    pub foreign_keys: Vec<ForeignKey>,
    pub checks: Vec<Option<String>>,
    /// `Some(module)` for `CREATE VIRTUAL TABLE ... USING module`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub virtual_module: Option<String>,
    /// A virtual table's CREATE statement as written, when miglint read it
    /// from SQL: `sqlite-exec` creates the table (and SQLite its shadow
    /// tables) from it.
    #[serde(skip)]
    pub virtual_sql: Option<String>,
    #[serde(skip)]
    pub origin: Span,
}

impl Table {
    /// A table with no columns yet, created at `origin`.
    pub fn empty(name: &str, virtual_module: Option<String>, origin: Span) -> Table {
        Table {
            name: name.to_string(),
            columns: Vec::new(),
            primary_key: Vec::new(),
            primary_key_name: None,
            unique_constraints: Vec::new(),
            foreign_keys: Vec::new(),
            checks: Vec::new(),
            virtual_module,
            virtual_sql: None,
            origin,
        }
    }

    pub fn column(&self, name: &str) -> Option<&ColumnState> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    fn column_mut(&mut self, name: &str) -> Option<&mut ColumnState> {
        self.columns
            .iter_mut()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// Columns of the primary key, whether declared per column or per table.
    pub fn primary_key_columns(&self) -> Vec<&str> {
        if !self.primary_key.is_empty() {
            return self.primary_key.iter().map(String::as_str).collect();
        }
        self.columns
            .iter()
            .filter(|c| c.primary_key)
            .map(|c| c.name.as_str())
            .collect()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Index {
    pub name: String,
    pub table: String,
    pub columns: Vec<String>,
    pub unique: bool,
    #[serde(skip)]
    pub where_clause: Option<String>,
    /// Named by a naming convention miglint could not read: `name` is
    /// SQLAlchemy's default, not a fact.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub name_unknown: bool,
    #[serde(skip)]
    pub origin: Span,
}

/// The database as the migrations leave it. Names are keyed lowercase, as
/// SQLite compares them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schema {
    pub tables: BTreeMap<String, Table>,
    pub indexes: BTreeMap<String, Index>,
    pub views: BTreeMap<String, String>,
    pub triggers: BTreeMap<String, String>,
    /// Index keys by table key, so index work costs what a table has.
    by_table: BTreeMap<String, BTreeSet<String>>,
}

impl Schema {
    fn add_index(&mut self, index: Index) {
        let k = key(&index.name);
        self.by_table
            .entry(key(&index.table))
            .or_default()
            .insert(k.clone());
        self.indexes.insert(k, index);
    }

    /// `ALTER INDEX from RENAME TO to`: `false` when there is no `from`.
    pub(crate) fn rename_index(&mut self, from: &str, to: &str) -> bool {
        match self.remove_index(from) {
            Some(mut ix) => {
                ix.name = to.to_string();
                self.add_index(ix);
                true
            }
            None => false,
        }
    }

    fn remove_index(&mut self, name: &str) -> Option<Index> {
        let ix = self.indexes.remove(&key(name))?;
        if let Some(set) = self.by_table.get_mut(&key(&ix.table)) {
            set.remove(&key(name));
        }
        Some(ix)
    }

    /// A table by name, compared as SQLite compares names.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(&key(name))
    }

    /// Keys of the indexes on `table`.
    pub fn index_keys_of(&self, table: &str) -> Vec<String> {
        self.by_table
            .get(&key(table))
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The indexes on `table`.
    pub fn indexes_of<'a>(&'a self, table: &str) -> impl Iterator<Item = &'a Index> + 'a {
        self.index_keys_of(table)
            .into_iter()
            .filter_map(move |k| self.indexes.get(&k))
    }
}

fn key(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// The identifier-like words of a statement, lowercased: the names of the
/// tables it may mention.
pub fn statement_words(sql: &str) -> impl Iterator<Item = String> + '_ {
    sql.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(key)
}

/// A few tables of a [`Schema`] in flat lists: a one-table `Schema` is
/// mostly empty map nodes, and tens of thousands of them are kept.
#[derive(Debug, Default)]
pub struct Snapshot {
    tables: Vec<(String, Table)>,
    indexes: Vec<Index>,
    views: Vec<(String, String)>,
    triggers: Vec<(String, String)>,
}

impl Snapshot {
    pub fn of(schema: Schema) -> Snapshot {
        Snapshot {
            tables: schema.tables.into_iter().collect(),
            indexes: schema.indexes.into_values().collect(),
            views: schema.views.into_iter().collect(),
            triggers: schema.triggers.into_iter().collect(),
        }
    }

    pub fn to_schema(&self) -> Schema {
        let mut s = Schema {
            tables: self.tables.iter().cloned().collect(),
            views: self.views.iter().cloned().collect(),
            triggers: self.triggers.iter().cloned().collect(),
            ..Schema::default()
        };
        for ix in &self.indexes {
            s.add_index(ix.clone());
        }
        s
    }
}

/// Tables, indexes, views and triggers a migration names, plus the indexes
/// on the tables it names.
#[derive(Default)]
pub struct Touched {
    tables: BTreeSet<String>,
    indexes: BTreeSet<String>,
    views: BTreeSet<String>,
    triggers: BTreeSet<String>,
}

fn touched_names(m: &Migration, schema: &Schema) -> Touched {
    let mut t = Touched::default();
    for op in m.upgrade_ops().chain(m.downgrade_ops()) {
        match &op.kind {
            OpKind::CreateTable { name, .. }
            | OpKind::CreateVirtualTable { name, .. }
            | OpKind::DropTable { name } => {
                t.tables.insert(key(name));
            }
            OpKind::RenameTable { from, to } => {
                t.tables.insert(key(from));
                t.tables.insert(key(to));
            }
            OpKind::AddColumn { table, .. }
            | OpKind::DropColumn { table, .. }
            | OpKind::AlterColumn { table, .. }
            | OpKind::RenameColumn { table, .. }
            | OpKind::AddConstraint { table, .. }
            | OpKind::DropConstraint { table, .. } => {
                t.tables.insert(key(table));
            }
            OpKind::CreateIndex(ix) => {
                t.tables.insert(key(&ix.table));
                if let Some(n) = &ix.name {
                    t.indexes.insert(key(n));
                }
            }
            OpKind::DropIndex { name, table } => {
                t.indexes.insert(key(name));
                if let Some(table) = table {
                    t.tables.insert(key(table));
                } else if let Some(ix) = schema.indexes.get(&key(name)) {
                    t.tables.insert(key(&ix.table));
                }
            }
            OpKind::RenameIndex { from, to } => {
                for name in [from, to] {
                    t.indexes.insert(key(name));
                    if let Some(ix) = schema.indexes.get(&key(name)) {
                        t.tables.insert(key(&ix.table));
                    }
                }
            }
            OpKind::CreateView { name } | OpKind::DropView { name } => {
                t.views.insert(key(name));
            }
            OpKind::CreateTrigger { name } | OpKind::DropTrigger { name } => {
                t.triggers.insert(key(name));
            }
            OpKind::Unread { tables, .. } => {
                t.tables.extend(tables.iter().map(|n| key(n)));
            }
            OpKind::Data { .. } | OpKind::Opaque { .. } => {}
        }
    }
    let tables: Vec<String> = t.tables.iter().cloned().collect();
    for table in tables {
        t.indexes.extend(schema.index_keys_of(&table));
    }
    t
}

impl Schema {
    /// A copy of only the named objects.
    fn subset(&self, t: &Touched) -> Schema {
        let mut out = Schema {
            tables: t
                .tables
                .iter()
                .filter_map(|k| self.tables.get(k).map(|v| (k.clone(), v.clone())))
                .collect(),
            indexes: BTreeMap::new(),
            views: t
                .views
                .iter()
                .filter_map(|k| self.views.get(k).map(|v| (k.clone(), v.clone())))
                .collect(),
            triggers: t
                .triggers
                .iter()
                .filter_map(|k| self.triggers.get(k).map(|v| (k.clone(), v.clone())))
                .collect(),
            by_table: BTreeMap::new(),
        };
        for k in &t.indexes {
            if let Some(ix) = self.indexes.get(k) {
                out.add_index(ix.clone());
            }
        }
        out
    }

    /// What `other` has or lacks compared with `self`, in words.
    fn differences(&self, other: &Schema) -> Vec<String> {
        let mut out = Vec::new();
        for (k, t) in &self.tables {
            match other.tables.get(k) {
                None => out.push(format!("table `{}` is missing", t.name)),
                Some(o) => table_differences(t, o, &mut out),
            }
        }
        for (k, t) in &other.tables {
            if !self.tables.contains_key(k) {
                out.push(format!("table `{}` is left over", t.name));
            }
        }
        for (k, ix) in &self.indexes {
            match other.indexes.get(k) {
                None => out.push(format!("index `{}` is missing", ix.name)),
                Some(o) if !same_index(ix, o) => {
                    out.push(format!("index `{}` is not the same", ix.name))
                }
                Some(_) => {}
            }
        }
        for (k, ix) in &other.indexes {
            if !self.indexes.contains_key(k) {
                out.push(format!("index `{}` is left over", ix.name));
            }
        }
        for (kind, mine, theirs) in [
            ("view", &self.views, &other.views),
            ("trigger", &self.triggers, &other.triggers),
        ] {
            for (k, name) in mine {
                if !theirs.contains_key(k) {
                    out.push(format!("{kind} `{name}` is missing"));
                }
            }
            for (k, name) in theirs {
                if !mine.contains_key(k) {
                    out.push(format!("{kind} `{name}` is left over"));
                }
            }
        }
        out
    }
}

fn same_index(a: &Index, b: &Index) -> bool {
    a.table.eq_ignore_ascii_case(&b.table)
        && a.unique == b.unique
        && a.columns.len() == b.columns.len()
        && a.columns
            .iter()
            .zip(&b.columns)
            .all(|(x, y)| x.eq_ignore_ascii_case(y))
}

fn table_differences(before: &Table, after: &Table, out: &mut Vec<String>) {
    let t = &before.name;
    for c in &before.columns {
        match after.column(&c.name) {
            None => out.push(format!("column `{t}.{}` is missing", c.name)),
            Some(a) => {
                if a.nullable != c.nullable {
                    out.push(format!(
                        "column `{t}.{}` is {} instead of {}",
                        c.name,
                        if a.nullable { "nullable" } else { "NOT NULL" },
                        if c.nullable { "nullable" } else { "NOT NULL" }
                    ));
                }
                if !a.default_unknown
                    && !c.default_unknown
                    && stored_default(a) != stored_default(c)
                {
                    out.push(format!(
                        "column `{t}.{}` has default {} instead of {}",
                        c.name,
                        a.default.as_deref().unwrap_or("(none)"),
                        c.default.as_deref().unwrap_or("(none)")
                    ));
                }
                if !a.type_unknown
                    && !c.type_unknown
                    && normalize_type(&a.sql_type) != normalize_type(&c.sql_type)
                {
                    out.push(format!(
                        "column `{t}.{}` has type {} instead of {}",
                        c.name,
                        a.sql_type.as_deref().unwrap_or("(none)"),
                        c.sql_type.as_deref().unwrap_or("(none)")
                    ));
                }
            }
        }
    }
    for c in &after.columns {
        if before.column(&c.name).is_none() {
            out.push(format!("column `{t}.{}` is left over", c.name));
        }
    }
    for fk in &before.foreign_keys {
        if !after.foreign_keys.iter().any(|f| same_fk(f, fk)) {
            out.push(format!(
                "foreign key `{t}({})` → `{}` is missing",
                fk.columns.join(", "),
                fk.ref_table
            ));
        }
    }
    for fk in &after.foreign_keys {
        if !before.foreign_keys.iter().any(|f| same_fk(f, fk)) {
            out.push(format!(
                "foreign key `{t}({})` → `{}` is left over",
                fk.columns.join(", "),
                fk.ref_table
            ));
        }
    }
}

fn same_fk(a: &ForeignKey, b: &ForeignKey) -> bool {
    a.ref_table.eq_ignore_ascii_case(&b.ref_table)
        && a.columns.len() == b.columns.len()
        && a.columns
            .iter()
            .zip(&b.columns)
            .all(|(x, y)| x.eq_ignore_ascii_case(y))
}

/// The value SQLite gives a column from its DEFAULT, as far as the text
/// says: the column's type affinity applies as it does to an inserted value
/// (`'-1'` in an INTEGER column is -1, `false` is 0, `1` in a TEXT column
/// is `'1'`), so two spellings of one value are one default.
fn stored_default(c: &ColumnState) -> Option<String> {
    let d = normalize_default(&c.default)?;
    let ty = c.sql_type.as_deref().unwrap_or("").to_ascii_uppercase();
    // SQLite's affinity rules, in their order.
    let text = !ty.contains("INT") && ["CHAR", "CLOB", "TEXT"].iter().any(|k| ty.contains(k));
    let blob = !ty.contains("INT") && !text && (ty.is_empty() || ty.contains("BLOB"));
    let numeric = !text && !blob;
    let quoted = d
        .strip_prefix('\'')
        .and_then(|r| r.strip_suffix('\''))
        .filter(|r| !r.contains('\''));
    let number = |v: &str| v.parse::<f64>().ok().filter(|n| n.is_finite());
    let bare = match d.to_ascii_lowercase().as_str() {
        "true" => Some("1".to_string()),
        "false" => Some("0".to_string()),
        _ => number(&d).map(|_| d.clone()),
    };
    Some(match (bare, quoted) {
        (Some(n), _) if numeric => format!("{}", number(&n)?),
        (None, Some(q)) if numeric && number(q).is_some() => format!("{}", number(q)?),
        (Some(n), _) if text => format!("'{n}'"),
        _ => d,
    })
}

/// A default as SQLite keeps it: without outer parentheses or spacing.
fn normalize_default(d: &Option<String>) -> Option<String> {
    d.as_deref().map(|d| {
        let d = d.trim();
        d.strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
            .unwrap_or(d)
            .replace(' ', "")
    })
}

fn normalize_type(t: &Option<String>) -> String {
    t.as_deref()
        .unwrap_or("")
        .to_ascii_uppercase()
        .replace(' ', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(sql_type: &str, default: &str) -> ColumnState {
        ColumnState {
            name: "c".into(),
            sql_type: Some(sql_type.into()),
            type_unknown: false,
            nullable: true,
            default: Some(default.into()),
            default_unknown: false,
            primary_key: false,
            unique: false,
            generated: false,
            origin: Span::new(crate::source::FileId(0), 0, 0),
        }
    }

    /// airflow's downgrades write `server_default="-1"` where the upgrade
    /// had `sa.text("-1")`: one value in an INTEGER column, not a change.
    #[test]
    fn defaults_are_compared_as_the_value_sqlite_stores() {
        let same = |t: &str, a: &str, b: &str| {
            stored_default(&column(t, a)) == stored_default(&column(t, b))
        };
        assert!(same("INTEGER", "'-1'", "-1"));
        assert!(same("BOOLEAN", "'0'", "(false)"));
        assert!(same("FLOAT", "'1.50'", "1.5"));
        assert!(same("VARCHAR(10)", "1", "'1'"));
        assert!(!same("VARCHAR(10)", "'01'", "1"));
        assert!(!same("INTEGER", "'-1'", "'0'"));
        assert!(!same("INTEGER", "'a'", "0"));
        assert!(!same("BLOB", "'1'", "1"));
        assert!(same("DATETIME", "(CURRENT_TIMESTAMP)", "CURRENT_TIMESTAMP"));
    }
}
