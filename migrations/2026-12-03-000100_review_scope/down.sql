ALTER TABLE applications DROP COLUMN assigned_township_id;
