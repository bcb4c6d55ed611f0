-- Supplements a family can answer (issue 10, item 1).
--
-- What a reviewer asked for beyond the note: the document kinds to upload
-- and the form sections to correct, as JSON owned by src/review/supplement.rs.
ALTER TABLE review_decisions ADD COLUMN supplement_items TEXT NULL;

-- What becomes of a supplement request nobody answered by its deadline:
-- 'reject' (驳回, reason supplement_expired) or 'review' (reviewed as it stands).
ALTER TABLE campaigns ADD COLUMN supplement_expiry TEXT NOT NULL DEFAULT 'reject';

-- The one answer to a supplement request: the family's (answered) or the
-- deadline's (expired). UNIQUE (decision_id): a request is answered once.
CREATE TABLE supplement_responses (
    id TEXT PRIMARY KEY,
    decision_id TEXT NOT NULL UNIQUE REFERENCES review_decisions(id),
    application_id TEXT NOT NULL REFERENCES applications(id),
    outcome TEXT NOT NULL CHECK (outcome IN ('answered', 'expired')),
    reply TEXT NOT NULL DEFAULT '',
    -- Document kinds added with the answer: ["property_cert", …].
    documents_json TEXT NOT NULL DEFAULT '[]',
    -- Corrected fields: [{"label", "before", "after"}, …].
    changes_json TEXT NOT NULL DEFAULT '[]',
    at TIMESTAMP NOT NULL
);
CREATE INDEX supplement_responses_app ON supplement_responses (application_id);
