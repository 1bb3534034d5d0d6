//! Helpers a migration imports from the project's own files
//! (`from app.migrations.util import get_existing_tables`): their modules
//! are read so that what such a helper returns (the inspector's table
//! names, a `name in get_table_names()` check) can stand for its call, and
//! a column type defined there (`class JSONField(TypeDecorator): impl =
//! Text`) for what it stores. Their operations are never read from there:
//! those belong to another file.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
use ruff_python_ast::{
    Expr, ExprContext, ModModule, PySourceType, Stmt, StmtClassDef, StmtFunctionDef,
};
use ruff_python_parser::{Parsed, parse_unchecked_source};
use ruff_text_size::{Ranged, TextRange};

use crate::load::eval::{Env, Evaluator, Functions, Value, is_dotted};
use crate::load::python::{assignment, callee_name};
use crate::project::config::Dialect;

/// Modules larger than this are not read for helpers.
const MAX_MODULE_BYTES: u64 = 256 * 1024;

/// How many folders up from a migration an imported package is looked for.
const MAX_LEVELS: usize = 8;

/// A module a migration imports helpers from: the names it imports (as
/// named there, as named in the module) and the module, parsed.
struct Module {
    names: Vec<(String, String)>,
    text: String,
    parsed: Parsed<ModModule>,
}

/// A column type the project defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProjectType<'a> {
    /// A `TypeDecorator`: what it stores, as written (`impl = Text`); or a
    /// type made once and named (`UniqueText = db.String(512)`).
    Stores(&'a str),
    /// Another name for a type (`StringID = sa.String`): called with the
    /// arguments written at the call.
    Alias(&'a str),
}

/// The project modules a migration file imports helpers from.
pub struct Imported {
    modules: Vec<Module>,
    /// A module was looked for (found or not).
    pub looked: bool,
}

impl Imported {
    /// Reads the modules that `suite` (the migration at `path`) imports
    /// names from, when one of those names is called in it and the module
    /// is a file of the project.
    pub fn read(path: &Path, suite: &[Stmt]) -> Imported {
        let mut modules = Vec::new();
        let mut looked = false;
        let mut called = None;
        for stmt in suite {
            let Stmt::ImportFrom(import) = stmt else {
                continue;
            };
            let called = called.get_or_insert_with(|| called_names(suite));
            let names: Vec<(String, String)> = import
                .names
                .iter()
                .filter(|alias| alias.name.as_str() != "*")
                .map(|alias| {
                    let local = alias.asname.as_ref().unwrap_or(&alias.name);
                    (local.to_string(), alias.name.to_string())
                })
                .filter(|(local, original)| {
                    called.contains(local.as_str()) || is_constant_name(original)
                })
                .collect();
            if names.is_empty() {
                continue;
            }
            // Only constants imported: looked for in the project only.
            let helpers = names
                .iter()
                .any(|(local, _)| called.contains(local.as_str()));
            looked |= helpers;
            let module = import.module.as_ref().map(|m| m.as_str());
            let Some(file) = module_file(path, module, import.level) else {
                continue;
            };
            looked = true;
            if std::fs::metadata(&file).map_or(true, |m| m.len() > MAX_MODULE_BYTES) {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            let parsed = parse_unchecked_source(&text, PySourceType::Python);
            modules.push(Module {
                names,
                text,
                parsed,
            });
        }
        Imported { modules, looked }
    }

    /// The functions these modules define, by the names the migration
    /// imports them under and by their own (the helpers call each other).
    /// A name two modules define is left out: which one is meant is not
    /// known.
    pub fn functions(&self) -> Functions<'_> {
        let mut out: Functions<'_> = HashMap::new();
        let mut ambiguous: HashSet<&str> = HashSet::new();
        for Module { names, parsed, .. } in &self.modules {
            let defs: HashMap<&str, &StmtFunctionDef> = parsed
                .syntax()
                .body
                .iter()
                .filter_map(|s| match s {
                    Stmt::FunctionDef(f) => Some((f.name.id.as_str(), f)),
                    _ => None,
                })
                .collect();
            let aliases = names.iter().filter_map(|(local, original)| {
                defs.get(original.as_str()).map(|f| (local.as_str(), *f))
            });
            for (name, f) in defs.iter().map(|(n, f)| (*n, *f)).chain(aliases) {
                match out.get(name) {
                    Some(known) if !std::ptr::eq(*known, f) => {
                        ambiguous.insert(name);
                    }
                    _ => {
                        out.insert(name, f);
                    }
                }
            }
        }
        for name in ambiguous {
            out.remove(name);
        }
        out
    }
}

impl Imported {
    /// The constants the migration imports (`MAX_NAME = 255`, `PREFIX =
    /// "ix_"`, a name made from them with an f-string or `+`), by the name
    /// it imports them under: what each module assigns them once, at its
    /// top level, to a value miglint evaluates. A name assigned twice, or
    /// to anything else, is not given.
    pub fn constants(&self, dialect: Dialect) -> Vec<(&str, Value)> {
        let mut out = Vec::new();
        for Module { names, parsed, .. } in &self.modules {
            let body = &parsed.syntax().body;
            let bound = bindings(body);
            let mut env = Env::new();
            for stmt in body {
                let (target, value) = match stmt {
                    Stmt::Assign(a) if a.targets.len() == 1 => (&a.targets[0], &*a.value),
                    Stmt::AnnAssign(a) => match a.value.as_deref() {
                        Some(value) => (&*a.target, value),
                        None => continue,
                    },
                    _ => continue,
                };
                let Expr::Name(n) = target else {
                    continue;
                };
                let name = n.id.as_str();
                // Bound anywhere else too (again, in a branch, by an
                // import, a loop, `global`): not known.
                let value = (bound.get(name) == Some(&1))
                    .then(|| Evaluator::detached(&env, dialect).value(value))
                    .flatten();
                env.bind(name, value);
            }
            for (local, original) in names {
                if !is_constant_name(original) {
                    continue;
                }
                if let Some(v) = env.lookup(original)
                    && matches!(
                        v,
                        Value::Str(_)
                            | Value::Int(_)
                            | Value::Bool(_)
                            | Value::Seq(_)
                            | Value::Dict(_)
                    )
                {
                    out.push((local.as_str(), v.clone()));
                }
            }
        }
        out
    }

    /// The column types these modules define, by name: `TypeDecorator`
    /// subclasses (what each stores, as written there: `impl = Text`) and
    /// module-level aliases (`StringID = sa.String`). A type stub beside
    /// the module is not read: it declares a name's type, not what the
    /// real callable defaults to (a length, a collation).
    pub fn types(&self) -> HashMap<&str, ProjectType<'_>> {
        let mut out = HashMap::new();
        for module in &self.modules {
            let mut own = HashMap::new();
            defined_types(&module.text, &module.parsed.syntax().body, &mut own);
            for (name, t) in own {
                out.insert(name, t);
                for (local, original) in &module.names {
                    if original == name {
                        out.insert(local.as_str(), t);
                    }
                }
            }
        }
        out
    }
}

impl Imported {
    /// The column types classes of these modules hold as attributes
    /// (`class MySQLCompatabilityTypes: UniqueText = db.String(512)`), by
    /// the name the migration knows the class by and the attribute.
    pub fn class_types(&self) -> HashMap<(&str, &str), ProjectType<'_>> {
        let mut out = HashMap::new();
        for Module {
            names,
            text,
            parsed,
        } in &self.modules
        {
            for stmt in &parsed.syntax().body {
                let Stmt::ClassDef(class) = stmt else {
                    continue;
                };
                let Some((local, _)) = names
                    .iter()
                    .find(|(_, original)| original == class.name.id.as_str())
                else {
                    continue;
                };
                let mut held = HashMap::new();
                defined_types(text, &class.body, &mut held);
                for (attr, t) in held {
                    out.insert((local.as_str(), attr), t);
                }
            }
        }
        out
    }
}

/// The column types a module's top level (or a class body) defines, into
/// `out`: its `TypeDecorator` subclasses, the names bound to a dotted name
/// (`StringID = sa.String`) and those bound to a type made by a call
/// (`UniqueText = db.String(512)`).
fn defined_types<'a>(
    text: &'a str,
    suite: &'a [Stmt],
    out: &mut HashMap<&'a str, ProjectType<'a>>,
) {
    let at = |range: TextRange| text.get(range.start().to_usize()..range.end().to_usize());
    for stmt in suite {
        match stmt {
            Stmt::ClassDef(class) => {
                if let Some(stored) = type_decorator_impl(class).and_then(at) {
                    out.insert(class.name.id.as_str(), ProjectType::Stores(stored));
                }
            }
            Stmt::Assign(a) => {
                let [Expr::Name(name)] = a.targets.as_slice() else {
                    continue;
                };
                let Some(target) = at(a.value.range()) else {
                    continue;
                };
                match &*a.value {
                    value if is_dotted(value) => {
                        out.insert(name.id.as_str(), ProjectType::Alias(target));
                    }
                    // `UniqueText = db.String(512)`: a type, made once.
                    Expr::Call(c) if is_dotted(&c.func) => {
                        out.insert(name.id.as_str(), ProjectType::Stores(target));
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

impl Imported {
    /// The mapped classes these modules define with a literal
    /// `__tablename__`, by the names the migration knows them by: their
    /// tables, and their attributes' columns.
    pub fn tables(&self) -> Vec<(&str, String, MappedColumns)> {
        let mut out = Vec::new();
        for Module { names, parsed, .. } in &self.modules {
            for stmt in &parsed.syntax().body {
                let Stmt::ClassDef(class) = stmt else {
                    continue;
                };
                let Some(table) = table_name(class) else {
                    continue;
                };
                for (local, original) in names {
                    if original == class.name.id.as_str() {
                        out.push((local.as_str(), table.clone(), mapped_columns(class)));
                    }
                }
            }
        }
        out
    }
}

/// A mapped class's attributes that are columns, with the columns' names.
pub type MappedColumns = HashMap<String, String>;

/// The columns a mapped class's body declares (`request_id =
/// Column(String(50))`, `key: Mapped[str] = mapped_column("key_name")`),
/// by attribute: named by their first argument when it is a string, else
/// by the attribute.
pub fn mapped_columns(class: &StmtClassDef) -> MappedColumns {
    let mut out = HashMap::new();
    for stmt in &class.body {
        let Some((attr, Expr::Call(call))) = assignment(stmt) else {
            continue;
        };
        if !matches!(callee_name(call), Some("Column" | "mapped_column")) {
            continue;
        }
        let name = match call.arguments.args.first() {
            Some(Expr::StringLiteral(s)) => s.value.to_str().to_string(),
            _ => attr.to_string(),
        };
        out.insert(attr.to_string(), name);
    }
    out
}

/// A class's literal `__tablename__`.
pub fn table_name(class: &StmtClassDef) -> Option<String> {
    class.body.iter().find_map(|s| match assignment(s)? {
        ("__tablename__", Expr::StringLiteral(s)) => Some(s.value.to_str().to_string()),
        _ => None,
    })
}

/// Where a `TypeDecorator` subclass says what it stores: its `impl = ...`.
pub fn type_decorator_impl(class: &StmtClassDef) -> Option<TextRange> {
    let decorates = class.bases().iter().any(|b| {
        let name = match b {
            Expr::Name(n) => n.id.as_str(),
            Expr::Attribute(a) => a.attr.id.as_str(),
            _ => "",
        };
        name == "TypeDecorator"
    });
    if !decorates {
        return None;
    }
    class.body.iter().find_map(|s| match s {
        Stmt::Assign(a)
            if matches!(a.targets.as_slice(), [Expr::Name(n)] if n.id.as_str() == "impl") =>
        {
            Some(a.value.range())
        }
        _ => None,
    })
}

/// How many times each name is bound at a module's top level: assigned
/// (in any form, in branches and loops too), imported, defined, or
/// declared `global` in one of its functions.
fn bindings(body: &[Stmt]) -> HashMap<&str, usize> {
    struct Bound<'a> {
        count: HashMap<&'a str, usize>,
        in_function: bool,
    }
    impl<'a> Bound<'a> {
        fn add(&mut self, name: &'a str) {
            *self.count.entry(name).or_default() += 1;
        }
    }
    impl<'a> Visitor<'a> for Bound<'a> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            match stmt {
                Stmt::FunctionDef(f) => {
                    if !self.in_function {
                        self.add(f.name.id.as_str());
                    }
                    let was = std::mem::replace(&mut self.in_function, true);
                    self.visit_body(&f.body);
                    self.in_function = was;
                }
                Stmt::ClassDef(c) => {
                    if !self.in_function {
                        self.add(c.name.id.as_str());
                    }
                }
                Stmt::Global(g) => {
                    for name in &g.names {
                        self.add(name.id.as_str());
                    }
                }
                Stmt::Import(i) if !self.in_function => {
                    for alias in &i.names {
                        let local = alias.asname.as_ref().unwrap_or(&alias.name);
                        self.add(local.as_str().split('.').next().unwrap_or_default());
                    }
                }
                Stmt::ImportFrom(i) if !self.in_function => {
                    for alias in &i.names {
                        self.add(alias.asname.as_ref().unwrap_or(&alias.name).as_str());
                    }
                }
                _ => walk_stmt(self, stmt),
            }
        }

        fn visit_expr(&mut self, expr: &'a Expr) {
            if !self.in_function
                && let Expr::Name(n) = expr
                && n.ctx == ExprContext::Store
            {
                self.add(n.id.as_str());
            }
            walk_expr(self, expr);
        }
    }
    let mut b = Bound {
        count: HashMap::new(),
        in_function: false,
    };
    b.visit_body(body);
    b.count
}

/// `MAX_LEN`, `DEFAULT_NAME`: a name written as a constant (PEP 8), which
/// a migration may import from the project to use as a value.
fn is_constant_name(name: &str) -> bool {
    name.len() > 1
        && name.chars().any(|c| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// The bare names called anywhere in `suite` (`helper(...)`), those given
/// to a `Column(...)` (a type: `Column("meta", JSONField)`), and those whose
/// `__tablename__` is read.
fn called_names(suite: &[Stmt]) -> HashSet<&str> {
    struct Calls<'a>(HashSet<&'a str>);
    impl<'a> Visitor<'a> for Calls<'a> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            if let Expr::Attribute(a) = expr
                && a.attr.id.as_str() == "__tablename__"
                && let Expr::Name(name) = &*a.value
            {
                self.0.insert(name.id.as_str());
            }
            if let Expr::Call(call) = expr {
                if let Expr::Name(name) = &*call.func {
                    self.0.insert(name.id.as_str());
                }
                // A type given by name (`Column("meta", JSONField)`) or
                // held by a class (`type_=Types.UniqueText`).
                let typed = call.arguments.keywords.iter().filter_map(|k| {
                    matches!(
                        k.arg.as_ref().map(|a| a.as_str()),
                        Some("type_" | "existing_type")
                    )
                    .then_some(&k.value)
                });
                let column_args: &[Expr] = if callee_name(call) == Some("Column") {
                    &call.arguments.args
                } else {
                    &[]
                };
                for a in column_args.iter().chain(typed) {
                    match a {
                        Expr::Name(name) => {
                            self.0.insert(name.id.as_str());
                        }
                        Expr::Attribute(attr) if let Expr::Name(name) = &*attr.value => {
                            self.0.insert(name.id.as_str());
                        }
                        _ => {}
                    }
                }
            }
            walk_expr(self, expr);
        }
    }
    let mut calls = Calls(HashSet::new());
    for stmt in suite {
        calls.visit_stmt(stmt);
    }
    calls.0
}

/// The file `from <module> import ...` (with `level` leading dots) reads,
/// seen from the migration at `path`: relative to its folder for a relative
/// import, else under the nearest folder above it that holds the module.
pub(crate) fn module_file(path: &Path, module: Option<&str>, level: u32) -> Option<PathBuf> {
    let relative: PathBuf = module
        .unwrap_or("")
        .split('.')
        .filter(|part| !part.is_empty())
        .collect();
    let found = |base: &Path| -> Option<PathBuf> {
        let as_file = base.join(&relative).with_extension("py");
        let as_package = base.join(&relative).join("__init__.py");
        [as_file, as_package].into_iter().find(|p| p.is_file())
    };
    let dir = path.parent()?;
    if level > 0 {
        let base = dir.ancestors().nth(level as usize - 1)?;
        return if relative.as_os_str().is_empty() {
            None
        } else {
            found(base)
        };
    }
    if relative.as_os_str().is_empty() {
        return None;
    }
    dir.ancestors().take(MAX_LEVELS).find_map(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_resolve_absolute_and_relative() {
        let root = tempfile::tempdir().unwrap();
        let versions = root.path().join("app/migrations/versions");
        std::fs::create_dir_all(&versions).unwrap();
        std::fs::write(root.path().join("app/__init__.py"), "").unwrap();
        std::fs::write(root.path().join("app/migrations/util.py"), "").unwrap();
        let migration = versions.join("001_init.py");
        assert_eq!(
            module_file(&migration, Some("app.migrations.util"), 0),
            Some(root.path().join("app/migrations/util.py"))
        );
        assert_eq!(
            module_file(&migration, Some("util"), 2),
            Some(root.path().join("app/migrations/util.py"))
        );
        assert_eq!(
            module_file(&migration, Some("app"), 0),
            Some(root.path().join("app/__init__.py"))
        );
        assert_eq!(module_file(&migration, Some("sqlalchemy"), 0), None);
    }
}
