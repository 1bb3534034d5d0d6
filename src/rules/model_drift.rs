//! `model-drift`: the SQLAlchemy models and the schema the migrations build
//! describe the same tables, columns, types, nullability, indexes and keys.

use serde::Deserialize;

use super::{Context, Rule, RuleMeta, Severity};
use crate::analysis::SetAnalysis;
use crate::app::models::{ModelColumn, ModelIndex, ModelTable, TypeFamily};
use crate::load::env::NamingConvention;
use crate::migration::SetFlavour;
use crate::project::config::{ConfigError, Dialect, RuleConfig, Settings, rule_options};
use crate::schema::{Schema, Table};

pub const ID: &str = "model-drift";

pub const META: RuleMeta = RuleMeta {
    id: ID,
    severity: Severity::Error,
    summary: "The SQLAlchemy models and the schema the migrations build disagree",
    doc: include_str!("../../rules/model-drift.md"),
    has_examples: true,
    build,
};

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct ModelDrift {
    /// Tables left out of the comparison (kept by hand, or by another tool).
    ignore_tables: Vec<String>,
}

fn build(config: Option<&RuleConfig>, _: &Settings) -> Result<Box<dyn Rule>, ConfigError> {
    Ok(Box::new(rule_options::<ModelDrift>(ID, config)?))
}

/// Tables the tools keep for themselves.
fn bookkeeping(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "alembic_version" || n.starts_with("_yoyo") || n.starts_with("sqlite_")
}

impl ModelDrift {
    fn ignored(&self, table: &str) -> bool {
        self.ignore_tables
            .iter()
            .any(|t| t.eq_ignore_ascii_case(table))
    }
}

impl Rule for ModelDrift {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        let models = &set.models;
        // A model of Alembic's or yoyo's own table (`alembic_version`) says
        // nothing about the application's.
        if models.tables.iter().all(|m| bookkeeping(&m.table)) {
            return;
        }
        let schema = &set.replay.schema;
        // Raw SQL migrations (yoyo) keep dates as ISO text, which
        // SQLAlchemy's SQLite dialect reads into `DateTime` columns; their
        // fixes are written in SQL.
        let raw_sql = set.flavour != SetFlavour::Alembic;
        for model in &models.tables {
            if self.ignored(&model.table) || bookkeeping(&model.table) {
                continue;
            }
            let Some(table) = schema.table(&model.table) else {
                // Created, perhaps, by an operation miglint could not read.
                if set.replay.uncertain.table(&model.table) {
                    continue;
                }
                cx.report(
                    model.span,
                    format!(
                        "`{}` maps table `{}`, which no migration creates",
                        model.owner, model.table
                    ),
                )
                .help(format!(
                    "write the migration that creates it, e.g. `miglint new \"create {0}\" --create-table {0}`",
                    model.table
                ));
                continue;
            };
            for column in &model.columns {
                compare_column(model, column, table, raw_sql, cx);
            }
            if model.complete {
                for c in &table.columns {
                    if !model
                        .columns
                        .iter()
                        .any(|m| m.name.eq_ignore_ascii_case(&c.name))
                    {
                        cx.report(
                            cx.first_line(c.origin),
                            format!(
                                "column `{}.{}` is in the migrations but not in model `{}`",
                                table.name, c.name, model.owner
                            ),
                        )
                        .secondary(model.span, "the model")
                        .help("add it to the model, or drop it in a new migration");
                    }
                }
            }
            // An index or key the replay is not sure of is not compared.
            if set.replay.uncertain.table(&table.name) {
                continue;
            }
            for column in &model.columns {
                if table.column(&column.name).is_some() {
                    compare_keys(model, column, schema, table, (raw_sql, set.dialect), cx);
                    if !raw_sql {
                        index_name(model, column, schema, table, &set.replay.convention, cx);
                    }
                }
            }
            for ix in &model.indexes {
                compare_index(model, ix, schema, table, cx);
            }
            let keys_known = model.complete
                && model.keys_complete
                && !models.index_unplaced
                && model.columns.iter().all(|c| c.keys_known);
            if keys_known {
                unmapped_keys(model, schema, table, cx);
            }
        }
        let mapped: std::collections::HashSet<String> = models
            .tables
            .iter()
            .map(|m| m.table.to_ascii_lowercase())
            .collect();
        for table in schema.tables.values() {
            if table.virtual_module.is_some()
                || bookkeeping(&table.name)
                || self.ignored(&table.name)
            {
                continue;
            }
            if !mapped.contains(&table.name.to_ascii_lowercase()) {
                cx.report(
                    cx.first_line(table.origin),
                    format!(
                        "table `{}` is created by the migrations but no model maps it",
                        table.name
                    ),
                )
                .help(format!(
                    "add a model with `__tablename__ = \"{}\"`, or list the table in `[rules.{ID}] ignore-tables`",
                    table.name
                ));
            }
        }
    }
}

fn compare_column(
    model: &ModelTable,
    column: &ModelColumn,
    table: &Table,
    raw_sql: bool,
    cx: &mut Context,
) {
    let who = format!("`{}.{}`", model.owner, column.attr);
    let Some(state) = table.column(&column.name) else {
        let created = cx.first_line(table.origin);
        cx.report(
            column.span,
            format!(
                "{who} maps column `{}.{}`, which the migrations never add",
                table.name, column.name
            ),
        )
        .secondary(created, "the table is created here")
        .help(format!(
            "add it in a new migration (`miglint new \"add {1} to {0}\" --add-column {0}.{1}:{2}`)",
            table.name,
            column.name,
            column
                .type_
                .as_ref()
                .map(
                    |(family, written)| match TypeFamily::of_sqlalchemy(written) {
                        Some(_) => written.as_str(),
                        None => family.sqlalchemy_name(),
                    }
                )
                .unwrap_or("TYPE")
        ));
        return;
    };
    let defined = cx.first_line(state.origin);
    if let (Some((family, written)), Some(sql)) = (column.type_.as_ref(), state.sql_type.as_deref())
        && !state.type_unknown
        && let Some(migrated) = TypeFamily::of_sql(sql)
        && migrated != *family
        && !(raw_sql && family.is_temporal() && migrated == TypeFamily::Text)
    {
        cx.report(
            column.span,
            format!(
                "{who} is `{written}` ({}) in the model but `{sql}` ({}) in the migrations",
                family.name(),
                migrated.name()
            ),
        )
        .secondary(defined, "the column is defined here")
        .help("change the model's type, or alter the column in a new migration");
    }
    let pk = column.primary_key
        || state.primary_key
        || table.primary_key_columns().len() == 1
            && table.primary_key_columns()[0].eq_ignore_ascii_case(&column.name);
    if let Some(nullable) = column.nullable
        && !pk
        && nullable != state.nullable
    {
        let (m, d) = if nullable {
            ("nullable", "NOT NULL")
        } else {
            ("NOT NULL", "nullable")
        };
        cx.report(
            column.span,
            format!("{who} is {m} in the model but {d} in the migrations"),
        )
        .secondary(defined, "the column is defined here")
        .help(if nullable {
            "write `nullable=False` in the model (or `Mapped[T]` without `Optional`), or alter the column"
        } else {
            "write `nullable=True` in the model (or `Mapped[Optional[T]]`), or alter the column"
        });
    }
}

/// `index=True`, `unique=True` and `ForeignKey(...)` of one column.
fn compare_keys(
    model: &ModelTable,
    column: &ModelColumn,
    schema: &Schema,
    table: &Table,
    (raw_sql, dialect): (bool, Dialect),
    cx: &mut Context,
) {
    let who = format!("`{}.{}`", model.owner, column.attr);
    let create_index = |unique: bool| {
        let (t, c) = (&table.name, &column.name);
        match (raw_sql, unique) {
            (true, false) => format!("CREATE INDEX IF NOT EXISTS ix_{t}_{c} ON {t}({c})"),
            (true, true) => format!("CREATE UNIQUE INDEX IF NOT EXISTS ix_{t}_{c} ON {t}({c})"),
            // SQLite's conventions run index changes in a batch.
            (false, false) if dialect == Dialect::Sqlite => {
                format!("batch_op.create_index(\"ix_{t}_{c}\", [\"{c}\"])")
            }
            (false, true) if dialect == Dialect::Sqlite => {
                format!("batch_op.create_index(\"ix_{t}_{c}\", [\"{c}\"], unique=True)")
            }
            (false, false) => format!("op.create_index(\"ix_{t}_{c}\", \"{t}\", [\"{c}\"])"),
            (false, true) => {
                format!("op.create_index(\"ix_{t}_{c}\", \"{t}\", [\"{c}\"], unique=True)")
            }
        }
    };
    let only = |cols: &[String]| cols.len() == 1 && cols[0].eq_ignore_ascii_case(&column.name);
    let unique_somewhere = table.column(&column.name).is_some_and(|c| c.unique)
        || (table.primary_key_columns().len() == 1
            && table.primary_key_columns()[0].eq_ignore_ascii_case(&column.name))
        || table.unique_constraints.iter().any(|u| only(&u.columns))
        || schema
            .indexes_of(&table.name)
            .any(|ix| ix.unique && ix.where_clause.is_none() && only(&ix.columns));
    if column.unique && !unique_somewhere {
        cx.report(
            column.span,
            format!(
                "{who} is `unique=True` but no migration makes `{}.{}` unique",
                table.name, column.name
            ),
        )
        .help(format!(
            "create a unique index in a new migration: `{}`",
            create_index(true)
        ));
    }
    if column.index && !column.unique && !schema.indexes_of(&table.name).any(|ix| only(&ix.columns))
    {
        cx.report(
            column.span,
            format!(
                "{who} is `index=True` but no migration creates an index on `{}.{}`",
                table.name, column.name
            ),
        )
        .help(format!(
            "create it in a new migration: `{}`",
            create_index(false)
        ));
    }
    if let Some((ref_table, ref_column)) = &column.foreign_key
        && !table.foreign_keys.iter().any(|fk| {
            only(&fk.columns)
                && fk.ref_table.eq_ignore_ascii_case(ref_table)
                && fk
                    .ref_columns
                    .first()
                    .is_none_or(|c| c.eq_ignore_ascii_case(ref_column))
        })
    {
        cx.report(
            column.span,
            format!(
                "{who} is a foreign key to `{ref_table}.{ref_column}` in the model, but not in the migrations"
            ),
        )
        .help(if dialect == Dialect::Sqlite {
            format!(
                "add it in a new migration: `batch_op.create_foreign_key(\"fk_{0}_{1}_{ref_table}\", \"{ref_table}\", [\"{1}\"], [\"{ref_column}\"])`",
                table.name, column.name
            )
        } else {
            format!(
                "add it in a new migration: `op.create_foreign_key(\"fk_{0}_{1}_{ref_table}\", \"{0}\", \"{ref_table}\", [\"{1}\"], [\"{ref_column}\"])`",
                table.name, column.name
            )
        });
    }
}

/// An `Index(...)` or `UniqueConstraint(...)` of `__table_args__`.
fn compare_index(
    model: &ModelTable,
    ix: &ModelIndex,
    schema: &Schema,
    table: &Table,
    cx: &mut Context,
) {
    let same = |cols: &[String]| {
        cols.len() == ix.columns.len()
            && cols
                .iter()
                .zip(&ix.columns)
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
    };
    let found = schema
        .indexes_of(&table.name)
        .any(|i| same(&i.columns) && (i.unique || !ix.unique))
        || (ix.unique && table.unique_constraints.iter().any(|u| same(&u.columns)));
    if !found {
        let what = if ix.constraint {
            "unique constraint"
        } else if ix.unique {
            "unique index"
        } else {
            "index"
        };
        let name = ix
            .name
            .as_deref()
            .map(|n| format!(" `{n}`"))
            .unwrap_or_default();
        cx.report(
            ix.span,
            format!(
                "`{}` declares the {what}{name} on `{}({})`, which no migration creates",
                model.owner,
                table.name,
                ix.columns.join(", ")
            ),
        )
        .help("create it in a new migration, or remove it from the model");
    }
}

/// `Column(..., index=True)` names its index by the naming convention
/// (`ix_<table>_<column>` by default); an index on the column under
/// another name is one autogenerate drops and creates again.
fn index_name(
    model: &ModelTable,
    column: &ModelColumn,
    schema: &Schema,
    table: &Table,
    convention: &NamingConvention,
    cx: &mut Context,
) {
    if !column.index || column.unique {
        return;
    }
    let Some(name) = convention.index_name(&table.name, &column.name) else {
        return;
    };
    let on_column: Vec<_> = schema
        .indexes_of(&table.name)
        .filter(|ix| ix.columns.len() == 1 && ix.columns[0].eq_ignore_ascii_case(&column.name))
        .collect();
    if on_column
        .iter()
        .any(|ix| ix.name.eq_ignore_ascii_case(&name))
    {
        return;
    }
    // Named elsewhere in the model (`Index("name", "col")`): that one is
    // compared by `compare_index`.
    let declared = |n: &str| {
        model
            .indexes
            .iter()
            .any(|m| m.name.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(n)))
    };
    let Some(ix) = on_column
        .iter()
        .find(|ix| !ix.unique && !declared(&ix.name))
    else {
        return;
    };
    let created = cx.first_line(ix.origin);
    cx.report(
        column.span,
        format!(
            "`{}.{}` is `index=True`, which names its index `{name}`, but the migrations name the index on `{}.{}` `{}`",
            model.owner, column.attr, table.name, column.name, ix.name
        ),
    )
    .secondary(created, "the index the migrations create")
    .help(format!(
        "autogenerate would drop `{0}` and create `{name}`: name it in the model instead of `index=True` (`Index(\"{0}\", \"{1}\")` in `__table_args__`), or rename it in a new migration",
        ix.name, column.name
    ));
}

/// Indexes and foreign keys the migrations create on a mapped table that
/// its model does not declare (autogenerate's `remove_index` and
/// `remove_fk`). Called only when the model's keys are all known.
fn unmapped_keys(model: &ModelTable, schema: &Schema, table: &Table, cx: &mut Context) {
    let same = |a: &[String], b: &[String]| {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
    };
    let in_model = |name: &str| {
        model
            .columns
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case(name))
    };
    for ix in schema.indexes_of(&table.name) {
        // Unique indexes meet unique constraints, which each database
        // reflects its own way: left to the forward comparison.
        if ix.unique || !ix.columns.iter().all(|c| in_model(c)) {
            continue;
        }
        let declared = model.indexes.iter().any(|m| {
            m.name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(&ix.name))
                || same(&m.columns, &ix.columns)
        }) || (ix.columns.len() == 1
            && model
                .columns
                .iter()
                .any(|c| (c.index || c.unique) && c.name.eq_ignore_ascii_case(&ix.columns[0])));
        if !declared {
            cx.report(
                cx.first_line(ix.origin),
                format!(
                    "index `{}` on `{}({})` is in the migrations but not in model `{}`",
                    ix.name,
                    table.name,
                    ix.columns.join(", "),
                    model.owner
                ),
            )
            .secondary(model.span, "the model")
            .help(format!(
                "declare it in the model (`Index(\"{}\", {})` in `__table_args__`), or drop it in a new migration; autogenerate would drop it",
                ix.name,
                ix.columns
                    .iter()
                    .map(|c| format!("\"{c}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    for fk in &table.foreign_keys {
        if fk.columns.is_empty() || !fk.columns.iter().all(|c| in_model(c)) {
            continue;
        }
        let declared = model.foreign_keys.iter().any(|m| {
            same(&m.columns, &fk.columns) && m.ref_table.eq_ignore_ascii_case(&fk.ref_table)
        }) || (fk.columns.len() == 1
            && model.columns.iter().any(|c| {
                c.name.eq_ignore_ascii_case(&fk.columns[0])
                    && c.foreign_key
                        .as_ref()
                        .is_some_and(|(t, _)| t.eq_ignore_ascii_case(&fk.ref_table))
            }));
        if !declared {
            // Keys keep no place of their own: their first column's.
            let origin = table
                .column(&fk.columns[0])
                .map_or(table.origin, |c| c.origin);
            cx.report(
                cx.first_line(origin),
                format!(
                    "foreign key `{}({})` → `{}` is in the migrations but not in model `{}`",
                    table.name,
                    fk.columns.join(", "),
                    fk.ref_table,
                    model.owner
                ),
            )
            .secondary(model.span, "the model")
            .help("declare it in the model (`ForeignKey(...)` on the column), or drop it in a new migration; autogenerate would drop it");
        }
    }
}
