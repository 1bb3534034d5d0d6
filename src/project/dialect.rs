//! Which database a migrations folder is written for, read from what the
//! project itself says: the URL Alembic, yoyo or a SQL-folder tool connects
//! to, `render_as_batch` in `env.py`, the drivers the Rust crate enables,
//! and folder names (`versions/sqlite`, `migrations/postgresql`). The first
//! place that says something decides; places that disagree decide nothing.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::bytes::Regex;

use super::config::Dialect;
use crate::migration::SetFlavour;

/// A database as a project names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Database {
    /// One miglint lints.
    Known(Dialect),
    /// One it does not lint yet (MySQL, SQL Server, Oracle), by name.
    Other(&'static str),
}

impl Database {
    pub fn name(self) -> &'static str {
        match self {
            Database::Known(d) => d.name(),
            Database::Other(name) => name,
        }
    }

    /// The database a URL's scheme names (`postgresql+psycopg://…`,
    /// `sqlite:///…`, `mysql://…`); `None` for a placeholder (`driver://`)
    /// or anything else.
    pub fn of_url(url: &str) -> Option<Database> {
        let url = url.trim().trim_matches(|c| c == '"' || c == '\'');
        let (scheme, _) = url.split_once(':')?;
        let scheme = scheme.split('+').next()?.to_ascii_lowercase();
        Self::of_name(&scheme)
    }

    /// The database a name means (`postgres`, `sqlite3`, `mariadb`).
    pub fn of_name(name: &str) -> Option<Database> {
        Some(match name {
            "sqlite" | "sqlite3" => Database::Known(Dialect::Sqlite),
            "postgresql" | "postgres" | "pg" | "psql" | "pgsql" => {
                Database::Known(Dialect::Postgresql)
            }
            "mysql" | "mariadb" => Database::Known(Dialect::Mysql),
            "mssql" | "sqlserver" => Database::Other("SQL Server"),
            "oracle" => Database::Other("Oracle"),
            _ => return None,
        })
    }
}

/// What was found, and where it was read ("alembic.ini's `sqlalchemy.url`").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detected {
    pub database: Database,
    pub evidence: String,
}

/// How far above a migrations folder project files are looked for: the
/// folder's project is never more than a few levels up, and a walk that
/// reached the file system's root would read other projects' files.
const LEVELS_UP: usize = 4;

/// The database `dir` (a migrations folder of `flavour`) is written for, or
/// `None` when the project does not say.
/// `files` are the folder's migrations, read last: code that only
/// PostgreSQL runs, in a folder that never uses batch mode and never asks
/// which database it is on.
pub fn detect<'a>(
    dir: &Path,
    flavour: SetFlavour,
    files: impl Iterator<Item = &'a [u8]>,
) -> Option<Detected> {
    let ancestors = ancestors(dir);
    let found = match flavour {
        SetFlavour::Alembic => alembic(dir, &ancestors),
        SetFlavour::Yoyo => ini_url(&ancestors, "yoyo.ini", "database"),
        SetFlavour::Sql(_) => env_url(&ancestors).or_else(|| cargo_features(&ancestors)),
    };
    found
        .or_else(|| folder_name(dir))
        .or_else(|| postgres_only_code(files))
}

/// Types and statements only PostgreSQL has.
static POSTGRES_ONLY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\bpostgresql\.(JSONB|UUID|ARRAY|ENUM|INET|CIDR|TSVECTOR|HSTORE|BYTEA|CITEXT|MONEY|DOUBLE_PRECISION)\b|\bCREATE\s+EXTENSION\b|\bALTER\s+TYPE\b|::(jsonb|uuid|regclass|text\[\])\b",
    )
    .expect("valid regex")
});
/// Code that works on more than one database: batch mode (SQLite's table
/// copy) or a question about which database runs it.
static PORTABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"batch_alter_table|dialect\.name|engine\.name|\.dialect\b|drivername|with_variant|is_sqlite|is_postgres|is_mysql",
    )
    .expect("valid regex")
});

fn postgres_only_code<'a>(files: impl Iterator<Item = &'a [u8]>) -> Option<Detected> {
    let mut postgres = 0;
    for text in files {
        if PORTABLE.is_match(text) {
            return None;
        }
        if POSTGRES_ONLY.is_match(text) {
            postgres += 1;
        }
    }
    (postgres > 0).then(|| Detected {
        database: Database::Known(Dialect::Postgresql),
        evidence: format!(
            "PostgreSQL-only code in {postgres} migration{} (and no batch mode or dialect check in any)",
            if postgres == 1 { "" } else { "s" }
        ),
    })
}

/// `dir` and the folders above it, nearest first, stopping after the one
/// that holds `.git`.
fn ancestors(dir: &Path) -> Vec<PathBuf> {
    let start = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut out = Vec::new();
    for d in start.ancestors().take(LEVELS_UP + 1) {
        out.push(d.to_path_buf());
        if d.join(".git").exists() {
            break;
        }
    }
    out
}

/// The first of `found` that decides: places that name different
/// databases leave the question open.
fn agreed(found: &[Database]) -> Option<Database> {
    let first = *found.first()?;
    found.iter().all(|d| *d == first).then_some(first)
}

/// Alembic: `sqlalchemy.url` in `alembic.ini`, then the URLs and
/// `render_as_batch` in the `env.py` beside the versions folder.
fn alembic(dir: &Path, ancestors: &[PathBuf]) -> Option<Detected> {
    if let Some(d) = ini_url(ancestors, "alembic.ini", "sqlalchemy.url") {
        return Some(d);
    }
    let env = dir.parent().map(|p| p.join("env.py"))?;
    let text = std::fs::read_to_string(&env).ok()?;
    let urls: Vec<Database> = url_literals(&text).filter_map(Database::of_url).collect();
    if let Some(database) = agreed(&urls) {
        return Some(Detected {
            database,
            evidence: "the database URL in env.py".into(),
        });
    }
    if urls.is_empty() && render_as_batch(&text) {
        return Some(Detected {
            database: Database::Known(Dialect::Sqlite),
            evidence: "`render_as_batch=True` in env.py".into(),
        });
    }
    None
}

/// `key = <url>` in the nearest `name` (an INI file) above the folder.
fn ini_url(ancestors: &[PathBuf], name: &str, key: &str) -> Option<Detected> {
    let path = ancestors
        .iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file())?;
    let text = std::fs::read_to_string(path).ok()?;
    let found: Vec<Database> = text
        .lines()
        .filter_map(|line| {
            let (k, v) = line.split_once('=')?;
            (k.trim() == key).then(|| Database::of_url(v)).flatten()
        })
        .collect();
    agreed(&found).map(|database| Detected {
        database,
        evidence: format!("{name}'s `{key}`"),
    })
}

/// `DATABASE_URL` in the nearest `.env`, which sqlx, diesel and dbmate read.
fn env_url(ancestors: &[PathBuf]) -> Option<Detected> {
    let path = ancestors
        .iter()
        .map(|d| d.join(".env"))
        .find(|p| p.is_file())?;
    let text = std::fs::read_to_string(path).ok()?;
    let found: Vec<Database> = text
        .lines()
        .filter_map(|line| {
            let line = line.trim().trim_start_matches("export ");
            let (k, v) = line.split_once('=')?;
            (k.trim() == "DATABASE_URL")
                .then(|| Database::of_url(v))
                .flatten()
        })
        .collect();
    agreed(&found).map(|database| Detected {
        database,
        evidence: ".env's `DATABASE_URL`".into(),
    })
}

/// The database drivers the nearest `Cargo.toml` turns on for sqlx, diesel
/// or refinery: one driver decides; several (a crate for any database) do
/// not.
fn cargo_features(ancestors: &[PathBuf]) -> Option<Detected> {
    let path = ancestors
        .iter()
        .map(|d| d.join("Cargo.toml"))
        .find(|p| p.is_file())?;
    let text = std::fs::read_to_string(path).ok()?;
    let manifest: toml::Table = toml::from_str(&text).ok()?;
    let mut found = Vec::new();
    for section in ["dependencies", "dev-dependencies"] {
        let Some(deps) = manifest.get(section).and_then(|d| d.as_table()) else {
            continue;
        };
        for krate in ["sqlx", "diesel", "refinery", "diesel_migrations"] {
            let features = deps
                .get(krate)
                .and_then(|d| d.get("features"))
                .and_then(|f| f.as_array());
            for feature in features.into_iter().flatten().filter_map(|f| f.as_str()) {
                let name = feature
                    .trim_end_matches("-native")
                    .trim_end_matches("-bundled");
                let name = name.split(['-', '_']).next().unwrap_or(name);
                if let Some(d) = Database::of_name(name)
                    && !found.contains(&d)
                {
                    found.push(d);
                }
            }
        }
    }
    (found.len() == 1).then(|| Detected {
        database: found[0],
        evidence: format!("the `{}` driver in Cargo.toml", found[0].name()),
    })
}

/// A folder (or its parent) named for a database.
pub fn folder_name(dir: &Path) -> Option<Detected> {
    let names = dir
        .components()
        .rev()
        .take(2)
        .filter_map(|c| c.as_os_str().to_str());
    for name in names {
        // `versions/postgresql`, `psql_dos`, `sqlite-migrations`
        let lower = name.to_ascii_lowercase();
        let found = Database::of_name(&lower)
            .or_else(|| lower.split(['_', '-', '.']).find_map(Database::of_name));
        if let Some(database) = found {
            return Some(Detected {
                database,
                evidence: format!("the folder name `{name}`"),
            });
        }
    }
    None
}

/// String literals in Python source that look like database URLs.
fn url_literals(text: &str) -> impl Iterator<Item = &str> {
    text.split(['"', '\'']).filter(|s| {
        s.contains("://")
            && !s.contains(char::is_whitespace)
            && s.split(':').next().is_some_and(|scheme| {
                scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '+')
            })
    })
}

/// `render_as_batch=True` passed to `context.configure`, outside comments.
fn render_as_batch(text: &str) -> bool {
    text.lines().any(|line| {
        let code = line.split('#').next().unwrap_or("");
        let compact: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        compact.contains("render_as_batch=True")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_database() {
        let pg = Some(Database::Known(Dialect::Postgresql));
        assert_eq!(Database::of_url("postgresql+psycopg2://u@h/db"), pg);
        assert_eq!(Database::of_url(" postgres://u@h/db"), pg);
        assert_eq!(
            Database::of_url("sqlite:///app.db"),
            Some(Database::Known(Dialect::Sqlite))
        );
        assert_eq!(
            Database::of_url("mysql+pymysql://u@h/db"),
            Some(Database::Known(Dialect::Mysql))
        );
        assert_eq!(
            Database::of_url("mssql+pyodbc://u@h/db"),
            Some(Database::Other("SQL Server"))
        );
        // alembic init's placeholder and interpolations say nothing.
        assert_eq!(
            Database::of_url("driver://user:pass@localhost/dbname"),
            None
        );
        assert_eq!(Database::of_url("%(DB_URL)s"), None);
        assert_eq!(Database::of_url(""), None);
    }

    #[test]
    fn env_py_urls_and_batch_mode() {
        let text =
            "url = config.get_main_option('sqlalchemy.url') or \"postgresql://localhost/app\"\n";
        let found: Vec<_> = url_literals(text).filter_map(Database::of_url).collect();
        assert_eq!(found, vec![Database::Known(Dialect::Postgresql)]);
        assert!(render_as_batch(
            "context.configure(\n    render_as_batch = True,\n)\n"
        ));
        assert!(!render_as_batch("# render_as_batch=True\n"));
    }

    #[test]
    fn disagreeing_places_decide_nothing() {
        let (pg, lite) = (
            Database::Known(Dialect::Postgresql),
            Database::Known(Dialect::Sqlite),
        );
        assert_eq!(agreed(&[pg, pg]), Some(pg));
        assert_eq!(agreed(&[pg, lite]), None);
        assert_eq!(agreed(&[]), None);
    }

    #[test]
    fn folder_names() {
        let d = folder_name(Path::new("migrations/postgresql")).unwrap();
        assert_eq!(d.database, Database::Known(Dialect::Postgresql));
        let d = folder_name(Path::new("app/versions/sqlite/versions")).unwrap();
        assert_eq!(d.database, Database::Known(Dialect::Sqlite));
        assert!(folder_name(Path::new("db/migrations")).is_none());
        let d = folder_name(Path::new("backends/psql_dos/migrations")).unwrap();
        assert_eq!(d.database, Database::Known(Dialect::Postgresql));
    }

    #[test]
    fn postgres_only_migrations() {
        let pg: &[u8] = b"sa.Column('data', postgresql.JSONB())\n";
        let plain: &[u8] = b"op.add_column('t', sa.Column('a', sa.Text()))\n";
        let batch: &[u8] = b"with op.batch_alter_table('t') as b:\n";
        let d = postgres_only_code([plain, pg].into_iter()).unwrap();
        assert_eq!(d.database, Database::Known(Dialect::Postgresql));
        assert!(
            d.evidence
                .starts_with("PostgreSQL-only code in 1 migration ")
        );
        // A folder that also runs on SQLite says nothing about which it is.
        assert_eq!(postgres_only_code([pg, batch].into_iter()), None);
        let branch: &[u8] =
            b"if op.get_bind().dialect.name == 'postgresql':\n    x = postgresql.JSONB()\n";
        assert_eq!(postgres_only_code([branch].into_iter()), None);
        assert_eq!(postgres_only_code([plain].into_iter()), None);
    }

    #[test]
    fn cargo_drivers() {
        let dir = tempfile::tempdir().unwrap();
        let write = |text: &str| std::fs::write(dir.path().join("Cargo.toml"), text).unwrap();
        let at = vec![dir.path().to_path_buf()];
        write(
            "[dependencies]\nsqlx = { version = \"0.8\", features = [\"runtime-tokio\", \"postgres\"] }\n",
        );
        let d = cargo_features(&at).unwrap();
        assert_eq!(d.database, Database::Known(Dialect::Postgresql));
        write(
            "[dependencies]\ndiesel = { version = \"2\", features = [\"sqlite\", \"returning_clauses_for_sqlite_3_35\"] }\n",
        );
        assert_eq!(
            cargo_features(&at).unwrap().database,
            Database::Known(Dialect::Sqlite)
        );
        write(
            "[dependencies]\nsqlx = { version = \"0.8\", features = [\"sqlite\", \"postgres\"] }\n",
        );
        assert_eq!(cargo_features(&at), None);
    }
}
