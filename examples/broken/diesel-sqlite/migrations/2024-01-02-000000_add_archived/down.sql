ALTER TABLE notes DROP COLUMN archived;
