//! The embedded SQLite, configured once for the whole process before its
//! first connection opens (the loaders' syntax checks and sqlite-exec
//! both use it).

/// The type affinity SQLite gives a declared column type (its rules in
/// order: `INT`, then `CHAR` / `CLOB` / `TEXT`, `BLOB`, `REAL` / `FLOA` /
/// `DOUB`, else `NUMERIC`).
pub fn affinity(declared: &str) -> &'static str {
    let t = declared.to_ascii_uppercase();
    if t.contains("INT") {
        "INTEGER"
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        "TEXT"
    } else if t.contains("BLOB") {
        "BLOB"
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        "REAL"
    } else {
        "NUMERIC"
    }
}

/// Configures SQLite before its first use: no global allocator statistics
/// (a process-wide mutex taken on every allocation) and no per-connection
/// mutexes (each connection stays on one thread). Without this, parallel
/// workers spend their time waiting on each other.
pub fn configure() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: sqlite3_config is called before any connection exists
        // (every connection in miglint is opened after this), with the
        // integer arguments these two options take.
        unsafe {
            rusqlite::ffi::sqlite3_config(
                rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS,
                0 as std::ffi::c_int,
            );
            rusqlite::ffi::sqlite3_config(rusqlite::ffi::SQLITE_CONFIG_MULTITHREAD);
        }
        #[cfg(feature = "mimalloc")]
        use_mimalloc();
    });
}

/// SQLite allocates through mimalloc too (by default it calls the system
/// malloc, whose locks and free-list upkeep were a tenth of sqlite-exec's
/// time).
#[cfg(feature = "mimalloc")]
fn use_mimalloc() {
    use libmimalloc_sys as mi;
    use std::ffi::{c_int, c_void};
    unsafe extern "C" fn malloc(n: c_int) -> *mut c_void {
        // SAFETY: mi_malloc takes any size; SQLite never asks for a negative one.
        unsafe { mi::mi_malloc(n.max(0) as usize) }
    }
    unsafe extern "C" fn free(p: *mut c_void) {
        // SAFETY: `p` came from mi_malloc / mi_realloc below.
        unsafe { mi::mi_free(p) }
    }
    unsafe extern "C" fn realloc(p: *mut c_void, n: c_int) -> *mut c_void {
        // SAFETY: as above.
        unsafe { mi::mi_realloc(p, n.max(0) as usize) }
    }
    unsafe extern "C" fn size(p: *mut c_void) -> c_int {
        // SAFETY: as above; SQLite's allocations stay far below 2 GiB.
        unsafe { mi::mi_usable_size(p) as c_int }
    }
    unsafe extern "C" fn roundup(n: c_int) -> c_int {
        (n + 7) & !7
    }
    unsafe extern "C" fn init(_: *mut c_void) -> c_int {
        rusqlite::ffi::SQLITE_OK
    }
    unsafe extern "C" fn shutdown(_: *mut c_void) {}
    let methods = rusqlite::ffi::sqlite3_mem_methods {
        xMalloc: Some(malloc),
        xFree: Some(free),
        xRealloc: Some(realloc),
        xSize: Some(size),
        xRoundup: Some(roundup),
        xInit: Some(init),
        xShutdown: Some(shutdown),
        pAppData: std::ptr::null_mut(),
    };
    // SAFETY: called once, before SQLite is initialised (`configure`
    // runs before any connection opens); SQLite copies the struct.
    unsafe {
        rusqlite::ffi::sqlite3_config(rusqlite::ffi::SQLITE_CONFIG_MALLOC, &methods);
    }
}
