//! rustc-style text: `error[rule]: message`, the snippet, the underline, `help:`.

use std::io::Write;

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};

use super::ReportOptions;
use crate::diagnostic::{Applicability, Diagnostic, Severity};
use crate::report::Outcome;
use crate::source::{SourceFile, Span};

pub fn write(outcome: &Outcome, opts: &ReportOptions, out: &mut dyn Write) -> std::io::Result<()> {
    let renderer = if opts.color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    for d in &outcome.diagnostics {
        if opts.quiet && d.severity != Severity::Error {
            continue;
        }
        let rendered = render(outcome, d, &renderer);
        writeln!(out, "{rendered}\n")?;
    }
    for n in &outcome.notes {
        if !opts.quiet {
            let file = outcome.sources.get(n.span.file);
            let at = file.line_col(n.span.start as usize);
            writeln!(
                out,
                "note: {}:{}:{}: {}",
                file.display_path, at.line, at.column, n.message
            )?;
        }
    }
    for s in &outcome.skipped {
        if !opts.quiet {
            writeln!(
                out,
                "note: skipped {}: {}",
                crate::paths::display_path(&s.path, None),
                s.reason
            )?;
        }
    }
    let (errors, warnings) = (outcome.errors(), outcome.warnings());
    let files = plural(outcome.files, "migration file", "migration files");
    let skipped = if outcome.skipped.is_empty() {
        String::new()
    } else {
        format!(
            ", {} skipped",
            plural(outcome.skipped.len(), "file", "files")
        )
    };
    let fixable = |applicability: Applicability| {
        outcome
            .diagnostics
            .iter()
            .filter(|d| !opts.quiet || d.severity == Severity::Error)
            .filter(|d| {
                d.fix
                    .as_ref()
                    .is_some_and(|f| f.applicability == applicability)
            })
            .count()
    };
    let (safe, unsafe_) = (fixable(Applicability::Safe), fixable(Applicability::Unsafe));
    if safe > 0 {
        writeln!(
            out,
            "{} fixable with `miglint lint --fix` (`--diff` to preview).",
            plural(safe, "finding is", "findings are")
        )?;
    }
    if unsafe_ > 0 {
        writeln!(
            out,
            "{} would edit migrations already applied; see --unsafe-fixes.",
            plural(unsafe_, "more fix", "more fixes")
        )?;
    }
    if outcome.files == 0 {
        writeln!(
            out,
            "No migrations found{skipped} (miglint reads Alembic, yoyo, sqlx, diesel, refinery, golang-migrate and dbmate folders)."
        )
    } else if errors == 0 && warnings == 0 {
        writeln!(out, "All checks passed: {files}, no findings{skipped}.")
    } else {
        writeln!(
            out,
            "Found {} and {} in {files}{skipped}.",
            plural(errors, "error", "errors"),
            plural(warnings, "warning", "warnings")
        )
    }
}

/// What a finding's fix does, and whether `--fix` applies it.
fn fix_line(fix: &crate::diagnostic::Fix) -> String {
    match fix.applicability {
        Applicability::Safe => format!("fix: {} (`--fix`)", fix.title),
        Applicability::Unsafe => format!(
            "fix: {} (unsafe: edits a migration already applied; `--fix --unsafe-fixes`)",
            fix.title
        ),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The lines a set of spans touches, as (text, first line number, offset of that text).
fn excerpt(file: &SourceFile, spans: &[Span]) -> (String, usize, usize) {
    let first = spans
        .iter()
        .map(|s| file.line_index(s.start as usize))
        .min()
        .unwrap_or(0);
    let last = spans
        .iter()
        .map(|s| file.line_index(s.end as usize))
        .max()
        .unwrap_or(0);
    let start = file.line_start(first);
    let end = file.line_end(last).max(start);
    (file.text[start..end].to_string(), first + 1, start)
}

fn render(outcome: &Outcome, d: &Diagnostic, renderer: &Renderer) -> String {
    let level = match d.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let file = outcome.sources.get(d.span.file);
    if d.span.start == 0 && d.span.end == 0 && d.labels.is_empty() {
        // A finding about the file as a whole (its name, its place in the
        // folder): show where, without pointing into its first line.
        let mut group = level
            .primary_title(d.message.clone())
            .id(d.rule)
            .element(Origin::path(file.display_path.clone()));
        if let Some(help) = &d.help {
            group = group.element(Level::HELP.message(help.clone()));
        }
        if let Some(fix) = &d.fix {
            group = group.element(Level::NOTE.message(fix_line(fix)));
        }
        return renderer.render(&[group]).to_string();
    }
    let mut same_file: Vec<Span> = vec![d.span];
    same_file.extend(
        d.labels
            .iter()
            .filter(|l| l.span.file == d.span.file)
            .map(|l| l.span),
    );
    let (text, line_start, base) = excerpt(file, &same_file);
    let local = |s: Span| -> std::ops::Range<usize> {
        let start = (s.start as usize).saturating_sub(base).min(text.len());
        let end = (s.end as usize)
            .saturating_sub(base)
            .clamp(start, text.len());
        start..end
    };
    let mut snippet = Snippet::source(text.clone())
        .line_start(line_start)
        .path(file.display_path.clone())
        .fold(true);
    let mut primary = AnnotationKind::Primary.span(local(d.span));
    if let Some(label) = &d.label {
        primary = primary.label(label.clone());
    }
    snippet = snippet.annotation(primary);
    for l in d.labels.iter().filter(|l| l.span.file == d.span.file) {
        snippet = snippet.annotation(
            AnnotationKind::Context
                .span(local(l.span))
                .label(l.message.clone()),
        );
    }
    let mut group = level
        .primary_title(d.message.clone())
        .id(d.rule)
        .element(snippet);
    let mut others = Vec::new();
    for l in d.labels.iter().filter(|l| l.span.file != d.span.file) {
        let other = outcome.sources.get(l.span.file);
        let (otext, oline, obase) = excerpt(other, &[l.span]);
        let start = (l.span.start as usize)
            .saturating_sub(obase)
            .min(otext.len());
        let end = (l.span.end as usize)
            .saturating_sub(obase)
            .clamp(start, otext.len());
        others.push(
            Snippet::source(otext)
                .line_start(oline)
                .path(other.display_path.clone())
                .annotation(
                    AnnotationKind::Context
                        .span(start..end)
                        .label(l.message.clone()),
                ),
        );
    }
    for s in others {
        group = group.element(s);
    }
    if let Some(help) = &d.help {
        group = group.element(Level::HELP.message(help.clone()));
    }
    if let Some(fix) = &d.fix {
        group = group.element(Level::NOTE.message(fix_line(fix)));
    }
    let report: Vec<Group> = vec![group];
    renderer.render(&report).to_string()
}
