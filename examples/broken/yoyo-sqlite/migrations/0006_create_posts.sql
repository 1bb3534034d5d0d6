-- Create posts
-- foreign-key-target: `user` is not a table (it is `users`)
-- sqlite-types: DOUBLE is not a SQLite storage class
-- depends: 0005_add_priority_to_users

CREATE TABLE IF NOT EXISTS posts (
    id TEXT PRIMARY KEY,
    author_id TEXT NOT NULL REFERENCES user(id),
    rating DOUBLE,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now'))
);
