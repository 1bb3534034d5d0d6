//! `miglint schema`: the schema the migrations build, as SQL or JSON,
//! at head or at a given revision, without running anything.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::ValueEnum;

use super::{EXIT_CLEAN, io};
use crate::project::config::ConfigError;
use crate::schema::facts::Fact;
use crate::schema::replay::Uncertain;

#[derive(clap::Args, Debug)]
pub struct SchemaArgs {
    /// A project or migrations folder (default: the current folder).
    pub path: Option<PathBuf>,
    /// Stop after this revision (Alembic revision id or yoyo migration id).
    #[arg(long, conflicts_with = "each")]
    pub at: Option<String>,
    /// The schema after every migration, in chain order, instead of at head.
    #[arg(long)]
    pub each: bool,
    #[arg(long, value_enum, default_value_t = SchemaFormat::Sql)]
    pub format: SchemaFormat,
    /// Read this configuration file instead of searching for one.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SchemaFormat {
    Sql,
    Json,
}

/// `miglint schema`.
pub fn command(args: SchemaArgs, out: &mut dyn Write) -> Result<i32, ConfigError> {
    let (cwd, settings) = super::settings(args.config.as_deref())?;
    let path = args.path.unwrap_or_else(|| PathBuf::from("."));
    let discovery = crate::project::discover::discover(&settings, std::slice::from_ref(&path))?;
    let loaded = crate::analysis::analyse(&settings, discovery, crate::analysis::Wanted::default());
    if loaded.sets.is_empty() {
        return Err(ConfigError(format!(
            "no migrations found in {} (miglint reads Alembic, yoyo, sqlx, diesel, refinery, golang-migrate and dbmate folders)",
            path.display()
        )));
    }
    if args.each {
        return each(&loaded, args.format, &cwd, out);
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
                Some(crate::schema::replay::replay_until(
                    set,
                    &set.start,
                    Some(rev),
                ))
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
        .flat_map(|r| r.events.iter())
        .filter(|e| matches!(e.fact, Fact::Conflict(_)))
        .count();
    match args.format {
        SchemaFormat::Sql => {
            for (set, replay) in &shown {
                let schema = &replay.as_ref().unwrap_or(&set.replay).schema;
                if shown.len() > 1 {
                    writeln!(out, "-- {}", crate::paths::display_path(&set.dir, cwd))
                        .map_err(io)?;
                }
                write!(out, "{}", crate::schema::render::schema_sql(schema)).map_err(io)?;
            }
        }
        SchemaFormat::Json => {
            let sets: Vec<_> = shown
                .iter()
                .map(|(set, replay)| {
                    let replay = replay.as_ref().unwrap_or(&set.replay);
                    let mut doc = set_json(set, cwd);
                    doc["at"] = serde_json::json!(args.at);
                    doc["schema"] = schema_json(&replay.schema, &replay.uncertain);
                    doc
                })
                .collect();
            write_json(out, sets)?;
        }
    }
    if inconsistent > 0 {
        eprintln!(
            "miglint: note: {inconsistent} operation(s) could not be applied; `miglint lint` shows them"
        );
    }
    Ok(EXIT_CLEAN)
}

/// A migration set's place and flavour, as the JSON output names it.
fn set_json(set: &crate::analysis::SetAnalysis, cwd: Option<&Path>) -> serde_json::Value {
    serde_json::json!({
        "path": crate::paths::display_path(&set.dir, cwd),
        "flavour": set.flavour.name(),
    })
}

/// The schema as JSON, marked where the replay is not sure of it.
fn schema_json(schema: &crate::schema::Schema, uncertain: &Uncertain) -> serde_json::Value {
    let unsure = crate::schema::render::Unsure {
        incomplete: uncertain.all,
        table: &|t| uncertain.table(t),
        name: &|n| uncertain.name(n),
    };
    serde_json::json!(crate::schema::render::schema_json(schema, &unsure))
}

fn write_json(out: &mut dyn Write, sets: Vec<serde_json::Value>) -> Result<(), ConfigError> {
    let doc = serde_json::json!({ "version": 1, "sets": sets });
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(|e| ConfigError(e.to_string()))?;
    writeln!(out).map_err(io)
}

/// `miglint schema --each`: the schema after every migration of each set.
fn each(
    loaded: &crate::analysis::Loaded,
    format: SchemaFormat,
    cwd: &Path,
    out: &mut dyn Write,
) -> Result<i32, ConfigError> {
    let mut sets = Vec::new();
    for set in &loaded.sets {
        let mut steps: Vec<(String, crate::schema::Schema, Uncertain)> = Vec::new();
        crate::schema::replay::replay_each(set, &set.start, &mut |m, schema, uncertain| {
            steps.push((m.id_str().to_string(), schema.clone(), uncertain.clone()));
        });
        match format {
            SchemaFormat::Sql => {
                for (id, schema, _) in &steps {
                    writeln!(out, "-- after {id}").map_err(io)?;
                    write!(out, "{}", crate::schema::render::schema_sql(schema)).map_err(io)?;
                }
            }
            SchemaFormat::Json => {
                let mut doc = set_json(set, Some(cwd));
                doc["revisions"] = steps
                    .iter()
                    .map(|(id, schema, uncertain)| {
                        serde_json::json!({
                            "at": id,
                            "schema": schema_json(schema, uncertain),
                        })
                    })
                    .collect();
                sets.push(doc);
            }
        }
    }
    if format == SchemaFormat::Json {
        write_json(out, sets)?;
    }
    Ok(EXIT_CLEAN)
}
