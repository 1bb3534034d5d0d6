//! Inline suppression comments: `# miglint: ignore[rule-id, ...]`,
//! `# miglint: ignore-file[rule-id]`, and `-- miglint: ignore[...]` in SQL.

use crate::migration::{Named, SuppressionComment, SuppressionScope};
use crate::source::{SourceFile, Span};

/// Reads a comment's text (with its `#` or `--`) found at `span` in `file`.
/// Returns `None` when the comment is not a miglint directive.
pub fn parse_suppression(text: &str, span: Span, file: &SourceFile) -> Option<SuppressionComment> {
    let body = text
        .trim_start_matches('#')
        .trim_start_matches("--")
        .trim_start();
    let prefix_len = text.len() - body.len();
    let rest = body.strip_prefix("miglint:")?;
    let after_colon = prefix_len + "miglint:".len() + (rest.len() - rest.trim_start().len());
    let rest = rest.trim_start();
    let (file_scope, rest, offset) = if let Some(r) = rest.strip_prefix("ignore-file") {
        (true, r, after_colon + "ignore-file".len())
    } else if let Some(r) = rest.strip_prefix("ignore") {
        (false, r, after_colon + "ignore".len())
    } else {
        return None;
    };
    let mut rules = Vec::new();
    if let Some(list) = rest.strip_prefix('[') {
        let close = list.find(']')?;
        let mut pos = offset + 1;
        for part in list[..close].split(',') {
            let lead = part.len() - part.trim_start().len();
            let id = part.trim();
            if !id.is_empty() {
                let start = span.start as usize + pos + lead;
                rules.push(Named {
                    name: id.to_string(),
                    span: Span::new(span.file, start, start + id.len()),
                });
            }
            pos += part.len() + 1;
        }
    } else if !rest.trim().is_empty() && !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let scope = if file_scope {
        SuppressionScope::File
    } else {
        let line = file.line_index(span.start as usize);
        let before = &file.text[file.line_start(line)..span.start as usize];
        // A comment that starts its line guards the next line; inside a
        // Python string the quote that opens the string may stand before it.
        if before
            .trim_start()
            .trim_start_matches(['"', '\'', 'r', 'R'])
            .trim()
            .is_empty()
        {
            SuppressionScope::NextLine
        } else {
            SuppressionScope::Line
        }
    };
    Some(SuppressionComment { span, rules, scope })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;
    use std::path::Path;

    fn parse(src: &str, comment_at: usize) -> Option<SuppressionComment> {
        let file = SourceFile::from_bytes(Path::new("x"), "x".into(), src.as_bytes());
        let end = src[comment_at..]
            .find('\n')
            .map(|e| comment_at + e)
            .unwrap_or(src.len());
        parse_suppression(
            &src[comment_at..end],
            Span::new(FileId(0), comment_at, end),
            &file,
        )
    }

    #[test]
    fn trailing_comment_guards_its_line() {
        let src = "op.drop_column('t', 'c')  # miglint: ignore[batch-mode, if-exists-guard]\n";
        let s = parse(src, src.find('#').unwrap()).unwrap();
        assert_eq!(s.scope, SuppressionScope::Line);
        let names: Vec<_> = s.rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["batch-mode", "if-exists-guard"]);
        assert_eq!(&src[s.rules[1].span.range()], "if-exists-guard");
    }

    #[test]
    fn own_line_comment_guards_next_line_and_file_scope_is_read() {
        let src = "x = 1\n    -- miglint: ignore[if-exists-guard]\n";
        let s = parse(src, src.find("--").unwrap()).unwrap();
        assert_eq!(s.scope, SuppressionScope::NextLine);
        let src = "# miglint: ignore-file[timestamp-columns]\n";
        assert_eq!(parse(src, 0).unwrap().scope, SuppressionScope::File);
    }

    #[test]
    fn other_comments_are_not_directives() {
        assert!(parse("# just a comment\n", 0).is_none());
        assert!(parse("# miglint: ignored\n", 0).is_none());
    }
}
