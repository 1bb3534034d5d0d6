//! The command line: parses arguments and hands each command to
//! [`crate::commands`]; `rules` and `explain` only print the registry.

use std::io::Write;

use clap::{Parser, Subcommand, ValueEnum};

use crate::commands::{self, lint::LintArgs, new::NewArgs, schema::SchemaArgs};
use crate::project::config::ConfigError;
use crate::rules;

pub use crate::commands::{EXIT_CLEAN, EXIT_FAILURE, EXIT_FINDINGS};

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
    /// Run the language server on stdin and stdout, for editors.
    Server,
    /// Print a rule's documentation.
    Explain {
        /// The rule id, e.g. `batch-mode`.
        rule: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
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
    if let Command::Server = cli.command {
        // The server writes its messages to stdout itself: it is not locked here.
        return commands::server::command().unwrap_or_else(|e| {
            eprintln!("miglint: error: {e}");
            EXIT_FAILURE
        });
    }
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
        Command::Lint(args) => commands::lint::command(args, out),
        Command::Schema(args) => commands::schema::command(args, out),
        Command::New(args) => commands::new::command(args, out),
        Command::Server => unreachable!("served before stdout is locked"),
    }
}
