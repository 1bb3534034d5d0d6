//! Static evaluation of the Python a migration runs, as far as its own
//! code says: string constants and f-strings, `op.f(...)`, concatenation,
//! literal lists, tuples and dicts, comprehensions, subscripts, `zip` and
//! `enumerate` over them, and the dialect a migration asks about
//! (`op.get_bind().dialect.name`, `bind.engine.name`). What it cannot
//! decide is `None`, never a guess: the reader then marks what it touches
//! as uncertain.

use std::collections::HashMap;

use ruff_python_ast::{
    BoolOp, CmpOp, Comprehension, Expr, ExprCall, FStringPart, InterpolatedStringElement, Operator,
    Stmt, StmtFunctionDef, UnaryOp,
};

use ruff_text_size::{Ranged, TextRange};

use crate::migration::Exists;
use crate::project::config::Dialect;

/// A value the migration's code computes, when miglint can know it.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
    None,
    /// A list, tuple or set.
    Seq(Vec<Value>),
    /// A dict literal, in order.
    Dict(Vec<(Value, Value)>),
    /// `op.get_bind()`, `op.get_context()` or a connection from them.
    Bind,
    /// `bind.dialect`, `bind.engine`.
    DialectObj,
    /// The dialect's name: `bind.dialect.name`.
    DialectName,
    /// The database URL (`bind.engine.url`, `str(...)` of it, Alembic's
    /// `sqlalchemy.url` option): it starts with the dialect's name, the
    /// rest (driver, host) unknown.
    DialectUrl,
    /// `sa.inspect(bind)`.
    Inspector,
    /// `inspector.get_table_names()`: the tables at that point of the chain,
    /// which only the replay knows.
    TableNames,
    /// `sa.text("...")`: SQL, usable as an index element.
    Text(String),
    /// The names of a table's columns (`{c["name"] for c in
    /// inspector.get_columns("t")}`) or indexes (`get_indexes`).
    ColumnNames(String),
    IndexNames(String),
    /// A mapped model class, by its table (`__tablename__ = "t"`).
    Model(String),
    /// Those of these names that the inspector lists (`{"a", "b"} &
    /// columns_of_t`): which, only the replay knows.
    Among(Vec<String>, Box<Value>),
    /// A call miglint does not evaluate, kept as written and found again by
    /// where it is in the file: a `sa.Column(...)` in a list of table specs,
    /// a type (`sa.Text()`) in a list of columns to add. Its value is
    /// unknown: it is never equal to anything, nor true or false.
    Item(TextRange),
}

/// A condition, as far as the code decides it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cond {
    Known(bool),
    /// Whether a table, column or index exists (`exists`) or not, at that
    /// point of the chain.
    Exists {
        what: Exists,
        exists: bool,
    },
    /// Several such checks that must all hold (`has_column(t, c)`: the
    /// table is there, and so is the column).
    All(Vec<(Exists, bool)>),
    Unknown,
}

impl Cond {
    /// This condition and `rest` both.
    fn and(checks: Vec<(Exists, bool)>, rest: Cond) -> Cond {
        if checks.is_empty() {
            return rest;
        }
        let mut all = checks;
        match rest {
            Cond::Known(false) => return Cond::Known(false),
            Cond::Known(true) => {}
            Cond::Exists { what, exists } => all.push((what, exists)),
            Cond::All(more) => all.extend(more),
            Cond::Unknown => return Cond::Unknown,
        }
        // A column or index that exists implies its table does: that
        // check says nothing more (`has_column` checks the table first).
        let implied: Vec<String> = all
            .iter()
            .filter(|(w, exists)| *exists && !matches!(w, Exists::Table(_)))
            .map(|(w, _)| w.table().to_ascii_lowercase())
            .collect();
        all.retain(|(w, exists)| {
            !(*exists && matches!(w, Exists::Table(t) if implied.contains(&t.to_ascii_lowercase())))
        });
        match <[_; 1]>::try_from(all) {
            Ok([(what, exists)]) => Cond::Exists { what, exists },
            Err(all) => Cond::All(all),
        }
    }
}

/// A helper's body read up to what it returns: its scope there, each
/// `if <test>: return <value>` before (with the scope at that point), and
/// the final value.
struct Returned<'e> {
    env: Env,
    early: Vec<(Env, &'e Expr, &'e Expr)>,
    value: &'e Expr,
    foreign: bool,
}

/// Names bound to known values, innermost scope last.
#[derive(Clone, Debug, Default)]
pub struct Env {
    /// `None`: bound to something miglint cannot evaluate, which hides
    /// what an outer scope holds under the same name.
    scopes: Vec<HashMap<String, Option<Value>>>,
}

impl Env {
    pub fn new() -> Env {
        Env {
            scopes: vec![HashMap::new()],
        }
    }

    pub fn push(&mut self) {
        self.scopes.push(HashMap::new());
    }

    pub fn pop(&mut self) {
        if self.scopes.len() > 1 {
            self.scopes.pop();
        }
    }

    /// Binds `name` in the innermost scope; `None` forgets what it held
    /// (an assignment miglint cannot evaluate hides any outer value).
    pub fn bind(&mut self, name: &str, value: Option<Value>) {
        let scope = self.scopes.last_mut().expect("one scope at least");
        scope.insert(name.to_string(), value);
    }

    /// Forgets the list or dict `name` holds, in every scope: code miglint
    /// does not model may have changed it in place (`names.append(x)`,
    /// `counts[k] = v`). What cannot change in place (a string, the
    /// connection) is kept.
    pub fn forget(&mut self, name: &str) {
        for scope in &mut self.scopes {
            if let Some(value) = scope.get_mut(name)
                && matches!(value, Some(Value::Seq(_) | Value::Dict(_)))
            {
                *value = None;
            }
        }
    }

    /// What `name` holds, if known.
    pub fn lookup(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.scopes
            .iter()
            .rev()
            .find_map(|s| s.get(name))
            .and_then(Option::as_ref)
    }
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The items of a sequence, or of a dict's keys.
    pub fn items(&self) -> Option<Vec<Value>> {
        match self {
            Value::Seq(v) => Some(v.clone()),
            Value::Dict(d) => Some(d.iter().map(|(k, _)| k.clone()).collect()),
            _ => None,
        }
    }

    /// Whether this is, or holds, an expression kept by where it stands.
    fn holds_item(&self) -> bool {
        match self {
            Value::Item(_) => true,
            Value::Seq(items) => items.iter().any(Value::holds_item),
            Value::Dict(pairs) => pairs.iter().any(|(k, v)| k.holds_item() || v.holds_item()),
            Value::Among(_, v) => v.holds_item(),
            _ => false,
        }
    }

    fn truthy(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Int(i) => Some(*i != 0),
            Value::Str(s) => Some(!s.is_empty()),
            Value::None => Some(false),
            Value::Seq(v) => Some(!v.is_empty()),
            Value::Dict(d) => Some(!d.is_empty()),
            _ => None,
        }
    }
}

/// Whether any of several answers holds: yes when one does, no when every
/// one is known not to, else not known.
pub fn any_of(answers: impl IntoIterator<Item = Option<bool>>) -> Option<bool> {
    let mut all_no = true;
    for a in answers {
        match a {
            Some(true) => return Some(true),
            Some(false) => {}
            None => all_no = false,
        }
    }
    all_no.then_some(false)
}

/// What the inspector lists: table, column or index names.
fn listed(v: &Value) -> bool {
    matches!(
        v,
        Value::TableNames | Value::ColumnNames(_) | Value::IndexNames(_)
    )
}

/// That `name` is among what the inspector lists as `names`.
pub fn listed_exists(names: &Value, name: String) -> Option<Exists> {
    Some(match names {
        Value::TableNames => Exists::Table(name),
        Value::ColumnNames(t) => Exists::Column(t.clone(), name),
        Value::IndexNames(t) => Exists::Index(t.clone(), name),
        _ => return None,
    })
}

/// `sa.JSON`, `String`: a name, or attributes of one.
pub(crate) fn is_dotted(e: &Expr) -> bool {
    match e {
        Expr::Name(_) => true,
        Expr::Attribute(a) => is_dotted(&a.value),
        _ => false,
    }
}

/// How deep expressions are followed (names bound to names, nested f-strings).
const MAX_DEPTH: usize = 32;

/// Helper functions by name, whose return values may be computed.
pub type Functions<'f> = HashMap<&'f str, &'f StmtFunctionDef>;

/// How many helper calls deep a return value is followed.
const MAX_CALLS: usize = 8;

/// Evaluates expressions against an environment and the set's dialect.
pub struct Evaluator<'e> {
    pub env: &'e Env,
    pub dialect: Dialect,
    /// The alias of the enclosing `op.batch_alter_table(...) as alias`,
    /// whose `alias.f(...)` names like `op.f(...)`.
    pub batch_alias: Option<&'e str>,
    /// Helpers whose return value a call stands for (`get_table_names()`
    /// returning `inspector.get_table_names()`).
    pub functions: Option<&'e Functions<'e>>,
    /// Helpers imported from the project's other files, read only for
    /// what they return.
    pub imported: Option<&'e Functions<'e>>,
    /// Helper calls being followed.
    pub calls: usize,
    /// Evaluating code of another file (an imported helper): what it
    /// holds cannot be found again in the migration's.
    pub foreign: bool,
    /// Other names the migration gives Alembic's `op`.
    pub op_aliases: &'e [&'e str],
}

impl<'e> Evaluator<'e> {
    /// `f(...)` for a helper whose body only names values and returns one:
    /// its scope (parameters and names bound) and the expression it
    /// returns. Anything else in the body (a branch, a loop, a call for its
    /// effect) makes the value unknown.
    fn returned(&self, call: &ExprCall) -> Option<Returned<'e>> {
        let Expr::Name(name) = &*call.func else {
            return None;
        };
        let name = name.id.as_str();
        let (f, foreign) = match self.functions.and_then(|fs| fs.get(name)) {
            Some(f) => (*f, self.foreign),
            None => (*self.imported.and_then(|fs| fs.get(name))?, true),
        };
        if self.calls >= MAX_CALLS {
            return None;
        }
        let mut env = self.env.clone();
        env.push();
        let params = &f.parameters;
        let positional = params.posonlyargs.iter().chain(&params.args);
        for (i, p) in positional.enumerate() {
            let given = call.arguments.args.get(i).or_else(|| {
                call.arguments
                    .keywords
                    .iter()
                    .find(|k| k.arg.as_ref().is_some_and(|a| a.id == p.parameter.name.id))
                    .map(|k| &k.value)
            });
            let value = given.or(p.default.as_deref()).and_then(|e| self.value(e));
            env.bind(p.parameter.name.id.as_str(), value);
        }
        if call.arguments.args.len() > params.posonlyargs.len() + params.args.len() {
            return None;
        }
        let mut early = Vec::new();
        for stmt in &f.body {
            let inner = self.within(&env, foreign);
            match stmt {
                // `if not has_table(t): return False`
                Stmt::If(s)
                    if s.elif_else_clauses.is_empty()
                        && let [Stmt::Return(r)] = s.body.as_slice()
                        && let Some(v) = r.value.as_deref() =>
                {
                    early.push((env.clone(), &*s.test, v));
                }
                // `if <test>: return <value> else: return <other>`
                Stmt::If(s)
                    if let [else_clause] = s.elif_else_clauses.as_slice()
                        && else_clause.test.is_none()
                        && let [Stmt::Return(r)] = s.body.as_slice()
                        && let Some(v) = r.value.as_deref()
                        && let [Stmt::Return(other)] = else_clause.body.as_slice() =>
                {
                    early.push((env.clone(), &*s.test, v));
                    return Some(Returned {
                        env,
                        early,
                        value: other.value.as_deref()?,
                        foreign,
                    });
                }
                Stmt::Expr(e) if e.value.is_string_literal_expr() => {}
                Stmt::Assign(a) => {
                    let value = inner.value(&a.value);
                    for t in &a.targets {
                        bind_target(&mut env, t, value.clone());
                    }
                }
                Stmt::AnnAssign(a) => {
                    let value = a.value.as_deref().and_then(|v| inner.value(v));
                    bind_target(&mut env, &a.target, value);
                }
                Stmt::Return(r) => {
                    return Some(Returned {
                        env,
                        early,
                        value: r.value.as_deref()?,
                        foreign,
                    });
                }
                _ => return None,
            }
        }
        None
    }

    /// `{c["name"] for c in inspector.get_columns("t")}` (or a list, or
    /// `c.get("name")`), and the same over `get_indexes`: the names the
    /// inspector lists.
    fn inspector_names(
        &self,
        elt: &Expr,
        generators: &[Comprehension],
        depth: usize,
    ) -> Option<Value> {
        let [g] = generators else {
            return None;
        };
        if !g.ifs.is_empty() {
            return None;
        }
        let Expr::Name(var) = &g.target else {
            return None;
        };
        if !is_name_of(elt, var.id.as_str()) {
            return None;
        }
        let Expr::Call(call) = &g.iter else {
            return None;
        };
        let Expr::Attribute(a) = &*call.func else {
            return None;
        };
        if self.value_at(&a.value, depth + 1)? != Value::Inspector {
            return None;
        }
        let table = self.string(call.arguments.args.first()?)?;
        match a.attr.id.as_str() {
            "get_columns" => Some(Value::ColumnNames(table)),
            "get_indexes" => Some(Value::IndexNames(table)),
            _ => None,
        }
    }

    /// An evaluator of another file's module-level values: no helpers,
    /// nothing kept by position.
    pub fn detached(env: &'e Env, dialect: Dialect) -> Evaluator<'e> {
        Evaluator {
            env,
            dialect,
            batch_alias: None,
            functions: None,
            imported: None,
            calls: 0,
            foreign: true,
            op_aliases: &[],
        }
    }

    /// Whether `name` is a helper function the migration (or a module it
    /// imports) defines, which hides a builtin of that name.
    fn is_helper(&self, name: &str) -> bool {
        self.functions.is_some_and(|fs| fs.contains_key(name))
            || self.imported.is_some_and(|fs| fs.contains_key(name))
    }

    /// The same evaluator inside a helper's scope.
    fn within<'s>(&'s self, env: &'s Env, foreign: bool) -> Evaluator<'s> {
        Evaluator {
            env,
            dialect: self.dialect,
            batch_alias: None,
            functions: self.functions,
            imported: self.imported,
            calls: self.calls + 1,
            foreign,
            op_aliases: if foreign { &[] } else { self.op_aliases },
        }
    }

    /// `op`, or the enclosing batch's alias.
    fn is_op(&self, name: &str) -> bool {
        name == "op" || self.op_aliases.contains(&name) || self.batch_alias == Some(name)
    }

    pub fn value(&self, expr: &Expr) -> Option<Value> {
        self.value_at(expr, 0)
    }

    pub fn string(&self, expr: &Expr) -> Option<String> {
        match self.value(expr)? {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A list of strings, or one string as a list of one.
    pub fn strings(&self, expr: &Expr) -> Option<Vec<String>> {
        match self.value(expr)? {
            Value::Str(s) => Some(vec![s]),
            v => v
                .items()?
                .into_iter()
                .map(|i| match i {
                    Value::Str(s) => Some(s),
                    _ => None,
                })
                .collect(),
        }
    }

    /// A condition: decided, an inspector check on one table, or unknown.
    pub fn condition(&self, expr: &Expr) -> Cond {
        if let Some(b) = self.truth(expr) {
            return Cond::Known(b);
        }
        // `if cols_to_drop:` holding `{"a", "b"} & columns`: any is there.
        if let Some(Value::Among(items, names)) = self.value(expr) {
            let any: Option<Vec<Exists>> = items
                .into_iter()
                .map(|i| listed_exists(&names, i))
                .collect();
            return match any {
                Some(any) if !any.is_empty() => Cond::Exists {
                    what: Exists::Any(any),
                    exists: true,
                },
                Some(_) => Cond::Known(false),
                None => Cond::Unknown,
            };
        }
        match expr {
            Expr::UnaryOp(u) if u.op == UnaryOp::Not => match self.condition(&u.operand) {
                Cond::Exists { what, exists } => Cond::Exists {
                    what,
                    exists: !exists,
                },
                Cond::Known(b) => Cond::Known(!b),
                // Not all of several checks: any one may fail.
                Cond::All(_) | Cond::Unknown => Cond::Unknown,
            },
            // `"t" in inspector.get_table_names()`, `"c" in columns_of_t`
            Expr::Compare(c)
                if c.ops.len() == 1 && matches!(c.ops[0], CmpOp::In | CmpOp::NotIn) =>
            {
                let (Some(Value::Str(name)), Some(names)) =
                    (self.value(&c.left), self.value(&c.comparators[0]))
                else {
                    return Cond::Unknown;
                };
                let Some(what) = listed_exists(&names, name) else {
                    return Cond::Unknown;
                };
                Cond::Exists {
                    what,
                    exists: c.ops[0] == CmpOp::In,
                }
            }
            // A helper that returns a check: `has_table("t")` returning
            // `"t" in get_table_names()`.
            Expr::Call(call) if let Some(r) = self.returned(call) => {
                // Past `if <check>: return False`, the check failed.
                let mut checks = Vec::new();
                for (env, test, value) in &r.early {
                    let inner = self.within(env, r.foreign);
                    match inner.condition(test) {
                        Cond::Known(true) => return Cond::and(checks, inner.condition(value)),
                        Cond::Known(false) => {}
                        Cond::Exists { what, exists } if inner.truth(value) == Some(false) => {
                            checks.push((what, !exists))
                        }
                        _ => return Cond::Unknown,
                    }
                }
                Cond::and(checks, self.within(&r.env, r.foreign).condition(r.value))
            }
            // `inspector.has_table("t")`, `bind.dialect.has_table(bind, "t")`
            Expr::Call(call) => {
                let Expr::Attribute(a) = &*call.func else {
                    return Cond::Unknown;
                };
                if a.attr.id.as_str() != "has_table" {
                    return Cond::Unknown;
                }
                let receiver = self.value(&a.value);
                let name = match receiver {
                    Some(Value::Inspector) => call.arguments.args.first(),
                    Some(Value::DialectObj) => call.arguments.args.get(1),
                    _ => None,
                };
                let name = name.or_else(|| {
                    call.arguments
                        .keywords
                        .iter()
                        .find(|k| {
                            k.arg
                                .as_ref()
                                .is_some_and(|n| n.id.as_str() == "table_name")
                        })
                        .map(|k| &k.value)
                });
                match name.and_then(|n| self.string(n)) {
                    Some(table) if receiver.is_some() => Cond::Exists {
                        what: Exists::Table(table),
                        exists: true,
                    },
                    _ => Cond::Unknown,
                }
            }
            _ => Cond::Unknown,
        }
    }

    /// Whether a condition holds, when the code says so.
    pub fn truth(&self, expr: &Expr) -> Option<bool> {
        match expr {
            Expr::BoolOp(b) => {
                let values: Vec<Option<bool>> = b.values.iter().map(|v| self.truth(v)).collect();
                match b.op {
                    BoolOp::And if values.contains(&Some(false)) => Some(false),
                    BoolOp::Or if values.contains(&Some(true)) => Some(true),
                    BoolOp::And | BoolOp::Or => {
                        if values.iter().all(Option::is_some) {
                            Some(b.op == BoolOp::And)
                        } else {
                            None
                        }
                    }
                }
            }
            Expr::UnaryOp(u) if u.op == UnaryOp::Not => self.truth(&u.operand).map(|b| !b),
            // `url.startswith("sqlite")`, `dialect.name.startswith(("mysql", "mariadb"))`
            Expr::Call(c)
                if let Expr::Attribute(a) = &*c.func
                    && a.attr.id.as_str() == "startswith"
                    && c.arguments.len() == 1 =>
            {
                let subject = self.value(&a.value)?;
                let prefixes = self.strings(c.arguments.args.first()?)?;
                let name = dialect_name(self.dialect);
                let starts = |p: &str| -> Option<bool> {
                    match subject {
                        Value::DialectName => Some(name.starts_with(p)),
                        // Past the scheme, a URL holds what miglint does not know.
                        Value::DialectUrl if p.len() <= name.len() => Some(name.starts_with(p)),
                        Value::DialectUrl => match p.strip_prefix(name) {
                            Some(":" | ":/" | "://") => Some(true),
                            Some(rest) if rest.starts_with(['+', ':']) => None,
                            _ => Some(false),
                        },
                        _ => None,
                    }
                };
                any_of(prefixes.iter().map(|p| starts(p)))
            }
            Expr::Compare(c) if c.ops.len() == 1 => {
                let left = self.value(&c.left)?;
                let right = self.value(&c.comparators[0])?;
                let dialect = Value::Str(dialect_name(self.dialect).to_string());
                let resolve = |v: Value| {
                    if v == Value::DialectName {
                        dialect.clone()
                    } else {
                        v
                    }
                };
                let (left, right) = (resolve(left), resolve(right));
                let known = |v: &Value| {
                    matches!(
                        v,
                        Value::Str(_) | Value::Int(_) | Value::Bool(_) | Value::None
                    )
                };
                match c.ops[0] {
                    CmpOp::Eq | CmpOp::NotEq | CmpOp::Is | CmpOp::IsNot
                        if known(&left) && known(&right) =>
                    {
                        let equal = left == right;
                        Some(matches!(c.ops[0], CmpOp::Eq | CmpOp::Is) == equal)
                    }
                    CmpOp::In | CmpOp::NotIn if known(&left) => {
                        let found = match &right {
                            Value::Str(hay) => match &left {
                                Value::Str(needle) => hay.contains(needle.as_str()),
                                _ => return None,
                            },
                            other => {
                                let items = other.items()?;
                                // An item miglint does not know may be it.
                                if items.iter().any(|i| !known(i)) {
                                    return None;
                                }
                                items.contains(&left)
                            }
                        };
                        Some((c.ops[0] == CmpOp::In) == found)
                    }
                    _ => None,
                }
            }
            other => self.value(other)?.truthy(),
        }
    }

    fn value_at(&self, expr: &Expr, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        let value = self.computed(expr, depth);
        match expr {
            // Kept by where it is in the migration's own file only.
            Expr::Call(c) if value.is_none() && !self.foreign => Some(Value::Item(c.range())),
            // A type named, not called (`return sa.JSON`).
            Expr::Attribute(_) if value.is_none() && !self.foreign && is_dotted(expr) => {
                Some(Value::Item(expr.range()))
            }
            _ => value,
        }
    }

    fn computed(&self, expr: &Expr, depth: usize) -> Option<Value> {
        let v = match expr {
            Expr::StringLiteral(s) => Value::Str(s.value.to_str().to_string()),
            Expr::NumberLiteral(n) => Value::Int(n.value.as_int()?.as_i64()?),
            Expr::BooleanLiteral(b) => Value::Bool(b.value),
            Expr::NoneLiteral(_) => Value::None,
            Expr::Name(n) => self.env.get(n.id.as_str())?.clone(),
            Expr::List(l) => Value::Seq(self.all(&l.elts, depth)?),
            Expr::Tuple(t) => Value::Seq(self.all(&t.elts, depth)?),
            Expr::Set(s) => Value::Seq(self.all(&s.elts, depth)?),
            Expr::Dict(d) => {
                let mut items = Vec::new();
                for item in d.iter() {
                    match item.key.as_ref() {
                        Some(key) => {
                            let key = self.value_at(key, depth + 1)?;
                            let value = self.value_at(&item.value, depth + 1)?;
                            dict_insert(&mut items, key, value);
                        }
                        // `{**others, "k": v}`
                        None => match self.value_at(&item.value, depth + 1)? {
                            Value::Dict(others) => {
                                for (k, v) in others {
                                    dict_insert(&mut items, k, v);
                                }
                            }
                            _ => return None,
                        },
                    }
                }
                Value::Dict(items)
            }
            // `[(t, "id") for t in tables if t != "user"]`, over sequences
            // miglint knows.
            Expr::ListComp(ruff_python_ast::ExprListComp {
                elt, generators, ..
            })
            | Expr::SetComp(ruff_python_ast::ExprSetComp {
                elt, generators, ..
            })
            | Expr::Generator(ruff_python_ast::ExprGenerator {
                elt, generators, ..
            }) => match self.inspector_names(elt, generators, depth) {
                Some(names) => names,
                None => Value::Seq(self.comprehension(Elt::One(elt), generators, depth)?),
            },
            // `{new: old for old, new in renames.items()}`
            Expr::DictComp(dc) => {
                let key = dc.key.as_deref()?;
                let mut pairs = Vec::new();
                for pair in self.comprehension(Elt::Pair(key, &dc.value), &dc.generators, depth)? {
                    let Value::Seq(kv) = pair else { return None };
                    let [k, v]: [Value; 2] = kv.try_into().ok()?;
                    dict_insert(&mut pairs, k, v);
                }
                Value::Dict(pairs)
            }
            // `renames[table]`, `pair[0]`, `pair[-1]`
            Expr::Subscript(sub) if !sub.slice.is_slice_expr() => {
                match (
                    self.value_at(&sub.value, depth + 1)?,
                    self.value_at(&sub.slice, depth + 1)?,
                ) {
                    (Value::Dict(pairs), key) => {
                        pairs.into_iter().find(|(k, _)| *k == key).map(|(_, v)| v)?
                    }
                    (Value::Seq(items), Value::Int(i)) => {
                        let at = if i < 0 { i + items.len() as i64 } else { i };
                        items.into_iter().nth(usize::try_from(at).ok()?)?
                    }
                    _ => return None,
                }
            }
            // `zip(old, new)`, `enumerate(names)`
            Expr::Call(c)
                if c.arguments.keywords.is_empty()
                    && !c.arguments.args.is_empty()
                    && let Expr::Name(n) = &*c.func
                    && matches!(n.id.as_str(), "zip" | "enumerate")
                    && !self.is_helper(n.id.as_str()) =>
            {
                let seqs = c
                    .arguments
                    .args
                    .iter()
                    .map(|a| self.value_at(a, depth + 1)?.items())
                    .collect::<Option<Vec<Vec<Value>>>>()?;
                match (n.id.as_str(), seqs.as_slice()) {
                    ("enumerate", [items]) => Value::Seq(
                        items
                            .iter()
                            .enumerate()
                            .map(|(i, v)| {
                                Some(Value::Seq(vec![
                                    Value::Int(i64::try_from(i).ok()?),
                                    v.clone(),
                                ]))
                            })
                            .collect::<Option<_>>()?,
                    ),
                    ("zip", _) => {
                        let n = seqs.iter().map(Vec::len).min().unwrap_or(0);
                        Value::Seq(
                            (0..n)
                                .map(|i| Value::Seq(seqs.iter().map(|s| s[i].clone()).collect()))
                                .collect(),
                        )
                    }
                    _ => return None,
                }
            }
            Expr::FString(f) => {
                let mut out = String::new();
                for part in f.value.iter() {
                    match part {
                        FStringPart::Literal(s) => out.push_str(&s.value),
                        FStringPart::FString(fs) => {
                            for element in fs.elements.iter() {
                                match element {
                                    InterpolatedStringElement::Literal(l) => out.push_str(&l.value),
                                    InterpolatedStringElement::Interpolation(i) => {
                                        if i.format_spec.is_some() || i.debug_text.is_some() {
                                            return None;
                                        }
                                        match self.value_at(&i.expression, depth + 1)? {
                                            Value::Str(s) => out.push_str(&s),
                                            Value::Int(n) => out.push_str(&n.to_string()),
                                            _ => return None,
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                Value::Str(out)
            }
            // `{"api_key", "oauth_sub"} & user_columns`
            Expr::BinOp(b) if b.op == Operator::BitAnd => {
                let (l, r) = (
                    self.value_at(&b.left, depth + 1)?,
                    self.value_at(&b.right, depth + 1)?,
                );
                let (literal, names) = if listed(&r) { (l, r) } else { (r, l) };
                if !listed(&names) {
                    return None;
                }
                let items = match literal {
                    Value::Seq(items) => items
                        .into_iter()
                        .map(|i| match i {
                            Value::Str(s) => Some(s),
                            _ => None,
                        })
                        .collect::<Option<Vec<String>>>()?,
                    _ => return None,
                };
                Value::Among(items, Box::new(names))
            }
            Expr::BinOp(b) if b.op == Operator::Add => {
                match (
                    self.value_at(&b.left, depth + 1)?,
                    self.value_at(&b.right, depth + 1)?,
                ) {
                    (Value::Str(l), Value::Str(r)) => Value::Str(l + &r),
                    (Value::Int(l), Value::Int(r)) => Value::Int(l.checked_add(r)?),
                    (Value::Seq(l), Value::Seq(r)) => Value::Seq(l.into_iter().chain(r).collect()),
                    _ => return None,
                }
            }
            Expr::Attribute(a) => {
                let base = self.value_at(&a.value, depth + 1);
                match (base, a.attr.id.as_str()) {
                    (Some(Value::Bind), "dialect" | "engine") => Value::DialectObj,
                    (Some(Value::Bind), "bind" | "connection") => Value::Bind,
                    (Some(Value::DialectObj), "name") => Value::DialectName,
                    (Some(Value::Bind | Value::DialectObj), "url") => Value::DialectUrl,
                    (Some(Value::DialectUrl), "drivername") => Value::DialectUrl,
                    // `bind.engine.dialect.name`
                    (Some(Value::DialectObj), "dialect") => Value::DialectObj,
                    (Some(Value::Model(table)), "__tablename__") => Value::Str(table),
                    // `inspector.dialect.dialect_description` holds the
                    // dialect's name ("sqlite+pysqlite"): `"postgresql" in
                    // ...` is decided by it.
                    (Some(Value::Inspector), "dialect") => Value::DialectObj,
                    (Some(Value::DialectObj), "dialect_description") => Value::DialectName,
                    _ => return None,
                }
            }
            Expr::Call(c) if let Some(r) = self.returned(c) => {
                for (env, test, value) in &r.early {
                    let inner = self.within(env, r.foreign);
                    if inner.truth(test)? {
                        return inner.value_at(value, depth + 1);
                    }
                }
                self.within(&r.env, r.foreign)
                    .value_at(r.value, depth + 1)?
            }
            Expr::Call(c)
                if matches!(&*c.func, Expr::Name(_) | Expr::Attribute(_)) && {
                    let name = match &*c.func {
                        Expr::Name(n) => n.id.as_str(),
                        Expr::Attribute(a) => a.attr.id.as_str(),
                        _ => "",
                    };
                    matches!(
                        name,
                        "inspect"
                            | "set"
                            | "list"
                            | "frozenset"
                            | "tuple"
                            | "sorted"
                            | "reversed"
                            | "str"
                    ) && c.arguments.args.len() == 1
                        && c.arguments.keywords.is_empty()
                } =>
            {
                let inner = self.value_at(&c.arguments.args[0], depth + 1)?;
                match (&*c.func, inner) {
                    // `inspect(bind)`, `inspect(bind.engine)`
                    (Expr::Name(n), Value::Bind | Value::DialectObj)
                        if n.id.as_str() == "inspect" =>
                    {
                        Value::Inspector
                    }
                    (Expr::Attribute(a), Value::Bind | Value::DialectObj)
                        if a.attr.id.as_str() == "inspect" =>
                    {
                        Value::Inspector
                    }
                    // `str(bind.engine.url)`; `str` of anything else is not
                    // followed.
                    (Expr::Name(n), v @ (Value::DialectUrl | Value::Str(_)))
                        if n.id.as_str() == "str" =>
                    {
                        v
                    }
                    (Expr::Name(n), _) if n.id.as_str() == "str" => return None,
                    (_, v @ (Value::TableNames | Value::ColumnNames(_) | Value::IndexNames(_))) => {
                        v
                    }
                    (Expr::Name(n), v @ (Value::Seq(_) | Value::Dict(_)))
                        if n.id.as_str() != "inspect" =>
                    {
                        let mut items = v.items()?;
                        match n.id.as_str() {
                            "reversed" => items.reverse(),
                            "sorted" => {
                                let mut strings: Vec<String> = items
                                    .iter()
                                    .map(|i| i.as_str().map(str::to_string))
                                    .collect::<Option<_>>()?;
                                strings.sort();
                                items = strings.into_iter().map(Value::Str).collect();
                            }
                            _ => {}
                        }
                        Value::Seq(items)
                    }
                    _ => return None,
                }
            }
            Expr::Call(c) => {
                let method = match &*c.func {
                    Expr::Attribute(a) => Some((&*a.value, a.attr.id.as_str())),
                    _ => None,
                };
                match method {
                    // `op.f("ix_name")`: the name as given.
                    Some((Expr::Name(n), "f"))
                        if self.is_op(n.id.as_str()) && c.arguments.args.len() == 1 =>
                    {
                        self.value_at(&c.arguments.args[0], depth + 1)?
                    }
                    Some((Expr::Name(n), "get_bind" | "get_context"))
                        if self.is_op(n.id.as_str()) =>
                    {
                        Value::Bind
                    }
                    // `url.get_backend_name()`
                    Some((receiver, "get_backend_name"))
                        if c.arguments.is_empty()
                            && self.value_at(receiver, depth + 1)? == Value::DialectUrl =>
                    {
                        Value::DialectName
                    }
                    // `context.config.get_main_option("sqlalchemy.url")`
                    Some((_, "get_main_option"))
                        if c.arguments
                            .args
                            .first()
                            .and_then(|a| self.string(a))
                            .as_deref()
                            == Some("sqlalchemy.url") =>
                    {
                        Value::DialectUrl
                    }
                    Some((receiver, "items" | "keys" | "values")) if c.arguments.is_empty() => {
                        let Value::Dict(d) = self.value_at(receiver, depth + 1)? else {
                            return None;
                        };
                        let attr = match &*c.func {
                            Expr::Attribute(a) => a.attr.id.as_str(),
                            _ => return None,
                        };
                        Value::Seq(
                            d.into_iter()
                                .map(|(k, v)| match attr {
                                    "items" => Value::Seq(vec![k, v]),
                                    "keys" => k,
                                    _ => v,
                                })
                                .collect(),
                        )
                    }
                    Some((_, "text"))
                        if c.arguments.args.len() == 1 && c.arguments.keywords.is_empty() =>
                    {
                        match self.value_at(&c.arguments.args[0], depth + 1)? {
                            Value::Str(s) => Value::Text(s),
                            _ => return None,
                        }
                    }
                    Some((receiver, "get_table_names")) if c.arguments.is_empty() => {
                        match self.value_at(receiver, depth + 1)? {
                            Value::Inspector => Value::TableNames,
                            _ => return None,
                        }
                    }
                    // `Inspector.from_engine(bind.engine)`
                    Some((receiver, "from_engine"))
                        if c.arguments.args.len() == 1
                            && (matches!(receiver, Expr::Name(n) if n.id.as_str() == "Inspector")
                                || matches!(receiver, Expr::Attribute(a) if a.attr.id.as_str() == "Inspector")) =>
                    {
                        match self.value_at(&c.arguments.args[0], depth + 1)? {
                            Value::Bind | Value::DialectObj => Value::Inspector,
                            _ => return None,
                        }
                    }
                    Some((receiver, "connect")) => match self.value_at(receiver, depth + 1)? {
                        Value::Bind => Value::Bind,
                        _ => return None,
                    },
                    _ => return None,
                }
            }
            _ => return None,
        };
        Some(v)
    }

    /// The items of a literal list, tuple or set, `*others` spliced in.
    fn all(&self, elts: &[Expr], depth: usize) -> Option<Vec<Value>> {
        let mut out = Vec::new();
        for e in elts {
            match e {
                Expr::Starred(s) => out.extend(self.value_at(&s.value, depth + 1)?.items()?),
                _ => out.push(self.value_at(e, depth + 1)?),
            }
        }
        Some(out)
    }

    /// The same evaluator over another environment (a comprehension's).
    fn scoped<'s>(&'s self, env: &'s Env) -> Evaluator<'s> {
        Evaluator {
            env,
            dialect: self.dialect,
            batch_alias: self.batch_alias,
            functions: self.functions,
            imported: self.imported,
            calls: self.calls,
            foreign: self.foreign,
            op_aliases: self.op_aliases,
        }
    }

    /// What a comprehension makes, item by item (a key and value pair for
    /// a dict's): each `for` over a sequence miglint knows, each `if`
    /// decided. Unknown when any of them is not, or when an item is an
    /// expression kept by where it stands (a call), which names the loop
    /// variable miglint would no longer have.
    fn comprehension(
        &self,
        elt: Elt<'_>,
        generators: &[Comprehension],
        depth: usize,
    ) -> Option<Vec<Value>> {
        let mut env = self.env.clone();
        env.push();
        let mut out = Vec::new();
        self.generate(elt, generators, &mut env, depth, &mut out)?;
        Some(out)
    }

    fn generate(
        &self,
        elt: Elt<'_>,
        generators: &[Comprehension],
        env: &mut Env,
        depth: usize,
        out: &mut Vec<Value>,
    ) -> Option<()> {
        let Some((g, rest)) = generators.split_first() else {
            let ev = self.scoped(env);
            let item = match elt {
                Elt::One(e) => ev.value_at(e, depth + 1)?,
                Elt::Pair(k, v) => {
                    Value::Seq(vec![ev.value_at(k, depth + 1)?, ev.value_at(v, depth + 1)?])
                }
            };
            if item.holds_item() || out.len() >= MAX_ITEMS {
                return None;
            }
            out.push(item);
            return Some(());
        };
        if g.is_async {
            return None;
        }
        let items = self.scoped(env).value_at(&g.iter, depth + 1)?.items()?;
        'items: for item in items {
            bind_target(env, &g.target, Some(item));
            let ev = self.scoped(env);
            for test in &g.ifs {
                if !ev.truth(test)? {
                    continue 'items;
                }
            }
            self.generate(elt, rest, env, depth, out)?;
        }
        Some(())
    }
}

/// What a comprehension makes of each binding.
#[derive(Clone, Copy)]
enum Elt<'x> {
    One(&'x Expr),
    /// A dict comprehension's key and value.
    Pair(&'x Expr, &'x Expr),
}

/// How many items a comprehension may make before miglint stops reading it.
const MAX_ITEMS: usize = 1000;

/// Sets `key` in a dict's pairs as Python does: a key given twice keeps its
/// first place and its last value.
fn dict_insert(pairs: &mut Vec<(Value, Value)>, key: Value, value: Value) {
    match pairs.iter_mut().find(|(k, _)| *k == key) {
        Some(pair) => pair.1 = value,
        None => pairs.push((key, value)),
    }
}

/// `c["name"]` or `c.get("name")`, for the loop variable `var`.
fn is_name_of(expr: &Expr, var: &str) -> bool {
    let is_var = |e: &Expr| matches!(e, Expr::Name(n) if n.id.as_str() == var);
    let is_name = |e: &Expr| matches!(e, Expr::StringLiteral(s) if s.value.to_str() == "name");
    match expr {
        Expr::Subscript(s) => is_var(&s.value) && is_name(&s.slice),
        Expr::Call(c) => match &*c.func {
            Expr::Attribute(a) => {
                a.attr.id.as_str() == "get"
                    && is_var(&a.value)
                    && c.arguments.args.first().is_some_and(is_name)
            }
            _ => false,
        },
        _ => false,
    }
}

/// The name SQLAlchemy gives the dialect (`bind.dialect.name`).
pub fn dialect_name(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "sqlite",
        Dialect::Postgresql => "postgresql",
        Dialect::Mysql => "mysql",
    }
}

/// Binds an assignment's or a `for`'s target (a name or a tuple of names)
/// to one item; a target inside a container (`d[k] = v`, `obj.x = v`)
/// changes that container, which is then no longer known.
pub fn bind_target(env: &mut Env, target: &Expr, item: Option<Value>) {
    match target {
        Expr::Subscript(_) | Expr::Attribute(_) => {
            if let Some(name) = root_name(target) {
                env.forget(name);
            }
        }
        Expr::Name(n) => env.bind(n.id.as_str(), item),
        Expr::Tuple(t) => {
            let parts = item
                .and_then(|v| v.items())
                .filter(|p| p.len() == t.elts.len());
            for (i, e) in t.elts.iter().enumerate() {
                bind_target(env, e, parts.as_ref().map(|p| p[i].clone()));
            }
        }
        Expr::List(l) => {
            let parts = item
                .and_then(|v| v.items())
                .filter(|p| p.len() == l.elts.len());
            for (i, e) in l.elts.iter().enumerate() {
                bind_target(env, e, parts.as_ref().map(|p| p[i].clone()));
            }
        }
        _ => {}
    }
}

/// The name an attribute or subscript chain starts from (`d` of `d[k].x`).
pub fn root_name(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Name(n) => Some(n.id.as_str()),
        Expr::Attribute(a) => root_name(&a.value),
        Expr::Subscript(s) => root_name(&s.value),
        _ => None,
    }
}
