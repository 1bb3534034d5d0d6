-- migrate:up
ALTER TABLE notes ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;

-- migrate:down
ALTER TABLE notes DROP COLUMN pinned;
