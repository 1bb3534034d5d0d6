//! The one migration model every front end produces.
//!
//! Alembic revisions, yoyo Python steps and yoyo `.sql` files are all read
//! into a [`Migration`]: identity, parents, docstring and a list of
//! [`Step`]s, each with the schema [`Operation`]s it applies and the ones its
//! rollback runs. Rules work on this model only.

pub use crate::layout::SqlTool;
use crate::source::{FileId, Span};

/// Which front end read a migration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flavour {
    Alembic,
    YoyoPy,
    YoyoSql,
    /// A SQL file of a SQL-folder tool (with its down file, where the tool
    /// keeps the down side in one).
    Sql(SqlTool),
}

impl Flavour {
    pub fn name(self) -> &'static str {
        match self {
            Flavour::Alembic => "alembic",
            Flavour::YoyoPy => "yoyo-py",
            Flavour::YoyoSql => "yoyo-sql",
            Flavour::Sql(tool) => tool.name(),
        }
    }

    pub fn is_yoyo(self) -> bool {
        matches!(self, Flavour::YoyoPy | Flavour::YoyoSql)
    }
}

/// A name with the place it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    pub name: String,
    pub span: Span,
}

/// How a migration declares its parents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parents {
    /// Alembic without a `down_revision` assignment at all.
    Undeclared,
    /// `down_revision = None`, `__depends__ = set()`, or no `-- depends:` line in yoyo.
    Root,
    /// One or more parents (more than one is a merge).
    Of(Vec<Named>),
    /// Declared with an expression miglint cannot evaluate statically.
    Unknown(Span),
}

impl Parents {
    pub fn names(&self) -> &[Named] {
        match self {
            Parents::Of(v) => v,
            _ => &[],
        }
    }
}

/// The module docstring and the header lines Alembic's template puts in it.
#[derive(Clone, Debug, Default)]
pub struct Docstring {
    pub span: Option<Span>,
    /// `Revision ID: <id>`
    pub revision_id: Option<Named>,
    /// `Revises: <id>[, <id>]`
    pub revises: Option<Vec<Named>>,
}

/// A problem met while reading a file; the `parse-error` rule reports these.
#[derive(Clone, Debug)]
pub struct LoadProblem {
    pub span: Span,
    pub message: String,
}

/// `Class.name` that the class, defined in the migration, does not have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingAttribute {
    pub span: Span,
    pub class: String,
    pub attribute: String,
    /// The top-level function it is in (`upgrade`, `downgrade`, a helper),
    /// or `None` at module level.
    pub function: Option<String>,
}

/// One migration file (with its `.rollback.sql` companion for yoyo SQL).
#[derive(Clone, Debug)]
pub struct Migration {
    pub file: FileId,
    /// yoyo `.rollback.sql` companion, when there is one.
    pub rollback_file: Option<FileId>,
    pub flavour: Flavour,
    /// File name without extension, e.g. `001_initial`.
    pub stem: String,
    /// Alembic `revision` (with its span) or the yoyo file stem.
    pub id: Option<Named>,
    pub parents: Parents,
    /// Where the parents were declared (the assignment or the header comment).
    pub parents_span: Option<Span>,
    pub docstring: Docstring,
    pub steps: Vec<Step>,
    /// The operations could not be read (syntax errors): rules that judge
    /// operations stay silent rather than guess.
    pub ops_unknown: bool,
    /// Whether the tool runs this migration inside a transaction (`None`:
    /// not known statically, as for an Alembic `env.py` that hands the run
    /// to the application).
    pub in_transaction: Option<bool>,
    pub problems: Vec<LoadProblem>,
    pub suppressions: Vec<SuppressionComment>,
    /// `Class.name` where the class is defined in the file, all of it
    /// known, and has no such name: Python raises `AttributeError` there.
    pub missing_attributes: Vec<MissingAttribute>,
    /// Reading it looked at other files than its own (a project module it
    /// imports helpers from, diesel's `metadata.toml`): what was read
    /// here can change without this file changing.
    pub reads_other_files: bool,
}

impl Migration {
    pub fn new(file: FileId, flavour: Flavour, stem: String) -> Self {
        Migration {
            file,
            rollback_file: None,
            flavour,
            stem,
            id: None,
            parents: Parents::Undeclared,
            parents_span: None,
            docstring: Docstring::default(),
            steps: Vec::new(),
            ops_unknown: false,
            in_transaction: None,
            problems: Vec::new(),
            suppressions: Vec::new(),
            missing_attributes: Vec::new(),
            reads_other_files: false,
        }
    }

    /// Gives back what the loaders' growing lists reserved and did not use:
    /// a one-operation migration otherwise holds room for four operations
    /// on each side (about 1.9 KB), which at 50,000 migrations is ~90 MB.
    pub fn shrink_to_fit(&mut self) {
        self.steps.shrink_to_fit();
        for step in &mut self.steps {
            let rollback = match &mut step.rollback {
                Rollback::Ops { ops, .. } => ops.as_mut_slice(),
                _ => &mut [],
            };
            for op in step.apply.iter_mut().chain(rollback) {
                if let OpKind::CreateTable {
                    columns,
                    constraints,
                    ..
                } = &mut op.kind
                {
                    columns.shrink_to_fit();
                    constraints.shrink_to_fit();
                }
            }
            step.apply.shrink_to_fit();
            if let Rollback::Ops { ops, .. } = &mut step.rollback {
                ops.shrink_to_fit();
            }
        }
        self.problems.shrink_to_fit();
        self.suppressions.shrink_to_fit();
        if let Parents::Of(parents) = &mut self.parents {
            parents.shrink_to_fit();
        }
        if let Some(revises) = &mut self.docstring.revises {
            revises.shrink_to_fit();
        }
    }

    pub fn id_str(&self) -> &str {
        self.id
            .as_ref()
            .map(|n| n.name.as_str())
            .unwrap_or(&self.stem)
    }

    /// Operations applied by the upgrade, in order.
    pub fn upgrade_ops(&self) -> impl Iterator<Item = &Operation> {
        self.steps.iter().flat_map(|s| s.apply.iter())
    }

    /// Whether the tool runs `op` of this migration inside a transaction:
    /// Alembic as its `env.py` says, never inside `autocommit_block()`; yoyo
    /// and the SQL-folder tools as their loaders read it. `None` when it
    /// cannot be known.
    pub fn runs_in_transaction(&self, op: &Operation) -> Option<bool> {
        match self.flavour {
            Flavour::Alembic if op.online.autocommit => Some(false),
            _ => self.in_transaction,
        }
    }

    /// Operations run by the downgrade, in the order they run (last step first).
    pub fn downgrade_ops(&self) -> impl Iterator<Item = &Operation> {
        self.steps.iter().rev().flat_map(|s| match &s.rollback {
            Rollback::Ops { ops, .. } => ops.as_slice(),
            _ => &[],
        })
    }
}

/// A unit of work with its undo: a yoyo `step(apply, rollback)`, a yoyo SQL
/// file with its `.rollback.sql`, or Alembic's `upgrade()` with `downgrade()`.
#[derive(Clone, Debug)]
pub struct Step {
    /// Where the step is written (the `step(...)` call, `def upgrade`, or the SQL file's start).
    pub span: Span,
    pub apply: Vec<Operation>,
    /// Whether the apply side does anything at all (Python code counts).
    pub apply_does_work: bool,
    pub rollback: Rollback,
}

#[derive(Clone, Debug)]
pub enum Rollback {
    /// No rollback given at all (`step("...")`, no `downgrade()`, no `.rollback.sql`).
    Missing,
    /// A rollback that does nothing: empty, only comments, only `pass` or `...`.
    Empty {
        span: Span,
        why: &'static str,
    },
    Ops {
        span: Span,
        ops: Vec<Operation>,
    },
}

/// One schema change, with where it was written and how.
#[derive(Clone, Debug)]
pub struct Operation {
    pub kind: OpKind,
    pub span: Span,
    /// Ran inside `with op.batch_alter_table(...)` (Alembic).
    pub in_batch: bool,
    /// Present when the operation came from SQL text.
    pub sql: Option<SqlInfo>,
    /// For Alembic calls: the `op.<name>` / `batch_op.<name>` method called.
    pub call: Option<String>,
    /// Whether it runs whenever the migration does; see [`Reach`].
    pub reach: Reach,
    /// Alembic's own guard: `if_exists=True` / `if_not_exists=True` (1.12+).
    pub if_exists: bool,
    /// How PostgreSQL runs it, where the migration chooses.
    pub online: Online,
}

/// The ways a PostgreSQL migration keeps a busy table usable while it runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Online {
    /// `CREATE/DROP INDEX CONCURRENTLY`, `postgresql_concurrently=True`.
    pub concurrently: bool,
    /// A constraint added `NOT VALID` (`postgresql_not_valid=True`).
    pub not_valid: bool,
    /// Inside Alembic's `autocommit_block()`: outside the migration's
    /// transaction.
    pub autocommit: bool,
}

/// When an operation runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Whenever the migration runs.
    Always,
    /// Only when every guard holds: inspector checks in the migration
    /// (`if "t" in inspector.get_table_names():`, `has_table`, a column or
    /// index list, `if not has_table("t"): return` before it), outermost
    /// first. The replay decides each on the schema at that point.
    If(Vec<Guard>),
    /// Maybe: under a condition or in a loop miglint cannot decide, or in a
    /// `try` block. What it touches is uncertain from there on.
    Maybe,
}

/// One inspector check an operation runs under: `what` exists (`exists`)
/// or does not. `check` numbers the `if` in its migration: its branches
/// (and what follows an `if ...: return`) share it, so the schema is looked
/// at once, as the `if` statement does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Guard {
    pub what: Exists,
    pub exists: bool,
    pub check: u32,
}

/// What an inspector check asks about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exists {
    Table(String),
    /// A column of a table.
    Column(String, String),
    /// An index, by name, on a table.
    Index(String, String),
    /// Any of these (`if {"a", "b"} & columns:`), all on one table.
    Any(Vec<Exists>),
}

impl Exists {
    pub fn table(&self) -> &str {
        match self {
            Exists::Table(t) | Exists::Column(t, _) | Exists::Index(t, _) => t,
            Exists::Any(all) => all.first().map_or("", Exists::table),
        }
    }
}

impl Operation {
    /// Runs whenever its migration does.
    pub fn always(&self) -> bool {
        self.reach == Reach::Always
    }
}

#[derive(Clone, Debug)]
pub struct SqlInfo {
    /// The statement carried `IF NOT EXISTS` (creates) or `IF EXISTS` (drops).
    pub guarded: bool,
    /// The statement's text, escapes decoded, as SQLite should run it.
    pub statement: String,
    /// False when neither sqlparser nor SQLite could parse it (a
    /// `parse-error` finding already points at it).
    pub parses: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// The declared type as written (`sa.String()`, `TEXT`), if any.
    pub type_name: Option<String>,
    pub nullable: bool,
    /// The default as written (`server_default=...`, `DEFAULT ...`).
    pub default: Option<String>,
    pub primary_key: bool,
    pub unique: bool,
    pub references: Option<ForeignKeyRef>,
    /// The inline foreign key's name (`sa.ForeignKey(..., name="fk")`).
    pub foreign_key_name: Option<String>,
    /// `sa.Computed(...)` / `GENERATED ALWAYS AS (...)`.
    pub generated: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForeignKeyRef {
    pub table: String,
    pub columns: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConstraintKind {
    PrimaryKey,
    Unique,
    Check,
    ForeignKey(ForeignKeyRef),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableConstraint {
    pub name: Option<String>,
    pub kind: ConstraintKind,
    pub columns: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexDef {
    pub name: Option<String>,
    pub table: String,
    pub columns: Vec<String>,
    pub unique: bool,
    /// The partial index condition as written.
    pub where_clause: Option<String>,
    /// Made by `sa.Column(..., index=True)`: named by the naming
    /// convention's `ix` template, which the replay knows.
    pub from_column: bool,
}

/// What an alter changes; `None` means unchanged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ColumnChanges {
    pub new_name: Option<String>,
    pub type_name: Option<String>,
    pub nullable: Option<bool>,
    pub default: Option<Option<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpKind {
    CreateTable {
        name: String,
        columns: Vec<Column>,
        constraints: Vec<TableConstraint>,
    },
    CreateVirtualTable {
        name: String,
        module: String,
    },
    DropTable {
        name: String,
    },
    RenameTable {
        from: String,
        to: String,
    },
    AddColumn {
        table: String,
        column: Column,
    },
    DropColumn {
        table: String,
        column: String,
    },
    AlterColumn {
        table: String,
        column: String,
        changes: ColumnChanges,
    },
    RenameColumn {
        table: String,
        from: String,
        to: String,
    },
    CreateIndex(IndexDef),
    DropIndex {
        name: String,
        table: Option<String>,
    },
    /// `ALTER INDEX from RENAME TO to` (PostgreSQL).
    RenameIndex {
        from: String,
        to: String,
    },
    AddConstraint {
        table: String,
        constraint: TableConstraint,
    },
    DropConstraint {
        table: String,
        name: String,
        /// The naming convention of the enclosing Alembic batch
        /// (`naming_convention={"fk": "fk_%(table_name)s_..."}`): kind
        /// (`fk`, `uq`, `pk`) and template, which name the table's unnamed
        /// constraints for the batch.
        convention: Vec<(String, String)>,
    },
    CreateView {
        name: String,
    },
    DropView {
        name: String,
    },
    CreateTrigger {
        name: String,
    },
    DropTrigger {
        name: String,
    },
    /// SQL that reads or writes rows (INSERT, UPDATE, DELETE, SELECT, PRAGMA…).
    Data {
        statement: String,
    },
    /// A schema operation whose names miglint cannot read statically (a
    /// name computed at run time, from the application, from reflection).
    /// `tables`: the tables it may touch; empty when even those are unknown.
    Unread {
        tables: Vec<String>,
        note: String,
    },
    /// Something miglint cannot model: kept, never dropped silently.
    Opaque {
        what: OpaqueKind,
        note: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpaqueKind {
    /// SQL that parsed in SQLite's grammar but not into a modelled statement.
    Sql,
    /// A Python callable step, or Python code between `op.*` calls.
    Python,
    /// SQL built at run time (f-strings, variables): its text is unknown.
    DynamicSql,
}

impl OpKind {
    /// The tables an operation changes (both names of a rename; an empty
    /// name where the operation does not say).
    pub fn tables(&self) -> Vec<&str> {
        match self {
            OpKind::CreateTable { name, .. }
            | OpKind::CreateVirtualTable { name, .. }
            | OpKind::DropTable { name } => vec![name],
            OpKind::RenameTable { from, to } => vec![from, to],
            OpKind::AddColumn { table, .. }
            | OpKind::DropColumn { table, .. }
            | OpKind::AlterColumn { table, .. }
            | OpKind::RenameColumn { table, .. }
            | OpKind::AddConstraint { table, .. }
            | OpKind::DropConstraint { table, .. } => vec![table],
            OpKind::CreateIndex(ix) => vec![&ix.table],
            OpKind::DropIndex { table, .. } => vec![table.as_deref().unwrap_or("")],
            OpKind::RenameIndex { .. } => vec![""],
            OpKind::Unread { tables, .. } => tables.iter().map(String::as_str).collect(),
            OpKind::CreateView { .. }
            | OpKind::DropView { .. }
            | OpKind::CreateTrigger { .. }
            | OpKind::DropTrigger { .. }
            | OpKind::Data { .. }
            | OpKind::Opaque { .. } => Vec::new(),
        }
    }

    /// The kind of object this operation creates or drops, for guard checks.
    pub fn object_kind(&self) -> Option<(&'static str, &str, bool)> {
        Some(match self {
            OpKind::CreateTable { name, .. } => ("TABLE", name, true),
            OpKind::CreateVirtualTable { name, .. } => ("TABLE", name, true),
            OpKind::DropTable { name } => ("TABLE", name, false),
            OpKind::CreateIndex(ix) => ("INDEX", ix.name.as_deref().unwrap_or(""), true),
            OpKind::DropIndex { name, .. } => ("INDEX", name, false),
            OpKind::CreateView { name } => ("VIEW", name, true),
            OpKind::DropView { name } => ("VIEW", name, false),
            OpKind::CreateTrigger { name } => ("TRIGGER", name, true),
            OpKind::DropTrigger { name } => ("TRIGGER", name, false),
            _ => return None,
        })
    }
}

/// An inline `miglint: ignore[...]` comment found while reading a file.
#[derive(Clone, Debug)]
pub struct SuppressionComment {
    pub span: Span,
    /// Rule ids listed; empty means every rule.
    pub rules: Vec<Named>,
    pub scope: SuppressionScope,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SuppressionScope {
    /// Trailing a line of code: that line.
    Line,
    /// Alone on its line: the next line.
    NextLine,
    /// `ignore-file[...]`: the whole file.
    File,
}

/// The kind of a migrations folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetFlavour {
    Alembic,
    Yoyo,
    /// A SQL-folder tool's folder: migrations in version order.
    Sql(SqlTool),
}

impl SetFlavour {
    pub fn of(f: Flavour) -> Self {
        match f {
            Flavour::Alembic => SetFlavour::Alembic,
            Flavour::YoyoPy | Flavour::YoyoSql => SetFlavour::Yoyo,
            Flavour::Sql(tool) => SetFlavour::Sql(tool),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SetFlavour::Alembic => "alembic",
            SetFlavour::Yoyo => "yoyo",
            SetFlavour::Sql(tool) => tool.name(),
        }
    }

    /// The tool a folder of SQL files belongs to.
    pub fn tool(self) -> Option<SqlTool> {
        match self {
            SetFlavour::Sql(tool) => Some(tool),
            _ => None,
        }
    }

    /// Migrations applied in file (version) order, each after the one before.
    pub fn ordered_by_name(self) -> bool {
        self != SetFlavour::Alembic
    }
}
