//! Time per pipeline stage (discover, load, chain + replay, each rule) on a
//! generated corpus. Run with `cargo bench --bench pipeline`; set
//! `MIGLINT_BENCH_COUNT` (default 10000) and `MIGLINT_BENCH_FLAVOUR`
//! (alembic, yoyo-sql, yoyo-py; default: all three).
//!
//! Each stage is run `ROUNDS` times and the best round is reported, which
//! is the least noisy figure on a shared machine.

use std::time::{Duration, Instant};

use miglint::chain::MigrationSet;
use miglint::project::config::Settings;
use miglint::rules::{Context, RuleSet};
use miglint_corpus::{CorpusFlavour, CorpusSpec, generate};

const ROUNDS: usize = 5;

fn best<T>(mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let out = f();
        best = best.min(start.elapsed());
        last = Some(out);
    }
    (best, last.expect("at least one round"))
}

fn ms(d: Duration) -> String {
    format!("{:>9.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    // `cargo bench` passes --bench; a plain `cargo test` run passes nothing useful.
    let count: usize = std::env::var("MIGLINT_BENCH_COUNT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let flavours: Vec<CorpusFlavour> = match std::env::var("MIGLINT_BENCH_FLAVOUR").as_deref() {
        Ok("alembic") => vec![CorpusFlavour::Alembic],
        Ok("yoyo-sql") => vec![CorpusFlavour::YoyoSql],
        Ok("yoyo-py") => vec![CorpusFlavour::YoyoPy],
        _ => vec![
            CorpusFlavour::Alembic,
            CorpusFlavour::YoyoSql,
            CorpusFlavour::YoyoPy,
        ],
    };
    for flavour in flavours {
        let dir = tempfile::tempdir().expect("temp dir");
        let spec = CorpusSpec {
            flavour,
            count,
            violations: 0.1,
            seed: 1,
        };
        let stats = generate(&spec, dir.path()).expect("corpus");
        println!(
            "\n{flavour:?}: {} migrations, {:.1} MB (best of {ROUNDS})",
            stats.migrations,
            stats.bytes as f64 / 1e6
        );
        let root = dir.path().to_path_buf();
        let settings = Settings::defaults(root.clone());
        let rules = RuleSet::build(&settings, &[], &[]).expect("rules");

        let (t, _) = best(|| {
            miglint::project::discover::discover(&settings, std::slice::from_ref(&root)).unwrap()
        });
        println!("  {:<26}{}", "discover + read", ms(t));

        let (t, loaded) = best(|| {
            let d = miglint::project::discover::discover(&settings, std::slice::from_ref(&root))
                .unwrap();
            miglint::analysis::analyse(&settings, d, miglint::analysis::Wanted::default())
        });
        println!("  {:<26}{}", "discover + load + replay", ms(t));

        let set = &loaded.sets[0];
        let migrations = set.migrations.clone();
        let (t, _) = best(|| {
            let chain = MigrationSet::new(set.dir.clone(), set.flavour, migrations.clone());
            miglint::analysis::SetAnalysis::new(chain, Default::default(), None)
        });
        println!("  {:<26}{}", "chain + replay", ms(t));
        let (t, _) = best(|| miglint::schema::replay::replay(set));
        println!("  {:<26}{}", "  of which replay", ms(t));

        for (meta, severity, rule) in &rules.rules {
            let (t, found) = best(|| {
                let mut out = Vec::new();
                let mut cx = Context {
                    rule: meta.id,
                    severity: *severity,
                    settings: &settings,
                    sources: &loaded.sources,
                    out: &mut out,
                };
                rule.check(set, &mut cx);
                out.len()
            });
            println!("  rule {:<21}{}  ({found} findings)", meta.id, ms(t));
        }
    }
}
