//! SQLAlchemy models read statically, for `model-drift`.
//!
//! Declarative classes with `__tablename__` (`Column(...)`,
//! `mapped_column(...)` with `Mapped[...]` annotations, mixins and bases
//! found in the same files, `__table_args__`), `Table(...)` objects,
//! module-level `Index(...)`, and a base's `type_annotation_map`. What
//! cannot be resolved without running the code (a type built by a helper,
//! a mixin defined elsewhere) is listed in [`ModelSet::unresolved`], never
//! guessed.

use std::collections::{HashMap, HashSet};

use ruff_python_ast::{Expr, ExprCall, Stmt, StmtClassDef};
use ruff_text_size::Ranged;

use crate::load::python::{
    PyFile, arg, assignment, bool_value, callee_name, keyword, str_list, str_value,
};
use crate::source::Span;

/// Families of column types that SQLAlchemy and SQLite treat alike. Two
/// types of one family never make a migration differ from its model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypeFamily {
    /// String, Text, Unicode, Enum and Uuid: all stored as text in SQLite.
    Text,
    Integer,
    Float,
    Numeric,
    Boolean,
    DateTime,
    Date,
    Time,
    Json,
    Binary,
}

impl TypeFamily {
    pub fn name(self) -> &'static str {
        match self {
            TypeFamily::Text => "String/Text",
            TypeFamily::Integer => "Integer",
            TypeFamily::Float => "Float",
            TypeFamily::Numeric => "Numeric",
            TypeFamily::Boolean => "Boolean",
            TypeFamily::DateTime => "DateTime",
            TypeFamily::Date => "Date",
            TypeFamily::Time => "Time",
            TypeFamily::Json => "JSON",
            TypeFamily::Binary => "LargeBinary",
        }
    }

    /// The SQLAlchemy type a migration would write for the family.
    pub fn sqlalchemy_name(self) -> &'static str {
        match self {
            TypeFamily::Text => "String",
            TypeFamily::Json => "JSON",
            other => other.name(),
        }
    }

    pub fn is_temporal(self) -> bool {
        matches!(
            self,
            TypeFamily::DateTime | TypeFamily::Date | TypeFamily::Time
        )
    }

    /// The family of a SQLAlchemy type name (`String`, `sa.BigInteger`'s
    /// last part, or an upper-case SQL type class like `VARCHAR`).
    pub fn of_sqlalchemy(name: &str) -> Option<TypeFamily> {
        Some(match name {
            "String" | "Text" | "Unicode" | "UnicodeText" | "Enum" | "Uuid" | "UUID"
            | "VARCHAR" | "NVARCHAR" | "CHAR" | "NCHAR" | "TEXT" | "CLOB" => TypeFamily::Text,
            "Integer" | "SmallInteger" | "BigInteger" | "INTEGER" | "INT" | "BIGINT"
            | "SMALLINT" => TypeFamily::Integer,
            "Float" | "Double" | "REAL" | "FLOAT" | "DOUBLE" | "DOUBLE_PRECISION" => {
                TypeFamily::Float
            }
            "Numeric" | "NUMERIC" | "DECIMAL" => TypeFamily::Numeric,
            "Boolean" | "BOOLEAN" => TypeFamily::Boolean,
            "DateTime" | "DATETIME" | "TIMESTAMP" | "Interval" => TypeFamily::DateTime,
            "Date" | "DATE" => TypeFamily::Date,
            "Time" | "TIME" => TypeFamily::Time,
            "JSON" => TypeFamily::Json,
            "LargeBinary" | "BLOB" | "BINARY" | "VARBINARY" | "PickleType" => TypeFamily::Binary,
            _ => return None,
        })
    }

    /// The family of a Python annotation under SQLAlchemy's default
    /// `type_annotation_map`.
    pub fn of_python(name: &str) -> Option<TypeFamily> {
        Some(match name {
            "str" | "UUID" | "uuid.UUID" => TypeFamily::Text,
            "int" => TypeFamily::Integer,
            "float" => TypeFamily::Float,
            "Decimal" | "decimal.Decimal" => TypeFamily::Numeric,
            "bool" => TypeFamily::Boolean,
            "datetime" | "datetime.datetime" | "timedelta" | "datetime.timedelta" => {
                TypeFamily::DateTime
            }
            "date" | "datetime.date" => TypeFamily::Date,
            "time" | "datetime.time" => TypeFamily::Time,
            "bytes" => TypeFamily::Binary,
            _ => return None,
        })
    }

    /// The family of a column type as SQLite stores it (`VARCHAR(255)`,
    /// `TEXT`, `BIGINT`), by the words SQLite's affinity rules look at, or
    /// as PostgreSQL names it (`TIMESTAMP WITH TIME ZONE`, `BYTEA`). A
    /// quoted name is a type of the project's own (an enum): no family.
    pub fn of_sql(sql: &str) -> Option<TypeFamily> {
        let t = sql.to_ascii_uppercase();
        let head = t.split('(').next().unwrap_or("").trim();
        Some(match head {
            _ if head.starts_with('"') => return None,
            _ if head.starts_with("TIMESTAMP ") => TypeFamily::DateTime,
            _ if head.starts_with("TIME ") => TypeFamily::Time,
            "BYTEA" => TypeFamily::Binary,
            "JSONB" => TypeFamily::Json,
            "BOOLEAN" | "BOOL" => TypeFamily::Boolean,
            "DATETIME" | "TIMESTAMP" => TypeFamily::DateTime,
            "DATE" => TypeFamily::Date,
            "TIME" => TypeFamily::Time,
            "JSON" => TypeFamily::Json,
            "NUMERIC" | "DECIMAL" => TypeFamily::Numeric,
            _ if head.contains("INT") => TypeFamily::Integer,
            _ if head.contains("CHAR")
                || head.contains("CLOB")
                || head.contains("TEXT")
                || head.contains("UUID")
                || head == "STRING" =>
            {
                TypeFamily::Text
            }
            _ if head.contains("BLOB") || head.contains("BINARY") => TypeFamily::Binary,
            _ if head.contains("REAL") || head.contains("FLOA") || head.contains("DOUB") => {
                TypeFamily::Float
            }
            _ => return None,
        })
    }
}

/// A column as a model declares it.
#[derive(Clone, Debug)]
pub struct ModelColumn {
    /// The Python attribute (`User.email`), or the column name for `Table(...)`.
    pub attr: String,
    /// The database column name.
    pub name: String,
    pub span: Span,
    /// The type's family and how it is written, when it could be resolved.
    pub type_: Option<(TypeFamily, String)>,
    /// `None` when nullability could not be resolved statically.
    pub nullable: Option<bool>,
    pub primary_key: bool,
    pub index: bool,
    pub unique: bool,
    /// `ForeignKey("table.column")`: (table, column).
    pub foreign_key: Option<(String, String)>,
    /// Whether `index`, `unique` and the foreign key were read: literals,
    /// or absent. A column whose keys are not known makes nothing
    /// reported as missing from the model.
    pub keys_known: bool,
}

/// `ForeignKeyConstraint(["col", ...], ["table.col", ...])`.
#[derive(Clone, Debug)]
pub struct ModelForeignKey {
    pub columns: Vec<String>,
    pub ref_table: String,
}

/// An `Index(...)` or `UniqueConstraint(...)` a model declares.
#[derive(Clone, Debug)]
pub struct ModelIndex {
    pub name: Option<String>,
    pub columns: Vec<String>,
    pub unique: bool,
    /// A `UniqueConstraint` rather than an `Index`.
    pub constraint: bool,
    pub span: Span,
}

/// A mapped table: a declarative class or a `Table(...)` object.
#[derive(Clone, Debug)]
pub struct ModelTable {
    pub table: String,
    /// `User` for a class, `users` for a `Table(...)`.
    pub owner: String,
    /// The class name or the `Table(...)` call, for snippets.
    pub span: Span,
    pub columns: Vec<ModelColumn>,
    pub indexes: Vec<ModelIndex>,
    /// `ForeignKeyConstraint(...)`s of `__table_args__` or `Table(...)`.
    pub foreign_keys: Vec<ModelForeignKey>,
    /// False when some columns may come from a mixin miglint could not
    /// find: then a column missing from the model is not reported.
    pub complete: bool,
    /// False when `__table_args__` (or an `Index(...)` of it) could not be
    /// read: then an index or foreign key missing from the model is not
    /// reported.
    pub keys_complete: bool,
}

/// Something miglint could not read statically and did not check.
#[derive(Clone, Debug)]
pub struct Unresolved {
    pub span: Span,
    pub what: String,
}

#[derive(Clone, Debug, Default)]
pub struct ModelSet {
    pub tables: Vec<ModelTable>,
    pub unresolved: Vec<Unresolved>,
    /// A module-level `Index(...)` whose table is not known: no table's
    /// indexes are all known.
    pub index_unplaced: bool,
}

impl ModelSet {
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }
}

/// Base classes that add no columns: SQLAlchemy's and the usual names of a
/// project's declarative base.
fn is_declarative_base(name: &str) -> bool {
    matches!(
        name,
        "DeclarativeBase"
            | "DeclarativeBaseNoMeta"
            | "AsyncAttrs"
            | "MappedAsDataclass"
            | "Model"
            | "object"
            | "Generic"
            | "Protocol"
    ) || name.ends_with("Base")
}

/// One class of a model file, before inheritance is resolved.
struct ClassInfo<'a> {
    py: usize,
    def: &'a StmtClassDef,
    table: Option<String>,
    bases: Vec<String>,
}

/// Reads the models of parsed files.
pub fn read(files: &[PyFile]) -> ModelSet {
    let mut out = ModelSet::default();
    let mut classes: HashMap<String, ClassInfo> = HashMap::new();
    let mut order = Vec::new();
    let mut annotation_map: HashMap<String, (TypeFamily, String)> = HashMap::new();
    let mut declared_bases: HashSet<String> = HashSet::new();
    let mut aliases: HashSet<String> = HashSet::new();
    for (pi, py) in files.iter().enumerate() {
        for stmt in py.suite() {
            match stmt {
                Stmt::ClassDef(def) => {
                    let mut table = None;
                    for item in &def.body {
                        if let Some((name, value)) = assignment(item) {
                            if name == "__tablename__" {
                                table = str_value(value);
                            } else if name == "type_annotation_map" {
                                read_annotation_map(value, &mut annotation_map);
                            }
                        }
                    }
                    let bases = def
                        .bases()
                        .iter()
                        .filter_map(|b| match b {
                            Expr::Name(n) => Some(n.id.to_string()),
                            Expr::Attribute(a) => Some(a.attr.id.to_string()),
                            Expr::Subscript(s) => match &*s.value {
                                Expr::Name(n) => Some(n.id.to_string()),
                                _ => None,
                            },
                            _ => None,
                        })
                        .collect();
                    let name = def.name.id.to_string();
                    order.push(name.clone());
                    classes.insert(
                        name,
                        ClassInfo {
                            py: pi,
                            def,
                            table,
                            bases,
                        },
                    );
                }
                Stmt::Assign(a) => {
                    if let Expr::Call(call) = &*a.value
                        && callee_name(call) == Some("Table")
                        && let Some(t) = table_object(py, call, &annotation_map, &mut out)
                    {
                        out.tables.push(t);
                    }
                }
                _ => {}
            }
            column_aliases(stmt, &mut aliases);
            // `Base = declarative_base()` or `BaseModel: Any =
            // declarative_base()`: a base that adds no columns.
            if let Some((name, Expr::Call(call))) = assignment(stmt)
                && matches!(
                    callee_name(call),
                    Some("declarative_base" | "generate_base")
                )
            {
                declared_bases.insert(name.to_string());
            }
        }
    }

    let reader = ClassReader {
        files,
        classes: &classes,
        annotation_map: &annotation_map,
        declared_bases: &declared_bases,
        aliases: &aliases,
    };
    let mut by_class: HashMap<String, usize> = HashMap::new();
    for name in &order {
        let info = &classes[name];
        let Some(table) = &info.table else { continue };
        let py = &files[info.py];
        let mut t = ModelTable {
            table: table.clone(),
            owner: name.clone(),
            span: py.span(info.def.name.range),
            columns: Vec::new(),
            indexes: Vec::new(),
            foreign_keys: Vec::new(),
            complete: true,
            keys_complete: true,
        };
        let mut seen = HashSet::new();
        reader.collect(name, &mut t, &mut seen, &mut out.unresolved);
        by_class.insert(name.clone(), out.tables.len());
        out.tables.push(t);
    }
    // Single-table inheritance: a subclass without a table of its own adds
    // its columns to its parent's table.
    for name in &order {
        let info = &classes[name];
        if info.table.is_some() {
            continue;
        }
        let Some(parent) = reader.mapped_ancestor(name, &mut HashSet::new()) else {
            continue;
        };
        let Some(&ti) = by_class.get(&parent) else {
            continue;
        };
        let mut extra = ModelTable {
            columns: Vec::new(),
            indexes: Vec::new(),
            foreign_keys: Vec::new(),
            ..out.tables[ti].clone()
        };
        reader.own_members(info, &mut extra, &mut out.unresolved);
        let parent = &mut out.tables[ti];
        parent.indexes.extend(extra.indexes);
        parent.foreign_keys.extend(extra.foreign_keys);
        parent.keys_complete &= extra.keys_complete;
        for c in extra.columns {
            if !out.tables[ti].columns.iter().any(|x| x.name == c.name) {
                out.tables[ti].columns.push(c);
            }
        }
    }
    // Module-level `Index("ix", User.email)`.
    for py in files {
        for stmt in py.suite() {
            if let Stmt::Expr(e) = stmt
                && let Expr::Call(call) = &*e.value
                && callee_name(call) == Some("Index")
            {
                module_index(py, call, &classes, &by_class, &mut out);
            }
        }
    }
    out
}

/// Class attributes made by calls that never make a column.
const NOT_COLUMNS: &[&str] = &[
    "relationship",
    "relation",
    "backref",
    "column_property",
    "synonym",
    "association_proxy",
    "composite",
    "query_expression",
    "dynamic_loader",
    "deferred_relationship",
    "property",
    "classmethod",
    "staticmethod",
    "Index",
    "UniqueConstraint",
    "CheckConstraint",
    "PrimaryKeyConstraint",
    "ForeignKeyConstraint",
];

/// Other names a module gives `Column` or `mapped_column`:
/// `_Column = mapped_column`, `from sqlalchemy import Column as C`, also
/// inside a `try` (a fallback for older SQLAlchemy).
fn column_aliases(stmt: &Stmt, out: &mut HashSet<String>) {
    let is_column = |name: &str| matches!(name, "Column" | "mapped_column");
    match stmt {
        Stmt::Assign(a) => {
            let value = match &*a.value {
                Expr::Name(n) => Some(n.id.as_str()),
                Expr::Attribute(at) => Some(at.attr.id.as_str()),
                _ => None,
            };
            if let ([Expr::Name(target)], Some(v)) = (a.targets.as_slice(), value)
                && is_column(v)
            {
                out.insert(target.id.to_string());
            }
        }
        Stmt::ImportFrom(i) => {
            for alias in &i.names {
                if let Some(asname) = &alias.asname
                    && is_column(alias.name.as_str())
                {
                    out.insert(asname.to_string());
                }
            }
        }
        Stmt::Try(t) => {
            for s in t.body.iter().chain(&t.orelse).chain(&t.finalbody) {
                column_aliases(s, out);
            }
            for h in &t.handlers {
                let ruff_python_ast::ExceptHandler::ExceptHandler(h) = h;
                for s in &h.body {
                    column_aliases(s, out);
                }
            }
        }
        Stmt::If(i) => {
            for s in i
                .body
                .iter()
                .chain(i.elif_else_clauses.iter().flat_map(|c| &c.body))
            {
                column_aliases(s, out);
            }
        }
        _ => {}
    }
}

/// `{str: String(50), datetime: DateTime(timezone=True)}`.
fn read_annotation_map(value: &Expr, map: &mut HashMap<String, (TypeFamily, String)>) {
    let Expr::Dict(d) = value else { return };
    for item in &d.items {
        let Some(key) = &item.key else { continue };
        let Some(key) = dotted(key) else { continue };
        if let Some(ty) = sqlalchemy_type(&item.value) {
            map.insert(key, ty);
        }
    }
}

/// `a.b.c` of a name or attribute chain.
fn dotted(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Name(n) => Some(n.id.to_string()),
        Expr::Attribute(a) => Some(format!("{}.{}", dotted(&a.value)?, a.attr.id)),
        _ => None,
    }
}

/// The family of a type expression: `String(50)`, `sa.Integer`, `Integer()`.
fn sqlalchemy_type(expr: &Expr) -> Option<(TypeFamily, String)> {
    let name = match expr {
        Expr::Call(c) => callee_name(c)?,
        Expr::Name(n) => n.id.as_str(),
        Expr::Attribute(a) => a.attr.id.as_str(),
        _ => return None,
    };
    Some((TypeFamily::of_sqlalchemy(name)?, name.to_string()))
}

/// Whether an expression is a type (rather than `ForeignKey(...)`, a
/// `Sequence`, `Identity`, `Computed`, or a column name).
fn is_schema_item(expr: &Expr) -> bool {
    matches!(expr, Expr::Call(c) if matches!(
        callee_name(c),
        Some("ForeignKey" | "Sequence" | "Identity" | "Computed" | "CheckConstraint" | "FetchedValue")
    ))
}

/// What the `Mapped[...]` annotation says: the inner type and whether it
/// admits `None`.
struct Annotation {
    inner: Option<String>,
    optional: bool,
}

fn mapped_annotation(expr: &Expr) -> Option<Annotation> {
    let Expr::Subscript(s) = expr else {
        return None;
    };
    let outer = dotted(&s.value)?;
    if outer.rsplit('.').next() != Some("Mapped") {
        return None;
    }
    Some(annotation_of(&s.slice))
}

fn annotation_of(expr: &Expr) -> Annotation {
    let is_none = |e: &Expr| matches!(e, Expr::NoneLiteral(_));
    match expr {
        Expr::Subscript(s) => {
            let outer = dotted(&s.value).unwrap_or_default();
            let last = outer.rsplit('.').next().unwrap_or("");
            match last {
                "Optional" => Annotation {
                    optional: true,
                    ..annotation_of(&s.slice)
                },
                "Union" => {
                    let Expr::Tuple(t) = &*s.slice else {
                        return annotation_of(&s.slice);
                    };
                    let rest: Vec<&Expr> = t.elts.iter().filter(|e| !is_none(e)).collect();
                    Annotation {
                        inner: match rest.as_slice() {
                            [one] => annotation_of(one).inner,
                            _ => None,
                        },
                        optional: rest.len() < t.elts.len(),
                    }
                }
                _ => Annotation {
                    inner: Some(outer),
                    optional: false,
                },
            }
        }
        Expr::BinOp(b) if b.op == ruff_python_ast::Operator::BitOr => {
            let (l, r) = (&*b.left, &*b.right);
            if is_none(r) {
                Annotation {
                    optional: true,
                    ..annotation_of(l)
                }
            } else if is_none(l) {
                Annotation {
                    optional: true,
                    ..annotation_of(r)
                }
            } else {
                Annotation {
                    inner: None,
                    optional: annotation_of(l).optional || annotation_of(r).optional,
                }
            }
        }
        Expr::StringLiteral(s) => {
            // A string annotation: read it only when it is a plain name.
            let text = s.value.to_str().trim().to_string();
            let optional = text.starts_with("Optional[") || text.ends_with("| None");
            let inner = text
                .trim_start_matches("Optional[")
                .trim_end_matches(']')
                .trim_end_matches("| None")
                .trim()
                .to_string();
            Annotation {
                inner: inner
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
                    .then_some(inner),
                optional,
            }
        }
        other => Annotation {
            inner: dotted(other),
            optional: false,
        },
    }
}

struct ClassReader<'a, 'f> {
    files: &'a [PyFile<'f>],
    classes: &'a HashMap<String, ClassInfo<'a>>,
    annotation_map: &'a HashMap<String, (TypeFamily, String)>,
    /// Names the model files bind to `declarative_base()`.
    declared_bases: &'a HashSet<String>,
    /// Other names the model files give `Column` / `mapped_column`.
    aliases: &'a HashSet<String>,
}

impl ClassReader<'_, '_> {
    /// Columns of `name` and of the mixins and bases it inherits from
    /// (bases first, so the class's own declarations win).
    fn collect(
        &self,
        name: &str,
        t: &mut ModelTable,
        seen: &mut HashSet<String>,
        unresolved: &mut Vec<Unresolved>,
    ) {
        if !seen.insert(name.to_string()) {
            return;
        }
        let info = &self.classes[name];
        for base in info.bases.iter().rev() {
            if self.classes.contains_key(base) {
                self.collect(base, t, seen, unresolved);
            } else if !is_declarative_base(base) && !self.declared_bases.contains(base) {
                t.complete = false;
                unresolved.push(Unresolved {
                    span: self.files[info.py].span(info.def.name.range),
                    what: format!(
                        "`{}` inherits from `{base}`, which is not in the model files; columns it adds are not known",
                        info.def.name.id
                    ),
                });
            }
        }
        self.own_members(info, t, unresolved);
    }

    /// The nearest ancestor with a `__tablename__`.
    fn mapped_ancestor(&self, name: &str, seen: &mut HashSet<String>) -> Option<String> {
        if !seen.insert(name.to_string()) {
            return None;
        }
        for base in &self.classes.get(name)?.bases {
            let Some(info) = self.classes.get(base) else {
                continue;
            };
            if info.table.is_some() {
                return Some(base.clone());
            }
            if let Some(found) = self.mapped_ancestor(base, seen) {
                return Some(found);
            }
        }
        None
    }

    fn own_members(&self, info: &ClassInfo, t: &mut ModelTable, unresolved: &mut Vec<Unresolved>) {
        let py = &self.files[info.py];
        let class = info.def.name.id.as_str();
        for item in &info.def.body {
            let (target, annotation, value) = match item {
                Stmt::Assign(a) => match a.targets.as_slice() {
                    [t] => (t, None, Some(&*a.value)),
                    _ => continue,
                },
                Stmt::AnnAssign(a) => (&*a.target, Some(&*a.annotation), a.value.as_deref()),
                // `@declared_attr def __table_args__(cls)`: computed.
                Stmt::FunctionDef(f) if f.name.id.as_str() == "__table_args__" => {
                    t.keys_complete = false;
                    continue;
                }
                _ => continue,
            };
            let Expr::Name(attr) = target else { continue };
            let attr_name = attr.id.as_str();
            if attr_name == "__table_args__" {
                if let Some(v) = value {
                    table_args(py, v, t, unresolved);
                }
                continue;
            }
            let mapped = annotation.and_then(mapped_annotation);
            let call = match value {
                Some(Expr::Call(c))
                    if matches!(callee_name(c), Some("Column" | "mapped_column"))
                        || callee_name(c).is_some_and(|n| self.aliases.contains(n)) =>
                {
                    Some(c)
                }
                // `name: Mapped[str]` alone is a column too.
                None if mapped.is_some() => None,
                // A call miglint does not know may make a column: the
                // model's columns are not all known then.
                Some(Expr::Call(c))
                    if !callee_name(c).is_some_and(|n| NOT_COLUMNS.contains(&n))
                        && !attr_name.starts_with("__") =>
                {
                    t.complete = false;
                    unresolved.push(Unresolved {
                        span: py.file.first_line(py.span(item.range())),
                        what: format!(
                            "`{class}.{attr_name}` is set by a call miglint does not read; the model's columns are not all known"
                        ),
                    });
                    continue;
                }
                _ => continue,
            };
            let (mut column, unknown) = match call {
                Some(c) => column_call(py, c, attr_name, mapped.as_ref(), self.annotation_map),
                None => annotated_column(
                    py,
                    attr_name,
                    attr.range,
                    mapped.as_ref().expect("checked above"),
                    self.annotation_map,
                ),
            };
            // Point at the attribute, not the call.
            column.span = py.file.first_line(py.span(item.range()));
            if let Some(why) = unknown {
                unresolved.push(Unresolved {
                    span: column.span,
                    what: format!("`{class}.{attr_name}` has {why}, which miglint cannot resolve; its type is not checked"),
                });
            }
            t.columns.retain(|x| x.name != column.name);
            t.columns.push(column);
        }
    }
}

/// A `Column(...)` / `mapped_column(...)` call, and why its type could not
/// be resolved (when it could not).
fn column_call(
    py: &PyFile,
    call: &ExprCall,
    attr: &str,
    mapped: Option<&Annotation>,
    annotation_map: &HashMap<String, (TypeFamily, String)>,
) -> (ModelColumn, Option<String>) {
    let mut name = attr.to_string();
    let mut type_expr = None;
    let mut foreign_key = None;
    let mut keys_known = true;
    for (i, a) in call.arguments.args.iter().enumerate() {
        if i == 0
            && let Some(s) = str_value(a)
        {
            name = s;
            continue;
        }
        if let Expr::Call(c) = a
            && callee_name(c) == Some("ForeignKey")
        {
            foreign_key = foreign_key_target(c);
            keys_known &= foreign_key.is_some();
            continue;
        }
        if !is_schema_item(a) && type_expr.is_none() {
            type_expr = Some(a);
        }
    }
    if let Some(n) = keyword(call, "name").and_then(str_value) {
        name = n;
    }
    if let Some(t) = keyword(call, "type_") {
        type_expr = Some(t);
    }
    let (type_, unknown) = match (type_expr, mapped.and_then(|m| m.inner.as_deref())) {
        (Some(e), _) => match sqlalchemy_type(e) {
            Some(t) => (Some(t), None),
            None => (None, Some(format!("type `{}`", py.text(e.range())))),
        },
        // `mapped_column()` takes its type from `Mapped[...]`.
        (None, Some(inner)) => match annotated_type(inner, annotation_map) {
            Some(t) => (Some(t), None),
            None => (None, Some(format!("annotation `Mapped[{inner}]`"))),
        },
        // A bare `Column(ForeignKey(...))` takes the referenced column's type.
        (None, None) if foreign_key.is_some() => (None, None),
        (None, None) => (None, Some("no type".to_string())),
    };
    let flag = |k: &str| keyword(call, k).and_then(bool_value);
    keys_known &= ["index", "unique"]
        .iter()
        .all(|k| keyword(call, k).is_none_or(|v| bool_value(v).is_some()));
    let primary_key = flag("primary_key").unwrap_or(false);
    let nullable = match keyword(call, "nullable") {
        Some(v) => bool_value(v),
        None if primary_key => Some(false),
        None => match mapped {
            Some(m) if callee_name(call) == Some("mapped_column") => Some(m.optional),
            _ => Some(true),
        },
    };
    let column = ModelColumn {
        attr: attr.to_string(),
        name,
        span: py.file.first_line(py.span(call.range())),
        type_,
        nullable,
        primary_key,
        index: flag("index").unwrap_or(false),
        unique: flag("unique").unwrap_or(false),
        foreign_key,
        keys_known,
    };
    (column, unknown)
}

/// `name: Mapped[str]` with no value.
fn annotated_column(
    py: &PyFile,
    attr: &str,
    range: ruff_text_size::TextRange,
    mapped: &Annotation,
    annotation_map: &HashMap<String, (TypeFamily, String)>,
) -> (ModelColumn, Option<String>) {
    let type_ = mapped
        .inner
        .as_deref()
        .and_then(|n| annotated_type(n, annotation_map));
    let unknown = type_.is_none().then(|| match &mapped.inner {
        Some(inner) => format!("annotation `Mapped[{inner}]`"),
        None => "an annotation".to_string(),
    });
    let column = ModelColumn {
        attr: attr.to_string(),
        name: attr.to_string(),
        span: py.span(range),
        type_,
        nullable: Some(mapped.optional),
        primary_key: false,
        index: false,
        unique: false,
        foreign_key: None,
        keys_known: true,
    };
    (column, unknown)
}

/// A Python type through the project's `type_annotation_map`, then
/// SQLAlchemy's default one.
fn annotated_type(
    name: &str,
    annotation_map: &HashMap<String, (TypeFamily, String)>,
) -> Option<(TypeFamily, String)> {
    let last = name.rsplit('.').next().unwrap_or(name);
    annotation_map
        .get(name)
        .or_else(|| annotation_map.get(last))
        .cloned()
        .or_else(|| TypeFamily::of_python(name).map(|f| (f, name.to_string())))
}

/// `ForeignKey("users.id")` → (users, id).
fn foreign_key_target(call: &ExprCall) -> Option<(String, String)> {
    let target = arg(call, 0, "column").and_then(str_value)?;
    let (table, column) = target.rsplit_once('.')?;
    let table = table.rsplit('.').next().unwrap_or(table);
    Some((table.to_string(), column.to_string()))
}

/// `__table_args__ = (Index(...), UniqueConstraint(...), {...})`.
fn table_args(py: &PyFile, value: &Expr, t: &mut ModelTable, unresolved: &mut Vec<Unresolved>) {
    let items: Vec<&Expr> = match value {
        Expr::Tuple(x) => x.elts.iter().collect(),
        Expr::List(x) => x.elts.iter().collect(),
        // Options only: `{"sqlite_autoincrement": True}`.
        Expr::Dict(_) => return,
        _ => {
            t.keys_complete = false;
            return;
        }
    };
    for item in items {
        table_item(py, item, t, unresolved);
    }
}

/// One item of `__table_args__` or of a `Table(...)` after its columns:
/// an index, a unique or foreign key constraint, an options dict, or
/// something that makes the table's keys not all known.
fn table_item(py: &PyFile, item: &Expr, t: &mut ModelTable, unresolved: &mut Vec<Unresolved>) {
    let Expr::Call(call) = item else {
        if !matches!(item, Expr::Dict(_)) {
            t.keys_complete = false;
        }
        return;
    };
    match callee_name(call) {
        Some("Index" | "UniqueConstraint") => {
            match index_call(py, call, &t.columns, &t.owner, unresolved) {
                Some(ix) => t.indexes.push(ix),
                None => t.keys_complete = false,
            }
        }
        Some("ForeignKeyConstraint") => match foreign_key_constraint(call) {
            Some(fk) => t.foreign_keys.push(fk),
            None => t.keys_complete = false,
        },
        Some("CheckConstraint" | "PrimaryKeyConstraint" | "Column") => {}
        _ => t.keys_complete = false,
    }
}

/// `ForeignKeyConstraint(["user_id"], ["users.id"])`.
fn foreign_key_constraint(call: &ExprCall) -> Option<ModelForeignKey> {
    let columns = arg(call, 0, "columns").and_then(str_list)?;
    let targets = arg(call, 1, "refcolumns").and_then(str_list)?;
    let (table, _) = targets.first()?.rsplit_once('.')?;
    Some(ModelForeignKey {
        columns,
        ref_table: table.rsplit('.').next().unwrap_or(table).to_string(),
    })
}

/// `Index("name", "col", ...)` or `UniqueConstraint("col", ..., name=...)`
/// over `columns` (attributes are translated to column names).
fn index_call(
    py: &PyFile,
    call: &ExprCall,
    columns: &[ModelColumn],
    owner: &str,
    unresolved: &mut Vec<Unresolved>,
) -> Option<ModelIndex> {
    let kind = callee_name(call);
    let (name, columns_from, constraint) = match kind {
        Some("Index") => (call.arguments.args.first().and_then(str_value), 1, false),
        Some("UniqueConstraint") => (keyword(call, "name").and_then(str_value), 0, true),
        _ => return None,
    };
    let by_attr = |attr: &str| {
        columns
            .iter()
            .find(|c| c.attr == attr)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| attr.to_string())
    };
    let mut names = Vec::new();
    for a in call.arguments.args.iter().skip(columns_from) {
        match a {
            Expr::StringLiteral(s) => names.push(s.value.to_str().to_string()),
            Expr::Attribute(x) => names.push(by_attr(x.attr.id.as_str())),
            Expr::Name(x) => names.push(by_attr(x.id.as_str())),
            _ => {
                unresolved.push(Unresolved {
                    span: py.file.first_line(py.span(a.range())),
                    what: format!(
                        "an expression in an `{}` of `{owner}` is not a column name; the index is not checked",
                        kind.unwrap_or("Index"),
                    ),
                });
                return None;
            }
        }
    }
    (!names.is_empty()).then(|| ModelIndex {
        name,
        columns: names,
        unique: constraint || keyword(call, "unique").and_then(bool_value) == Some(true),
        constraint,
        span: py.file.first_line(py.span(call.range())),
    })
}

/// `users = Table("users", metadata, Column("id", Integer, ...), ...)`.
fn table_object(
    py: &PyFile,
    call: &ExprCall,
    annotation_map: &HashMap<String, (TypeFamily, String)>,
    out: &mut ModelSet,
) -> Option<ModelTable> {
    let table = call.arguments.args.first().and_then(str_value)?;
    let mut t = ModelTable {
        table: table.clone(),
        owner: table.clone(),
        span: py.file.first_line(py.span(call.range())),
        columns: Vec::new(),
        indexes: Vec::new(),
        foreign_keys: Vec::new(),
        complete: true,
        keys_complete: true,
    };
    for a in call.arguments.args.iter().skip(2) {
        let Expr::Call(c) = a else { continue };
        if callee_name(c) == Some("Column") {
            let Some(name) = c.arguments.args.first().and_then(str_value) else {
                out.unresolved.push(Unresolved {
                    span: py.span(c.range()),
                    what: format!("a column of table `{table}` has no literal name; not checked"),
                });
                t.complete = false;
                continue;
            };
            let (col, unknown) = column_call(py, c, &name, None, annotation_map);
            if let Some(why) = unknown {
                out.unresolved.push(Unresolved {
                    span: col.span,
                    what: format!("`{table}.{name}` has {why}, which miglint cannot resolve; its type is not checked"),
                });
            }
            t.columns.push(col);
        }
    }
    for a in call.arguments.args.iter().skip(2) {
        table_item(py, a, &mut t, &mut out.unresolved);
    }
    Some(t)
}

/// Module-level `Index("ix_users_email", User.email)`.
fn module_index(
    py: &PyFile,
    call: &ExprCall,
    classes: &HashMap<String, ClassInfo>,
    by_class: &HashMap<String, usize>,
    out: &mut ModelSet,
) {
    let owner = call.arguments.args.iter().skip(1).find_map(|a| match a {
        Expr::Attribute(x) => match &*x.value {
            Expr::Name(n) if classes.contains_key(n.id.as_str()) => Some(n.id.to_string()),
            _ => None,
        },
        _ => None,
    });
    let Some(&ti) = owner.as_ref().and_then(|o| by_class.get(o)) else {
        out.index_unplaced = true;
        out.unresolved.push(Unresolved {
            span: py.file.first_line(py.span(call.range())),
            what: "an `Index(...)` whose table miglint cannot tell; not checked".into(),
        });
        return;
    };
    let table = &out.tables[ti];
    match index_call(py, call, &table.columns, &table.owner, &mut out.unresolved) {
        Some(ix) => out.tables[ti].indexes.push(ix),
        None => out.tables[ti].keys_complete = false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, SourceFile};

    fn read_models(src: &str) -> ModelSet {
        let file = SourceFile::from_bytes(
            std::path::Path::new("models.py"),
            "models.py".into(),
            src.as_bytes(),
        );
        let py = PyFile::parse(&file, FileId(0));
        read(std::slice::from_ref(&py))
    }

    fn table<'a>(set: &'a ModelSet, name: &str) -> &'a ModelTable {
        set.tables
            .iter()
            .find(|t| t.table == name)
            .unwrap_or_else(|| panic!("no table {name} in {:?}", set.tables))
    }

    fn column<'a>(t: &'a ModelTable, name: &str) -> &'a ModelColumn {
        t.columns
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no column {name} in {:?}", t.columns))
    }

    fn family(c: &ModelColumn) -> Option<TypeFamily> {
        c.type_.as_ref().map(|t| t.0)
    }

    #[test]
    fn column_calls_with_names_flags_and_foreign_keys() {
        let set = read_models(
            r#"
import sqlalchemy as sa
class Note(Base):
    __tablename__ = "notes"
    id = sa.Column(sa.Integer, primary_key=True)
    body = sa.Column("content", sa.Text(), nullable=False)
    slug = Column(String(40), name="slug_text", unique=True, index=True)
    user_id = Column(ForeignKey("users.id"), nullable=False)
    score = Column(sa.Float)
"#,
        );
        let t = table(&set, "notes");
        assert_eq!(t.owner, "Note");
        let id = column(t, "id");
        assert!(id.primary_key);
        assert_eq!(id.nullable, Some(false));
        assert_eq!(family(id), Some(TypeFamily::Integer));
        let body = column(t, "content");
        assert_eq!(body.attr, "body");
        assert_eq!(body.nullable, Some(false));
        assert_eq!(family(body), Some(TypeFamily::Text));
        let slug = column(t, "slug_text");
        assert!(slug.unique && slug.index);
        let fk = column(t, "user_id");
        assert_eq!(fk.foreign_key, Some(("users".into(), "id".into())));
        assert_eq!(fk.type_.as_ref().map(|t| t.0), None);
        assert_eq!(column(t, "score").nullable, Some(true));
        // A bare foreign key takes the referenced type: not a gap.
        assert!(set.unresolved.is_empty(), "{:?}", set.unresolved);
    }

    #[test]
    fn mapped_annotations_decide_type_and_nullability() {
        let set = read_models(
            r#"
from typing import Optional, Union
class Event(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    note: Mapped[Optional[str]]
    seen_at: Mapped[datetime | None] = mapped_column()
    price: Mapped[Union[Decimal, None]]
    flag: Mapped[bool] = mapped_column(nullable=True)
    kind: Mapped[str] = mapped_column("event_kind", String(20))
    owner: Mapped["User"] = relationship()
"#,
        );
        let t = table(&set, "events");
        assert_eq!(family(column(t, "id")), Some(TypeFamily::Integer));
        assert_eq!(column(t, "id").nullable, Some(false));
        assert_eq!(column(t, "title").nullable, Some(false));
        assert_eq!(column(t, "note").nullable, Some(true));
        assert_eq!(column(t, "seen_at").nullable, Some(true));
        assert_eq!(family(column(t, "seen_at")), Some(TypeFamily::DateTime));
        assert_eq!(family(column(t, "price")), Some(TypeFamily::Numeric));
        assert_eq!(column(t, "price").nullable, Some(true));
        assert_eq!(column(t, "flag").nullable, Some(true));
        assert_eq!(column(t, "event_kind").attr, "kind");
        assert!(
            t.columns.iter().all(|c| c.name != "owner"),
            "a relationship is not a column"
        );
    }

    #[test]
    fn table_args_indexes_and_unique_constraints() {
        let set = read_models(
            r#"
class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (
        Index("ix_memberships_team", "team_id"),
        UniqueConstraint("team_id", "user_id", name="uq_memberships"),
        Index("ix_memberships_role", "role", unique=True),
        {"sqlite_autoincrement": True},
    )
    team_id: Mapped[int]
    user_id: Mapped[int]
    role: Mapped[str]
"#,
        );
        let t = table(&set, "memberships");
        let ix: Vec<(Option<&str>, Vec<&str>, bool, bool)> = t
            .indexes
            .iter()
            .map(|i| {
                (
                    i.name.as_deref(),
                    i.columns.iter().map(String::as_str).collect(),
                    i.unique,
                    i.constraint,
                )
            })
            .collect();
        assert_eq!(
            ix,
            [
                (Some("ix_memberships_team"), vec!["team_id"], false, false),
                (
                    Some("uq_memberships"),
                    vec!["team_id", "user_id"],
                    true,
                    true
                ),
                (Some("ix_memberships_role"), vec!["role"], true, false),
            ]
        );
    }

    #[test]
    fn table_objects_and_module_level_indexes() {
        let set = read_models(
            r#"
tags = Table(
    "tags",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("label", String(30), nullable=False),
    Index("ix_tags_label", "label"),
)
class User(Base):
    __tablename__ = "users"
    email = Column(String)
Index("ix_users_email", User.email)
"#,
        );
        let tags = table(&set, "tags");
        assert_eq!(tags.owner, "tags");
        assert_eq!(column(tags, "label").nullable, Some(false));
        assert_eq!(tags.indexes[0].columns, ["label"]);
        let users = table(&set, "users");
        assert_eq!(users.indexes[0].name.as_deref(), Some("ix_users_email"));
        assert_eq!(users.indexes[0].columns, ["email"]);
    }

    #[test]
    fn type_annotation_map_overrides_the_defaults() {
        let set = read_models(
            r#"
class Base(DeclarativeBase):
    type_annotation_map = {dict: JSON, str: Text()}
class Doc(Base):
    __tablename__ = "docs"
    body: Mapped[dict]
    title: Mapped[str]
"#,
        );
        let t = table(&set, "docs");
        assert_eq!(family(column(t, "body")), Some(TypeFamily::Json));
        assert_eq!(column(t, "title").type_.as_ref().unwrap().1, "Text");
    }

    #[test]
    fn mixins_in_the_files_are_read_and_unknown_ones_make_the_table_partial() {
        let set = read_models(
            r#"
class TimestampMixin:
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)
class Post(TimestampMixin, Base):
    __tablename__ = "posts"
    id = Column(Integer, primary_key=True)
class Comment(AuditMixin, Base):
    __tablename__ = "comments"
    id = Column(Integer, primary_key=True)
"#,
        );
        let posts = table(&set, "posts");
        assert!(posts.complete);
        let names: Vec<&str> = posts.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["created_at", "updated_at", "id"]);
        assert!(!table(&set, "comments").complete);
        assert_eq!(set.unresolved.len(), 1);
        assert!(
            set.unresolved[0].what.contains("AuditMixin"),
            "{:?}",
            set.unresolved
        );
    }

    #[test]
    fn single_table_subclasses_add_their_columns_to_the_parent_table() {
        let set = read_models(
            r#"
class Employee(Base):
    __tablename__ = "employees"
    id = Column(Integer, primary_key=True)
class Manager(Employee):
    budget = Column(Integer)
"#,
        );
        assert_eq!(set.tables.len(), 1);
        column(table(&set, "employees"), "budget");
    }

    #[test]
    fn helper_types_are_counted_not_guessed() {
        let set = read_models(
            r#"
class Invoice(Base):
    __tablename__ = "invoices"
    id = Column(Integer, primary_key=True)
    total = Column(money_type(), nullable=False)
    meta: Mapped[dict[str, Any]]
"#,
        );
        let t = table(&set, "invoices");
        assert_eq!(column(t, "total").type_, None);
        assert_eq!(column(t, "total").nullable, Some(false));
        assert_eq!(set.unresolved.len(), 2, "{:?}", set.unresolved);
        assert!(set.unresolved[0].what.contains("money_type()"));
    }

    #[test]
    fn sql_types_map_to_families() {
        for (sql, want) in [
            ("VARCHAR(255)", Some(TypeFamily::Text)),
            ("TEXT", Some(TypeFamily::Text)),
            ("CHAR(32)", Some(TypeFamily::Text)),
            ("BIGINT", Some(TypeFamily::Integer)),
            ("integer", Some(TypeFamily::Integer)),
            ("REAL", Some(TypeFamily::Float)),
            ("NUMERIC(10, 2)", Some(TypeFamily::Numeric)),
            ("BOOLEAN", Some(TypeFamily::Boolean)),
            ("DATETIME", Some(TypeFamily::DateTime)),
            ("JSON", Some(TypeFamily::Json)),
            ("BLOB", Some(TypeFamily::Binary)),
            ("GEOMETRY", None),
            ("TIMESTAMP WITH TIME ZONE", Some(TypeFamily::DateTime)),
            ("TIME WITHOUT TIME ZONE", Some(TypeFamily::Time)),
            ("BYTEA", Some(TypeFamily::Binary)),
            ("DOUBLE PRECISION", Some(TypeFamily::Float)),
            ("\"trialintermediatevaluetype\"", None),
        ] {
            assert_eq!(TypeFamily::of_sql(sql), want, "{sql}");
        }
    }

    #[test]
    fn table_keys_are_known_only_when_every_item_is_read() {
        let set = read_models(
            r#"
class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        ForeignKeyConstraint(["author_id"], ["app.users.id"]),
        Index("ix_posts_slug", "slug"),
        CheckConstraint("id > 0"),
        {"sqlite_autoincrement": True},
    )
    id = Column(Integer, primary_key=True)
    author_id = Column(Integer, index=flag)
    slug = Column(String)

class Tag(Base):
    __tablename__ = "tags"
    __table_args__ = table_args("tags")
    id = Column(Integer, primary_key=True)

class Note(Base):
    __tablename__ = "notes"
    id = Column(Integer, ForeignKey(User.id), primary_key=True)

    @declared_attr
    def __table_args__(cls):
        return ()

posts = Table("posts_archive", metadata, Column("id", Integer), Index("ix", text("lower(id)")))
"#,
        );
        let by_name = |n: &str| set.tables.iter().find(|t| t.table == n).unwrap();
        let posts = by_name("posts");
        assert!(posts.keys_complete);
        assert_eq!(posts.foreign_keys.len(), 1);
        assert_eq!(posts.foreign_keys[0].ref_table, "users");
        assert_eq!(posts.foreign_keys[0].columns, ["author_id"]);
        let author = posts
            .columns
            .iter()
            .find(|c| c.name == "author_id")
            .unwrap();
        assert!(!author.keys_known, "index=flag is not a literal");
        assert!(!by_name("tags").keys_complete);
        let note = by_name("notes");
        assert!(!note.keys_complete);
        assert!(
            !note.columns[0].keys_known,
            "ForeignKey(User.id) is not read"
        );
        assert!(!by_name("posts_archive").keys_complete);
    }
}
