-- Draw day (issue #11): a draw is frozen from approved applications, its
-- witnesses commit and reveal, its announcement is signed, its beacon is
-- fetched and its record is stored once. The init migration's `draws` held
-- only a finished announcement and record, and no code wrote to it; it is
-- rebuilt with the day's steps. `offers` refers to it and is rebuilt as it was.
DROP TABLE offers;
DROP TABLE draws;

CREATE TABLE draws (
    -- The spec's `draw_id` (an identifier, e.g. `2027-G1-FC01`); `id` is the same value.
    id TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaigns(id),
    draw_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('school', 'zone')),
    -- The school or zone the draw places children in.
    unit_id TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('frozen', 'announced', 'drawn')),
    -- Frozen at the freeze: CJSON of the announcement's `schools` and of the roster.
    schools_json TEXT NOT NULL,
    roster_json TEXT NOT NULL,
    roster_root TEXT NOT NULL,
    roster_size INTEGER NOT NULL,
    -- Set by the announcement.
    scheduled_at TIMESTAMP NULL,
    beacon_round BIGINT NULL,
    announcement_json TEXT NULL,
    announcement_digest TEXT NULL,
    signature TEXT NULL,
    -- The beacon round's signature (hex), once fetched or typed in and checked.
    beacon_value TEXT NULL,
    -- Set once by the run; never changed afterwards.
    record_json TEXT NULL,
    record_digest TEXT NULL,
    result_digest TEXT NULL,
    frozen_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    announced_at TIMESTAMP NULL,
    computed_at TIMESTAMP NULL,
    published_at TIMESTAMP NULL
);
CREATE UNIQUE INDEX draws_unit ON draws (campaign_id, unit_id);

-- The applications a frozen draw holds: any change to them is refused.
CREATE TABLE draw_entries (
    draw_id TEXT NOT NULL REFERENCES draws(id),
    application_id TEXT NOT NULL REFERENCES applications(id),
    registration_no TEXT NOT NULL,
    category TEXT NULL,
    PRIMARY KEY (draw_id, application_id)
);
CREATE INDEX draw_entries_app ON draw_entries (application_id);
CREATE INDEX draw_entries_no ON draw_entries (draw_id, registration_no);

-- A draw's human randomness sources (draw-v1 §10 step 2): the notary and the
-- parents' representatives. Only the commitment is kept before the reveal.
CREATE TABLE draw_witnesses (
    id TEXT PRIMARY KEY,
    draw_id TEXT NOT NULL REFERENCES draws(id),
    seq INTEGER NOT NULL,
    -- The source's name in the announcement (`witness-1`, …).
    source_name TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('notary', 'parent_rep', 'other')),
    -- SHA-256 of the one-time link's token; the link commits, and after the
    -- announcement reveals, once each.
    token_hash TEXT NULL UNIQUE,
    token_expires_at TIMESTAMP NULL,
    commitment TEXT NULL,
    committed_at TIMESTAMP NULL,
    value TEXT NULL,
    revealed_at TIMESTAMP NULL
);
CREATE UNIQUE INDEX draw_witnesses_source ON draw_witnesses (draw_id, source_name);

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
