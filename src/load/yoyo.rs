//! yoyo migrations: Python files with `step(apply, rollback)` calls and
//! `__depends__`, and `.sql` files with `-- depends:` headers and a
//! `.rollback.sql` companion.

use std::collections::HashMap;

use ruff_python_ast::{Expr, ExprCall, Stmt};
use ruff_text_size::Ranged;

use crate::load::python::{PyFile, arg, assignments, callee_name, named_list};
use crate::migration::{
    Flavour, LoadProblem, Migration, Named, Online, OpKind, OpaqueKind, Operation, Parents, Reach,
    Rollback, Step, SuppressionComment,
};
use crate::project::config::Dialect;
use crate::source::{FileId, SourceFile, Span};

pub fn load_py(file: &SourceFile, id: FileId, stem: String, dialect: Dialect) -> Migration {
    let py = PyFile::parse(file, id);
    let mut m = Migration::new(id, Flavour::YoyoPy, stem.clone());
    m.id = Some(Named {
        name: stem,
        span: Span::new(id, 0, 0),
    });
    m.problems = py.syntax_problems();
    m.ops_unknown = !m.problems.is_empty();
    m.suppressions = py.suppressions();
    m.docstring = py.docstring();
    m.parents = Parents::Root;
    for (name, range, value) in assignments(py.suite()) {
        if name == "__depends__" {
            m.parents_span = Some(py.span(range));
            m.parents = match value {
                Expr::Dict(d) if d.items.is_empty() => Parents::Root,
                Expr::Call(c) if c.arguments.args.is_empty() => Parents::Root,
                _ => match named_list(&py, value) {
                    Some(list) if list.is_empty() => Parents::Root,
                    Some(list) => Parents::Of(list),
                    None => Parents::Unknown(py.span(value.range())),
                },
            };
        }
    }

    let functions: HashMap<&str, ()> = py
        .suite()
        .iter()
        .filter_map(|s| match s {
            Stmt::FunctionDef(f) => Some((f.name.id.as_str(), ())),
            _ => None,
        })
        .collect();
    let mut reader = StepReader {
        py: &py,
        dialect,
        constants: py.string_constants(),
        functions,
        steps: Vec::new(),
        problems: Vec::new(),
        suppressions: Vec::new(),
    };
    for stmt in py.suite() {
        match stmt {
            Stmt::Expr(e) => reader.find_steps(&e.value),
            Stmt::Assign(a) => reader.find_steps(&a.value),
            Stmt::AnnAssign(a) => {
                if let Some(v) = &a.value {
                    reader.find_steps(v)
                }
            }
            _ => {}
        }
    }
    m.steps = reader.steps;
    m.problems.extend(reader.problems);
    m.suppressions.extend(reader.suppressions);
    m
}

struct StepReader<'a, 'f> {
    py: &'a PyFile<'f>,
    dialect: Dialect,
    constants: HashMap<&'a str, &'a Expr>,
    functions: HashMap<&'a str, ()>,
    steps: Vec<Step>,
    problems: Vec<LoadProblem>,
    suppressions: Vec<SuppressionComment>,
}

impl<'a> StepReader<'a, '_> {
    /// Finds `step(...)` calls, also inside lists, tuples and `group(...)`.
    fn find_steps(&mut self, expr: &'a Expr) {
        match expr {
            Expr::List(l) => l.elts.iter().for_each(|e| self.find_steps(e)),
            Expr::Tuple(t) => t.elts.iter().for_each(|e| self.find_steps(e)),
            Expr::Call(c) => match callee_name(c) {
                Some("step") => self.step(c),
                Some("group") => c.arguments.args.iter().for_each(|e| self.find_steps(e)),
                _ => {}
            },
            _ => {}
        }
    }

    fn step(&mut self, call: &'a ExprCall) {
        let span = self.py.span(call.range());
        let apply_expr = arg(call, 0, "apply");
        let (apply, apply_does_work) = match apply_expr {
            None | Some(Expr::NoneLiteral(_)) => (Vec::new(), false),
            Some(e) => {
                let (ops, statements) = self.side(e);
                (ops, statements > 0)
            }
        };
        let rollback = match arg(call, 1, "rollback") {
            None | Some(Expr::NoneLiteral(_)) => Rollback::Missing,
            Some(e) => {
                let (ops, statements) = self.side(e);
                let span = self.py.span(e.range());
                if statements == 0 {
                    Rollback::Empty {
                        span,
                        why: "it holds no SQL statement (empty or only comments)",
                    }
                } else {
                    Rollback::Ops { span, ops }
                }
            }
        };
        self.steps.push(Step {
            span,
            apply,
            apply_does_work,
            rollback,
        });
    }

    /// One side of a step: SQL text (a literal or a module constant), or a
    /// Python callable. Returns its operations and its statement count.
    fn side(&mut self, expr: &'a Expr) -> (Vec<Operation>, usize) {
        let resolved = match expr {
            Expr::Name(n) => self.constants.get(n.id.as_str()).copied().unwrap_or(expr),
            _ => expr,
        };
        if let Some((text, map)) = self.py.literal_text(resolved) {
            let out = self.py.read_sql(&text, &map, self.dialect);
            self.problems.extend(out.problems);
            self.suppressions.extend(out.suppressions);
            return (out.ops, out.statements);
        }
        let (what, note) = match expr {
            Expr::Name(n) if self.functions.contains_key(n.id.as_str()) => {
                (OpaqueKind::Python, format!("Python step `{}`", n.id))
            }
            Expr::Lambda(_) | Expr::Name(_) | Expr::Attribute(_) => {
                (OpaqueKind::Python, "Python callable".to_string())
            }
            _ => (OpaqueKind::DynamicSql, "SQL built at run time".to_string()),
        };
        let op = Operation {
            kind: OpKind::Opaque { what, note },
            span: self.py.span(expr.range()),
            in_batch: false,
            sql: None,
            call: None,
            reach: Reach::Always,
            if_exists: false,
            online: Online::default(),
        };
        (vec![op], 1)
    }
}

/// A yoyo `.sql` migration and its optional `.rollback.sql`.
pub fn load_sql(
    file: &SourceFile,
    id: FileId,
    rollback: Option<(&SourceFile, FileId)>,
    stem: String,
    dialect: Dialect,
) -> Migration {
    let mut m = Migration::new(id, Flavour::YoyoSql, stem.clone());
    m.id = Some(Named {
        name: stem,
        span: Span::new(id, 0, 0),
    });
    m.rollback_file = rollback.map(|(_, rid)| rid);
    let (parents, parents_span) = depends_header(&file.text, id);
    m.parents = parents;
    m.parents_span = parents_span;

    crate::load::sqlfolder::file_step(
        &mut m,
        file,
        id,
        rollback,
        dialect,
        "the rollback file holds no SQL statement (empty or only comments)",
    );
    m
}

/// Reads `-- depends: a b` lines from the leading comment block of a SQL file.
fn depends_header(text: &str, id: FileId) -> (Parents, Option<Span>) {
    let mut names = Vec::new();
    let mut span = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if !(trimmed.is_empty() || trimmed.starts_with("--")) {
            break;
        }
        let body = trimmed.trim_start_matches('-').trim_start();
        if let Some(rest) = body.strip_prefix("depends:") {
            let lead = line.len() - line.trim_start().len();
            let line_span = Span::new(id, offset + lead, offset + lead + trimmed.len());
            span = Some(span.map_or(line_span, |s: Span| s.cover(line_span)));
            let rest_at = offset + line.find(rest).unwrap_or(0);
            let mut pos = 0;
            for word in rest.split(|c: char| c.is_whitespace() || c == ',') {
                if !word.is_empty() {
                    let start = rest_at + pos;
                    names.push(Named {
                        name: word.to_string(),
                        span: Span::new(id, start, start + word.len()),
                    });
                }
                pos += word.len() + 1;
            }
        }
        offset += line.len();
    }
    let parents = if names.is_empty() {
        Parents::Root
    } else {
        Parents::Of(names)
    };
    (parents, span)
}

/// yoyo runs a migration outside a transaction when it says
/// `__transactional__ = False` (Python) or `-- transactional: false` (SQL).
pub fn transactional_off(text: &str) -> bool {
    text.lines().any(|l| {
        let l: String = l.chars().filter(|c| !c.is_whitespace()).collect();
        l == "__transactional__=False" || l.eq_ignore_ascii_case("--transactional:false")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depends_header_names_have_spans() {
        let text = "-- Add users\n-- depends: 0001_initial 0002_more\nCREATE TABLE x (a);\n";
        let (parents, span) = depends_header(text, FileId(0));
        let names = parents.names();
        assert_eq!(names.len(), 2);
        assert_eq!(&text[names[1].span.range()], "0002_more");
        assert!(span.is_some());
    }
}
