//! Text edits: where a fix goes in a migration's text (after keywords,
//! inside brackets, after an item, at a line's indentation) and how edits
//! are applied. The rules build their fixes with these; `--fix` applies them.

use crate::diagnostic::Edit;
use crate::source::{FileId, SourceFile, Span};

/// Byte offset just after the keyword sequence `words` (case-insensitive,
/// separated by whitespace or comments) at the start of `sql`, skipping
/// optional words given as `Some(alternatives)` when absent.
pub fn after_keywords(sql: &str, words: &[&[&str]]) -> Option<usize> {
    let bytes = sql.as_bytes();
    let mut i = 0;
    let skip_blank = |mut i: usize| -> usize {
        loop {
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if sql[i..].starts_with("--") {
                i = sql[i..].find('\n').map(|n| i + n + 1).unwrap_or(sql.len());
            } else if sql[i..].starts_with("/*") {
                i = sql[i..].find("*/").map(|n| i + n + 2).unwrap_or(sql.len());
            } else {
                return i;
            }
        }
    };
    for alternatives in words {
        i = skip_blank(i);
        let end = sql[i..]
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .map(|n| i + n)
            .unwrap_or(sql.len());
        let word = &sql[i..end];
        let optional = alternatives.first() == Some(&"?");
        if alternatives.iter().any(|a| a.eq_ignore_ascii_case(word)) {
            i = end;
        } else if !optional {
            return None;
        }
    }
    Some(i)
}

/// Where `IF NOT EXISTS` / `IF EXISTS` goes in a CREATE or DROP statement.
pub fn guard_insertion(sql: &str, creates: bool) -> Option<usize> {
    const OBJECTS: &[&str] = &["TABLE", "INDEX", "VIEW", "TRIGGER"];
    if creates {
        after_keywords(
            sql,
            &[
                &["CREATE"],
                &["?", "UNIQUE", "TEMP", "TEMPORARY", "VIRTUAL"],
                &[OBJECTS[0], OBJECTS[1], OBJECTS[2], OBJECTS[3]],
            ],
        )
    } else {
        after_keywords(sql, &[&["DROP"], OBJECTS])
    }
}

/// Walks `text` from `from`, outside string literals and `#` comments,
/// calling `visit(offset, byte, depth)` for each byte (`depth` counts the
/// open brackets, including the one at `offset`); stops at the first byte
/// `visit` accepts and returns its offset.
fn walk_code(
    text: &str,
    from: usize,
    mut visit: impl FnMut(usize, u8, usize) -> bool,
) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut i = from;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => {
                match b {
                    b'\'' | b'"' => quote = Some(b),
                    b'(' | b'[' | b'{' => depth += 1,
                    b')' | b']' | b'}' => depth = depth.saturating_sub(1),
                    b'#' => {
                        i = text[i..].find('\n').map(|n| i + n).unwrap_or(text.len());
                        continue;
                    }
                    _ => {}
                }
                if visit(i, b, depth) {
                    return Some(i);
                }
            }
        }
        i += 1;
    }
    None
}

/// The `(` at or after `open_from` and the `)` that closes it, skipping
/// strings and comments.
pub fn matching_paren(text: &str, open_from: usize) -> Option<(usize, usize)> {
    let open = open_from + text[open_from..].find('(')?;
    let close = walk_code(text, open, |_, b, depth| {
        matches!(b, b')' | b']' | b'}') && depth == 0
    })?;
    Some((open, close))
}

/// Offsets of the top-level commas between `open` and `close` (exclusive).
pub fn top_level_commas(text: &str, open: usize, close: usize) -> Vec<usize> {
    let mut out = Vec::new();
    walk_code(text, open, |i, b, depth| {
        if i >= close {
            return true;
        }
        if b == b',' && depth == 1 {
            out.push(i);
        }
        false
    });
    out
}

/// An edit that appends `item` as the last element of the bracketed list
/// closing at `close`, in the list's own layout (one item per line, or all
/// on one line).
pub fn append_item(file: &SourceFile, id: FileId, open: usize, close: usize, item: &str) -> Edit {
    let text = &file.text;
    let inner = &text[open + 1..close];
    let last = inner.trim_end();
    let after_last = open + 1 + last.len();
    let trailing_comma = last.ends_with(',');
    if inner.contains('\n') {
        let indent = indentation(text, after_last);
        let comma = if trailing_comma { "" } else { "," };
        let end = if trailing_comma { "," } else { "" };
        Edit {
            span: Span::new(id, after_last, after_last),
            text: format!("{comma}\n{indent}{item}{end}"),
        }
    } else {
        let sep = if trailing_comma { " " } else { ", " };
        Edit {
            span: Span::new(id, after_last, after_last),
            text: format!("{sep}{item}"),
        }
    }
}

/// An edit that inserts `item` into the bracketed list `open`..`close`
/// right after the item starting at `after` (at the end when that item is
/// the last).
pub fn insert_item_after(
    file: &SourceFile,
    id: FileId,
    (open, close): (usize, usize),
    after: usize,
    item: &str,
) -> Edit {
    let text = &file.text;
    match top_level_commas(text, open, close)
        .into_iter()
        .find(|&c| c > after)
    {
        Some(comma) if text[open..close].contains('\n') => {
            let indent = indentation(text, after);
            Edit {
                span: Span::new(id, comma, comma),
                text: format!(",\n{indent}{item}"),
            }
        }
        Some(comma) => Edit {
            span: Span::new(id, comma, comma),
            text: format!(", {item}"),
        },
        None => append_item(file, id, open, close, item),
    }
}

/// The blanks that start the line holding `pos`.
fn indentation(text: &str, pos: usize) -> &str {
    let start = text[..pos].rfind('\n').map(|n| n + 1).unwrap_or(0);
    let line = &text[start..];
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

/// The indentation before `pos` when only blanks precede it on its line.
pub fn line_indent(text: &str, pos: usize) -> Option<&str> {
    let indent = indentation(text, pos);
    let start = text[..pos].rfind('\n').map(|n| n + 1).unwrap_or(0);
    (start + indent.len() >= pos).then(|| &text[start..pos])
}

/// Where the line holding `pos` ends (its `\n`, or the end of the text),
/// when only blanks or a comment follow `pos` on it.
pub fn statement_line_end(text: &str, pos: usize) -> Option<usize> {
    let end = text[pos..]
        .find('\n')
        .map(|n| pos + n)
        .unwrap_or(text.len());
    let rest = text[pos..end].trim();
    (rest.is_empty() || rest.starts_with('#') || rest.starts_with("--")).then_some(end)
}

/// Applies non-overlapping edits to `text` (overlapping ones after the
/// first are dropped, and an edit the same as the one before is made
/// once: two findings on one line of code, a table created in a loop,
/// ask for the same insertion).
pub fn apply_edits(text: &str, edits: &[&Edit]) -> String {
    let mut sorted: Vec<&&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = String::with_capacity(text.len() + 256);
    let mut at = 0usize;
    let mut last: Option<&Edit> = None;
    for e in sorted {
        let (s, t) = (e.span.start as usize, e.span.end as usize);
        if s < at || t > text.len() || last.is_some_and(|l| l.span == e.span && l.text == e.text) {
            continue;
        }
        last = Some(e);
        out.push_str(&text[at..s]);
        out.push_str(&e.text);
        at = t;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_insertion_asked_twice_is_made_once() {
        let text = "create_table(\"t\", id)";
        let span = Span {
            file: crate::source::FileId(0),
            start: 20,
            end: 20,
        };
        let edit = |t: &str| Edit {
            span,
            text: t.to_string(),
        };
        let (a, b, c) = (edit(", ts"), edit(", ts"), edit(", other"));
        assert_eq!(apply_edits(text, &[&a, &b]), "create_table(\"t\", id, ts)");
        // Different insertions at one place are both made, in order.
        assert_eq!(
            apply_edits(text, &[&a, &c]),
            "create_table(\"t\", id, ts, other)"
        );
    }

    #[test]
    fn guards_go_after_the_object_keyword() {
        let sql = "CREATE TABLE tags (id TEXT)";
        assert_eq!(guard_insertion(sql, true), Some("CREATE TABLE".len()));
        let sql = "create unique index ix on t(c)";
        assert_eq!(
            guard_insertion(sql, true),
            Some("create unique index".len())
        );
        let sql = "  -- note\n  DROP INDEX ix";
        assert_eq!(
            &sql[..guard_insertion(sql, false).unwrap()],
            "  -- note\n  DROP INDEX"
        );
        assert_eq!(guard_insertion("INSERT INTO t VALUES (1)", true), None);
    }

    #[test]
    fn brackets_and_commas_skip_strings() {
        let t = r#"op.create_table("a(", sa.Column("x,y", sa.String()), x=f(1, 2))"#;
        let (open, close) = matching_paren(t, 0).unwrap();
        assert_eq!((open, close), (15, t.len() - 1));
        let commas = top_level_commas(t, open, close);
        assert_eq!(commas.len(), 2);
    }

    #[test]
    fn items_are_appended_in_the_list_layout() {
        let f = |text: &str| {
            SourceFile::from_bytes(std::path::Path::new("x"), "x".into(), text.as_bytes())
        };
        let one = f("f(a, b)");
        let e = append_item(&one, FileId(0), 1, 6, "c");
        assert_eq!(apply_edits(&one.text, &[&e]), "f(a, b, c)");
        let many = f("f(\n    a,\n    b,\n)");
        let (o, c) = matching_paren(&many.text, 0).unwrap();
        let e = append_item(&many, FileId(0), o, c, "c");
        assert_eq!(
            apply_edits(&many.text, &[&e]),
            "f(\n    a,\n    b,\n    c,\n)"
        );
        let bare = f("f(\n    a,\n    b\n)");
        let (o, c) = matching_paren(&bare.text, 0).unwrap();
        let e = append_item(&bare, FileId(0), o, c, "c");
        assert_eq!(
            apply_edits(&bare.text, &[&e]),
            "f(\n    a,\n    b,\n    c\n)"
        );
    }
}
