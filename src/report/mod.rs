//! Output formats. A reporter sees diagnostics and sources, never rules'
//! internals; everything goes through one buffered writer.

mod github;
mod json;
pub mod markdown;
mod sarif;
mod text;

use std::io::Write;

use crate::analysis::SetAnalysis;
use crate::diagnostic::Diagnostic;
use crate::project::discover::Skipped;
use crate::source::{SourceDb, Span};

/// What a lint run found: what every reporter shows.
pub struct Outcome {
    pub sources: SourceDb,
    pub diagnostics: Vec<Diagnostic>,
    /// Migration files read (rollback companions not counted).
    pub files: usize,
    pub skipped: Vec<Skipped>,
    pub sets: Vec<SetAnalysis>,
    /// What a rule could not check (code it cannot read statically).
    pub notes: Vec<Note>,
}

/// Something left unchecked, with where it is.
#[derive(Clone, Debug)]
pub struct Note {
    pub span: Span,
    pub message: String,
}

impl Outcome {
    pub fn errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == crate::diagnostic::Severity::Error)
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Github,
    Sarif,
    /// A summary for a pull request page (the Action's job summary and
    /// comment).
    Markdown,
}

pub struct ReportOptions {
    pub color: bool,
    pub quiet: bool,
}

pub fn write(
    format: Format,
    outcome: &Outcome,
    opts: &ReportOptions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Text => text::write(outcome, opts, out),
        Format::Json => json::write(outcome, out),
        Format::Github => github::write(outcome, out),
        Format::Sarif => sarif::write(outcome, out),
        Format::Markdown => markdown::write(outcome, &markdown::Links::from_env(), out),
    }
}

/// Start and end (1-based line and column) of a diagnostic's span.
pub(crate) fn positions(
    outcome: &Outcome,
    d: &crate::diagnostic::Diagnostic,
) -> (crate::source::LineCol, crate::source::LineCol) {
    let file = outcome.sources.get(d.span.file);
    (
        file.line_col(d.span.start as usize),
        file.line_col(d.span.end as usize),
    )
}
