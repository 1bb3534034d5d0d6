//! Shared reading of Python source through Ruff's parser: string literals
//! with exact offsets, docstrings, comments, call shapes.

use std::collections::HashMap;

use ruff_python_ast::token::TokenKind;
use ruff_python_ast::{Expr, ExprCall, ModModule, PySourceType, Stmt};
use ruff_python_parser::{Parsed, parse_unchecked_source};
use ruff_text_size::{Ranged, TextRange};

use crate::load::sql::{OffsetMap, SqlOutput, SqlSource, read_sql};
use crate::load::suppression::parse_suppression;
use crate::migration::{Docstring, LoadProblem, Named, SuppressionComment};
use crate::source::{FileId, SourceFile, Span};

pub struct PyFile<'a> {
    pub file: &'a SourceFile,
    pub id: FileId,
    pub parsed: Parsed<ModModule>,
    /// Where brackets nest deeper than Python allows (the file is then not
    /// parsed at all).
    too_deep: Option<usize>,
}

/// CPython refuses more nested brackets than this ("too many nested
/// parentheses"); miglint does the same instead of recursing without end.
pub const MAX_NESTING: usize = 200;

/// The offset of the first bracket nested deeper than [`MAX_NESTING`],
/// outside strings and comments.
pub fn too_deep(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let (mut i, mut depth) = (0usize, 0usize);
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            q @ (b'\'' | b'"') => {
                let triple = b.len() >= i + 3 && b[i + 1] == q && b[i + 2] == q;
                i += if triple { 3 } else { 1 };
                while i < b.len() {
                    if b[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if triple {
                        if b[i] == q && b.len() >= i + 3 && b[i + 1] == q && b[i + 2] == q {
                            i += 2;
                            break;
                        }
                    } else if b[i] == q || b[i] == b'\n' {
                        break;
                    }
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

impl<'a> PyFile<'a> {
    pub fn parse(file: &'a SourceFile, id: FileId) -> Self {
        let too_deep = too_deep(&file.text);
        let source = if too_deep.is_some() { "" } else { &file.text };
        let parsed = parse_unchecked_source(source, PySourceType::Python);
        PyFile {
            file,
            id,
            parsed,
            too_deep,
        }
    }

    pub fn suite(&self) -> &[Stmt] {
        &self.parsed.syntax().body
    }

    pub fn span(&self, range: TextRange) -> Span {
        Span::new(self.id, range.start().to_usize(), range.end().to_usize())
    }

    /// The whole file's text.
    pub fn source(&self) -> &str {
        &self.file.text
    }

    pub fn text(&self, range: TextRange) -> &str {
        &self.file.text[range.start().to_usize()..range.end().to_usize()]
    }

    pub fn syntax_problems(&self) -> Vec<LoadProblem> {
        if let Some(at) = self.too_deep {
            return vec![LoadProblem {
                span: Span::new(self.id, at, at + 1),
                message: format!(
                    "invalid Python: brackets nest more than {MAX_NESTING} levels deep (CPython refuses this too); the file is not read further"
                ),
            }];
        }
        self.parsed
            .errors()
            .iter()
            .map(|e| LoadProblem {
                span: self.span(e.location),
                message: format!("invalid Python: {}", e.error),
            })
            .collect()
    }

    pub fn suppressions(&self) -> Vec<SuppressionComment> {
        self.parsed
            .tokens()
            .iter()
            .filter(|t| t.kind() == TokenKind::Comment)
            .filter_map(|t| {
                let text = self.text(t.range());
                if !text.contains("miglint:") {
                    return None;
                }
                parse_suppression(text, self.span(t.range()), self.file)
            })
            .collect()
    }

    /// Module-level `NAME = "literal"` assignments, for SQL kept in constants.
    pub fn string_constants(&self) -> HashMap<&str, &Expr> {
        let mut out = HashMap::new();
        for stmt in self.suite() {
            if let Stmt::Assign(a) = stmt
                && let [Expr::Name(n)] = a.targets.as_slice()
                && matches!(*a.value, Expr::StringLiteral(_))
            {
                out.insert(n.id.as_str(), &*a.value);
            }
        }
        out
    }

    /// The text of a string literal (all implicitly concatenated parts),
    /// with a map from offsets in that text to offsets in the file.
    pub fn literal_text(&self, expr: &Expr) -> Option<(String, OffsetMap)> {
        let Expr::StringLiteral(lit) = expr else {
            return None;
        };
        let mut out = String::new();
        let mut map = OffsetMap::default();
        for part in lit.value.iter() {
            let content = part.content_range();
            let raw = self.text(content);
            let base = content.start().to_usize();
            if part.flags.prefix().is_raw() || !raw.contains('\\') {
                map.push(out.len(), base);
                out.push_str(raw);
            } else {
                decode_escapes(raw, base, &mut out, &mut map);
            }
        }
        Some((out, map))
    }

    /// Reads SQL held in a string literal of this file (see `literal_text`).
    pub fn read_sql(
        &self,
        text: &str,
        map: &OffsetMap,
        dialect: crate::project::config::Dialect,
    ) -> SqlOutput {
        let mut out = SqlOutput::default();
        let src = SqlSource {
            text,
            map,
            file: self.id,
        };
        read_sql(&src, dialect, self.file, &mut out);
        out
    }

    /// The module docstring and its `Revision ID:` / `Revises:` header lines.
    pub fn docstring(&self) -> Docstring {
        let Some(Stmt::Expr(e)) = self.suite().first() else {
            return Docstring::default();
        };
        let Some((text, map)) = self.literal_text(&e.value) else {
            return Docstring::default();
        };
        let mut doc = Docstring {
            span: Some(self.span(e.range())),
            ..Docstring::default()
        };
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            let trimmed = line.trim_end();
            let lead = line.len() - line.trim_start().len();
            let body = &trimmed[lead.min(trimmed.len())..];
            let header = |key: &str| -> Option<(usize, &str)> {
                let rest = body.strip_prefix(key)?;
                let value = rest.trim_start();
                Some((
                    offset + lead + key.len() + (rest.len() - value.len()),
                    value,
                ))
            };
            let named = |at: usize, name: &str| Named {
                name: name.to_string(),
                span: Span::new(self.id, map.to_file(at), map.to_file(at + name.len())),
            };
            if let Some((at, value)) = header("Revision ID:") {
                doc.revision_id = Some(named(at, value));
            } else if let Some((at, value)) = header("Revises:") {
                let mut list = Vec::new();
                let mut pos = at;
                for part in value.split(',') {
                    let lead = part.len() - part.trim_start().len();
                    let name = part.trim();
                    // `None`, or `(none)` as some templates write it.
                    let none = name.trim_matches(|c| c == '(' || c == ')');
                    if !name.is_empty() && !none.eq_ignore_ascii_case("none") {
                        list.push(named(pos + lead, name));
                    }
                    pos += part.len() + 1;
                }
                doc.revises = Some(list);
            }
            offset += line.len();
        }
        doc
    }
}

/// Decodes Python escape sequences, starting a new map segment at each one.
fn decode_escapes(raw: &str, base: usize, out: &mut String, map: &mut OffsetMap) {
    let mut chars = raw.char_indices().peekable();
    map.push(out.len(), base);
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        map.push(out.len(), base + i);
        let Some((_, e)) = chars.next() else {
            out.push('\\');
            break;
        };
        let mut take_hex = |n: usize| -> Option<char> {
            let mut v = 0u32;
            for _ in 0..n {
                let (_, h) = chars.next()?;
                v = v * 16 + h.to_digit(16)?;
            }
            char::from_u32(v)
        };
        match e {
            '\n' => {}
            '\r' => {
                if chars.peek().map(|p| p.1) == Some('\n') {
                    chars.next();
                }
            }
            '\\' | '\'' | '"' => out.push(e),
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'v' => out.push('\x0b'),
            'x' => out.push(take_hex(2).unwrap_or('\u{FFFD}')),
            'u' => out.push(take_hex(4).unwrap_or('\u{FFFD}')),
            'U' => out.push(take_hex(8).unwrap_or('\u{FFFD}')),
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match chars.peek() {
                        Some(&(_, d)) if d.is_digit(8) => {
                            v = v * 8 + d.to_digit(8).unwrap_or(0);
                            chars.next();
                        }
                        _ => break,
                    }
                }
                out.push(char::from_u32(v).unwrap_or('\u{FFFD}'));
            }
            'N' if chars.peek().map(|p| p.1) == Some('{') => {
                for (_, d) in chars.by_ref() {
                    if d == '}' {
                        break;
                    }
                }
                out.push('\u{FFFD}');
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
        let next = chars.peek().map(|p| p.0).unwrap_or(raw.len());
        map.push(out.len(), base + next);
    }
}

/// `receiver.method` of a call, when the receiver is a plain name.
pub fn method_call(call: &ExprCall) -> Option<(&str, &str)> {
    match &*call.func {
        Expr::Attribute(a) => match &*a.value {
            Expr::Name(n) => Some((n.id.as_str(), a.attr.id.as_str())),
            _ => None,
        },
        _ => None,
    }
}

/// The last name of a callee: `sa.Column` and `Column` both give `Column`.
pub fn callee_name(call: &ExprCall) -> Option<&str> {
    match &*call.func {
        Expr::Name(n) => Some(n.id.as_str()),
        Expr::Attribute(a) => Some(a.attr.id.as_str()),
        _ => None,
    }
}

pub fn keyword<'e>(call: &'e ExprCall, name: &str) -> Option<&'e Expr> {
    call.arguments
        .keywords
        .iter()
        .find(|k| k.arg.as_ref().is_some_and(|a| a.id.as_str() == name))
        .map(|k| &k.value)
}

/// Positional argument `i`, or the keyword `name`.
pub fn arg<'e>(call: &'e ExprCall, i: usize, name: &str) -> Option<&'e Expr> {
    call.arguments.args.get(i).or_else(|| keyword(call, name))
}

pub fn str_value(expr: &Expr) -> Option<String> {
    match expr {
        Expr::StringLiteral(s) => Some(s.value.to_str().to_string()),
        _ => None,
    }
}

pub fn bool_value(expr: &Expr) -> Option<bool> {
    match expr {
        Expr::BooleanLiteral(b) => Some(b.value),
        _ => None,
    }
}

/// A list or tuple of string literals, or a single string literal.
pub fn str_list(expr: &Expr) -> Option<Vec<String>> {
    match expr {
        Expr::List(l) => l.elts.iter().map(str_value).collect(),
        Expr::Tuple(t) => t.elts.iter().map(str_value).collect(),
        Expr::Set(s) => s.elts.iter().map(str_value).collect(),
        Expr::StringLiteral(_) => str_value(expr).map(|s| vec![s]),
        _ => None,
    }
}

/// Strings of a list/tuple/set (or one string) with their spans.
pub fn named_list(py: &PyFile, expr: &Expr) -> Option<Vec<Named>> {
    let one = |e: &Expr| {
        str_value(e).map(|name| Named {
            name,
            span: py.span(e.range()),
        })
    };
    match expr {
        Expr::List(l) => l.elts.iter().map(one).collect(),
        Expr::Tuple(t) => t.elts.iter().map(one).collect(),
        Expr::Set(s) => s.elts.iter().map(one).collect(),
        Expr::StringLiteral(_) => one(expr).map(|n| vec![n]),
        _ => None,
    }
}

/// A body that does nothing: only `pass`, `...` and string literals (docstrings).
pub fn is_trivial_body(body: &[Stmt]) -> bool {
    body.iter().all(|s| match s {
        Stmt::Pass(_) => true,
        Stmt::Expr(e) => matches!(*e.value, Expr::EllipsisLiteral(_) | Expr::StringLiteral(_)),
        _ => false,
    })
}

/// `name = value` or `name: T = value` (one name, a value given): in a
/// class body, or a module's top level.
pub fn assignment(stmt: &Stmt) -> Option<(&str, &Expr)> {
    match stmt {
        Stmt::Assign(a) => match a.targets.as_slice() {
            [Expr::Name(n)] => Some((n.id.as_str(), &a.value)),
            _ => None,
        },
        Stmt::AnnAssign(a) => match (&*a.target, &a.value) {
            (Expr::Name(n), Some(v)) => Some((n.id.as_str(), v)),
            _ => None,
        },
        _ => None,
    }
}

/// Top-level `name = value` / `name: T = value` assignments.
pub fn assignments(suite: &[Stmt]) -> Vec<(&str, TextRange, &Expr)> {
    let mut out = Vec::new();
    for stmt in suite {
        match stmt {
            Stmt::Assign(a) => {
                for t in &a.targets {
                    if let Expr::Name(n) = t {
                        out.push((n.id.as_str(), a.range, &*a.value));
                    }
                }
            }
            Stmt::AnnAssign(a) => {
                if let (Expr::Name(n), Some(v)) = (&*a.target, &a.value) {
                    out.push((n.id.as_str(), a.range, &**v));
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn with_file<R>(src: &str, f: impl FnOnce(&PyFile) -> R) -> R {
        let file = SourceFile::from_bytes(Path::new("m.py"), "m.py".into(), src.as_bytes());
        let py = PyFile::parse(&file, FileId(0));
        f(&py)
    }

    #[test]
    fn literal_offsets_survive_escapes_and_concatenation() {
        let src = "x = 'a\\'b' \"CREATE\"\n";
        with_file(src, |py| {
            let Stmt::Assign(a) = &py.suite()[0] else {
                panic!()
            };
            let (text, map) = py.literal_text(&a.value).unwrap();
            assert_eq!(text, "a'bCREATE");
            let at = text.find("CREATE").unwrap();
            assert_eq!(&src[map.to_file(at)..map.to_file(at) + 6], "CREATE");
            assert_eq!(&src[map.to_file(2)..map.to_file(2) + 1], "b");
        });
    }

    #[test]
    fn docstring_headers_have_spans() {
        let src = "\"\"\"Add users.\n\nRevision ID: 002\nRevises: 001\n\"\"\"\n";
        with_file(src, |py| {
            let d = py.docstring();
            let id = d.revision_id.unwrap();
            assert_eq!(id.name, "002");
            assert_eq!(&src[id.span.range()], "002");
            assert_eq!(d.revises.unwrap()[0].name, "001");
        });
    }

    #[test]
    fn a_first_revision_revises_none_however_written() {
        for header in [
            "Revises: None",
            "Revises: (none)",
            "Revises: (None)",
            "Revises:",
        ] {
            let src = format!("\"\"\"Create users.\n\nRevision ID: 001\n{header}\n\"\"\"\n");
            with_file(&src, |py| {
                assert_eq!(py.docstring().revises, Some(Vec::new()), "{header}");
            });
        }
    }
}
