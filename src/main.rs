fn main() {
    // Panics are caught per file and per rule and reported as
    // `internal-error` findings; keep the default hook's noise off stderr.
    std::panic::set_hook(Box::new(|_| {}));
    #[cfg(feature = "mimalloc")]
    purge_sooner();
    miglint::sqlite::configure();
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
                miglint::analysis::panic_message(&*payload)
            );
            miglint::cli::EXIT_FAILURE
        }
    };
    std::process::exit(code);
}

/// mimalloc gives freed pages back to the system a second after they
/// empty; a run frees much of what parsing allocated well within that, so
/// the pages stay counted. After 10 ms, peak memory at 50,000 migrations
/// is 11 to 29 MB lower (206 -> 195 MB Alembic, 237 -> 208 MB yoyo .sql)
/// at the same speed; at 1 ms a run was up to 9 % slower.
#[cfg(feature = "mimalloc")]
fn purge_sooner() {
    use libmimalloc_sys::{mi_option_get, mi_option_set, mi_option_t};
    // `mi_option_purge_delay` in mimalloc 3 (the Rust bindings do not name
    // it); left alone unless it holds a delay (its default is 1000), which
    // tells it from the NUMA-node count this number is in version 2.
    const PURGE_DELAY: mi_option_t = 15;
    // SAFETY: reading and setting a mimalloc option is thread-safe and has
    // no other effect; the option is checked to be the purge delay first.
    unsafe {
        if mi_option_get(PURGE_DELAY) > 10 {
            mi_option_set(PURGE_DELAY, 10);
        }
    }
}

// The same allocator ruff uses: allocation-heavy parsing and replay on
// several threads spend far less time in it than in the system one.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
