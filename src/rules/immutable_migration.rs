//! `immutable-migration`: a migration already on the base branch was
//! modified, renamed or deleted (needs `--base`).

use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;
use crate::source::Span;

pub const META: RuleMeta = RuleMeta {
    id: "immutable-migration",
    severity: Severity::Error,
    summary: "A migration already merged (present at --base) was modified, renamed or deleted",
    doc: include_str!("../../rules/immutable-migration.md"),
    has_examples: true,
    build: no_options::<ImmutableMigration>,
};

#[derive(Default)]
pub struct ImmutableMigration;

/// The first and last line (0-based, in `new`) where two texts differ.
fn changed_lines(old: &str, new: &str) -> (usize, usize) {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let first = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[first..]
        .iter()
        .rev()
        .zip(b[first..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let last = b.len().saturating_sub(tail + 1).max(first);
    (first, last)
}

impl Rule for ImmutableMigration {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        let Some(base) = &set.base else { return };
        let current: Vec<(String, crate::source::FileId)> = set
            .migrations
            .iter()
            .flat_map(|m| std::iter::once(m.file).chain(m.rollback_file))
            .map(|id| (cx.file_name(id), id))
            .collect();
        let revision_of = |name: &str| -> String {
            let stem = crate::load::migration_stem(std::path::Path::new(name));
            base.migrations
                .migrations
                .iter()
                .find(|m| m.stem == stem)
                .map(|m| m.id_str().to_string())
                .unwrap_or(stem)
        };
        for (name, base_id) in &base.files {
            let old = &cx.sources.get(*base_id).text;
            let revision = revision_of(name);
            match current.iter().find(|(n, _)| n == name) {
                Some((_, id)) => {
                    let new = &cx.sources.get(*id).text;
                    if new == old {
                        continue;
                    }
                    let file = cx.sources.get(*id);
                    let (first, last) = changed_lines(old, new);
                    let span = Span::new(*id, file.line_start(first), file.line_end(last));
                    let lines = if first == last {
                        format!("line {}", first + 1)
                    } else {
                        format!("lines {}-{}", first + 1, last + 1)
                    };
                    cx.report(
                        span,
                        format!(
                            "migration `{revision}` is already on {} and was modified ({lines})",
                            base.label
                        ),
                    )
                    .label("changed since the base")
                    .help("a merged migration has already run on other databases: revert this change and make it in a new migration");
                }
                None => {
                    let moved = current
                        .iter()
                        .find(|(n, id)| {
                            !base.files.iter().any(|(b, _)| b == n)
                                && cx.sources.get(*id).text == *old
                        })
                        .map(|(n, _)| n.clone());
                    let file = cx.sources.get(*base_id);
                    let span = Span::new(*base_id, 0, file.line_end(0));
                    let (what, help) = match moved {
                        Some(to) => (
                            format!("renamed to `{to}`"),
                            format!("rename it back to `{name}`: tools that track applied migrations by name would run it again"),
                        ),
                        None => (
                            "deleted".to_string(),
                            "restore it: databases that ran it expect it in the chain; undo its effect in a new migration instead".to_string(),
                        ),
                    };
                    cx.report(
                        span,
                        format!(
                            "migration `{revision}` ({name}) is on {} and was {what}",
                            base.label
                        ),
                    )
                    .label(format!("as it is on {}", base.label))
                    .help(help);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::changed_lines;

    #[test]
    fn changed_line_range() {
        assert_eq!(changed_lines("a\nb\nc\n", "a\nX\nc\n"), (1, 1));
        assert_eq!(changed_lines("a\nb\nc\n", "a\nX\nY\nc\n"), (1, 2));
        assert_eq!(changed_lines("a\nb\n", "a\nb\nc\n"), (2, 2));
    }
}
