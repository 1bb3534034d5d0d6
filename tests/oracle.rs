//! The replay held against real Alembic and real yoyo.
//!
//! Generated chains (deterministic from a seed) are run by the real tools on
//! SQLite, one revision at a time up to head and back down to base, by
//! `tests/oracle/driver.py`; after every step the schema SQLite holds must
//! equal miglint's replay at that revision. The Python environment comes
//! from `scripts/test.sh` (`MIGLINT_ORACLE_PYTHON`). `MIGLINT_ORACLE_CHAINS`
//! sets how many chains run (default 200, half per flavour).

mod common;

use std::fmt::Write as _;
use std::path::Path;

use common::{ENV_PY, facts, normalize_driver, sql_tool_programs};
use miglint::project::config::Settings;
use miglint::schema::Schema;

use miglint_corpus::Rng;

/// A percentage chance, on the shared generator.
fn chance(rng: &mut Rng, percent: u64) -> bool {
    rng.next_u64() % 100 < percent
}

#[derive(Clone, Copy, PartialEq)]
enum Flavour {
    Alembic,
    Yoyo,
}

#[derive(Clone)]
struct Col {
    name: String,
    /// Index into the flavour's type list.
    ty: usize,
    not_null: bool,
    /// Has a server default (NOT NULL columns always get one).
    has_default: bool,
}

/// A column; NOT NULL columns are created with a server default.
fn col(name: String, ty: usize, not_null: bool) -> Col {
    Col {
        name,
        ty,
        not_null,
        has_default: not_null,
    }
}

#[derive(Clone)]
struct Tbl {
    name: String,
    cols: Vec<Col>,
    /// (name, columns, unique, partial)
    indexes: Vec<(String, Vec<String>, bool, bool)>,
}

/// Alembic types, with a server default each takes when NOT NULL.
const SA_TYPES: &[(&str, &str)] = &[
    ("sa.String()", "\"x\""),
    ("sa.Integer()", "sa.text(\"0\")"),
    // Same default as sa.String(): columns move between the two.
    ("sa.Text()", "\"x\""),
    ("sa.Boolean()", "sa.text(\"0\")"),
    ("sa.DateTime()", "sa.func.now()"),
    ("sa.Float()", "sa.text(\"0\")"),
    ("sa.Numeric(10, 2)", "sa.text(\"0\")"),
    ("sa.String(40)", "\"y\""),
];
const SQL_TYPES: &[(&str, &str)] = &[
    ("TEXT", "'x'"),
    ("INTEGER", "0"),
    ("REAL", "0.5"),
    ("TEXT", "''"),
];

/// One migration: its upgrade and downgrade, in the flavour's words.
struct Mig {
    up: Vec<String>,
    down: Vec<String>,
}

struct Gen {
    rng: Rng,
    flavour: Flavour,
    tables: Vec<Tbl>,
    n: usize,
    /// Some migrations rebuild a table by copy (`INSERT ... SELECT *`).
    rebuilds: bool,
}

impl Gen {
    fn types(&self) -> &'static [(&'static str, &'static str)] {
        match self.flavour {
            Flavour::Alembic => SA_TYPES,
            Flavour::Yoyo => SQL_TYPES,
        }
    }

    fn col_def(&self, c: &Col) -> String {
        let (ty, default) = self.types()[c.ty];
        match self.flavour {
            Flavour::Alembic => {
                let nn = if c.not_null {
                    format!(", nullable=False, server_default={default}")
                } else {
                    ", nullable=True".into()
                };
                format!("sa.Column(\"{}\", {ty}{nn})", c.name)
            }
            Flavour::Yoyo => {
                let nn = if c.not_null {
                    format!(" NOT NULL DEFAULT {default}")
                } else {
                    String::new()
                };
                format!("{} {ty}{nn}", c.name)
            }
        }
    }

    /// A plain column (not id, not a foreign key) of table `t`, if any.
    fn plain_col(&mut self, t: usize) -> Option<usize> {
        let cols: Vec<usize> = (0..self.tables[t].cols.len())
            .filter(|&i| {
                let c = &self.tables[t].cols[i].name;
                c != "id" && !c.ends_with("_ref")
            })
            .collect();
        (!cols.is_empty()).then(|| cols[self.rng.below(cols.len())])
    }

    fn indexed(&self, t: usize, col: &str) -> bool {
        self.tables[t]
            .indexes
            .iter()
            .any(|(_, cs, _, _)| cs.iter().any(|c| c == col))
    }

    fn batch(&self, table: &str, lines: &[String]) -> String {
        let mut s = format!("with op.batch_alter_table(\"{table}\") as batch_op:");
        for l in lines {
            let _ = write!(s, "\n        batch_op.{l}");
        }
        s
    }

    fn migration(&mut self) -> Mig {
        self.n += 1;
        let n = self.n;
        let alembic = self.flavour == Flavour::Alembic;
        let choice = if self.tables.is_empty() {
            0
        } else {
            self.rng.below(if self.rebuilds { 12 } else { 11 })
        };
        match choice {
            // Drop a plain, unindexed column (the downgrade adds it back).
            7 => {
                let t = self.rng.below(self.tables.len());
                let Some(c) = self.plain_col(t) else {
                    return self.migration_fallback();
                };
                let dropped = self.tables[t].cols[c].clone();
                if self.indexed(t, &dropped.name) || self.tables[t].cols.len() <= 2 {
                    return self.migration_fallback();
                }
                let table = self.tables[t].name.clone();
                // Re-added as declared at creation: NOT NULL ones with their default.
                let readd = col(dropped.name.clone(), dropped.ty, dropped.not_null);
                if dropped.has_default != readd.has_default {
                    return self.migration_fallback();
                }
                let def = self.col_def(&readd);
                self.tables[t].cols.remove(c);
                if alembic {
                    Mig {
                        up: vec![
                            self.batch(&table, &[format!("drop_column(\"{}\")", dropped.name)]),
                        ],
                        down: vec![self.batch(&table, &[format!("add_column({def})")])],
                    }
                } else {
                    Mig {
                        up: vec![format!("ALTER TABLE {table} DROP COLUMN {}", dropped.name)],
                        down: vec![format!("ALTER TABLE {table} ADD COLUMN {def}")],
                    }
                }
            }
            // Drop an index (the downgrade creates it again).
            8 => {
                let candidates: Vec<(usize, usize)> = (0..self.tables.len())
                    .flat_map(|t| (0..self.tables[t].indexes.len()).map(move |i| (t, i)))
                    .collect();
                if candidates.is_empty() {
                    return self.migration_fallback();
                }
                let (t, i) = candidates[self.rng.below(candidates.len())];
                let (name, cols, unique, partial) = self.tables[t].indexes.remove(i);
                let table = self.tables[t].name.clone();
                if alembic {
                    let cols_py: Vec<String> = cols.iter().map(|c| format!("\"{c}\"")).collect();
                    Mig {
                        up: vec![format!("op.drop_index(\"{name}\", table_name=\"{table}\")")],
                        down: vec![format!(
                            "op.create_index(\"{name}\", \"{table}\", [{}]{}{})",
                            cols_py.join(", "),
                            if unique { ", unique=True" } else { "" },
                            if partial {
                                format!(", sqlite_where=sa.text(\"{} IS NOT NULL\")", cols[0])
                            } else {
                                String::new()
                            }
                        )],
                    }
                } else {
                    Mig {
                        up: vec![format!("DROP INDEX IF EXISTS {name}")],
                        down: vec![format!(
                            "CREATE {}INDEX IF NOT EXISTS {name} ON {table}({}){}",
                            if unique { "UNIQUE " } else { "" },
                            cols.join(", "),
                            if partial {
                                format!(" WHERE {} IS NOT NULL", cols[0])
                            } else {
                                String::new()
                            }
                        )],
                    }
                }
            }
            // Alembic: rename a table, or change a column's type in batch mode.
            9 | 10 if alembic => {
                let t = self.rng.below(self.tables.len());
                let table = self.tables[t].name.clone();
                if choice == 9 {
                    let new = format!("{table}_r{n}");
                    self.tables[t].name = new.clone();
                    return Mig {
                        up: vec![format!("op.rename_table(\"{table}\", \"{new}\")")],
                        down: vec![format!("op.rename_table(\"{new}\", \"{table}\")")],
                    };
                }
                let Some(c) = self.plain_col(t) else {
                    return self.migration_fallback();
                };
                let col = self.tables[t].cols[c].clone();
                // Text-like types only, so a default stays valid for both.
                let (from, to) = match SA_TYPES[col.ty].0 {
                    "sa.String()" => (0, 2),
                    "sa.Text()" => (2, 0),
                    _ => return self.migration_fallback(),
                };
                self.tables[t].cols[c].ty = to;
                let alter = |ty: usize, existing: usize| {
                    format!(
                        "alter_column(\"{}\", type_={}, existing_type={}, existing_nullable={})",
                        col.name,
                        SA_TYPES[ty].0,
                        SA_TYPES[existing].0,
                        if col.not_null { "False" } else { "True" }
                    )
                };
                Mig {
                    up: vec![self.batch(&table, &[alter(to, from)])],
                    down: vec![self.batch(&table, &[alter(from, to)])],
                }
            }
            // Create a table, sometimes with a foreign key to another.
            0 | 1 => {
                let name = format!("t{n}");
                let mut cols = vec![col("id".into(), 1, true)];
                for k in 0..1 + self.rng.below(3) {
                    cols.push(col(
                        format!("c{n}_{k}"),
                        self.rng.below(self.types().len()),
                        chance(&mut self.rng, 50),
                    ));
                }
                let parent = (!self.tables.is_empty() && chance(&mut self.rng, 50))
                    .then(|| self.tables[self.rng.below(self.tables.len())].name.clone());
                let mut defs: Vec<String> = Vec::new();
                if alembic {
                    defs.push("sa.Column(\"id\", sa.Integer(), primary_key=True)".into());
                } else {
                    defs.push("id INTEGER PRIMARY KEY".into());
                }
                defs.extend(cols[1..].iter().map(|c| self.col_def(c)));
                if let Some(p) = &parent {
                    defs.push(if alembic {
                        format!("sa.Column(\"{p}_ref\", sa.Integer(), sa.ForeignKey(\"{p}.id\"), nullable=True)")
                    } else {
                        format!("{p}_ref INTEGER REFERENCES {p}(id)")
                    });
                    cols.push(col(format!("{p}_ref"), 1, false));
                }
                self.tables.push(Tbl {
                    name: name.clone(),
                    cols,
                    indexes: Vec::new(),
                });
                if alembic {
                    Mig {
                        up: vec![format!("op.create_table(\"{name}\", {})", defs.join(", "))],
                        down: vec![format!("op.drop_table(\"{name}\")")],
                    }
                } else {
                    Mig {
                        up: vec![format!(
                            "CREATE TABLE IF NOT EXISTS {name} ({})",
                            defs.join(", ")
                        )],
                        down: vec![format!("DROP TABLE IF EXISTS {name}")],
                    }
                }
            }
            // Add a column (nullable, or NOT NULL with a default).
            2 => {
                let t = self.rng.below(self.tables.len());
                let table = self.tables[t].name.clone();
                let col = col(
                    format!("a{n}"),
                    self.rng.below(self.types().len()),
                    chance(&mut self.rng, 50),
                );
                let def = self.col_def(&col);
                self.tables[t].cols.push(col.clone());
                if alembic {
                    Mig {
                        up: vec![self.batch(&table, &[format!("add_column({def})")])],
                        down: vec![self.batch(&table, &[format!("drop_column(\"{}\")", col.name)])],
                    }
                } else {
                    Mig {
                        up: vec![format!("ALTER TABLE {table} ADD COLUMN {def}")],
                        down: vec![format!("ALTER TABLE {table} DROP COLUMN {}", col.name)],
                    }
                }
            }
            // Create an index: single or composite, sometimes unique or partial.
            3 | 4 => {
                let t = self.rng.below(self.tables.len());
                let Some(c) = self.plain_col(t) else {
                    return self.migration_fallback();
                };
                let mut cols = vec![self.tables[t].cols[c].name.clone()];
                if chance(&mut self.rng, 30)
                    && let Some(c2) = self.plain_col(t)
                    && self.tables[t].cols[c2].name != cols[0]
                {
                    cols.push(self.tables[t].cols[c2].name.clone());
                }
                let table = self.tables[t].name.clone();
                let name = format!("ix_{table}_{}_{n}", cols.join("_"));
                let unique = chance(&mut self.rng, 25);
                let partial = chance(&mut self.rng, 20);
                self.tables[t]
                    .indexes
                    .push((name.clone(), cols.clone(), unique, partial));
                if alembic {
                    let cols_py: Vec<String> = cols.iter().map(|c| format!("\"{c}\"")).collect();
                    let mut extra = String::new();
                    if unique {
                        extra.push_str(", unique=True");
                    }
                    if partial {
                        let _ =
                            write!(extra, ", sqlite_where=sa.text(\"{} IS NOT NULL\")", cols[0]);
                    }
                    Mig {
                        up: vec![format!(
                            "op.create_index(\"{name}\", \"{table}\", [{}]{extra})",
                            cols_py.join(", ")
                        )],
                        down: vec![format!("op.drop_index(\"{name}\", table_name=\"{table}\")")],
                    }
                } else {
                    let where_ = if partial {
                        format!(" WHERE {} IS NOT NULL", cols[0])
                    } else {
                        String::new()
                    };
                    Mig {
                        up: vec![format!(
                            "CREATE {}INDEX IF NOT EXISTS {name} ON {table}({}){where_}",
                            if unique { "UNIQUE " } else { "" },
                            cols.join(", ")
                        )],
                        down: vec![format!("DROP INDEX IF EXISTS {name}")],
                    }
                }
            }
            // Rename a plain, unindexed column.
            5 => {
                let t = self.rng.below(self.tables.len());
                let Some(c) = self.plain_col(t) else {
                    return self.migration_fallback();
                };
                let old = self.tables[t].cols[c].name.clone();
                if self.indexed(t, &old) {
                    return self.migration_fallback();
                }
                let new = format!("r{n}");
                self.tables[t].cols[c].name = new.clone();
                let table = self.tables[t].name.clone();
                if alembic {
                    Mig {
                        up: vec![self.batch(
                            &table,
                            &[format!(
                                "alter_column(\"{old}\", new_column_name=\"{new}\")"
                            )],
                        )],
                        down: vec![self.batch(
                            &table,
                            &[format!(
                                "alter_column(\"{new}\", new_column_name=\"{old}\")"
                            )],
                        )],
                    }
                } else {
                    Mig {
                        up: vec![format!("ALTER TABLE {table} RENAME COLUMN {old} TO {new}")],
                        down: vec![format!("ALTER TABLE {table} RENAME COLUMN {new} TO {old}")],
                    }
                }
            }
            11 => self.rebuild_by_copy(),
            // Alembic: flip a column's nullability; yoyo: rename a table.
            _ => {
                let t = self.rng.below(self.tables.len());
                if alembic {
                    let Some(c) = self.plain_col(t) else {
                        return self.migration_fallback();
                    };
                    let col = self.tables[t].cols[c].clone();
                    let (ty, default) = SA_TYPES[col.ty];
                    let table = self.tables[t].name.clone();
                    self.tables[t].cols[c].not_null = !col.not_null;
                    // Making it NOT NULL sets the default; going back to
                    // nullable removes it only if the column had none.
                    self.tables[t].cols[c].has_default = col.has_default || !col.not_null;
                    let to = |nullable: bool| {
                        let d = if !nullable {
                            format!(", server_default={default}")
                        } else if !col.has_default {
                            ", server_default=None".to_string()
                        } else {
                            String::new()
                        };
                        format!(
                            "alter_column(\"{}\", existing_type={ty}, nullable={}{d})",
                            col.name,
                            if nullable { "True" } else { "False" }
                        )
                    };
                    Mig {
                        up: vec![self.batch(&table, &[to(col.not_null)])],
                        down: vec![self.batch(&table, &[to(!col.not_null)])],
                    }
                } else {
                    let old = self.tables[t].name.clone();
                    let new = format!("{old}_r{n}");
                    // SQLite rewrites references to the old name.
                    self.tables[t].name = new.clone();
                    Mig {
                        up: vec![format!("ALTER TABLE {old} RENAME TO {new}")],
                        down: vec![format!("ALTER TABLE {new} RENAME TO {old}")],
                    }
                }
            }
        }
    }

    /// Rebuilds a table by copy, as projects do for what ALTER TABLE cannot:
    /// a new table with the same columns, a positional `INSERT ... SELECT *`,
    /// the old one dropped and the new one renamed. The downgrade does the
    /// same. Only tables without indexes or foreign keys either way.
    fn rebuild_by_copy(&mut self) -> Mig {
        let n = self.n;
        let referenced = |name: &str, tables: &[Tbl]| {
            tables.iter().any(|o| {
                o.cols.iter().any(|c| {
                    c.name
                        .strip_suffix("_ref")
                        .is_some_and(|p| name.starts_with(p))
                })
            })
        };
        let eligible: Vec<usize> = (0..self.tables.len())
            .filter(|&t| {
                let tb = &self.tables[t];
                tb.indexes.is_empty()
                    && !tb.cols.iter().any(|c| c.name.ends_with("_ref"))
                    && !referenced(&tb.name, &self.tables)
            })
            .collect();
        if eligible.is_empty() {
            return self.migration_fallback();
        }
        let t = eligible[self.rng.below(eligible.len())];
        let table = self.tables[t].name.clone();
        let copy = format!("{table}_copy{n}");
        // The copy declares each column as the generator does: NOT NULL
        // ones with their default.
        for c in &mut self.tables[t].cols[1..] {
            c.has_default = c.not_null;
        }
        let alembic = self.flavour == Flavour::Alembic;
        let mut defs = vec![if alembic {
            "sa.Column(\"id\", sa.Integer(), primary_key=True)".to_string()
        } else {
            "id INTEGER PRIMARY KEY".to_string()
        }];
        defs.extend(self.tables[t].cols[1..].iter().map(|c| self.col_def(c)));
        let steps = if alembic {
            vec![
                format!("op.create_table(\"{copy}\", {})", defs.join(", ")),
                format!("op.execute(\"INSERT INTO {copy} SELECT * FROM {table}\")"),
                format!("op.drop_table(\"{table}\")"),
                format!("op.rename_table(\"{copy}\", \"{table}\")"),
            ]
        } else {
            vec![
                format!("CREATE TABLE IF NOT EXISTS {copy} ({})", defs.join(", ")),
                format!("INSERT INTO {copy} SELECT * FROM {table}"),
                format!("DROP TABLE IF EXISTS {table}"),
                format!("ALTER TABLE {copy} RENAME TO {table}"),
            ]
        };
        Mig {
            up: steps.clone(),
            down: steps,
        }
    }

    /// When the chosen change does not fit the current tables: a new table.
    fn migration_fallback(&mut self) -> Mig {
        let n = self.n;
        let name = format!("t{n}");
        self.tables.push(Tbl {
            name: name.clone(),
            cols: vec![col("id".into(), 1, true), col(format!("c{n}_0"), 0, false)],
            indexes: Vec::new(),
        });
        match self.flavour {
            Flavour::Alembic => Mig {
                up: vec![format!(
                    "op.create_table(\"{name}\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"c{n}_0\", sa.String(), nullable=True))"
                )],
                down: vec![format!("op.drop_table(\"{name}\")")],
            },
            Flavour::Yoyo => Mig {
                up: vec![format!(
                    "CREATE TABLE IF NOT EXISTS {name} (id INTEGER PRIMARY KEY, c{n}_0 TEXT)"
                )],
                down: vec![format!("DROP TABLE IF EXISTS {name}")],
            },
        }
    }
}

/// Writes one chain; returns its revision ids in order. With `rebuilds`,
/// some of its migrations rebuild a table by copy.
fn write_chain(dir: &Path, seed: u64, flavour: Flavour, rebuilds: bool) -> Vec<String> {
    let mut g = Gen {
        rng: Rng::new(seed),
        flavour,
        tables: Vec::new(),
        n: 0,
        rebuilds,
    };
    let length = 3 + g.rng.below(6);
    let mut ids = Vec::new();
    let write = |path: &Path, text: &str| {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    match flavour {
        Flavour::Alembic => {
            write(
                &dir.join("alembic.ini"),
                "[alembic]\nscript_location = migrations\n",
            );
            write(&dir.join("migrations/env.py"), ENV_PY);
        }
        Flavour::Yoyo => std::fs::create_dir_all(dir.join("migrations")).unwrap(),
    }
    for i in 1..=length {
        let m = g.migration();
        match flavour {
            Flavour::Alembic => {
                let id = format!("{i:03}");
                let parent = if i == 1 {
                    "None".to_string()
                } else {
                    format!("\"{:03}\"", i - 1)
                };
                let body = |lines: &[String]| {
                    lines
                        .iter()
                        .map(|l| format!("    {l}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                let text = format!(
                    "\"\"\"Generated {id}.\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision = \"{id}\"\ndown_revision = {parent}\n\n\ndef upgrade() -> None:\n{}\n\n\ndef downgrade() -> None:\n{}\n",
                    body(&m.up),
                    body(&m.down)
                );
                write(&dir.join(format!("migrations/versions/{id}_m.py")), &text);
                ids.push(id);
            }
            Flavour::Yoyo => {
                let id = format!("{i:04}_m");
                let text = format!(
                    "from yoyo import step\n\nsteps = [\n    step(\n        \"\"\"{}\"\"\",\n        \"\"\"{}\"\"\",\n    ),\n]\n",
                    m.up.join(";\n"),
                    m.down.join(";\n")
                );
                write(&dir.join(format!("migrations/{id}.py")), &text);
                ids.push(id);
            }
        }
    }
    ids
}

#[test]
fn replay_matches_real_alembic_and_yoyo_on_generated_chains() {
    let chains: u64 = std::env::var("MIGLINT_ORACLE_CHAINS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let root = tempfile::tempdir().unwrap();
    let mut jobs = Vec::new();
    for seed in 0..chains {
        let flavour = if seed % 2 == 0 {
            Flavour::Alembic
        } else {
            Flavour::Yoyo
        };
        let dir = root.path().join(format!("chain{seed}"));
        let ids = write_chain(&dir, seed, flavour, false);
        jobs.push((dir, flavour, ids));
    }
    let job_json: Vec<_> = jobs
        .iter()
        .map(|(dir, f, ids)| {
            serde_json::json!({
                "flavour": if *f == Flavour::Alembic { "alembic" } else { "yoyo" },
                "dir": dir,
                "revisions": ids,
            })
        })
        .collect();
    let results = common::oracle_driver(&job_json);

    let mut failures = Vec::new();
    let mut compared = 0;
    for ((dir, _, _), result) in jobs.iter().zip(&results) {
        let settings = Settings::defaults(dir.clone());
        compared += compare_steps(dir, result, &settings, &mut failures, |ours, theirs| {
            (ours.clone(), normalize_driver(theirs))
        });
    }
    fail_keeping_chains(root, &failures, compared, "schema comparisons");
    eprintln!("oracle: {chains} chains, {compared} schema comparisons, all equal");
}

/// Lints `dir` with `settings` and compares miglint's schema after each
/// step with the one the real tool reported in `result` (both through
/// `shape`); what differs goes to `failures`. Returns how many steps were
/// compared.
fn compare_steps(
    dir: &Path,
    result: &serde_json::Value,
    settings: &Settings,
    failures: &mut Vec<String>,
    shape: impl Fn(&serde_json::Value, &serde_json::Value) -> (serde_json::Value, serde_json::Value),
) -> usize {
    if let Some(e) = result.get("error") {
        failures.push(format!(
            "{}: the real tool refused the chain: {e}",
            dir.display()
        ));
        return 0;
    }
    let discovery = miglint::project::discover::discover(settings, &[dir.to_path_buf()]).unwrap();
    let loaded =
        miglint::analysis::analyse(settings, discovery, miglint::analysis::Wanted::default());
    let set = &loaded.sets[0];
    if let Some(e) = set.replay.events.first() {
        failures.push(format!(
            "{}: replay meets `{:?}` on a chain the real tool runs",
            dir.display(),
            e.fact
        ));
    }
    let mut compared = 0;
    for step in result["steps"].as_array().unwrap() {
        let at = step["at"].as_str().unwrap();
        let ours = replayed_at(set, at);
        let (ours, theirs) = shape(&ours, &step["schema"]);
        compared += 1;
        if ours != theirs {
            failures.push(format!(
                "{} ({} to {at}):\n  real: {theirs}\n  ours: {ours}",
                dir.display(),
                step["way"]
            ));
        }
    }
    compared
}

/// miglint's schema facts after revision `at` of `set` (`base`: before
/// the first).
fn replayed_at(set: &miglint::analysis::SetAnalysis, at: &str) -> serde_json::Value {
    if at == "base" {
        facts(&Schema::default())
    } else {
        facts(&miglint::schema::replay::replay_until(set, &set.start, Some(at)).schema)
    }
}

/// Fails with the first differences, keeping the chains for inspection.
fn fail_keeping_chains(root: tempfile::TempDir, failures: &[String], compared: usize, what: &str) {
    assert!(compared > 0);
    if !failures.is_empty() {
        let kept = root.keep();
        panic!(
            "{} of {compared} {what} differ (chains kept in {}):\n{}",
            failures.len(),
            kept.display(),
            failures
                .iter()
                .take(8)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// Runs the driver on `(dir, flavour, revisions)` jobs; returns its results.
fn run_driver(jobs: &[(std::path::PathBuf, &str, Vec<String>)]) -> Vec<serde_json::Value> {
    let job_json: Vec<_> = jobs
        .iter()
        .map(|(dir, f, ids)| serde_json::json!({"flavour": f, "dir": dir, "revisions": ids}))
        .collect();
    common::oracle_driver(&job_json)
}

#[test]
fn what_the_real_tools_refuse_miglint_flags_with_the_matching_rule() {
    let root = tempfile::tempdir().unwrap();
    // A row exists before the change, as in production.
    let users = "op.create_table(\"users\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"email\", sa.String(), nullable=True))\n    op.create_index(\"ix_users_email\", \"users\", [\"email\"])\n    op.execute(\"INSERT INTO users (id) VALUES (1)\")";
    let alembic_cases: &[(&str, &str, &str)] = &[
        (
            "batch-mode",
            "op.alter_column(\"users\", \"email\", nullable=False, existing_type=sa.String())",
            "pass",
        ),
        (
            "not-null-default",
            "op.add_column(\"users\", sa.Column(\"nick\", sa.String(), nullable=False))",
            "pass",
        ),
        ("batch-mode", "op.drop_column(\"users\", \"email\")", "pass"),
        (
            "schema-consistency",
            "with op.batch_alter_table(\"users\") as batch_op:\n        batch_op.drop_column(\"email\")",
            "pass",
        ),
        (
            "schema-consistency",
            "op.drop_index(\"ix_users_nope\", table_name=\"users\")",
            "pass",
        ),
        (
            "sqlite-exec",
            "op.add_column(\"users\", sa.Column(\"seen_at\", sa.DateTime(), nullable=True, server_default=sa.func.now()))",
            "pass",
        ),
    ];
    let sql_cases: &[(&str, &str)] = &[
        (
            "not-null-default",
            "ALTER TABLE users ADD COLUMN nick TEXT NOT NULL",
        ),
        (
            "schema-consistency",
            "CREATE INDEX IF NOT EXISTS idx_users_nick ON users(nick)",
        ),
        ("schema-consistency", "DROP INDEX idx_users_nope"),
        (
            "sqlite-alter-support",
            "ALTER TABLE users DROP COLUMN email",
        ),
        (
            "sqlite-exec",
            "INSERT INTO users (id, mail) VALUES (1, 'a')",
        ),
        (
            "sqlite-exec",
            "ALTER TABLE users ADD COLUMN seen_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now'))",
        ),
    ];
    let mut jobs = Vec::new();
    let mut expected = Vec::new();
    for (i, (rule, up, down)) in alembic_cases.iter().enumerate() {
        let dir = root.path().join(format!("alembic{i}"));
        let rev = |n: u32, up: &str, down: &str| {
            let parent = if n == 1 {
                "None".to_string()
            } else {
                format!("\"{:03}\"", n - 1)
            };
            format!(
                "from alembic import op\nimport sqlalchemy as sa\n\nrevision = \"{n:03}\"\ndown_revision = {parent}\n\n\ndef upgrade() -> None:\n    {up}\n\n\ndef downgrade() -> None:\n    {down}\n"
            )
        };
        for (path, text) in [
            (
                "alembic.ini",
                "[alembic]\nscript_location = migrations\n".to_string(),
            ),
            ("migrations/env.py", ENV_PY.to_string()),
            (
                "migrations/versions/001_users.py",
                rev(1, users, "op.drop_table(\"users\")"),
            ),
            ("migrations/versions/002_change.py", rev(2, up, down)),
        ] {
            let p = dir.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        jobs.push((
            dir.clone(),
            "alembic",
            vec!["001".to_string(), "002".to_string()],
        ));
        expected.push((dir, *rule));
    }
    for (i, (rule, sql)) in sql_cases.iter().enumerate() {
        let dir = root.path().join(format!("yoyo{i}"));
        let step = |apply: &str, rollback: &str| {
            format!(
                "from yoyo import step\n\nsteps = [step(\"\"\"{apply}\"\"\", \"\"\"{rollback}\"\"\")]\n"
            )
        };
        for (path, text) in [
            (
                "migrations/0001_users.py",
                step(
                    "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, email TEXT); CREATE INDEX IF NOT EXISTS idx_users_email ON users(email); INSERT INTO users (id) VALUES (1)",
                    "DROP TABLE IF EXISTS users",
                ),
            ),
            ("migrations/0002_change.py", step(sql, "SELECT 1")),
        ] {
            let p = dir.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        jobs.push((
            dir.clone(),
            "yoyo",
            vec!["0001_users".to_string(), "0002_change".to_string()],
        ));
        expected.push((dir, *rule));
    }
    let results = run_driver(&jobs);
    let mut failures = Vec::new();
    for ((dir, rule), result) in expected.iter().zip(&results) {
        let refused = result.get("error").and_then(|e| e.as_str());
        let Some(refusal) = refused else {
            failures.push(format!(
                "{}: the real tool accepted it; this case proves nothing",
                dir.display()
            ));
            continue;
        };
        let settings = Settings::defaults(dir.clone());
        let rules = miglint::rules::RuleSet::build(&settings, &[], &[]).unwrap();
        let discovery =
            miglint::project::discover::discover(&settings, std::slice::from_ref(dir)).unwrap();
        let outcome = miglint::commands::lint::run(&settings, &rules, discovery);
        if !outcome.diagnostics.iter().any(|d| d.rule == *rule) {
            let found: Vec<_> = outcome.diagnostics.iter().map(|d| d.rule).collect();
            failures.push(format!(
                "{}: the real tool refused it ({}) but miglint did not raise {rule}; it raised {found:?}",
                dir.display(),
                refusal.lines().next().unwrap_or("")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What `after` (a schema the driver dumped) changed from `before`, other
/// than columns and indexes it added: the fixes add nothing else.
fn beyond_added(before: &serde_json::Value, after: &serde_json::Value) -> Option<String> {
    if before["tables"] != after["tables"] {
        return Some(format!(
            "tables {} -> {}",
            before["tables"], after["tables"]
        ));
    }
    let list = |v: &serde_json::Value, k: &str| v[k].as_array().cloned().unwrap_or_default();
    let after_columns = list(after, "columns");
    for c in list(before, "columns") {
        let same = |a: &serde_json::Value| a[0] == c[0] && a[1] == c[1];
        match after_columns.iter().find(|a| same(a)) {
            None => return Some(format!("column {}.{} is gone", c[0], c[1])),
            Some(a) if *a != c => return Some(format!("column {c} -> {a}")),
            Some(_) => {}
        }
    }
    let after_indexes = list(after, "indexes");
    for ix in list(before, "indexes") {
        if !after_indexes.contains(&ix) {
            return Some(format!("index {ix} is gone or changed"));
        }
    }
    (normalize_driver(before)["fks"] != normalize_driver(after)["fks"])
        .then(|| "foreign keys differ".to_string())
}

/// The number after `prefix` in `text` (`Fixed 3 findings`), or 0.
fn count_before(text: &str, prefix: &str) -> usize {
    text.lines()
        .find_map(|l| {
            let rest = &l[l.find(prefix)? + prefix.len()..];
            rest.split(' ').next()?.parse().ok()
        })
        .unwrap_or(0)
}

/// `--fix` on generated chains whose migrations are all committed (a share
/// of them rebuild tables by copy): plain `--fix` changes no file and says
/// how many unsafe fixes exist; with `--unsafe-fixes`, every chain the real
/// tool applied before still applies, up to head and back, with the same
/// schema at every step but for the columns and indexes the fixes add.
/// `MIGLINT_ORACLE_FIX_CHAINS` sets how many chains run (default 40).
#[test]
fn fixed_generated_chains_still_apply_with_the_real_tools() {
    let chains: u64 = std::env::var("MIGLINT_ORACLE_FIX_CHAINS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let root = tempfile::tempdir().unwrap();
    let mut jobs = Vec::new();
    for seed in 0..chains {
        let (flavour, name) = if seed % 2 == 0 {
            (Flavour::Alembic, "alembic")
        } else {
            (Flavour::Yoyo, "yoyo")
        };
        let dir = root.path().join(format!("fix{seed}"));
        let ids = write_chain(&dir, 10_000 + seed, flavour, seed % 4 < 2);
        std::fs::write(dir.join(".gitignore"), "oracle.db\n.miglint_cache/\n").unwrap();
        common::git(&dir, &["init", "-q"]);
        common::git(&dir, &["add", "-A"]);
        common::git(&dir, &["commit", "-q", "-m", "released"]);
        jobs.push((dir, name, ids));
    }
    let before = run_driver(&jobs);

    let (mut applied, mut offered) = (0, 0);
    let mut dropped = Vec::new();
    let mut failures = Vec::new();
    for (dir, _, _) in &jobs {
        let _ = std::fs::remove_file(dir.join("oracle.db"));
        let lint = |args: &[&str]| {
            let out = common::miglint()
                .current_dir(dir)
                .args(["lint", "--no-cache", "--quiet"])
                .args(args)
                .output()
                .unwrap();
            (
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        };
        // Safe by default: all of it is history.
        let (_, notes) = lint(&["--fix"]);
        let status = std::process::Command::new("git")
            .current_dir(dir)
            .args(["status", "--porcelain"])
            .output()
            .unwrap();
        if !status.stdout.is_empty() {
            failures.push(format!(
                "{}: --fix edited history:\n{}",
                dir.display(),
                String::from_utf8_lossy(&status.stdout)
            ));
        }
        let unsafe_left = notes
            .lines()
            .filter(|l| l.contains("would edit migrations already applied"))
            .map(|l| count_before(l, "note: "))
            .sum::<usize>();
        offered += unsafe_left;
        let (out, notes) = lint(&["--fix", "--unsafe-fixes"]);
        let fixed = count_before(&out, "Fixed ");
        if fixed != unsafe_left {
            let why: Vec<&str> = notes
                .lines()
                .filter(|l| l.contains("not applied"))
                .collect();
            if why.is_empty() {
                failures.push(format!(
                    "{}: {unsafe_left} unsafe fixes offered, {fixed} applied, no note says why",
                    dir.display()
                ));
            }
        }
        applied += fixed;
        dropped.extend(
            notes
                .lines()
                .filter(|l| l.contains("not applied: with it"))
                .map(|l| format!("{}: {l}", dir.display())),
        );
    }
    let after = run_driver(&jobs);

    for (((dir, _, _), b), a) in jobs.iter().zip(&before).zip(&after) {
        let steps = |r: &serde_json::Value| r["steps"].as_array().cloned().unwrap_or_default();
        let (b_steps, a_steps) = (steps(b), steps(a));
        if a_steps.len() < b_steps.len() {
            failures.push(format!(
                "{}: {} steps applied before the fixes, {} after: {}",
                dir.display(),
                b_steps.len(),
                a_steps.len(),
                a["error"]
            ));
            continue;
        }
        for (sb, sa) in b_steps.iter().zip(&a_steps) {
            if let Some(problem) = beyond_added(&sb["schema"], &sa["schema"]) {
                failures.push(format!(
                    "{} ({} to {}): {problem}",
                    dir.display(),
                    sb["way"],
                    sb["at"]
                ));
                break;
            }
        }
    }
    assert!(applied > 0, "no fix was applied: this proves nothing");
    if !failures.is_empty() {
        let kept = root.keep();
        panic!(
            "{} failures (chains kept in {}):\n{}",
            failures.len(),
            kept.display(),
            failures.join("\n")
        );
    }
    eprintln!(
        "fix oracle: {chains} chains, {offered} unsafe fixes offered, {applied} applied, {} dropped by the chain check",
        dropped.len()
    );
    for d in &dropped {
        eprintln!("  {d}");
    }
}

/// Writes a generated chain in `tool`'s layout under `dir/migrations`;
/// returns each migration's version and files (relative to that folder).
fn write_tool_chain(dir: &Path, seed: u64, tool: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut g = Gen {
        rng: Rng::new(seed),
        flavour: Flavour::Yoyo,
        tables: Vec::new(),
        n: 0,
        rebuilds: false,
    };
    let length = 3 + g.rng.below(6);
    let folder = dir.join("migrations");
    std::fs::create_dir_all(&folder).unwrap();
    if tool == "sqlx" {
        // sqlx folders live in a crate: miglint tells them by the Cargo.toml.
        std::fs::write(
            dir.join("Cargo.toml"),
            "[package]\nname = \"chain\"\nversion = \"0.1.0\"\n",
        )
        .unwrap();
    }
    let (mut versions, mut units) = (Vec::new(), Vec::new());
    for i in 1..=length {
        let m = g.migration();
        let sql = |lines: &[String]| lines.join(";\n") + ";\n";
        let stamp = format!("2024010100{i:04}");
        let (version, files): (String, Vec<(String, String)>) = match tool {
            "sqlx" => (
                stamp.clone(),
                vec![
                    (format!("{stamp}_m{i}.up.sql"), sql(&m.up)),
                    (format!("{stamp}_m{i}.down.sql"), sql(&m.down)),
                ],
            ),
            "diesel" => {
                let name = format!("2024-01-01-00{i:04}_m{i}");
                (
                    stamp.clone(),
                    vec![
                        (format!("{name}/up.sql"), sql(&m.up)),
                        (format!("{name}/down.sql"), sql(&m.down)),
                    ],
                )
            }
            "refinery" => (i.to_string(), vec![(format!("V{i}__m{i}.sql"), sql(&m.up))]),
            "dbmate" => (
                stamp.clone(),
                vec![(
                    format!("{stamp}_m{i}.sql"),
                    format!(
                        "-- migrate:up\n{}\n-- migrate:down\n{}",
                        sql(&m.up),
                        sql(&m.down)
                    ),
                )],
            ),
            other => panic!("no layout for {other}"),
        };
        for (rel, text) in &files {
            let path = folder.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        versions.push(version);
        units.push(files.into_iter().map(|(rel, _)| rel).collect());
    }
    (versions, units)
}

#[test]
fn replay_matches_the_sql_folder_tools_on_generated_chains() {
    let per_tool: u64 = std::env::var("MIGLINT_SQL_TOOL_CHAINS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let root = tempfile::tempdir().unwrap();
    let mut jobs = Vec::new();
    let mut job_json = Vec::new();
    for (tool, program) in sql_tool_programs() {
        for seed in 0..per_tool {
            let dir = root.path().join(format!("{tool}{seed}"));
            let (versions, units) = write_tool_chain(&dir, 1000 + seed, tool);
            job_json.push(serde_json::json!({
                "flavour": tool, "bin": program, "dir": dir,
                "revisions": versions, "units": units,
            }));
            jobs.push((dir, tool));
        }
    }
    let results = common::oracle_driver(&job_json);

    let mut failures = Vec::new();
    let mut compared: std::collections::BTreeMap<&str, usize> = Default::default();
    for ((dir, tool), result) in jobs.iter().zip(&results) {
        if let Some(e) = result.get("error") {
            failures.push(format!(
                "{}: the real {tool} refused the chain: {e}",
                dir.display()
            ));
            continue;
        }
        let settings = Settings::defaults(dir.clone());
        let discovery =
            miglint::project::discover::discover(&settings, std::slice::from_ref(dir)).unwrap();
        let loaded =
            miglint::analysis::analyse(&settings, discovery, miglint::analysis::Wanted::default());
        assert_eq!(loaded.sets.len(), 1, "{}: one set", dir.display());
        let set = &loaded.sets[0];
        assert_eq!(
            set.flavour.name(),
            *tool,
            "{}: read as {tool}",
            dir.display()
        );
        for step in result["steps"].as_array().unwrap() {
            let at = step["at"].as_str().unwrap();
            let ours = replayed_at(set, at);
            let theirs = normalize_driver(&step["schema"]);
            *compared.entry(tool).or_default() += 1;
            if ours != theirs {
                failures.push(format!(
                    "{} ({} to {at}):\n  real: {theirs}\n  ours: {ours}",
                    dir.display(),
                    step["way"]
                ));
            }
        }
    }
    assert_eq!(compared.len(), 4, "every tool compared: {compared:?}");
    if !failures.is_empty() {
        let kept = root.keep();
        panic!(
            "{} schema comparisons differ (chains kept in {}):\n{}",
            failures.len(),
            kept.display(),
            failures
                .iter()
                .take(8)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    eprintln!("sql-folder oracle: {per_tool} chains per tool, comparisons {compared:?}, all equal");
}

/// Runs `program args` in `dir`; returns (succeeded, stderr + stdout).
fn run_tool(program: &Path, dir: &Path, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(program)
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run the migration tool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    (out.status.success(), text)
}

/// The rules `miglint lint` raises on `dir`.
fn rules_raised(dir: &Path) -> std::collections::BTreeSet<String> {
    let out = common::miglint()
        .args(["lint", "--format", "json", "--no-cache"])
        .arg(dir)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn what_the_sql_folder_tools_refuse_miglint_flags_with_the_matching_rule() {
    let programs: std::collections::BTreeMap<&str, std::path::PathBuf> =
        sql_tool_programs().into_iter().collect();
    let root = tempfile::tempdir().unwrap();
    let table = "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT, created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now')), updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now')));\nINSERT INTO notes (id, body) VALUES (1, 'a');\n";
    let drop = "DROP TABLE IF EXISTS notes;\n";
    let other = "CREATE TABLE IF NOT EXISTS tags (id INTEGER PRIMARY KEY, created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now')), updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now')));\n";
    let seen = "ALTER TABLE notes ADD COLUMN seen_at TEXT DEFAULT CURRENT_TIMESTAMP;\n";
    // (tool, rule, files, what the tool is run to do, what it must have done)
    type Case<'a> = (&'a str, &'a str, Vec<(&'a str, String)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "sqlx",
            "version-order",
            vec![
                ("migrations/1_notes.sql", table.into()),
                ("migrations/1_tags.sql", other.into()),
            ],
            "run",
        ),
        (
            "diesel",
            "version-order",
            vec![
                ("migrations/2024-01-01-000000_notes/up.sql", table.into()),
                ("migrations/2024-01-01-000000_notes/down.sql", drop.into()),
                ("migrations/2024-01-01-000000_tags/up.sql", other.into()),
                (
                    "migrations/2024-01-01-000000_tags/down.sql",
                    "DROP TABLE IF EXISTS tags;\n".into(),
                ),
            ],
            "run-both-tables",
        ),
        (
            "diesel",
            "rollback-required",
            vec![("migrations/2024-01-01-000000_notes/up.sql", table.into())],
            "revert",
        ),
        (
            "dbmate",
            "rollback-required",
            vec![(
                "migrations/20240101000000_notes.sql",
                format!("-- migrate:up\n{table}"),
            )],
            "run",
        ),
        (
            "sqlx",
            "rollback-required",
            vec![
                ("migrations/1_notes.up.sql", table.into()),
                ("migrations/1_notes.down.sql", drop.into()),
                ("migrations/2_tags.up.sql", other.into()),
            ],
            "revert-latest",
        ),
        (
            "sqlx",
            "pragma-in-transaction",
            vec![
                ("migrations/1_notes.sql", format!("{table}CREATE TABLE IF NOT EXISTS tags (id INTEGER PRIMARY KEY, note_id INTEGER REFERENCES notes (id) ON DELETE CASCADE, created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now')), updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now')));\nINSERT INTO tags (id, note_id) VALUES (1, 1);\n")),
                ("migrations/2_rebuild.sql", "PRAGMA foreign_keys = OFF;\nCREATE TABLE IF NOT EXISTS notes_new (id INTEGER PRIMARY KEY, body TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now')), updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now')));\nINSERT INTO notes_new (id, body, created_at, updated_at) SELECT id, COALESCE(body, ''), created_at, updated_at FROM notes;\nDROP TABLE IF EXISTS notes;\nALTER TABLE notes_new RENAME TO notes;\nPRAGMA foreign_keys = ON;\n".into()),
            ],
            "run-rows-kept",
        ),
        (
            "diesel",
            "sqlite-exec",
            vec![
                ("migrations/2024-01-01-000000_notes/up.sql", table.into()),
                ("migrations/2024-01-01-000000_notes/down.sql", drop.into()),
                ("migrations/2024-01-02-000000_seen/up.sql", seen.into()),
                (
                    "migrations/2024-01-02-000000_seen/down.sql",
                    "ALTER TABLE notes DROP COLUMN seen_at;\n".into(),
                ),
            ],
            "run",
        ),
    ];
    let mut failures = Vec::new();
    for (i, (tool, rule, files, action)) in cases.iter().enumerate() {
        let dir = root.path().join(format!("{tool}{i}"));
        for (path, text) in files {
            let full = dir.join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, text).unwrap();
        }
        if *tool == "sqlx" {
            std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"app\"\n").unwrap();
        }
        let db = dir.join("app.db");
        let db = db.to_str().unwrap();
        let program = &programs[tool];
        let (up, down): (Vec<String>, Vec<String>) = match *tool {
            "sqlx" => (
                [
                    "migrate",
                    "run",
                    "--no-dotenv",
                    "--source",
                    "migrations",
                    "--database-url",
                ]
                .map(String::from)
                .into_iter()
                .chain([format!("sqlite://{db}?mode=rwc")])
                .collect(),
                [
                    "migrate",
                    "revert",
                    "--no-dotenv",
                    "--source",
                    "migrations",
                    "--database-url",
                ]
                .map(String::from)
                .into_iter()
                .chain([format!("sqlite://{db}")])
                .collect(),
            ),
            "diesel" => (
                [
                    "migration",
                    "run",
                    "--migration-dir",
                    "migrations",
                    "--database-url",
                    db,
                ]
                .map(String::from)
                .into(),
                [
                    "migration",
                    "revert",
                    "--migration-dir",
                    "migrations",
                    "--database-url",
                    db,
                ]
                .map(String::from)
                .into(),
            ),
            _ => (
                [
                    "--url",
                    &format!("sqlite:{db}"),
                    "--migrations-dir",
                    "migrations",
                    "--no-dump-schema",
                    "up",
                ]
                .map(String::from)
                .into(),
                Vec::new(),
            ),
        };
        fn strs(v: &[String]) -> Vec<&str> {
            v.iter().map(String::as_str).collect()
        }
        let (ok, said) = run_tool(program, &dir, &strs(&up));
        let tables = || -> Vec<String> {
            rusqlite::Connection::open(db)
                .unwrap()
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('notes', 'tags') ORDER BY name")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        // What the real tool did wrong, in its own words or by its effect.
        let refused = match *action {
            "run" => (!ok).then(|| said.clone()),
            "run-both-tables" => (ok && tables().len() < 2)
                .then(|| format!("ran, but the database holds only {:?}", tables())),
            "run-rows-kept" => {
                let rows: i64 = rusqlite::Connection::open(db)
                    .unwrap()
                    .query_row("SELECT count(*) FROM tags", [], |r| r.get(0))
                    .unwrap();
                (ok && rows == 0).then(|| "ran, and the rows of `tags` are gone".to_string())
            }
            "revert" | "revert-latest" => {
                assert!(ok, "{tool} case {i}: the upgrade should run: {said}");
                let (ok, said) = run_tool(program, &dir, &strs(&down));
                if *action == "revert" {
                    (!ok).then_some(said)
                } else {
                    // sqlx reverts the newest migration it can: not the newest one.
                    (ok && tables().contains(&"tags".to_string())
                        && !tables().contains(&"notes".to_string()))
                    .then(|| format!("reverted the migration before the newest: {said}"))
                }
            }
            other => panic!("unknown action {other}"),
        };
        let Some(refused) = refused else {
            failures.push(format!(
                "{tool} case {i} ({rule}): the real tool did nothing wrong: {said}"
            ));
            continue;
        };
        let raised = rules_raised(&dir);
        if !raised.contains(*rule) {
            failures.push(format!(
                "{tool} case {i}: the real tool: {}; miglint raised {raised:?}, not {rule}",
                refused.trim()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The facts PostgreSQL is compared on: columns without their type and
/// default, which PostgreSQL spells its own way (`character varying`,
/// `'x'::character varying`).
fn without_types(facts: &serde_json::Value) -> serde_json::Value {
    let mut facts = facts.clone();
    if let Some(columns) = facts["columns"].as_array_mut() {
        for c in columns.iter_mut() {
            c[2] = serde_json::Value::Null;
            c[4] = serde_json::Value::Null;
        }
        columns.sort_by_key(|c| c.to_string());
    }
    facts
}

/// The generated Alembic and yoyo chains on a real PostgreSQL server, one
/// revision at a time up and back down: miglint, linting them as
/// PostgreSQL, builds the tables, columns, nullability, primary keys,
/// indexes and foreign keys the server holds after every step.
#[test]
fn replay_matches_real_postgres_on_generated_alembic_and_yoyo_chains() {
    let chains: u64 = std::env::var("MIGLINT_POSTGRES_CHAINS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let server = common::Postgres::start();
    let root = tempfile::tempdir().unwrap();
    let mut jobs = Vec::new();
    for seed in 0..chains {
        let dir = root.path().join(format!("pg{seed}"));
        let flavour = if seed % 2 == 0 {
            Flavour::Alembic
        } else {
            Flavour::Yoyo
        };
        let ids = write_chain(&dir, seed, flavour, false);
        if flavour == Flavour::Yoyo {
            jobs.push((dir, "yoyo", ids));
            continue;
        }
        // PostgreSQL takes no integer default for a boolean.
        for entry in std::fs::read_dir(dir.join("migrations/versions")).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let text = text.replace(
                "sa.Boolean(), nullable=False, server_default=sa.text(\"0\")",
                "sa.Boolean(), nullable=False, server_default=sa.false()",
            );
            std::fs::write(&path, text).unwrap();
        }
        jobs.push((dir, "alembic", ids));
    }
    let job_json: Vec<_> = jobs
        .iter()
        .map(|(dir, flavour, ids)| {
            serde_json::json!({
                "flavour": flavour,
                "dir": dir,
                "revisions": ids,
                "postgres": server.socket(),
            })
        })
        .collect();
    let results = common::oracle_driver(&job_json);

    let mut failures = Vec::new();
    let mut compared = 0;
    for ((dir, _, _), result) in jobs.iter().zip(&results) {
        let mut settings = Settings::defaults(dir.clone());
        settings.dialect = Some(miglint::project::config::Dialect::Postgresql);
        compared += compare_steps(dir, result, &settings, &mut failures, |ours, theirs| {
            (without_types(ours), without_types(theirs))
        });
    }
    fail_keeping_chains(root, &failures, compared, "PostgreSQL schema comparisons");
    eprintln!("postgres oracle: {chains} chains, {compared} schema comparisons, all equal");
}

/// Random revision graphs with branches and merges, their file names in
/// no particular order: real Alembic applies them one revision at a time in
/// its own order (`walk_revisions`), and miglint replays them in the same
/// order. Sibling branches that touch one table only agree with the
/// database when they run as Alembic runs them.
#[test]
fn alembic_applies_branches_in_the_order_miglint_replays_them() {
    let root = tempfile::tempdir().unwrap();
    let mut jobs = Vec::new();
    for seed in 0..30u64 {
        let mut rng = Rng::new(seed + 1000);
        let dir = root.path().join(format!("graph{seed}"));
        std::fs::create_dir_all(dir.join("migrations/versions")).unwrap();
        std::fs::write(
            dir.join("alembic.ini"),
            "[alembic]\nscript_location = migrations\n",
        )
        .unwrap();
        std::fs::write(dir.join("migrations/env.py"), ENV_PY).unwrap();
        let count = 4 + rng.below(10);
        let mut heads: Vec<String> = Vec::new();
        for i in 0..count {
            let id = format!("r{i:02}");
            let parents: Vec<String> = if heads.is_empty() {
                Vec::new()
            } else if heads.len() >= 2 && rng.chance(0.4) {
                // A merge of two heads, in either order.
                let a = heads.remove(rng.below(heads.len()));
                let b = heads.remove(rng.below(heads.len()));
                vec![a, b]
            } else if rng.chance(0.35) {
                // A new branch from any earlier revision.
                vec![format!("r{:02}", rng.below(i))]
            } else {
                let at = rng.below(heads.len());
                vec![heads.remove(at)]
            };
            heads.retain(|h| !parents.contains(h));
            heads.push(id.clone());
            let down = match parents.as_slice() {
                [] => "None".to_string(),
                [one] => format!("\"{one}\""),
                many => format!(
                    "({})",
                    many.iter()
                        .map(|p| format!("\"{p}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            // File names sort in another order than the revisions were made.
            let file = format!("{:04x}_{id}.py", rng.below(0xffff));
            std::fs::write(
                dir.join("migrations/versions").join(file),
                format!(
                    "from alembic import op\n\nrevision = \"{id}\"\ndown_revision = {down}\n\n\ndef upgrade():\n    op.execute(\"SELECT 1\")\n\n\ndef downgrade():\n    op.execute(\"SELECT 1\")\n"
                ),
            )
            .unwrap();
        }
        jobs.push(dir);
    }
    // No "revisions": the driver takes Alembic's own order.
    let job_json: Vec<_> = jobs
        .iter()
        .map(|dir| serde_json::json!({"flavour": "alembic", "dir": dir}))
        .collect();
    let results = common::oracle_driver(&job_json);
    let mut failures = Vec::new();
    for (dir, result) in jobs.iter().zip(&results) {
        let theirs: Vec<&str> = result["steps"]
            .as_array()
            .unwrap_or_else(|| panic!("{}: {result}", dir.display()))
            .iter()
            .filter(|s| s["way"] == "up")
            .map(|s| s["at"].as_str().unwrap())
            .collect();
        let settings = Settings::defaults(dir.clone());
        let discovery =
            miglint::project::discover::discover(&settings, &[dir.to_path_buf()]).unwrap();
        let loaded =
            miglint::analysis::analyse(&settings, discovery, miglint::analysis::Wanted::default());
        let ours: Vec<&str> = loaded.sets[0].ordered().map(|m| m.id_str()).collect();
        if ours != theirs {
            failures.push(format!(
                "{}:\n  alembic: {theirs:?}\n  miglint: {ours:?}",
                dir.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
