-- ruxue schema v1. Keep this file and its SQLite twin in step: same tables,
-- same columns, same constraints, only the SQL types both backends share.
-- See docs/data-model.md.

CREATE TABLE townships (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);

CREATE TABLE schools (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('primary', 'junior')),
    township_id TEXT NOT NULL REFERENCES townships(id),
    address TEXT NOT NULL DEFAULT ''
);

CREATE TABLE campaigns (
    id TEXT PRIMARY KEY,
    year INTEGER NOT NULL,
    grade INTEGER NOT NULL CHECK (grade IN (1, 7)),
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    registration_opens TIMESTAMP NOT NULL,
    registration_closes TIMESTAMP NOT NULL,
    review_deadline TIMESTAMP NOT NULL,
    draw_day TIMESTAMP NOT NULL,
    offer_deadline TIMESTAMP NOT NULL,
    min_age INTEGER NOT NULL,
    max_age INTEGER NOT NULL,
    age_cutoff TEXT NOT NULL,
    policy_toml TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    policy_frozen_at TIMESTAMP NULL,
    four_eyes BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (year, grade)
);

CREATE TABLE school_plans (
    campaign_id TEXT NOT NULL REFERENCES campaigns(id),
    school_id TEXT NOT NULL REFERENCES schools(id),
    planned_classes INTEGER NOT NULL CHECK (planned_classes >= 0),
    class_size_cap INTEGER NOT NULL CHECK (class_size_cap > 0),
    PRIMARY KEY (campaign_id, school_id)
);

CREATE TABLE zones (
    id TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaigns(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (campaign_id, code)
);

CREATE TABLE zone_schools (
    zone_id TEXT NOT NULL REFERENCES zones(id),
    school_id TEXT NOT NULL REFERENCES schools(id),
    position INTEGER NOT NULL,
    PRIMARY KEY (zone_id, school_id)
);

CREATE TABLE catchment_rules (
    id TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaigns(id),
    position INTEGER NOT NULL,
    precedence INTEGER NOT NULL,
    kind TEXT NOT NULL,
    township TEXT NOT NULL,
    target_school_id TEXT NULL REFERENCES schools(id),
    target_zone_id TEXT NULL REFERENCES zones(id),
    rule_json TEXT NOT NULL,
    UNIQUE (campaign_id, position)
);

CREATE TABLE guardians (
    id TEXT PRIMARY KEY,
    openid TEXT NOT NULL UNIQUE,
    unionid TEXT NULL,
    name TEXT NOT NULL DEFAULT '',
    relation TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE children (
    id TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaigns(id),
    guardian_id TEXT NOT NULL REFERENCES guardians(id),
    name TEXT NOT NULL,
    id_number_enc TEXT NOT NULL,
    id_number_hash TEXT NOT NULL,
    id_number_masked TEXT NOT NULL,
    birth_date DATE NOT NULL,
    sex TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (campaign_id, id_number_hash)
);

CREATE TABLE applications (
    id TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaigns(id),
    child_id TEXT NOT NULL UNIQUE REFERENCES children(id),
    registration_no TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    facts_json TEXT NOT NULL,
    family_id TEXT NULL,
    township_id TEXT NULL REFERENCES townships(id),
    catchment_school_id TEXT NULL REFERENCES schools(id),
    zone_id TEXT NULL REFERENCES zones(id),
    category TEXT NULL,
    priority_json TEXT NULL,
    explanation TEXT NULL,
    idempotency_key TEXT NULL UNIQUE,
    submitted_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version INTEGER NOT NULL
);
CREATE INDEX applications_campaign_status ON applications (campaign_id, status);
CREATE INDEX applications_school ON applications (catchment_school_id);

CREATE TABLE application_events (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications(id),
    at TIMESTAMP NOT NULL,
    status TEXT NOT NULL,
    actor TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX application_events_app ON application_events (application_id, at);

CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications(id),
    kind TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    mime TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    uploaded_at TIMESTAMP NOT NULL
);
CREATE INDEX documents_app ON documents (application_id);

CREATE TABLE staff (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'reviewer', 'operator', 'auditor')),
    township_scope TEXT NOT NULL DEFAULT '[]',
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMP NULL,
    token_version INTEGER NOT NULL DEFAULT 0,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    password_changed_at TIMESTAMP NOT NULL
);

CREATE TABLE staff_refresh_tokens (
    id TEXT PRIMARY KEY,
    staff_id TEXT NOT NULL REFERENCES staff(id),
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE review_decisions (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications(id),
    reviewer_id TEXT NOT NULL REFERENCES staff(id),
    decision TEXT NOT NULL CHECK (decision IN ('approve', 'reject', 'supplement', 'note')),
    reason_code TEXT NULL,
    note TEXT NOT NULL DEFAULT '',
    override_school_id TEXT NULL REFERENCES schools(id),
    override_category TEXT NULL,
    needs_second BOOLEAN NOT NULL,
    second_reviewer_id TEXT NULL REFERENCES staff(id),
    second_at TIMESTAMP NULL,
    supplement_deadline TIMESTAMP NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX review_decisions_app ON review_decisions (application_id);

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

CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'wechat', 'sms')),
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error TEXT NULL,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP NULL
);
CREATE INDEX notifications_pending ON notifications (status, next_attempt_at);

CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY,
    scope TEXT NOT NULL,
    response_json TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    before_json TEXT NULL,
    after_json TEXT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE
);
