//! `revision-chain`: one unbroken line of revisions from a single root to a
//! single head, with docstring headers that agree with the variables.

use super::{Context, Rule, RuleMeta, Severity, no_options};
use crate::analysis::SetAnalysis;
use crate::migration::{Flavour, Migration, Parents};
use crate::source::Span;

pub const META: RuleMeta = RuleMeta {
    id: "revision-chain",
    severity: Severity::Error,
    summary: "Broken down_revision / __depends__ chain: missing parent, several roots or heads, cycle, merge",
    doc: include_str!("../../rules/revision-chain.md"),
    has_examples: true,
    build: no_options::<RevisionChain>,
};

#[derive(Default)]
pub struct RevisionChain;

fn parent_word(m: &Migration) -> &'static str {
    match m.flavour {
        Flavour::Alembic => "down_revision",
        Flavour::YoyoPy => "__depends__",
        Flavour::YoyoSql => "-- depends:",
        Flavour::Sql(_) => "the version order",
    }
}

fn where_parents(m: &Migration) -> Span {
    m.parents_span.unwrap_or(Span::new(m.file, 0, 0))
}

impl Rule for RevisionChain {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        // A SQL-folder tool's chain is its version order: `version-order`.
        if set.flavour.tool().is_some() {
            return;
        }
        let chain = &set.chain;
        let ms = &set.migrations;
        let names: Vec<String> = ms.iter().map(|m| cx.file_name(m.file)).collect();
        let name = |i: usize| names[i].as_str();

        for m in ms {
            // A file that could not be read is reported by parse-error alone.
            if m.flavour != Flavour::Alembic || (!m.problems.is_empty() && m.id.is_none()) {
                continue;
            }
            if m.id.is_none() {
                cx.report(
                    Span::new(m.file, 0, 0),
                    "no `revision = \"...\"` assignment: Alembic cannot load this file",
                )
                .help("add `revision = \"<id>\"` at module level");
            }
            match &m.parents {
                Parents::Undeclared => {
                    cx.report(
                        Span::new(m.file, 0, 0),
                        "no `down_revision` assignment: Alembic cannot place this revision",
                    )
                    .help(
                        "add `down_revision = \"<previous revision>\"` (or `None` for the first)",
                    );
                }
                Parents::Unknown(span) => {
                    cx.report(
                        *span,
                        "down_revision is not a literal: miglint cannot follow the chain",
                    )
                    .help("write the parent as a string, a tuple of strings, or None");
                }
                _ => {}
            }
        }

        for indices in chain.by_id.values() {
            for &dup in indices.iter().skip(1) {
                let id = ms[dup].id.as_ref().expect("indexed by id");
                let first = indices[0];
                cx.report(
                    id.span,
                    format!(
                        "revision id `{}` is also used by `{}`",
                        id.name,
                        name(first)
                    ),
                )
                .label("duplicate revision id")
                .secondary(
                    ms[first].id.as_ref().map(|n| n.span).unwrap_or(Span::new(
                        ms[first].file,
                        0,
                        0,
                    )),
                    "first used here",
                )
                .help("give each migration its own revision id");
            }
        }

        for (i, parent) in &chain.missing {
            let m = &ms[*i];
            let d = cx.report(
                parent.span,
                format!(
                    "{} names `{}`, which no migration in this folder defines",
                    parent_word(m),
                    parent.name
                ),
            );
            d.label("unknown revision");
            if let Some(prev) = previous_numbered(set, *i) {
                d.help(format!(
                    "the previous migration is `{}`: use `{}`",
                    name(prev),
                    ms[prev].id_str()
                ));
            }
        }

        if chain.roots.len() > 1 {
            let first = chain.roots[0];
            for &r in &chain.roots[1..] {
                let m = &ms[r];
                cx.report(
                    where_parents(m),
                    format!(
                        "second root: `{}` has no parent, like `{}`",
                        name(r),
                        name(first)
                    ),
                )
                .help(match previous_numbered(set, r) {
                    Some(prev) => format!(
                        "set {} to `{}` (`{}`)",
                        parent_word(m),
                        ms[prev].id_str(),
                        name(prev)
                    ),
                    None => "only the first migration may have no parent".to_string(),
                });
            }
        }

        if chain.heads.len() > 1 {
            let mut heads = chain.heads.clone();
            heads.sort();
            let last = *heads.last().expect("more than one");
            let listed: Vec<String> = heads
                .iter()
                .map(|&h| format!("`{}` ({})", ms[h].id_str(), name(h)))
                .collect();
            let d = cx.report(
                where_parents(&ms[last]),
                format!("{} heads: {}", heads.len(), listed.join(", ")),
            );
            d.label("one of several heads");
            for &h in &heads[..heads.len() - 1] {
                d.secondary(where_parents(&ms[h]), "another head");
            }
            let other = heads[heads.len() - 2];
            let mut help = format!(
                "make it one line: in `{}` set {} = \"{}\"",
                name(last),
                parent_word(&ms[last]),
                ms[other].id_str()
            );
            if let Some(numbering) = &set.numbering
                && let Some((n, w)) = numbering.of[last]
                && numbering.sorted.iter().filter(|(k, _)| *k == n).count() > 1
            {
                help.push_str(&format!(" and renumber it to {:0w$}", numbering.top() + 1));
            }
            d.help(help);
        }

        // With --base: a new migration must continue the base's head.
        if let Some(base) = &set.base
            && let [head] = base.migrations.chain.heads.as_slice()
        {
            let head = &base.migrations.migrations[*head];
            let base_stems: Vec<&str> = base
                .migrations
                .migrations
                .iter()
                .map(|m| m.stem.as_str())
                .collect();
            let head_id = head.id_str();
            for m in ms.iter().filter(|m| !base_stems.contains(&m.stem.as_str())) {
                let Parents::Of(list) = &m.parents else {
                    continue;
                };
                // Only the first new migration hangs off the base; later new
                // ones hang off new ones.
                let on_base = list
                    .iter()
                    .all(|p| base.migrations.chain.by_id.contains_key(&p.name));
                if on_base && list.iter().all(|p| p.name != head_id) {
                    cx.report(
                        list[0].span,
                        format!(
                            "{} = `{}`, but the head on {} is `{head_id}` ({}): this branch would add a second head",
                            parent_word(m),
                            list[0].name,
                            base.label,
                            head.stem
                        ),
                    )
                    .label("not the base's head")
                    .help(format!("set {} = \"{head_id}\" (and renumber after it)", parent_word(m)));
                }
            }
        }

        if !chain.cycle.is_empty() {
            let members: Vec<String> = chain.cycle.iter().map(|&i| name(i).to_string()).collect();
            let first = chain.cycle[0];
            cx.report(
                where_parents(&ms[first]),
                format!("revision cycle between {}", members.join(", ")),
            )
            .help("a migration cannot depend, directly or not, on itself: fix the parents so the chain runs one way");
        }

        for (i, m) in ms.iter().enumerate() {
            if let Parents::Of(list) = &m.parents
                && list.len() > 1
            {
                let ids: Vec<&str> = list.iter().map(|n| n.name.as_str()).collect();
                cx.report(
                    where_parents(m),
                    format!("merge revision: {} names {} parents ({})", parent_word(m), list.len(), ids.join(", ")),
                )
                .help("the conventions keep one straight chain: renumber the branches so each follows the previous one");
            }
            // With sequential numbering the parent is the previous number,
            // when the revision ids are those numbers (with hex ids the file
            // numbers are only names, and the chain alone orders them).
            if let Some(numbering) = &set.numbering
                && m.parents_span.is_some()
                && numbered_id(m)
                && let Parents::Of(list) = &m.parents
                && list.len() == 1
                && let Some(prev) = numbering.previous(i)
                && let Some(&parent) = chain.parents[i].first()
                && numbering.number(parent) != numbering.number(prev)
            {
                cx.report(
                    list[0].span,
                    format!(
                        "{} = `{}` skips `{}`, the previous migration",
                        parent_word(m),
                        list[0].name,
                        name(prev)
                    ),
                )
                .label("not the previous number")
                .help(format!(
                    "set {} = \"{}\"",
                    parent_word(m),
                    ms[prev].id_str()
                ));
            }
            if m.flavour == Flavour::Alembic {
                if let (Some(header), Some(id)) = (&m.docstring.revision_id, &m.id)
                    && header.name != id.name
                {
                    cx.report(
                        header.span,
                        format!(
                            "docstring says `Revision ID: {}` but revision = \"{}\"",
                            header.name, id.name
                        ),
                    )
                    .secondary(id.span, "the revision variable")
                    .help(format!("make the header `Revision ID: {}`", id.name));
                }
                if let Some(revises) = &m.docstring.revises {
                    let said: Vec<&str> = revises.iter().map(|n| n.name.as_str()).collect();
                    let actual: Vec<&str> =
                        m.parents.names().iter().map(|n| n.name.as_str()).collect();
                    if said != actual
                        && !matches!(m.parents, Parents::Unknown(_) | Parents::Undeclared)
                    {
                        let span = revises
                            .first()
                            .map(|n| n.span)
                            .or(m.docstring.span)
                            .unwrap_or(Span::new(m.file, 0, 0));
                        let actual_text = if actual.is_empty() {
                            "None".to_string()
                        } else {
                            actual.join(", ")
                        };
                        let d = cx.report(
                            span,
                            format!(
                                "docstring says `Revises: {}` but down_revision is {}",
                                if said.is_empty() {
                                    "None".to_string()
                                } else {
                                    said.join(", ")
                                },
                                actual_text
                            ),
                        );
                        if let Some(ps) = m.parents_span {
                            d.secondary(ps, "the down_revision variable");
                        }
                        d.help(format!("make the header `Revises: {actual_text}`"));
                    }
                }
            }
        }
    }
}

/// The migration numbered just below migration `i`, when the folder is numbered.
fn previous_numbered(set: &SetAnalysis, i: usize) -> Option<usize> {
    set.numbering.as_ref()?.previous(i)
}

/// Whether a migration's revision id is a sequence number (`"007"`).
fn numbered_id(m: &crate::migration::Migration) -> bool {
    let id = m.id_str();
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
}
