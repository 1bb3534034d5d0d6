//! The command line: `miglint lint`, `miglint rules`, `miglint explain`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{ConfigError, Dialect, Settings};
use crate::report::{self, Format, ReportOptions};
use crate::rules::{self, RuleSet};

/// Exit codes: 0 clean, 1 error-level findings, 2 usage/config/IO failure.
pub const EXIT_CLEAN: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_FAILURE: i32 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "miglint",
    version,
    about = "Lint Alembic and yoyo database migrations against your team's conventions"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Lint migrations: a project folder, a migrations folder, or single files.
    Lint(LintArgs),
    /// List every rule with its id, default severity and summary.
    Rules {
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Print the schema the migrations build, without running anything.
    Schema(SchemaArgs),
    /// Write the next migration of a folder, from the conventions' template.
    New(NewArgs),
    /// Print a rule's documentation.
    Explain {
        /// The rule id, e.g. `batch-mode`.
        rule: String,
    },
}

#[derive(clap::Args, Debug)]
pub struct SchemaArgs {
    /// A project or migrations folder (default: the current folder).
    pub path: Option<PathBuf>,
    /// Stop after this revision (Alembic revision id or yoyo migration id).
    #[arg(long)]
    pub at: Option<String>,
    #[arg(long, value_enum, default_value_t = SchemaFormat::Sql)]
    pub format: SchemaFormat,
    /// Read this configuration file instead of searching for one.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct NewArgs {
    /// What the migration does, e.g. "add status to memories".
    pub description: String,
    /// The project or migrations folder (default: the current folder).
    #[arg(long, value_name = "PATH")]
    pub dir: Option<PathBuf>,
    /// Create a table with id, created_at and updated_at.
    #[arg(long, value_name = "NAME")]
    pub create_table: Vec<String>,
    /// Add a column: `table.column:TYPE` (String, Integer, DateTime, TEXT...).
    #[arg(long, value_name = "TABLE.COLUMN:TYPE")]
    pub add_column: Vec<String>,
    /// The added columns are nullable.
    #[arg(long)]
    pub nullable: bool,
    /// The added columns are NOT NULL with this server default.
    #[arg(long, value_name = "VALUE")]
    pub default: Option<String>,
    /// Index the added columns.
    #[arg(long)]
    pub index: bool,
    /// Add an index: `table.column`.
    #[arg(long, value_name = "TABLE.COLUMN")]
    pub add_index: Vec<String>,
    /// Add a foreign key (and its column and index when new):
    /// `table.column:other.column`.
    #[arg(long, value_name = "TABLE.COLUMN:OTHER.COLUMN")]
    pub add_fk: Vec<String>,
    /// yoyo: write `.sql` + `.rollback.sql` (default: as the last migration).
    #[arg(long, conflicts_with = "python")]
    pub sql: bool,
    /// yoyo: write a `.py` file with steps (default: as the last migration).
    #[arg(long)]
    pub python: bool,
    /// Print the file instead of writing it.
    #[arg(long)]
    pub dry_run: bool,
    /// Read this configuration file instead of searching for one.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SchemaFormat {
    Sql,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
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
    /// SQL dialect: `sqlite` (default) or `postgresql`.
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
    /// Keep no results between runs (by default they are kept in
    /// `.miglint_cache/` at the project root, so unchanged migrations are
    /// not run in SQLite again).
    #[arg(long)]
    pub no_cache: bool,
    /// Keep results between runs in this folder instead.
    #[arg(long, value_name = "DIR", env = "MIGLINT_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                EXIT_FAILURE
            } else {
                EXIT_CLEAN
            };
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let code = match run(cli, &mut out) {
        Ok(code) => code,
        Err(e) => {
            let _ = out.flush();
            eprintln!("miglint: error: {e}");
            return EXIT_FAILURE;
        }
    };
    if let Err(e) = out.flush()
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("miglint: error: cannot write output: {e}");
        return EXIT_FAILURE;
    }
    code
}

fn run(cli: Cli, out: &mut dyn Write) -> Result<i32, ConfigError> {
    let io = |e: std::io::Error| ConfigError(format!("cannot write output: {e}"));
    match cli.command {
        Command::Rules { format } => {
            match format {
                ListFormat::Text => {
                    for m in rules::ALL {
                        writeln!(out, "{:<22} {:<8} {}", m.id, m.severity.name(), m.summary)
                            .map_err(io)?;
                    }
                }
                ListFormat::Json => {
                    let list: Vec<_> = rules::ALL
                        .iter()
                        .map(|m| {
                            serde_json::json!({
                                "id": m.id,
                                "severity": m.severity.name(),
                                "summary": m.summary,
                            })
                        })
                        .collect();
                    serde_json::to_writer_pretty(&mut *out, &list)
                        .map_err(|e| ConfigError(e.to_string()))?;
                    writeln!(out).map_err(io)?;
                }
            }
            Ok(EXIT_CLEAN)
        }
        Command::Explain { rule } => match rules::find(&rule) {
            Some(m) => {
                write!(out, "{}", m.doc).map_err(io)?;
                Ok(EXIT_CLEAN)
            }
            None => Err(ConfigError(format!(
                "unknown rule `{rule}` (see `miglint rules`)"
            ))),
        },
        Command::Lint(args) => lint(args, out),
        Command::Schema(args) => schema(args, out),
        Command::New(args) => new_migration(args, out),
    }
}

fn new_migration(args: NewArgs, out: &mut dyn Write) -> Result<i32, ConfigError> {
    let io = |e: std::io::Error| ConfigError(format!("cannot write output: {e}"));
    let cwd = std::env::current_dir()
        .map_err(|e| ConfigError(format!("cannot read the working directory: {e}")))?;
    let settings = Settings::load(&cwd, args.config.as_deref())?;
    let path = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let discovery = crate::discover::discover(&settings, std::slice::from_ref(&path))?;
    let loaded = crate::lint::load(&settings, discovery);
    let set = match loaded.sets.as_slice() {
        [one] => one,
        [] => {
            return Err(ConfigError(format!(
                "no Alembic or yoyo migrations found in {}",
                path.display()
            )));
        }
        many => {
            let dirs: Vec<String> = many
                .iter()
                .map(|s| crate::lint::display_path(&s.dir, Some(&cwd)))
                .collect();
            return Err(ConfigError(format!(
                "several migration folders ({}): pick one with --dir",
                dirs.join(", ")
            )));
        }
    };
    let request = crate::new::Request {
        description: args.description,
        create_tables: args.create_table,
        add_columns: args.add_column,
        nullable: args.nullable,
        default: args.default,
        index: args.index,
        add_indexes: args.add_index,
        add_fks: args.add_fk,
        sql: if args.sql {
            Some(true)
        } else if args.python {
            Some(false)
        } else {
            None
        },
    };
    let plan = crate::new::plan(set, &request)?;
    let shown = |p: &std::path::Path| crate::lint::display_path(p, Some(&cwd));
    if args.dry_run {
        for (p, text) in &plan.files {
            if plan.files.len() > 1 {
                writeln!(out, "-- {}", shown(p)).map_err(io)?;
            }
            write!(out, "{text}").map_err(io)?;
        }
        return Ok(EXIT_CLEAN);
    }
    for (p, _) in &plan.files {
        if p.exists() {
            return Err(ConfigError(format!(
                "{} already exists; miglint new never overwrites a file",
                shown(p)
            )));
        }
    }
    for (p, text) in &plan.files {
        crate::write::write_atomically(p, text, false)
            .map_err(|e| ConfigError(format!("cannot write {}: {e}", shown(p))))?;
    }
    let names: Vec<String> = plan.files.iter().map(|(p, _)| shown(p)).collect();
    let revises = match &plan.parent {
        Some(p) => format!("after {p}"),
        None => "the first migration".to_string(),
    };
    writeln!(
        out,
        "Created {} ({}, {revises}).",
        names.join(" and "),
        plan.revision
    )
    .map_err(io)?;
    // The new file must pass the linter it comes from.
    let rule_set = RuleSet::build(&settings, &[], &[])?;
    let discovery = crate::discover::discover(&settings, std::slice::from_ref(&path))?;
    let outcome = crate::lint::run(&settings, &rule_set, discovery);
    let new_files: Vec<&std::path::Path> = plan.files.iter().map(|(p, _)| p.as_path()).collect();
    let mut rules_hit: Vec<&str> = outcome
        .diagnostics
        .iter()
        .filter(|d| new_files.contains(&outcome.sources.get(d.span.file).path.as_path()))
        .map(|d| d.rule)
        .collect();
    rules_hit.sort_unstable();
    rules_hit.dedup();
    if !rules_hit.is_empty() {
        writeln!(
            out,
            "note: it does not pass yet: {} (`miglint lint` shows why)",
            rules_hit.join(", ")
        )
        .map_err(io)?;
    }
    writeln!(out, "\nNext steps:").map_err(io)?;
    writeln!(
        out,
        "  1. Review it, and fill in anything the options did not say"
    )
    .map_err(io)?;
    for (i, step) in plan.next_steps.iter().enumerate() {
        writeln!(out, "  {}. {step}", i + 2).map_err(io)?;
    }
    Ok(EXIT_CLEAN)
}

fn schema(args: SchemaArgs, out: &mut dyn Write) -> Result<i32, ConfigError> {
    let io = |e: std::io::Error| ConfigError(format!("cannot write output: {e}"));
    let cwd = std::env::current_dir()
        .map_err(|e| ConfigError(format!("cannot read the working directory: {e}")))?;
    let settings = Settings::load(&cwd, args.config.as_deref())?;
    let path = args.path.unwrap_or_else(|| PathBuf::from("."));
    let discovery = crate::discover::discover(&settings, std::slice::from_ref(&path))?;
    let loaded = crate::lint::load(&settings, discovery);
    if loaded.sets.is_empty() {
        return Err(ConfigError(format!(
            "no Alembic or yoyo migrations found in {}",
            path.display()
        )));
    }
    let mut shown = Vec::new();
    for set in &loaded.sets {
        let replay = match &args.at {
            None => None,
            Some(rev) => {
                let known = set
                    .migrations
                    .iter()
                    .any(|m| m.id_str() == rev || m.stem == *rev);
                if !known {
                    continue;
                }
                Some(crate::replay::replay_until(set, Some(rev)))
            }
        };
        shown.push((set, replay));
    }
    if shown.is_empty() {
        return Err(ConfigError(format!(
            "no migration `{}` in {}",
            args.at.as_deref().unwrap_or(""),
            path.display()
        )));
    }
    let cwd = Some(cwd.as_path());
    let inconsistent = shown
        .iter()
        .map(|(set, r)| r.as_ref().unwrap_or(&set.replay))
        .flat_map(|r| r.findings.iter())
        .filter(|f| f.rule == crate::replay::SCHEMA_CONSISTENCY)
        .count();
    match args.format {
        SchemaFormat::Sql => {
            for (set, replay) in &shown {
                let schema = &replay.as_ref().unwrap_or(&set.replay).schema;
                if shown.len() > 1 {
                    writeln!(out, "-- {}", crate::lint::display_path(&set.dir, cwd)).map_err(io)?;
                }
                write!(out, "{}", crate::render::schema_sql(schema)).map_err(io)?;
            }
        }
        SchemaFormat::Json => {
            let sets: Vec<_> = shown
                .iter()
                .map(|(set, replay)| {
                    let schema = &replay.as_ref().unwrap_or(&set.replay).schema;
                    serde_json::json!({
                        "path": crate::lint::display_path(&set.dir, cwd),
                        "flavour": match set.flavour {
                            crate::chain::SetFlavour::Alembic => "alembic",
                            crate::chain::SetFlavour::Yoyo => "yoyo",
                        },
                        "at": args.at,
                        "schema": crate::render::schema_json(schema),
                    })
                })
                .collect();
            let doc = serde_json::json!({ "version": 1, "sets": sets });
            serde_json::to_writer_pretty(&mut *out, &doc)
                .map_err(|e| ConfigError(e.to_string()))?;
            writeln!(out).map_err(io)?;
        }
    }
    if inconsistent > 0 {
        eprintln!(
            "miglint: note: {inconsistent} operation(s) could not be applied; `miglint lint` shows them"
        );
    }
    Ok(EXIT_CLEAN)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Says which files a fix was not applied to, and why.
fn report_unfixed(fixes: &crate::fix::FixReport) {
    for (path, why) in &fixes.refused {
        eprintln!("miglint: note: {path}: {why}");
    }
}

fn lint(args: LintArgs, out: &mut dyn Write) -> Result<i32, ConfigError> {
    let cwd = std::env::current_dir()
        .map_err(|e| ConfigError(format!("cannot read the working directory: {e}")))?;
    let mut settings = Settings::load(&cwd, args.config.as_deref())?;
    if let Some(d) = args.dialect {
        settings.dialect = d;
    }
    settings.cache_dir = (!args.no_cache).then(|| {
        args.cache_dir
            .clone()
            .unwrap_or_else(|| settings.root.join(".miglint_cache"))
    });
    let rule_set = RuleSet::build(&settings, &args.select, &args.ignore)?;
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths
    };
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
    let discover = || -> Result<crate::discover::Discovery, ConfigError> {
        let mut discovery = crate::discover::discover(&settings, &paths)?;
        if args.staged || base.is_some() {
            let why = if args.staged { "--staged" } else { "--base" };
            let repo = crate::git::Repo::open(why)?;
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
    let mut outcome = crate::lint::run(&settings, &rule_set, discover()?);
    if args.diff {
        let fixes = crate::fix::apply(&outcome, &settings, false);
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
        let fixes = crate::fix::apply(&outcome, &settings, true);
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
            outcome = crate::lint::run(&settings, &rule_set, discover()?);
        }
    }

    let format = args.format.unwrap_or_else(|| {
        if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
            Format::Github
        } else {
            Format::Text
        }
    });
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
