//! The SQL-folder migration tools (sqlx, diesel, refinery, golang-migrate,
//! dbmate) and how each names its files: which file is a migration, its
//! version, its description, and whether it is the up or the down side.
//!
//! Each tool orders its migrations by version and records applied versions
//! in the database, so the version in the file name is the migration's
//! identity; the chain is the files in version order.

use std::path::Path;

/// A migration tool that keeps plain SQL files in a folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SqlTool {
    /// `<VERSION>_<description>.sql`, or `.up.sql` + `.down.sql`.
    Sqlx,
    /// `<YYYY-MM-DD-HHMMSS>_<name>/up.sql` + `down.sql`.
    Diesel,
    /// `V<n>__<name>.sql` (and unversioned `U<n>__<name>.sql`).
    Refinery,
    /// `<version>_<title>.up.sql` + `.down.sql`.
    GolangMigrate,
    /// `<version>_<name>.sql` with `-- migrate:up` / `-- migrate:down` sections.
    Dbmate,
}

/// Which side of a migration a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The whole migration (sqlx forward-only, refinery, dbmate).
    Single,
    Up,
    Down,
}

/// What a file name says about the migration it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileName {
    /// The version as the tool records it (diesel drops the dashes).
    pub version: String,
    pub description: String,
    pub part: Part,
}

impl SqlTool {
    pub fn name(self) -> &'static str {
        match self {
            SqlTool::Sqlx => "sqlx",
            SqlTool::Diesel => "diesel",
            SqlTool::Refinery => "refinery",
            SqlTool::GolangMigrate => "golang-migrate",
            SqlTool::Dbmate => "dbmate",
        }
    }

    /// How the tool names a migration, for messages.
    pub fn pattern(self) -> &'static str {
        match self {
            SqlTool::Sqlx => "<VERSION>_<description>.sql, or .up.sql with .down.sql",
            SqlTool::Diesel => "<YYYY-MM-DD-HHMMSS>_<name>/up.sql with down.sql",
            SqlTool::Refinery => "V<n>__<name>.sql",
            SqlTool::GolangMigrate => "<version>_<title>.up.sql with .down.sql",
            SqlTool::Dbmate => "<version>_<name>.sql with -- migrate:up and -- migrate:down",
        }
    }

    /// The order the tool applies versions in: by number (sqlx's and
    /// refinery's are integers, golang-migrate's and dbmate's too), but
    /// diesel compares its versions as text.
    pub fn version_key(self, version: &str) -> (u128, &str) {
        match self {
            SqlTool::Diesel => (0, version),
            _ => (version.parse().unwrap_or(u128::MAX), version),
        }
    }

    /// Reads a migration's name: the file name, or for diesel the
    /// `<folder>/up.sql` name relative to the migrations folder.
    pub fn parse(self, name: &str) -> Option<FileName> {
        match self {
            SqlTool::Diesel => {
                let (folder, file) = name.split_once('/')?;
                let part = match file {
                    "up.sql" => Part::Up,
                    "down.sql" => Part::Down,
                    _ => return None,
                };
                let (version, description) = folder.split_once('_')?;
                let version = version.replace('-', "");
                (!version.is_empty() && version.bytes().all(|b| b.is_ascii_digit())).then(|| {
                    FileName {
                        version,
                        description: description.to_string(),
                        part,
                    }
                })
            }
            SqlTool::Refinery => {
                let rest = name.strip_prefix(['V', 'U'])?.strip_suffix(".sql")?;
                let (version, description) = rest.split_once("__")?;
                numeric(version).then(|| FileName {
                    version: version.to_string(),
                    description: description.to_string(),
                    part: Part::Single,
                })
            }
            SqlTool::Sqlx | SqlTool::GolangMigrate | SqlTool::Dbmate => {
                let stem = name.strip_suffix(".sql")?;
                let (stem, part) = if let Some(s) = stem.strip_suffix(".up") {
                    (s, Part::Up)
                } else if let Some(s) = stem.strip_suffix(".down") {
                    (s, Part::Down)
                } else {
                    (stem, Part::Single)
                };
                let (version, description) = stem.split_once('_')?;
                let fits = !matches!(
                    (self, part),
                    (SqlTool::GolangMigrate, Part::Single)
                        | (SqlTool::Dbmate, Part::Up | Part::Down)
                );
                (fits && numeric(version)).then(|| FileName {
                    version: version.to_string(),
                    description: description.to_string(),
                    part,
                })
            }
        }
    }

    /// The name of a new migration with this version and description.
    pub fn file_names(self, version: &str, description: &str) -> (String, Option<String>) {
        match self {
            SqlTool::Sqlx | SqlTool::GolangMigrate => (
                format!("{version}_{description}.up.sql"),
                Some(format!("{version}_{description}.down.sql")),
            ),
            SqlTool::Diesel => {
                let v = version.as_bytes();
                let dashed = if v.len() == 14 {
                    format!(
                        "{}-{}-{}-{}",
                        &version[..4],
                        &version[4..6],
                        &version[6..8],
                        &version[8..]
                    )
                } else {
                    version.to_string()
                };
                (
                    format!("{dashed}_{description}/up.sql"),
                    Some(format!("{dashed}_{description}/down.sql")),
                )
            }
            SqlTool::Refinery => (format!("V{version}__{description}.sql"), None),
            SqlTool::Dbmate => (format!("{version}_{description}.sql"), None),
        }
    }
}

fn numeric(s: &str) -> bool {
    !s.is_empty() && s.len() <= 19 && s.bytes().all(|b| b.is_ascii_digit())
}

/// A migration file's name as its folder knows it: the file name, or for a
/// diesel migration folder's `up.sql` / `down.sql`, `<folder>/up.sql`.
pub fn name_in_set(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if is_diesel_file(&name)
        && let Some(folder) = path.parent().and_then(|p| p.file_name())
    {
        return format!("{}/{name}", folder.to_string_lossy());
    }
    name
}

/// `up.sql` / `down.sql`, the names diesel gives each side.
pub fn is_diesel_file(name: &str) -> bool {
    name == "up.sql" || name == "down.sql"
}

/// Whether a folder name reads as a diesel migration: a version of digits
/// and dashes, `_`, a name.
pub fn is_diesel_folder(name: &str) -> bool {
    name.split_once('_').is_some_and(|(v, rest)| {
        !rest.is_empty()
            && v.bytes().next().is_some_and(|b| b.is_ascii_digit())
            && v.bytes().all(|b| b.is_ascii_digit() || b == b'-')
    })
}

/// The tool a single `.sql` file's name (and first bytes) point to, when
/// only that tool names files so. `<n>_x.sql` alone is sqlx's, yoyo's or
/// dbmate's; the folder decides (see `project::discover`).
pub fn sniff(name: &str, head: &[u8]) -> Option<SqlTool> {
    if SqlTool::Refinery.parse(name).is_some() {
        return Some(SqlTool::Refinery);
    }
    let parsed = SqlTool::Sqlx.parse(name)?;
    match parsed.part {
        // sqlx or golang-migrate: the folder decides.
        Part::Up | Part::Down => Some(SqlTool::GolangMigrate),
        Part::Single if contains(head, b"-- migrate:up") => Some(SqlTool::Dbmate),
        Part::Single => None,
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A dbmate file's sections: (up, down) byte ranges of the text after each
/// marker line, `None` where the marker is missing.
pub fn dbmate_sections(
    text: &str,
) -> (
    Option<std::ops::Range<usize>>,
    Option<std::ops::Range<usize>>,
) {
    let mut up: Option<(usize, usize)> = None;
    let mut down: Option<(usize, usize)> = None;
    let mut offset = 0;
    let mut open: Option<bool> = None;
    for line in text.split_inclusive('\n') {
        let marker = line.trim_start();
        let is_up = marker.starts_with("-- migrate:up");
        let is_down = marker.starts_with("-- migrate:down");
        if is_up || is_down {
            let end_prev = offset;
            match open {
                Some(true) => up = up.map(|(s, _)| (s, end_prev)),
                Some(false) => down = down.map(|(s, _)| (s, end_prev)),
                None => {}
            }
            let start = offset + line.len();
            if is_up {
                up = Some((start, text.len()));
                open = Some(true);
            } else {
                down = Some((start, text.len()));
                open = Some(false);
            }
        }
        offset += line.len();
    }
    (up.map(|(s, e)| s..e), down.map(|(s, e)| s..e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_tools_names() {
        let p = SqlTool::Diesel
            .parse("2024-01-02-030405_create_users/up.sql")
            .unwrap();
        assert_eq!(p.version, "20240102030405");
        assert_eq!(p.description, "create_users");
        assert_eq!(p.part, Part::Up);
        assert!(SqlTool::Diesel.parse("create_users/up.sql").is_none());

        let p = SqlTool::Sqlx.parse("20240102_add_tags.down.sql").unwrap();
        assert_eq!((p.version.as_str(), p.part), ("20240102", Part::Down));
        assert_eq!(
            SqlTool::Sqlx.parse("0001_init.sql").unwrap().part,
            Part::Single
        );
        assert!(SqlTool::Sqlx.parse("init.sql").is_none());
        assert!(SqlTool::GolangMigrate.parse("0001_init.sql").is_none());
        assert!(SqlTool::Dbmate.parse("0001_init.up.sql").is_none());

        let p = SqlTool::Refinery.parse("V12__add_tags.sql").unwrap();
        assert_eq!(
            (p.version.as_str(), p.description.as_str()),
            ("12", "add_tags")
        );
        assert!(SqlTool::Refinery.parse("V12_add_tags.sql").is_none());
    }

    #[test]
    fn versions_order_by_number() {
        let mut v = vec!["10", "9", "0002"];
        v.sort_by_key(|s| SqlTool::Sqlx.version_key(s));
        assert_eq!(v, ["0002", "9", "10"]);
        // diesel: `2026-02-26-130250-0000_x` sorts after `2027-01-01-000000_y`'s
        // digits only as text does.
        let mut v = vec!["20270101000000", "202602261302500000"];
        v.sort_by_key(|s| SqlTool::Diesel.version_key(s));
        assert_eq!(v, ["202602261302500000", "20270101000000"]);
    }

    #[test]
    fn dbmate_sections_split_at_markers() {
        let text = "-- migrate:up\nCREATE TABLE t (a);\n\n-- migrate:down\nDROP TABLE t;\n";
        let (up, down) = dbmate_sections(text);
        assert_eq!(&text[up.unwrap()], "CREATE TABLE t (a);\n\n");
        assert_eq!(&text[down.unwrap()], "DROP TABLE t;\n");
        assert_eq!(dbmate_sections("SELECT 1;\n"), (None, None));
    }

    #[test]
    fn diesel_names_keep_their_folder() {
        assert_eq!(
            name_in_set(Path::new("m/2024-01-01-000000_a/up.sql")),
            "2024-01-01-000000_a/up.sql"
        );
        assert_eq!(name_in_set(Path::new("m/0001_a.sql")), "0001_a.sql");
        assert!(is_diesel_folder("2024-01-01-000000_a"));
        assert!(is_diesel_folder("00000000000000_diesel_initial_setup"));
        assert!(!is_diesel_folder("users"));
    }
}
