DROP TABLE offers;
DROP TABLE draw_witnesses;
DROP TABLE draw_entries;
DROP TABLE draws;
CREATE TABLE draws (
    id TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaigns(id),
    draw_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('school', 'zone')),
    status TEXT NOT NULL CHECK (status IN ('announced', 'computed', 'published')),
    announcement_json TEXT NOT NULL,
    announcement_digest TEXT NOT NULL,
    signature TEXT NOT NULL,
    record_json TEXT NULL,
    result_digest TEXT NULL,
    created_at TIMESTAMP NOT NULL,
    computed_at TIMESTAMP NULL
);
CREATE TABLE offers (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications(id),
    school_id TEXT NOT NULL REFERENCES schools(id),
    draw_id TEXT NULL REFERENCES draws(id),
    status TEXT NOT NULL CHECK (status IN ('offered', 'accepted', 'declined', 'expired', 'withdrawn')),
    deadline TIMESTAMP NOT NULL,
    offered_at TIMESTAMP NOT NULL,
    responded_at TIMESTAMP NULL
);
CREATE INDEX offers_app ON offers (application_id);
