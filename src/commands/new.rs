//! `miglint new DESCRIPTION`: the next migration of a folder, written from
//! the conventions' templates (next number, parent revision, docstring,
//! batch mode or yoyo steps with rollbacks and guards), checked against the
//! replayed schema before anything is written.

use std::path::PathBuf;

use std::io::Write;

use super::{EXIT_CLEAN, io};
use crate::analysis::SetAnalysis;
use crate::app::models::TypeFamily;
use crate::migration::SetFlavour;
use crate::migration::{Flavour, Parents};
use crate::project::config::ConfigError;
use crate::rules::RuleSet;
use crate::schema::Schema;

/// What to put in the new migration.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub description: String,
    pub create_tables: Vec<String>,
    /// `table.column:TYPE`.
    pub add_columns: Vec<String>,
    pub nullable: bool,
    pub default: Option<String>,
    pub index: bool,
    /// `table.column`.
    pub add_indexes: Vec<String>,
    /// `table.column:other.column`.
    pub add_fks: Vec<String>,
    /// yoyo: write `.sql` + `.rollback.sql` (default: what the folder uses).
    pub sql: Option<bool>,
}

/// The files to write and what to tell the user.
#[derive(Debug)]
pub struct Plan {
    pub files: Vec<(PathBuf, String)>,
    pub revision: String,
    pub parent: Option<String>,
    pub next_steps: Vec<String>,
}

fn fail(message: impl Into<String>) -> ConfigError {
    ConfigError(message.into())
}

/// `Add status to memories!` → `add_status_to_memories`.
pub fn snake_case(description: &str) -> String {
    let mut out = String::new();
    for c in description.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    let mut out = out.trim_end_matches('_').to_string();
    if out.len() > 60 {
        out.truncate(60);
        out = out.trim_end_matches('_').to_string();
    }
    out
}

fn identifier(name: &str, what: &str) -> Result<String, ConfigError> {
    let ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(name.to_string())
    } else {
        Err(fail(format!(
            "{what} `{name}` is not a plain SQL name (letters, digits, `_`)"
        )))
    }
}

/// `table.column`.
fn table_column(s: &str, option: &str) -> Result<(String, String), ConfigError> {
    let (t, c) = s
        .split_once('.')
        .ok_or_else(|| fail(format!("{option} `{s}`: expected `table.column`")))?;
    Ok((identifier(t, "table")?, identifier(c, "column")?))
}

/// A column type as the folder's flavour writes it.
#[derive(Clone, Debug)]
struct ColumnType {
    /// `sa.String(50)`.
    alembic: String,
    /// `TEXT`.
    sql: String,
}

/// Reads `String`, `sa.String(50)`, `Integer`, `TEXT`, `int`...
fn column_type(written: &str) -> Result<ColumnType, ConfigError> {
    let w = written.trim().trim_start_matches("sa.");
    let (head, args) = match w.split_once('(') {
        Some((h, rest)) => (h.trim(), format!("({rest}")),
        None => (w, "()".to_string()),
    };
    let sqlalchemy = match head.to_ascii_uppercase().as_str() {
        "TEXT" => "Text",
        "INTEGER" | "INT" => "Integer",
        "REAL" => "Float",
        "BLOB" => "LargeBinary",
        "NUMERIC" => "Numeric",
        _ => head,
    };
    let family = TypeFamily::of_sqlalchemy(sqlalchemy).or_else(|| TypeFamily::of_python(head));
    let Some(family) = family else {
        return Err(fail(format!(
            "type `{written}` is not one miglint knows: use a SQLAlchemy type (String, Text, Integer, BigInteger, Float, Numeric, Boolean, DateTime, Date, Time, JSON, LargeBinary) or TEXT, INTEGER, REAL, BLOB, NUMERIC"
        )));
    };
    let alembic = if TypeFamily::of_sqlalchemy(sqlalchemy).is_some() {
        format!("sa.{sqlalchemy}{args}")
    } else {
        format!("sa.{}()", family.sqlalchemy_name())
    };
    let sql = match family {
        TypeFamily::Integer | TypeFamily::Boolean => "INTEGER",
        TypeFamily::Float => "REAL",
        TypeFamily::Numeric => "NUMERIC",
        TypeFamily::Binary => "BLOB",
        _ => "TEXT",
    };
    Ok(ColumnType {
        alembic,
        sql: sql.to_string(),
    })
}

/// A Python string literal.
fn py_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn is_number(s: &str) -> bool {
    s.parse::<f64>().is_ok()
}

/// A new column and how it is declared.
#[derive(Clone, Debug)]
struct NewColumn {
    name: String,
    ty: ColumnType,
    nullable: bool,
    default: Option<String>,
    references: Option<(String, String)>,
}

impl NewColumn {
    fn alembic(&self) -> String {
        let mut parts = vec![py_str(&self.name), self.ty.alembic.clone()];
        if let Some((t, c)) = &self.references {
            parts.push(format!("sa.ForeignKey({})", py_str(&format!("{t}.{c}"))));
        }
        parts.push(format!(
            "nullable={}",
            if self.nullable { "True" } else { "False" }
        ));
        if let Some(d) = &self.default {
            parts.push(if is_number(d) {
                format!("server_default=sa.text({})", py_str(d))
            } else {
                format!("server_default={}", py_str(d))
            });
        }
        format!("sa.Column({})", parts.join(", "))
    }

    fn sql(&self) -> String {
        let mut s = format!("{} {}", self.name, self.ty.sql);
        if !self.nullable {
            s.push_str(" NOT NULL");
        }
        if let Some(d) = &self.default {
            if is_number(d) {
                s.push_str(&format!(" DEFAULT {d}"));
            } else {
                s.push_str(&format!(" DEFAULT '{}'", d.replace('\'', "''")));
            }
        }
        if let Some((t, c)) = &self.references {
            s.push_str(&format!(" REFERENCES {t}({c})"));
        }
        s
    }
}

/// One change, in the order it is applied.
#[derive(Clone, Debug)]
enum Change {
    CreateTable {
        table: String,
        columns: Vec<NewColumn>,
    },
    AddColumn {
        table: String,
        column: NewColumn,
    },
    AddIndex {
        table: String,
        column: String,
    },
    AddForeignKey {
        table: String,
        column: String,
        ref_table: String,
        ref_column: String,
    },
}

impl Change {
    fn table(&self) -> &str {
        match self {
            Change::CreateTable { table, .. }
            | Change::AddColumn { table, .. }
            | Change::AddIndex { table, .. }
            | Change::AddForeignKey { table, .. } => table,
        }
    }
}

const TIMESTAMP_SQL: &str = "TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now'))";

/// The schema-checked list of changes.
fn changes(
    req: &Request,
    schema: &Schema,
    flavour: SetFlavour,
) -> Result<Vec<Change>, ConfigError> {
    let mut out: Vec<Change> = Vec::new();
    let has_table = |out: &[Change], t: &str| {
        schema.table(t).is_some()
            || out
                .iter()
                .any(|c| matches!(c, Change::CreateTable { table, .. } if table == t))
    };
    let has_column = |out: &[Change], t: &str, col: &str| {
        schema.table(t).is_some_and(|x| x.column(col).is_some())
            || out.iter().any(|c| match c {
                Change::CreateTable { table, columns } => {
                    table == t && columns.iter().any(|x| x.name == col || col == "id")
                }
                Change::AddColumn { table, column } => table == t && column.name == col,
                _ => false,
            })
    };
    for t in &req.create_tables {
        let t = identifier(t, "table")?;
        if has_table(&out, &t) {
            return Err(fail(format!(
                "table `{t}` already exists at the head of the chain"
            )));
        }
        out.push(Change::CreateTable {
            table: t,
            columns: Vec::new(),
        });
    }
    if !req.add_columns.is_empty() && !req.nullable && req.default.is_none() {
        return Err(fail(
            "--add-column needs --nullable or --default VALUE (SQLite cannot add a NOT NULL column without a default)",
        ));
    }
    if req.nullable && req.default.is_some() {
        return Err(fail(
            "--nullable and --default are exclusive: a column with a default is NOT NULL",
        ));
    }
    for spec in &req.add_columns {
        let (tc, ty) = spec.split_once(':').ok_or_else(|| {
            fail(format!(
                "--add-column `{spec}`: expected `table.column:TYPE`"
            ))
        })?;
        let (table, name) = table_column(tc, "--add-column")?;
        if !has_table(&out, &table) {
            return Err(fail(format!(
                "--add-column {spec}: no table `{table}` at the head of the chain"
            )));
        }
        if has_column(&out, &table, &name) {
            return Err(fail(format!(
                "--add-column {spec}: `{table}.{name}` already exists"
            )));
        }
        let column = NewColumn {
            name: name.clone(),
            ty: column_type(ty)?,
            nullable: req.nullable,
            default: req.default.clone(),
            references: None,
        };
        add_column(&mut out, &table, column);
        if req.index {
            out.push(Change::AddIndex {
                table,
                column: name,
            });
        }
    }
    for spec in &req.add_indexes {
        let (table, column) = table_column(spec, "--add-index")?;
        if !has_column(&out, &table, &column) {
            return Err(fail(format!(
                "--add-index {spec}: no column `{table}.{column}`"
            )));
        }
        out.push(Change::AddIndex { table, column });
    }
    for spec in &req.add_fks {
        let (from, to) = spec.split_once(':').ok_or_else(|| {
            fail(format!(
                "--add-fk `{spec}`: expected `table.column:other.column`"
            ))
        })?;
        let (table, column) = table_column(from, "--add-fk")?;
        let (ref_table, ref_column) = table_column(to, "--add-fk")?;
        if !has_table(&out, &table) {
            return Err(fail(format!("--add-fk {spec}: no table `{table}`")));
        }
        let referenced = schema
            .tables
            .get(&ref_table)
            .and_then(|t| t.column(&ref_column));
        let ref_type = match referenced {
            Some(c) => c.sql_type.clone().unwrap_or_else(|| "TEXT".into()),
            None if ref_column == "id" && has_table(&out, &ref_table) => "TEXT".into(),
            None => {
                return Err(fail(format!(
                    "--add-fk {spec}: no column `{ref_table}.{ref_column}` to refer to"
                )));
            }
        };
        let created_here = out
            .iter()
            .any(|c| matches!(c, Change::CreateTable { table: t, .. } if *t == table));
        if has_column(&out, &table, &column) {
            if flavour != SetFlavour::Alembic {
                return Err(fail(format!(
                    "--add-fk {spec}: SQLite cannot add a foreign key to an existing column without rebuilding the table; add a new column with --add-fk, or rebuild `{table}` by hand"
                )));
            }
            out.push(Change::AddForeignKey {
                table: table.clone(),
                column: column.clone(),
                ref_table,
                ref_column,
            });
        } else {
            let family = TypeFamily::of_sql(&ref_type).unwrap_or(TypeFamily::Text);
            let ty = column_type(family.sqlalchemy_name())?;
            let references = (flavour != SetFlavour::Alembic || created_here)
                .then(|| (ref_table.clone(), ref_column.clone()));
            add_column(
                &mut out,
                &table,
                NewColumn {
                    name: column.clone(),
                    ty,
                    nullable: true,
                    default: None,
                    references: references.clone(),
                },
            );
            if references.is_none() {
                out.push(Change::AddForeignKey {
                    table: table.clone(),
                    column: column.clone(),
                    ref_table,
                    ref_column,
                });
            }
        }
        // Foreign key columns are filtered on by every join: index them.
        if !out
            .iter()
            .any(|c| matches!(c, Change::AddIndex { table: t, column: x } if *t == table && *x == column))
        {
            out.push(Change::AddIndex { table, column });
        }
    }
    Ok(out)
}

/// Adds a column to the table created in this migration, or as its own change.
fn add_column(out: &mut Vec<Change>, table: &str, column: NewColumn) {
    for c in out.iter_mut() {
        if let Change::CreateTable { table: t, columns } = c
            && t == table
        {
            columns.push(column);
            return;
        }
    }
    out.push(Change::AddColumn {
        table: table.to_string(),
        column,
    });
}

/// The date for `Create Date`: `SOURCE_DATE_EPOCH` when set (reproducible
/// output), else today (UTC).
pub fn today() -> String {
    let (y, m, d) = civil_from_days(now().div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Seconds since the epoch: `SOURCE_DATE_EPOCH` when set, else now.
fn now() -> i64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
        })
}

/// `YYYYMMDDHHMMSS` (UTC), the version sqlx, diesel and dbmate give a new
/// migration.
fn timestamp() -> String {
    let secs = now();
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The first line of the docstring: capitalised, with a full stop.
fn sentence(description: &str) -> String {
    let d = description.trim().trim_end_matches('.');
    let mut c = d.chars();
    match c.next() {
        Some(f) => format!("{}{}.", f.to_uppercase(), c.as_str()),
        None => String::new(),
    }
}

/// Plans the next migration of `set`.
pub fn plan(set: &SetAnalysis, req: &Request) -> Result<Plan, ConfigError> {
    let slug = snake_case(&req.description);
    if slug.is_empty() {
        return Err(fail("the description needs at least one letter or digit"));
    }
    let heads = &set.chain.heads;
    if heads.len() > 1 {
        let names: Vec<&str> = heads
            .iter()
            .map(|&h| set.migrations[h].stem.as_str())
            .collect();
        return Err(fail(format!(
            "the chain has several heads ({}); fix `miglint lint` first",
            names.join(", ")
        )));
    }
    let head = heads.first().map(|&h| &set.migrations[h]);
    if let Some(tool) = set.flavour.tool() {
        return plan_tool(set, req, tool, &slug);
    }
    let numbering = set.numbering.as_ref();
    let (next, width) = match numbering.and_then(|n| n.sorted.last()) {
        Some(&(n, i)) => (
            n + 1,
            numbering.and_then(|x| x.of[i]).map(|(_, w)| w).unwrap_or(3),
        ),
        None if set.migrations.is_empty() => (
            1,
            if set.flavour == SetFlavour::Yoyo {
                4
            } else {
                3
            },
        ),
        None => {
            return Err(fail(format!(
                "{} does not number its migrations (NNN_name); miglint new follows numbered folders only",
                set.dir.display()
            )));
        }
    };
    let number = format!("{next:0width$}");
    let stem = format!("{number}_{slug}");
    let changes = changes(req, &set.replay.schema, set.flavour)?;
    let title = sentence(&req.description);
    let dir = &set.dir;
    match set.flavour {
        SetFlavour::Alembic => {
            let parent = head.map(|h| h.id_str().to_string());
            let text = alembic_file(&title, &number, parent.as_deref(), &changes);
            Ok(Plan {
                files: vec![(dir.join(format!("{stem}.py")), text)],
                revision: number,
                parent,
                next_steps: vec![
                    "Update the models (model-drift compares them with the migrations)".into(),
                    "Apply it: uv run alembic upgrade head".into(),
                ],
            })
        }
        SetFlavour::Sql(_) => unreachable!("planned by plan_tool above"),
        SetFlavour::Yoyo => {
            let parent = head.map(|h| h.stem.clone());
            // `__depends__` only when the folder declares its parents.
            let depends = head
                .filter(|h| matches!(h.parents, Parents::Of(_)))
                .map(|h| h.stem.clone());
            let use_sql = req
                .sql
                .unwrap_or_else(|| head.is_some_and(|h| h.flavour == Flavour::YoyoSql));
            let files = if use_sql {
                let (apply, rollback) = yoyo_sql_files(&title, depends.as_deref(), &changes);
                vec![
                    (dir.join(format!("{stem}.sql")), apply),
                    (dir.join(format!("{stem}.rollback.sql")), rollback),
                ]
            } else {
                vec![(
                    dir.join(format!("{stem}.py")),
                    yoyo_py_file(&title, depends.as_deref(), &changes),
                )]
            };
            Ok(Plan {
                files,
                revision: stem,
                parent,
                next_steps: vec![
                    format!(
                        "Apply it: yoyo apply --database sqlite:///path/to/app.db {}",
                        dir.display()
                    ),
                    "Update the models if the application reads the new columns".into(),
                ],
            })
        }
    }
}

/// The next migration of a SQL-folder tool, in the folder's own layout:
/// the next number where the folder numbers 1, 2, 3 (at its width), else
/// a `YYYYMMDDHHMMSS` timestamp past the last version.
fn plan_tool(
    set: &SetAnalysis,
    req: &Request,
    tool: crate::layout::SqlTool,
    slug: &str,
) -> Result<Plan, ConfigError> {
    use crate::layout::SqlTool;
    let last = set
        .migrations
        .iter()
        .map(|m| m.id_str())
        .max_by_key(|v| tool.version_key(v));
    let stamp = timestamp();
    let version = match last {
        Some(v) if v.len() < 14 => {
            let next = v.parse::<u128>().unwrap_or(0) + 1;
            format!("{next:0width$}", width = v.len())
        }
        None if tool == SqlTool::Refinery => "1".to_string(),
        Some(v) if tool.version_key(v) >= tool.version_key(&stamp) => {
            (v.parse::<u128>().unwrap_or(0) + 1).to_string()
        }
        _ => stamp,
    };
    let changes = changes(req, &set.replay.schema, set.flavour)?;
    let title = sentence(&req.description);
    let (apply, rollback) = yoyo_sql_files(&title, None, &changes);
    let (up_name, mut down_name) = tool.file_names(&version, slug);
    // sqlx: a forward-only folder stays forward-only.
    let forward_only = set
        .ordered()
        .last()
        .is_some_and(|m| m.rollback_file.is_none());
    let up_name = if tool == SqlTool::Sqlx && forward_only {
        down_name = None;
        up_name.replace(".up.sql", ".sql")
    } else {
        up_name
    };
    let files = match (tool, down_name) {
        (SqlTool::Dbmate, _) => {
            let (up, down) = sql_bodies(&changes);
            vec![(
                set.dir.join(&up_name),
                format!(
                    "-- {}\n-- migrate:up\n{up}\n-- migrate:down\n{down}",
                    title.trim_end_matches('.'),
                ),
            )]
        }
        (_, Some(down)) => vec![
            (set.dir.join(&up_name), apply),
            (set.dir.join(down), rollback),
        ],
        (_, None) => vec![(set.dir.join(&up_name), apply)],
    };
    let apply_with = match tool {
        SqlTool::Sqlx => "sqlx migrate run --database-url sqlite://app.db",
        SqlTool::Diesel => "diesel migration run --database-url app.db",
        SqlTool::Refinery => "refinery migrate -e DATABASE_URL -p <folder>",
        SqlTool::GolangMigrate => "migrate -path <folder> -database sqlite3://app.db up",
        SqlTool::Dbmate => "dbmate --url sqlite:app.db up",
    };
    Ok(Plan {
        files,
        revision: version,
        parent: last.map(str::to_string),
        next_steps: vec![
            format!("Apply it: {apply_with}"),
            "Update the application if it reads the new columns".into(),
        ],
    })
}

/// Alembic: the template of the conventions, column changes in batch mode.
fn alembic_file(title: &str, revision: &str, parent: Option<&str>, changes: &[Change]) -> String {
    /// A top-level statement, or a batch of one table's column changes.
    enum Block {
        Create {
            up: String,
            down: String,
        },
        Batch {
            table: String,
            up: Vec<String>,
            down: Vec<String>,
        },
    }
    let mut blocks: Vec<Block> = Vec::new();
    for c in changes {
        if let Change::CreateTable { table, columns } = c {
            let mut lines = vec![
                format!("    op.create_table(\n        {},", py_str(table)),
                "        sa.Column(\"id\", sa.String(), primary_key=True),".into(),
            ];
            lines.extend(
                columns
                    .iter()
                    .map(|col| format!("        {},", col.alembic())),
            );
            for ts in ["created_at", "updated_at"] {
                lines.push(format!(
                    "        sa.Column(\"{ts}\", sa.DateTime(), nullable=False, server_default=sa.func.now()),"
                ));
            }
            lines.push("    )".into());
            blocks.push(Block::Create {
                up: lines.join("\n"),
                down: format!("    op.drop_table({})", py_str(table)),
            });
            continue;
        }
        let (up, down) = match c {
            Change::AddColumn { column, .. } => (
                format!("batch_op.add_column({})", column.alembic()),
                format!("batch_op.drop_column({})", py_str(&column.name)),
            ),
            Change::AddIndex { table, column } => {
                let name = py_str(&format!("ix_{table}_{column}"));
                (
                    format!("batch_op.create_index({name}, [{}])", py_str(column)),
                    format!("batch_op.drop_index({name})"),
                )
            }
            Change::AddForeignKey {
                table,
                column,
                ref_table,
                ref_column,
            } => {
                let name = py_str(&format!("fk_{table}_{column}_{ref_table}"));
                (
                    format!(
                        "batch_op.create_foreign_key(\n            {name}, {}, [{}], [{}]\n        )",
                        py_str(ref_table),
                        py_str(column),
                        py_str(ref_column)
                    ),
                    format!("batch_op.drop_constraint({name}, type_=\"foreignkey\")"),
                )
            }
            Change::CreateTable { .. } => unreachable!("handled above"),
        };
        let existing = blocks.iter_mut().find_map(|b| match b {
            Block::Batch { table, up, down } if table == c.table() => Some((up, down)),
            _ => None,
        });
        match existing {
            Some((ups, downs)) => {
                ups.push(up);
                downs.push(down);
            }
            None => blocks.push(Block::Batch {
                table: c.table().to_string(),
                up: vec![up],
                down: vec![down],
            }),
        }
    }
    let batch = |table: &str, lines: &mut dyn Iterator<Item = &String>| {
        let body: Vec<String> = lines.map(|l| format!("        {l}")).collect();
        format!(
            "    with op.batch_alter_table({}) as batch_op:\n{}",
            py_str(table),
            body.join("\n")
        )
    };
    let upgrade: Vec<String> = blocks
        .iter()
        .map(|b| match b {
            Block::Create { up, .. } => up.clone(),
            Block::Batch { table, up, .. } => batch(table, &mut up.iter()),
        })
        .collect();
    let downgrade: Vec<String> = blocks
        .iter()
        .rev()
        .map(|b| match b {
            Block::Create { down, .. } => down.clone(),
            Block::Batch { table, down, .. } => batch(table, &mut down.iter().rev()),
        })
        .collect();
    let body = |parts: &[String]| {
        if parts.is_empty() {
            "    pass  # write the change here, in batch mode for SQLite".to_string()
        } else {
            parts.join("\n")
        }
    };
    let what = title.trim_end_matches('.');
    let mut chars = what.chars();
    let undo = match chars.next() {
        Some(f) => format!("Undo: {}{}.", f.to_lowercase(), chars.as_str()),
        None => "Undo.".to_string(),
    };
    format!(
        "\"\"\"{title}\n\nRevision ID: {revision}\nRevises: {revises}\nCreate Date: {date}\n\"\"\"\n\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision = {rev}\ndown_revision = {down_rev}\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade() -> None:\n    \"\"\"{title}\"\"\"\n{upgrade}\n\n\ndef downgrade() -> None:\n    \"\"\"{undo}\"\"\"\n{downgrade}\n",
        revises = parent.unwrap_or(""),
        date = today(),
        rev = py_str(revision),
        down_rev = parent.map(py_str).unwrap_or_else(|| "None".into()),
        upgrade = body(&upgrade),
        downgrade = body(&downgrade),
    )
}

/// The SQL of each change: (apply, rollback), in apply order.
fn sql_statements(changes: &[Change]) -> Vec<(String, String)> {
    changes
        .iter()
        .map(|c| match c {
            Change::CreateTable { table, columns } => {
                let mut cols = vec!["id TEXT PRIMARY KEY".to_string()];
                cols.extend(columns.iter().map(NewColumn::sql));
                cols.push(format!("created_at {TIMESTAMP_SQL}"));
                cols.push(format!("updated_at {TIMESTAMP_SQL}"));
                (
                    format!(
                        "CREATE TABLE IF NOT EXISTS {table} (\n    {}\n)",
                        cols.join(",\n    ")
                    ),
                    format!("DROP TABLE IF EXISTS {table}"),
                )
            }
            Change::AddColumn { table, column } => (
                format!("ALTER TABLE {table} ADD COLUMN {}", column.sql()),
                format!("ALTER TABLE {table} DROP COLUMN {}", column.name),
            ),
            Change::AddIndex { table, column } => (
                format!("CREATE INDEX IF NOT EXISTS idx_{table}_{column} ON {table}({column})"),
                format!("DROP INDEX IF EXISTS idx_{table}_{column}"),
            ),
            Change::AddForeignKey { .. } => unreachable!("yoyo foreign keys are column references"),
        })
        .collect()
}

/// yoyo `.py`: one step per statement (SQLite runs one statement per
/// execute), each with its rollback.
fn yoyo_py_file(title: &str, depends: Option<&str>, changes: &[Change]) -> String {
    let indent = |sql: &str, by: &str| -> String {
        sql.lines()
            .map(|l| format!("{by}{l}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut steps = Vec::new();
    for (apply, rollback) in sql_statements(changes) {
        let apply = if apply.contains('\n') {
            format!("\"\"\"\n{}\n        \"\"\"", indent(&apply, "        "))
        } else {
            py_str(&apply)
        };
        steps.push(format!(
            "    step(\n        # Apply\n        {apply},\n        # Rollback\n        {},\n    ),",
            py_str(&rollback)
        ));
    }
    let depends = depends
        .map(|d| format!("\n__depends__ = {{{}}}\n", py_str(d)))
        .unwrap_or_default();
    let steps = if steps.is_empty() {
        "    # step(\"<apply SQL>\", \"<rollback SQL>\"),".to_string()
    } else {
        steps.join("\n")
    };
    format!(
        "\"\"\"\n{}\n\"\"\"\nfrom yoyo import step\n{depends}\nsteps = [\n{steps}\n]\n",
        title.trim_end_matches('.')
    )
}

/// yoyo `.sql` + `.rollback.sql` (the rollback undoes in reverse order).
fn yoyo_sql_files(title: &str, depends: Option<&str>, changes: &[Change]) -> (String, String) {
    let header = format!(
        "-- {}\n{}",
        title.trim_end_matches('.'),
        depends
            .map(|d| format!("-- depends: {d}\n"))
            .unwrap_or_default()
    );
    let (apply, rollback) = sql_bodies(changes);
    (
        format!("{header}\n{apply}"),
        format!("{header}\n{rollback}"),
    )
}

/// The SQL that applies `changes` and the SQL that undoes them (last
/// change first), or a comment saying what to write there.
fn sql_bodies(changes: &[Change]) -> (String, String) {
    let statements = sql_statements(changes);
    let apply: Vec<String> = statements.iter().map(|(a, _)| format!("{a};")).collect();
    let rollback: Vec<String> = statements
        .iter()
        .rev()
        .map(|(_, r)| format!("{r};"))
        .collect();
    let or_note = |v: Vec<String>, what: &str| {
        if v.is_empty() {
            format!("-- {what}\n")
        } else {
            v.join("\n\n") + "\n"
        }
    };
    (
        or_note(apply, "write the change here"),
        or_note(rollback, "undo the change here"),
    )
}

#[derive(clap::Args, Debug)]
pub struct NewArgs {
    /// What the migration does, e.g. "add status to memories".
    pub description: String,
    /// The project or migrations folder (default: the current folder).
    #[arg(long, value_name = "PATH")]
    pub dir: Option<PathBuf>,
    /// Create a table with id, created_at and updated_at.
    #[arg(long, value_name = "NAME")]
    pub create_table: Vec<String>,
    /// Add a column: `table.column:TYPE` (String, Integer, DateTime, TEXT...).
    #[arg(long, value_name = "TABLE.COLUMN:TYPE")]
    pub add_column: Vec<String>,
    /// The added columns are nullable.
    #[arg(long)]
    pub nullable: bool,
    /// The added columns are NOT NULL with this server default.
    #[arg(long, value_name = "VALUE")]
    pub default: Option<String>,
    /// Index the added columns.
    #[arg(long)]
    pub index: bool,
    /// Add an index: `table.column`.
    #[arg(long, value_name = "TABLE.COLUMN")]
    pub add_index: Vec<String>,
    /// Add a foreign key (and its column and index when new):
    /// `table.column:other.column`.
    #[arg(long, value_name = "TABLE.COLUMN:OTHER.COLUMN")]
    pub add_fk: Vec<String>,
    /// yoyo: write `.sql` + `.rollback.sql` (default: as the last migration).
    #[arg(long, conflicts_with = "python")]
    pub sql: bool,
    /// yoyo: write a `.py` file with steps (default: as the last migration).
    #[arg(long)]
    pub python: bool,
    /// Print the file instead of writing it.
    #[arg(long)]
    pub dry_run: bool,
    /// Read this configuration file instead of searching for one.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// `miglint new`.
pub fn command(args: NewArgs, out: &mut dyn Write) -> Result<i32, ConfigError> {
    let (cwd, settings) = super::settings(args.config.as_deref())?;
    let path = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let discovery = crate::project::discover::discover(&settings, std::slice::from_ref(&path))?;
    let loaded = crate::analysis::analyse(&settings, discovery, crate::analysis::Wanted::default());
    let set = match loaded.sets.as_slice() {
        [one] => one,
        [] => {
            return Err(ConfigError(format!(
                "no migrations found in {} (miglint reads Alembic, yoyo, sqlx, diesel, refinery, golang-migrate and dbmate folders)",
                path.display()
            )));
        }
        many => {
            let dirs: Vec<String> = many
                .iter()
                .map(|s| crate::paths::display_path(&s.dir, Some(&cwd)))
                .collect();
            return Err(ConfigError(format!(
                "several migration folders ({}): pick one with --dir",
                dirs.join(", ")
            )));
        }
    };
    let request = Request {
        description: args.description,
        create_tables: args.create_table,
        add_columns: args.add_column,
        nullable: args.nullable,
        default: args.default,
        index: args.index,
        add_indexes: args.add_index,
        add_fks: args.add_fk,
        sql: if args.sql {
            Some(true)
        } else if args.python {
            Some(false)
        } else {
            None
        },
    };
    let plan = plan(set, &request)?;
    let shown = |p: &std::path::Path| crate::paths::display_path(p, Some(&cwd));
    if args.dry_run {
        for (p, text) in &plan.files {
            if plan.files.len() > 1 {
                writeln!(out, "-- {}", shown(p)).map_err(io)?;
            }
            write!(out, "{text}").map_err(io)?;
        }
        return Ok(EXIT_CLEAN);
    }
    for (p, _) in &plan.files {
        if p.exists() {
            return Err(ConfigError(format!(
                "{} already exists; miglint new never overwrites a file",
                shown(p)
            )));
        }
    }
    for (p, text) in &plan.files {
        if let Some(folder) = p.parent().filter(|f| !f.exists()) {
            // diesel: each migration has a folder of its own.
            std::fs::create_dir_all(folder)
                .map_err(|e| ConfigError(format!("cannot create {}: {e}", shown(folder))))?;
        }
        crate::write::write_atomically(p, text, false)
            .map_err(|e| ConfigError(format!("cannot write {}: {e}", shown(p))))?;
    }
    let names: Vec<String> = plan.files.iter().map(|(p, _)| shown(p)).collect();
    let revises = match &plan.parent {
        Some(p) => format!("after {p}"),
        None => "the first migration".to_string(),
    };
    writeln!(
        out,
        "Created {} ({}, {revises}).",
        names.join(" and "),
        plan.revision
    )
    .map_err(io)?;
    // The new file must pass the linter it comes from.
    let rule_set = RuleSet::build(&settings, &[], &[])?;
    let discovery = crate::project::discover::discover(&settings, std::slice::from_ref(&path))?;
    let outcome = super::lint::run(&settings, &rule_set, discovery);
    let new_files: Vec<&std::path::Path> = plan.files.iter().map(|(p, _)| p.as_path()).collect();
    let mut rules_hit: Vec<&str> = outcome
        .diagnostics
        .iter()
        .filter(|d| new_files.contains(&outcome.sources.get(d.span.file).path.as_path()))
        .map(|d| d.rule)
        .collect();
    rules_hit.sort_unstable();
    rules_hit.dedup();
    if !rules_hit.is_empty() {
        writeln!(
            out,
            "note: it does not pass yet: {} (`miglint lint` shows why)",
            rules_hit.join(", ")
        )
        .map_err(io)?;
    }
    writeln!(out, "\nNext steps:").map_err(io)?;
    writeln!(
        out,
        "  1. Review it, and fill in anything the options did not say"
    )
    .map_err(io)?;
    for (i, step) in plan.next_steps.iter().enumerate() {
        writeln!(out, "  {}. {step}", i + 2).map_err(io)?;
    }
    Ok(EXIT_CLEAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_become_snake_case_file_names() {
        assert_eq!(
            snake_case("Add status column to memories"),
            "add_status_column_to_memories"
        );
        assert_eq!(snake_case("  Users: add e-mail!  "), "users_add_e_mail");
        assert_eq!(snake_case("!!!"), "");
        assert!(snake_case(&"long words ".repeat(20)).len() <= 60);
    }

    #[test]
    fn dates_from_days_since_the_epoch() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(20_415), (2025, 11, 23));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn types_are_written_for_each_flavour() {
        let t = column_type("String(50)").unwrap();
        assert_eq!(
            (t.alembic.as_str(), t.sql.as_str()),
            ("sa.String(50)", "TEXT")
        );
        let t = column_type("INTEGER").unwrap();
        assert_eq!(
            (t.alembic.as_str(), t.sql.as_str()),
            ("sa.Integer()", "INTEGER")
        );
        let t = column_type("sa.Boolean").unwrap();
        assert_eq!(
            (t.alembic.as_str(), t.sql.as_str()),
            ("sa.Boolean()", "INTEGER")
        );
        let t = column_type("datetime").unwrap();
        assert_eq!(t.alembic, "sa.DateTime()");
        assert!(column_type("Money").is_err());
    }
}
