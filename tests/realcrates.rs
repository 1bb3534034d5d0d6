//! Published crates' SQLite migration folders (pinned by version and sha256
//! in `tests/realcrates/manifest.json`, downloaded into `.cache/realcrates/`,
//! never committed), run by the real tool (sqlx-cli, diesel_cli,
//! refinery_cli) one migration at a time up and, where the tool can, back
//! down, with miglint held against what the tool did: its schema must equal
//! SQLite's after every step; no `schema-consistency`, `sqlite-exec`,
//! `foreign-key-target`, `parse-error` or `internal-error` finding may sit in
//! a file the tool ran without complaint; a step the tool refuses must be
//! reported in that migration; and every finding is snapshotted, so a change
//! in noise shows in review.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use miglint::project::config::Settings;
use miglint::schema::Schema;

/// The rules that state a fact about SQLite: the real tool's success
/// contradicts them.
const SCHEMA_RULES: &[&str] = &[
    "schema-consistency",
    "sqlite-exec",
    "foreign-key-target",
    "parse-error",
    "internal-error",
];

fn fetch() -> serde_json::Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = std::env::var("MIGLINT_ORACLE_PYTHON")
        .unwrap_or_else(|_| panic!("MIGLINT_ORACLE_PYTHON is not set: run scripts/test.sh"));
    let out = std::process::Command::new(python)
        .arg(root.join("tests/realcrates/fetch.py"))
        .output()
        .expect("run fetch.py");
    assert!(
        out.status.success(),
        "fetch.py failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&std::fs::read(root.join("tests/realcrates/manifest.json")).unwrap())
        .unwrap()
}

#[test]
fn real_crates_hold_against_their_migration_tools() {
    let manifest = fetch();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let programs: BTreeMap<&str, PathBuf> = common::sql_tool_programs().into_iter().collect();
    let work = tempfile::tempdir().unwrap();

    struct Chain {
        name: String,
        dir: PathBuf,
        tool: String,
        /// Each migration's files, relative to `dir`, and the folder's migrations.
        files: Vec<Vec<String>>,
        loaded: miglint::analysis::Loaded,
    }
    let mut chains = Vec::new();
    let mut jobs = Vec::new();
    for krate in manifest["crates"].as_array().unwrap() {
        let name = format!(
            "{}-{}",
            krate["name"].as_str().unwrap(),
            krate["version"].as_str().unwrap()
        );
        let tool = krate["tool"].as_str().unwrap().to_string();
        let crate_dir = root.join(".cache/realcrates").join(&name);
        let dir = crate_dir.join(krate["dir"].as_str().unwrap());
        // Found from the crate's root, as `miglint lint` in it finds it.
        let settings = Settings::defaults(crate_dir.clone());
        let discovery =
            miglint::project::discover::discover(&settings, std::slice::from_ref(&crate_dir))
                .unwrap();
        let loaded =
            miglint::analysis::analyse(&settings, discovery, miglint::analysis::Wanted::default());
        let set = loaded
            .sets
            .iter()
            .find(|s| s.dir == dir)
            .unwrap_or_else(|| panic!("{name}: {} not found from the crate's root", dir.display()));
        assert_eq!(set.flavour.name(), tool, "{name}: read as {tool}");
        let files: Vec<Vec<String>> = set
            .ordered()
            .map(|m| {
                std::iter::once(m.file)
                    .chain(m.rollback_file)
                    .map(|id| {
                        let p = &loaded.sources.get(id).path;
                        p.strip_prefix(&dir).unwrap().to_string_lossy().into_owned()
                    })
                    .collect()
            })
            .collect();
        let versions: Vec<&str> = set.ordered().map(|m| m.id_str()).collect();
        let reversible = set.migrations.iter().any(|m| m.rollback_file.is_some());
        jobs.push(serde_json::json!({
            "flavour": tool, "bin": programs[tool.as_str()], "reversible": reversible,
            "dir": work.path().join(&name), "source": dir, "work": work.path().join(&name),
            "revisions": versions, "units": files,
        }));
        chains.push(Chain {
            name,
            dir,
            tool,
            files,
            loaded,
        });
    }
    // A downgrade the tool refuses ends its run; the migrations below it
    // are then reverted in a run of the chain that stops before it, so
    // every downgrade the tool can run is run.
    let mut runs: Vec<Vec<serde_json::Value>> = common::oracle_driver(&jobs)
        .into_iter()
        .map(|r| vec![r])
        .collect();
    loop {
        let mut follow = Vec::new();
        for (c, chain_runs) in runs.iter().enumerate() {
            let last = chain_runs.last().unwrap();
            let Some(r) = last.get("refused").filter(|r| r["way"] == "down") else {
                continue;
            };
            let all = jobs[c]["revisions"].as_array().unwrap();
            let k = all.iter().position(|v| *v == r["at"]).unwrap();
            if k == 0 {
                continue;
            }
            let mut job = jobs[c].clone();
            job["revisions"] = serde_json::json!(all[..k]);
            job["units"] = serde_json::json!(jobs[c]["units"].as_array().unwrap()[..k]);
            job["work"] = serde_json::json!(work.path().join(format!("{}-{k}", chains[c].name)));
            follow.push((c, job));
        }
        if follow.is_empty() {
            break;
        }
        let jobs: Vec<serde_json::Value> = follow.iter().map(|(_, j)| j.clone()).collect();
        for ((c, _), result) in follow.iter().zip(common::oracle_driver(&jobs)) {
            runs[*c].push(result);
        }
    }

    let mut failures = Vec::new();
    let mut report = String::new();
    for (chain, chain_runs) in chains.iter().zip(&runs) {
        let set = chain
            .loaded
            .sets
            .iter()
            .find(|s| s.dir == chain.dir)
            .unwrap();
        if let Some(r) = chain_runs
            .iter()
            .find(|r| r.get("error").is_some() && r.get("refused").is_none())
        {
            failures.push(format!("{}: the driver failed: {}", chain.name, r["error"]));
            continue;
        }
        let order: Vec<&str> = set.ordered().map(|m| m.id_str()).collect();
        let lint = common::miglint()
            .args(["lint", "--format", "json", "--no-cache"])
            .arg(&chain.dir)
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&lint.stdout).unwrap();
        let diagnostics = json["diagnostics"].as_array().unwrap();
        let migration_of = |path: &str| -> Option<(&str, bool)> {
            let rel = Path::new(path)
                .strip_prefix(&chain.dir)
                .ok()?
                .to_string_lossy()
                .into_owned();
            let i = chain.files.iter().position(|f| f.contains(&rel))?;
            let down = chain.files[i].get(1) == Some(&rel);
            Some((order[i], down))
        };
        // Downgrades miglint reports as not undoing their upgrade: after one
        // of them the database is no longer the chain's state at that
        // revision (the real tool shows what it is instead).
        let lossy: BTreeSet<&str> = diagnostics
            .iter()
            .filter(|d| d["rule"] == "downgrade-roundtrip")
            .filter_map(|d| migration_of(&root.join(d["path"].as_str().unwrap()).to_string_lossy()))
            .map(|(v, _)| v)
            .collect();
        // The schema after every step the tool ran, and which files it ran
        // without complaint.
        let (mut equal, mut compared, mut diverged) = (0, 0, None);
        let (mut ran_up, mut ran_down) = (BTreeSet::new(), BTreeSet::new());
        let mut refusals = Vec::new();
        for (j, result) in chain_runs.iter().enumerate() {
            let steps = result["steps"].as_array().unwrap();
            // How many migrations this run applied (fewer after a refusal).
            let n = steps.iter().filter(|s| s["way"] == "up").count();
            let mut run_diverged = false;
            for (i, step) in steps.iter().enumerate() {
                let at = step["at"].as_str().unwrap();
                if step["way"] == "up" {
                    ran_up.insert(order[i]);
                    if j > 0 {
                        continue;
                    }
                } else {
                    let reverted = order[2 * n - 1 - i];
                    ran_down.insert(reverted);
                    if lossy.contains(reverted) {
                        run_diverged = true;
                        diverged.get_or_insert(reverted);
                    }
                }
                if run_diverged {
                    continue;
                }
                let ours = if at == "base" {
                    common::facts(&Schema::default())
                } else {
                    common::facts(
                        &miglint::schema::replay::replay_until(set, &set.start, Some(at)).schema,
                    )
                };
                compared += 1;
                if ours == common::normalize_driver(&step["schema"]) {
                    equal += 1;
                } else if failures
                    .iter()
                    .filter(|f| f.starts_with(&chain.name))
                    .count()
                    < 2
                {
                    failures.push(format!(
                        "{} ({} to {at}): {}",
                        chain.name,
                        step["way"],
                        difference(&common::normalize_driver(&step["schema"]), &ours)
                    ));
                }
            }
            if let Some(r) = result.get("refused") {
                refusals.push((r.clone(), result["error"].clone()));
            }
        }
        let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
        for d in diagnostics {
            let rule = d["rule"].as_str().unwrap();
            *by_rule.entry(rule).or_default() += 1;
            if !SCHEMA_RULES.contains(&rule) {
                continue;
            }
            let path = root.join(d["path"].as_str().unwrap());
            if let Some((version, down)) = migration_of(&path.to_string_lossy())
                && (if down { &ran_down } else { &ran_up }).contains(version)
            {
                failures.push(format!(
                    "{}: {rule} in {} line {}, which the real {} ran: {}",
                    chain.name, d["path"], d["line"], chain.tool, d["message"]
                ));
            }
        }
        for (r, error) in &refusals {
            let version = r["at"].as_str().unwrap();
            let reported = diagnostics.iter().any(|d| {
                let path = root.join(d["path"].as_str().unwrap());
                d["severity"] == "error"
                    && migration_of(&path.to_string_lossy())
                        .is_some_and(|(v, down)| v == version && down == (r["way"] == "down"))
            });
            if !reported {
                failures.push(format!(
                    "{}: the real {} refused {} {version} ({error}), and miglint reports nothing there",
                    chain.name, chain.tool, r["way"]
                ));
            }
        }
        let _ = writeln!(
            report,
            "{} ({}, {} migrations): schema equal at {equal} of {compared} steps{}",
            chain.name,
            chain.tool,
            order.len(),
            diverged
                .map(|v| format!(
                    " (downs after {v}'s, which downgrade-roundtrip reports, not compared)"
                ))
                .unwrap_or_default(),
        );
        for (r, _) in &refusals {
            let _ = writeln!(
                report,
                "  {} refuses {} {} (miglint reports it)",
                chain.tool,
                r["way"].as_str().unwrap_or_default(),
                r["at"].as_str().unwrap_or_default()
            );
        }
        let _ = writeln!(
            report,
            "  notes: {}",
            json["notes"].as_array().map_or(0, |n| n.len())
        );
        for (rule, n) in by_rule {
            let _ = writeln!(report, "  {rule}: {n}");
        }
    }
    print!("{report}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    insta::assert_snapshot!("findings", report);
}

/// What one schema's facts hold that the other's do not, both ways.
fn difference(real: &serde_json::Value, ours: &serde_json::Value) -> String {
    let mut out = String::new();
    for key in ["tables", "columns", "indexes", "fks"] {
        let items = |v: &serde_json::Value| -> BTreeSet<String> {
            v[key]
                .as_array()
                .into_iter()
                .flatten()
                .map(|x| x.to_string())
                .collect()
        };
        let (a, b) = (items(real), items(ours));
        for x in a.difference(&b) {
            let _ = write!(out, "\n  real only {key}: {x}");
        }
        for x in b.difference(&a) {
            let _ = write!(out, "\n  ours only {key}: {x}");
        }
    }
    out
}
