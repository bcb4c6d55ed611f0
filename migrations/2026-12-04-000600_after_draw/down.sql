DROP TABLE placements;
DROP TABLE waitlist_moves;
DROP TABLE waitlist_entries;
CREATE TABLE offers_v1 (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications(id),
    school_id TEXT NOT NULL REFERENCES schools(id),
    draw_id TEXT NULL REFERENCES draws(id),
    status TEXT NOT NULL CHECK (status IN ('offered', 'accepted', 'declined', 'expired', 'withdrawn')),
    deadline TIMESTAMP NOT NULL,
    offered_at TIMESTAMP NOT NULL,
    responded_at TIMESTAMP NULL
);
INSERT INTO offers_v1 SELECT id, application_id, school_id, draw_id, status, deadline, offered_at, responded_at FROM offers;
DROP TABLE offers;
ALTER TABLE offers_v1 RENAME TO offers;
CREATE INDEX offers_app ON offers (application_id);
ALTER TABLE campaigns DROP COLUMN offer_days;
