//! Each PostgreSQL lock rule (and `drop-still-read`) against a real server: for its Bad case the
//! server shows the effect the rule warns about (a write from another
//! session blocked, the rows all read, the table rewritten, the statement
//! refused, the old name gone), and for its Good case it does not; miglint
//! flags exactly the Bad ones.

mod common;

use std::path::Path;

use common::write_tree;

/// The running code's query, sent after each migration, and the
/// application file that holds it in the miglint folder.
const QUERY: &str = "SELECT id FROM orders WHERE customer_email IS NULL";

/// The table every case starts from, on the server: a row with a NULL
/// email and one with an empty status, as a live table has.
const SETUP: &[&str] = &[
    "CREATE TABLE orders (id bigserial PRIMARY KEY, customer_email text, status varchar(20), created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())",
    "INSERT INTO orders (customer_email, status) VALUES ('a@example.com', 'open'), (NULL, '')",
];

/// What the server showed for one case.
#[derive(Debug, PartialEq)]
enum Effect {
    /// Another session's INSERT waited past its lock timeout.
    BlocksWrites,
    /// The server refused the migration; its message contains this.
    Refused(&'static str),
    /// The table's file node changed: every row was copied.
    Rewritten,
    /// A query the running code sends fails afterwards.
    BreaksQuery,
    /// It said at DEBUG1 that existing constraints prove NOT NULL.
    ProvedByCheck,
    /// None of the above.
    Nothing,
}

struct Case {
    name: &'static str,
    rule: &'static str,
    migration: &'static [&'static str],
    /// Run in one transaction (yoyo's default), else statement by statement.
    transaction: bool,
    /// Another session reads the table while the migration runs.
    blocker: bool,
    flagged: bool,
    effect: Effect,
}

const CASES: &[Case] = &[
    Case {
        name: "index_plain",
        rule: "concurrent-index",
        migration: &["CREATE INDEX idx_orders_status ON orders (status)"],
        transaction: true,
        blocker: false,
        flagged: true,
        effect: Effect::BlocksWrites,
    },
    Case {
        name: "index_concurrently",
        rule: "concurrent-index",
        migration: &["CREATE INDEX CONCURRENTLY idx_orders_status ON orders (status)"],
        transaction: false,
        blocker: false,
        flagged: false,
        effect: Effect::Nothing,
    },
    Case {
        name: "concurrently_in_transaction",
        rule: "concurrently-in-transaction",
        migration: &["CREATE INDEX CONCURRENTLY idx_orders_status ON orders (status)"],
        transaction: true,
        blocker: false,
        flagged: true,
        effect: Effect::Refused("cannot run inside a transaction block"),
    },
    Case {
        name: "check_validated",
        rule: "constraint-not-valid",
        migration: &["ALTER TABLE orders ADD CONSTRAINT chk_orders_status CHECK (status <> '')"],
        transaction: true,
        blocker: false,
        flagged: true,
        // It read the old rows, and found the empty status.
        effect: Effect::Refused("is violated by some row"),
    },
    Case {
        name: "check_not_valid",
        rule: "constraint-not-valid",
        migration: &[
            "ALTER TABLE orders ADD CONSTRAINT chk_orders_status CHECK (status <> '') NOT VALID",
        ],
        transaction: false,
        blocker: false,
        flagged: false,
        effect: Effect::Nothing,
    },
    Case {
        name: "set_not_null_scans",
        rule: "set-not-null",
        migration: &[
            "UPDATE orders SET customer_email = 'unknown' WHERE customer_email IS NULL",
            "ALTER TABLE orders ALTER COLUMN customer_email SET NOT NULL",
        ],
        transaction: true,
        blocker: false,
        flagged: true,
        effect: Effect::BlocksWrites,
    },
    Case {
        name: "set_not_null_proved",
        rule: "set-not-null",
        migration: &[
            "UPDATE orders SET customer_email = 'unknown' WHERE customer_email IS NULL",
            "ALTER TABLE orders ADD CONSTRAINT chk_orders_email CHECK (customer_email IS NOT NULL) NOT VALID",
            "ALTER TABLE orders VALIDATE CONSTRAINT chk_orders_email",
            "ALTER TABLE orders ALTER COLUMN customer_email SET NOT NULL",
        ],
        transaction: false,
        blocker: false,
        flagged: false,
        effect: Effect::ProvedByCheck,
    },
    Case {
        name: "type_shrinks",
        rule: "table-rewrite",
        migration: &["ALTER TABLE orders ALTER COLUMN status TYPE varchar(10)"],
        transaction: false,
        blocker: false,
        flagged: true,
        effect: Effect::Rewritten,
    },
    Case {
        name: "type_widens",
        rule: "table-rewrite",
        migration: &["ALTER TABLE orders ALTER COLUMN status TYPE varchar(40)"],
        transaction: false,
        blocker: false,
        flagged: false,
        effect: Effect::Nothing,
    },
    Case {
        name: "volatile_default",
        rule: "table-rewrite",
        migration: &[
            "ALTER TABLE orders ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid()",
        ],
        transaction: false,
        blocker: false,
        flagged: true,
        effect: Effect::Rewritten,
    },
    Case {
        name: "constant_default",
        rule: "table-rewrite",
        migration: &["ALTER TABLE orders ADD COLUMN note text NOT NULL DEFAULT ''"],
        transaction: false,
        blocker: false,
        flagged: false,
        effect: Effect::Nothing,
    },
    Case {
        name: "rename_column",
        rule: "renaming",
        migration: &["ALTER TABLE orders RENAME COLUMN customer_email TO email"],
        transaction: false,
        blocker: false,
        flagged: true,
        effect: Effect::BreaksQuery,
    },
    Case {
        name: "add_column",
        rule: "renaming",
        migration: &["ALTER TABLE orders ADD COLUMN email text"],
        transaction: false,
        blocker: false,
        flagged: false,
        effect: Effect::Nothing,
    },
    Case {
        name: "drop_column_still_read",
        rule: "drop-still-read",
        migration: &["ALTER TABLE orders DROP COLUMN customer_email"],
        transaction: false,
        blocker: false,
        flagged: true,
        effect: Effect::BreaksQuery,
    },
    Case {
        name: "drop_column_unread",
        rule: "drop-still-read",
        migration: &["ALTER TABLE orders DROP COLUMN status"],
        transaction: false,
        blocker: false,
        flagged: false,
        effect: Effect::Nothing,
    },
    Case {
        name: "alter_waits_behind_a_reader",
        rule: "lock-timeout",
        migration: &["ALTER TABLE orders ADD COLUMN note text"],
        transaction: true,
        blocker: true,
        flagged: true,
        // It waited the whole 2 s we gave it, every write queued behind it.
        effect: Effect::Refused("statement timeout"),
    },
    Case {
        name: "alter_gives_up",
        rule: "lock-timeout",
        migration: &[
            "SET lock_timeout = '200ms'",
            "ALTER TABLE orders ADD COLUMN note text",
        ],
        transaction: true,
        blocker: true,
        flagged: false,
        effect: Effect::Refused("lock timeout"),
    },
];

/// The case as a yoyo folder on PostgreSQL; the rules miglint raises on it.
fn miglint_flags(case: &Case) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let create = format!("{};\n", SETUP[0]).replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS");
    let mut migration = String::new();
    if !case.transaction {
        migration.push_str("-- transactional: false\n");
    }
    for sql in case.migration {
        migration.push_str(sql);
        migration.push_str(";\n");
    }
    let app = format!("def unclaimed(db):\n    return db.execute(\"{QUERY}\").fetchall()\n");
    write_tree(
        dir.path(),
        &[
            (
                "yoyo.ini",
                b"[DEFAULT]\nsources = migrations\ndatabase = postgresql://localhost/shop\n",
            ),
            ("migrations/0001_create_orders.sql", create.as_bytes()),
            (
                "migrations/0001_create_orders.rollback.sql",
                b"DROP TABLE IF EXISTS orders;\n",
            ),
            ("migrations/0002_change.sql", migration.as_bytes()),
            ("app/orders.py", app.as_bytes()),
        ],
    );
    let out = assert_cmd::Command::cargo_bin("miglint")
        .unwrap()
        .current_dir(dir.path())
        .args([
            "lint",
            "--no-cache",
            "--format",
            "json",
            "--select",
            case.rule,
        ])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["rule"] == case.rule)
}

#[test]
fn each_lock_rule_flags_what_the_server_shows() {
    let python = std::env::var("MIGLINT_ORACLE_PYTHON").unwrap_or_else(|_| {
        panic!("MIGLINT_ORACLE_PYTHON is not set: run the tests with scripts/test.sh")
    });
    let server = common::Postgres::start();
    let work = tempfile::tempdir().unwrap();
    let cases: Vec<_> = CASES
        .iter()
        .map(|c| {
            serde_json::json!({
                "name": c.name,
                "setup": SETUP,
                "migration": c.migration,
                "transaction": c.transaction,
                "blocker": c.blocker,
                "after": [QUERY],
            })
        })
        .collect();
    let file = work.path().join("cases.json");
    std::fs::write(&file, serde_json::to_vec(&cases).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/postgres_effects.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(server.socket())
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();

    let mut failures = Vec::new();
    for (case, seen) in CASES.iter().zip(&seen) {
        let error = seen["error"].as_str().unwrap_or("");
        let effect = if !error.is_empty() {
            match case.effect {
                Effect::Refused(text) if error.contains(text) => Effect::Refused(text),
                _ => {
                    failures.push(format!("{}: the server refused it: {error}", case.name));
                    continue;
                }
            }
        } else if seen["blocked_write"] == true {
            Effect::BlocksWrites
        } else if seen["rewritten"] == true {
            Effect::Rewritten
        } else if !seen["after_errors"].as_array().unwrap().is_empty() {
            Effect::BreaksQuery
        } else if seen["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap_or("").contains("sufficient to prove"))
        {
            Effect::ProvedByCheck
        } else {
            Effect::Nothing
        };
        if effect != case.effect {
            failures.push(format!(
                "{}: the server showed {effect:?}, not {:?} ({seen})",
                case.name, case.effect
            ));
        }
        let flagged = miglint_flags(case);
        if flagged != case.flagged {
            failures.push(format!(
                "{}: miglint {} `{}`",
                case.name,
                if flagged { "raises" } else { "does not raise" },
                case.rule
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
