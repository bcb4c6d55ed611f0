-- A rejected family's next step (issue 10, item 5).
--
-- How many days after a rejection the family may ask for a review of it
-- (复核申请); a campaign setting.
ALTER TABLE campaigns ADD COLUMN appeal_days INTEGER NOT NULL DEFAULT 5;

-- One 复核申请 per application: the family's reason, who rejected (the
-- appeal is decided by someone else; NULL when the rejection was the
-- supplement deadline's), and the outcome.
CREATE TABLE appeals (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL UNIQUE REFERENCES applications(id),
    rejected_by TEXT NULL REFERENCES staff(id),
    reason TEXT NOT NULL,
    filed_at TIMESTAMP NOT NULL,
    outcome TEXT NULL CHECK (outcome IN ('granted', 'upheld')),
    decided_by TEXT NULL REFERENCES staff(id),
    decided_at TIMESTAMP NULL
);
