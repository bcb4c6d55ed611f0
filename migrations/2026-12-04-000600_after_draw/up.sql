-- After the draw (issue #12): offers with their source and a note, the
-- published waitlists and every move along them, administrative placements
-- (统筹) with their reason and second staff member, and how many days a
-- family has to answer an offer (a campaign setting).
ALTER TABLE campaigns ADD COLUMN offer_days INTEGER NOT NULL DEFAULT 7;

-- `offers` gains `source` (draw, admit_all, waitlist, placement) and `note`
-- (why a seat was withdrawn or how it was placed). SQLite cannot add a
-- CHECK to an existing table: rebuilt, rows copied.
CREATE TABLE offers_v2 (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications(id),
    school_id TEXT NOT NULL REFERENCES schools(id),
    draw_id TEXT NULL REFERENCES draws(id),
    status TEXT NOT NULL CHECK (status IN ('offered', 'accepted', 'declined', 'expired', 'withdrawn')),
    source TEXT NOT NULL CHECK (source IN ('draw', 'admit_all', 'waitlist', 'placement')),
    deadline TIMESTAMP NOT NULL,
    offered_at TIMESTAMP NOT NULL,
    responded_at TIMESTAMP NULL,
    note TEXT NULL
);
INSERT INTO offers_v2 (id, application_id, school_id, draw_id, status, source, deadline, offered_at, responded_at, note)
    SELECT id, application_id, school_id, draw_id, status,
           CASE WHEN draw_id IS NULL THEN 'admit_all' ELSE 'draw' END,
           deadline, offered_at, responded_at, NULL
    FROM offers;
DROP TABLE offers;
ALTER TABLE offers_v2 RENAME TO offers;
CREATE INDEX offers_app ON offers (application_id);
CREATE INDEX offers_school ON offers (school_id, status);

-- A published draw's waitlists (draw-v1 §8 `waitlists`), in the record's
-- order: `position` is 1-based and never changes. `status`: waiting,
-- offered (the seat came to this child), left (the child declined or let an
-- offer expire, or holds a seat they prefer).
CREATE TABLE waitlist_entries (
    draw_id TEXT NOT NULL REFERENCES draws(id),
    school_id TEXT NOT NULL REFERENCES schools(id),
    application_id TEXT NOT NULL REFERENCES applications(id),
    registration_no TEXT NOT NULL,
    position INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('waiting', 'offered', 'left')),
    PRIMARY KEY (draw_id, school_id, application_id)
);
CREATE UNIQUE INDEX waitlist_entries_pos ON waitlist_entries (draw_id, school_id, position);
CREATE INDEX waitlist_entries_app ON waitlist_entries (application_id);

-- Every seat freed at a school and where it went (the public per-school
-- page of waitlist movements); `seq` counts per school and campaign.
CREATE TABLE waitlist_moves (
    id TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaigns(id),
    school_id TEXT NOT NULL REFERENCES schools(id),
    seq INTEGER NOT NULL,
    at TIMESTAMP NOT NULL,
    cause TEXT NOT NULL CHECK (cause IN ('declined', 'expired', 'moved_up')),
    freed_registration_no TEXT NOT NULL,
    offered_registration_no TEXT NULL,
    waitlist_position INTEGER NULL,
    offer_id TEXT NULL REFERENCES offers(id)
);
CREATE UNIQUE INDEX waitlist_moves_seq ON waitlist_moves (campaign_id, school_id, seq);

-- Administrative placement (统筹): staff place an unplaced child at a school
-- with free seats, with a written reason; with the campaign's four-eyes
-- setting a second staff member approves it before the offer is made.
CREATE TABLE placements (
    id TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaigns(id),
    application_id TEXT NOT NULL REFERENCES applications(id),
    school_id TEXT NOT NULL REFERENCES schools(id),
    reason TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'refused')),
    proposed_by TEXT NOT NULL REFERENCES staff(id),
    proposed_at TIMESTAMP NOT NULL,
    decided_by TEXT NULL REFERENCES staff(id),
    decided_at TIMESTAMP NULL,
    offer_id TEXT NULL REFERENCES offers(id)
);
CREATE INDEX placements_app ON placements (application_id);
CREATE INDEX placements_school ON placements (campaign_id, school_id, status);
