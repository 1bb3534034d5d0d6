//! The rule docs are tests: every Bad example raises its rule (and only
//! it), every Good example raises nothing at all.

mod common;

use std::path::{Path, PathBuf};

use common::git;

use miglint::project::config::Settings;
use miglint::rules::{ALL, RuleMeta, RuleSet};

/// One `## Bad…` or `## Good…` section: its heading and its files.
struct Example {
    heading: String,
    files: Vec<(String, String)>,
}

/// Reads the sections and their ```lang title="path" code blocks.
fn examples(doc: &str) -> Vec<Example> {
    let mut out: Vec<Example> = Vec::new();
    let mut lines = doc.lines();
    let mut current: Option<Example> = None;
    while let Some(line) = lines.next() {
        if let Some(h) = line.strip_prefix("## ") {
            if let Some(ex) = current.take() {
                out.push(ex);
            }
            if h.starts_with("Bad") || h.starts_with("Good") {
                current = Some(Example {
                    heading: h.to_string(),
                    files: Vec::new(),
                });
            }
            continue;
        }
        if let Some(info) = line.strip_prefix("```")
            && let Some(ex) = current.as_mut()
            && !info.is_empty()
        {
            let title = info
                .split("title=\"")
                .nth(1)
                .and_then(|t| t.split('"').next())
                .unwrap_or_else(|| panic!("code block without title=\"path\": {line}"));
            let mut body = String::new();
            for l in lines.by_ref() {
                if l == "```" {
                    break;
                }
                body.push_str(l);
                body.push('\n');
            }
            ex.files.push((title.to_string(), body));
        }
    }
    if let Some(ex) = current {
        out.push(ex);
    }
    out
}

/// Examples with `base:<path>` files: those are committed on `main`, the
/// others written on a branch, and the binary runs with `--base main`.
fn lint_example_with_base(ex: &Example) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    for (path, body) in ex.files.iter().filter(|(p, _)| p.starts_with("base:")) {
        let full = dir.path().join(&path["base:".len()..]);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(&full, body).unwrap();
    }
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "base"]);
    git(dir.path(), &["checkout", "-q", "-b", "change"]);
    for (path, body) in ex.files.iter().filter(|(p, _)| !p.starts_with("base:")) {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(&full, body).unwrap();
    }
    let out = assert_cmd::Command::cargo_bin("miglint")
        .unwrap()
        .current_dir(dir.path())
        .env_remove("GITHUB_BASE_REF")
        .args(["lint", "--base", "main", "--format", "json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{}: {}",
                d["rule"].as_str().unwrap(),
                d["message"].as_str().unwrap()
            )
        })
        .collect()
}

fn lint_example(ex: &Example) -> Vec<String> {
    if ex.files.iter().any(|(p, _)| p.starts_with("base:")) {
        return lint_example_with_base(ex);
    }
    let dir = tempfile::tempdir().unwrap();
    for (path, body) in &ex.files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(&full, body).unwrap();
    }
    let settings = Settings::defaults(dir.path().to_path_buf());
    let rules = RuleSet::build(&settings, &[], &[]).unwrap();
    let discovery =
        miglint::project::discover::discover(&settings, &[dir.path().to_path_buf()]).unwrap();
    assert!(
        !discovery.sets.is_empty(),
        "{}: no migrations folder found",
        ex.heading
    );
    let outcome = miglint::commands::lint::run(&settings, &rules, discovery);
    outcome
        .diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.rule, d.message))
        .collect()
}

fn check_rule(meta: &RuleMeta, failures: &mut Vec<String>) {
    let id = meta.id;
    if !meta.doc.starts_with(&format!("# {id}\n")) {
        failures.push(format!("rules/{id}.md must start with `# {id}`"));
    }
    for section in ["## What it does", "## Why", "## Options"] {
        if !meta.doc.contains(section) {
            failures.push(format!("rules/{id}.md lacks {section}"));
        }
    }
    let examples = examples(meta.doc);
    if !meta.has_examples {
        if !examples.is_empty() {
            failures.push(format!("rules/{id}.md: this rule takes no examples"));
        }
        return;
    }
    for kind in ["Bad", "Good"] {
        if !examples.iter().any(|e| e.heading.starts_with(kind)) {
            failures.push(format!("rules/{id}.md has no {kind} example"));
        }
    }
    let own = format!("{id}:");
    for ex in &examples {
        if ex.files.is_empty() {
            failures.push(format!("rules/{id}.md `{}` has no code", ex.heading));
            continue;
        }
        let found = lint_example(ex);
        let problem = if ex.heading.starts_with("Bad") {
            if !found.iter().any(|f| f.starts_with(&own)) {
                Some(format!("does not raise {id}"))
            } else if !found.iter().all(|f| f.starts_with(&own)) {
                Some("raises other rules too".to_string())
            } else {
                None
            }
        } else if !found.is_empty() {
            Some("should raise nothing".to_string())
        } else {
            None
        };
        if let Some(problem) = problem {
            failures.push(format!(
                "rules/{id}.md `{}` {problem}; found {found:#?}",
                ex.heading
            ));
        }
    }
}

#[test]
fn every_rule_doc_example_behaves_as_documented() {
    let mut failures = Vec::new();
    for meta in ALL {
        check_rule(meta, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_doc_file_belongs_to_a_rule_and_every_rule_file_has_a_doc() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let docs: Vec<PathBuf> = std::fs::read_dir(root.join("rules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    for doc in &docs {
        let id = doc.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(
            miglint::rules::find(&id).is_some(),
            "rules/{id}.md has no rule in the registry"
        );
    }
    for meta in ALL {
        let file = root
            .join("src/rules")
            .join(format!("{}.rs", meta.id.replace('-', "_")));
        assert!(file.is_file(), "rule {} has no {}", meta.id, file.display());
    }
    assert_eq!(docs.len(), ALL.len());
}
