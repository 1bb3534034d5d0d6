//! Writes a deterministic migrations corpus for benchmarks:
//! `cargo run --release --example gen-corpus -- --flavour alembic --count 10000 --out /tmp/corpus`

use clap::Parser;
use miglint_corpus::{CorpusFlavour, CorpusSpec, generate};

#[derive(Parser)]
struct Args {
    #[arg(long, value_enum)]
    flavour: CorpusFlavour,
    #[arg(long)]
    count: usize,
    #[arg(long)]
    out: std::path::PathBuf,
    /// Share of migrations that break one convention.
    #[arg(long, default_value_t = 0.1)]
    violations: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn main() {
    let args = Args::parse();
    if args.out.exists() {
        eprintln!("gen-corpus: {} exists; remove it first", args.out.display());
        std::process::exit(2);
    }
    let spec = CorpusSpec {
        flavour: args.flavour,
        count: args.count,
        violations: args.violations,
        seed: args.seed,
    };
    match generate(&spec, &args.out) {
        Ok(stats) => println!(
            "{} migrations, {} files, {} bytes in {}",
            stats.migrations,
            stats.files,
            stats.bytes,
            args.out.display()
        ),
        Err(e) => {
            eprintln!("gen-corpus: {e}");
            std::process::exit(2);
        }
    }
}
