//! `miglint.toml`, `.miglint.toml` or `[tool.miglint]` in `pyproject.toml`,
//! merged with command-line flags into one immutable [`Settings`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diagnostic::Severity;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    #[default]
    Sqlite,
    Postgresql,
    /// MySQL and MariaDB: read, and checked by the rules that need no
    /// replay (the replay is not yet proven against a real server).
    Mysql,
}

impl Dialect {
    /// The database, as messages name it.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "SQLite",
            Dialect::Postgresql => "PostgreSQL",
            Dialect::Mysql => "MySQL",
        }
    }
}

impl std::str::FromStr for Dialect {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "sqlite" => Ok(Dialect::Sqlite),
            "postgresql" | "postgres" => Ok(Dialect::Postgresql),
            "mysql" | "mariadb" => Ok(Dialect::Mysql),
            other => Err(format!(
                "unknown dialect `{other}` (expected `sqlite`, `postgresql` or `mysql`)"
            )),
        }
    }
}

/// A configuration problem: where it is and what is wrong. Exit code 2.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    /// Always one line: multi-line parser messages are joined.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let one_line: Vec<&str> = self
            .0
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        f.write_str(&one_line.join(" "))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    dialect: Option<Dialect>,
    migrations: Option<Vec<String>>,
    queries: Option<Vec<String>>,
    models: Option<Vec<String>>,
    exclude: Option<Vec<String>>,
    baseline: Option<toml::Spanned<String>>,
    #[serde(rename = "sqlite-version")]
    sqlite_version: Option<toml::Spanned<String>>,
    rules: Option<BTreeMap<String, toml::Spanned<toml::Table>>>,
}

#[derive(Deserialize)]
struct PyProject {
    tool: Option<PyTool>,
}

#[derive(Deserialize)]
struct PyTool {
    miglint: Option<RawConfig>,
}

/// The files a configuration is read from, in the order one folder's are tried.
const CONFIG_FILES: [&str; 3] = ["miglint.toml", ".miglint.toml", "pyproject.toml"];

/// Per-rule settings from `[rules.<id>]`.
#[derive(Clone, Debug, Default)]
pub struct RuleConfig {
    /// `None` keeps the rule's default.
    pub severity: Option<Option<Severity>>,
    /// The rule's own options (everything but `severity`).
    pub options: toml::Table,
    /// Where the table was written, for error messages ("miglint.toml:12").
    pub location: String,
}

/// Everything a run needs to know, fixed before any file is read.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The folder paths in the configuration are relative to.
    pub root: PathBuf,
    pub config_path: Option<PathBuf>,
    /// The dialect the configuration (or `--dialect`) sets for every
    /// folder; `None`: each folder's is detected.
    pub dialect: Option<Dialect>,
    pub migrations: Vec<PathBuf>,
    /// Files or folders holding the application's queries (default: the
    /// project's `.py` and `.sql` files outside the migration folders).
    pub queries: Vec<PathBuf>,
    /// Files or folders holding the SQLAlchemy models (default: every
    /// `models.py` and `models/*.py` of the project).
    pub models: Vec<PathBuf>,
    pub exclude: globset::GlobSet,
    /// The SQLite version the migrations will run on; decides which ALTER
    /// forms are available. Default: the SQLite bundled in miglint.
    pub sqlite_version: SqliteVersion,
    pub rules: BTreeMap<String, RuleConfig>,
    /// The schema databases start from before the first migration, as SQL
    /// (a schema dump), for chains that begin after `create_all` + `stamp`.
    pub baseline: Option<PathBuf>,
    /// `baseline = "models"`: the tables the SQLAlchemy models map and no
    /// migration creates were made by `create_all()` before the chain.
    pub baseline_models: bool,
    /// Folders below the root that hold a configuration of their own:
    /// projects linted with theirs, not with this one.
    pub nested: Vec<PathBuf>,
    /// Where results are kept between runs ([`crate::schema::cache`]); `None` keeps
    /// nothing. The command line turns it on; the library leaves it off.
    pub cache_dir: Option<PathBuf>,
}

/// A SQLite version, `major.minor.patch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SqliteVersion(pub u32, pub u32, pub u32);

impl SqliteVersion {
    /// The version of the SQLite compiled into miglint.
    pub fn bundled() -> Self {
        let n = rusqlite::version_number() as u32;
        SqliteVersion(n / 1_000_000, n / 1000 % 1000, n % 1000)
    }
}

impl std::str::FromStr for SqliteVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.trim().split('.').collect();
        let num = |i: usize| -> Result<u32, String> {
            match parts.get(i) {
                None if i > 0 => Ok(0),
                Some(p) => p
                    .parse()
                    .map_err(|_| format!("`{s}` is not a version like \"3.35.0\"")),
                None => Err(format!("`{s}` is not a version like \"3.35.0\"")),
            }
        };
        if parts.len() > 3 {
            return Err(format!("`{s}` is not a version like \"3.35.0\""));
        }
        Ok(SqliteVersion(num(0)?, num(1)?, num(2)?))
    }
}

impl std::fmt::Display for SqliteVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

impl Settings {
    pub fn defaults(root: PathBuf) -> Self {
        Settings {
            root,
            config_path: None,
            dialect: None,
            migrations: Vec::new(),
            queries: Vec::new(),
            models: Vec::new(),
            exclude: globset::GlobSet::empty(),
            sqlite_version: SqliteVersion::bundled(),
            rules: BTreeMap::new(),
            baseline: None,
            baseline_models: false,
            nested: Vec::new(),
            cache_dir: None,
        }
    }

    /// Finds the configuration searching upward from `start`, or reads `explicit`.
    pub fn load(start: &Path, explicit: Option<&Path>) -> Result<Settings, ConfigError> {
        if let Some(path) = explicit {
            let text = std::fs::read_to_string(path)
                .map_err(|e| ConfigError(format!("cannot read config {}: {e}", path.display())))?;
            let is_pyproject = path.file_name().is_some_and(|n| n == "pyproject.toml");
            return Self::from_text(path, &text, is_pyproject)?.ok_or_else(|| {
                ConfigError(format!("{}: has no [tool.miglint] table", path.display()))
            });
        }
        Ok(Self::nearest(start)?.unwrap_or_else(|| Settings::defaults(start.to_path_buf())))
    }

    /// The configuration in `dir` itself, if it holds one: `miglint.toml`,
    /// `.miglint.toml`, or a `pyproject.toml` with `[tool.miglint]`.
    pub fn in_dir(dir: &Path) -> Result<Option<Settings>, ConfigError> {
        for name in CONFIG_FILES {
            let path = dir.join(name);
            if !path.is_file() {
                continue;
            }
            let text = std::fs::read_to_string(&path)
                .map_err(|e| ConfigError(format!("cannot read config {}: {e}", path.display())))?;
            if let Some(settings) = Self::from_text(&path, &text, name == "pyproject.toml")? {
                return Ok(Some(settings));
            }
        }
        Ok(None)
    }

    /// The configuration nearest `start`, searching upward as ruff does.
    pub fn nearest(start: &Path) -> Result<Option<Settings>, ConfigError> {
        let absolute;
        let start = if start.is_absolute() {
            start
        } else {
            let cwd = std::env::current_dir()
                .map_err(|e| ConfigError(format!("cannot read the working directory: {e}")))?;
            absolute = cwd.join(start);
            &absolute
        };
        let mut dir = Some(start);
        while let Some(d) = dir {
            if let Some(settings) = Self::in_dir(d)? {
                return Ok(Some(settings));
            }
            dir = d.parent();
        }
        Ok(None)
    }

    /// Configurations in folders below `dir` (not `dir` itself), each the
    /// root of a project of its own: a monorepo's packages.
    pub fn below(dir: &Path) -> Result<Vec<Settings>, ConfigError> {
        let mut found = Vec::new();
        let walker = ignore::WalkBuilder::new(dir)
            .require_git(false)
            .filter_entry(|e| {
                !(e.file_type().is_some_and(|t| t.is_dir())
                    && super::files::SKIP_DIRS.contains(&e.file_name().to_string_lossy().as_ref()))
            })
            .build();
        let mut seen = std::collections::BTreeSet::new();
        for entry in walker.flatten() {
            let is_config = entry.file_type().is_some_and(|t| t.is_file())
                && CONFIG_FILES.contains(&entry.file_name().to_string_lossy().as_ref());
            let Some(parent) = entry.path().parent() else {
                continue;
            };
            if !is_config || entry.depth() < 2 || !seen.insert(parent.to_path_buf()) {
                continue;
            }
            if let Some(settings) = Self::in_dir(parent)? {
                found.push(settings);
            } else {
                seen.remove(parent);
            }
        }
        Ok(found)
    }

    /// Parses one configuration file. `Ok(None)`: a pyproject.toml without `[tool.miglint]`.
    pub fn from_text(
        path: &Path,
        text: &str,
        is_pyproject: bool,
    ) -> Result<Option<Settings>, ConfigError> {
        let cwd = std::env::current_dir().ok();
        let shown = crate::paths::display_path(path, cwd.as_deref());
        let at = |offset: usize| line_of(text, offset);
        let toml_err = |e: toml::de::Error| {
            let line = e
                .span()
                .map(|s| format!(":{}", at(s.start)))
                .unwrap_or_default();
            ConfigError(format!("{shown}{line}: {}", e.message().trim()))
        };
        let raw: RawConfig = if is_pyproject {
            let py: PyProject = toml::from_str(text).map_err(toml_err)?;
            match py.tool.and_then(|t| t.miglint) {
                Some(raw) => raw,
                None => return Ok(None),
            }
        } else {
            toml::from_str(text).map_err(toml_err)?
        };
        let root = path
            .parent()
            .map(|p| {
                if p.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    p
                }
            })
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let mut settings = Settings::defaults(root.clone());
        settings.config_path = Some(path.to_path_buf());
        settings.dialect = raw.dialect;
        settings.migrations = raw
            .migrations
            .unwrap_or_default()
            .into_iter()
            .map(|m| root.join(m))
            .collect();
        settings.queries = raw
            .queries
            .unwrap_or_default()
            .into_iter()
            .map(|q| root.join(q))
            .collect();
        settings.models = raw
            .models
            .unwrap_or_default()
            .into_iter()
            .map(|m| root.join(m))
            .collect();
        if let Some(v) = raw.sqlite_version {
            settings.sqlite_version = v.get_ref().parse().map_err(|e| {
                ConfigError(format!(
                    "{shown}:{}: sqlite-version: {e}",
                    at(v.span().start)
                ))
            })?;
        }
        if raw
            .baseline
            .as_ref()
            .is_some_and(|b| b.get_ref() == "models")
        {
            settings.baseline_models = true;
        } else if let Some(b) = raw.baseline {
            let path = root.join(b.get_ref());
            if !path.is_file() {
                return Err(ConfigError(format!(
                    "{shown}:{}: baseline: `{}` is not a file (a schema dump, such as `sqlite3 app.db .schema > schema.sql` writes, or \"models\" for tables `create_all()` made from the models)",
                    at(b.span().start),
                    b.get_ref()
                )));
            }
            settings.baseline = Some(path);
        }
        if let Some(patterns) = raw.exclude {
            let mut b = globset::GlobSetBuilder::new();
            for p in patterns {
                let glob = globset::Glob::new(&p).map_err(|e| {
                    ConfigError(format!("{shown}: exclude: bad pattern `{p}`: {e}"))
                })?;
                b.add(glob);
            }
            settings.exclude = b
                .build()
                .map_err(|e| ConfigError(format!("{shown}: exclude: {e}")))?;
        }
        for (id, table) in raw.rules.unwrap_or_default() {
            let line = at(table.span().start);
            let location = format!("{shown}:{line}");
            let mut options = table.into_inner();
            let severity = match options.remove("severity") {
                None => None,
                Some(toml::Value::String(s)) => Some(match s.as_str() {
                    "error" => Some(Severity::Error),
                    "warning" => Some(Severity::Warning),
                    "off" => None,
                    other => {
                        return Err(ConfigError(format!(
                            "{location}: [rules.{id}] severity: `{other}` is not one of \"error\", \"warning\", \"off\""
                        )));
                    }
                }),
                Some(other) => {
                    return Err(ConfigError(format!(
                        "{location}: [rules.{id}] severity: expected a string, found {}",
                        other.type_str()
                    )));
                }
            };
            settings.rules.insert(
                id,
                RuleConfig {
                    severity,
                    options,
                    location,
                },
            );
        }
        Ok(Some(settings))
    }
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Deserialises a rule's options table into its options type, naming the
/// table's location on error.
pub fn rule_options<T: serde::de::DeserializeOwned + Default>(
    id: &str,
    config: Option<&RuleConfig>,
) -> Result<T, ConfigError> {
    let Some(config) = config else {
        return Ok(T::default());
    };
    T::deserialize(toml::Value::Table(config.options.clone())).map_err(|e| {
        ConfigError(format!(
            "{}: [rules.{id}]: {}",
            config.location,
            e.to_string().trim()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Option<Settings>, ConfigError> {
        Settings::from_text(Path::new("miglint.toml"), text, false)
    }

    #[test]
    fn reads_keys_and_rule_tables() {
        let s = parse(
            "dialect = \"sqlite\"\nmigrations = [\"db/versions\"]\n\n[rules.batch-mode]\nseverity = \"warning\"\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(s.migrations, vec![PathBuf::from("./db/versions")]);
        assert_eq!(
            s.rules["batch-mode"].severity,
            Some(Some(Severity::Warning))
        );
    }

    #[test]
    fn unknown_key_names_file_and_line() {
        let e = parse("dialect = \"sqlite\"\nmigratoins = []\n").unwrap_err();
        assert!(e.0.starts_with("miglint.toml:2:"), "{e}");
        assert!(e.0.contains("migratoins"), "{e}");
    }

    #[test]
    fn bad_severity_and_dialect_are_errors() {
        let e = parse("[rules.batch-mode]\nseverity = \"loud\"\n").unwrap_err();
        assert!(e.0.contains("severity"), "{e}");
        let e = parse("dialect = \"oracle\"\n").unwrap_err();
        assert!(e.0.starts_with("miglint.toml:1:"), "{e}");
    }

    #[test]
    fn pyproject_without_table_is_not_a_config() {
        let r = Settings::from_text(
            Path::new("pyproject.toml"),
            "[project]\nname = \"x\"\n",
            true,
        )
        .unwrap();
        assert!(r.is_none());
    }
}
