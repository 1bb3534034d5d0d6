-- The rebuild keeps the same columns: nothing to undo.
SELECT 1;
