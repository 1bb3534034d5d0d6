fn main() {
    // Panics are caught per file and per rule and reported as
    // `internal-error` findings; keep the default hook's noise off stderr.
    std::panic::set_hook(Box::new(|_| {}));
    miglint::sqlite_exec::configure_sqlite();
    // Deeply nested input (a 100,000-term expression) recurses in the
    // parsers and in dropping their trees: give the workers room.
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(64 << 20)
        .build_global();
    let code = match std::panic::catch_unwind(miglint::cli::main) {
        Ok(code) => code,
        Err(payload) => {
            eprintln!(
                "miglint: internal error: {}",
                miglint::lint::panic_message(&*payload)
            );
            miglint::cli::EXIT_FAILURE
        }
    };
    std::process::exit(code);
}

// The same allocator ruff uses: allocation-heavy parsing and replay on
// several threads spend far less time in it than in the system one.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
