//! Which columns the application filters, joins or sorts on.
//!
//! Read from the project's Python and SQL files outside the migration
//! folders: SQL string literals passed to `text(...)`, `execute(...)` and
//! friends (WHERE, JOIN ... ON and ORDER BY columns, resolved through FROM
//! aliases), and SQLAlchemy expressions on declarative models
//! (`.where(User.email == x)`, `.filter(...)`, `.order_by(...)`,
//! `.filter_by(email=x)`).

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use ruff_python_ast::visitor::{Visitor, walk_expr};
use ruff_python_ast::{Expr, ExprCall, Stmt};
use sqlparser::ast::{Expr as SqlExpr, SetExpr, Statement, TableFactor, TableWithJoins};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;

use crate::load::python::{PyFile, arg, callee_name};
use crate::load::sql::{OffsetMap, object_name};
use crate::source::{FileId, SourceFile, Span};

/// A place where the application filters or sorts on a column.
#[derive(Clone, Debug)]
pub struct ColumnUse {
    pub table: String,
    pub column: String,
    pub span: Span,
    /// Other columns of the same table that the same condition requires
    /// equal to a value (`WHERE id = ? AND owner = ?` gives `owner` the
    /// column `id`): a key among them finds the rows without this column.
    pub alongside: Vec<String>,
}

/// A declarative model: its table and attribute → column names.
#[derive(Clone, Debug, Default)]
pub struct Model {
    pub table: String,
    pub columns: HashMap<String, String>,
}

/// `class X(Base): __tablename__ = "x"` classes of a file.
pub fn models(py: &PyFile) -> Vec<(String, Model)> {
    let mut out = Vec::new();
    for stmt in py.suite() {
        let Stmt::ClassDef(class) = stmt else {
            continue;
        };
        let mut model = Model::default();
        for item in &class.body {
            let (target, value) = match item {
                Stmt::Assign(a) => match a.targets.as_slice() {
                    [t] => (t, &*a.value),
                    _ => continue,
                },
                Stmt::AnnAssign(a) => match &a.value {
                    Some(v) => (&*a.target, &**v),
                    None => continue,
                },
                _ => continue,
            };
            let Expr::Name(name) = target else { continue };
            if name.id.as_str() == "__tablename__" {
                if let Expr::StringLiteral(s) = value {
                    model.table = s.value.to_str().to_string();
                }
                continue;
            }
            if let Expr::Call(call) = value
                && matches!(callee_name(call), Some("Column" | "mapped_column"))
            {
                let column = match call.arguments.args.first() {
                    Some(Expr::StringLiteral(s)) => s.value.to_str().to_string(),
                    _ => name.id.to_string(),
                };
                model.columns.insert(name.id.to_string(), column);
            }
        }
        if !model.table.is_empty() {
            out.push((class.name.id.to_string(), model));
        }
    }
    out
}

/// Calls whose first argument is SQL text.
const SQL_CALLS: &[&str] = &[
    "text",
    "execute",
    "executemany",
    "exec_driver_sql",
    "read_sql",
    "read_sql_query",
];

/// Column uses in one Python file.
pub fn python_uses(py: &PyFile, models: &HashMap<String, Model>) -> Vec<ColumnUse> {
    let mut finder = UseFinder {
        py,
        models,
        out: Vec::new(),
    };
    for stmt in py.suite() {
        finder.visit_stmt(stmt);
    }
    finder.out
}

struct UseFinder<'a, 'f> {
    py: &'a PyFile<'f>,
    models: &'a HashMap<String, Model>,
    out: Vec<ColumnUse>,
}

impl UseFinder<'_, '_> {
    /// `Model.attr == value` terms that `args` (ANDed, as `where` and
    /// `filter` take them, or inside `and_(...)`) require: table and column.
    fn equalities(&self, args: &[Expr]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for a in args {
            match a {
                Expr::Call(c) if callee_name(c) == Some("and_") => {
                    out.extend(self.equalities(&c.arguments.args));
                }
                Expr::Compare(c) if c.ops.len() == 1 && c.ops[0] == ruff_python_ast::CmpOp::Eq => {
                    let (l, r) = (
                        self.model_column(&c.left),
                        self.model_column(&c.comparators[0]),
                    );
                    // A join condition (a column on each side) finds no row
                    // by itself.
                    if let (Some(column), None) | (None, Some(column)) = (l, r) {
                        out.push(column);
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// `Model.attr`: the table and column it stands for.
    fn model_column(&self, expr: &Expr) -> Option<(String, String)> {
        let Expr::Attribute(a) = expr else {
            return None;
        };
        let Expr::Name(n) = &*a.value else {
            return None;
        };
        let model = self.models.get(n.id.as_str())?;
        let column = model.columns.get(a.attr.id.as_str())?;
        Some((model.table.clone(), column.clone()))
    }

    /// `Model.attr` anywhere inside `expr`, with the equalities the same
    /// condition requires.
    fn model_attributes(&mut self, expr: &Expr, equal: &[(String, String)]) {
        struct Attrs<'m> {
            models: &'m HashMap<String, Model>,
            found: Vec<(String, String, ruff_text_size::TextRange)>,
        }
        impl<'a> Visitor<'a> for Attrs<'_> {
            fn visit_expr(&mut self, expr: &'a Expr) {
                if let Expr::Attribute(a) = expr
                    && let Expr::Name(n) = &*a.value
                    && let Some(model) = self.models.get(n.id.as_str())
                {
                    let attr = a.attr.id.as_str();
                    if let Some(column) = model.columns.get(attr) {
                        self.found
                            .push((model.table.clone(), column.clone(), a.range));
                    }
                }
                walk_expr(self, expr);
            }
        }
        let mut v = Attrs {
            models: self.models,
            found: Vec::new(),
        };
        v.visit_expr(expr);
        for (table, column, range) in v.found {
            self.out.push(ColumnUse {
                alongside: alongside(equal, &table, &column),
                table,
                column,
                span: self.py.span(range),
            });
        }
    }

    /// The model a query chain is about: `session.query(User)...` or `select(User)...`.
    fn chain_model(&self, mut expr: &Expr) -> Option<&Model> {
        loop {
            match expr {
                Expr::Call(c) => {
                    if matches!(callee_name(c), Some("query" | "select"))
                        && let Some(Expr::Name(n)) = c.arguments.args.first()
                        && let Some(m) = self.models.get(n.id.as_str())
                    {
                        return Some(m);
                    }
                    expr = &c.func;
                }
                Expr::Attribute(a) => expr = &a.value,
                _ => return None,
            }
        }
    }

    fn call(&mut self, call: &ExprCall) {
        let Some(name) = callee_name(call) else {
            return;
        };
        if SQL_CALLS.contains(&name) {
            if let Some((text, map)) = arg(call, 0, "sql").and_then(|e| self.py.literal_text(e)) {
                self.out.extend(sql_uses(&text, &map, self.py.id));
            }
            return;
        }
        match name {
            "where" | "filter" => {
                let equal = self.equalities(&call.arguments.args);
                for a in call.arguments.args.iter() {
                    self.model_attributes(a, &equal);
                }
            }
            "order_by" => {
                for a in call.arguments.args.iter() {
                    self.model_attributes(a, &[]);
                }
            }
            "filter_by" => {
                let Expr::Attribute(func) = &*call.func else {
                    return;
                };
                let Some(model) = self.chain_model(&func.value).cloned() else {
                    return;
                };
                let table = model.table.clone();
                let named: Vec<(&ruff_python_ast::Keyword, &String)> = call
                    .arguments
                    .keywords
                    .iter()
                    .filter_map(|kw| Some((kw, model.columns.get(kw.arg.as_ref()?.id.as_str())?)))
                    .collect();
                // `filter_by(a=x, b=y)` requires each equal.
                let equal: Vec<(String, String)> = named
                    .iter()
                    .map(|(_, c)| (table.clone(), (*c).clone()))
                    .collect();
                for (kw, column) in named {
                    self.out.push(ColumnUse {
                        table: table.clone(),
                        column: column.clone(),
                        span: self.py.span(kw.range),
                        alongside: alongside(&equal, &table, column),
                    });
                }
            }
            _ => {}
        }
    }
}

impl<'a> Visitor<'a> for UseFinder<'_, '_> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Call(call) = expr {
            self.call(call);
        }
        walk_expr(self, expr);
    }
}

/// The SQL with psycopg's and the DB-API's `pyformat` placeholders (`%s`,
/// `%(name)s`) written as `?` placeholders padded to the same length, so
/// offsets still point into the original text (`%%`, an escaped `%`, is
/// kept as it is).
fn without_pyformat(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('%') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let len = if tail.starts_with("%s") || tail.starts_with("%%") {
            2
        } else if let Some(close) =
            tail.strip_prefix("%(")
                .and_then(|t| t.find(")s"))
                .filter(|&i| {
                    tail[2..2 + i]
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '_')
                })
        {
            close + 4
        } else {
            1
        };
        if len == 1 || tail.starts_with("%%") {
            out.push_str(&tail[..len]);
        } else {
            out.push('?');
            out.extend(std::iter::repeat_n(' ', len - 1));
        }
        rest = &tail[len..];
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// Column uses in SQL text (a literal in Python, or a `.sql` file).
pub fn sql_uses(text: &str, map: &OffsetMap, file: FileId) -> Vec<ColumnUse> {
    let text = &*without_pyformat(text);
    let Ok(statements) = Parser::parse_sql(&SQLiteDialect {}, text) else {
        return Vec::new();
    };
    let lines: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let offset = |loc: sqlparser::tokenizer::Location| -> usize {
        let Some(&start) = lines.get((loc.line as usize).saturating_sub(1)) else {
            return 0;
        };
        text[start..]
            .char_indices()
            .nth((loc.column as usize).saturating_sub(1))
            .map(|(i, _)| start + i)
            .unwrap_or(text.len())
    };
    let mut out = Vec::new();
    for statement in &statements {
        let mut scope = Scope::default();
        let mut exprs: Vec<&SqlExpr> = Vec::new();
        let mut joins = Vec::new();
        let mut order_by = None;
        match statement {
            Statement::Query(q) => {
                if let SetExpr::Select(select) = &*q.body {
                    for twj in &select.from {
                        scope.add(twj);
                        joins.extend(twj.joins.iter());
                    }
                    exprs.extend(select.selection.iter());
                }
                order_by = q.order_by.as_ref();
            }
            Statement::Update(u) => {
                scope.add(&u.table);
                exprs.extend(u.selection.iter());
            }
            Statement::Delete(d) => {
                let (sqlparser::ast::FromTable::WithFromKeyword(t)
                | sqlparser::ast::FromTable::WithoutKeyword(t)) = &d.from;
                for twj in t {
                    scope.add(twj);
                }
                exprs.extend(d.selection.iter());
            }
            _ => continue,
        }
        let resolve = |e: &SqlExpr| -> Option<ColumnUse> {
            let (qualifier, ident) = column_ref(e)?;
            let table = scope.resolve(qualifier)?;
            let start = offset(ident.span.start);
            let end = offset(ident.span.end);
            Some(ColumnUse {
                table,
                column: ident.value.clone(),
                span: Span::new(file, map.to_file(start), map.to_file(end)),
                alongside: Vec::new(),
            })
        };
        // The WHERE clause's `column = value` terms, ANDed at its top.
        let mut equal = Vec::new();
        for e in &exprs {
            sql_equalities(e, &scope, &mut equal);
        }
        let mut filtered = Vec::new();
        for e in &exprs {
            uses(*e, &resolve, &mut filtered);
        }
        for u in &mut filtered {
            u.alongside = alongside(&equal, &u.table, &u.column);
        }
        out.append(&mut filtered);
        for j in joins {
            uses(&j.join_operator, &resolve, &mut out);
        }
        if let Some(ob) = order_by {
            uses(ob, &resolve, &mut out);
        }
    }
    out
}

/// A column named in SQL: its qualifier (a table or alias), if any, and
/// its name.
fn column_ref(e: &SqlExpr) -> Option<(Option<&str>, &sqlparser::ast::Ident)> {
    match e {
        SqlExpr::Identifier(i) => Some((None, i)),
        SqlExpr::CompoundIdentifier(parts) if parts.len() >= 2 => Some((
            Some(parts[parts.len() - 2].value.as_str()),
            &parts[parts.len() - 1],
        )),
        _ => None,
    }
}

/// The columns named in `v`, as `resolve` finds their tables.
fn uses<V: sqlparser::ast::Visit>(
    v: &V,
    resolve: &impl Fn(&SqlExpr) -> Option<ColumnUse>,
    into: &mut Vec<ColumnUse>,
) {
    let _ = sqlparser::ast::visit_expressions(v, |x: &SqlExpr| {
        into.extend(resolve(x));
        ControlFlow::<()>::Continue(())
    });
}

/// The `column = value` terms an SQL condition requires (through `AND`
/// and parentheses, never `OR`): table and column.
fn sql_equalities(e: &SqlExpr, scope: &Scope, out: &mut Vec<(String, String)>) {
    match e {
        SqlExpr::Nested(inner) => sql_equalities(inner, scope, out),
        SqlExpr::BinaryOp { left, op, right } => match op {
            sqlparser::ast::BinaryOperator::And => {
                sql_equalities(left, scope, out);
                sql_equalities(right, scope, out);
            }
            sqlparser::ast::BinaryOperator::Eq => {
                // A column on each side is a join condition.
                if let (Some((q, c)), None) | (None, Some((q, c))) =
                    (column_ref(left), column_ref(right))
                    && let Some(table) = scope.resolve(q)
                {
                    out.push((table, c.value.clone()));
                }
            }
            _ => {}
        },
        _ => {}
    }
}

/// The columns of `table` in `equal`, other than `column`.
fn alongside(equal: &[(String, String)], table: &str, column: &str) -> Vec<String> {
    let mut out: Vec<String> = equal
        .iter()
        .filter(|(t, c)| t.eq_ignore_ascii_case(table) && !c.eq_ignore_ascii_case(column))
        .map(|(_, c)| c.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The tables a statement reads, by alias and by name.
#[derive(Default)]
struct Scope {
    tables: Vec<String>,
    aliases: HashMap<String, String>,
}

impl Scope {
    fn add(&mut self, twj: &TableWithJoins) {
        self.add_factor(&twj.relation);
        for j in &twj.joins {
            self.add_factor(&j.relation);
        }
    }

    fn add_factor(&mut self, f: &TableFactor) {
        if let TableFactor::Table { name, alias, .. } = f {
            let table = object_name(name);
            if let Some(a) = alias {
                self.aliases
                    .insert(a.name.value.to_ascii_lowercase(), table.clone());
            }
            self.aliases
                .insert(table.to_ascii_lowercase(), table.clone());
            self.tables.push(table);
        }
    }

    /// The table a column belongs to: named by its qualifier, or the only
    /// table in scope.
    fn resolve(&self, qualifier: Option<&str>) -> Option<String> {
        match qualifier {
            Some(q) => self.aliases.get(&q.to_ascii_lowercase()).cloned(),
            None if self.tables.len() == 1 => Some(self.tables[0].clone()),
            None => None,
        }
    }
}

/// The results of the scans of a run, kept by a long-running process (the
/// language server) so that the next run, when none of the files it scans
/// changed, takes them as they are instead of parsing every file again.
#[derive(Default)]
pub struct ScanMemo(std::sync::Mutex<HashMap<u64, Scanned>>);

/// What [`scan`] returns: the files read, and the uses found in them.
pub type Scanned = (Vec<SourceFile>, Vec<ColumnUse>);

impl ScanMemo {
    /// [`scan`], answered from the last run when the same files hold the
    /// same bytes (and would be numbered from the same id).
    pub fn scan(
        &self,
        files: &[PathBuf],
        first_id: u32,
        cwd: Option<&Path>,
        read: &(dyn Fn(&Path) -> Option<Vec<u8>> + Sync),
    ) -> Scanned {
        use std::hash::{Hash, Hasher};
        let bytes: Vec<Option<Vec<u8>>> = files.par_iter().map(|p| read(p)).collect();
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (first_id, cwd, files, &bytes).hash(&mut hasher);
        let key = hasher.finish();
        let mut memo = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = memo.get(&key) {
            return found.clone();
        }
        let by_path: HashMap<&Path, &Vec<u8>> = files
            .iter()
            .zip(&bytes)
            .filter_map(|(p, b)| Some((p.as_path(), b.as_ref()?)))
            .collect();
        let found = scan(files, first_id, cwd, &|p| {
            by_path.get(p).map(|b| b.to_vec())
        });
        // A few projects' results are kept; past that, the memo starts over.
        if memo.len() > 8 {
            memo.clear();
        }
        memo.insert(key, found.clone());
        found
    }
}

/// Reads and scans the application files of one project. Returns the new
/// source files (for `SourceDb`) and the uses found, their spans pointing
/// at file ids starting at `first_id`; `read` gives a file's bytes.
pub fn scan(
    files: &[PathBuf],
    first_id: u32,
    cwd: Option<&Path>,
    read: &(dyn Fn(&Path) -> Option<Vec<u8>> + Sync),
) -> (Vec<SourceFile>, Vec<ColumnUse>) {
    let sources: Vec<SourceFile> = files
        .par_iter()
        .filter_map(|p| {
            let bytes = read(p)?;
            Some(SourceFile::from_bytes(
                p,
                crate::paths::display_path(p, cwd),
                &bytes,
            ))
        })
        .collect();
    let parsed: Vec<Option<PyFile>> = sources
        .par_iter()
        .enumerate()
        .map(|(i, f)| {
            f.path
                .extension()
                .is_some_and(|e| e == "py")
                .then(|| PyFile::parse(f, FileId(first_id + i as u32)))
        })
        .collect();
    let models: HashMap<String, Model> = parsed.iter().flatten().flat_map(models).collect();
    let uses: Vec<ColumnUse> = parsed
        .par_iter()
        .enumerate()
        .flat_map_iter(|(i, py)| match py {
            Some(py) => python_uses(py, &models),
            None => sql_uses(
                &sources[i].text,
                &OffsetMap::identity_at(0),
                FileId(first_id + i as u32),
            ),
        })
        .collect();
    drop(parsed);
    (sources, uses)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memo_answers_unchanged_files_and_rescans_changed_ones() {
        let files = vec![PathBuf::from("app/q.sql")];
        let text = std::sync::Mutex::new("SELECT * FROM users WHERE email = 1".to_string());
        let read = |_: &Path| Some(text.lock().unwrap().clone().into_bytes());
        let reads = std::sync::atomic::AtomicUsize::new(0);
        let counted = |p: &Path| {
            reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            read(p)
        };
        let memo = ScanMemo::default();
        let columns =
            |s: &Scanned| -> Vec<String> { s.1.iter().map(|u| u.column.clone()).collect() };
        let first = memo.scan(&files, 3, None, &counted);
        assert_eq!(columns(&first), ["email"]);
        assert_eq!(first.1[0].span.file, FileId(3));
        let again = memo.scan(&files, 3, None, &counted);
        assert_eq!(columns(&again), ["email"]);
        assert_eq!(memo.0.lock().unwrap().len(), 1, "answered from the memo");
        // Numbered from another id: scanned again, spans renumbered.
        assert_eq!(
            memo.scan(&files, 4, None, &counted).1[0].span.file,
            FileId(4)
        );
        *text.lock().unwrap() = "SELECT * FROM users WHERE name = 1".into();
        assert_eq!(columns(&memo.scan(&files, 3, None, &counted)), ["name"]);
        assert_eq!(reads.load(std::sync::atomic::Ordering::Relaxed), 4);
    }

    fn uses_in(sql: &str) -> Vec<(String, String)> {
        sql_uses(sql, &OffsetMap::identity_at(0), FileId(0))
            .into_iter()
            .map(|u| (u.table, u.column))
            .collect()
    }

    #[test]
    fn where_join_and_order_by_columns_resolve_through_aliases() {
        let found = uses_in(
            "SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.user_id = :u ORDER BY m.created_at DESC",
        );
        for want in [
            ("conversations", "id"),
            ("messages", "conversation_id"),
            ("conversations", "user_id"),
            ("messages", "created_at"),
        ] {
            assert!(
                found.contains(&(want.0.to_string(), want.1.to_string())),
                "{want:?} not in {found:?}"
            );
        }
        assert_eq!(
            uses_in("UPDATE tasks SET done = 1 WHERE owner = ?"),
            [("tasks".to_string(), "owner".to_string())]
        );
    }

    #[test]
    fn pyformat_placeholders_are_parameters() {
        assert_eq!(
            uses_in("SELECT id FROM orders WHERE email = %s AND note LIKE 'a%%'"),
            [
                ("orders".to_string(), "email".to_string()),
                ("orders".to_string(), "note".to_string())
            ]
        );
        assert_eq!(
            uses_in("SELECT id FROM orders WHERE status = %(status)s ORDER BY created_at"),
            [
                ("orders".to_string(), "status".to_string()),
                ("orders".to_string(), "created_at".to_string())
            ]
        );
    }

    /// The equalities each use stands beside, the way the rule sees them.
    fn alongside_in(sql: &str) -> Vec<(String, Vec<String>)> {
        sql_uses(sql, &OffsetMap::identity_at(0), FileId(0))
            .into_iter()
            .map(|u| (u.column, u.alongside))
            .collect()
    }

    #[test]
    fn equalities_anded_in_the_where_clause_are_kept_beside_each_use() {
        let v = |s: &[&str]| s.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        assert_eq!(
            alongside_in("UPDATE auth SET mfa = ? WHERE id = ? AND (password = ? AND active)"),
            [
                ("id".to_string(), v(&["password"])),
                ("password".to_string(), v(&["id"])),
                ("active".to_string(), v(&["id", "password"])),
            ]
        );
        // Never through OR, never a join condition, never for ORDER BY.
        assert_eq!(
            alongside_in("SELECT 1 FROM t WHERE id = ? OR owner = ? ORDER BY at"),
            [
                ("id".to_string(), v(&[])),
                ("owner".to_string(), v(&[])),
                ("at".to_string(), v(&[]))
            ]
        );
        let joined =
            alongside_in("SELECT 1 FROM a JOIN b ON b.a_id = a.id WHERE a.id = ? AND b.x = 1");
        assert!(joined.contains(&("x".to_string(), v(&[]))), "{joined:?}");
    }

    #[test]
    fn unqualified_columns_with_several_tables_are_not_guessed() {
        let found = uses_in("SELECT 1 FROM a, b WHERE x = 1");
        assert!(found.is_empty(), "{found:?}");
    }
}
