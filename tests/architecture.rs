//! The code is laid out by stage, and data flows one way: each stage may
//! use the shared leaves and the stages before it, never a later one, and
//! no two modules use each other, directly or through others.
//!
//! The module graph is read from the source itself: every `crate::` path
//! (in `use` lines and inline) and every `super::` path, resolved to the
//! longest module it names. A new top-level module must be given a stage
//! here, and the README's architecture section names the same order.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules by stage, in the order data flows. Leaves are shared
/// by every stage and use only each other.
const STAGES: &[(&str, &[&str])] = &[
    (
        "leaves",
        &["source", "diagnostic", "paths", "write", "edit", "sqlite"],
    ),
    ("migration model", &["migration", "layout"]),
    ("project", &["project"]),
    ("load", &["load"]),
    ("app", &["app"]),
    ("chain", &["chain"]),
    ("schema", &["schema"]),
    ("analysis", &["analysis"]),
    ("rules", &["rules"]),
    ("suppress", &["suppress"]),
    ("report", &["report"]),
    ("commands", &["commands"]),
    ("cli", &["cli"]),
];

/// The crate roots: they declare the modules and may name any of them.
const ROOTS: &[&str] = &["lib.rs", "main.rs"];

struct Graph {
    /// Module path (`schema::replay`) → file.
    modules: BTreeMap<String, PathBuf>,
    /// Module → the modules it names.
    edges: BTreeMap<String, BTreeSet<String>>,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/schema/mod.rs` → `schema`; `src/schema/replay.rs` → `schema::replay`.
fn module_path(src: &Path, file: &Path) -> String {
    let rel = file
        .strip_prefix(src)
        .expect("under src")
        .with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts.join("::")
}

/// The text without comments and string literals, so that paths written
/// in docs or messages are not read as imports.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            i += 2;
            while i < b.len() && !b[i..].starts_with(b"*/") {
                i += 1;
            }
            i += 2;
        } else if b[i] == b'"' {
            // Raw strings (r"..", r#".."#) hold no paths that matter here
            // and are skipped like plain ones; escapes are honoured.
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && i + 2 < b.len() && (b[i + 2] == b'\'' || b[i + 1] == b'\\') {
            // A char literal ('"', '\''), not a lifetime.
            let end = text[i + 1..]
                .find('\'')
                .map(|e| i + 2 + e)
                .unwrap_or(b.len());
            let end = if b[i + 1] == b'\\' {
                text[i + 3..]
                    .find('\'')
                    .map(|e| i + 4 + e)
                    .unwrap_or(b.len())
            } else {
                end
            };
            i = end;
            out.push_str("' '");
        } else {
            let ch = text[i..].chars().next().expect("in bounds");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// Every path a file names, as `crate::a::b` or `super::...` with
/// `{a, b::c}` groups expanded.
fn named_paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(start) {
            let begin = from + at;
            from = begin + start.len();
            let before = code[..begin].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            expand(&code[begin..], "", &mut out);
        }
    }
    out
}

/// Reads one path at the start of `text`, appending it (and the members of
/// a `{...}` group) to `out` behind `prefix`.
fn expand(text: &str, prefix: &str, out: &mut Vec<String>) {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(text.len());
    let path = format!("{prefix}{}", &text[..end]);
    let path = path.trim_end_matches(':').to_string();
    if text[end..].starts_with('{') {
        let group = &text[end + 1..];
        let mut depth = 0;
        let mut item_start = 0;
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    expand_item(&group[item_start..i], &path, out);
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand_item(&group[item_start..i], &path, out);
                    item_start = i + 1;
                }
                _ => {}
            }
        }
    }
    out.push(path);
}

fn expand_item(item: &str, base: &str, out: &mut Vec<String>) {
    let item = item.trim();
    if item.is_empty() || item == "self" || item == "*" {
        return;
    }
    expand(item, &format!("{base}::"), out);
}

/// `crate::a::b::Item` or `super::x` (seen from `module`) → the longest
/// module it names.
fn resolve(path: &str, module: &str, is_mod_file: bool, graph: &Graph) -> Option<String> {
    let mut parts: Vec<&str> = path.split("::").collect();
    let mut base: Vec<&str> = if module.is_empty() {
        Vec::new()
    } else {
        module.split("::").collect()
    };
    match parts.first() {
        Some(&"crate") => {
            parts.remove(0);
            base.clear();
        }
        Some(&"super") => {
            // In `a/mod.rs` (module `a`), `super` is the crate root; in
            // `a/b.rs` (module `a::b`), it is `a`.
            while parts.first() == Some(&"super") {
                parts.remove(0);
                if !is_mod_file || !base.is_empty() {
                    base.pop();
                }
            }
        }
        _ => return None,
    }
    let full: Vec<&str> = base.into_iter().chain(parts).collect();
    (1..=full.len())
        .rev()
        .map(|n| full[..n].join("::"))
        .find(|m| graph.modules.contains_key(m))
}

fn read_graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut graph = Graph {
        modules: BTreeMap::new(),
        edges: BTreeMap::new(),
    };
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy();
        if f.parent() == Some(src.as_path()) && ROOTS.contains(&name.as_ref()) {
            continue;
        }
        graph.modules.insert(module_path(&src, f), f.clone());
    }
    let modules: Vec<(String, PathBuf)> = graph
        .modules
        .iter()
        .map(|(m, f)| (m.clone(), f.clone()))
        .collect();
    for (module, file) in modules {
        let code = code_only(&std::fs::read_to_string(&file).expect("read"));
        let is_mod_file = file.file_name().is_some_and(|n| n == "mod.rs");
        let mut named = BTreeSet::new();
        for path in named_paths(&code) {
            if let Some(target) = resolve(&path, &module, is_mod_file, &graph)
                && target != module
                // A module may name its own children.
                && !target.starts_with(&format!("{module}::"))
            {
                named.insert(target);
            }
        }
        graph.edges.insert(module, named);
    }
    graph
}

fn top(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}

fn stage_of(module: &str) -> Option<usize> {
    STAGES
        .iter()
        .position(|(_, members)| members.contains(&top(module)))
}

#[test]
fn every_module_belongs_to_a_stage() {
    let graph = read_graph();
    let unplaced: BTreeSet<&str> = graph
        .modules
        .keys()
        .map(|m| top(m))
        .filter(|m| stage_of(m).is_none())
        .collect();
    assert!(
        unplaced.is_empty(),
        "give these modules a stage in tests/architecture.rs (and the README's architecture section): {unplaced:?}"
    );
}

#[test]
fn no_stage_uses_a_later_one() {
    let graph = read_graph();
    let mut backwards = Vec::new();
    for (from, targets) in &graph.edges {
        let (Some(a), false) = (stage_of(from), targets.is_empty()) else {
            continue;
        };
        for to in targets {
            let Some(b) = stage_of(to) else { continue };
            // Leaves use only leaves; other stages use leaves and earlier stages.
            let upward = if a == 0 { b != 0 } else { b > a };
            if upward {
                backwards.push(format!(
                    "{from} ({}) uses {to} ({})",
                    STAGES[a].0, STAGES[b].0
                ));
            }
        }
    }
    assert!(
        backwards.is_empty(),
        "imports that point to a later stage:\n  {}",
        backwards.join("\n  ")
    );
}

#[test]
fn the_module_graph_has_no_cycle() {
    let graph = read_graph();
    // Kahn's algorithm: what cannot be ordered sits on a cycle.
    let mut indegree: BTreeMap<&str, usize> =
        graph.modules.keys().map(|m| (m.as_str(), 0)).collect();
    for targets in graph.edges.values() {
        for t in targets {
            *indegree.get_mut(t.as_str()).expect("known module") += 1;
        }
    }
    let mut ready: Vec<&str> = indegree
        .iter()
        .filter(|(_, d)| **d == 0)
        .map(|(m, _)| *m)
        .collect();
    let edges: usize = graph.edges.values().map(BTreeSet::len).sum();
    // Shown with `cargo test --test architecture -- --nocapture`.
    println!("modules: {}, edges: {edges}", graph.modules.len());
    let mut placed = 0;
    while let Some(m) = ready.pop() {
        placed += 1;
        for t in &graph.edges[m] {
            let d = indegree.get_mut(t.as_str()).expect("known module");
            *d -= 1;
            if *d == 0 {
                ready.push(t);
            }
        }
    }
    let on_cycle: Vec<String> = indegree
        .iter()
        .filter(|(_, d)| **d > 0)
        .map(|(m, _)| {
            let uses: Vec<&str> = graph.edges[*m]
                .iter()
                .filter(|t| indegree[t.as_str()] > 0)
                .map(String::as_str)
                .collect();
            format!("{m} -> {}", uses.join(", "))
        })
        .collect();
    assert_eq!(
        placed,
        graph.modules.len(),
        "modules on a cycle or after one (and what they use among them):\n  {}",
        on_cycle.join("\n  ")
    );
}

/// The reader itself, on the shapes of paths the code uses.
#[test]
fn reads_grouped_nested_and_inline_paths() {
    let code = code_only(
        "use crate::a::{b, c::{d, E}, self};\nfn f() { crate::x::y(); super::z::W; }\n// crate::comment\nlet s = \"crate::string\";",
    );
    let mut paths = named_paths(&code);
    paths.sort();
    assert_eq!(
        paths,
        [
            "crate::a",
            "crate::a::b",
            "crate::a::c",
            "crate::a::c::E",
            "crate::a::c::d",
            "crate::x::y",
            "super::z::W",
        ]
    );
}
