//! Alembic revisions: `revision`, `down_revision`, the docstring header,
//! and the `op.*` calls of `upgrade()` / `downgrade()`, batch mode included.

use ruff_python_ast::{Expr, ExprCall, Stmt};
use ruff_text_size::Ranged;

use crate::load::python::{
    PyFile, arg, assignments, bool_value, callee_name, is_trivial_body, keyword, method_call,
    named_list, str_list, str_value,
};
use crate::migration::{
    Column, ColumnChanges, ConstraintKind, Flavour, ForeignKeyRef, IndexDef, Migration, Named,
    OpKind, OpaqueKind, Operation, Parents, Rollback, Step, TableConstraint,
};
use crate::project::config::Dialect;
use crate::source::{FileId, SourceFile};

pub fn load(file: &SourceFile, id: FileId, stem: String, dialect: Dialect) -> Migration {
    let py = PyFile::parse(file, id);
    let mut m = Migration::new(id, Flavour::Alembic, stem);
    m.problems = py.syntax_problems();
    m.ops_unknown = !m.problems.is_empty();
    m.suppressions = py.suppressions();
    m.docstring = py.docstring();

    for (name, range, value) in assignments(py.suite()) {
        match name {
            "revision" => {
                if let Some(s) = str_value(value) {
                    m.id = Some(Named {
                        name: s,
                        span: py.span(value.range()),
                    });
                }
            }
            "down_revision" => {
                m.parents_span = Some(py.span(range));
                m.parents = match value {
                    Expr::NoneLiteral(_) => Parents::Root,
                    _ => match named_list(&py, value) {
                        Some(list) if list.is_empty() => Parents::Root,
                        Some(list) => Parents::Of(list),
                        None => Parents::Unknown(py.span(value.range())),
                    },
                };
            }
            _ => {}
        }
    }

    let mut upgrade = None;
    let mut downgrade = None;
    for stmt in py.suite() {
        if let Stmt::FunctionDef(f) = stmt {
            match f.name.id.as_str() {
                "upgrade" => upgrade = Some(f),
                "downgrade" => downgrade = Some(f),
                _ => {}
            }
        }
    }
    if let Some(up) = upgrade {
        let mut reader = OpReader {
            py: &py,
            dialect,
            ops: Vec::new(),
            problems: Vec::new(),
            suppressions: Vec::new(),
        };
        reader.body(&up.body, None);
        let apply = std::mem::take(&mut reader.ops);
        let rollback = match downgrade {
            None => Rollback::Missing,
            Some(down) if is_trivial_body(&down.body) => Rollback::Empty {
                span: py.span(down.name.range()),
                why: "its body is only `pass`, `...` or a docstring",
            },
            Some(down) => {
                reader.body(&down.body, None);
                Rollback::Ops {
                    span: py.span(down.name.range()),
                    ops: std::mem::take(&mut reader.ops),
                }
            }
        };
        m.problems.extend(reader.problems);
        m.suppressions.extend(reader.suppressions);
        m.steps.push(Step {
            span: py.span(up.name.range()),
            apply,
            apply_does_work: !is_trivial_body(&up.body),
            rollback,
        });
    }
    m
}

struct OpReader<'a, 'f> {
    py: &'a PyFile<'f>,
    dialect: Dialect,
    ops: Vec<Operation>,
    problems: Vec<crate::migration::LoadProblem>,
    suppressions: Vec<crate::migration::SuppressionComment>,
}

/// The table and alias of an enclosing `with op.batch_alter_table(...) as alias:`.
type Batch<'a> = Option<(String, &'a str)>;

impl<'a> OpReader<'a, '_> {
    fn body(&mut self, body: &'a [Stmt], batch: Batch<'a>) {
        for stmt in body {
            match stmt {
                Stmt::With(w) => {
                    let mut inner = batch.clone();
                    for item in &w.items {
                        if let Expr::Call(call) = &item.context_expr
                            && let Some(("op", "batch_alter_table")) = method_call(call)
                            && let Some(table) = arg(call, 0, "table_name").and_then(str_value)
                            && let Some(Expr::Name(alias)) = item.optional_vars.as_deref()
                        {
                            inner = Some((table, alias.id.as_str()));
                        }
                    }
                    self.body(&w.body, inner);
                }
                Stmt::Expr(e) => self.expr(&e.value, &batch),
                Stmt::Assign(a) => self.expr(&a.value, &batch),
                Stmt::If(s) => {
                    self.body(&s.body, batch.clone());
                    for clause in &s.elif_else_clauses {
                        self.body(&clause.body, batch.clone());
                    }
                }
                Stmt::For(s) => self.body(&s.body, batch.clone()),
                Stmt::While(s) => self.body(&s.body, batch.clone()),
                Stmt::Try(s) => {
                    self.body(&s.body, batch.clone());
                    for h in &s.handlers {
                        let ruff_python_ast::ExceptHandler::ExceptHandler(h) = h;
                        self.body(&h.body, batch.clone());
                    }
                    self.body(&s.orelse, batch.clone());
                    self.body(&s.finalbody, batch.clone());
                }
                Stmt::Pass(_) | Stmt::Import(_) | Stmt::ImportFrom(_) => {}
                other => self.python(other.range(), "Python code"),
            }
        }
    }

    fn python(&mut self, range: ruff_text_size::TextRange, note: &str) {
        self.ops.push(Operation {
            kind: OpKind::Opaque {
                what: OpaqueKind::Python,
                note: note.to_string(),
            },
            span: self.py.span(range),
            in_batch: false,
            sql: None,
            call: None,
        });
    }

    fn expr(&mut self, expr: &'a Expr, batch: &Batch<'a>) {
        match expr {
            Expr::Call(call) => self.call(call, batch),
            Expr::StringLiteral(_) | Expr::EllipsisLiteral(_) => {}
            other => self.python(other.range(), "Python code"),
        }
    }

    fn call(&mut self, call: &'a ExprCall, batch: &Batch<'a>) {
        let Some((receiver, method)) = method_call(call) else {
            self.python(call.range(), "a call miglint does not model");
            return;
        };
        let (table, in_batch) = match batch {
            Some((table, alias)) if receiver == *alias => (Some(table.clone()), true),
            _ if receiver == "op" => (None, false),
            _ => {
                self.python(call.range(), "a call miglint does not model");
                return;
            }
        };
        // Batch methods drop the table argument: shift positions by one.
        let shift = usize::from(!in_batch);
        let table_arg = |name: &str| -> String {
            table
                .clone()
                .or_else(|| arg(call, 0, name).and_then(str_value))
                .unwrap_or_default()
        };
        let s = |i: usize, name: &str| arg(call, i, name).and_then(str_value).unwrap_or_default();
        let strs = |i: usize, name: &str| arg(call, i, name).and_then(str_list).unwrap_or_default();
        let kind = match method {
            "create_table" if !in_batch => {
                let name = s(0, "table_name");
                let mut columns = Vec::new();
                let mut constraints = Vec::new();
                for a in call.arguments.args.iter().skip(1) {
                    if let Expr::Call(c) = a {
                        if let Some(col) = self.column(c) {
                            columns.push(col);
                        } else if let Some(con) = constraint(c) {
                            constraints.push(con);
                        }
                    }
                }
                OpKind::CreateTable {
                    name,
                    columns,
                    constraints,
                }
            }
            "drop_table" if !in_batch => OpKind::DropTable {
                name: s(0, "table_name"),
            },
            "rename_table" if !in_batch => OpKind::RenameTable {
                from: s(0, "old_table_name"),
                to: s(1, "new_table_name"),
            },
            "add_column" => {
                let col = arg(call, shift, "column").and_then(|c| match c {
                    Expr::Call(c) => self.column(c),
                    _ => None,
                });
                match col {
                    Some(column) => OpKind::AddColumn {
                        table: table_arg("table_name"),
                        column,
                    },
                    None => opaque_call(method),
                }
            }
            "drop_column" => OpKind::DropColumn {
                table: table_arg("table_name"),
                column: s(shift, "column_name"),
            },
            "alter_column" => {
                let mut changes = ColumnChanges {
                    new_name: keyword(call, "new_column_name").and_then(str_value),
                    type_name: keyword(call, "type_").map(|t| self.py.text(t.range()).to_string()),
                    nullable: keyword(call, "nullable").and_then(bool_value),
                    default: None,
                };
                if let Some(d) = keyword(call, "server_default") {
                    changes.default = Some(match d {
                        Expr::NoneLiteral(_) => None,
                        other => Some(self.py.text(other.range()).to_string()),
                    });
                }
                OpKind::AlterColumn {
                    table: table_arg("table_name"),
                    column: s(shift, "column_name"),
                    changes,
                }
            }
            "create_index" => {
                let where_clause = keyword(call, "sqlite_where")
                    .or_else(|| keyword(call, "postgresql_where"))
                    .map(|w| self.py.text(w.range()).to_string());
                OpKind::CreateIndex(IndexDef {
                    name: arg(call, 0, "index_name").and_then(str_value),
                    table: table.clone().unwrap_or_else(|| s(1, "table_name")),
                    columns: strs(1 + shift, "columns"),
                    unique: keyword(call, "unique")
                        .and_then(bool_value)
                        .unwrap_or(false),
                    where_clause,
                })
            }
            "drop_index" => OpKind::DropIndex {
                name: s(0, "index_name"),
                table: table
                    .clone()
                    .or_else(|| arg(call, 1, "table_name").and_then(str_value)),
            },
            "create_foreign_key" => OpKind::AddConstraint {
                table: table.clone().unwrap_or_else(|| s(1, "source_table")),
                constraint: TableConstraint {
                    name: arg(call, 0, "constraint_name").and_then(str_value),
                    kind: ConstraintKind::ForeignKey(ForeignKeyRef {
                        table: s(1 + shift, "referent_table"),
                        columns: strs(3 + shift, "remote_cols"),
                    }),
                    columns: strs(2 + shift, "local_cols"),
                },
            },
            "create_unique_constraint" | "create_primary_key" | "create_check_constraint" => {
                let kind = match method {
                    "create_unique_constraint" => ConstraintKind::Unique,
                    "create_primary_key" => ConstraintKind::PrimaryKey,
                    _ => ConstraintKind::Check,
                };
                let columns = if kind == ConstraintKind::Check {
                    Vec::new()
                } else {
                    strs(1 + shift, "columns")
                };
                OpKind::AddConstraint {
                    table: table.clone().unwrap_or_else(|| s(1, "table_name")),
                    constraint: TableConstraint {
                        name: arg(call, 0, "constraint_name").and_then(str_value),
                        kind,
                        columns,
                    },
                }
            }
            "drop_constraint" => OpKind::DropConstraint {
                table: table.clone().unwrap_or_else(|| s(1, "table_name")),
                name: s(0, "constraint_name"),
            },
            "execute" => {
                self.execute(call, in_batch);
                return;
            }
            "bulk_insert" => OpKind::Data {
                statement: "INSERT".into(),
            },
            other => opaque_call(other),
        };
        self.ops.push(Operation {
            kind,
            span: self.py.span(call.range()),
            in_batch,
            sql: None,
            call: Some(method.to_string()),
        });
    }

    /// `op.execute("SQL")` or `op.execute(sa.text("SQL"))`: the SQL is read
    /// like any other, with offsets into this file.
    fn execute(&mut self, call: &'a ExprCall, in_batch: bool) {
        let mut sql_expr = arg(call, 0, "sqltext");
        if let Some(Expr::Call(inner)) = sql_expr
            && callee_name(inner) == Some("text")
        {
            sql_expr = arg(inner, 0, "text");
        }
        let Some((text, map)) = sql_expr.and_then(|e| self.py.literal_text(e)) else {
            self.ops.push(Operation {
                kind: OpKind::Opaque {
                    what: OpaqueKind::DynamicSql,
                    note: "SQL built at run time".into(),
                },
                span: self.py.span(call.range()),
                in_batch,
                sql: None,
                call: Some("execute".into()),
            });
            return;
        };
        let out = self.py.read_sql(&text, &map, self.dialect);
        for mut op in out.ops {
            op.in_batch = in_batch;
            op.call = Some("execute".into());
            self.ops.push(op);
        }
        self.problems.extend(out.problems);
        self.suppressions.extend(out.suppressions);
    }

    /// `sa.Column("name", sa.Type(), sa.ForeignKey("t.id"), nullable=..., ...)`.
    fn column(&self, call: &ExprCall) -> Option<Column> {
        if callee_name(call) != Some("Column") {
            return None;
        }
        let args = &call.arguments.args;
        let name = args.first().and_then(str_value)?;
        let mut type_name = None;
        let mut references = None;
        for a in args.iter().skip(1) {
            match a {
                Expr::Call(c) if callee_name(c) == Some("ForeignKey") => {
                    let target = arg(c, 0, "column").and_then(str_value).unwrap_or_default();
                    let (table, col) = target.rsplit_once('.').unwrap_or((&target, "id"));
                    references = Some(ForeignKeyRef {
                        table: table.to_string(),
                        columns: vec![col.to_string()],
                    });
                }
                other if type_name.is_none() => {
                    type_name = Some(self.py.text(other.range()).to_string())
                }
                _ => {}
            }
        }
        if let Some(t) = keyword(call, "type_") {
            type_name = Some(self.py.text(t.range()).to_string());
        }
        let primary_key = keyword(call, "primary_key")
            .and_then(bool_value)
            .unwrap_or(false);
        Some(Column {
            name,
            type_name,
            nullable: keyword(call, "nullable")
                .and_then(bool_value)
                .unwrap_or(!primary_key),
            default: keyword(call, "server_default").map(|d| self.py.text(d.range()).to_string()),
            primary_key,
            unique: keyword(call, "unique")
                .and_then(bool_value)
                .unwrap_or(false),
            references,
            span: self.py.span(call.range()),
        })
    }
}

fn opaque_call(method: &str) -> OpKind {
    OpKind::Opaque {
        what: OpaqueKind::Python,
        note: format!("op.{method} is not modelled"),
    }
}

/// `sa.PrimaryKeyConstraint`, `sa.UniqueConstraint`, `sa.ForeignKeyConstraint`, `sa.CheckConstraint`.
fn constraint(call: &ExprCall) -> Option<TableConstraint> {
    let name = keyword(call, "name").and_then(str_value);
    let positional: Vec<String> = call.arguments.args.iter().filter_map(str_value).collect();
    Some(match callee_name(call)? {
        "PrimaryKeyConstraint" => TableConstraint {
            name,
            kind: ConstraintKind::PrimaryKey,
            columns: positional,
        },
        "UniqueConstraint" => TableConstraint {
            name,
            kind: ConstraintKind::Unique,
            columns: positional,
        },
        "CheckConstraint" => TableConstraint {
            name,
            kind: ConstraintKind::Check,
            columns: Vec::new(),
        },
        "ForeignKeyConstraint" => {
            let local = arg(call, 0, "columns")
                .and_then(str_list)
                .unwrap_or_default();
            let remote = arg(call, 1, "refcolumns")
                .and_then(str_list)
                .unwrap_or_default();
            let table = remote
                .first()
                .and_then(|r| r.rsplit_once('.'))
                .map(|(t, _)| t.to_string())
                .unwrap_or_default();
            TableConstraint {
                name,
                kind: ConstraintKind::ForeignKey(ForeignKeyRef {
                    table,
                    columns: remote
                        .iter()
                        .map(|r| r.rsplit_once('.').map(|(_, c)| c).unwrap_or(r).to_string())
                        .collect(),
                }),
                columns: local,
            }
        }
        _ => return None,
    })
}
