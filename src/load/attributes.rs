//! `Class.name` where `Class` is a class the migration itself defines and
//! `name` is nothing the class has: Python raises `AttributeError` when the
//! line runs. Migrations that copy a model into the file (to migrate data
//! with the ORM as it was then) meet this when the copy drifts from the
//! code that uses it.
//!
//! Only what is certain is reported. A class counts only when everything
//! it has is written in the file: a body of plain definitions (no `if`,
//! loop or `try`), no decorator and no metaclass, and bases that are such
//! classes, `object`, or a `declarative_base()` made in the file (whose
//! own attributes, `metadata`, `registry`, `query` and every name with an
//! underscore first, are left alone). A module that calls `setattr`, or
//! binds the class's name twice, is left alone; a function that binds the
//! name itself (a parameter, an assignment) is too.

use std::collections::{HashMap, HashSet};

use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
use ruff_python_ast::{Expr, ExprContext, Stmt, StmtClassDef};
use ruff_text_size::Ranged;

use super::python::PyFile;
use crate::migration::MissingAttribute;

/// What a class of the file has, when all of it is known.
struct Class {
    names: HashSet<String>,
    /// It comes from a declarative base, which brings attributes of its own.
    declarative: bool,
}

/// Every `Class.name` of the file that the class does not have.
pub fn missing<'a>(py: &'a PyFile<'a>) -> Vec<MissingAttribute> {
    let suite = py.suite();
    // Nearly every migration defines no class: nothing more to read.
    if !suite.iter().any(|s| matches!(s, Stmt::ClassDef(_))) || py.source().contains("setattr") {
        return Vec::new();
    }
    let mut bound: HashMap<&str, usize> = HashMap::new();
    let mut bases_made: HashSet<&str> = HashSet::new();
    for stmt in suite {
        for name in bound_names(stmt) {
            *bound.entry(name).or_default() += 1;
        }
        if let Stmt::Assign(a) = stmt
            && let [Expr::Name(target)] = a.targets.as_slice()
            && let Expr::Call(call) = &*a.value
            && super::python::callee_name(call) == Some("declarative_base")
            && call
                .arguments
                .keywords
                .iter()
                .all(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == "metadata"))
            && call.arguments.args.is_empty()
        {
            bases_made.insert(target.id.as_str());
        }
    }
    // Classes in file order: a base is defined before the class using it.
    let mut classes: HashMap<&str, Class> = HashMap::new();
    for stmt in suite {
        let Stmt::ClassDef(class) = stmt else {
            continue;
        };
        let name = class.name.id.as_str();
        if bound.get(name) != Some(&1) {
            continue;
        }
        if let Some(known) = known_class(class, &classes, &bases_made) {
            classes.insert(name, known);
        }
    }
    if classes.is_empty() {
        return Vec::new();
    }
    // `Class.name = ...` anywhere adds to what the class has.
    let mut finder = Finder {
        py,
        classes: &mut classes,
        shadowed: Vec::new(),
        function: None,
        found: Vec::new(),
        assigning: true,
    };
    for stmt in suite {
        finder.visit_stmt(stmt);
    }
    finder.assigning = false;
    for stmt in suite {
        finder.visit_stmt(stmt);
    }
    finder.found
}

/// The class's names, when every one of them is written in the file.
fn known_class(
    class: &StmtClassDef,
    classes: &HashMap<&str, Class>,
    bases_made: &HashSet<&str>,
) -> Option<Class> {
    if !class.decorator_list.is_empty() {
        return None;
    }
    let mut known = Class {
        names: HashSet::new(),
        declarative: false,
    };
    if let Some(arguments) = &class.arguments {
        if !arguments.keywords.is_empty() {
            return None;
        }
        for base in arguments.args.iter() {
            let Expr::Name(base) = base else { return None };
            let base = base.id.as_str();
            if let Some(parent) = classes.get(base) {
                known.names.extend(parent.names.iter().cloned());
                known.declarative |= parent.declarative;
            } else if bases_made.contains(base) {
                known.declarative = true;
            } else if base != "object" {
                return None;
            }
        }
    }
    for stmt in &class.body {
        match stmt {
            Stmt::Assign(_)
            | Stmt::AnnAssign(_)
            | Stmt::AugAssign(_)
            | Stmt::FunctionDef(_)
            | Stmt::ClassDef(_)
            | Stmt::Import(_)
            | Stmt::ImportFrom(_) => {
                known
                    .names
                    .extend(bound_names(stmt).into_iter().map(str::to_string));
            }
            Stmt::Expr(_) | Stmt::Pass(_) => {}
            _ => return None,
        }
    }
    Some(known)
}

/// The names a statement binds in the scope it is in.
fn bound_names(stmt: &Stmt) -> Vec<&str> {
    let mut out = Vec::new();
    let target = names_in_target;
    match stmt {
        Stmt::Assign(a) => a.targets.iter().for_each(|t| target(t, &mut out)),
        Stmt::AnnAssign(a) => target(&a.target, &mut out),
        Stmt::AugAssign(a) => target(&a.target, &mut out),
        Stmt::FunctionDef(f) => out.push(f.name.id.as_str()),
        Stmt::ClassDef(c) => out.push(c.name.id.as_str()),
        Stmt::Import(i) => out.extend(i.names.iter().map(|a| {
            a.asname
                .as_ref()
                .map(|n| n.id.as_str())
                .unwrap_or_else(|| a.name.id.as_str().split('.').next().unwrap_or(""))
        })),
        Stmt::ImportFrom(i) => out.extend(i.names.iter().map(|a| {
            a.asname
                .as_ref()
                .map(|n| n.id.as_str())
                .unwrap_or(a.name.id.as_str())
        })),
        Stmt::For(f) => target(&f.target, &mut out),
        Stmt::With(w) => w
            .items
            .iter()
            .filter_map(|i| i.optional_vars.as_deref())
            .for_each(|v| target(v, &mut out)),
        _ => {}
    }
    out
}

fn names_in_target<'a>(e: &'a Expr, out: &mut Vec<&'a str>) {
    match e {
        Expr::Name(n) => out.push(n.id.as_str()),
        Expr::Tuple(t) => t.elts.iter().for_each(|e| names_in_target(e, out)),
        Expr::List(l) => l.elts.iter().for_each(|e| names_in_target(e, out)),
        Expr::Starred(s) => names_in_target(&s.value, out),
        _ => {}
    }
}

struct Finder<'a, 'c> {
    py: &'a PyFile<'a>,
    classes: &'c mut HashMap<&'a str, Class>,
    /// Names the enclosing functions bind themselves.
    shadowed: Vec<HashSet<&'a str>>,
    /// The top-level function the walk is in.
    function: Option<&'a str>,
    found: Vec<MissingAttribute>,
    /// First pass: only collect `Class.name = ...`.
    assigning: bool,
}

impl<'a> Finder<'a, '_> {
    fn class_named(&self, name: &str) -> bool {
        self.classes.contains_key(name) && !self.shadowed.iter().any(|s| s.contains(name))
    }
}

/// Every name a function binds anywhere in its body, and its parameters.
fn function_bindings(f: &ruff_python_ast::StmtFunctionDef) -> HashSet<&str> {
    struct Bindings<'a>(HashSet<&'a str>);
    impl<'a> Visitor<'a> for Bindings<'a> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            self.0.extend(bound_names(stmt));
            match stmt {
                Stmt::Global(g) => self.0.extend(g.names.iter().map(|n| n.id.as_str())),
                Stmt::Nonlocal(n) => self.0.extend(n.names.iter().map(|n| n.id.as_str())),
                _ => {}
            }
            walk_stmt(self, stmt);
        }
        fn visit_expr(&mut self, expr: &'a Expr) {
            if let Expr::Named(n) = expr
                && let Expr::Name(name) = &*n.target
            {
                self.0.insert(name.id.as_str());
            }
            walk_expr(self, expr);
        }
    }
    let mut b = Bindings(HashSet::new());
    let p = &f.parameters;
    for param in p.posonlyargs.iter().chain(&p.args).chain(&p.kwonlyargs) {
        b.0.insert(param.parameter.name.id.as_str());
    }
    for param in p.vararg.iter().chain(&p.kwarg) {
        b.0.insert(param.name.id.as_str());
    }
    for stmt in &f.body {
        b.visit_stmt(stmt);
    }
    b.0
}

impl<'a> Visitor<'a> for Finder<'a, '_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(f) => {
                let top = self.shadowed.is_empty();
                if top {
                    self.function = Some(f.name.id.as_str());
                }
                self.shadowed.push(function_bindings(f));
                for s in &f.body {
                    self.visit_stmt(s);
                }
                self.shadowed.pop();
                if top {
                    self.function = None;
                }
            }
            // A class body is not walked: inside it, the names are its own.
            Stmt::ClassDef(_) => {}
            Stmt::Assign(a) if self.assigning => {
                for t in &a.targets {
                    if let Expr::Attribute(attr) = t
                        && let Expr::Name(n) = &*attr.value
                        && self.class_named(n.id.as_str())
                        && let Some(class) = self.classes.get_mut(n.id.as_str())
                    {
                        class.names.insert(attr.attr.id.to_string());
                    }
                }
                walk_stmt(self, stmt);
            }
            _ => walk_stmt(self, stmt),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if !self.assigning
            && let Expr::Attribute(attr) = expr
            && attr.ctx == ExprContext::Load
            && let Expr::Name(n) = &*attr.value
            && self.class_named(n.id.as_str())
            && let Some(class) = self.classes.get(n.id.as_str())
        {
            let name = attr.attr.id.as_str();
            let inherited = name.starts_with('_')
                || (class.declarative && matches!(name, "metadata" | "registry" | "query"));
            if !inherited && !class.names.contains(name) {
                self.found.push(MissingAttribute {
                    span: self.py.span(attr.range()),
                    class: n.id.to_string(),
                    attribute: name.to_string(),
                    function: self.function.map(str::to_string),
                });
            }
        }
        walk_expr(self, expr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, SourceFile};

    fn missing_in(text: &str) -> Vec<(String, String, Option<String>)> {
        let file =
            SourceFile::from_bytes(std::path::Path::new("m.py"), "m.py".into(), text.as_bytes());
        let py = PyFile::parse(&file, FileId(0));
        missing(&py)
            .into_iter()
            .map(|m| (m.class, m.attribute, m.function))
            .collect()
    }

    const MODEL: &str = "import enum\nimport sqlalchemy as sa\nfrom sqlalchemy.ext.declarative import declarative_base\n\nBase = declarative_base()\n\n\nclass Value(Base):\n    class Kind(enum.Enum):\n        FINITE = 1\n\n    __tablename__ = \"values\"\n    id = sa.Column(sa.Integer, primary_key=True)\n\n    @classmethod\n    def make(cls):\n        return cls.Kind.FINITE\n\n\n";

    #[test]
    fn an_attribute_the_copied_model_lacks_is_found_in_its_function() {
        let text = format!(
            "{MODEL}def upgrade():\n    print(Value.Kind, Value.id, Value.make, Value.__table__, Value.metadata)\n\n\ndef downgrade():\n    sa.Enum(Value.FloatKind).drop(None)\n"
        );
        assert_eq!(
            missing_in(&text),
            [(
                "Value".to_string(),
                "FloatKind".to_string(),
                Some("downgrade".to_string())
            )]
        );
    }

    #[test]
    fn what_cannot_be_known_is_left_alone() {
        let uses = "\n\ndef downgrade():\n    print(Value.FloatKind)\n";
        // An attribute set on the class later in the file.
        assert!(missing_in(&format!("{MODEL}Value.FloatKind = 1\n{uses}")).is_empty());
        // setattr anywhere.
        assert!(missing_in(&format!("{MODEL}setattr(Value, 'FloatKind', 1)\n{uses}")).is_empty());
        // A base from elsewhere, a decorator, a metaclass, a conditional body.
        for class in [
            "from app import Base\n\nclass Value(Base):\n    id = 1\n",
            "import dataclasses\n\n@dataclasses.dataclass\nclass Value:\n    id: int = 1\n",
            "class Value(metaclass=type):\n    id = 1\n",
            "class Value:\n    if True:\n        FloatKind = 1\n",
        ] {
            assert!(missing_in(&format!("{class}{uses}")).is_empty(), "{class}");
        }
        // The name bound again, at module level or in the function.
        assert!(missing_in(&format!("{MODEL}Value = None\n{uses}")).is_empty());
        assert!(
            missing_in(&format!(
                "{MODEL}\ndef downgrade(Value):\n    print(Value.FloatKind)\n"
            ))
            .is_empty()
        );
        // Assigning to it is not reading it.
        assert!(
            missing_in(&format!(
                "{MODEL}\ndef downgrade():\n    Value.FloatKind = 2\n"
            ))
            .is_empty()
        );
    }

    #[test]
    fn inherited_names_count() {
        let text = "class A:\n    x = 1\n\n\nclass B(A):\n    y = 2\n\n\ndef upgrade():\n    print(B.x, B.y, B.z)\n";
        assert_eq!(
            missing_in(text),
            [(
                "B".to_string(),
                "z".to_string(),
                Some("upgrade".to_string())
            )]
        );
    }
}
