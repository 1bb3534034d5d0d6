-- Create tags (parse-error: a typo in CREATE TABLE)
-- depends: 0003_index_users_archived

CREATE TABEL IF NOT EXISTS tags (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL
);
