//! miglint's findings as the Language Server Protocol says them: byte
//! offsets become lines and UTF-16 columns, findings become diagnostics
//! with related information, safe fixes become workspace edits, and a
//! rule id in a `miglint: ignore[...]` comment is found under the cursor.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use lsp_types::{
    CodeAction, CodeActionKind, Diagnostic as LspDiagnostic, DiagnosticRelatedInformation,
    DiagnosticSeverity, DocumentChangeOperation, DocumentChanges, Location, NumberOrString, OneOf,
    OptionalVersionedTextDocumentIdentifier, Position, Range, RenameFile, ResourceOp,
    TextDocumentEdit, TextEdit, Url, WorkspaceEdit,
};

use crate::diagnostic::{Applicability, Diagnostic, Severity};
use crate::report::Outcome;
use crate::source::{SourceDb, SourceFile, Span};

/// The code action kind that applies every safe fix of a file.
pub const FIX_ALL: &str = "source.fixAll.miglint";

/// A safe fix, ready to be offered: its edits by file (with the version of
/// the buffer they were computed on, for open files) and its renames.
#[derive(Clone, Debug)]
pub struct FileFix {
    pub title: String,
    pub edits: Vec<(PathBuf, Option<i32>, Vec<TextEdit>)>,
    pub renames: Vec<(PathBuf, PathBuf)>,
}

/// One diagnostic published for a file, with its fix.
#[derive(Clone, Debug)]
pub struct Item {
    pub diagnostic: LspDiagnostic,
    pub fix: Option<FileFix>,
}

/// A path as a `file:` URI.
pub fn uri(path: &Path) -> Option<Url> {
    Url::from_file_path(path).ok()
}

/// The position of byte `offset` in `file`: its 0-based line, and the
/// UTF-16 code units before it on that line (the protocol's default).
pub fn position(file: &SourceFile, offset: usize) -> Position {
    let offset = file.floor_char_boundary(offset.min(file.text.len()));
    let line = file.line_index(offset);
    let start = file.line_start(line).min(offset);
    let character = file.text[start..offset].encode_utf16().count();
    Position::new(line as u32, character as u32)
}

fn range(file: &SourceFile, span: Span) -> Range {
    Range::new(
        position(file, span.start as usize),
        position(file, span.end as usize),
    )
}

/// The byte offset of `pos` in a line of text (clamped to the line).
pub fn byte_in_line(line: &str, character: u32) -> usize {
    let mut units = 0u32;
    for (i, c) in line.char_indices() {
        if units >= character {
            return i;
        }
        units += c.len_utf16() as u32;
    }
    line.len()
}

/// A file's absolute path, as the editor names it.
fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|cwd| cwd.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    }
}

/// Every finding and note of `outcome`, by file. `versions` are the
/// versions of the open buffers the run read.
pub fn findings(
    outcome: &Outcome,
    versions: &HashMap<PathBuf, i32>,
) -> HashMap<PathBuf, Vec<Item>> {
    let sources = &outcome.sources;
    let mut out: HashMap<PathBuf, Vec<Item>> = HashMap::new();
    for d in &outcome.diagnostics {
        let file = sources.get(d.span.file);
        let fix = fix(d, sources, versions);
        out.entry(absolute(&file.path)).or_default().push(Item {
            diagnostic: diagnostic(d, sources),
            fix,
        });
    }
    for note in &outcome.notes {
        let file = sources.get(note.span.file);
        out.entry(absolute(&file.path)).or_default().push(Item {
            diagnostic: LspDiagnostic {
                range: range(file, note.span),
                severity: Some(DiagnosticSeverity::INFORMATION),
                source: Some("miglint".into()),
                message: format!("note: {}", note.message),
                ..LspDiagnostic::default()
            },
            fix: None,
        });
    }
    out
}

fn diagnostic(d: &Diagnostic, sources: &SourceDb) -> LspDiagnostic {
    let file = sources.get(d.span.file);
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .filter_map(|l| {
            let other = sources.get(l.span.file);
            Some(DiagnosticRelatedInformation {
                location: Location::new(uri(&absolute(&other.path))?, range(other, l.span)),
                message: l.message.clone(),
            })
        })
        .collect();
    LspDiagnostic {
        range: range(file, d.span),
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.rule.to_string())),
        source: Some("miglint".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..LspDiagnostic::default()
    }
}

/// The finding's fix when it is safe (it edits no migration already
/// applied), in the protocol's terms.
fn fix(d: &Diagnostic, sources: &SourceDb, versions: &HashMap<PathBuf, i32>) -> Option<FileFix> {
    let fix = d.fix.as_ref()?;
    if fix.applicability != Applicability::Safe {
        return None;
    }
    let mut edits: Vec<(PathBuf, Option<i32>, Vec<TextEdit>)> = Vec::new();
    for e in &fix.edits {
        let file = sources.get(e.span.file);
        let path = absolute(&file.path);
        let edit = TextEdit::new(range(file, e.span), e.text.clone());
        match edits.iter_mut().find(|(p, _, _)| *p == path) {
            Some((_, _, list)) => list.push(edit),
            None => {
                let version = versions.get(&path).copied();
                edits.push((path, version, vec![edit]));
            }
        }
    }
    let renames = fix
        .renames
        .iter()
        .map(|(id, name)| {
            let from = absolute(&sources.get(*id).path);
            let to = from.with_file_name(name);
            (from, to)
        })
        .collect();
    Some(FileFix {
        title: fix.title.clone(),
        edits,
        renames,
    })
}

/// What the client can apply.
#[derive(Clone, Copy, Debug, Default)]
pub struct EditSupport {
    /// Versioned document edits (`documentChanges`).
    pub document_changes: bool,
    /// File renames in a workspace edit.
    pub renames: bool,
}

/// A workspace edit applying `fixes` together, or `None` when the client
/// cannot apply one of them (a rename it does not support).
pub fn workspace_edit(fixes: &[&FileFix], support: EditSupport) -> Option<WorkspaceEdit> {
    if fixes.iter().any(|f| !f.renames.is_empty()) && !(support.document_changes && support.renames)
    {
        return None;
    }
    let mut by_file: Vec<(PathBuf, Option<i32>, Vec<TextEdit>)> = Vec::new();
    for f in fixes {
        for (path, version, list) in &f.edits {
            match by_file.iter_mut().find(|(p, _, _)| p == path) {
                Some((_, _, all)) => all.extend(list.iter().cloned()),
                None => by_file.push((path.clone(), *version, list.clone())),
            }
        }
    }
    if !support.document_changes {
        let mut changes = HashMap::new();
        for (path, _, list) in by_file {
            changes.insert(uri(&path)?, list);
        }
        return Some(WorkspaceEdit::new(changes));
    }
    let mut ops = Vec::new();
    for (path, version, list) in by_file {
        ops.push(DocumentChangeOperation::Edit(TextDocumentEdit {
            text_document: OptionalVersionedTextDocumentIdentifier {
                uri: uri(&path)?,
                version,
            },
            edits: list.into_iter().map(OneOf::Left).collect(),
        }));
    }
    for f in fixes {
        for (from, to) in &f.renames {
            ops.push(DocumentChangeOperation::Op(ResourceOp::Rename(
                RenameFile {
                    old_uri: uri(from)?,
                    new_uri: uri(to)?,
                    options: None,
                    annotation_id: None,
                },
            )));
        }
    }
    Some(WorkspaceEdit {
        document_changes: Some(DocumentChanges::Operations(ops)),
        ..WorkspaceEdit::default()
    })
}

fn overlaps(a: &Range, b: &Range) -> bool {
    let key = |p: &Position| (p.line, p.character);
    key(&a.start) < key(&b.end) && key(&b.start) < key(&a.end)
        || (a.start == a.end || b.start == b.end) && a.start == b.start
}

fn touches(a: &Range, b: &Range) -> bool {
    let key = |p: &Position| (p.line, p.character);
    key(&a.start) <= key(&b.end) && key(&b.start) <= key(&a.end)
}

/// The code actions for `range` of a file whose published items are
/// `items`: one quick fix per fixable diagnostic there, and (when asked
/// for, or when no kind is named) one that applies every safe fix of the
/// file whose edits do not overlap.
pub fn code_actions(
    uri_of_file: &Url,
    items: &[Item],
    at: Range,
    only: Option<&[CodeActionKind]>,
    support: EditSupport,
) -> Vec<CodeAction> {
    let wants = |kind: &str| {
        only.is_none_or(|kinds| {
            kinds
                .iter()
                .any(|k| kind == k.as_str() || kind.starts_with(&format!("{}.", k.as_str())))
        })
    };
    let mut actions = Vec::new();
    if wants(CodeActionKind::QUICKFIX.as_str()) {
        for item in items {
            let Some(fix) = &item.fix else { continue };
            if !touches(&item.diagnostic.range, &at) {
                continue;
            }
            let Some(edit) = workspace_edit(&[fix], support) else {
                continue;
            };
            actions.push(CodeAction {
                title: fix.title.clone(),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![item.diagnostic.clone()]),
                edit: Some(edit),
                is_preferred: Some(true),
                ..CodeAction::default()
            });
        }
    }
    if wants(FIX_ALL) {
        let path = uri_of_file.to_file_path().ok();
        let mut taken: Vec<&FileFix> = Vec::new();
        let mut ranges: Vec<(PathBuf, Range)> = Vec::new();
        for fix in items.iter().filter_map(|i| i.fix.as_ref()) {
            // Only fixes confined to this file, and never two that overlap.
            let here = fix.renames.is_empty()
                && fix.edits.iter().all(|(p, _, _)| Some(p) == path.as_ref());
            let clash = fix.edits.iter().any(|(p, _, list)| {
                list.iter()
                    .any(|e| ranges.iter().any(|(q, r)| q == p && overlaps(r, &e.range)))
            });
            if !here || clash {
                continue;
            }
            for (p, _, list) in &fix.edits {
                ranges.extend(list.iter().map(|e| (p.clone(), e.range)));
            }
            taken.push(fix);
        }
        if !taken.is_empty()
            && let Some(edit) = workspace_edit(&taken, support)
        {
            actions.push(CodeAction {
                title: "miglint: fix all safely fixable findings".into(),
                kind: Some(CodeActionKind::new(FIX_ALL)),
                edit: Some(edit),
                ..CodeAction::default()
            });
        }
    }
    actions
}

/// The rule id under byte `at` of `line`, when the line holds a
/// `miglint: ignore[...]` or `miglint: ignore-file[...]` comment and the
/// byte is on one of its ids: the id and its byte range in the line.
pub fn rule_in_directive(line: &str, at: usize) -> Option<(&str, std::ops::Range<usize>)> {
    let mut from = 0;
    while let Some(found) = line[from..].find("miglint:") {
        let start = from + found + "miglint:".len();
        from = start;
        let rest = line[start..].trim_start();
        let rest = rest
            .strip_prefix("ignore-file")
            .or_else(|| rest.strip_prefix("ignore"))?;
        let Some(list) = rest.strip_prefix('[') else {
            continue;
        };
        let open = line.len() - list.len();
        let close = open + list.find(']')?;
        let mut pos = open;
        for part in line[open..close].split(',') {
            let lead = part.len() - part.trim_start().len();
            let id = part.trim();
            let range = pos + lead..pos + lead + id.len();
            if !id.is_empty() && range.start <= at && at <= range.end {
                return Some((id, range));
            }
            pos += part.len() + 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units() {
        let file = SourceFile::new(
            PathBuf::from("m.py"),
            "m.py".into(),
            "a = 1\nb = \"é😀\" # x\n".into(),
            None,
        );
        let x = file.text.find('#').unwrap();
        // `b = "` is 5 units, é is 1, 😀 is 2, `" ` is 2.
        assert_eq!(position(&file, x), Position::new(1, 10));
        assert_eq!(position(&file, 0), Position::new(0, 0));
        assert_eq!(position(&file, file.text.len()), Position::new(2, 0));
        let line = "b = \"é😀\" # x";
        assert_eq!(byte_in_line(line, 10), line.find('#').unwrap());
        assert_eq!(byte_in_line(line, 99), line.len());
    }

    #[test]
    fn finds_the_rule_id_under_the_cursor() {
        let line = "    op.add_column(\"t\", c)  # miglint: ignore[batch-mode, timestamp-columns]";
        let at = line.find("timestamp").unwrap() + 3;
        let (id, range) = rule_in_directive(line, at).unwrap();
        assert_eq!(id, "timestamp-columns");
        assert_eq!(&line[range], "timestamp-columns");
        let at = line.find("batch").unwrap();
        assert_eq!(rule_in_directive(line, at).unwrap().0, "batch-mode");
        assert!(rule_in_directive(line, 3).is_none());
        let sql = "-- miglint: ignore-file[rollback-required]";
        assert_eq!(
            rule_in_directive(sql, sql.len() - 3).unwrap().0,
            "rollback-required"
        );
        assert!(rule_in_directive("# miglint: ignore", 12).is_none());
    }

    #[test]
    fn fix_all_skips_overlapping_fixes() {
        let path = PathBuf::from("/p/m.py");
        let u = uri(&path).unwrap();
        let edit = |line: u32, text: &str| {
            TextEdit::new(
                Range::new(Position::new(line, 0), Position::new(line, 4)),
                text.into(),
            )
        };
        let item = |line: u32, text: &str| Item {
            diagnostic: LspDiagnostic {
                range: Range::new(Position::new(line, 0), Position::new(line, 4)),
                ..LspDiagnostic::default()
            },
            fix: Some(FileFix {
                title: format!("fix {line}"),
                edits: vec![(path.clone(), Some(3), vec![edit(line, text)])],
                renames: Vec::new(),
            }),
        };
        let items = vec![item(1, "a"), item(1, "b"), item(4, "c")];
        let support = EditSupport {
            document_changes: true,
            renames: true,
        };
        let only = [CodeActionKind::new(FIX_ALL)];
        let actions = code_actions(&u, &items, Range::default(), Some(&only), support);
        assert_eq!(actions.len(), 1);
        let Some(DocumentChanges::Operations(ops)) =
            actions[0].edit.as_ref().unwrap().document_changes.clone()
        else {
            panic!("document changes expected");
        };
        let DocumentChangeOperation::Edit(edit) = &ops[0] else {
            panic!("an edit expected");
        };
        assert_eq!(edit.text_document.version, Some(3));
        let texts: Vec<_> = edit
            .edits
            .iter()
            .map(|e| match e {
                OneOf::Left(e) => e.new_text.clone(),
                OneOf::Right(e) => e.text_edit.new_text.clone(),
            })
            .collect();
        assert_eq!(texts, ["a", "c"]);
        // Quick fixes: only those under the cursor.
        let at = Range::new(Position::new(4, 1), Position::new(4, 1));
        let quick = [CodeActionKind::QUICKFIX];
        let actions = code_actions(&u, &items, at, Some(&quick), support);
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0].title, "fix 4");
    }
}
