//! What a rule reports.

use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A secondary place shown with a diagnostic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One finding: which rule, where, what, and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub rule: &'static str,
    pub severity: Severity,
    pub span: Span,
    pub message: String,
    /// Text under the primary underline.
    pub label: Option<String>,
    pub help: Option<String>,
    pub labels: Vec<Label>,
    /// A safe fix (`miglint lint --fix` / `--diff`).
    pub fix: Option<Fix>,
}

/// Text edits that resolve a finding without changing anything else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub title: String,
    pub edits: Vec<Edit>,
    /// Files to rename (to this file name, in the same folder).
    pub renames: Vec<(crate::source::FileId, String)>,
    /// Safe unless it edits a migration already applied (decided once the
    /// run knows which migrations are history).
    pub applicability: Applicability,
    /// Whether the fix may be applied to a migration already applied at
    /// all (with `--unsafe-fixes`): false for fixes that change what a
    /// migration does when it runs, such as batch mode.
    pub on_history: bool,
}

/// Whether `--fix` applies a fix by default, as ruff says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applicability {
    /// Edits only migrations that are not history yet.
    Safe,
    /// Edits a migration already applied (on the base branch, or committed
    /// in HEAD): only with `--unsafe-fixes`.
    Unsafe,
}

impl Applicability {
    pub fn name(self) -> &'static str {
        match self {
            Applicability::Safe => "safe",
            Applicability::Unsafe => "unsafe",
        }
    }
}

impl Fix {
    /// The files the fix edits or renames.
    pub fn files(&self) -> impl Iterator<Item = crate::source::FileId> + '_ {
        self.edits
            .iter()
            .map(|e| e.span.file)
            .chain(self.renames.iter().map(|(f, _)| *f))
    }
}

/// Replace the text of `span` (empty for an insertion) with `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub span: Span,
    pub text: String,
}

impl Diagnostic {
    pub fn new(rule: &'static str, severity: Severity, span: Span, message: String) -> Self {
        Diagnostic {
            rule,
            severity,
            span,
            message,
            label: None,
            help: None,
            labels: Vec::new(),
            fix: None,
        }
    }

    pub fn fix(&mut self, title: impl Into<String>, edits: Vec<Edit>) -> &mut Self {
        self.fix_renaming(title, edits, Vec::new())
    }

    /// A fix that also renames files.
    pub fn fix_renaming(
        &mut self,
        title: impl Into<String>,
        edits: Vec<Edit>,
        renames: Vec<(crate::source::FileId, String)>,
    ) -> &mut Self {
        if !edits.is_empty() || !renames.is_empty() {
            self.fix = Some(Fix {
                title: title.into(),
                edits,
                renames,
                applicability: Applicability::Safe,
                on_history: true,
            });
        }
        self
    }

    /// The fix is offered for new migrations only, never for history.
    pub fn fix_new_migrations_only(&mut self) -> &mut Self {
        if let Some(f) = &mut self.fix {
            f.on_history = false;
        }
        self
    }

    pub fn label(&mut self, text: impl Into<String>) -> &mut Self {
        self.label = Some(text.into());
        self
    }

    pub fn help(&mut self, text: impl Into<String>) -> &mut Self {
        self.help = Some(text.into());
        self
    }

    pub fn secondary(&mut self, span: Span, text: impl Into<String>) -> &mut Self {
        self.labels.push(Label {
            span,
            message: text.into(),
        });
        self
    }
}
