//! Safe fixes: the text edits rules attach to their findings, and how
//! `miglint lint --fix` / `--diff` apply them. A fixed file is read again
//! before it is written; when the fix made it unreadable it is left alone.

use std::collections::BTreeMap;

use crate::diagnostic::Edit;
use crate::lint::Outcome;
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
/// first are dropped). Returns the new text and how many edits applied.
pub fn apply_edits(text: &str, edits: &[&Edit]) -> String {
    let mut sorted: Vec<&&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = String::with_capacity(text.len() + 256);
    let mut at = 0usize;
    for e in sorted {
        let (s, t) = (e.span.start as usize, e.span.end as usize);
        if s < at || t > text.len() {
            continue;
        }
        out.push_str(&text[at..s]);
        out.push_str(&e.text);
        at = t;
    }
    out.push_str(&text[at..]);
    out
}

/// What `--fix` / `--diff` did.
#[derive(Default)]
pub struct FixReport {
    /// (display path, unified diff) of each changed file.
    pub diffs: Vec<(String, String)>,
    /// Findings whose fix was applied.
    pub fixed: usize,
    /// Files a fix would have made unreadable: (path, why).
    pub refused: Vec<(String, String)>,
    /// Files that could not be written: (path, error).
    pub failed: Vec<(String, String)>,
}

/// Applies the fixes of `outcome`'s findings; writes the files when `write`.
/// A fix touching several files (a migration and its rollback) is applied
/// to all of them or to none.
pub fn apply(outcome: &Outcome, settings: &crate::config::Settings, write: bool) -> FixReport {
    let fixes: Vec<&crate::diagnostic::Fix> = outcome
        .diagnostics
        .iter()
        .filter_map(|d| d.fix.as_ref())
        .collect();
    let mut report = FixReport::default();
    let mut excluded = vec![false; fixes.len()];
    let mut refused: BTreeMap<FileId, String> = BTreeMap::new();
    // Each round either settles or drops the fixes touching a refused file.
    let planned = loop {
        let mut per_file: BTreeMap<FileId, (Vec<&Edit>, usize)> = BTreeMap::new();
        for (i, fix) in fixes.iter().enumerate() {
            if excluded[i] {
                continue;
            }
            let mut files: Vec<FileId> = fix.edits.iter().map(|e| e.span.file).collect();
            files.sort();
            files.dedup();
            for e in &fix.edits {
                per_file.entry(e.span.file).or_default().0.push(e);
            }
            if let Some(f) = files.first() {
                per_file.entry(*f).or_default().1 += 1;
            }
        }
        let mut planned = Vec::new();
        let mut newly_refused = false;
        for (id, (edits, count)) in per_file {
            let file = outcome.sources.get(id);
            if refused.contains_key(&id) {
                continue;
            }
            let why = match std::fs::read(&file.path) {
                // Files decoded from something other than plain UTF-8 (a BOM,
                // UTF-16) would change beyond the fix: leave them.
                Ok(bytes) if bytes != file.text.as_bytes() => {
                    Some("not plain UTF-8 (or changed since it was read)".to_string())
                }
                Ok(_) => None,
                Err(e) => Some(e.to_string()),
            };
            let new_text = apply_edits(&file.text, &edits);
            let why = why.or_else(|| unreadable_after(outcome, settings, id, &new_text));
            match why {
                Some(why) => {
                    refused.insert(id, why);
                    newly_refused = true;
                }
                None if new_text != file.text => planned.push((id, new_text, count)),
                None => {}
            }
        }
        if !newly_refused {
            break planned;
        }
        for (i, fix) in fixes.iter().enumerate() {
            if fix.edits.iter().any(|e| refused.contains_key(&e.span.file)) {
                excluded[i] = true;
            }
        }
    };
    for (id, why) in refused {
        report
            .refused
            .push((outcome.sources.get(id).display_path.clone(), why));
    }
    // Renames ride with the edits of their fix.
    let mut planned: Vec<(FileId, String, usize, Option<String>)> = planned
        .into_iter()
        .map(|(id, text, count)| (id, text, count, None))
        .collect();
    for (i, fix) in fixes.iter().enumerate() {
        if excluded[i] {
            continue;
        }
        for (id, name) in &fix.renames {
            match planned.iter_mut().find(|p| p.0 == *id) {
                Some(p) => p.3 = Some(name.clone()),
                None => planned.push((
                    *id,
                    outcome.sources.get(*id).text.clone(),
                    usize::from(fix.edits.is_empty()),
                    Some(name.clone()),
                )),
            }
        }
    }
    planned.sort_by_key(|p| p.0);
    for (id, new_text, count, rename) in planned {
        let file = outcome.sources.get(id);
        let shown = file.display_path.clone();
        let target = rename.as_ref().map(|name| file.path.with_file_name(name));
        let shown_target = match &rename {
            Some(name) => match shown.rsplit_once('/') {
                Some((dir, _)) => format!("{dir}/{name}"),
                None => name.clone(),
            },
            None => shown.clone(),
        };
        let mut diff = similar::TextDiff::from_lines(file.text.as_str(), new_text.as_str())
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{shown}"), &format!("b/{shown_target}"))
            .to_string();
        if rename.is_some() {
            diff = format!("rename from {shown}\nrename to {shown_target}\n{diff}");
        }
        if write {
            let written = match &target {
                Some(t) => crate::write::write_atomically(t, &new_text, false)
                    .and_then(|()| std::fs::remove_file(&file.path)),
                None => crate::write::write_atomically(&file.path, &new_text, true),
            };
            if let Err(e) = written {
                report.failed.push((shown, e.to_string()));
                continue;
            }
        }
        report.fixed += count;
        report.diffs.push((shown, diff));
    }
    report
}

/// Reads the fixed text again as the migration it belongs to; a reason when
/// it has more problems (syntax errors, SQL that no longer parses) than before.
fn unreadable_after(
    outcome: &Outcome,
    settings: &crate::config::Settings,
    id: FileId,
    new_text: &str,
) -> Option<String> {
    let migration = outcome
        .sets
        .iter()
        .flat_map(|s| s.migrations.iter())
        .find(|m| m.file == id || m.rollback_file == Some(id))?;
    let main = outcome.sources.get(migration.file);
    let rollback = migration.rollback_file.map(|r| outcome.sources.get(r));
    let replaced = |f: &SourceFile, fid: FileId| {
        if fid == id {
            SourceFile::from_bytes(&f.path, f.display_path.clone(), new_text.as_bytes())
        } else {
            SourceFile::from_bytes(&f.path, f.display_path.clone(), f.text.as_bytes())
        }
    };
    let new_main = replaced(main, migration.file);
    let new_rollback = rollback.map(|r| replaced(r, migration.rollback_file.expect("has one")));
    let reloaded = crate::load::load(
        migration.flavour,
        &new_main,
        migration.file,
        new_rollback
            .as_ref()
            .map(|r| (r, migration.rollback_file.expect("has one"))),
        settings.dialect,
    );
    (reloaded.problems.len() > migration.problems.len()).then(|| {
        let first = reloaded
            .problems
            .last()
            .map(|p| p.message.clone())
            .unwrap_or_default();
        format!("the fix would make it unreadable ({first}); not written")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
