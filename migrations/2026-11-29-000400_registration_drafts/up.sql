-- A guardian's registration in progress (one child), before it becomes an
-- application, and the working copy when a submitted application is edited.
-- `data_json` is owned by src/registration/draft.rs; the child's ID number in
-- it is encrypted like children.id_number_enc. Uploaded files are stored by
-- content hash at once and become documents rows on submit.
CREATE TABLE registration_drafts (
    id TEXT PRIMARY KEY,
    guardian_id TEXT NOT NULL REFERENCES guardians(id),
    campaign_id TEXT NOT NULL REFERENCES campaigns(id),
    -- Set for an edit of this application, and once the draft is submitted.
    application_id TEXT NULL REFERENCES applications(id),
    status TEXT NOT NULL CHECK (status IN ('open', 'submitted')),
    data_json TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX registration_drafts_guardian ON registration_drafts (guardian_id, status);
