//! The commands, each driving the stages for one job: `lint` (and its
//! `--fix`), `schema` and `new`. `cli` parses arguments and calls these.

pub mod fix;
pub mod lint;
pub mod new;
pub mod schema;

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
pub(crate) fn settings(
    config: Option<&std::path::Path>,
) -> Result<(PathBuf, Settings), ConfigError> {
    let cwd = std::env::current_dir()
        .map_err(|e| ConfigError(format!("cannot read the working directory: {e}")))?;
    let settings = Settings::load(&cwd, config)?;
    crate::rules::settings_name_known_rules(&settings)?;
    Ok((cwd, settings))
}
