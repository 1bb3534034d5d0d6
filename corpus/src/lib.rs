//! Deterministic generator of realistic migration folders, for benchmarks
//! and load tests. The same seed always writes the same bytes.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CorpusFlavour {
    Alembic,
    YoyoSql,
    YoyoPy,
    /// diesel folders: `<YYYY-MM-DD-HHMMSS>_<name>/up.sql` + `down.sql`.
    Diesel,
}

#[derive(Clone, Debug)]
pub struct CorpusSpec {
    pub flavour: CorpusFlavour,
    pub count: usize,
    /// Share of migrations that break one convention (0.0 to 1.0).
    pub violations: f64,
    pub seed: u64,
}

/// What was written.
#[derive(Debug, Default, Clone, Copy)]
pub struct CorpusStats {
    pub migrations: usize,
    pub files: usize,
    pub bytes: u64,
}

/// A small, fast, deterministic PRNG (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

const WORDS: &[&str] = &[
    "users", "sessions", "memories", "messages", "tags", "notes", "events", "tasks", "projects",
    "comments", "files", "teams", "invites", "tokens", "reports",
];

/// One schema change, in the generator's own terms.
enum Change {
    CreateTable {
        table: String,
    },
    AddColumn {
        table: String,
        column: String,
        index: bool,
    },
    CreateIndex {
        table: String,
        column: String,
    },
    DataFix {
        table: String,
    },
}

/// The broken convention a violating migration carries.
#[derive(Clone, Copy, PartialEq)]
enum Flaw {
    None,
    NoBatch,
    NoGuard,
    NoTimestamps,
    EmptyRollback,
}

pub fn generate(spec: &CorpusSpec, out: &Path) -> io::Result<CorpusStats> {
    let mut rng = Rng::new(spec.seed);
    let mut stats = CorpusStats::default();
    let (dir, width) = match spec.flavour {
        CorpusFlavour::Alembic => (out.join("migrations/versions"), 3),
        _ => (out.join("migrations"), 4),
    };
    std::fs::create_dir_all(&dir)?;
    if spec.flavour == CorpusFlavour::Alembic {
        std::fs::write(
            out.join("alembic.ini"),
            "[alembic]\nscript_location = %(here)s/migrations\nsqlalchemy.url = sqlite:///app.db\n",
        )?;
    }
    let mut tables: Vec<(String, Vec<String>)> = Vec::new();
    // (table, column) pairs that already have an index.
    let mut indexed: std::collections::HashSet<(String, String)> = Default::default();
    let write = |path: &Path, text: &str, stats: &mut CorpusStats| -> io::Result<()> {
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder)?;
        }
        std::fs::write(path, text)?;
        stats.files += 1;
        stats.bytes += text.len() as u64;
        Ok(())
    };
    let mut previous = String::new();
    for n in 1..=spec.count {
        let change = if tables.is_empty() || rng.below(4) == 0 {
            let table = format!("{}_{n}", WORDS[rng.below(WORDS.len())]);
            tables.push((table.clone(), vec!["id".into(), "name".into()]));
            indexed.insert((table.clone(), "name".into()));
            Change::CreateTable { table }
        } else {
            let t = rng.below(tables.len());
            let table = tables[t].0.clone();
            match rng.below(3) {
                0 => {
                    let column = format!(
                        "{}_{n}",
                        ["status", "title", "owner_id", "score"][rng.below(4)]
                    );
                    tables[t].1.push(column.clone());
                    let index = rng.chance(0.5);
                    if index {
                        indexed.insert((table.clone(), column.clone()));
                    }
                    Change::AddColumn {
                        table,
                        column,
                        index,
                    }
                }
                1 => {
                    let cols = &tables[t].1;
                    let column = cols[rng.below(cols.len())].clone();
                    // One index per column: a second one would be a real
                    // schema-consistency finding.
                    if indexed.insert((table.clone(), column.clone())) {
                        Change::CreateIndex { table, column }
                    } else {
                        Change::DataFix { table }
                    }
                }
                _ => Change::DataFix { table },
            }
        };
        let flaw = if rng.chance(spec.violations) {
            [
                Flaw::NoBatch,
                Flaw::NoGuard,
                Flaw::NoTimestamps,
                Flaw::EmptyRollback,
            ][rng.below(4)]
        } else {
            Flaw::None
        };
        let desc = match &change {
            Change::CreateTable { table } => format!("create_{table}"),
            Change::AddColumn { table, column, .. } => format!("add_{column}_to_{table}"),
            Change::CreateIndex { table, column } => format!("index_{table}_{column}"),
            Change::DataFix { table } => format!("backfill_{table}"),
        };
        let stem = format!("{n:0width$}_{desc}");
        match spec.flavour {
            CorpusFlavour::Alembic => {
                let text = alembic(n, width, &change, flaw, n as u64 * 7919);
                write(&dir.join(format!("{stem}.py")), &text, &mut stats)?;
            }
            CorpusFlavour::YoyoPy => {
                let (apply, rollback) = sql(&change, flaw);
                let mut text = format!(
                    "\"\"\"\n{}\n\"\"\"\nfrom yoyo import step\n\n",
                    desc.replace('_', " ")
                );
                if !previous.is_empty() {
                    let _ = writeln!(text, "__depends__ = {{\"{previous}\"}}\n");
                }
                let _ = write!(
                    text,
                    "steps = [\n    step(\n        \"\"\"\n{}\n        \"\"\",\n        \"\"\"\n{}\n        \"\"\",\n    ),\n]\n",
                    indent(&apply, 8),
                    indent(&rollback, 8)
                );
                write(&dir.join(format!("{stem}.py")), &text, &mut stats)?;
            }
            CorpusFlavour::Diesel => {
                let (apply, rollback) = sql(&change, flaw);
                // One second apart from 2024-01-01 00:00:00, as diesel names them.
                let (h, m, sec) = (n / 3600 % 24, n / 60 % 60, n % 60);
                let folder = dir.join(format!(
                    "2024-01-{:02}-{h:02}{m:02}{sec:02}_{desc}",
                    1 + n / 86_400
                ));
                write(&folder.join("up.sql"), &format!("{apply}\n"), &mut stats)?;
                write(
                    &folder.join("down.sql"),
                    &format!("{rollback}\n"),
                    &mut stats,
                )?;
            }
            CorpusFlavour::YoyoSql => {
                let (apply, rollback) = sql(&change, flaw);
                let mut text = format!("-- {}\n", desc.replace('_', " "));
                if !previous.is_empty() {
                    let _ = writeln!(text, "-- depends: {previous}");
                }
                let _ = write!(text, "\n{apply}\n");
                write(&dir.join(format!("{stem}.sql")), &text, &mut stats)?;
                write(
                    &dir.join(format!("{stem}.rollback.sql")),
                    &format!("{rollback}\n"),
                    &mut stats,
                )?;
            }
        }
        stats.migrations += 1;
        previous = stem;
    }
    // Application code with queries, for the rules that read them.
    let app = out.join("app");
    std::fs::create_dir_all(&app)?;
    for (k, chunk) in tables.chunks(50).enumerate() {
        let mut text = String::from("from sqlalchemy import text\n\n");
        for (table, _) in chunk {
            // Queries filter on indexed columns, as the conventions ask.
            let _ = writeln!(
                text,
                "Q_{table} = text(\"SELECT t.id FROM {table} t WHERE t.name = :v ORDER BY t.name\")"
            );
        }
        write(&app.join(format!("queries_{k}.py")), &text, &mut stats)?;
    }
    Ok(stats)
}

fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.lines()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

const TS_SQL: &str = "TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now'))";

/// Apply and rollback SQL for a change (yoyo flavours).
fn sql(change: &Change, flaw: Flaw) -> (String, String) {
    let guard = if flaw == Flaw::NoGuard {
        ""
    } else {
        "IF NOT EXISTS "
    };
    let drop_guard = if flaw == Flaw::NoGuard {
        ""
    } else {
        "IF EXISTS "
    };
    let (apply, rollback) = match change {
        Change::CreateTable { table } => {
            let ts = if flaw == Flaw::NoTimestamps {
                String::new()
            } else {
                format!(",\n    created_at {TS_SQL},\n    updated_at {TS_SQL}")
            };
            (
                format!(
                    "CREATE TABLE {guard}{table} (\n    id TEXT PRIMARY KEY,\n    name TEXT NOT NULL{ts}\n);\nCREATE INDEX {guard}idx_{table}_name ON {table}(name);"
                ),
                format!(
                    "DROP INDEX {drop_guard}idx_{table}_name;\nDROP TABLE {drop_guard}{table};"
                ),
            )
        }
        Change::AddColumn {
            table,
            column,
            index,
        } => {
            let mut apply =
                format!("ALTER TABLE {table} ADD COLUMN {column} TEXT NOT NULL DEFAULT '';");
            let mut rollback = format!("ALTER TABLE {table} DROP COLUMN {column};");
            if *index {
                apply.push_str(&format!(
                    "\nCREATE INDEX {guard}idx_{table}_{column} ON {table}({column});"
                ));
                rollback = format!("DROP INDEX {drop_guard}idx_{table}_{column};\n{rollback}");
            }
            (apply, rollback)
        }
        Change::CreateIndex { table, column } => (
            format!("CREATE INDEX {guard}idx_{table}_{column} ON {table}({column});"),
            format!("DROP INDEX {drop_guard}idx_{table}_{column};"),
        ),
        Change::DataFix { table } => (
            format!("UPDATE {table} SET name = trim(name) WHERE name LIKE ' %';"),
            format!("UPDATE {table} SET name = name WHERE 0;"),
        ),
    };
    if flaw == Flaw::EmptyRollback {
        (apply, "-- cannot be undone".to_string())
    } else {
        (apply, rollback)
    }
}

/// A `batch_op.` call line rewritten as the plain `op.` call (table added
/// where Alembic's signature wants it).
fn unbatched(line: &str, table: &str) -> String {
    if let Some(rest) = line.strip_prefix("create_index(") {
        // create_index(name, cols) -> create_index(name, table, cols)
        let (name, cols) = rest.split_once(", ").unwrap_or((rest, ""));
        format!("create_index({name}, \"{table}\", {cols}")
    } else if let Some(rest) = line.strip_prefix("drop_index(") {
        format!(
            "drop_index({}, table_name=\"{table}\")",
            rest.trim_end_matches(')')
        )
    } else {
        line.replacen('(', &format!("(\"{table}\", "), 1)
    }
}

fn alembic(n: usize, width: usize, change: &Change, flaw: Flaw, day: u64) -> String {
    let revision = format!("{n:0width$}");
    let (parent, revises) = if n == 1 {
        ("None".to_string(), String::new())
    } else {
        (
            format!("\"{:0width$}\"", n - 1),
            format!("{:0width$}", n - 1),
        )
    };
    let batch = |table: &str, lines: &[String]| -> String {
        if flaw == Flaw::NoBatch {
            lines
                .iter()
                .map(|l| format!("    op.{}", unbatched(l, table)))
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            let mut s = format!("    with op.batch_alter_table(\"{table}\") as batch_op:\n");
            s.push_str(
                &lines
                    .iter()
                    .map(|l| format!("        batch_op.{l}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
            s
        }
    };
    let (up, down) = match change {
        Change::CreateTable { table } => {
            let ts = if flaw == Flaw::NoTimestamps {
                String::new()
            } else {
                "        sa.Column(\"created_at\", sa.DateTime(), nullable=False, server_default=sa.func.now()),\n        sa.Column(\"updated_at\", sa.DateTime(), nullable=False, server_default=sa.func.now()),\n".to_string()
            };
            (
                format!(
                    "    op.create_table(\n        \"{table}\",\n        sa.Column(\"id\", sa.String(), primary_key=True),\n        sa.Column(\"name\", sa.String(), nullable=False),\n{ts}    )\n    op.create_index(\"ix_{table}_name\", \"{table}\", [\"name\"])"
                ),
                format!(
                    "    op.drop_index(\"ix_{table}_name\", table_name=\"{table}\")\n    op.drop_table(\"{table}\")"
                ),
            )
        }
        Change::AddColumn {
            table,
            column,
            index,
        } => {
            let mut up = vec![format!(
                "add_column(sa.Column(\"{column}\", sa.String(), nullable=False, server_default=\"\"))"
            )];
            let mut down = vec![format!("drop_column(\"{column}\")")];
            if *index {
                up.push(format!(
                    "create_index(\"ix_{table}_{column}\", [\"{column}\"])"
                ));
                down.insert(0, format!("drop_index(\"ix_{table}_{column}\")"));
            }
            (batch(table, &up), batch(table, &down))
        }
        Change::CreateIndex { table, column } => (
            format!("    op.create_index(\"ix_{table}_{column}\", \"{table}\", [\"{column}\"])"),
            format!("    op.drop_index(\"ix_{table}_{column}\", table_name=\"{table}\")"),
        ),
        Change::DataFix { table } => (
            format!(
                "    op.execute(\"UPDATE {table} SET name = trim(name) WHERE name LIKE ' %'\")"
            ),
            "    op.execute(\"SELECT 1\")".to_string(),
        ),
    };
    let down = if flaw == Flaw::EmptyRollback {
        "    pass".to_string()
    } else {
        down
    };
    format!(
        "\"\"\"Migration {n}.\n\nRevision ID: {revision}\nRevises: {revises}\nCreate Date: 2026-{:02}-{:02}\n\"\"\"\n\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision = \"{revision}\"\ndown_revision = {parent}\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade() -> None:\n    \"\"\"Apply migration {n}.\"\"\"\n{up}\n\n\ndef downgrade() -> None:\n    \"\"\"Revert migration {n}.\"\"\"\n{down}\n",
        day % 12 + 1,
        day % 28 + 1
    )
}
