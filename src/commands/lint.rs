//! One lint run: discovered files → sources → migrations (in parallel) →
//! chains → rules → suppressions → sorted diagnostics.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use rayon::prelude::*;

use crate::analysis::{Loaded, Memo, Wanted, analyse_with, panic_message};
use crate::diagnostic::Diagnostic;
use crate::project::config::{ConfigError, Dialect, Settings};
use crate::project::discover::Discovery;
use crate::report::{self, Format, Note, Outcome, ReportOptions};
use crate::rules::{self, Context, RuleSet, internal_error};
use crate::source::FileId;
use crate::source::Span;
use crate::suppress;

use super::fix::{History, classify};
use super::{EXIT_CLEAN, EXIT_FINDINGS};

/// Lints what `discovery` found with the rules of `rule_set`.
pub fn run(settings: &Settings, rule_set: &RuleSet, discovery: Discovery) -> Outcome {
    run_with(settings, rule_set, discovery, None)
}

/// [`run`], with what the files did not change taken from `memo`.
pub fn run_with(
    settings: &Settings,
    rule_set: &RuleSet,
    discovery: Discovery,
    memo: Option<&Memo>,
) -> Outcome {
    let runs = |id: &str| rule_set.severity_of(id).is_some();
    let wanted = Wanted {
        execute_sql: runs(rules::sqlite_exec::ID),
        queries: runs(rules::filtered_column_index::ID) || runs(rules::drop_still_read::ID),
        models: runs(rules::model_drift::ID),
    };
    check(
        rule_set,
        analyse_with(settings, discovery, wanted, memo),
        settings,
    )
}

/// Runs the rules and suppressions over the analysed sets.
fn check(rule_set: &RuleSet, loaded: Loaded, settings: &Settings) -> Outcome {
    let Loaded {
        sources,
        sets,
        files,
        skipped,
        only,
        crashed,
        roots: _,
        changed,
        model_suppressions,
        baseline_notes,
        texts: _,
    } = loaded;
    let mut diagnostics = Vec::new();
    if rule_set.severity_of(internal_error::ID).is_some() {
        diagnostics.extend(crashed.into_iter().map(|(span, message)| {
            internal_error::diagnostic(span, &format!("reading this file failed: {message}"))
        }));
    }

    let rule_findings: Vec<Vec<Diagnostic>> = sets
        .par_iter()
        .map(|set| {
            let mut out = Vec::new();
            for (meta, severity, rule) in &rule_set.rules {
                if set.dialect == Dialect::Mysql && rules::NEED_REPLAY.contains(&meta.id) {
                    continue;
                }
                let mut found = Vec::new();
                let ran = catch_unwind(AssertUnwindSafe(|| {
                    let mut cx = Context {
                        rule: meta.id,
                        severity: *severity,
                        settings,
                        sources: &sources,
                        out: &mut found,
                    };
                    rule.check(set, &mut cx);
                }));
                match ran {
                    Ok(()) => out.append(&mut found),
                    Err(payload) => {
                        if let Some(first) = set.migrations.first() {
                            out.push(internal_error::diagnostic(
                                Span::new(first.file, 0, 0),
                                &format!(
                                    "rule `{}` failed on this folder: {}",
                                    meta.id,
                                    panic_message(&*payload)
                                ),
                            ));
                        }
                    }
                }
            }
            out
        })
        .collect();
    diagnostics.extend(rule_findings.into_iter().flatten());

    let comments: Vec<_> = sets
        .iter()
        .flat_map(|s| s.migrations.iter())
        .flat_map(|m| m.suppressions.iter().cloned())
        .chain(model_suppressions)
        .collect();
    let mut diagnostics = suppress::apply(diagnostics, &comments, &sources, rule_set);

    if let Some(changed) = &changed {
        // Whole-chain findings stay when a changed file takes part in them.
        diagnostics.retain(|d| {
            changed.contains(&d.span.file)
                || d.labels.iter().any(|l| changed.contains(&l.span.file))
        });
    }
    if let Some(only) = &only {
        let wanted: BTreeSet<FileId> = (0..sources.len() as u32)
            .map(FileId)
            .filter(|&id| only.contains(&PathBuf::from(&sources.get(id).path)))
            .collect();
        diagnostics.retain(|d| wanted.contains(&d.span.file));
    }
    diagnostics.sort_by(|a, b| {
        let pa = &sources.get(a.span.file).display_path;
        let pb = &sources.get(b.span.file).display_path;
        (pa, a.span.start, a.span.end, a.rule, &a.message).cmp(&(
            pb,
            b.span.start,
            b.span.end,
            b.rule,
            &b.message,
        ))
    });
    diagnostics.dedup();
    let mut notes = Vec::new();
    if rule_set.severity_of(rules::model_drift::ID).is_some() {
        let mut seen: Vec<&std::sync::Arc<crate::app::models::ModelSet>> = Vec::new();
        for set in &sets {
            if seen.iter().any(|s| std::sync::Arc::ptr_eq(s, &set.models)) {
                continue;
            }
            seen.push(&set.models);
            notes.extend(set.models.unresolved.iter().map(|u| Note {
                span: u.span,
                message: format!("{}: {}", rules::model_drift::ID, u.what),
            }));
        }
    }
    notes.extend(
        baseline_notes
            .into_iter()
            .map(|(span, message)| Note { span, message }),
    );
    for set in &sets {
        if let (Some(evidence), Some(first)) = (&set.dialect_evidence, set.migrations.first()) {
            notes.push(Note {
                span: Span::new(first.file, 0, 0),
                message: format!(
                    "this folder is linted as {}, as {evidence} says (set `dialect` to choose)",
                    set.dialect.name()
                ),
            });
        }
        if set.dialect == Dialect::Mysql
            && let Some(first) = set.migrations.first()
        {
            notes.push(Note {
                span: Span::new(first.file, 0, 0),
                message: format!(
                    "on MySQL, {} are off until miglint's replay is proven against a real MySQL server",
                    rules::NEED_REPLAY.join(", ")
                ),
            });
        }
        if rule_set
            .severity_of(rules::concurrently_in_transaction::META.id)
            .is_some()
            && let Some(span) = rules::concurrently_in_transaction::unknown_transaction(set)
        {
            notes.push(Note {
                span,
                message: format!(
                    "{}: `env.py` hands the run to code miglint does not read, so whether CONCURRENTLY runs inside a transaction is not known",
                    rules::concurrently_in_transaction::META.id
                ),
            });
        }
        notes.extend(set.replay.notes.iter().map(|(_, span, what)| Note {
            span: *span,
            message: format!("not read statically: {what}"),
        }));
    }
    Outcome {
        sources,
        diagnostics,
        files,
        skipped,
        sets,
        notes,
    }
}

#[derive(clap::Args, Debug)]
pub struct LintArgs {
    /// Files or folders to lint (default: the current folder). With files,
    /// the whole folder is still read for chain rules, but only findings in
    /// the named files are shown.
    pub paths: Vec<PathBuf>,
    /// Output format (default: `github` inside GitHub Actions, else `text`).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Only run these rules (comma-separated ids).
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Do not run these rules (comma-separated ids).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Read this configuration file instead of searching for one.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// SQL dialect for every folder: `sqlite`, `postgresql` or `mysql` (default: detected per folder, else SQLite).
    #[arg(long)]
    pub dialect: Option<Dialect>,
    /// Exit 0 even when error-level findings are reported.
    #[arg(long)]
    pub exit_zero: bool,
    /// Print only error-level findings and the summary.
    #[arg(long, short)]
    pub quiet: bool,
    /// Lint the content staged for the next commit, not the working tree.
    #[arg(long)]
    pub staged: bool,
    /// Print, for each project, the configuration file used, the settings
    /// resolved from it, and each migrations folder with its database;
    /// lint nothing.
    #[arg(long)]
    pub show_settings: bool,
    /// Compare with the merge base of HEAD and this branch: merged
    /// migrations must not change, new ones must come after the base's head
    /// (default in a GitHub pull request: origin/$GITHUB_BASE_REF).
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    /// Show only findings in files added or changed since the base.
    #[arg(long)]
    pub changed_only: bool,
    /// Apply the safe fixes, then report what is left.
    #[arg(long, conflicts_with = "diff")]
    pub fix: bool,
    /// Print the safe fixes as a unified diff; write nothing (exit 1 when
    /// there is something to fix).
    #[arg(long)]
    pub diff: bool,
    /// With --fix or --diff: also apply fixes that edit migrations already
    /// applied (on the base branch, or committed in HEAD and unmodified).
    /// Those change nothing in existing databases and make new ones differ.
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Keep no results between runs (by default they are kept in
    /// `.miglint_cache/` at the project root, so unchanged migrations are
    /// not run in SQLite again).
    #[arg(long)]
    pub no_cache: bool,
    /// Keep results between runs in this folder instead.
    #[arg(long, value_name = "DIR", env = "MIGLINT_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Says which files a fix was not applied to, and why, and how many fixes
/// were left out because they would edit history.
fn report_unfixed(fixes: &super::fix::FixReport) {
    for (path, why) in &fixes.refused {
        eprintln!("miglint: note: {path}: {why}");
    }
    for (fix, why) in &fixes.dropped {
        eprintln!("miglint: note: fix `{fix}` not applied: with it, {why}");
    }
    if fixes.unsafe_left > 0 {
        eprintln!(
            "miglint: note: {} would edit migrations already applied; see --unsafe-fixes",
            plural(fixes.unsafe_left, "more fix", "more fixes")
        );
    }
}

/// `miglint lint`.
pub fn command(args: LintArgs, out: &mut dyn Write) -> Result<i32, ConfigError> {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let groups = super::settings_by_path(args.config.as_deref(), &paths)?;
    let format = args.format.unwrap_or_else(|| {
        if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
            Format::Github
        } else {
            Format::Text
        }
    });
    if args.show_settings {
        for (settings, paths) in groups {
            show_settings(&args, settings, &paths, out)?;
        }
        return Ok(EXIT_CLEAN);
    }
    if groups.len() > 1 && matches!(format, Format::Json | Format::Sarif) {
        let configs: Vec<String> = groups
            .iter()
            .map(|(s, _)| {
                s.config_path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "no configuration".into())
            })
            .collect();
        return Err(ConfigError(format!(
            "these paths belong to {} projects ({}): lint one project at a time, or name one configuration with --config",
            groups.len(),
            configs.join(", ")
        )));
    }
    let mut code = EXIT_CLEAN;
    for (settings, paths) in groups {
        code = code.max(lint_project(&args, settings, paths, format, out)?);
    }
    Ok(code)
}

/// The settings a run uses: the configuration's, with the command line's
/// overrides.
fn effective(args: &LintArgs, mut settings: Settings) -> Settings {
    if let Some(d) = args.dialect {
        settings.dialect = Some(d);
    }
    settings.cache_dir = (!args.no_cache).then(|| {
        args.cache_dir
            .clone()
            .unwrap_or_else(|| default_cache_dir(&settings))
    });
    settings
}

/// Where results are kept between runs unless told otherwise.
fn default_cache_dir(settings: &Settings) -> PathBuf {
    settings.root.join(".miglint_cache")
}

/// Marks each fix safe or unsafe, as `--fix` applies them (when there are
/// fixes), and returns which migrations it took as history.
fn classify_fixes(outcome: &mut Outcome) -> Option<History> {
    if !outcome.diagnostics.iter().any(|d| d.fix.is_some()) {
        return None;
    }
    let history = History::find(outcome);
    classify(outcome, &history);
    Some(history)
}

/// `--show-settings`: what one project is linted with.
fn show_settings(
    args: &LintArgs,
    settings: Settings,
    paths: &[PathBuf],
    out: &mut dyn Write,
) -> Result<(), ConfigError> {
    let settings = effective(args, settings);
    let rule_set = RuleSet::build(&settings, &args.select, &args.ignore)?;
    let discovery = crate::project::discover::discover(&settings, paths)?;
    let cwd = std::env::current_dir().ok();
    let shown = |p: &std::path::Path| crate::paths::display_path(p, cwd.as_deref());
    let list = |v: &[PathBuf], default: &str| {
        if v.is_empty() {
            default.to_string()
        } else {
            v.iter().map(|p| shown(p)).collect::<Vec<_>>().join(", ")
        }
    };
    let mut text = String::new();
    let names: Vec<String> = paths.iter().map(|p| shown(p)).collect();
    text += &format!("Project of {}\n", names.join(", "));
    text += &format!(
        "  configuration: {}\n",
        settings
            .config_path
            .as_deref()
            .map(shown)
            .unwrap_or_else(|| "none found (defaults)".into())
    );
    text += &format!(
        "  dialect: {}\n",
        match (args.dialect, settings.dialect) {
            (Some(d), _) => format!("{} (--dialect)", d.name()),
            (None, Some(d)) => format!("{} (configured)", d.name()),
            (None, None) => "detected per folder".into(),
        }
    );
    text += &format!(
        "  migrations: {}\n",
        list(&settings.migrations, "found by name and content")
    );
    text += &format!(
        "  queries: {}\n",
        list(&settings.queries, "the project's .py and .sql files")
    );
    text += &format!(
        "  models: {}\n",
        list(&settings.models, "models.py, models/*.py")
    );
    if let Some(b) = &settings.baseline {
        text += &format!("  baseline: {}\n", shown(b));
    } else if settings.baseline_models {
        text += "  baseline: models (tables the models map, as create_all() makes them)\n";
    }
    text += &format!("  sqlite-version: {}\n", settings.sqlite_version);
    if !settings.nested.is_empty() {
        text += &format!(
            "  left to their own configuration: {}\n",
            list(&settings.nested, "")
        );
    }
    text += "  rules:";
    for (meta, severity, _) in &rule_set.rules {
        text += &format!(" {} ({}),", meta.id, severity.name());
    }
    text.pop();
    text += "\n  folders:\n";
    if discovery.sets.is_empty() {
        text += "    none\n";
    }
    for set in &discovery.sets {
        text += &format!(
            "    {}: {}, {}, {}{}\n",
            shown(&set.dir),
            set.flavour.name(),
            plural(set.files.len(), "file", "files"),
            set.dialect.name(),
            match &set.dialect_evidence {
                Some(e) => format!(" (as {e} says)"),
                None if settings.dialect.is_some() => String::new(),
                None => " (nothing in the project names a database: the default)".into(),
            }
        );
        for other in &set.other_dirs {
            text += &format!(
                "      with {}: its revisions continue this folder's graph\n",
                shown(other)
            );
        }
    }
    for s in &discovery.skipped {
        text += &format!("    skipped {}: {}\n", shown(&s.path), s.reason);
    }
    out.write_all(text.as_bytes()).map_err(super::io)
}

/// Lints `path` as an editor holds it: with `texts` (its open buffers) in
/// place of the files on disk, each project below it with the settings of
/// its own configuration, what did not change taken from `memo` (filled
/// by the run before), and fixes classified safe or unsafe as `--fix`
/// classifies them.
pub fn lint_texts(
    path: &std::path::Path,
    texts: &crate::project::discover::Texts,
    memo: &Memo,
) -> Result<Vec<Outcome>, ConfigError> {
    let mut outcomes = Vec::new();
    for (mut settings, paths) in super::settings_by_path(None, &[path.to_path_buf()])? {
        settings.cache_dir = Some(default_cache_dir(&settings));
        let rule_set = RuleSet::build(&settings, &[], &[])?;
        let mut discovery = crate::project::discover::discover(&settings, &paths)?;
        discovery.use_texts(texts.clone());
        let mut outcome = run_with(&settings, &rule_set, discovery, Some(memo));
        classify_fixes(&mut outcome);
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// Lints one project (the paths one configuration governs).
fn lint_project(
    args: &LintArgs,
    settings: Settings,
    paths: Vec<PathBuf>,
    format: Format,
    out: &mut dyn Write,
) -> Result<i32, ConfigError> {
    let settings = effective(args, settings);
    let rule_set = RuleSet::build(&settings, &args.select, &args.ignore)?;
    let base = args.base.clone().or_else(|| {
        std::env::var("GITHUB_BASE_REF")
            .ok()
            .filter(|b| !b.is_empty())
            .map(|b| format!("origin/{b}"))
    });
    if args.changed_only && base.is_none() {
        return Err(ConfigError(
            "--changed-only needs --base REF (changed since when?)".into(),
        ));
    }
    if args.staged && (args.fix || args.diff) {
        return Err(ConfigError(
            "--fix and --diff change the working tree, --staged lints the index: use one".into(),
        ));
    }
    let discover = || -> Result<crate::project::discover::Discovery, ConfigError> {
        let mut discovery = crate::project::discover::discover(&settings, &paths)?;
        if args.staged || base.is_some() {
            let why = if args.staged { "--staged" } else { "--base" };
            let repo = crate::project::git::Repo::open(why)?;
            if args.staged {
                discovery.use_staged(&repo);
            }
            if let Some(reference) = &base {
                let base = repo.base(reference)?;
                discovery.use_base(&repo, &base);
            }
        }
        discovery.changed_only = args.changed_only;
        Ok(discovery)
    };
    // Fixes edit only migrations that are not history yet, unless asked.
    let classified = |outcome: &mut Outcome, say: bool| {
        if let Some(History::Unknown) = classify_fixes(outcome)
            && say
            && (args.fix || args.diff)
        {
            eprintln!(
                "miglint: note: not a git repository: no migration is known to be applied already, so fixes may edit any"
            );
        }
    };
    let mut outcome = run(&settings, &rule_set, discover()?);
    classified(&mut outcome, true);
    // Before writing, the whole chain is linted with the fixes applied.
    let with_fixes = |texts: &[(PathBuf, String)]| -> Result<Outcome, String> {
        let mut discovery = discover().map_err(|e| e.to_string())?;
        discovery.replace_contents(texts);
        Ok(run(&settings, &rule_set, discovery))
    };
    if args.diff {
        let fixes = super::fix::apply(&outcome, false, args.unsafe_fixes, Some(&with_fixes));
        for (_, diff) in &fixes.diffs {
            write!(out, "{diff}").map_err(|e| ConfigError(format!("cannot write output: {e}")))?;
        }
        report_unfixed(&fixes);
        return Ok(if fixes.diffs.is_empty() {
            EXIT_CLEAN
        } else {
            EXIT_FINDINGS
        });
    }
    let mut fixed_note = None;
    if args.fix {
        let fixes = super::fix::apply(&outcome, true, args.unsafe_fixes, Some(&with_fixes));
        report_unfixed(&fixes);
        if !fixes.failed.is_empty() {
            return Err(ConfigError(format!(
                "cannot write {}: {}",
                fixes.failed[0].0, fixes.failed[0].1
            )));
        }
        if fixes.fixed > 0 {
            fixed_note = Some(format!(
                "Fixed {} in {}.",
                plural(fixes.fixed, "finding", "findings"),
                plural(fixes.diffs.len(), "file", "files")
            ));
            outcome = run(&settings, &rule_set, discover()?);
            classified(&mut outcome, false);
        }
    }

    let color = std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let opts = ReportOptions {
        color,
        quiet: args.quiet,
    };
    if let Some(note) = fixed_note {
        // Machine formats keep stdout to themselves.
        if format == Format::Text {
            writeln!(out, "{note}")
                .map_err(|e| ConfigError(format!("cannot write output: {e}")))?;
        } else {
            eprintln!("miglint: {note}");
        }
    }
    report::write(format, &outcome, &opts, out)
        .map_err(|e| ConfigError(format!("cannot write output: {e}")))?;
    let code = if outcome.errors() > 0 && !args.exit_zero {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    };
    // The process ends next: freeing every migration, table and source one
    // by one would only delay the exit (tens of milliseconds at 10,000).
    std::mem::forget(outcome);
    Ok(code)
}
