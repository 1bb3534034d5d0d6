//! The whole lint of a single file: load it (as each flavour), build its
//! set (chain, replay, SQLite), and run every rule on it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use miglint::analysis::SetAnalysis;
use miglint::chain::MigrationSet;
use miglint::migration::{Flavour, SetFlavour};
use miglint::project::config::Settings;
use miglint::rules::{Context, RuleSet};
use miglint::source::{FileId, SourceDb, SourceFile};

fuzz_target!(|data: &[u8]| {
    let settings = Settings::defaults(".".into());
    let rules = RuleSet::build(&settings, &[], &[]).expect("default rules build");
    for (name, flavour) in [
        ("001_fuzz.py", Flavour::Alembic),
        ("0001_fuzz.py", Flavour::YoyoPy),
        ("0001_fuzz.sql", Flavour::YoyoSql),
    ] {
        let mut sources = SourceDb::default();
        let id = sources.add(SourceFile::from_bytes(name.as_ref(), name.into(), data));
        let m = miglint::load::load(flavour, sources.get(id), FileId(0), None, settings.dialect);
        let chain = MigrationSet::new("migrations".into(), SetFlavour::of(flavour), vec![m]);
        let set = SetAnalysis::new(chain, Default::default(), Some((&sources, None)));
        let mut out = Vec::new();
        for (meta, severity, rule) in &rules.rules {
            let mut cx = Context {
                rule: meta.id,
                severity: *severity,
                settings: &settings,
                sources: &sources,
                out: &mut out,
            };
            rule.check(&set, &mut cx);
        }
    }
});
