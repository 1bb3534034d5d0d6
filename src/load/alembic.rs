//! Alembic revisions: `revision`, `down_revision`, the docstring header,
//! and the `op.*` calls of `upgrade()` / `downgrade()`, batch mode included.

use std::cell::Cell;
use std::collections::HashMap;

use ruff_python_ast::visitor::{Visitor, walk_expr};
use ruff_python_ast::{Expr, ExprCall, Stmt, StmtFunctionDef};
use ruff_text_size::Ranged;

use crate::load::eval::{
    Cond, Env, Evaluator, Functions, Value, bind_target, listed_exists, root_name,
};
use crate::load::imports::{
    Imported, MappedColumns, ProjectType, mapped_columns, table_name, type_decorator_impl,
};

use crate::load::python::{
    PyFile, arg, assignments, bool_value, callee_name, is_trivial_body, keyword, method_call,
    named_list, str_value,
};
use crate::migration::{
    Column, ColumnChanges, ConstraintKind, Exists, Flavour, ForeignKeyRef, Guard, IndexDef,
    Migration, Named, Online, OpKind, OpaqueKind, Operation, Parents, Reach, Rollback, Step,
    TableConstraint,
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
    m.missing_attributes = super::attributes::missing(&py);

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
        let imported = Imported::read(&file.path, py.suite());
        m.reads_other_files = imported.looked;
        let mut reader = OpReader::new(&py, dialect);
        reader.imported = imported.functions();
        reader.types = imported.types();
        reader.class_types = imported.class_types();
        for (name, value) in imported.constants(dialect) {
            reader.env.bind(name, Some(value));
        }
        for (name, table, columns) in imported.tables() {
            reader.env.bind(name, Some(Value::Model(table)));
            reader.model_columns.insert(name, columns);
        }
        reader.module(py.suite());
        reader.function(&up.body);
        let apply = std::mem::take(&mut reader.ops);
        let rollback = match downgrade {
            None => Rollback::Missing,
            Some(down) if is_trivial_body(&down.body) => Rollback::Empty {
                span: py.span(down.name.range()),
                why: "its body is only `pass`, `...` or a docstring",
            },
            // `raise Exception("no downgrade is possible")`: the rollback
            // stops before it undoes anything.
            Some(down) if raises_first(&down.body) => Rollback::Empty {
                span: py.span(down.name.range()),
                why: "it raises before it undoes anything, and Alembic stops there",
            },
            Some(down) => {
                reader.function(&down.body);
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
    /// Constants of the module and of the functions being read.
    env: Env,
    /// Functions of the file a migration may call: `def` at module level
    /// and inside the function being read.
    functions: HashMap<&'a str, &'a StmtFunctionDef>,
    /// Helpers imported from the project's other files: only what they
    /// return is read.
    imported: Functions<'a>,
    /// The naming convention of the enclosing `batch_alter_table`, if it
    /// gives one.
    batch_convention: Convention,
    /// Inside `with op.get_context().autocommit_block():`.
    autocommit: bool,
    /// Column types defined in this file or imported from the project's
    /// (`TypeDecorator` subclasses and aliases), by name.
    types: HashMap<&'a str, ProjectType<'a>>,
    /// Column types imported classes hold, by class and attribute
    /// (`MySQLCompatabilityTypes.UniqueText`).
    class_types: HashMap<(&'a str, &'a str), ProjectType<'a>>,
    /// The columns of the mapped classes defined in this file or imported,
    /// by class name and attribute (`SqlTraceInfo.request_id`).
    model_columns: HashMap<&'a str, MappedColumns>,
    /// When the code being read runs: `Maybe` inside an undecided `if`, a
    /// loop over what miglint cannot list, a `try` block; `If` under an
    /// inspector check.
    reach: Reach,
    /// Inspector checks read so far (numbers their `Reach::If`).
    checks: u32,
    /// Helper functions being inlined, innermost last (no recursion).
    calling: Vec<&'a str>,
    /// The file's calls by where they are, once a value needs one.
    calls: std::cell::OnceCell<HashMap<ruff_text_size::TextRange, &'a ExprCall>>,
    /// Other names the file gives Alembic's `op` (`from alembic import op
    /// as alembic_op`, `o = op`).
    op_aliases: Vec<&'a str>,
}

/// The table (when it can be read) and alias of an enclosing
/// `with op.batch_alter_table(...) as alias:`.
type Batch<'a> = Option<(Option<String>, &'a str)>;

/// Whether a block of code returns.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Exit {
    No,
    Maybe,
    Yes,
}

/// How far helper functions are inlined, and how many items a loop is
/// unrolled over, before the code counts as unread.
const MAX_CALL_DEPTH: usize = 8;
const MAX_UNROLL: usize = 1000;

impl<'a> OpReader<'a, '_> {
    fn new(py: &'a PyFile<'_>, dialect: Dialect) -> OpReader<'a, 'a> {
        OpReader {
            py,
            dialect,
            ops: Vec::new(),
            problems: Vec::new(),
            suppressions: Vec::new(),
            env: Env::new(),
            functions: HashMap::new(),
            imported: HashMap::new(),
            types: HashMap::new(),
            model_columns: HashMap::new(),
            class_types: HashMap::new(),
            batch_convention: Vec::new(),
            autocommit: false,
            reach: Reach::Always,
            checks: 0,
            calling: Vec::new(),
            calls: std::cell::OnceCell::new(),
            op_aliases: Vec::new(),
        }
    }

    /// Whether `name` is Alembic's `op` here.
    fn is_op(&self, name: &str) -> bool {
        name == "op" || self.op_aliases.contains(&name)
    }

    fn eval<'b>(&'b self, batch: &Batch<'b>) -> Evaluator<'b> {
        Evaluator {
            env: &self.env,
            dialect: self.dialect,
            batch_alias: batch.as_ref().map(|(_, alias)| *alias),
            functions: Some(&self.functions),
            imported: Some(&self.imported),
            calls: 0,
            foreign: false,
            op_aliases: &self.op_aliases,
        }
    }

    /// Module-level constants and functions, before any function is read.
    fn module(&mut self, suite: &'a [Stmt]) {
        self.op_aliases = op_aliases(suite);
        for stmt in suite {
            match stmt {
                Stmt::FunctionDef(f) => {
                    self.functions.insert(f.name.id.as_str(), f);
                }
                Stmt::ClassDef(c) => {
                    if let Some(stored) = type_decorator_impl(c) {
                        self.types.insert(
                            c.name.id.as_str(),
                            ProjectType::Stores(self.py.text(stored)),
                        );
                    }
                    if let Some(table) = table_name(c) {
                        self.env.bind(c.name.id.as_str(), Some(Value::Model(table)));
                        self.model_columns
                            .insert(c.name.id.as_str(), mapped_columns(c));
                    }
                }
                Stmt::Assign(_) | Stmt::AnnAssign(_) | Stmt::AugAssign(_) => {
                    self.assign(stmt, &None);
                }
                _ => {}
            }
        }
    }

    /// Reads a function body with its own scope.
    fn function(&mut self, body: &'a [Stmt]) {
        self.env.push();
        self.reach = Reach::Always;
        self.body(body, None);
        self.env.pop();
    }

    fn with_uncertain<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> R {
        let was = std::mem::replace(&mut self.reach, Reach::Maybe);
        let r = f(self);
        self.reach = was;
        r
    }

    fn body(&mut self, body: &'a [Stmt], batch: Batch<'a>) -> Exit {
        let mut exit = Exit::No;
        for (i, stmt) in body.iter().enumerate() {
            if let Some((guard_body, g)) = self.return_guard(stmt, &batch) {
                // `if not has_table("t"): return`: its body runs under the
                // check, what follows under the opposite.
                let was = self.reach.clone();
                self.reach = guarded(&was, g.clone());
                self.body(guard_body, batch.clone());
                self.reach = guarded(
                    &was,
                    Guard {
                        exists: !g.exists,
                        ..g
                    },
                );
                self.body(&body[i + 1..], batch);
                // The block may have been left early.
                self.reach = Reach::Maybe;
                return Exit::Maybe;
            }
            let here = self.stmt(stmt, &batch);
            match here {
                Exit::Yes => {
                    return if exit == Exit::Maybe {
                        Exit::Maybe
                    } else {
                        Exit::Yes
                    };
                }
                Exit::Maybe => {
                    // What follows may not run.
                    exit = Exit::Maybe;
                    self.reach = Reach::Maybe;
                }
                Exit::No => {}
            }
        }
        exit
    }

    fn stmt(&mut self, stmt: &'a Stmt, batch: &Batch<'a>) -> Exit {
        match stmt {
            Stmt::With(w) => {
                let mut inner = batch.clone();
                let convention_was = self.batch_convention.clone();
                let autocommit_was = self.autocommit;
                for item in &w.items {
                    // `with op.get_context().autocommit_block():`
                    if let Expr::Call(call) = &item.context_expr
                        && let Expr::Attribute(a) = &*call.func
                        && a.attr.as_str() == "autocommit_block"
                    {
                        self.autocommit = true;
                    }
                    let (Expr::Call(call), Some(Expr::Name(alias))) =
                        (&item.context_expr, item.optional_vars.as_deref())
                    else {
                        continue;
                    };
                    if let Some((receiver, "batch_alter_table")) = method_call(call)
                        && self.is_op(receiver)
                    {
                        let ev = self.eval(batch);
                        let table = arg(call, 0, "table_name").and_then(|t| ev.string(t));
                        let convention = naming_convention(call, &ev);
                        self.batch_convention = convention;
                        inner = Some((table, alias.id.as_str()));
                    } else if let Some((table, convention)) = self.batch_helper(call, batch) {
                        self.batch_convention = convention;
                        inner = Some((table, alias.id.as_str()));
                    }
                }
                let was = self.reach.clone();
                let exit = self.body(&w.body, inner);
                self.reach = was;
                self.batch_convention = convention_was;
                self.autocommit = autocommit_was;
                exit
            }
            Stmt::Expr(e) => {
                self.expr(&e.value, batch);
                Exit::No
            }
            Stmt::Assign(_) | Stmt::AnnAssign(_) | Stmt::AugAssign(_) => {
                self.assign(stmt, batch);
                Exit::No
            }
            Stmt::If(s) => {
                let mut clauses: Vec<(Option<&'a Expr>, &'a [Stmt])> =
                    vec![(Some(&*s.test), &s.body[..])];
                clauses.extend(
                    s.elif_else_clauses
                        .iter()
                        .map(|c| (c.test.as_ref(), &c.body[..])),
                );
                self.branches(&clauses, batch)
            }
            Stmt::For(s) => {
                // `for col in {"a", "b"} & columns:` runs for each that is
                // there: each item under its own check.
                let items: Option<Vec<(Value, Option<Exists>)>> =
                    match self.eval(batch).value(&s.iter) {
                        Some(Value::Among(items, names)) => items
                            .into_iter()
                            .map(|i| {
                                let what = listed_exists(&names, i.clone())?;
                                Some((Value::Str(i), Some(what)))
                            })
                            .collect::<Option<Vec<_>>>(),
                        other => other
                            .and_then(|v| v.items())
                            .map(|i| i.into_iter().map(|item| (item, None)).collect::<Vec<_>>()),
                    }
                    .filter(|i| i.len() <= MAX_UNROLL);
                let was = self.reach.clone();
                let mut exit = Exit::No;
                match items {
                    Some(items) => {
                        for (item, what) in items {
                            bind_target(&mut self.env, &s.target, Some(item));
                            if let Some(what) = what
                                && exit == Exit::No
                            {
                                self.checks += 1;
                                let guard = Guard {
                                    what,
                                    exists: true,
                                    check: self.checks,
                                };
                                self.reach = guarded(&was, guard);
                            }
                            let ran = self.body(&s.body, batch.clone());
                            if exit == Exit::No && ran == Exit::No {
                                self.reach = was.clone();
                            }
                            match ran {
                                Exit::No => {}
                                // The later items run only if this one did
                                // not return: they are read as maybe.
                                Exit::Maybe => exit = Exit::Maybe,
                                Exit::Yes => {
                                    exit = Exit::Maybe;
                                    break;
                                }
                            }
                        }
                        if exit == Exit::No {
                            exit = self.body(&s.orelse, batch.clone());
                        }
                    }
                    None => {
                        bind_target(&mut self.env, &s.target, None);
                        exit = self.uncertain_loop(&s.body, &s.orelse, batch);
                    }
                }
                self.reach = if exit == Exit::No { was } else { Reach::Maybe };
                if exit == Exit::Maybe {
                    Exit::Maybe
                } else {
                    exit
                }
            }
            Stmt::While(s) => {
                let exit = self.uncertain_loop(&s.body, &s.orelse, batch);
                if exit != Exit::No {
                    self.reach = Reach::Maybe;
                }
                exit
            }
            Stmt::Try(s) => {
                // An operation in a `try` may fail and be swallowed.
                let may_return = self.with_uncertain(|r| {
                    let mut exits = vec![r.body(&s.body, batch.clone())];
                    for h in &s.handlers {
                        let ruff_python_ast::ExceptHandler::ExceptHandler(h) = h;
                        exits.push(r.body(&h.body, batch.clone()));
                    }
                    exits.push(r.body(&s.orelse, batch.clone()));
                    exits.iter().any(|e| *e != Exit::No)
                });
                let finally = self.body(&s.finalbody, batch.clone());
                // What follows runs whenever the migration goes on, unless
                // a part of the `try` may return.
                if may_return || finally != Exit::No {
                    Exit::Maybe
                } else {
                    Exit::No
                }
            }
            Stmt::FunctionDef(f) => {
                self.functions.insert(f.name.id.as_str(), f);
                Exit::No
            }
            Stmt::Return(r) => {
                if let Some(value) = &r.value {
                    self.value_ops(value, batch);
                }
                Exit::Yes
            }
            Stmt::Pass(_) | Stmt::Import(_) | Stmt::ImportFrom(_) => Exit::No,
            other => {
                self.python(other.range(), "Python code");
                Exit::No
            }
        }
    }

    /// `if` / `elif` / `else`: the branch the code takes when every test
    /// before it is decided; under an inspector check (`if "t" in
    /// inspector.get_table_names():`), the branch and its `else` run only
    /// when the replay finds the table there (or not); every branch, as code
    /// that may not run, from the first test miglint cannot decide.
    fn branches(&mut self, clauses: &[(Option<&'a Expr>, &'a [Stmt])], batch: &Batch<'a>) -> Exit {
        let was = self.reach.clone();
        let mut exits = Vec::new();
        let mut undecided = false;
        let mut guard: Option<Guard> = None;
        for (test, body) in clauses {
            let cond = match test {
                None => Cond::Known(true),
                Some(t) => self.eval(batch).condition(t),
            };
            let reach = if undecided {
                Reach::Maybe
            } else if let Some(g) = &guard {
                match test {
                    // `else` of a guard: the other case.
                    None => guarded(
                        &was,
                        Guard {
                            exists: !g.exists,
                            ..g.clone()
                        },
                    ),
                    _ => {
                        undecided = true;
                        Reach::Maybe
                    }
                }
            } else {
                match cond {
                    Cond::Known(false) => continue,
                    Cond::Known(true) => {
                        let exit = self.body(body, batch.clone());
                        self.reach = if exit == Exit::No { was } else { Reach::Maybe };
                        return exit;
                    }
                    Cond::Exists { ref what, exists } => {
                        self.checks += 1;
                        let g = Guard {
                            what: what.clone(),
                            exists,
                            check: self.checks,
                        };
                        guard = Some(g.clone());
                        guarded(&was, g)
                    }
                    // Several checks: each is decided; an `else` is not.
                    Cond::All(ref checks) => {
                        let mut reach = was.clone();
                        for (what, exists) in checks {
                            self.checks += 1;
                            reach = guarded(
                                &reach,
                                Guard {
                                    what: what.clone(),
                                    exists: *exists,
                                    check: self.checks,
                                },
                            );
                        }
                        undecided = true;
                        reach
                    }
                    Cond::Unknown => {
                        undecided = true;
                        Reach::Maybe
                    }
                }
            };
            let before = std::mem::replace(&mut self.reach, reach);
            exits.push(self.body(body, batch.clone()));
            self.reach = before;
            if test.is_none() || cond == Cond::Known(true) {
                break;
            }
        }
        self.reach = was;
        if exits.iter().any(|e| *e != Exit::No) {
            Exit::Maybe
        } else {
            Exit::No
        }
    }

    /// `if <inspector check>: ... return` with no `elif` or `else`, read
    /// where the replay can still decide it: its body and its check,
    /// numbered.
    fn return_guard(&mut self, stmt: &'a Stmt, batch: &Batch<'a>) -> Option<(&'a [Stmt], Guard)> {
        if self.reach == Reach::Maybe {
            return None;
        }
        let Stmt::If(s) = stmt else {
            return None;
        };
        if !s.elif_else_clauses.is_empty() || !matches!(s.body.last(), Some(Stmt::Return(_))) {
            return None;
        }
        let Cond::Exists { what, exists } = self.eval(batch).condition(&s.test) else {
            return None;
        };
        self.checks += 1;
        Some((
            &s.body[..],
            Guard {
                what,
                exists,
                check: self.checks,
            },
        ))
    }

    /// An assignment: a call in it is read like any other; the names it
    /// binds hold what miglint can evaluate, or nothing known.
    fn assign(&mut self, stmt: &'a Stmt, batch: &Batch<'a>) {
        let (targets, value): (Vec<&'a Expr>, Option<&'a Expr>) = match stmt {
            Stmt::Assign(a) => (a.targets.iter().collect(), Some(&*a.value)),
            Stmt::AnnAssign(a) => (vec![&*a.target], a.value.as_deref()),
            Stmt::AugAssign(a) => (vec![&*a.target], None),
            _ => return,
        };
        if let Some(value) = value {
            self.value_ops(value, batch);
        }
        let evaluated = value.and_then(|v| self.eval(batch).value(v));
        for t in targets {
            bind_target(&mut self.env, t, evaluated.clone());
        }
    }

    /// The operations a value runs (assigned or returned): an operation
    /// call, a helper of this file, or operations inside a larger
    /// expression (`a if c else op.create_table(...)`, an argument), which
    /// may or may not run.
    fn value_ops(&mut self, value: &'a Expr, batch: &Batch<'a>) {
        let op_aliases = self.op_aliases.clone();
        let is_op = |call: &ExprCall| {
            method_call(call).is_some_and(|(receiver, method)| {
                (receiver == "op"
                    || op_aliases.contains(&receiver)
                    || batch.as_ref().is_some_and(|(_, alias)| *alias == receiver))
                    && !NOT_OPERATIONS.contains(&method)
            })
        };
        match value {
            Expr::Call(call) if is_op(call) => self.call(call, batch),
            Expr::Call(call) if self.inline(call, batch) => {}
            other => {
                let mut found = OpCalls {
                    is_op: &is_op,
                    calls: Vec::new(),
                };
                found.visit_expr(other);
                let calls = found.calls;
                if !calls.is_empty() {
                    self.with_uncertain(|r| {
                        for call in calls {
                            r.call(call, batch);
                        }
                    });
                }
            }
        }
    }

    /// The body of a loop whose items miglint cannot read: it may run any
    /// number of times. Whether it may return.
    fn uncertain_loop(&mut self, body: &'a [Stmt], orelse: &'a [Stmt], batch: &Batch<'a>) -> Exit {
        self.with_uncertain(|r| {
            let body = r.body(body, batch.clone());
            let orelse = r.body(orelse, batch.clone());
            if body == Exit::No && orelse == Exit::No {
                Exit::No
            } else {
                Exit::Maybe
            }
        })
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
            reach: self.reach.clone(),
            if_exists: false,
            online: Online::default(),
        });
    }

    fn expr(&mut self, expr: &'a Expr, batch: &Batch<'a>) {
        match expr {
            Expr::Call(call) => self.call(call, batch),
            Expr::StringLiteral(_) | Expr::EllipsisLiteral(_) => {}
            other => self.python(other.range(), "Python code"),
        }
    }

    /// A helper function of this file called with arguments miglint can
    /// read: its body is read with its parameters bound.
    fn inline(&mut self, call: &'a ExprCall, batch: &Batch<'a>) -> bool {
        let Expr::Name(name) = &*call.func else {
            return false;
        };
        let Some(f) = self.functions.get(name.id.as_str()).copied() else {
            return false;
        };
        if self.calling.len() >= MAX_CALL_DEPTH || self.calling.contains(&f.name.id.as_str()) {
            return false;
        }
        let bound = self.bind_params(f, call, batch);
        // The enclosing batch, handed over (`_rename_index(batch_op=batch_op)`):
        // the helper's operations belong to it, under the parameter's name.
        let inner = batch
            .as_ref()
            .and_then(|(table, alias)| Some((table.clone(), batch_param(f, call, alias)?)));
        self.calling.push(f.name.id.as_str());
        self.env.push();
        for (name, value) in bound {
            self.env.bind(name, value);
        }
        let was = self.reach.clone();
        let exit = self.body(&f.body, inner);
        self.reach = was;
        let _ = exit;
        self.env.pop();
        self.calling.pop();
        true
    }

    /// `helper(...)` where the helper of this file only returns
    /// `op.batch_alter_table(...)`: the table that batch names, read with
    /// the helper's parameters bound (`None` inside when it cannot be read).
    fn batch_helper(
        &mut self,
        call: &'a ExprCall,
        batch: &Batch<'a>,
    ) -> Option<(Option<String>, Convention)> {
        let Expr::Name(name) = &*call.func else {
            return None;
        };
        let f = self.functions.get(name.id.as_str()).copied()?;
        let body: Vec<&Stmt> = f
            .body
            .iter()
            .filter(|s| !matches!(s, Stmt::Expr(e) if e.value.is_string_literal_expr()))
            .collect();
        let [Stmt::Return(ret)] = body.as_slice() else {
            return None;
        };
        let Some(Expr::Call(inner)) = ret.value.as_deref() else {
            return None;
        };
        if !method_call(inner)
            .is_some_and(|(receiver, method)| self.is_op(receiver) && method == "batch_alter_table")
        {
            return None;
        }
        let bound = self.bind_params(f, call, batch);
        self.env.push();
        for (name, value) in bound {
            self.env.bind(name, value);
        }
        let ev = self.eval(batch);
        let table = arg(inner, 0, "table_name").and_then(|t| ev.string(t));
        let convention = naming_convention(inner, &ev);
        self.env.pop();
        Some((table, convention))
    }

    /// A helper's parameters, bound to what `call` passes (or their
    /// defaults), as far as they can be read.
    fn bind_params(
        &self,
        f: &'a StmtFunctionDef,
        call: &'a ExprCall,
        batch: &Batch<'a>,
    ) -> Vec<(&'a str, Option<Value>)> {
        let params = &f.parameters;
        let mut bound: Vec<(&str, Option<Value>)> = Vec::new();
        let positional: Vec<_> = params.posonlyargs.iter().chain(&params.args).collect();
        for (i, p) in positional.iter().enumerate() {
            let given = call
                .arguments
                .args
                .get(i)
                .or_else(|| keyword(call, p.parameter.name.id.as_str()))
                .or(p.default.as_deref());
            bound.push((
                p.parameter.name.id.as_str(),
                given.and_then(|e| self.eval(batch).value(e)),
            ));
        }
        for p in &params.kwonlyargs {
            let given = keyword(call, p.parameter.name.id.as_str()).or(p.default.as_deref());
            bound.push((
                p.parameter.name.id.as_str(),
                given.and_then(|e| self.eval(batch).value(e)),
            ));
        }
        bound
    }

    fn call(&mut self, call: &'a ExprCall, batch: &Batch<'a>) {
        if self.inline(call, batch) {
            return;
        }
        // `conn.execute(sa.text("..."))` on `conn = op.get_bind()` (or
        // `op.get_bind().execute(...)`): SQL Alembic runs like op.execute.
        if let Expr::Attribute(a) = &*call.func
            && a.attr.id.as_str() == "execute"
            && self.eval(batch).value(&a.value) == Some(Value::Bind)
        {
            self.execute(call, false);
            return;
        }
        let Some((receiver, method)) = method_call(call) else {
            if let Expr::Attribute(a) = &*call.func
                && let Some(name) = root_name(&a.value)
            {
                self.env.forget(name);
            }
            self.python(call.range(), "a call miglint does not model");
            return;
        };
        let (table, in_batch) = match batch {
            Some((table, alias)) if receiver == *alias => (Some(table.clone()), true),
            _ if self.is_op(receiver) => (None, false),
            _ => {
                // `names.append(x)` may change what `names` holds.
                self.env.forget(receiver);
                self.python(call.range(), "a call miglint does not model");
                return;
            }
        };
        if method == "execute" {
            self.execute(call, in_batch);
            return;
        }
        // Names miglint could not read: the operation becomes `Unread`.
        let unread = Cell::new(false);
        let ev = self.eval(batch);
        let read = |e: Option<&Expr>| -> String {
            match e {
                None => String::new(),
                Some(e) => ev.string(e).unwrap_or_else(|| {
                    unread.set(true);
                    String::new()
                }),
            }
        };
        let read_list = |e: Option<&Expr>| -> Vec<String> {
            match e {
                None => Vec::new(),
                Some(e) => ev.strings(e).unwrap_or_else(|| {
                    unread.set(true);
                    Vec::new()
                }),
            }
        };
        let read_opt = |e: Option<&Expr>| -> Option<String> {
            match e {
                None | Some(Expr::NoneLiteral(_)) => None,
                Some(e) => Some(ev.string(e).unwrap_or_else(|| {
                    unread.set(true);
                    String::new()
                })),
            }
        };
        // The batch's table, or the call's own table argument.
        let batch_table = table.clone();
        let table_at = |i: usize, name: &str| -> String {
            match &batch_table {
                Some(Some(t)) => t.clone(),
                Some(None) => {
                    unread.set(true);
                    String::new()
                }
                None => read(arg(call, i, name)),
            }
        };
        // Batch methods drop the table argument: shift positions by one.
        let shift = usize::from(!in_batch);
        let mut inline_indexes = Vec::new();
        let kind = match method {
            "create_table" if !in_batch => {
                let name = read(arg(call, 0, "table_name"));
                let mut columns = Vec::new();
                let mut constraints = Vec::new();
                let mut items: Vec<&'a ExprCall> = Vec::new();
                for a in call.arguments.args.iter().skip(1) {
                    // `sa.Column(...)`, or a name or `*list` holding such
                    // items (`for name, columns in TABLES:`).
                    let values = match a {
                        Expr::Call(c) if is_schema_item(c) => {
                            items.push(c);
                            continue;
                        }
                        Expr::Starred(s) => ev.value(&s.value).and_then(|v| v.items()),
                        other => ev.value(other).map(|v| vec![v]),
                    };
                    let Some(values) = values else {
                        unread.set(true);
                        continue;
                    };
                    for v in values {
                        match v {
                            Value::Item(range) => match self.call_at(range) {
                                Some(c) if is_schema_item(c) => items.push(c),
                                _ => unread.set(true),
                            },
                            _ => unread.set(true),
                        }
                    }
                }
                let mut explicit_nullable = Vec::new();
                for c in items {
                    match self.column(c, &ev) {
                        Some(Some(mut col)) => {
                            if keyword(c, "nullable").is_some() {
                                explicit_nullable.push(col.name.clone());
                            }
                            if let Some(ix) = column_index(c, &mut col, &name, &ev) {
                                inline_indexes.push(ix);
                            }
                            columns.push(col)
                        }
                        Some(None) => unread.set(true),
                        None if callee_name(c) == Some("Index") => {
                            let columns: Vec<Expr> =
                                c.arguments.args.iter().skip(1).cloned().collect();
                            let list = Expr::List(ruff_python_ast::ExprList {
                                node_index: Default::default(),
                                range: c.range(),
                                elts: columns,
                                ctx: ruff_python_ast::ExprContext::Load,
                            });
                            inline_indexes.push(IndexDef {
                                name: read_opt(arg(c, 0, "name")),
                                table: name.clone(),
                                columns: index_columns(self.py, Some(&list), &ev, &unread),
                                unique: keyword(c, "unique")
                                    .and_then(|u| ev.truth(u))
                                    .unwrap_or(false),
                                where_clause: keyword(c, "sqlite_where")
                                    .map(|w| self.py.text(w.range()).to_string()),
                                from_column: false,
                            });
                        }
                        None => {
                            if let Some(con) = constraint(c, &ev) {
                                constraints.push(con);
                            }
                        }
                    }
                }
                // SQLAlchemy makes the columns of a `PrimaryKeyConstraint`
                // NOT NULL unless they say otherwise.
                for con in &constraints {
                    if con.kind == ConstraintKind::PrimaryKey {
                        for col in columns.iter_mut().filter(|col| {
                            con.columns.contains(&col.name)
                                && !explicit_nullable.contains(&col.name)
                        }) {
                            col.nullable = false;
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
                name: read(arg(call, 0, "table_name")),
            },
            "rename_table" if !in_batch => OpKind::RenameTable {
                from: read(arg(call, 0, "old_table_name")),
                to: read(arg(call, 1, "new_table_name")),
            },
            "add_column" => {
                // `sa.Column(...)`, or a helper or name that holds one.
                let col = arg(call, shift, "column").and_then(|c| match c {
                    Expr::Call(c) if is_schema_item(c) => self.column(c, &ev),
                    other => match ev.value(other) {
                        Some(Value::Item(range)) => self
                            .call_at(range)
                            .filter(|c| is_schema_item(c))
                            .and_then(|c| self.column(c, &ev)),
                        _ => None,
                    },
                });
                match col {
                    Some(Some(mut column)) => {
                        let table = table_at(0, "table_name");
                        // Alembic creates a plain `add_column`'s index too.
                        let call = arg(call, shift, "column").and_then(|c| match c {
                            Expr::Call(c) => Some(c),
                            other => match ev.value(other) {
                                Some(Value::Item(range)) => self.call_at(range),
                                _ => None,
                            },
                        });
                        if !in_batch
                            && let Some(ix) =
                                call.and_then(|c| column_index(c, &mut column, &table, &ev))
                        {
                            inline_indexes.push(ix);
                        }
                        OpKind::AddColumn { table, column }
                    }
                    Some(None) => {
                        unread.set(true);
                        OpKind::Unread {
                            tables: vec![table_at(0, "table_name")],
                            note: String::new(),
                        }
                    }
                    // A column miglint cannot read: its table is not known
                    // from here.
                    None => {
                        unread.set(true);
                        OpKind::Unread {
                            tables: vec![table_at(0, "table_name")],
                            note: String::new(),
                        }
                    }
                }
            }
            "drop_column" => OpKind::DropColumn {
                table: table_at(0, "table_name"),
                column: read(arg(call, shift, "column_name")),
            },
            "alter_column" => {
                let mut changes = ColumnChanges {
                    new_name: read_opt(keyword(call, "new_column_name")),
                    type_name: keyword(call, "type_").map(|t| self.type_text(t, &ev)),
                    nullable: keyword(call, "nullable").and_then(bool_value),
                    default: None,
                };
                if let Some(d) = keyword(call, "server_default") {
                    changes.default = Some(match d {
                        Expr::NoneLiteral(_) => None,
                        other => Some(self.default_text(other, &ev)),
                    });
                }
                OpKind::AlterColumn {
                    table: table_at(0, "table_name"),
                    column: read(arg(call, shift, "column_name")),
                    changes,
                }
            }
            "create_index" => {
                let where_clause = keyword(call, "sqlite_where")
                    .or_else(|| keyword(call, "postgresql_where"))
                    .map(|w| self.py.text(w.range()).to_string());
                OpKind::CreateIndex(IndexDef {
                    name: read_opt(arg(call, 0, "index_name")),
                    table: table_at(1, "table_name"),
                    columns: index_columns(self.py, arg(call, 1 + shift, "columns"), &ev, &unread),
                    unique: keyword(call, "unique")
                        .and_then(|u| ev.truth(u))
                        .unwrap_or(false),
                    where_clause,
                    from_column: false,
                })
            }
            "drop_index" => OpKind::DropIndex {
                name: read(arg(call, 0, "index_name")),
                table: match &table {
                    Some(_) => Some(table_at(1, "table_name")),
                    None => read_opt(arg(call, 1, "table_name")),
                },
            },
            "create_foreign_key" => OpKind::AddConstraint {
                table: table_at(1, "source_table"),
                constraint: TableConstraint {
                    name: read_opt(arg(call, 0, "constraint_name")),
                    kind: ConstraintKind::ForeignKey(ForeignKeyRef {
                        table: read(arg(call, 1 + shift, "referent_table")),
                        columns: read_list(arg(call, 3 + shift, "remote_cols")),
                    }),
                    columns: read_list(arg(call, 2 + shift, "local_cols")),
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
                    read_list(arg(call, 1 + shift, "columns"))
                };
                OpKind::AddConstraint {
                    table: table_at(1, "table_name"),
                    constraint: TableConstraint {
                        name: read_opt(arg(call, 0, "constraint_name")),
                        kind,
                        columns,
                    },
                }
            }
            "drop_constraint" => OpKind::DropConstraint {
                table: table_at(1, "table_name"),
                name: read(arg(call, 0, "constraint_name")),
                convention: if in_batch {
                    self.batch_convention.clone()
                } else {
                    Vec::new()
                },
            },
            "bulk_insert" => OpKind::Data {
                statement: "INSERT".into(),
            },
            other => opaque_call(other),
        };
        let kind = if unread.get() {
            let mut tables: Vec<String> = kind.tables().into_iter().map(str::to_string).collect();
            if tables.iter().any(String::is_empty) || tables.is_empty() {
                tables.clear();
            }
            OpKind::Unread {
                tables,
                note: format!("names in `{receiver}.{method}(...)` computed at run time"),
            }
        } else {
            kind
        };
        let if_exists = ["if_exists", "if_not_exists"]
            .iter()
            .any(|k| keyword(call, k).and_then(|v| ev.truth(v)) == Some(true));
        let span = self.py.span(call.range());
        self.ops.push(Operation {
            kind,
            span,
            in_batch,
            sql: None,
            call: Some(method.to_string()),
            reach: self.reach.clone(),
            if_exists,
            online: Online {
                concurrently: keyword(call, "postgresql_concurrently")
                    .and_then(|c| ev.truth(c))
                    .unwrap_or(false),
                not_valid: keyword(call, "postgresql_not_valid")
                    .and_then(|c| ev.truth(c))
                    .unwrap_or(false),
                autocommit: self.autocommit,
            },
        });
        // `sa.Index(...)` among `create_table`'s arguments: Alembic creates
        // it with the table.
        for ix in inline_indexes {
            self.ops.push(Operation {
                kind: OpKind::CreateIndex(ix),
                span,
                in_batch,
                sql: None,
                call: Some("create_index".to_string()),
                reach: self.reach.clone(),
                if_exists: false,
                online: Online {
                    autocommit: self.autocommit,
                    ..Online::default()
                },
            });
        }
    }

    /// A `server_default=` as written, except that a string made of
    /// several literals or with escapes (`sa.text("(lower(hex(" "randomblob(4))))")`)
    /// is written as the one string Python makes of it.
    fn default_text(&self, d: &Expr, ev: &Evaluator) -> String {
        let raw = self.py.text(d.range()).to_string();
        let (inner, text_call) = match d {
            Expr::Call(c) if callee_name(c) == Some("text") => (arg(c, 0, "text"), true),
            other => (Some(other), false),
        };
        // A literal split over lines or with escapes, a constant, an
        // f-string: the string Python makes.
        let plain = matches!(inner, Some(Expr::StringLiteral(s))
            if !s.value.is_implicit_concatenated() && !raw.contains('\\'));
        if !plain && let Some(value) = inner.and_then(|i| ev.string(i)) {
            return if text_call {
                format!("sa.text(\"{value}\")")
            } else {
                format!("\"{value}\"")
            };
        }
        raw
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
                reach: self.reach.clone(),
                if_exists: false,
                online: Online::default(),
            });
            return;
        };
        let out = self.py.read_sql(&text, &map, self.dialect);
        for mut op in out.ops {
            op.in_batch = in_batch;
            op.online.autocommit = self.autocommit;
            op.call = Some("execute".into());
            op.reach = self.reach.clone();
            self.ops.push(op);
        }
        self.problems.extend(out.problems);
        self.suppressions.extend(out.suppressions);
    }

    /// `sa.Column("name", sa.Type(), sa.ForeignKey("t.id"), nullable=..., ...)`:
    /// `None` when the call is not a column, `Some(None)` when its name or
    /// foreign key cannot be read.
    /// The call written at `range` in this file (a schema item a value
    /// holds).
    fn call_at(&self, range: ruff_text_size::TextRange) -> Option<&'a ExprCall> {
        struct Calls<'a>(HashMap<ruff_text_size::TextRange, &'a ExprCall>);
        impl<'a> Visitor<'a> for Calls<'a> {
            fn visit_expr(&mut self, expr: &'a Expr) {
                if let Expr::Call(call) = expr {
                    self.0.insert(call.range(), call);
                }
                walk_expr(self, expr);
            }
        }
        let suite: &'a [Stmt] = self.py.suite();
        self.calls
            .get_or_init(|| {
                let mut calls = Calls(HashMap::new());
                for stmt in suite {
                    calls.visit_stmt(stmt);
                }
                calls.0
            })
            .get(&range)
            .copied()
    }

    /// A column type as written, or what a `TypeDecorator` of the project
    /// stores (`JSONField()` with `impl = Text` is `Text`).
    fn type_text(&self, e: &Expr, ev: &Evaluator) -> String {
        // `MEDIUMBLOB if bind.dialect.name == "mysql" else sa.LargeBinary()`
        if let Expr::If(choice) = e
            && let Some(test) = ev.truth(&choice.test)
        {
            let taken = if test { &choice.body } else { &choice.orelse };
            return self.type_text(taken, ev);
        }
        // A name holding a type written elsewhere in the file (`for name,
        // ty in [("note", sa.Text())]:`).
        if let Expr::Name(_) = e
            && let Some(Value::Item(range)) = ev.value(e)
        {
            return match self.call_at(range) {
                Some(c) => {
                    self.declared_type(c.func.as_name_expr().map(|n| n.id.as_str()), c.range())
                }
                // A type named, not called (`json_type = _get_json_type()`
                // returning `sa.JSON`).
                None => self.py.text(range).to_string(),
            };
        }
        // A type a class of the project holds (`Types.UniqueText`).
        if let Expr::Attribute(a) = e
            && let Expr::Name(class) = &*a.value
            && let Some(t) = self
                .class_types
                .get(&(class.id.as_str(), a.attr.id.as_str()))
        {
            return match t {
                ProjectType::Stores(stored) | ProjectType::Alias(stored) => stored.to_string(),
            };
        }
        let name = match e {
            Expr::Name(n) => Some(n.id.as_str()),
            Expr::Call(c) => c.func.as_name_expr().map(|n| n.id.as_str()),
            _ => None,
        };
        let written = self.declared_type(name, e.range());
        // A length or precision held by a constant (`sa.String(HASH_LEN)`):
        // written out, as Python passes it.
        let project_type = name.and_then(|n| self.types.get(n));
        if let Expr::Call(c) = e
            && !matches!(project_type, Some(ProjectType::Stores(_)))
            && c.arguments.args.iter().any(|a| matches!(a, Expr::Name(_)))
        {
            let args: Option<Vec<String>> = c
                .arguments
                .args
                .iter()
                .map(|a| match a {
                    Expr::Name(_) => match ev.value(a)? {
                        Value::Int(n) => Some(n.to_string()),
                        _ => None,
                    },
                    other => Some(self.py.text(other.range()).to_string()),
                })
                .collect();
            if let Some(args) = args
                && c.arguments.keywords.is_empty()
            {
                let head = match project_type {
                    Some(ProjectType::Alias(target)) => target,
                    _ => self.py.text(c.func.range()),
                };
                return format!("{head}({})", args.join(", "));
            }
        }
        written
    }

    /// `Model.attribute` of a mapped class miglint read: `table.column`.
    fn model_column(&self, e: &Expr, ev: &Evaluator) -> Option<String> {
        let Expr::Attribute(a) = e else {
            return None;
        };
        let Expr::Name(class) = &*a.value else {
            return None;
        };
        let Some(Value::Model(table)) = ev.value(&a.value) else {
            return None;
        };
        let column = self
            .model_columns
            .get(class.id.as_str())?
            .get(a.attr.id.as_str())?;
        Some(format!("{table}.{column}"))
    }

    /// The type written at `range`, or what the project's type `name`
    /// stores, or the type it names (`StringID(length=250)` with
    /// `StringID = sa.String` is `sa.String(length=250)`).
    fn declared_type(&self, name: Option<&str>, range: ruff_text_size::TextRange) -> String {
        let written = self.py.text(range);
        match name.and_then(|n| Some((n, *self.types.get(n)?))) {
            Some((_, ProjectType::Stores(stored))) => stored.to_string(),
            Some((n, ProjectType::Alias(target))) => match written.strip_prefix(n) {
                Some(call) => format!("{target}{call}"),
                None => target.to_string(),
            },
            None => written.to_string(),
        }
    }

    fn column(&self, call: &ExprCall, ev: &Evaluator) -> Option<Option<Column>> {
        if callee_name(call) != Some("Column") {
            return None;
        }
        let args = &call.arguments.args;
        let Some(name) = args
            .first()
            .or_else(|| keyword(call, "name"))
            .and_then(|n| ev.string(n))
        else {
            return Some(None);
        };
        let mut type_name = None;
        let mut references = None;
        let mut foreign_key_name = None;
        let mut generated = false;
        for a in args.iter().skip(1) {
            match a {
                Expr::Call(c) if callee_name(c) == Some("Computed") => generated = true,
                Expr::Call(c) if callee_name(c) == Some("ForeignKey") => {
                    let Some(target) = arg(c, 0, "column")
                        .and_then(|t| ev.string(t).or_else(|| self.model_column(t, ev)))
                    else {
                        return Some(None);
                    };
                    let (table, col) = target.rsplit_once('.').unwrap_or((&target, "id"));
                    references = Some(ForeignKeyRef {
                        table: table.to_string(),
                        columns: vec![col.to_string()],
                    });
                    foreign_key_name = keyword(c, "name").and_then(|n| ev.string(n));
                }
                other if type_name.is_none() => type_name = Some(self.type_text(other, ev)),
                _ => {}
            }
        }
        if let Some(t) = keyword(call, "type_") {
            type_name = Some(self.type_text(t, ev));
        }
        let primary_key = keyword(call, "primary_key")
            .and_then(|p| ev.truth(p))
            .unwrap_or(false);
        Some(Some(Column {
            name,
            type_name,
            nullable: keyword(call, "nullable")
                .and_then(|n| ev.truth(n))
                .unwrap_or(!primary_key),
            default: keyword(call, "server_default").map(|d| self.default_text(d, ev)),
            primary_key,
            unique: keyword(call, "unique")
                .and_then(|u| ev.truth(u))
                .unwrap_or(false),
            references,
            foreign_key_name,
            generated,
            span: self.py.span(call.range()),
        }))
    }
}

/// The parameter of helper `f` that `call` gives the batch `alias` to
/// (`helper(batch_op)`, `helper(batch_op=batch_op)`).
fn batch_param<'a>(f: &'a StmtFunctionDef, call: &ExprCall, alias: &str) -> Option<&'a str> {
    let is_alias = |e: Option<&Expr>| matches!(e, Some(Expr::Name(n)) if n.id.as_str() == alias);
    let params = &f.parameters;
    let positional = params.posonlyargs.iter().chain(&params.args).enumerate();
    for (i, p) in positional {
        let name = p.parameter.name.id.as_str();
        if is_alias(call.arguments.args.get(i)) || is_alias(keyword(call, name)) {
            return Some(name);
        }
    }
    params
        .kwonlyargs
        .iter()
        .map(|p| p.parameter.name.id.as_str())
        .find(|name| is_alias(keyword(call, name)))
}

/// `sa.Column(..., index=True)`: the index SQLAlchemy creates with the
/// table, named by its default convention `ix_<table>_<column>`; with
/// `unique=True` too, that index is unique and the column has no separate
/// UNIQUE constraint.
fn column_index(
    call: &ExprCall,
    column: &mut Column,
    table: &str,
    ev: &Evaluator,
) -> Option<IndexDef> {
    if keyword(call, "index").and_then(|i| ev.truth(i)) != Some(true) {
        return None;
    }
    let unique = std::mem::take(&mut column.unique);
    Some(IndexDef {
        name: Some(format!("ix_{table}_{}", column.name)),
        table: table.to_string(),
        columns: vec![column.name.clone()],
        unique,
        where_clause: None,
        from_column: true,
    })
}

/// An index's columns: names, or expressions (`sa.text("lower(name)")`)
/// kept as their SQL.
fn index_columns(
    py: &PyFile,
    expr: Option<&Expr>,
    ev: &Evaluator,
    unread: &Cell<bool>,
) -> Vec<String> {
    let Some(expr) = expr else {
        return Vec::new();
    };
    if let Some(list) = ev.strings(expr) {
        return list;
    }
    let elements: &[Expr] = match expr {
        Expr::List(l) => &l.elts,
        Expr::Tuple(t) => &t.elts,
        _ => std::slice::from_ref(expr),
    };
    let mut out = Vec::new();
    for e in elements {
        if let Some(s) = ev.string(e) {
            out.push(s);
        } else if let Some(Value::Text(sql)) = ev.value(e) {
            out.push(sql);
        } else if let Expr::Call(c) = e
            && callee_name(c) == Some("text")
            && let Some(sql) = arg(c, 0, "text").and_then(|t| ev.string(t))
        {
            out.push(sql);
        } else {
            let _ = py;
            unread.set(true);
            return Vec::new();
        }
    }
    out
}

fn opaque_call(method: &str) -> OpKind {
    OpKind::Opaque {
        what: OpaqueKind::Python,
        note: format!("op.{method} is not modelled"),
    }
}

/// `sa.PrimaryKeyConstraint`, `sa.UniqueConstraint`, `sa.ForeignKeyConstraint`, `sa.CheckConstraint`.
fn constraint(call: &ExprCall, ev: &Evaluator) -> Option<TableConstraint> {
    let name = keyword(call, "name").and_then(|n| ev.string(n));
    let positional: Vec<String> = call
        .arguments
        .args
        .iter()
        .filter_map(|a| ev.string(a))
        .collect();
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
                .and_then(|c| ev.strings(c))
                .unwrap_or_default();
            let remote = arg(call, 1, "refcolumns")
                .and_then(|c| ev.strings(c))
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

/// A naming convention: kind (`fk`, `uq`, `pk`) and template.
type Convention = Vec<(String, String)>;

/// A `batch_alter_table(..., naming_convention={...})`'s convention, when
/// it reads as a dict of strings (else none: no name is guessed).
fn naming_convention(call: &ExprCall, ev: &Evaluator) -> Convention {
    match keyword(call, "naming_convention").and_then(|c| ev.value(c)) {
        Some(Value::Dict(items)) => items
            .into_iter()
            .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_str()?.to_string())))
            .collect(),
        _ => Vec::new(),
    }
}

/// `reach` narrowed by one more inspector check: code that always runs, or
/// runs under other checks, gains it; code that may not run stays so.
fn guarded(reach: &Reach, guard: Guard) -> Reach {
    match reach {
        Reach::Always => Reach::If(vec![guard]),
        Reach::If(guards) => Reach::If(guards.iter().cloned().chain([guard]).collect()),
        Reach::Maybe => Reach::Maybe,
    }
}

/// `sa.Column(...)`, an index or a constraint: what `op.create_table`
/// takes after the table's name.
fn is_schema_item(call: &ExprCall) -> bool {
    matches!(
        callee_name(call),
        Some(
            "Column"
                | "Index"
                | "PrimaryKeyConstraint"
                | "ForeignKeyConstraint"
                | "UniqueConstraint"
                | "CheckConstraint"
        )
    )
}

/// Methods of `op` that read or name things rather than change the schema.
const NOT_OPERATIONS: &[&str] = &[
    "get_bind",
    "get_context",
    "f",
    "inline_literal",
    "batch_alter_table",
    "implementation_for",
    "register_operation",
    "invoke",
];

/// The Alembic operation calls inside an expression.
struct OpCalls<'a, 'f> {
    is_op: &'f dyn Fn(&ExprCall) -> bool,
    calls: Vec<&'a ExprCall>,
}

impl<'a> Visitor<'a> for OpCalls<'a, '_> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Call(call) = expr
            && (self.is_op)(call)
        {
            self.calls.push(call);
            return;
        }
        walk_expr(self, expr);
    }
}

/// Whether a function body's first statement, past a docstring, `pass` or
/// `...`, is a `raise`.
fn raises_first(body: &[Stmt]) -> bool {
    body.iter()
        .find(|s| !is_trivial_body(std::slice::from_ref(*s)))
        .is_some_and(|s| matches!(s, Stmt::Raise(_)))
}

/// The other names a migration gives Alembic's `op`: `from alembic import
/// op as alembic_op`, and `o = op` (or `o = alembic_op`) at module level or
/// at the top of a function.
fn op_aliases(suite: &[Stmt]) -> Vec<&str> {
    let mut aliases: Vec<&str> = Vec::new();
    let mut assigned: Vec<(&str, &str)> = Vec::new();
    for stmt in suite {
        match stmt {
            Stmt::ImportFrom(i) if i.module.as_ref().is_some_and(|m| m.as_str() == "alembic") => {
                aliases.extend(
                    i.names
                        .iter()
                        .filter(|n| n.name.as_str() == "op")
                        .filter_map(|n| n.asname.as_ref().map(|a| a.as_str())),
                );
            }
            Stmt::FunctionDef(f) => assigned.extend(f.body.iter().filter_map(name_assignment)),
            other => assigned.extend(name_assignment(other)),
        }
    }
    // `o = alembic_op` after `from alembic import op as alembic_op`: follow
    // the chain until it adds nothing.
    loop {
        let before = aliases.len();
        for (target, value) in &assigned {
            if (*value == "op" || aliases.contains(value)) && !aliases.contains(target) {
                aliases.push(target);
            }
        }
        if aliases.len() == before {
            return aliases;
        }
    }
}

/// `target = value`, both plain names.
fn name_assignment(stmt: &Stmt) -> Option<(&str, &str)> {
    let Stmt::Assign(a) = stmt else { return None };
    match (a.targets.as_slice(), &*a.value) {
        ([Expr::Name(target)], Expr::Name(value)) => Some((target.id.as_str(), value.id.as_str())),
        _ => None,
    }
}
