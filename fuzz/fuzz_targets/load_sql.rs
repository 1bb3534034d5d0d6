//! Any bytes as a yoyo `.sql` migration, with the same bytes as its
//! rollback, in both dialects.
#![no_main]

use libfuzzer_sys::fuzz_target;
use miglint::migration::Flavour;
use miglint::project::config::Dialect;
use miglint::source::{FileId, SourceFile};

fuzz_target!(|data: &[u8]| {
    let file = SourceFile::from_bytes("0001_fuzz.sql".as_ref(), "0001_fuzz.sql".into(), data);
    let rollback = SourceFile::from_bytes(
        "0001_fuzz.rollback.sql".as_ref(),
        "0001_fuzz.rollback.sql".into(),
        data,
    );
    for dialect in [Dialect::Sqlite, Dialect::Postgresql] {
        let _ = miglint::load::load(Flavour::YoyoSql, &file, FileId(0), None, dialect);
        let _ = miglint::load::load(
            Flavour::YoyoSql,
            &file,
            FileId(0),
            Some((&rollback, FileId(1))),
            dialect,
        );
    }
});
