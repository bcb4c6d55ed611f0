-- Issue 10 item 4: an admin's assignment of an application that no address
-- places in a county township (the county queue, 县级待分配) to a township.
-- Kept apart from applications.township_id (the township that reviews it,
-- computed from the deciding address, else this assignment) so that an edit
-- by the guardian recomputes the one without losing the other.
ALTER TABLE applications ADD COLUMN assigned_township_id TEXT NULL;
