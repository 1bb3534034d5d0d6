//! `sequential-numbering`: `NNN_snake_case` file names, numbered 1, 2, 3…
//! with one width, and Alembic `revision` equal to the file's number.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Context, Rule, RuleMeta, Severity};
use crate::analysis::SetAnalysis;
use crate::chain::file_number;
use crate::diagnostic::Edit;
use crate::migration::Flavour;
use crate::migration::{Migration, Named, Parents};
use crate::project::config::{ConfigError, RuleConfig, Settings, rule_options};
use crate::source::Span;

pub const META: RuleMeta = RuleMeta {
    id: "sequential-numbering",
    severity: Severity::Error,
    summary: "Migration files not named NNN_snake_case or not numbered 1, 2, 3… without gaps",
    doc: include_str!("../../rules/sequential-numbering.md"),
    has_examples: true,
    build,
};

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct SequentialNumbering {
    /// Digits in a file number; by default the width the folder already uses
    /// (the conventions start Alembic at 3 digits and yoyo at 4).
    width: Option<usize>,
}

fn build(config: Option<&RuleConfig>, _: &Settings) -> Result<Box<dyn Rule>, ConfigError> {
    let rule: SequentialNumbering = rule_options(META.id, config)?;
    if rule.width == Some(0) || rule.width.is_some_and(|w| w > 6) {
        return Err(ConfigError(format!(
            "{}: [rules.{}] width: must be between 1 and 6",
            config.map(|c| c.location.as_str()).unwrap_or("config"),
            META.id
        )));
    }
    Ok(Box::new(rule))
}

fn is_snake_case(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('_')
        && !s.ends_with('_')
        && !s.contains("__")
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn to_snake_case(s: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    out.trim_matches('_').to_string()
}

/// The width the folder already uses: the most common width among
/// zero-padded numbers (`007` says 3 digits; `1234` says nothing, it may
/// just have outgrown the padding), else the narrowest width present.
fn folder_width(set: &SetAnalysis) -> usize {
    let mut padded: BTreeMap<usize, usize> = BTreeMap::new();
    let mut narrowest = usize::MAX;
    for m in &set.migrations {
        if let Some((n, digits)) = file_number(&m.stem) {
            narrowest = narrowest.min(digits);
            if digits > n.to_string().len() {
                *padded.entry(digits).or_default() += 1;
            }
        }
    }
    let most = padded.values().copied().max().unwrap_or(0);
    padded
        .iter()
        .find(|(_, count)| **count == most)
        .map(|(w, _)| *w)
        .unwrap_or(narrowest)
}

impl Rule for SequentialNumbering {
    fn check(&self, set: &SetAnalysis, cx: &mut Context) {
        // SQL-folder tools order by their own versions: `version-order`.
        if set.numbering.is_none() || set.flavour.tool().is_some() {
            return;
        }
        let width = self.width.unwrap_or_else(|| folder_width(set));
        let mut numbers: Vec<(u64, usize)> = Vec::new();
        for (i, m) in set.migrations.iter().enumerate() {
            let file_span = Span::new(m.file, 0, 0);
            let name = cx.file_name(m.file);
            let ext = if m.flavour == Flavour::YoyoSql {
                "sql"
            } else {
                "py"
            };
            let Some((number, digits)) = file_number(&m.stem) else {
                cx.report(
                    file_span,
                    format!("file name `{name}` does not start with a sequence number"),
                )
                .help(format!(
                    "name it `{:0width$}_{}.{ext}`",
                    0,
                    to_snake_case(&m.stem)
                ));
                continue;
            };
            numbers.push((number, i));
            let desc = &m.stem[digits + 1..];
            let natural = number.to_string().len();
            if digits != width && !(digits > width && natural == digits) {
                cx.report(
                    file_span,
                    format!(
                        "`{name}` uses {digits}-digit numbering; this folder uses {width} digits"
                    ),
                )
                .help(format!("rename it to `{number:0width$}_{desc}.{ext}`"));
            }
            if !is_snake_case(desc) {
                cx.report(
                    file_span,
                    format!("`{name}`: the description after the number is not snake_case"),
                )
                .help(format!(
                    "rename it to `{}_{}.{ext}`",
                    &m.stem[..digits],
                    to_snake_case(desc)
                ));
            }
            if m.flavour == Flavour::Alembic
                && let Some(id) = &m.id
                && id.name != m.stem[..digits]
            {
                cx.report(
                    id.span,
                    format!(
                        "revision \"{}\" does not match the file number {}",
                        id.name,
                        &m.stem[..digits]
                    ),
                )
                .label("revision id")
                .help(format!(
                    "set `revision = \"{}\"` (and update the `Revision ID:` line)",
                    &m.stem[..digits]
                ));
            }
        }

        // With --base: a new migration must come after everything merged.
        if let Some(base) = &set.base
            && let Some(top) = base.migrations.numbering.as_ref().map(|n| n.top())
            && top > 0
        {
            let base_stems: Vec<&str> = base
                .migrations
                .migrations
                .iter()
                .map(|m| m.stem.as_str())
                .collect();
            let top_name = base
                .migrations
                .migrations
                .iter()
                .find(|m| file_number(&m.stem).map(|x| x.0) == Some(top))
                .map(|m| m.stem.clone())
                .unwrap_or_default();
            let top_id = base
                .migrations
                .migrations
                .iter()
                .find(|m| m.stem == top_name)
                .map(|m| m.id_str().to_string())
                .unwrap_or_default();
            let new: Vec<&Migration> = set
                .migrations
                .iter()
                .filter(|m| !base_stems.contains(&m.stem.as_str()))
                .collect();
            let colliding = new
                .iter()
                .filter(|m| file_number(&m.stem).is_some_and(|(n, _)| n <= top))
                .count();
            for m in &new {
                let Some((n, digits)) = file_number(&m.stem) else {
                    continue;
                };
                if n <= top {
                    // Renumbered safely only when it is the one new
                    // migration: nothing else on the branch depends on it.
                    let (edits, renames) = if colliding == 1 && new.len() == 1 {
                        renumber(cx, m, digits, &format!("{:0width$}", top + 1), &top_id)
                    } else {
                        (Vec::new(), Vec::new())
                    };
                    let parent = match m.flavour {
                        crate::migration::Flavour::Alembic => {
                            format!("down_revision = \"{top_id}\"")
                        }
                        _ => format!("__depends__ = {{\"{top_id}\"}}"),
                    };
                    cx.report(
                        Span::new(m.file, 0, 0),
                        format!(
                            "`{}` is new, but {} already has {:0width$} (`{top_name}`): numbers must grow past what is merged",
                            cx.file_name(m.file),
                            base.label,
                            top
                        ),
                    )
                    .help(format!("renumber it to {:0width$} and set {parent}", top + 1))
                    .fix_renaming(
                        format!("renumber to {:0width$}", top + 1),
                        edits,
                        renames,
                    );
                }
            }
        }
        numbers.sort();
        if let Some(&(first, i)) = numbers.first()
            && first != 1
        {
            let m = &set.migrations[i];
            cx.report(
                Span::new(m.file, 0, 0),
                format!("numbering starts at {first}, not 1"),
            )
            .help(format!("rename it to `{:0width$}_…`", 1));
        }
        for pair in numbers.windows(2) {
            let (a, ia) = pair[0];
            let (b, ib) = pair[1];
            let later = &set.migrations[ib];
            let earlier = &set.migrations[ia];
            if a == b {
                cx.report(
                    Span::new(later.file, 0, 0),
                    format!(
                        "two migrations are numbered {a:0width$}: `{}` and `{}`",
                        cx.file_name(earlier.file),
                        cx.file_name(later.file)
                    ),
                )
                .secondary(Span::new(earlier.file, 0, 0), "also numbered here")
                .help(format!(
                    "renumber the later one to {:0width$} (after the current last number) and point its parent at the head",
                    numbers.last().map(|l| l.0 + 1).unwrap_or(b + 1)
                ));
            } else if b > a + 1 {
                let missing = if b == a + 2 {
                    format!("{:0width$} is missing", a + 1)
                } else {
                    format!("{:0width$} to {:0width$} are missing", a + 1, b - 1)
                };
                cx.report(
                    Span::new(later.file, 0, 0),
                    format!(
                        "gap in numbering: `{}` follows `{}`; {missing}",
                        cx.file_name(later.file),
                        cx.file_name(earlier.file)
                    ),
                )
                .help(format!("renumber it to {:0width$}", a + 1));
            }
        }
    }
}

/// Edits and renames that give migration `m` the number `number` and the
/// parent `parent`: file names (and the rollback companion), `revision`,
/// `down_revision` / `__depends__` / `-- depends:`, and the docstring's
/// `Revision ID:` / `Revises:` lines.
fn renumber(
    cx: &Context,
    m: &Migration,
    digits: usize,
    number: &str,
    parent: &str,
) -> (Vec<Edit>, Vec<(crate::source::FileId, String)>) {
    let mut edits = Vec::new();
    let replace = |named: &Named, new: &str| -> Option<Edit> {
        let old = cx.text(named.span);
        old.contains(named.name.as_str()).then(|| Edit {
            span: named.span,
            text: old.replacen(named.name.as_str(), new, 1),
        })
    };
    let old_id = m.id_str().to_string();
    if m.flavour == crate::migration::Flavour::Alembic
        && let Some(id) = &m.id
    {
        let new_id = if old_id == m.stem[..digits] {
            number.to_string()
        } else {
            old_id.clone()
        };
        edits.extend(replace(id, &new_id));
        if let Some(d) = &m.docstring.revision_id {
            edits.extend(replace(d, &new_id));
        }
    }
    match &m.parents {
        Parents::Of(parents) if parents.len() == 1 => edits.extend(replace(&parents[0], parent)),
        Parents::Of(_) | Parents::Unknown(_) => return (Vec::new(), Vec::new()),
        Parents::Root | Parents::Undeclared => {}
    }
    if let Some(revises) = &m.docstring.revises
        && revises.len() == 1
    {
        edits.extend(replace(&revises[0], parent));
    }
    let rename = |file: crate::source::FileId| {
        let name = cx.file_name(file);
        (file, format!("{number}{}", &name[digits..]))
    };
    let mut renames = vec![rename(m.file)];
    renames.extend(m.rollback_file.map(rename));
    (edits, renames)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_checks_and_suggestions() {
        assert!(is_snake_case("add_users_2"));
        assert!(!is_snake_case("AddUsers"));
        assert!(!is_snake_case("add-users"));
        assert_eq!(to_snake_case("AddUsers"), "add_users");
        assert_eq!(to_snake_case("add-users table"), "add_users_table");
    }
}
