//! The commands, each driving the stages for one job: `lint` (and its
//! `--fix`), `schema`, `new` and `server`. `cli` parses arguments and calls these.

pub mod fix;
pub mod lint;
pub mod new;
pub mod schema;
pub mod server;

use std::path::PathBuf;

use crate::project::config::{ConfigError, Settings};

/// Exit codes: 0 clean, 1 error-level findings, 2 usage/config/IO failure.
pub const EXIT_CLEAN: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_FAILURE: i32 = 2;

/// The error for output that cannot be written.
pub(crate) fn io(e: std::io::Error) -> ConfigError {
    ConfigError(format!("cannot write output: {e}"))
}

/// The working directory and the settings found from it (or `config`),
/// their rule tables checked against the rules miglint knows.
/// The paths to lint, grouped by the configuration that governs them: the
/// one named with `--config`, else for each path the nearest above it, as
/// ruff finds it. A folder that holds projects with configurations of
/// their own (a monorepo's packages) leaves them to their own group.
pub(crate) fn settings_by_path(
    config: Option<&std::path::Path>,
    paths: &[PathBuf],
) -> Result<Vec<(Settings, Vec<PathBuf>)>, ConfigError> {
    let cwd = std::env::current_dir()
        .map_err(|e| ConfigError(format!("cannot read the working directory: {e}")))?;
    if config.is_some() {
        let settings = Settings::load(&cwd, config)?;
        crate::rules::settings_name_known_rules(&settings)?;
        return Ok(vec![(settings, paths.to_vec())]);
    }
    let mut groups: Vec<(Settings, Vec<PathBuf>)> = Vec::new();
    let mut add = |settings: Settings, path: PathBuf| match groups
        .iter_mut()
        .find(|(s, _)| s.config_path == settings.config_path)
    {
        Some((_, paths)) => paths.push(path),
        None => groups.push((settings, vec![path])),
    };
    for path in paths {
        let start = if path.is_dir() {
            path.as_path()
        } else {
            path.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."))
        };
        let mut settings = Settings::load(start, None)?;
        if settings.config_path.is_none() {
            // No configuration: paths in messages stay relative to here.
            settings.root = cwd.clone();
        }
        if path.is_dir() {
            let inner = Settings::below(path)?;
            let roots: Vec<PathBuf> = inner.iter().map(|s| s.root.clone()).collect();
            settings.nested.extend(roots.iter().cloned());
            for mut project in inner {
                // A package inside a package leaves its own folder alone too.
                project.nested = roots
                    .iter()
                    .filter(|r| **r != project.root && r.starts_with(&project.root))
                    .cloned()
                    .collect();
                let root = project.root.clone();
                add(project, root);
            }
        }
        add(settings, path.clone());
    }
    for (settings, _) in &groups {
        crate::rules::settings_name_known_rules(settings)?;
    }
    Ok(groups)
}

pub(crate) fn settings(
    config: Option<&std::path::Path>,
) -> Result<(PathBuf, Settings), ConfigError> {
    let cwd = std::env::current_dir()
        .map_err(|e| ConfigError(format!("cannot read the working directory: {e}")))?;
    let settings = Settings::load(&cwd, config)?;
    crate::rules::settings_name_known_rules(&settings)?;
    Ok((cwd, settings))
}
