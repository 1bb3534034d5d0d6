PRAGMA foreign_keys = OFF;

CREATE TABLE IF NOT EXISTS notes_new (
    id INTEGER PRIMARY KEY NOT NULL,
    body TEXT NOT NULL,
    pinned INTEGER NOT NULL DEFAULT 0,
    archived INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now'))
);
INSERT INTO notes_new (id, body, pinned, archived, created_at, updated_at)
    SELECT id, body, pinned, archived, created_at, updated_at FROM notes;
DROP TABLE IF EXISTS notes;
ALTER TABLE notes_new RENAME TO notes;
