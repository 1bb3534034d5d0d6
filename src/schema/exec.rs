//! Runs migrations' SQL in real SQLite.
//!
//! Each migration runs in its own in-memory database that holds the tables
//! it touches or names, created from the replayed schema just before it:
//! its steps are applied, rolled back (last step first) and applied again.
//! Running the whole chain in one database would make SQLite re-check the
//! whole schema on every ALTER TABLE, which grows with the square of the
//! chain; this way the cost follows each migration's size, and migrations
//! run in parallel, each as soon as the replay has passed it. Results are
//! kept between runs ([`crate::schema::cache`]).
//!
//! Alembic revisions are Python: their `op.execute(...)` SQL runs in order
//! with the revision's other operations, which are applied to the tables
//! from the model.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use rusqlite::Connection;

use crate::chain::MigrationSet;
use crate::migration::{Migration, OpKind, Operation, Rollback};
use crate::schema::cache;
use crate::schema::render;
use crate::schema::replay::{self, BeforeSql, Replay};
use crate::schema::{Schema, Table};
use crate::source::{SourceDb, Span};

/// A statement SQLite rejected.
#[derive(Debug, Clone)]
pub struct ExecFailure {
    pub span: Span,
    pub message: String,
    /// Which pass failed: "applying", "rolling back", "re-applying".
    pub phase: &'static str,
    pub migration: String,
}

/// Refusals about the environment or about objects the model keeps
/// without their SQL (views, triggers), which `schema-consistency` judges.
fn not_ours(message: &str) -> bool {
    message.starts_with("no such module")
        || message.starts_with("no such view")
        || message.starts_with("no such trigger")
        || message.contains("within a transaction")
}

/// BEGIN / COMMIT / END / ROLLBACK / SAVEPOINT / RELEASE: yoyo runs each
/// migration in a transaction of its own, so these are not run here.
fn transaction_control(sql: &str) -> bool {
    let head = sql
        .trim_start()
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    matches!(
        head.as_str(),
        "BEGIN" | "COMMIT" | "END" | "ROLLBACK" | "SAVEPOINT" | "RELEASE"
    )
}

thread_local! {
    /// One in-memory database per worker thread, reused between migrations:
    /// each migration runs inside a savepoint that is rolled back after it.
    static CONNECTION: std::cell::RefCell<Option<Connection>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` on this thread's database, inside a savepoint rolled back after.
fn isolated<T>(f: impl FnOnce(&Connection) -> T) -> Option<T> {
    CONNECTION.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            crate::sqlite::configure();
            let conn = Connection::open_in_memory().ok()?;
            let _ = run(&conn, "PRAGMA foreign_keys = OFF");
            *cell = Some(conn);
        }
        let conn = cell.as_ref()?;
        run(conn, "SAVEPOINT miglint_migration").ok()?;
        let out = f(conn);
        if run(
            conn,
            "ROLLBACK TO miglint_migration; RELEASE miglint_migration",
        )
        .is_err()
        {
            // The savepoint is gone (a statement ended it): start afresh.
            *cell = None;
        }
        Some(out)
    })
}

fn run(conn: &Connection, sql: &str) -> Result<(), String> {
    conn.execute_batch(sql).map_err(|e| match e {
        rusqlite::Error::SqliteFailure(_, Some(m)) => m,
        rusqlite::Error::SqlInputError { msg, .. } => msg,
        other => other.to_string(),
    })
}

/// Execution ended: at a statement SQLite rejected (`Some`), or at one that
/// does not parse (`None`; `parse-error` reports it).
type Stop = Option<ExecFailure>;

/// Runs each CREATE statement, whatever the others do.
fn create(conn: &Connection, statements: &[String]) {
    for sql in statements {
        let _ = run(conn, sql);
    }
}

/// The first statement SQLite rejects in each migration of the set.
///
/// With a `cache_dir`, results are kept there keyed by everything they
/// depend on, and migrations whose inputs did not change are not run again.
pub fn execute(
    set: &MigrationSet,
    start: &Schema,
    sources: &SourceDb,
    cache_dir: Option<&Path>,
) -> Vec<ExecFailure> {
    replay_and_execute(set, start, sources, cache_dir).1
}

/// A migration run (or found in the cache): its index, its cache entry,
/// what SQLite rejected.
type Ran = (usize, Option<cache::Entry>, Option<ExecFailure>);

/// A migration to run in SQLite: its index, the tables it starts from,
/// where the replay found problems in it, and its cache key.
struct Job {
    index: usize,
    before: BeforeSql,
    known: Vec<Span>,
    key: Option<u128>,
}

/// Migrations handed to a worker at once: each hand-over may wake a
/// sleeping thread, which costs about as much as a small migration.
const BATCH: usize = 8;

/// How many batches may wait for a worker before the replay runs some
/// itself: enough to keep the workers busy, few enough that the tables
/// waiting to be created stay small (at 50,000 migrations, keeping them all
/// took a tenth of the memory).
const QUEUE: usize = 64;

/// Replays the set and runs each migration's SQL as soon as the replay has
/// gone past it, on the other worker threads: the replay is serial, so
/// otherwise they would wait for it.
pub fn replay_and_execute(
    set: &MigrationSet,
    start: &Schema,
    sources: &SourceDb,
    cache_dir: Option<&Path>,
) -> (Replay, Vec<ExecFailure>) {
    let store = cache::Store::open(cache_dir, &store_name(set));
    let done: Mutex<Vec<Ran>> = Mutex::default();
    let record = |ran: Ran| done.lock().unwrap_or_else(|e| e.into_inner()).push(ran);
    let run_batch = |batch: Vec<Job>| {
        for job in batch {
            let m = &set.migrations[job.index];
            if let Some(found) = run_one(m, &job.before, &job.known) {
                let entry = job
                    .key
                    .and_then(|k| Some((k, encode_result(found.as_ref(), m)?)));
                record((job.index, entry, found));
            }
        }
    };
    let waiting = AtomicUsize::new(0);
    let replay = rayon::scope(|scope| {
        let mut batch = Vec::with_capacity(BATCH);
        let spawn = |batch: Vec<Job>| {
            waiting.fetch_add(1, Ordering::Relaxed);
            let (run_batch, waiting) = (&run_batch, &waiting);
            scope.spawn(move |_| {
                run_batch(batch);
                waiting.fetch_sub(1, Ordering::Relaxed);
            });
            // Too many waiting: run some here (the newest, from this
            // thread's own queue) before replaying further.
            while waiting.load(Ordering::Relaxed) > QUEUE {
                if rayon::yield_local() != Some(rayon::Yield::Executed) {
                    break;
                }
            }
        };
        let mut hand_over = |index, before, known: Vec<Span>| {
            let m = &set.migrations[index];
            // A cached result is looked up here: sending it to another
            // thread would cost more than finding it.
            let key = cache_dir.map(|_| cache_key(m, &before, sources, &known));
            if let Some(key) = key
                && let Some(bytes) = store.get(key)
                && let Some(found) = decode_result(bytes, m)
            {
                record((index, Some((key, bytes.to_vec())), found));
                return;
            }
            batch.push(Job {
                index,
                before,
                known,
                key,
            });
            if batch.len() == BATCH {
                spawn(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
            }
        };
        let replay = replay::replay_handing_sql(set, start, &mut hand_over);
        if !batch.is_empty() {
            spawn(batch);
        }
        replay
    });
    let done = done.into_inner().unwrap_or_else(|e| e.into_inner());
    if cache_dir.is_some() {
        let entries: Vec<cache::Entry> = done.iter().filter_map(|(_, e, _)| e.clone()).collect();
        store.save(&entries);
    }
    let mut found: Vec<(usize, ExecFailure)> = done
        .into_iter()
        .filter_map(|(i, _, f)| f.map(|f| (i, f)))
        .collect();
    found.sort_by_key(|(i, _)| *i);
    (replay, found.into_iter().map(|(_, f)| f).collect())
}

/// Runs one migration in SQLite: what it rejected, if anything; `None`
/// when SQLite could not be opened.
fn run_one(m: &Migration, before: &BeforeSql, known: &[Span]) -> Option<Option<ExecFailure>> {
    let result = isolated(|conn| match before {
        BeforeSql::Statements(statements) => {
            create(conn, statements);
            run_yoyo(conn, m, known)
        }
        BeforeSql::Tables(snapshot) => {
            let schema = snapshot.to_schema();
            create(conn, &render::create_statements(&schema));
            run_alembic(conn, m, schema, known)
        }
    })?;
    Some(result.err().flatten())
}

/// One cache file per migrations folder, so that linting another project
/// from the same place does not evict this one's entries.
fn store_name(set: &MigrationSet) -> String {
    let dir = std::fs::canonicalize(&set.dir).unwrap_or_else(|_| set.dir.clone());
    let key = cache::Key::new().str(&dir.to_string_lossy()).finish();
    format!("sqlite-exec-{:016x}", key as u64)
}

/// Everything a migration's run depends on: its files' text (which fix its
/// statements and their places), the tables it starts from, and which of
/// its operations other rules already explain.
fn cache_key(m: &Migration, before: &BeforeSql, sources: &SourceDb, known: &[Span]) -> u128 {
    let mut key = cache::Key::new();
    key.str(m.flavour.name());
    for (role, file) in [(0, Some(m.file)), (1, m.rollback_file)] {
        let Some(file) = file else { continue };
        key.u32(role).str(&sources.get(file).text);
        for span in known.iter().filter(|s| s.file == file) {
            key.u32(span.start).u32(span.end);
        }
    }
    match before {
        BeforeSql::Statements(statements) => {
            key.str("statements");
            for sql in statements {
                key.str(sql);
            }
        }
        BeforeSql::Tables(snapshot) => {
            key.str("tables");
            for sql in render::create_statements(&snapshot.to_schema()) {
                key.str(&sql);
            }
        }
    }
    key.finish()
}

const PHASES: [&str; 5] = [
    "applying",
    "rolling back",
    "re-applying",
    "applying with rows",
    "rolling back with rows",
];

/// The pass that runs a statement again on a table holding a row.
fn with_rows(phase: &'static str) -> &'static str {
    match phase {
        "applying" => PHASES[3],
        "rolling back" => PHASES[4],
        other => other,
    }
}

/// Tables whose rows a migration finds when it starts: those that exist
/// before it. Tables it creates itself start empty.
type Populated = BTreeSet<String>;

/// Whether any of `ops` is run again on a table holding a row.
fn probes_rows<'a>(m: &Migration, mut ops: impl Iterator<Item = &'a Operation>) -> bool {
    ops.any(|op| replay::refused_only_with_rows(op, m.flavour).is_some())
}

/// The tables in this thread's database.
fn existing_tables(conn: &Connection) -> Populated {
    let Ok(mut stmt) = conn.prepare("SELECT lower(name) FROM sqlite_schema WHERE type = 'table'")
    else {
        return Populated::new();
    };
    stmt.query_map([], |row| row.get::<_, String>(0))
        .map(|rows| rows.flatten().collect())
        .unwrap_or_default()
}

/// What SQLite says when `sql` runs while `table` holds a row; the database
/// is left as it was. `None` when SQLite accepts it, or when no row fits
/// the table (a CHECK constraint miglint cannot satisfy): then nothing is
/// known.
fn refused_with_rows(conn: &Connection, table: &str, sql: &str) -> Option<String> {
    run(conn, "SAVEPOINT miglint_rows").ok()?;
    let refused = if insert_row(conn, table) {
        run(conn, sql).err()
    } else {
        None
    };
    let _ = run(conn, "ROLLBACK TO miglint_rows; RELEASE miglint_rows");
    refused
}

/// Inserts one row into `table`: a value of each column's type in every
/// column, or else the defaults. Whether a row went in.
fn insert_row(conn: &Connection, table: &str) -> bool {
    let quoted = render::ident(table);
    let Ok(mut stmt) = conn.prepare(&format!("PRAGMA table_info({quoted})")) else {
        return false;
    };
    let columns: Vec<(String, String)> = stmt
        .query_map([], |row| {
            Ok((row.get::<_, String>(1)?, row.get::<_, String>(2)?))
        })
        .map(|rows| rows.flatten().collect())
        .unwrap_or_default();
    if columns.is_empty() {
        return false;
    }
    let names: Vec<String> = columns.iter().map(|(n, _)| render::ident(n)).collect();
    let values: Vec<&str> = columns.iter().map(|(_, ty)| value_of_type(ty)).collect();
    let full = format!(
        "INSERT INTO {quoted} ({}) VALUES ({})",
        names.join(", "),
        values.join(", ")
    );
    run(conn, &full).is_ok() || run(conn, &format!("INSERT INTO {quoted} DEFAULT VALUES")).is_ok()
}

/// A value of the declared type's affinity.
fn value_of_type(declared: &str) -> &'static str {
    match crate::sqlite::affinity(declared) {
        "TEXT" => "'1'",
        "BLOB" => "x'01'",
        "REAL" => "1.0",
        _ => "1",
    }
}

/// A run's result as the cache keeps it: nothing, or where it stopped
/// (which of the migration's files, offsets), in which pass and why.
fn encode_result(found: Option<&ExecFailure>, m: &Migration) -> Option<Vec<u8>> {
    let Some(f) = found else {
        return Some(vec![0]);
    };
    let role = if f.span.file == m.file {
        0
    } else if Some(f.span.file) == m.rollback_file {
        1
    } else {
        return None;
    };
    let phase = PHASES.iter().position(|p| *p == f.phase)? as u8;
    let mut out = vec![1, role, phase];
    out.extend_from_slice(&f.span.start.to_le_bytes());
    out.extend_from_slice(&f.span.end.to_le_bytes());
    cache::put_string(&mut out, &f.message);
    Some(out)
}

/// `Some(result)` when `bytes` decode; `None` sends the migration to SQLite.
fn decode_result(bytes: &[u8], m: &Migration) -> Option<Option<ExecFailure>> {
    let mut r = cache::Reader(bytes);
    let found = match r.u8()? {
        0 => None,
        1 => {
            let file = match r.u8()? {
                0 => m.file,
                1 => m.rollback_file?,
                _ => return None,
            };
            let phase = *PHASES.get(r.u8()? as usize)?;
            let (start, end) = (r.u32()?, r.u32()?);
            Some(ExecFailure {
                span: Span { file, start, end },
                message: r.string()?,
                phase,
                migration: m.stem.clone(),
            })
        }
        _ => return None,
    };
    r.0.is_empty().then_some(found)
}

/// Whether the model already explains why SQLite refuses this operation
/// (another rule reports it), so execution steps past it.
fn explained(op: &Operation, known: &[Span]) -> bool {
    known.contains(&op.span)
        || match &op.kind {
            OpKind::AddColumn { column, .. } => {
                (!column.nullable && column.default.is_none())
                    || column.primary_key
                    || column.unique
            }
            OpKind::AlterColumn { .. }
            | OpKind::AddConstraint { .. }
            | OpKind::DropConstraint { .. } => true,
            _ => false,
        }
}

/// Runs `ops` in order. With `populated`, a statement SQLite may refuse
/// only on a table holding rows is first tried on its table with a row in
/// it, when the table existed before the migration.
fn exec_ops(
    conn: &Connection,
    m: &Migration,
    ops: &[Operation],
    phase: &'static str,
    known: &[Span],
    populated: Option<&Populated>,
) -> Result<(), Stop> {
    let mut last = None;
    for op in ops {
        let Some(sql) = &op.sql else { continue };
        // An ALTER TABLE with several actions is one statement, several operations.
        if last == Some(op.span) {
            continue;
        }
        last = Some(op.span);
        if !sql.parses {
            return Err(None);
        }
        if transaction_control(&sql.statement) {
            continue;
        }
        if let Some(populated) = populated {
            probe_rows(conn, m, op, &sql.statement, phase, known, populated)?;
        }
        if let Err(message) = run(conn, &sql.statement)
            && !not_ours(&message)
            && !explained(op, known)
            && op.always()
        {
            return Err(Some(ExecFailure {
                span: op.span,
                message,
                phase,
                migration: m.stem.clone(),
            }));
        }
    }
    Ok(())
}

/// Runs `sql` (operation `op`) on its table holding a row, when SQLite may
/// refuse it only then and the table had rows to hold.
fn probe_rows(
    conn: &Connection,
    m: &Migration,
    op: &Operation,
    sql: &str,
    phase: &'static str,
    known: &[Span],
    populated: &Populated,
) -> Result<(), Stop> {
    let Some(table) = replay::refused_only_with_rows(op, m.flavour) else {
        return Ok(());
    };
    if !op.always() || explained(op, known) || !populated.contains(&table.to_ascii_lowercase()) {
        return Ok(());
    }
    match refused_with_rows(conn, table, sql) {
        Some(message) if !not_ours(&message) => Err(Some(ExecFailure {
            span: op.span,
            message,
            phase: with_rows(phase),
            migration: m.stem.clone(),
        })),
        _ => Ok(()),
    }
}

fn run_yoyo(conn: &Connection, m: &Migration, known: &[Span]) -> Result<(), Stop> {
    let all_ops = m.steps.iter().flat_map(|s| {
        let rollback = match &s.rollback {
            Rollback::Ops { ops, .. } => ops.as_slice(),
            _ => &[],
        };
        s.apply.iter().chain(rollback)
    });
    let populated = probes_rows(m, all_ops).then(|| existing_tables(conn));
    let apply = |phase, populated| -> Result<(), Stop> {
        for step in &m.steps {
            exec_ops(conn, m, &step.apply, phase, known, populated)?;
        }
        Ok(())
    };
    apply("applying", populated.as_ref())?;
    // Without a rollback for every step, rolling back and re-applying can
    // only collide with what was left; rollback-required reports that.
    let reversible = m
        .steps
        .iter()
        .all(|s| matches!(s.rollback, Rollback::Ops { .. }) || !s.apply_does_work);
    if !reversible {
        return Ok(());
    }
    for step in m.steps.iter().rev() {
        if let Rollback::Ops { ops, .. } = &step.rollback {
            exec_ops(conn, m, ops, "rolling back", known, populated.as_ref())?;
        }
    }
    apply("re-applying", None)
}

/// Alembic: `op.execute` SQL runs in order; the revision's other operations
/// are applied to the model, and the tables a statement names are brought
/// up to date in SQLite just before it runs.
fn run_alembic(
    conn: &Connection,
    m: &Migration,
    mut schema: Schema,
    known: &[Span],
) -> Result<(), Stop> {
    let mut synced: BTreeMap<String, String> = schema
        .tables
        .iter()
        .map(|(k, t)| (k.clone(), table_with_indexes(&schema, t)))
        .collect();
    let upgrade: Vec<&Operation> = m.upgrade_ops().collect();
    let downgrade: Vec<&Operation> = m.downgrade_ops().collect();
    let populated = probes_rows(m, upgrade.iter().chain(&downgrade).copied())
        .then(|| schema.tables.keys().cloned().collect::<Populated>());
    let populated = populated.as_ref();
    for (ops, phase) in [(upgrade, "applying"), (downgrade, "rolling back")] {
        for op in ops {
            if op.sql.is_none()
                && let Some(populated) = populated
                && let OpKind::AddColumn { table, column } = &op.kind
                && replay::refused_only_with_rows(op, m.flavour).is_some()
            {
                // Alembic emits ALTER TABLE ... ADD COLUMN: run it as SQL.
                sync(conn, &schema, &mut synced, &table.to_ascii_lowercase());
                replay::apply_quietly(&mut schema, op, m.flavour);
                let added = schema
                    .tables
                    .get(&table.to_ascii_lowercase())
                    .and_then(|t| t.column(&column.name));
                if let Some(added) = added {
                    let sql = format!(
                        "ALTER TABLE {} ADD COLUMN {}",
                        render::ident(table),
                        render::column_sql(added, false)
                    );
                    probe_rows(conn, m, op, &sql, phase, known, populated)?;
                }
                continue;
            }
            if let Some(sql) = &op.sql {
                let words: Vec<String> = crate::schema::statement_words(&sql.statement).collect();
                for w in &words {
                    if schema.tables.contains_key(w) || synced.contains_key(w) {
                        sync(conn, &schema, &mut synced, w);
                    }
                }
                exec_ops(conn, m, std::slice::from_ref(op), phase, known, populated)?;
                // The statement may have changed these tables in SQLite.
                for w in &words {
                    synced.remove(w);
                }
            }
            replay::apply_quietly(&mut schema, op, m.flavour);
        }
    }
    Ok(())
}

fn table_with_indexes(schema: &Schema, t: &Table) -> String {
    let mut sql = render::table_sql(t);
    for ix in schema.indexes_of(&t.name) {
        sql.push_str(&render::index_sql(ix));
    }
    sql
}

/// Makes table `name` in SQLite match the model.
fn sync(conn: &Connection, schema: &Schema, synced: &mut BTreeMap<String, String>, name: &str) {
    let wanted = schema
        .tables
        .get(name)
        .map(|t| table_with_indexes(schema, t));
    if synced.get(name) == wanted.as_ref() {
        return;
    }
    let _ = run(
        conn,
        &format!("DROP TABLE IF EXISTS {}", render::ident(name)),
    );
    match wanted {
        Some(sql) => {
            for ix in schema.indexes_of(name) {
                let _ = run(
                    conn,
                    &format!("DROP INDEX IF EXISTS {}", render::ident(&ix.name)),
                );
            }
            let _ = run(conn, &sql);
            synced.insert(name.to_string(), sql);
        }
        None => {
            synced.remove(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::Flavour;
    use crate::source::FileId;

    #[test]
    fn cached_results_decode_to_what_was_found() {
        let mut m = Migration::new(FileId(3), Flavour::YoyoSql, "0002_seed".into());
        m.rollback_file = Some(FileId(4));
        let failure = ExecFailure {
            span: Span {
                file: FileId(4),
                start: 10,
                end: 42,
            },
            message: "no such table: users".into(),
            phase: "rolling back",
            migration: "0002_seed".into(),
        };
        let bytes = encode_result(Some(&failure), &m).unwrap();
        let back = decode_result(&bytes, &m).unwrap().unwrap();
        assert_eq!(back.span, failure.span);
        assert_eq!(back.message, failure.message);
        assert_eq!(back.phase, failure.phase);
        assert_eq!(back.migration, failure.migration);
        assert!(
            decode_result(&encode_result(None, &m).unwrap(), &m)
                .unwrap()
                .is_none()
        );
        // Short or padded bytes send the migration to SQLite instead.
        assert!(decode_result(&bytes[..bytes.len() - 1], &m).is_none());
        assert!(decode_result(&[bytes.as_slice(), &[0]].concat(), &m).is_none());
        // Without its rollback file, a result pointing there is not believed.
        m.rollback_file = None;
        assert!(decode_result(&bytes, &m).is_none());
    }
}
