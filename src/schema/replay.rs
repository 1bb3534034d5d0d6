//! Replays a folder's migrations, in chain order, into an in-memory schema.
//!
//! The schema mirrors what SQLite holds after `alembic upgrade` or `yoyo
//! apply`: tables, columns, indexes, foreign keys, views, triggers. An
//! operation that cannot happen against the current state is recorded as a
//! fact at that operation ([`super::facts`]); the rules judge them. Each migration's downgrade is replayed on a
//! copy of only the tables the migration touched, so checking round trips
//! costs what the migration touches, not what the schema holds.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::chain::MigrationSet;
use crate::load::env::{NamingConvention, convention_name};
use crate::load::eval::any_of;
use crate::migration::{
    Column, ColumnChanges, ConstraintKind, Exists, Flavour, IndexDef, Migration, OpKind,
    OpaqueKind, Operation, Reach, Rollback, TableConstraint,
};
use crate::project::config::Dialect;
use crate::source::Span;

use super::facts::{Conflict, DropRefusal, Event, Fact, Use};
use super::{
    ColumnState, ForeignKey, Index, Schema, Snapshot, Table, UniqueConstraint, key,
    statement_words, touched_names,
};

/// The result of replaying one set.
#[derive(Debug, Default)]
pub struct Replay {
    pub schema: Schema,
    /// What the replay met, in chain order.
    pub events: Vec<Event>,
    /// What it cannot be sure of, as it stands at the end of the chain.
    pub uncertain: Uncertain,
    /// Per migration that made something uncertain: (migration index,
    /// where, what was not read).
    pub notes: Vec<(usize, Span, String)>,
    /// Migrations whose effects could not be fully modelled (Python code,
    /// SQL built at run time): (migration index, what).
    pub opaque: Vec<(usize, String)>,
    /// The database the chain was replayed for: it names what the
    /// migrations leave unnamed.
    pub dialect: Dialect,
    /// The naming convention of Alembic's `target_metadata`: it names
    /// them first.
    pub convention: NamingConvention,
}

/// What a replay hands over for each migration with SQL, as soon as it has
/// replayed it: the migration's index, the tables and indexes it touches or
/// names as they were just before it ran (`sqlite-exec` runs its SQL
/// against exactly this), and where the replay found problems in it.
pub type SqlSink<'a> = &'a mut dyn FnMut(usize, BeforeSql, Vec<Span>);

/// The tables a migration's SQL starts from, kept for `sqlite-exec`.
#[derive(Debug)]
pub enum BeforeSql {
    /// yoyo: their CREATE TABLE / CREATE INDEX statements, rendered at once
    /// (a fraction of the size of the model, which matters at 50,000
    /// migrations).
    Statements(Vec<String>),
    /// Alembic: the model itself, since the revision's other operations
    /// are applied to it between its SQL statements.
    Tables(Snapshot),
}

/// How the replay treats what it finds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The main pass: report everything.
    Upgrade,
    /// A downgrade on a partial copy: report consistency, skip foreign-key
    /// targets (the tables they point at may be outside the copy).
    Downgrade,
}

/// Tables and names the replay cannot be sure of: an operation miglint
/// could not read, or one that may not have run, touched them. No fact is
/// recorded about them from then on.
#[derive(Clone, Debug, Default)]
pub struct Uncertain {
    /// An operation touched tables miglint cannot name: every table.
    pub all: bool,
    /// Tables (keys) made uncertain.
    pub tables: BTreeSet<String>,
    /// Tables (keys) known again since `all` (created or dropped for sure).
    pub known: BTreeSet<String>,
    /// Index, view and trigger names (keys) made uncertain.
    pub names: BTreeSet<String>,
    /// An operation created or dropped an index whose name is unknown.
    pub index_names: bool,
    /// Tables (keys) the baseline holds or an operation so far created,
    /// renamed or dropped: a missing table not among them was never
    /// created by the chain at all.
    pub seen: BTreeSet<String>,
    /// Every table and name made uncertain, in order (for the notes).
    pub log: Vec<String>,
}

impl Uncertain {
    pub fn table(&self, name: &str) -> bool {
        if !self.all && self.tables.is_empty() {
            return false;
        }
        let k = key(name);
        self.tables.contains(&k) || (self.all && !self.known.contains(&k))
    }

    pub fn name(&self, name: &str) -> bool {
        self.names.contains(&key(name))
    }

    fn mark(&mut self, table: &str) {
        if table.is_empty() {
            self.all = true;
            self.known.clear();
        } else {
            if self.tables.insert(key(table)) {
                self.log.push(key(table));
            }
            self.known.remove(&key(table));
        }
    }

    fn mark_name(&mut self, name: &str) {
        if self.names.insert(key(name)) {
            self.log.push(key(name));
        }
    }

    /// A certain operation created or dropped `table`: its state is known.
    fn settle(&mut self, table: &str) {
        self.tables.remove(&key(table));
        if self.all {
            self.known.insert(key(table));
        }
    }

    /// Whether a fact about these tables and names rests on something
    /// uncertain.
    fn touches(&self, tables: &[&str], names: &[&str]) -> bool {
        tables.iter().any(|t| self.table(t)) || names.iter().any(|n| self.name(n))
    }
}

struct Ctx<'a> {
    mode: Mode,
    events: &'a mut Vec<Event>,
    uncertain: &'a mut Uncertain,
    /// Inspector checks of this migration already looked at: whether the
    /// table was there when the `if` ran.
    checks: HashMap<u32, bool>,
    /// The first operation the replay could not be sure ran (unread, or
    /// under a condition it could not decide).
    unsure: Option<Span>,
    /// The first `Column(..., index=True)` whose index name comes from a
    /// naming convention miglint could not read.
    unnamed_index: Option<Span>,
    /// What this migration has changed so far, as inspector checks see
    /// it: tables created, dropped or renamed, index names, and columns
    /// (`table.column`) added, dropped or renamed (keys). A check on them
    /// may have been read before the change, so it is not decided.
    changed: BTreeSet<String>,
    /// PostgreSQL names unnamed constraints itself (`<table>_pkey`).
    postgres: bool,
    /// Foreign keys to a table that does not exist yet: SQLite takes them,
    /// and the same migration may create the table later (two tables that
    /// point at each other). Checked when the migration ends; kept only
    /// when both tables were certain where the key was made.
    pending_fks: Vec<(String, ForeignKey, Span)>,
    /// The naming convention of Alembic's `target_metadata`.
    convention: NamingConvention,
    /// The indexes the current `batch_alter_table` block drops (keys):
    /// Alembic applies the block as a whole, so a column dropped before
    /// its index in the same block is no conflict.
    batch_drops: BTreeSet<String>,
}

impl<'a> Ctx<'a> {
    fn new(mode: Mode, events: &'a mut Vec<Event>, uncertain: &'a mut Uncertain) -> Ctx<'a> {
        Ctx {
            mode,
            events,
            uncertain,
            checks: HashMap::new(),
            changed: BTreeSet::new(),
            unsure: None,
            unnamed_index: None,
            postgres: false,
            pending_fks: Vec::new(),
            convention: NamingConvention::Default,
            batch_drops: BTreeSet::new(),
        }
    }

    fn found(&mut self, span: Span, fact: Fact) {
        // A table no migration creates (a chain that starts after
        // `create_all`): said once, then uncertain.
        let never = match &fact {
            Fact::Conflict(Conflict::TableMissing { table, .. })
            | Fact::Conflict(Conflict::IndexTableMissing { table, .. })
                if !self.uncertain.seen.contains(&key(table)) =>
            {
                Some(table.clone())
            }
            _ => None,
        };
        let fact = match never {
            Some(table) => {
                let event = Fact::Conflict(Conflict::NeverCreated {
                    table: table.clone(),
                });
                let sure = !self.uncertain.table(&table);
                self.uncertain.mark(&table);
                self.uncertain.seen.insert(key(&table));
                if sure {
                    self.events.push(Event { span, fact: event });
                }
                return;
            }
            None => fact,
        };
        let sure = match &fact {
            Fact::Conflict(c) => !self.conflict_uncertain(c),
            Fact::DanglingForeignKey { owner, target, .. } => {
                !self.uncertain.touches(&[owner, target], &[])
            }
            Fact::DropColumnRefused { table, .. } => !self.uncertain.touches(&[table], &[]),
            Fact::RoundTrip { .. } => true,
        };
        if sure {
            self.events.push(Event { span, fact });
        }
    }

    fn conflict(&mut self, span: Span, conflict: Conflict) {
        self.found(span, Fact::Conflict(conflict));
    }

    fn conflict_uncertain(&self, c: &Conflict) -> bool {
        let u = &self.uncertain;
        match c {
            Conflict::TableExists { table, .. }
            | Conflict::TableMissing { table, .. }
            | Conflict::ColumnDeclaredTwice { table, .. }
            | Conflict::ColumnExists { table, .. }
            | Conflict::ColumnMissing { table, .. }
            | Conflict::ConstraintColumnMissing { table, .. }
            | Conflict::ConstraintMissing { table, .. }
            | Conflict::IndexTableMissing { table, .. }
            | Conflict::IndexColumnMissing { table, .. }
            | Conflict::BatchDropIndexedColumn { table, .. }
            | Conflict::BatchCopiesGenerated { table, .. } => u.touches(&[table], &[]),
            Conflict::NameTaken {
                table: Some(table), ..
            } => u.touches(&[table], &[]),
            Conflict::NameTaken {
                table: None,
                from,
                to,
            } => u.touches(&[from, to], &[]),
            Conflict::IndexExists { index, table, .. } => {
                u.index_names || u.touches(&[table], &[index])
            }
            Conflict::IndexMissing { index, table } => {
                u.index_names
                    || u.name(index)
                    || table.as_deref().is_some_and(|t| u.table(t))
                    || (u.all && table.is_none())
            }
            Conflict::TableReferenced { table, by } => {
                u.table(table) || by.iter().any(|t| u.table(t))
            }
            Conflict::ObjectExists { name, .. } | Conflict::ObjectMissing { name, .. } => {
                u.all || u.name(name)
            }
            Conflict::NeverCreated { table } => u.touches(&[table], &[]),
        }
    }
}

/// Replays every migration of the set in chain order, from an empty database.
pub fn replay(set: &MigrationSet) -> Replay {
    replay_until(set, &Schema::default(), None)
}

/// Replays from `start` (the baseline) up to and including the migration
/// with id `until` (all when `None`).
pub fn replay_until(set: &MigrationSet, start: &Schema, until: Option<&str>) -> Replay {
    replay_inner(set, start, until, None, None)
}

/// Replays every migration from `start`, handing each one with SQL to
/// `sql` as soon as it has been replayed.
pub fn replay_handing_sql(set: &MigrationSet, start: &Schema, sql: SqlSink) -> Replay {
    replay_inner(set, start, None, Some(sql), None)
}

/// Shown each migration, the schema just after it, and what of it is
/// uncertain there.
pub type EachSink<'a> = &'a mut dyn FnMut(&Migration, &Schema, &Uncertain);

/// Replays every migration from `start`, showing `each` the schema after
/// each one, in chain order.
pub fn replay_each(set: &MigrationSet, start: &Schema, each: EachSink) -> Replay {
    replay_inner(set, start, None, None, Some(each))
}

fn replay_inner(
    set: &MigrationSet,
    start: &Schema,
    until: Option<&str>,
    mut sql: Option<SqlSink>,
    mut each: Option<EachSink>,
) -> Replay {
    let mut out = Replay {
        schema: start.clone(),
        dialect: set.dialect,
        convention: set.naming_convention.clone(),
        ..Replay::default()
    };
    out.uncertain.seen = start.tables.keys().cloned().collect();
    for &i in &set.chain.order {
        let m = &set.migrations[i];
        if m.ops_unknown {
            out.opaque.push((i, "the file does not parse".into()));
        } else {
            let found_before = out.events.len();
            let before = replay_migration(m, i, &mut out, sql.is_some());
            if let (Some(sink), Some(before)) = (sql.as_mut(), before) {
                // Statements on what is uncertain are not judged either.
                let mut known: Vec<Span> =
                    out.events[found_before..].iter().map(|f| f.span).collect();
                let unsure = out.uncertain.all || !out.uncertain.tables.is_empty();
                for op in m.upgrade_ops().chain(m.downgrade_ops()) {
                    if let Some(sql) = &op.sql
                        && (!op.always()
                            || (unsure
                                && statement_words(&sql.statement)
                                    .any(|w| out.uncertain.table(&w))))
                    {
                        known.push(op.span);
                    }
                }
                sink(i, before, known);
            }
        }
        if let Some(each) = each.as_mut() {
            each(m, &out.schema, &out.uncertain);
        }
        if until.is_some_and(|u| u == m.id_str() || u == m.stem) {
            break;
        }
    }
    out
}

fn is_opaque(op: &Operation) -> bool {
    matches!(
        op.kind,
        OpKind::Opaque {
            what: OpaqueKind::Python | OpaqueKind::DynamicSql | OpaqueKind::Sql,
            ..
        }
    )
}

/// Applies one migration to `out`; with `want_sql`, also returns the tables
/// its SQL starts from.
fn replay_migration(
    m: &Migration,
    index: usize,
    out: &mut Replay,
    want_sql: bool,
) -> Option<BeforeSql> {
    let has_opaque = m.upgrade_ops().chain(m.downgrade_ops()).any(is_opaque);
    if has_opaque {
        out.opaque
            .push((index, "operations miglint cannot model".into()));
    }
    let has_rollback = m
        .steps
        .iter()
        .any(|s| matches!(s.rollback, Rollback::Ops { .. }));
    let has_sql = want_sql
        && (m.upgrade_ops().any(|op| op.sql.is_some())
            || m.upgrade_ops()
                .chain(m.downgrade_ops())
                .any(|op| refused_only_with_rows(op, m.flavour).is_some()));
    let mut before_sql = None;
    if has_sql {
        let mut names = touched_names(m, &out.schema);
        for op in m.upgrade_ops().chain(m.downgrade_ops()) {
            if let Some(sql) = &op.sql {
                for k in statement_words(&sql.statement) {
                    if out.schema.tables.contains_key(&k) && names.tables.insert(k.clone()) {
                        names.indexes.extend(out.schema.index_keys_of(&k));
                    }
                }
            }
        }
        let subset = out.schema.subset(&names);
        let before = if m.flavour == Flavour::Alembic {
            BeforeSql::Tables(Snapshot::of(subset))
        } else {
            BeforeSql::Statements(crate::schema::render::create_statements(&subset))
        };
        before_sql = Some(before);
    }
    let touched = has_rollback.then(|| touched_names(m, &out.schema));
    let before = touched.as_ref().map(|t| out.schema.subset(t));

    let (was_all, logged) = (out.uncertain.all, out.uncertain.log.len());
    let postgres = out.dialect == Dialect::Postgresql;
    let mut cx = Ctx::new(Mode::Upgrade, &mut out.events, &mut out.uncertain);
    cx.postgres = postgres;
    cx.convention = out.convention.clone();
    apply_migration_ops(&mut out.schema, m.upgrade_ops(), m.flavour, &mut cx);
    for (owner, fk, span) in std::mem::take(&mut cx.pending_fks) {
        match out.schema.tables.get(&key(&fk.ref_table)) {
            Some(target) => check_target(target, &owner, &fk, span, &mut cx),
            // Still missing, and nothing later in the migration may have
            // made it: what was certain where the key was made stays so.
            None if !cx.uncertain.table(&fk.ref_table) => cx.events.push(Event {
                span,
                fact: missing_target(&owner, &fk),
            }),
            None => {}
        }
    }
    let (cx_unsure, cx_unnamed_index) = (cx.unsure, cx.unnamed_index);
    // What this migration made uncertain, said once, at the first
    // operation miglint could not read or decide.
    let first_unsure = cx_unsure
        .and_then(|span| m.upgrade_ops().find(|op| op.span == span))
        .or_else(|| {
            m.downgrade_ops().find(|op| {
                (op.reach == Reach::Maybe && changes_schema(op))
                    || matches!(op.kind, OpKind::Unread { .. })
            })
        });
    if let Some(op) = first_unsure {
        out.notes.push((
            index,
            op.span,
            uncertain_note(op, was_all, &out.uncertain, logged),
        ));
    } else if let Some(span) = cx_unnamed_index {
        out.notes.push((
            index,
            span,
            "the name of the index `index=True` makes, from the naming convention of env.py's \
             `target_metadata`, which miglint could not read; index names are not checked from \
             here"
                .to_string(),
        ));
    }

    let (Some(touched), Some(before)) = (touched, before) else {
        return before_sql;
    };
    let mut scratch = out.schema.subset(&touched);
    let mut cx = Ctx::new(Mode::Downgrade, &mut out.events, &mut out.uncertain);
    cx.postgres = postgres;
    cx.convention = out.convention.clone();
    apply_migration_ops(&mut scratch, m.downgrade_ops(), m.flavour, &mut cx);
    // Only a fully modelled migration can be judged on its round trip, and
    // only when every step can be rolled back (the others are reported by
    // rollback-required).
    let all_steps_roll_back = m
        .steps
        .iter()
        .all(|s| matches!(s.rollback, Rollback::Ops { .. }) || !s.apply_does_work);
    // Nor can one that touches what is uncertain: a table, or an index
    // once some index's name is not known.
    let unsure_tables = touched.tables.iter().any(|t| out.uncertain.table(t))
        || (out.uncertain.index_names && !touched.indexes.is_empty());
    if has_opaque || !all_steps_roll_back || first_unsure.is_some() || unsure_tables {
        return before_sql;
    }
    let differences = before.differences(&scratch);
    if !differences.is_empty() {
        let span = m
            .steps
            .iter()
            .rev()
            .find_map(|s| match &s.rollback {
                Rollback::Ops { span, .. } => Some(*span),
                _ => None,
            })
            .unwrap_or(Span::new(m.file, 0, 0));
        out.events.push(Event {
            span,
            fact: Fact::RoundTrip {
                flavour: m.flavour,
                differences,
            },
        });
    }
    before_sql
}

/// The SQL type the folder's database stores for a declared column:
/// [`postgres_type`] on PostgreSQL, else [`sql_type`].
fn declared_sql_type(flavour: Flavour, declared: Option<&str>, postgres: bool) -> Option<String> {
    if postgres {
        postgres_type(flavour, declared)
    } else {
        sql_type(flavour, declared)
    }
}

/// The type PostgreSQL stores for a column declared in a migration, in
/// upper case. SQL is kept as written; SQLAlchemy types are rendered the
/// way its PostgreSQL dialect renders them (a `with_variant(...,
/// "postgresql")` wins), so `sa.DateTime()` and `postgresql.TIMESTAMP()`
/// are one type, and `timezone=True` is kept.
pub fn postgres_type(flavour: Flavour, declared: Option<&str>) -> Option<String> {
    let declared = declared?.trim();
    if flavour != Flavour::Alembic {
        return Some(declared.to_string());
    }
    let declared = dialect_variant(declared, "postgresql");
    let (name, args) = type_call(declared);
    let arg_list = top_level_args(args);
    let keyword = |k: &str| {
        arg_list
            .iter()
            .find_map(|a| a.strip_prefix(k)?.trim_start().strip_prefix('='))
            .map(str::trim)
    };
    let zone = |base: &str| {
        let with = keyword("timezone") == Some("True") || matches!(name, "TIMESTAMPTZ" | "TIMETZ");
        format!("{base} {} TIME ZONE", if with { "WITH" } else { "WITHOUT" })
    };
    Some(match name {
        "DateTime" | "TIMESTAMP" | "TIMESTAMPTZ" => zone("TIMESTAMP"),
        "Time" | "TIME" | "TIMETZ" => zone("TIME"),
        "Double" | "DOUBLE_PRECISION" => "DOUBLE PRECISION".into(),
        "LargeBinary" | "BLOB" | "BYTEA" => "BYTEA".into(),
        "Uuid" | "UUID" => "UUID".into(),
        "JSONB" => "JSONB".into(),
        // A native enum is a type of its own, named by `name=` (quoted:
        // no type family is read into its name).
        "Enum" | "ENUM" if keyword("native_enum") != Some("False") => {
            match keyword("name").and_then(string_literal) {
                Some(n) => format!("\"{n}\""),
                None => "ENUM".into(),
            }
        }
        _ => return sql_type(flavour, Some(declared)),
    })
}

/// A SQLAlchemy type expression's class name (`sa.String(36)` → `String`)
/// and the text between its parentheses.
fn type_call(declared: &str) -> (&str, &str) {
    let (head, args) = match declared.find('(') {
        Some(i) => (
            &declared[..i],
            declared[i + 1..].trim_end_matches(')').trim(),
        ),
        None => (declared, ""),
    };
    (head.rsplit('.').next().unwrap_or(head), args)
}

/// The SQL type SQLite stores for a column declared in a migration. Alembic
/// types are written as SQLAlchemy expressions and mapped the way
/// SQLAlchemy's SQLite dialect renders them.
pub fn sql_type(flavour: Flavour, declared: Option<&str>) -> Option<String> {
    let declared = declared?.trim();
    if flavour != Flavour::Alembic {
        return Some(declared.to_string());
    }
    let declared = dialect_variant(declared, "sqlite");
    let (name, args) = type_call(declared);
    Some(sqlite_type_of(name, args).unwrap_or_else(|| name.to_ascii_uppercase()))
}

/// The SQL type SQLite stores for one of SQLAlchemy's type classes that
/// miglint maps by name (`String(36)` → `VARCHAR(36)`); `None` for any
/// other name.
fn sqlite_type_of(name: &str, args: &str) -> Option<String> {
    let length = args
        .split(',')
        .next()
        .map(|a| a.trim().trim_start_matches("length=").trim())
        .filter(|a| !a.is_empty() && a.chars().all(|c| c.is_ascii_digit()));
    let sized = |base: &str| match length {
        Some(n) => format!("{base}({n})"),
        None => base.to_string(),
    };
    Some(match name {
        // SQLModel's string type compiles to VARCHAR.
        "String" | "Unicode" | "VARCHAR" | "AutoString" => sized("VARCHAR"),
        "Text" | "UnicodeText" | "TEXT" => "TEXT".into(),
        "Integer" | "INTEGER" => "INTEGER".into(),
        "CHAR" | "NCHAR" | "NVARCHAR" | "BINARY" | "VARBINARY" => sized(name),
        // SQLAlchemy sizes the VARCHAR to the longest value it is given.
        "Enum" => match enum_length(args) {
            Some(n) => format!("VARCHAR({n})"),
            None => "VARCHAR".into(),
        },
        "SmallInteger" => "SMALLINT".into(),
        "BigInteger" => "BIGINT".into(),
        "Boolean" => "BOOLEAN".into(),
        "DateTime" => "DATETIME".into(),
        "Date" => "DATE".into(),
        "Time" => "TIME".into(),
        "Float" | "Double" => "FLOAT".into(),
        "Numeric" | "NUMERIC" | "DECIMAL" => {
            let parts: Vec<&str> = args
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty() && a.chars().all(|c| c.is_ascii_digit()))
                .collect();
            if parts.is_empty() {
                "NUMERIC".into()
            } else {
                format!("NUMERIC({})", parts.join(", "))
            }
        }
        "JSON" => "JSON".into(),
        "LargeBinary" | "BLOB" | "PickleType" => "BLOB".into(),
        "Uuid" | "UUID" => "CHAR(32)".into(),
        // Without a native interval type, SQLAlchemy stores a datetime.
        "Interval" => "DATETIME".into(),
        _ => return None,
    })
}

/// Whether miglint knows the SQL type a declared column gets. SQL is known
/// as written. A SQLAlchemy expression is known when its class is one of
/// SQLAlchemy's and what sizes it is written out; not when it is a type of
/// the project miglint could not read (`StringID()` from a module that
/// makes its names at run time), an `Enum` whose values come from
/// elsewhere (`sa.Enum(*STATUSES)`, `sa.Enum(RunStatus)`), or a length held
/// by a name miglint could not evaluate. An unknown type is never compared.
pub fn type_known(flavour: Flavour, declared: Option<&str>, postgres: bool) -> bool {
    let Some(declared) = declared.map(str::trim) else {
        return true;
    };
    if flavour != Flavour::Alembic {
        return true;
    }
    let declared = dialect_variant(declared, if postgres { "postgresql" } else { "sqlite" });
    let (name, args) = type_call(declared);
    // One of SQLAlchemy's classes miglint maps, or an upper case class
    // (`VARCHAR`, `MEDIUMTEXT`, `JSONB`): a SQL type rendered as its name.
    let sqlalchemy = sqlite_type_of(name, "").is_some()
        || (name.starts_with(|c: char| c.is_ascii_uppercase())
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'));
    if !sqlalchemy {
        return false;
    }
    let raw = args;
    if raw.is_empty() && !matches!(name, "Enum" | "ENUM") {
        return true;
    }
    let args = top_level_args(raw);
    // A size written as a literal, or none.
    let literal = |a: &str| a == "None" || a.chars().all(|c| c.is_ascii_digit());
    let sizes = |a: &&&str| {
        !a.contains('=')
            || ["length", "precision", "scale"].iter().any(|k| {
                a.strip_prefix(k)
                    .is_some_and(|r| r.trim_start().starts_with('='))
            })
    };
    match name {
        "Enum" | "ENUM" => {
            let native = !args
                .iter()
                .any(|a| a.replace(' ', "") == "native_enum=False");
            // PostgreSQL names a native enum by `name=`; elsewhere (and
            // when not native) the longest value sizes a VARCHAR.
            if postgres && native {
                args.iter().any(|a| {
                    a.strip_prefix("name")
                        .and_then(|r| r.trim_start().strip_prefix('='))
                        .and_then(|v| string_literal(v.trim()))
                        .is_some()
                })
            } else {
                enum_length(raw).is_some()
            }
        }
        "String" | "Unicode" | "AutoString" | "VARCHAR" | "CHAR" | "NCHAR" | "NVARCHAR"
        | "BINARY" | "VARBINARY" | "Numeric" | "NUMERIC" | "DECIMAL" => args
            .iter()
            .filter(sizes)
            .all(|a| literal(a.rsplit('=').next().unwrap_or(a).trim())),
        _ => true,
    }
}

/// Splits `args` (the text between a call's parentheses) at its top-level
/// commas, outside brackets and string literals.
fn top_level_args(args: &str) -> Vec<&str> {
    let (mut out, mut depth, mut quote, mut start) = (Vec::new(), 0i32, None, 0);
    let mut chars = args.char_indices();
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (Some(_), '\\') => {
                chars.next();
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => {
                out.push(args[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = args[start..].trim();
    if !last.is_empty() {
        out.push(last);
    }
    out
}

/// The string a Python literal holds, when `text` is one plain literal.
fn string_literal(text: &str) -> Option<&str> {
    let q = text.chars().next()?;
    (matches!(q, '"' | '\'') && text.len() >= 2 && text.ends_with(q))
        .then(|| &text[1..text.len() - 1])
        .filter(|inner| !inner.contains(['\\', q]))
}

/// The type `dialect` gets from `base.with_variant(other, "<dialect>")`:
/// `other` for that dialect, else `base` (variants for others dropped).
fn dialect_variant<'a>(declared: &'a str, wanted: &str) -> &'a str {
    const CALL: &str = ".with_variant(";
    let Some(at) = declared.find(CALL) else {
        return declared;
    };
    let base = &declared[..at];
    let mut rest = &declared[at..];
    while let Some(tail) = rest.strip_prefix(CALL) {
        // The call's arguments run to the parenthesis that closes it.
        let mut depth = 1;
        let Some(close) = tail.char_indices().find_map(|(i, c)| {
            depth += match c {
                '(' => 1,
                ')' => -1,
                _ => 0,
            };
            (depth == 0).then_some(i)
        }) else {
            return declared;
        };
        let args = top_level_args(&tail[..close]);
        let dialect = args
            .get(1)
            .map(|a| a.trim_start_matches("dialect_name=").trim());
        if dialect.and_then(|d| string_literal(d)) == Some(wanted) {
            return args[0];
        }
        rest = tail[close + 1..].trim_start();
    }
    base
}

/// The length of an `Enum`'s VARCHAR: its `length=`, else the longest of
/// its string values, when they are all written out.
fn enum_length(args: &str) -> Option<usize> {
    let args = top_level_args(args);
    if let Some(n) = args.iter().find_map(|a| {
        a.strip_prefix("length")?
            .trim_start()
            .strip_prefix('=')?
            .trim()
            .parse()
            .ok()
    }) {
        return Some(n);
    }
    let values: Vec<&str> = args
        .into_iter()
        .filter(|a| !a.contains('='))
        .map(string_literal)
        .collect::<Option<_>>()?;
    values.iter().map(|v| v.chars().count()).max()
}

/// The DEFAULT the database stores for a `server_default=` written in
/// Python (SQL as given for the other flavours); `None` for none, and for
/// one miglint cannot read ([`default_known`]).
pub fn sql_default(flavour: Flavour, declared: Option<&str>, postgres: bool) -> Option<String> {
    column_default(flavour, declared, postgres).0
}

/// Whether miglint reads what a `server_default=` stores: a string, SQL in
/// `text("...")`, `func.now()`, `false()` / `true()`. A call or name of the
/// application's (`server_default=current_timestamp_sql()`) is not read,
/// never copied as SQL: the default is then unknown, and not compared.
pub fn default_known(flavour: Flavour, declared: Option<&str>) -> bool {
    column_default(flavour, declared, false).1
}

/// [`sql_default`] and [`default_known`] in one reading.
fn column_default(
    flavour: Flavour,
    declared: Option<&str>,
    postgres: bool,
) -> (Option<String>, bool) {
    match declared.map(str::trim) {
        None => (None, true),
        Some(d) if flavour != Flavour::Alembic => (Some(d.to_string()), true),
        Some(d) => match python_default(d, postgres) {
            Some(default) => (default, true),
            None => (None, false),
        },
    }
}

/// `Some(default)` when miglint reads the Python, else `None`.
fn python_default(declared: &str, postgres: bool) -> Option<Option<String>> {
    if declared == "None" {
        return Some(None);
    }
    let unquote = |s: &str| -> Option<String> {
        let s = s.trim();
        let q = s.chars().next()?;
        (matches!(q, '"' | '\'') && s.ends_with(q) && s.len() >= 2)
            .then(|| s[1..s.len() - 1].to_string())
    };
    if let Some(s) = unquote(declared) {
        return Some(Some(format!("'{}'", s.replace('\'', "''"))));
    }
    if let Some(inner) = call_args(declared, "text") {
        return Some(Some(unquote(inner)?));
    }
    let no_args = |name: &str| call_args(declared, name).is_some_and(|a| a.trim().is_empty());
    if (no_args("now") || no_args("current_timestamp")) && declared.contains("func.") {
        return Some(Some("CURRENT_TIMESTAMP".into()));
    }
    // SQLAlchemy writes `false()` / `true()` as 0 / 1 where booleans are
    // not native (SQLite).
    for (name, native, number) in [("false", "false", "0"), ("true", "true", "1")] {
        if no_args(name) {
            return Some(Some(if postgres { native } else { number }.to_string()));
        }
    }
    None
}

/// The arguments' text of `name(...)` or `a.b.name(...)`, when `text` is
/// that call and nothing else.
fn call_args<'t>(text: &'t str, name: &str) -> Option<&'t str> {
    let open = text.find('(')?;
    let callee = &text[..open];
    let dotted = callee
        .split('.')
        .all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_'));
    if !dotted || callee.rsplit('.').next() != Some(name) {
        return None;
    }
    text[open + 1..].strip_suffix(')')
}

fn column_state(flavour: Flavour, c: &Column, postgres: bool) -> ColumnState {
    let (default, default_known) = column_default(flavour, c.default.as_deref(), postgres);
    ColumnState {
        name: c.name.clone(),
        sql_type: declared_sql_type(flavour, c.type_name.as_deref(), postgres),
        type_unknown: !type_known(flavour, c.type_name.as_deref(), postgres),
        nullable: c.nullable,
        default,
        default_unknown: !default_known,
        primary_key: c.primary_key,
        unique: c.unique,
        generated: c.generated,
        origin: c.span,
    }
}

/// What a migration left unread, and which tables it made uncertain.
fn uncertain_note(op: &Operation, was_all: bool, after: &Uncertain, logged: usize) -> String {
    let what = match &op.kind {
        OpKind::Unread { note, .. } if !note.is_empty() => note.clone(),
        OpKind::Unread { .. } => "names computed at run time".to_string(),
        _ => "operations under a condition miglint cannot decide (an inspector check, a `try`, a loop)"
            .to_string(),
    };
    let scope = if after.all && !was_all {
        "no table is checked from here".to_string()
    } else {
        let mut new: Vec<&str> = Vec::new();
        for name in &after.log[logged..] {
            if !new.contains(&name.as_str()) {
                new.push(name);
            }
        }
        match new.len() {
            0 => "nothing more is left unchecked".to_string(),
            1..=5 => format!("`{}` not checked from here", new.join("`, `")),
            n => format!(
                "`{}` and {} more not checked from here",
                new[..5].join("`, `"),
                n - 5
            ),
        }
    };
    format!("{what}; {scope}")
}

fn guarded(op: &Operation) -> bool {
    op.if_exists || op.sql.as_ref().is_some_and(|s| s.guarded)
}

/// Applies one operation to `schema`, ignoring what cannot be applied.
/// The table an operation adds a column to, when SQLite may refuse it only
/// on a table that holds rows: a default that is not a constant
/// (`CURRENT_TIMESTAMP`, an expression in parentheses). `sqlite-exec` runs
/// it again on the table holding a row, and SQLite decides.
///
/// An Alembic `add_column` in a batch rebuilds the table on SQLite when its
/// default is an expression, and a default miglint cannot read as SQL is
/// not tried.
pub fn refused_only_with_rows(op: &Operation, flavour: Flavour) -> Option<&str> {
    let OpKind::AddColumn { table, column } = &op.kind else {
        return None;
    };
    let declared = column.default.as_deref()?.trim();
    let sql = if op.sql.is_some() {
        declared.to_string()
    } else if flavour == Flavour::Alembic && !op.in_batch {
        sql_default(flavour, Some(declared), false)?
    } else {
        return None;
    };
    let sql = crate::schema::render::default_sql(&sql).to_ascii_uppercase();
    (sql.starts_with('(') || sql.starts_with("CURRENT_")).then_some(table.as_str())
}

/// Applies one side of a migration, in order, each operation knowing what
/// its `batch_alter_table` block drops.
fn apply_migration_ops<'o>(
    schema: &mut Schema,
    ops: impl Iterator<Item = &'o Operation>,
    flavour: Flavour,
    cx: &mut Ctx,
) {
    let ops: Vec<&Operation> = ops.collect();
    let blocks = batch_blocks(&ops);
    let mut drops = vec![BTreeSet::new(); ops.len()];
    for block in &blocks {
        let dropped: BTreeSet<String> = ops[block.clone()]
            .iter()
            .filter_map(|op| match &op.kind {
                OpKind::DropIndex { name, .. } => Some(key(name)),
                _ => None,
            })
            .collect();
        for slot in &mut drops[block.clone()] {
            slot.clone_from(&dropped);
        }
    }
    // A block that recreates its table on SQLite, with the generated
    // columns it had: checked when the block ends.
    let mut recreating: Option<(usize, String, Vec<String>, Span)> = None;
    for (i, (op, dropped)) in ops.iter().zip(drops).enumerate() {
        if flavour == Flavour::Alembic
            && !cx.postgres
            && let Some(block) = blocks.iter().find(|b| b.start == i)
            && let Some(first) = ops[block.clone()].iter().find(|o| recreates(o))
            && let Some(table) = op.kind.tables().first().and_then(|t| schema.table(t))
        {
            let generated: Vec<String> = table
                .columns
                .iter()
                .filter(|c| c.generated)
                .map(|c| c.name.clone())
                .collect();
            if !generated.is_empty() {
                recreating = Some((block.end, table.name.clone(), generated, first.span));
            }
        }
        cx.batch_drops = dropped;
        apply(schema, op, flavour, cx);
        if let Some((_, table, generated, span)) = recreating.take_if(|r| r.0 == i + 1) {
            let kept = schema.table(&table).and_then(|t| {
                generated
                    .iter()
                    .find(|g| t.column(g).is_some_and(|c| c.generated))
                    .cloned()
            });
            if let Some(column) = kept {
                cx.conflict(span, Conflict::BatchCopiesGenerated { table, column });
            }
        }
    }
}

/// The runs of batch operations on one table (one `batch_alter_table`
/// block each), as index ranges into `ops`.
fn batch_blocks(ops: &[&Operation]) -> Vec<std::ops::Range<usize>> {
    let table = |op: &Operation| op.kind.tables().first().map(|t| key(t));
    let mut out = Vec::new();
    let mut start = 0;
    while start < ops.len() {
        if !ops[start].in_batch {
            start += 1;
            continue;
        }
        let on = table(ops[start]);
        let mut end = start + 1;
        while end < ops.len() && ops[end].in_batch && table(ops[end]) == on {
            end += 1;
        }
        out.push(start..end);
        start = end;
    }
    out
}

/// Whether Alembic's SQLite batch recreates the table for this operation:
/// every one but adding a plain column and creating or dropping an index
/// (`SQLiteImpl.requires_recreate_in_batch`).
fn recreates(op: &Operation) -> bool {
    match &op.kind {
        OpKind::AddColumn { column, .. } => column.generated,
        OpKind::CreateIndex(_) | OpKind::DropIndex { .. } => false,
        _ => true,
    }
}

pub fn apply_quietly(schema: &mut Schema, op: &Operation, flavour: Flavour) {
    let mut ignored = Vec::new();
    let mut nothing = Uncertain::default();
    let mut cx = Ctx::new(Mode::Downgrade, &mut ignored, &mut nothing);
    apply(schema, op, flavour, &mut cx);
}

/// Applies one operation, recording what is impossible about it. An
/// operation miglint could not read makes what it touches uncertain; one
/// that may not run does too, and is applied as a best guess with nothing
/// recorded.
fn apply(schema: &mut Schema, op: &Operation, flavour: Flavour, cx: &mut Ctx) {
    // An operation decided not to run changes nothing.
    if !apply_and_remember(schema, op, flavour, cx) {
        return;
    }
    let column = |t: &str, c: &str| key(&format!("{t}.{c}"));
    match &op.kind {
        OpKind::CreateTable { name, .. }
        | OpKind::CreateVirtualTable { name, .. }
        | OpKind::DropTable { name } => {
            cx.changed.insert(key(name));
        }
        OpKind::RenameTable { from, to } => {
            cx.changed.insert(key(from));
            cx.changed.insert(key(to));
        }
        OpKind::AddColumn { table, column: c } => {
            cx.changed.insert(column(table, &c.name));
        }
        OpKind::DropColumn { table, column: c } => {
            cx.changed.insert(column(table, c));
        }
        OpKind::RenameColumn { table, from, to } => {
            cx.changed.insert(column(table, from));
            cx.changed.insert(column(table, to));
        }
        OpKind::AlterColumn {
            table,
            column: c,
            changes,
        } => {
            if let Some(new) = &changes.new_name {
                cx.changed.insert(column(table, c));
                cx.changed.insert(column(table, new));
            }
        }
        _ => {}
    }
    if let Some(("INDEX", name, _)) = op.kind.object_kind() {
        cx.changed.insert(key(name));
    }
    if let OpKind::CreateTable { name, .. }
    | OpKind::CreateVirtualTable { name, .. }
    | OpKind::DropTable { name } = &op.kind
    {
        cx.uncertain.seen.insert(key(name));
    }
    if let OpKind::RenameTable { from, to } = &op.kind {
        cx.uncertain.seen.insert(key(from));
        cx.uncertain.seen.insert(key(to));
    }
    if let OpKind::Unread { tables, .. } = &op.kind {
        cx.uncertain.seen.extend(tables.iter().map(|t| key(t)));
    }
}

/// Whether an operation may change the schema: Python code that is not an
/// operation (a query, a print) and data statements do not, so whether
/// they run says nothing about the schema.
fn changes_schema(op: &Operation) -> bool {
    !matches!(
        op.kind,
        OpKind::Opaque {
            what: OpaqueKind::Python,
            ..
        } | OpKind::Data { .. }
    )
}

/// Whether the operation runs, or may: `false` when an inspector check
/// decides that it does not.
fn apply_and_remember(schema: &mut Schema, op: &Operation, flavour: Flavour, cx: &mut Ctx) -> bool {
    if let OpKind::Unread { tables, .. } = &op.kind {
        cx.unsure.get_or_insert(op.span);
        if tables.is_empty() {
            cx.uncertain.mark("");
        }
        for t in tables {
            cx.uncertain.mark(t);
        }
        if matches!(op.call.as_deref(), Some("create_index" | "drop_index")) {
            cx.uncertain.index_names = true;
        }
        return true;
    }
    let runs_for_sure = match &op.reach {
        Reach::Always => true,
        // An inspector check the replay can decide: the operation runs,
        // or does not run at all.
        Reach::If(guards) => {
            let mut sure = true;
            for g in guards {
                match decide(schema, &g.what, g.check, cx) {
                    // Decided false: the operation does not run at all.
                    Some(there) if there != g.exists => return false,
                    Some(_) => {}
                    None => sure = false,
                }
            }
            sure
        }
        _ => false,
    };
    if !runs_for_sure {
        if changes_schema(op) {
            cx.unsure.get_or_insert(op.span);
        }
        // (A `drop_index` that names no table: its index's table, below.)
        for t in op.kind.tables().into_iter().filter(|t| !t.is_empty()) {
            cx.uncertain.mark(t);
        }
        if let OpKind::DropIndex { name, table: None } = &op.kind
            && let Some(ix) = schema.indexes.get(&key(name))
        {
            let table = ix.table.clone();
            cx.uncertain.mark(&table);
        }
        if let Some((_, name, _)) = op.kind.object_kind() {
            cx.uncertain.mark_name(name);
        }
        let mut ignored = Vec::new();
        let postgres = cx.postgres;
        let mut quiet = Ctx::new(Mode::Downgrade, &mut ignored, cx.uncertain);
        quiet.postgres = postgres;
        apply_certain(schema, op, flavour, &mut quiet);
        return true;
    }
    match &op.kind {
        OpKind::CreateTable { name, .. } | OpKind::CreateVirtualTable { name, .. } => {
            // Known from here whether or not it was before.
            let was_uncertain = cx.uncertain.table(name);
            apply_certain(schema, op, flavour, cx);
            if was_uncertain {
                cx.uncertain.settle(name);
            }
        }
        OpKind::DropTable { name } => {
            apply_certain(schema, op, flavour, cx);
            cx.uncertain.settle(name);
        }
        OpKind::RenameTable { from, to } => {
            let was_uncertain = cx.uncertain.table(from);
            apply_certain(schema, op, flavour, cx);
            if was_uncertain {
                cx.uncertain.mark(to);
            }
        }
        _ => apply_certain(schema, op, flavour, cx),
    }
    true
}

/// Whether what an inspector check asks about is there, looked at once per
/// `if` statement; `None` when the replay cannot be sure (it is
/// uncertain, or this migration changed it before the check, which may
/// have read the database earlier).
fn decide(schema: &Schema, what: &Exists, check: u32, cx: &mut Ctx) -> Option<bool> {
    if let Some(&there) = cx.checks.get(&check) {
        return Some(there);
    }
    let there = there_now(schema, what, cx)?;
    cx.checks.insert(check, there);
    Some(there)
}

/// Whether `what` is in the replayed schema now; `None` when that is not
/// sure.
fn there_now(schema: &Schema, what: &Exists, cx: &Ctx) -> Option<bool> {
    let table = key(what.table());
    if cx.uncertain.table(&table) || cx.changed.contains(&table) {
        return None;
    }
    if let Exists::Column(t, c) = what
        && cx.changed.contains(&key(&format!("{t}.{c}")))
    {
        return None;
    }
    Some(match what {
        Exists::Table(t) => schema.table(t).is_some(),
        Exists::Column(t, c) => schema.table(t).is_some_and(|t| t.column(c).is_some()),
        Exists::Index(_, n) => {
            if cx.uncertain.name(n) || cx.uncertain.index_names || cx.changed.contains(&key(n)) {
                return None;
            }
            schema.indexes.contains_key(&key(n))
        }
        Exists::Any(all) => return any_of(all.iter().map(|w| there_now(schema, w, cx))),
    })
}

fn apply_certain(schema: &mut Schema, op: &Operation, flavour: Flavour, cx: &mut Ctx) {
    let span = op.span;
    match &op.kind {
        OpKind::CreateTable {
            name,
            columns,
            constraints,
        } => {
            if table_taken(schema, name, op, cx) {
                return;
            }
            let mut table = Table::empty(name, None, span);
            for c in columns {
                if table.column(&c.name).is_some() {
                    cx.conflict(
                        c.span,
                        Conflict::ColumnDeclaredTwice {
                            table: name.clone(),
                            column: c.name.clone(),
                        },
                    );
                    continue;
                }
                table.columns.push(column_state(flavour, c, cx.postgres));
                if let Some(r) = &c.references {
                    table.foreign_keys.push(ForeignKey {
                        name: c.foreign_key_name.clone(),
                        columns: vec![c.name.clone()],
                        ref_table: r.table.clone(),
                        ref_columns: r.columns.clone(),
                    });
                }
            }
            for con in constraints {
                add_constraint(&mut table, con, span, cx);
            }
            if cx.postgres {
                // PostgreSQL makes every primary key column NOT NULL.
                for c in table.columns.iter_mut().filter(|c| c.primary_key) {
                    c.nullable = false;
                }
            }
            check_foreign_keys(schema, &table, span, cx);
            schema.tables.insert(key(name), table);
        }
        OpKind::CreateVirtualTable { name, module } => {
            if table_taken(schema, name, op, cx) {
                return;
            }
            let mut table = Table::empty(name, Some(module.clone()), span);
            table.virtual_sql = op.sql.as_ref().map(|sql| sql.statement.clone());
            schema.tables.insert(key(name), table);
        }
        OpKind::DropTable { name } => {
            if schema.tables.remove(&key(name)).is_none() {
                if !guarded(op) {
                    cx.conflict(
                        span,
                        Conflict::TableMissing {
                            table: name.clone(),
                            by: Use::Drop,
                        },
                    );
                }
                return;
            }
            // SQLite drops a table's indexes and triggers with it.
            for k in schema.index_keys_of(name) {
                schema.remove_index(&k);
            }
            // PostgreSQL refuses to drop a table other tables' foreign keys
            // point at, unless CASCADE drops those keys too.
            let cascade = op
                .sql
                .as_ref()
                .is_some_and(|s| s.statement.to_ascii_uppercase().contains("CASCADE"));
            if cx.postgres && !cascade {
                let by: Vec<String> = schema
                    .tables
                    .values()
                    .filter(|t| {
                        t.foreign_keys
                            .iter()
                            .any(|fk| fk.ref_table.eq_ignore_ascii_case(name))
                    })
                    .map(|t| t.name.clone())
                    .collect();
                if !by.is_empty() {
                    cx.conflict(
                        span,
                        Conflict::TableReferenced {
                            table: name.clone(),
                            by,
                        },
                    );
                }
            }
        }
        OpKind::RenameTable { from, to } => {
            if schema.tables.contains_key(&key(to)) {
                cx.conflict(
                    span,
                    Conflict::NameTaken {
                        table: None,
                        from: from.clone(),
                        to: to.clone(),
                    },
                );
                return;
            }
            let Some(mut table) = schema.tables.remove(&key(from)) else {
                cx.conflict(
                    span,
                    Conflict::TableMissing {
                        table: from.clone(),
                        by: Use::Rename,
                    },
                );
                return;
            };
            table.name = to.clone();
            // Its CREATE statement names the old table.
            table.virtual_sql = None;
            schema.tables.insert(key(to), table);
            for k in schema.index_keys_of(from) {
                if let Some(mut ix) = schema.remove_index(&k) {
                    ix.table = to.clone();
                    schema.add_index(ix);
                }
            }
            // SQLite (3.26+) rewrites references to a renamed table.
            for t in schema.tables.values_mut() {
                for fk in &mut t.foreign_keys {
                    if fk.ref_table.eq_ignore_ascii_case(from) {
                        fk.ref_table = to.clone();
                    }
                }
            }
        }
        OpKind::AddColumn { table, column } => {
            let state = column_state(flavour, column, cx.postgres);
            let Some(t) = table_or_report(schema, table, span, cx) else {
                return;
            };
            if t.column(&column.name).is_some() {
                if !guarded(op) {
                    cx.conflict(
                        span,
                        Conflict::ColumnExists {
                            table: table.clone(),
                            column: column.name.clone(),
                        },
                    );
                }
                return;
            }
            t.columns.push(state);
            if let Some(r) = &column.references {
                let fk = ForeignKey {
                    name: column.foreign_key_name.clone(),
                    columns: vec![column.name.clone()],
                    ref_table: r.table.clone(),
                    ref_columns: r.columns.clone(),
                };
                t.foreign_keys.push(fk.clone());
                check_foreign_key(schema, table, &fk, span, cx);
            }
        }
        OpKind::DropColumn { table, column } => {
            drop_column(schema, op, flavour, table, column, cx);
        }
        OpKind::AlterColumn {
            table,
            column,
            changes,
        } => alter_column(schema, span, flavour, table, column, changes, cx),
        OpKind::RenameColumn { table, from, to } => {
            let changes = ColumnChanges {
                new_name: Some(to.clone()),
                ..ColumnChanges::default()
            };
            alter_column(schema, span, flavour, table, from, &changes, cx);
        }
        OpKind::CreateIndex(ix) => create_index(schema, op, ix, cx),
        OpKind::DropIndex { name, table } => {
            if schema.remove_index(name).is_none() && !guarded(op) {
                cx.conflict(
                    span,
                    Conflict::IndexMissing {
                        index: name.clone(),
                        table: table.clone(),
                    },
                );
            }
        }
        OpKind::RenameIndex { from, to } => {
            let renamed = schema.rename_index(from, to)
                || (cx.postgres && rename_constraint_index(schema, from, to));
            if !renamed && !guarded(op) {
                cx.conflict(
                    span,
                    Conflict::IndexMissing {
                        index: from.clone(),
                        table: None,
                    },
                );
            }
        }
        OpKind::AddConstraint { table, constraint } => {
            let Some(t) = table_or_report(schema, table, span, cx) else {
                return;
            };
            add_constraint(t, constraint, span, cx);
            if let Some(fk) = t.foreign_keys.last().cloned()
                && matches!(constraint.kind, ConstraintKind::ForeignKey(_))
            {
                check_foreign_key(schema, table, &fk, span, cx);
            }
        }
        OpKind::DropConstraint {
            table,
            name,
            convention,
        } => {
            let Some(t) = table_or_report(schema, table, span, cx) else {
                return;
            };
            // The batch's naming convention names unnamed constraints, else
            // `target_metadata`'s; PostgreSQL named the rest when they were
            // made. Where that convention is not known, neither are they.
            let unnamed = t.foreign_keys.iter().any(|f| f.name.is_none())
                || t.unique_constraints.iter().any(|u| u.name.is_none())
                || (t.primary_key_name.is_none() && !t.primary_key_columns().is_empty());
            let unknown_names =
                convention.is_empty() && cx.convention == NamingConvention::Unknown && unnamed;
            if !convention.is_empty() {
                name_by_convention(t, convention);
            } else if let NamingConvention::Known(c) = &cx.convention {
                name_by_convention(t, c);
            }
            if cx.postgres {
                name_as_postgres(t);
            }
            let named =
                |n: &Option<String>| n.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(name));
            let before = t.foreign_keys.len() + t.unique_constraints.len() + t.checks.len();
            t.foreign_keys.retain(|f| !named(&f.name));
            t.unique_constraints.retain(|u| !named(&u.name));
            t.checks.retain(|c| !named(c));
            let after = t.foreign_keys.len() + t.unique_constraints.len() + t.checks.len();
            // A column's own UNIQUE: PostgreSQL named it `<table>_<column>_key`.
            let mut column_unique = false;
            if cx.postgres {
                let table_name = t.name.clone();
                for c in t.columns.iter_mut().filter(|c| {
                    c.unique
                        && postgres_name(&table_name, &c.name, "key").eq_ignore_ascii_case(name)
                }) {
                    c.unique = false;
                    column_unique = true;
                }
            }
            let primary_key = named(&t.primary_key_name);
            if primary_key {
                t.primary_key_name = None;
                t.primary_key.clear();
                for c in &mut t.columns {
                    c.primary_key = false;
                }
            }
            if before == after && !primary_key && !column_unique && !unknown_names {
                cx.conflict(
                    span,
                    Conflict::ConstraintMissing {
                        table: table.clone(),
                        name: name.clone(),
                    },
                );
            }
        }
        OpKind::CreateView { name } => create_named(&mut schema.views, "view", name, op, cx),
        OpKind::DropView { name } => drop_named(&mut schema.views, "view", name, op, cx),
        OpKind::CreateTrigger { name } => {
            create_named(&mut schema.triggers, "trigger", name, op, cx)
        }
        OpKind::DropTrigger { name } => drop_named(&mut schema.triggers, "trigger", name, op, cx),
        OpKind::Data { .. } | OpKind::Opaque { .. } | OpKind::Unread { .. } => {}
    }
}

/// Gives `t`'s unnamed foreign keys, unique constraints and primary key
/// the names `convention` makes for them, as an Alembic batch with
/// `naming_convention` does. A template with a token miglint does not know
/// names nothing.
fn name_by_convention(t: &mut Table, convention: &[(String, String)]) {
    let template = |kind: &str| {
        convention
            .iter()
            .find(|(k, _)| k == kind)
            .map(|(_, v)| v.as_str())
    };
    let table = t.name.clone();
    if let Some(tpl) = template("fk") {
        for fk in t.foreign_keys.iter_mut().filter(|f| f.name.is_none()) {
            fk.name = convention_name(
                tpl,
                &table,
                &fk.columns,
                Some((&fk.ref_table, &fk.ref_columns)),
            );
        }
    }
    if let Some(tpl) = template("uq") {
        for u in t.unique_constraints.iter_mut().filter(|u| u.name.is_none()) {
            u.name = convention_name(tpl, &table, &u.columns, None);
        }
    }
    if let Some(tpl) = template("pk")
        && t.primary_key_name.is_none()
    {
        let columns: Vec<String> = t
            .primary_key_columns()
            .iter()
            .map(|c| c.to_string())
            .collect();
        if !columns.is_empty() {
            t.primary_key_name = convention_name(tpl, &table, &columns, None);
        }
    }
}

/// The names PostgreSQL gives unnamed constraints: `<table>_pkey`,
/// `<table>_<columns>_fkey`, `<table>_<columns>_key`, cut to fit its
/// 63-byte names as PostgreSQL cuts them.
fn name_as_postgres(t: &mut Table) {
    let table = t.name.clone();
    for fk in t.foreign_keys.iter_mut().filter(|f| f.name.is_none()) {
        fk.name = Some(postgres_name(&table, &fk.columns.join("_"), "fkey"));
    }
    for u in t.unique_constraints.iter_mut().filter(|u| u.name.is_none()) {
        u.name = Some(postgres_name(&table, &u.columns.join("_"), "key"));
    }
    if t.primary_key_name.is_none() && !t.primary_key_columns().is_empty() {
        t.primary_key_name = Some(postgres_name(&table, "", "pkey"));
    }
}

/// `ALTER INDEX from RENAME TO to` on the index PostgreSQL made for a
/// primary key or unique constraint (`<table>_pkey`, `<table>_<col>_key`):
/// the constraint takes the new name. `false` when no constraint has it.
fn rename_constraint_index(schema: &mut Schema, from: &str, to: &str) -> bool {
    let is = |n: &str| n.eq_ignore_ascii_case(from);
    for t in schema.tables.values_mut() {
        let table = t.name.clone();
        let primary_key = t.primary_key_name.clone().or_else(|| {
            (!t.primary_key_columns().is_empty()).then(|| postgres_name(&table, "", "pkey"))
        });
        if primary_key.as_deref().is_some_and(is) {
            t.primary_key_name = Some(to.to_string());
            return true;
        }
        if let Some(u) = t.unique_constraints.iter_mut().find(|u| {
            let name = u
                .name
                .clone()
                .unwrap_or_else(|| postgres_name(&table, &u.columns.join("_"), "key"));
            is(&name)
        }) {
            u.name = Some(to.to_string());
            return true;
        }
        if let Some(c) = t
            .columns
            .iter_mut()
            .find(|c| c.unique && is(&postgres_name(&table, &c.name, "key")))
        {
            // The column's own UNIQUE, now under a name of its own.
            c.unique = false;
            let column = c.name.clone();
            t.unique_constraints.push(crate::schema::UniqueConstraint {
                name: Some(to.to_string()),
                columns: vec![column],
            });
            return true;
        }
    }
    false
}

/// The name PostgreSQL gives `CREATE INDEX ON table (columns)`:
/// `<table>_<columns>_idx` (a function call counts as the function's name,
/// another expression as `expr`), then `idx1`, `idx2`... while the name is
/// taken (`ChooseRelationName`).
fn postgres_index_name(schema: &Schema, table: &str, columns: &[String]) -> String {
    let word = |s: &str| !s.is_empty() && s.chars().all(|ch| ch.is_alphanumeric() || ch == '_');
    let columns: Vec<String> = columns
        .iter()
        .map(|c| {
            let c = c.trim_end_matches(" DESC").trim_end_matches(" ASC").trim();
            if word(c) {
                c.to_string()
            } else {
                match c.split_once('(') {
                    Some((f, _)) if word(f.trim()) => f.trim().to_ascii_lowercase(),
                    _ => "expr".to_string(),
                }
            }
        })
        .collect();
    let columns = columns.join("_");
    let taken =
        |n: &str| schema.indexes.contains_key(&key(n)) || schema.tables.contains_key(&key(n));
    let mut name = postgres_name(table, &columns, "idx");
    let mut pass = 0;
    while taken(&name) {
        pass += 1;
        name = postgres_name(table, &columns, &format!("idx{pass}"));
    }
    name
}

/// PostgreSQL's `makeObjectName`: `name1_name2_label`, the longer of the
/// two names shortened a character at a time until the whole fits in 63
/// bytes.
fn postgres_name(name1: &str, name2: &str, label: &str) -> String {
    const MAX: usize = 63;
    let mut a: Vec<char> = name1.chars().collect();
    let mut b: Vec<char> = name2.chars().collect();
    let bytes = |v: &[char]| v.iter().map(|c| c.len_utf8()).sum::<usize>();
    let overhead = label.len() + 1 + usize::from(!b.is_empty());
    while bytes(&a) + bytes(&b) + overhead > MAX {
        if bytes(&a) > bytes(&b) {
            a.pop();
        } else {
            b.pop();
        }
    }
    let (a, b): (String, String) = (a.into_iter().collect(), b.into_iter().collect());
    if b.is_empty() {
        format!("{a}_{label}")
    } else {
        format!("{a}_{b}_{label}")
    }
}

/// Creates a view or trigger (kept by name only).
fn create_named(
    objects: &mut BTreeMap<String, String>,
    kind: &'static str,
    name: &str,
    op: &Operation,
    cx: &mut Ctx,
) {
    match objects.entry(key(name)) {
        std::collections::btree_map::Entry::Occupied(_) => {
            if !guarded(op) {
                cx.conflict(
                    op.span,
                    Conflict::ObjectExists {
                        kind,
                        name: name.to_string(),
                    },
                );
            }
        }
        std::collections::btree_map::Entry::Vacant(v) => {
            v.insert(name.to_string());
        }
    }
}

fn drop_named(
    objects: &mut BTreeMap<String, String>,
    kind: &'static str,
    name: &str,
    op: &Operation,
    cx: &mut Ctx,
) {
    if objects.remove(&key(name)).is_none() && !guarded(op) {
        cx.conflict(
            op.span,
            Conflict::ObjectMissing {
                kind,
                name: name.to_string(),
            },
        );
    }
}

/// Whether a table named `name` already exists, recording the conflict
/// unless the statement is guarded.
fn table_taken(schema: &Schema, name: &str, op: &Operation, cx: &mut Ctx) -> bool {
    let Some(existing) = schema.tables.get(&key(name)) else {
        return false;
    };
    if !guarded(op) {
        let first = existing.origin;
        cx.conflict(
            op.span,
            Conflict::TableExists {
                table: name.to_string(),
                first,
            },
        );
    }
    true
}

/// The table an operation changes, or the fact that it is missing.
fn table_or_report<'s>(
    schema: &'s mut Schema,
    table: &str,
    span: Span,
    cx: &mut Ctx,
) -> Option<&'s mut Table> {
    let found = schema.tables.get_mut(&key(table));
    if found.is_none() {
        cx.conflict(
            span,
            Conflict::TableMissing {
                table: table.to_string(),
                by: Use::Change,
            },
        );
    }
    found
}

fn add_constraint(table: &mut Table, con: &TableConstraint, span: Span, cx: &mut Ctx) {
    for c in &con.columns {
        if table.column(c).is_none() {
            cx.conflict(
                span,
                Conflict::ConstraintColumnMissing {
                    table: table.name.clone(),
                    column: c.clone(),
                },
            );
        }
    }
    match &con.kind {
        ConstraintKind::PrimaryKey => {
            table.primary_key = con.columns.clone();
            table.primary_key_name = con.name.clone();
            for c in &con.columns {
                if let Some(col) = table.column_mut(c) {
                    col.primary_key = true;
                    // PostgreSQL makes every primary key column NOT NULL
                    // (SQLite keeps what the column says).
                    if cx.postgres {
                        col.nullable = false;
                    }
                }
            }
        }
        ConstraintKind::Unique => {
            table.unique_constraints.push(UniqueConstraint {
                name: con.name.clone(),
                columns: con.columns.clone(),
            });
        }
        ConstraintKind::Check => table.checks.push(con.name.clone()),
        ConstraintKind::ForeignKey(r) => table.foreign_keys.push(ForeignKey {
            name: con.name.clone(),
            columns: con.columns.clone(),
            ref_table: r.table.clone(),
            ref_columns: r.columns.clone(),
        }),
    }
}

/// Every foreign key of `table` must point at an existing table and columns.
fn check_foreign_keys(schema: &Schema, table: &Table, span: Span, cx: &mut Ctx) {
    for fk in &table.foreign_keys {
        // A table may reference itself while being created.
        if fk.ref_table.eq_ignore_ascii_case(&table.name) {
            check_target(table, &table.name, fk, span, cx);
        } else {
            check_foreign_key(schema, &table.name, fk, span, cx);
        }
    }
}

/// One foreign key of table `owner` must point at an existing table and columns.
fn check_foreign_key(schema: &Schema, owner: &str, fk: &ForeignKey, span: Span, cx: &mut Ctx) {
    if cx.mode != Mode::Upgrade {
        return;
    }
    match schema.tables.get(&key(&fk.ref_table)) {
        Some(target) => check_target(target, owner, fk, span, cx),
        // PostgreSQL refuses it at once; SQLite only needs the table by
        // the end of the migration.
        None if !cx.postgres => {
            if !cx.uncertain.touches(&[owner, &fk.ref_table], &[]) {
                cx.pending_fks.push((owner.to_string(), fk.clone(), span));
            }
        }
        None => cx.found(span, missing_target(owner, fk)),
    }
}

/// Foreign key `fk` of table `owner` points at a table that does not exist.
fn missing_target(owner: &str, fk: &ForeignKey) -> Fact {
    Fact::DanglingForeignKey {
        owner: owner.to_string(),
        columns: fk.columns.clone(),
        target: fk.ref_table.clone(),
        column: None,
    }
}

fn check_target(target: &Table, owner: &str, fk: &ForeignKey, span: Span, cx: &mut Ctx) {
    if cx.mode != Mode::Upgrade || target.virtual_module.is_some() {
        return;
    }
    for c in &fk.ref_columns {
        if target.column(c).is_none() {
            cx.found(
                span,
                Fact::DanglingForeignKey {
                    owner: owner.to_string(),
                    columns: fk.columns.clone(),
                    target: target.name.clone(),
                    column: Some(c.clone()),
                },
            );
        }
    }
}

fn drop_column(
    schema: &mut Schema,
    op: &Operation,
    flavour: Flavour,
    table: &str,
    column: &str,
    cx: &mut Ctx,
) {
    let span = op.span;
    let covering: Vec<String> = schema
        .indexes_of(table)
        .filter(|ix| ix.columns.iter().any(|c| c.eq_ignore_ascii_case(column)))
        .map(|ix| ix.name.clone())
        .collect();
    // Only SQL's DROP COLUMN cares who references the column.
    let referenced_by: Vec<String> = if op.sql.is_none() {
        Vec::new()
    } else {
        schema
            .tables
            .values()
            .filter(|t| !t.name.eq_ignore_ascii_case(table))
            .filter(|t| {
                t.foreign_keys.iter().any(|fk| {
                    fk.ref_table.eq_ignore_ascii_case(table)
                        && fk
                            .ref_columns
                            .iter()
                            .any(|c| c.eq_ignore_ascii_case(column))
                })
            })
            .map(|t| t.name.clone())
            .collect()
    };
    let Some(t) = table_or_report(schema, table, span, cx) else {
        return;
    };
    let Some(col) = t.column(column).cloned() else {
        if !guarded(op) {
            cx.conflict(
                span,
                Conflict::ColumnMissing {
                    table: table.to_string(),
                    column: column.to_string(),
                    by: Use::Drop,
                },
            );
        }
        return;
    };
    // PostgreSQL drops the column's indexes and constraints with it.
    if op.sql.is_some() && !cx.postgres {
        // SQLite refuses ALTER TABLE DROP COLUMN in these cases.
        let in_unique = t
            .unique_constraints
            .iter()
            .any(|u| u.columns.iter().any(|c| c.eq_ignore_ascii_case(column)));
        let because =
            if col.primary_key || t.primary_key.iter().any(|c| c.eq_ignore_ascii_case(column)) {
                Some(DropRefusal::PrimaryKey)
            } else if col.unique || in_unique {
                Some(DropRefusal::Unique)
            } else if let Some(ix) = covering.first() {
                Some(DropRefusal::Indexed(ix.clone()))
            } else {
                referenced_by.first().cloned().map(DropRefusal::Referenced)
            };
        if let Some(because) = because {
            cx.found(
                span,
                Fact::DropColumnRefused {
                    table: table.to_string(),
                    column: column.to_string(),
                    because,
                },
            );
        }
    } else if flavour == Flavour::Alembic && op.in_batch && !cx.postgres {
        // An index the same block drops is gone before the copy is made.
        if let Some(index) = covering.iter().find(|k| !cx.batch_drops.contains(&key(k))) {
            cx.conflict(
                span,
                Conflict::BatchDropIndexedColumn {
                    table: table.to_string(),
                    column: column.to_string(),
                    index: index.clone(),
                },
            );
        }
    }
    t.columns.retain(|c| !c.name.eq_ignore_ascii_case(column));
    t.foreign_keys
        .retain(|fk| !fk.columns.iter().any(|c| c.eq_ignore_ascii_case(column)));
    t.unique_constraints
        .retain(|u| !u.columns.iter().any(|c| c.eq_ignore_ascii_case(column)));
    t.primary_key.retain(|c| !c.eq_ignore_ascii_case(column));
    // What the block's own drop_index removes is left for it to remove.
    for k in covering {
        if !(op.in_batch && cx.batch_drops.contains(&key(&k))) {
            schema.remove_index(&k);
        }
    }
}

fn alter_column(
    schema: &mut Schema,
    span: Span,
    flavour: Flavour,
    table: &str,
    column: &str,
    changes: &ColumnChanges,
    cx: &mut Ctx,
) {
    let Some(t) = table_or_report(schema, table, span, cx) else {
        return;
    };
    if t.column(column).is_none() {
        cx.conflict(
            span,
            Conflict::ColumnMissing {
                table: table.to_string(),
                column: column.to_string(),
                by: Use::Change,
            },
        );
        return;
    }
    if let Some(new) = &changes.new_name
        && !new.eq_ignore_ascii_case(column)
        && t.column(new).is_some()
    {
        cx.conflict(
            span,
            Conflict::NameTaken {
                table: Some(table.to_string()),
                from: column.to_string(),
                to: new.clone(),
            },
        );
        return;
    }
    let col = t.column_mut(column).expect("checked above");
    if let Some(n) = changes.nullable {
        col.nullable = n;
    }
    if let Some(ty) = &changes.type_name {
        col.sql_type = declared_sql_type(flavour, Some(ty), cx.postgres);
        col.type_unknown = !type_known(flavour, Some(ty), cx.postgres);
    }
    if let Some(d) = &changes.default {
        let (default, known) = column_default(flavour, d.as_deref(), cx.postgres);
        col.default = default;
        col.default_unknown = !known;
    }
    let Some(new) = changes.new_name.clone() else {
        return;
    };
    col.name = new.clone();
    let rename = |c: &mut String| {
        if c.eq_ignore_ascii_case(column) {
            *c = new.clone();
        }
    };
    t.primary_key.iter_mut().for_each(rename);
    for u in &mut t.unique_constraints {
        u.columns.iter_mut().for_each(rename);
    }
    for fk in &mut t.foreign_keys {
        fk.columns.iter_mut().for_each(rename);
    }
    for k in schema.index_keys_of(table) {
        if let Some(ix) = schema.indexes.get_mut(&k) {
            ix.columns.iter_mut().for_each(rename);
        }
    }
    // SQLite (3.25+) rewrites references to a renamed column.
    for other in schema.tables.values_mut() {
        for fk in &mut other.foreign_keys {
            if fk.ref_table.eq_ignore_ascii_case(table) {
                fk.ref_columns.iter_mut().for_each(rename);
            }
        }
    }
}

fn create_index(schema: &mut Schema, op: &Operation, ix: &IndexDef, cx: &mut Ctx) {
    let span = op.span;
    // `index=True` under a convention miglint could not read: the index is
    // made, by a name that is not known.
    let name_unknown = ix.from_column && cx.convention == NamingConvention::Unknown;
    if name_unknown && !cx.uncertain.index_names {
        cx.uncertain.index_names = true;
        cx.unnamed_index.get_or_insert(span);
    }
    let name = match &ix.name {
        // `index=True` under a convention with an `ix` template.
        Some(_)
            if ix.from_column
                && let NamingConvention::Known(c) = &cx.convention
                && let Some(named) = c
                    .iter()
                    .find(|(k, _)| k == "ix")
                    .and_then(|(_, t)| convention_name(t, &ix.table, &ix.columns, None)) =>
        {
            named
        }
        Some(name) => name.clone(),
        None if cx.postgres => postgres_index_name(schema, &ix.table, &ix.columns),
        None => String::new(),
    };
    if let Some(existing) = schema.indexes.get(&key(&name)) {
        if !guarded(op) {
            let origin = existing.origin;
            let table = existing.table.clone();
            cx.conflict(
                span,
                Conflict::IndexExists {
                    index: name,
                    table,
                    first: origin,
                },
            );
        }
        return;
    }
    match schema.tables.get(&key(&ix.table)) {
        None => {
            cx.conflict(
                span,
                Conflict::IndexTableMissing {
                    index: name.clone(),
                    table: ix.table.clone(),
                },
            );
            // SQLite refuses it: no index is made. On a table miglint is
            // not sure of, its name is not either.
            if cx.uncertain.table(&ix.table) {
                cx.uncertain.mark_name(&name);
            }
            return;
        }
        Some(t) => {
            for c in &ix.columns {
                let is_plain = c.chars().all(|ch| ch.is_alphanumeric() || ch == '_');
                if is_plain && t.virtual_module.is_none() && t.column(c).is_none() {
                    cx.conflict(
                        span,
                        Conflict::IndexColumnMissing {
                            index: name.clone(),
                            table: ix.table.clone(),
                            column: c.clone(),
                        },
                    );
                }
            }
        }
    }
    schema.add_index(Index {
        name,
        table: ix.table.clone(),
        columns: ix.columns.clone(),
        unique: ix.unique,
        where_clause: ix.where_clause.clone(),
        name_unknown,
        origin: span,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlalchemy_types_map_as_postgresql_stores_them() {
        let t = |s| postgres_type(Flavour::Alembic, Some(s)).unwrap();
        assert_eq!(t("sa.DateTime()"), "TIMESTAMP WITHOUT TIME ZONE");
        assert_eq!(t("postgresql.TIMESTAMP()"), "TIMESTAMP WITHOUT TIME ZONE");
        assert_eq!(t("sa.DateTime(timezone=True)"), "TIMESTAMP WITH TIME ZONE");
        assert_eq!(t("sa.String(36)"), "VARCHAR(36)");
        assert_eq!(t("sa.LargeBinary()"), "BYTEA");
        assert_eq!(t("sa.Uuid()"), "UUID");
        assert_eq!(
            t("sa.Enum(\"RUNNING\", \"COMPLETE\", name=\"trialstate\")"),
            "\"trialstate\""
        );
        assert_eq!(t("sa.Enum(\"A\", \"BB\", native_enum=False)"), "VARCHAR(2)");
        assert_eq!(
            t("sa.Integer().with_variant(postgresql.BIGINT(), \"postgresql\")"),
            "BIGINT"
        );
        assert_eq!(
            postgres_type(Flavour::YoyoSql, Some("timestamptz")).unwrap(),
            "timestamptz"
        );
    }

    #[test]
    fn sqlalchemy_types_map_as_sqlite_stores_them() {
        let t = |s| sql_type(Flavour::Alembic, Some(s)).unwrap();
        assert_eq!(t("sa.String()"), "VARCHAR");
        assert_eq!(t("sa.String(36)"), "VARCHAR(36)");
        assert_eq!(t("sa.String(length=20)"), "VARCHAR(20)");
        assert_eq!(t("sa.DateTime()"), "DATETIME");
        assert_eq!(t("sa.Numeric(10, 2)"), "NUMERIC(10, 2)");
        assert_eq!(t("Integer"), "INTEGER");
        assert_eq!(t("sa.LargeBinary()"), "BLOB");
        assert_eq!(t("sqlmodel.sql.sqltypes.AutoString()"), "VARCHAR");
        assert_eq!(
            t("sqlmodel.sql.sqltypes.AutoString(length=4096)"),
            "VARCHAR(4096)"
        );
        assert_eq!(
            t("sa.BigInteger().with_variant(sa.Integer(), \"sqlite\")"),
            "INTEGER"
        );
        assert_eq!(
            t(
                "sa.Text().with_variant(MEDIUMTEXT, \"mysql\").with_variant(NVARCHAR(None), \"mssql\")"
            ),
            "TEXT"
        );
        assert_eq!(
            t("sa.String(10).with_variant(sa.String(40), dialect_name='sqlite')"),
            "VARCHAR(40)"
        );
        assert_eq!(
            t("sa.Enum(\"RUNNING\", \"COMPLETE\", name=\"trialstate\")"),
            "VARCHAR(8)"
        );
        // Values SQLAlchemy reads from a class: their length is not known.
        assert_eq!(t("sa.Enum(TrialState)"), "VARCHAR");
        assert_eq!(sql_type(Flavour::YoyoSql, Some("TEXT")).unwrap(), "TEXT");
    }

    #[test]
    fn types_miglint_cannot_read_are_unknown() {
        let known = |s| type_known(Flavour::Alembic, Some(s), false);
        assert!(known("sa.String(36)"));
        assert!(known("sa.String(length=None, collation='C')"));
        assert!(known("sa.Numeric(10, 2)"));
        assert!(known("sa.DateTime(timezone=True)"));
        assert!(known("mysql.MEDIUMTEXT()"));
        assert!(known("sa.Enum(\"a\", \"bb\", name=\"kind\")"));
        assert!(known(
            "sa.BigInteger().with_variant(sa.Integer(), \"sqlite\")"
        ));
        // A project's type miglint could not read, and sizes it cannot see.
        assert!(!known("StringID(length=30)"));
        assert!(!known("_get_json_type()"));
        assert!(!known("sa.String(MAX_LENGTH)"));
        assert!(!known("sa.String(length=limits.NAME)"));
        assert!(!known("sa.Enum(*STATUSES, native_enum=False)"));
        assert!(!known("sa.Enum(RunStatus)"));
        // `length=` sizes it whatever the values.
        assert!(known("sa.Enum(RunStatus, native_enum=False, length=50)"));
        assert_eq!(
            sql_type(
                Flavour::Alembic,
                Some("sa.Enum(\"CLI\", \"UI\", native_enum=False, length=50)")
            )
            .unwrap(),
            "VARCHAR(50)"
        );
        // A native PostgreSQL enum is its name, whatever its values.
        assert!(type_known(
            Flavour::Alembic,
            Some("sa.Enum(*STATUSES, name=\"status\")"),
            true
        ));
        assert!(type_known(Flavour::YoyoSql, Some("stringid"), false));
        assert_eq!(
            sql_type(Flavour::Alembic, Some("sa.CHAR(10)")).unwrap(),
            "CHAR(10)"
        );
        assert_eq!(
            sql_type(Flavour::Alembic, Some("sa.Interval()")).unwrap(),
            "DATETIME"
        );
    }

    #[test]
    fn server_defaults_map_as_sqlite_stores_them() {
        let d = |s| sql_default(Flavour::Alembic, Some(s), false);
        assert_eq!(d("sa.func.now()").unwrap(), "CURRENT_TIMESTAMP");
        assert_eq!(
            d("db.func.current_timestamp()").unwrap(),
            "CURRENT_TIMESTAMP"
        );
        assert_eq!(d("\"active\"").unwrap(), "'active'");
        assert_eq!(d("sa.text(\"0\")").unwrap(), "0");
        assert_eq!(
            d("db.text(\"CURRENT_TIMESTAMP\")").unwrap(),
            "CURRENT_TIMESTAMP"
        );
        assert_eq!(d("sa.false()").unwrap(), "0");
        assert_eq!(d("sa.sql.expression.true()").unwrap(), "1");
        assert_eq!(
            sql_default(Flavour::Alembic, Some("sa.false()"), true).unwrap(),
            "false"
        );
        assert_eq!(d("None"), None);
        assert!(default_known(Flavour::Alembic, Some("None")));
        // The application's own SQL, and text of a name: not read, never
        // copied into SQL as Python.
        for unread in [
            "get_sql_current_timestamp()",
            "sa.text(DEFAULT_SQL)",
            "sa.func.lower(\"X\")",
            "0",
        ] {
            assert_eq!(d(unread), None, "{unread}");
            assert!(!default_known(Flavour::Alembic, Some(unread)), "{unread}");
        }
        assert!(default_known(Flavour::YoyoSql, Some("lower('X')")));
    }
}

#[cfg(test)]
mod postgres_names {
    use super::postgres_name;

    /// The names a PostgreSQL 16 server gave these constraints.
    #[test]
    fn cut_as_postgres_cuts_them() {
        let table = "a_very_long_table_name_that_goes_on_and_on_forever";
        assert_eq!(
            postgres_name(table, "a_rather_long_column_name_too", "key"),
            "a_very_long_table_name_that_g_a_rather_long_column_name_too_key"
        );
        assert_eq!(
            postgres_name(table, "p", "fkey"),
            "a_very_long_table_name_that_goes_on_and_on_forever_p_fkey"
        );
        assert_eq!(
            postgres_name(table, "", "pkey"),
            "a_very_long_table_name_that_goes_on_and_on_forever_pkey"
        );
    }
}
