//! The naming convention of the `MetaData` an Alembic `env.py` passes as
//! `target_metadata`: Alembic builds the tables of `op.create_table`,
//! `op.add_column` and the other operations in a `MetaData` with that
//! convention, so it names what the migrations leave unnamed. Read
//! statically: in `env.py` itself, or in the project module that
//! `target_metadata` comes from (`from app import models` ...
//! `target_metadata = models.base.Base.metadata`).

use std::path::Path;

use ruff_python_ast::visitor::{Visitor, walk_expr};
use ruff_python_ast::{Expr, PySourceType, Stmt};
use ruff_python_parser::parse_unchecked_source;

use crate::load::imports::module_file;
use crate::load::python::{callee_name, keyword};
use crate::project::env_py::env_py_of;

/// What names the constraints the migrations leave unnamed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum NamingConvention {
    /// No convention: SQLAlchemy's default (no `env.py`, no
    /// `target_metadata`, or a `MetaData()` without one).
    #[default]
    Default,
    /// Kind (`fk`, `uq`, `ck`, `pk`, `ix`) → template.
    Known(Vec<(String, String)>),
    /// `target_metadata` comes from somewhere miglint does not read: the
    /// names of unnamed constraints are not known.
    Unknown,
}

impl NamingConvention {
    /// The name `Column(..., index=True)` gets: the `ix` template
    /// (SQLAlchemy's default is `ix_%(column_0_label)s`); `None` when the
    /// convention is not known or has no `ix` entry.
    pub fn index_name(&self, table: &str, column: &str) -> Option<String> {
        let template = match self {
            NamingConvention::Default => "ix_%(column_0_label)s",
            NamingConvention::Known(c) => c.iter().find(|(k, _)| k == "ix")?.1.as_str(),
            NamingConvention::Unknown => return None,
        };
        convention_name(template, table, &[column.to_string()], None)
    }
}

/// SQLAlchemy's naming-convention template filled in.
pub fn convention_name(
    template: &str,
    table: &str,
    columns: &[String],
    referred: Option<(&String, &Vec<String>)>,
) -> Option<String> {
    let mut out = template.to_string();
    let first = columns.first()?;
    let labels: Vec<String> = columns.iter().map(|c| format!("{table}_{c}")).collect();
    let mut tokens: Vec<(&str, String)> = vec![
        ("table_name", table.to_string()),
        ("column_0_name", first.clone()),
        ("column_0_N_name", columns.join("_")),
        ("column_0N_name", columns.join("")),
        ("column_0_label", format!("{table}_{first}")),
        ("column_0_N_label", labels.join("_")),
    ];
    if let Some((ref_table, ref_columns)) = referred {
        tokens.push(("referred_table_name", ref_table.clone()));
        if let Some(r) = ref_columns.first() {
            tokens.push(("referred_column_0_name", r.clone()));
        }
    }
    for (token, value) in tokens {
        out = out.replace(&format!("%({token})s"), &value);
    }
    // A token left over (`%(constraint_name)s`): no name is guessed.
    (!out.contains("%(")).then_some(out)
}

/// The convention of the `env.py` beside the versions folder `dir`.
pub fn of_versions(dir: &Path) -> NamingConvention {
    let Some(env) = env_py_of(dir) else {
        return NamingConvention::Default;
    };
    match std::fs::read_to_string(&env) {
        Ok(text) => of_env(&env, &text),
        Err(_) => NamingConvention::Default,
    }
}

fn of_env(path: &Path, text: &str) -> NamingConvention {
    let parsed = parse_unchecked_source(text, PySourceType::Python);
    let suite = &parsed.syntax().body;
    if let Some(found) = conventions_in(suite) {
        return found;
    }
    // `target_metadata = ...`, or the module-level name handed to
    // `context.configure(target_metadata=metadata)`.
    let value = assigned(suite, "target_metadata").or_else(|| {
        let name = configured_name(suite)?;
        assigned(suite, &name)
    });
    let Some(value) = value else {
        return if text.contains("target_metadata") {
            NamingConvention::Unknown
        } else {
            NamingConvention::Default
        };
    };
    match value {
        Expr::NoneLiteral(_) => NamingConvention::Default,
        Expr::Call(c) if callee_name(c) == Some("MetaData") => NamingConvention::Default,
        // Several MetaData objects: Alembic takes a convention only from a
        // `target_metadata` that has one, which a list or tuple has not.
        Expr::List(_) | Expr::Tuple(_) => NamingConvention::Default,
        Expr::Attribute(_) | Expr::Name(_) => match dotted(value) {
            Some(parts) => from_module(path, suite, &parts, 0),
            None => NamingConvention::Unknown,
        },
        _ => NamingConvention::Unknown,
    }
}

/// The one module-level name every `target_metadata=` keyword of the
/// module's calls hands over (`context.configure(target_metadata=meta)`).
fn configured_name(suite: &[Stmt]) -> Option<String> {
    struct Keywords(Vec<Option<String>>);
    impl<'a> Visitor<'a> for Keywords {
        fn visit_expr(&mut self, expr: &'a Expr) {
            if let Expr::Call(c) = expr
                && let Some(v) = keyword(c, "target_metadata")
            {
                self.0.push(v.as_name_expr().map(|n| n.id.to_string()));
            }
            walk_expr(self, expr);
        }
    }
    let mut found = Keywords(Vec::new());
    for stmt in suite {
        found.visit_stmt(stmt);
    }
    let first = found.0.first()?.clone()?;
    found
        .0
        .iter()
        .all(|n| n.as_deref() == Some(first.as_str()))
        .then_some(first)
}

/// `a.b.c` → ["a", "b", "c"].
fn dotted(e: &Expr) -> Option<Vec<String>> {
    match e {
        Expr::Name(n) => Some(vec![n.id.to_string()]),
        Expr::Attribute(a) => {
            let mut parts = dotted(&a.value)?;
            parts.push(a.attr.id.to_string());
            Some(parts)
        }
        _ => None,
    }
}

/// How many modules deep a `target_metadata` is followed (a model class
/// imported by `env.py`, its base class imported by the model's module...).
const MAX_DEPTH: usize = 3;

/// The convention of the project module the dotted name `parts`
/// (`models.base.Base.metadata`) leads into, through the imports of the
/// module at `path` (`suite`). A model class there (`Auth.metadata`, with
/// `class Auth(Base)`) is followed to the module its first base comes from.
fn from_module(path: &Path, suite: &[Stmt], parts: &[String], depth: usize) -> NamingConvention {
    let Some(first) = parts.first() else {
        return NamingConvention::Unknown;
    };
    // The module the first name is imported as.
    let mut module: Option<Vec<String>> = None;
    for stmt in suite {
        match stmt {
            Stmt::ImportFrom(i) if i.level == 0 => {
                for alias in &i.names {
                    let local = alias.asname.as_ref().unwrap_or(&alias.name);
                    if local.as_str() == first {
                        let mut m: Vec<String> = i
                            .module
                            .as_ref()
                            .map(|m| m.split('.').map(str::to_string).collect())
                            .unwrap_or_default();
                        m.push(alias.name.to_string());
                        module = Some(m);
                    }
                }
            }
            Stmt::Import(i) => {
                for alias in &i.names {
                    match &alias.asname {
                        Some(a) if a.as_str() == first => {
                            module = Some(alias.name.split('.').map(str::to_string).collect());
                        }
                        None if alias.name.split('.').next() == Some(first.as_str()) => {
                            module = Some(vec![first.clone()]);
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let Some(mut module) = module else {
        return NamingConvention::Unknown;
    };
    module.extend(parts[1..].iter().cloned());
    // The longest prefix that is a file of the project, and the names
    // after it.
    let Some((file, rest)) = (1..=module.len()).rev().find_map(|n| {
        module_file(path, Some(&module[..n].join(".")), 0).map(|f| (f, &module[n..]))
    }) else {
        return NamingConvention::Unknown;
    };
    let Ok(text) = std::fs::read_to_string(&file) else {
        return NamingConvention::Unknown;
    };
    let parsed = parse_unchecked_source(&text, PySourceType::Python);
    let body = &parsed.syntax().body;
    match conventions_in(body) {
        Some(found) => return found,
        None if text.contains("MetaData(") || text.contains("declarative_base(") => {
            return NamingConvention::Default;
        }
        None => {}
    }
    if depth + 1 >= MAX_DEPTH {
        return NamingConvention::Unknown;
    }
    // A class of that module: the metadata of its first base. A name it
    // imports: followed from there.
    let Some(name) = rest.first() else {
        return NamingConvention::Unknown;
    };
    let base = body.iter().find_map(|stmt| match stmt {
        Stmt::ClassDef(c) if c.name.as_str() == name => {
            c.arguments.as_ref()?.args.first().and_then(dotted)
        }
        _ => None,
    });
    match base {
        Some(mut base) => {
            base.push("metadata".to_string());
            from_module(&file, body, &base, depth + 1)
        }
        None => from_module(&file, body, rest, depth + 1),
    }
}

/// The module-level value assigned to `name`.
fn assigned<'a>(suite: &'a [Stmt], name: &str) -> Option<&'a Expr> {
    let mut found = None;
    for stmt in suite {
        match stmt {
            Stmt::Assign(a)
                if a.targets.len() == 1
                    && matches!(&a.targets[0], Expr::Name(n) if n.id.as_str() == name) =>
            {
                found = Some(&*a.value);
            }
            Stmt::AnnAssign(a) if matches!(&*a.target, Expr::Name(n) if n.id.as_str() == name) => {
                found = a.value.as_deref();
            }
            _ => {}
        }
    }
    found
}

/// The conventions of the `MetaData(naming_convention=...)` calls in a
/// module: `None` when there is none, `Unknown` when one cannot be read or
/// two differ.
fn conventions_in(suite: &[Stmt]) -> Option<NamingConvention> {
    struct Calls<'a> {
        values: Vec<&'a Expr>,
    }
    impl<'a> Visitor<'a> for Calls<'a> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            if let Expr::Call(c) = expr
                && callee_name(c) == Some("MetaData")
                && let Some(v) = keyword(c, "naming_convention")
            {
                self.values.push(v);
            }
            walk_expr(self, expr);
        }
    }
    let mut calls = Calls { values: Vec::new() };
    for stmt in suite {
        calls.visit_stmt(stmt);
    }
    let mut found: Option<Vec<(String, String)>> = None;
    for v in calls.values {
        let dict = match v {
            Expr::Name(n) => assigned(suite, n.id.as_str()),
            other => Some(other),
        };
        let Some(convention) = dict.and_then(string_dict) else {
            return Some(NamingConvention::Unknown);
        };
        if found.as_ref().is_some_and(|f| *f != convention) {
            return Some(NamingConvention::Unknown);
        }
        found = Some(convention);
    }
    found.map(NamingConvention::Known)
}

/// A dict literal of string keys and string values.
fn string_dict(e: &Expr) -> Option<Vec<(String, String)>> {
    let Expr::Dict(d) = e else {
        return None;
    };
    d.items
        .iter()
        .map(|item| {
            let key = item.key.as_ref()?.as_string_literal_expr()?;
            let value = item.value.as_string_literal_expr()?;
            Some((
                key.value.to_str().to_string(),
                value.value.to_str().to_string(),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(env: &str, files: &[(&str, &str)]) -> NamingConvention {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let env_path = dir.path().join("app/migrations/env.py");
        std::fs::create_dir_all(env_path.parent().unwrap()).unwrap();
        std::fs::write(&env_path, env).unwrap();
        of_versions(&dir.path().join("app/migrations/versions"))
    }

    #[test]
    fn in_env_py_itself() {
        let found = read(
            "import sqlalchemy as sa\nNC = {\"fk\": \"fk_%(table_name)s_%(column_0_name)s\"}\ntarget_metadata = sa.MetaData(naming_convention=NC)\n",
            &[],
        );
        assert_eq!(
            found,
            NamingConvention::Known(vec![(
                "fk".into(),
                "fk_%(table_name)s_%(column_0_name)s".into()
            )])
        );
    }

    #[test]
    fn in_the_module_target_metadata_comes_from() {
        let base = "from sqlalchemy import MetaData\nnaming_convention = {\"pk\": \"%(table_name)s_pkey\"}\nmetadata = MetaData(naming_convention=naming_convention)\n";
        let env = "from app import models\ntarget_metadata = models.base.Base.metadata\n";
        let found = read(
            env,
            &[
                ("app/__init__.py", ""),
                ("app/models/__init__.py", ""),
                ("app/models/base.py", base),
            ],
        );
        assert_eq!(
            found,
            NamingConvention::Known(vec![("pk".into(), "%(table_name)s_pkey".into())])
        );
    }

    #[test]
    fn configured_metadata_of_a_model_class_is_followed_to_its_base() {
        let db = "from sqlalchemy import MetaData\nfrom sqlalchemy.orm import declarative_base\nmetadata_obj = MetaData(naming_convention={\"ix\": \"idx_%(column_0_label)s\"})\nBase = declarative_base(metadata=metadata_obj)\n";
        let auths = "from app.internal.db import Base\n\n\nclass Auth(Base):\n    __tablename__ = \"auth\"\n";
        let env = "from alembic import context\nfrom app.models.auths import Auth\nmigration_metadata = Auth.metadata\n\n\ndef run():\n    context.configure(target_metadata=migration_metadata)\n";
        let files = [
            ("app/__init__.py", ""),
            ("app/internal/__init__.py", ""),
            ("app/internal/db.py", db),
            ("app/models/__init__.py", ""),
            ("app/models/auths.py", auths),
        ];
        assert_eq!(
            read(env, &files),
            NamingConvention::Known(vec![("ix".into(), "idx_%(column_0_label)s".into())])
        );
        // Without the module the base comes from, it is not known.
        assert_eq!(read(env, &files[3..]), NamingConvention::Unknown);
        // Two different names handed over: not known either.
        let two = format!("{env}    context.configure(target_metadata=other)\n");
        assert_eq!(read(&two, &files), NamingConvention::Unknown);
    }

    #[test]
    fn none_plain_metadata_and_what_cannot_be_read() {
        assert_eq!(
            read("target_metadata = None\n", &[]),
            NamingConvention::Default
        );
        assert_eq!(
            read(
                "from app.db import Base\ntarget_metadata = Base.metadata\n",
                &[(
                    "app/db.py",
                    "from sqlalchemy.orm import declarative_base\nBase = declarative_base()\n"
                )]
            ),
            NamingConvention::Default
        );
        assert_eq!(
            read(
                "from elsewhere import Base\ntarget_metadata = Base.metadata\n",
                &[]
            ),
            NamingConvention::Unknown
        );
        // Alembic looks for `naming_convention` on `target_metadata`
        // itself, which a list has not: SQLAlchemy's default names.
        assert_eq!(
            read("target_metadata = [a.metadata, b.metadata]\n", &[]),
            NamingConvention::Default
        );
    }
}
