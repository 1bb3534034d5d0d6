//! What the replay meets on its way through the chain: facts about one
//! operation and the schema it was applied to. The engine only records
//! them; the rules (`schema-consistency`, `foreign-key-target`,
//! `sqlite-alter-support`, `downgrade-roundtrip`) decide which are
//! findings, and word them.

use crate::migration::Flavour;
use crate::source::Span;

/// A fact, at the operation (or rollback) it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub span: Span,
    pub fact: Fact,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fact {
    /// The operation cannot be applied to the schema it met.
    Conflict(Conflict),
    /// A foreign key points at a table (`column: None`) or at a column of
    /// an existing table that does not exist at that point of the chain.
    DanglingForeignKey {
        owner: String,
        columns: Vec<String>,
        target: String,
        column: Option<String>,
    },
    /// SQL's `ALTER TABLE ... DROP COLUMN` on a column SQLite refuses to
    /// drop that way.
    DropColumnRefused {
        table: String,
        column: String,
        because: DropRefusal,
    },
    /// Upgrade then downgrade left the touched tables different (each
    /// difference described).
    RoundTrip {
        flavour: Flavour,
        differences: Vec<String>,
    },
}

/// Why SQLite's `DROP COLUMN` refuses a column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DropRefusal {
    PrimaryKey,
    Unique,
    /// This index covers it.
    Indexed(String),
    /// A foreign key in this table references it.
    Referenced(String),
}

/// How an operation used a table or column that is not there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    Drop,
    Rename,
    Change,
}

/// An operation that cannot be applied to the schema it met.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Conflict {
    /// `first`: where the table was created.
    TableExists {
        table: String,
        first: Span,
    },
    /// A table the chain uses but no migration creates (nor the baseline
    /// holds): said once, at its first use.
    NeverCreated {
        table: String,
    },
    TableMissing {
        table: String,
        by: Use,
    },
    ColumnDeclaredTwice {
        table: String,
        column: String,
    },
    ColumnExists {
        table: String,
        column: String,
    },
    ColumnMissing {
        table: String,
        column: String,
        by: Use,
    },
    /// Renaming a table (`table: None`) or a column of `table` to a name
    /// that is taken.
    NameTaken {
        table: Option<String>,
        from: String,
        to: String,
    },
    ConstraintColumnMissing {
        table: String,
        column: String,
    },
    ConstraintMissing {
        table: String,
        name: String,
    },
    /// `first`: where the index was created, on `table`.
    IndexExists {
        index: String,
        table: String,
        first: Span,
    },
    /// `table`: the table the operation named, if it did.
    IndexMissing {
        index: String,
        table: Option<String>,
    },
    IndexTableMissing {
        index: String,
        table: String,
    },
    IndexColumnMissing {
        index: String,
        table: String,
        column: String,
    },
    /// A batch `drop_column` of a column an index still covers: the batch
    /// copy recreates the index and fails.
    BatchDropIndexedColumn {
        table: String,
        column: String,
        index: String,
    },
    /// SQLite: a `batch_alter_table` block that recreates `table` while it
    /// keeps the generated column `column`: Alembic's copy inserts into
    /// it, which SQLite refuses.
    BatchCopiesGenerated {
        table: String,
        column: String,
    },
    /// PostgreSQL: a table dropped (without CASCADE) while foreign keys of
    /// the tables `by` still point at it.
    TableReferenced {
        table: String,
        by: Vec<String>,
    },
    /// A view or trigger (`kind`) created twice, or dropped when absent.
    ObjectExists {
        kind: &'static str,
        name: String,
    },
    ObjectMissing {
        kind: &'static str,
        name: String,
    },
}
