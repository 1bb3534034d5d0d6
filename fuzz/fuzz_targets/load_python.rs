//! Any bytes as an Alembic revision and as a yoyo `.py` migration.
#![no_main]

use libfuzzer_sys::fuzz_target;
use miglint::migration::Flavour;
use miglint::project::config::Dialect;
use miglint::source::{FileId, SourceFile};

fuzz_target!(|data: &[u8]| {
    let file = SourceFile::from_bytes("001_fuzz.py".as_ref(), "001_fuzz.py".into(), data);
    for flavour in [Flavour::Alembic, Flavour::YoyoPy] {
        let _ = miglint::load::load(flavour, &file, FileId(0), None, Dialect::Sqlite);
    }
});
