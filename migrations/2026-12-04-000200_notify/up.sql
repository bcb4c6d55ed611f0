-- Issue #13: notifications to parents through a durable outbox.
-- The guardian chooses how to be told (wechat | email | both) and may give an email address.
ALTER TABLE guardians ADD COLUMN email TEXT NULL;
ALTER TABLE guardians ADD COLUMN notify_channels TEXT NOT NULL DEFAULT 'wechat';

-- The outbox grows a delivery lifecycle (pending → sending → sent, or failed /
-- dead), a deduplication key, a lease and the event it announces. SQLite cannot
-- alter a CHECK constraint, so the table is recreated and its rows copied.
CREATE TABLE notifications_v2 (
    id TEXT PRIMARY KEY,
    dedup_key TEXT NOT NULL UNIQUE,
    event TEXT NOT NULL,
    campaign_id TEXT NULL REFERENCES campaigns(id),
    application_id TEXT NULL REFERENCES applications(id),
    guardian_id TEXT NULL REFERENCES guardians(id),
    channel TEXT NOT NULL CHECK (channel IN ('email', 'wechat', 'sms')),
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    data_json TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_owner TEXT NULL,
    lease_expires_at TIMESTAMP NULL,
    last_error TEXT NULL,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP NULL
);
INSERT INTO notifications_v2 (id, dedup_key, event, campaign_id, application_id, guardian_id, channel, recipient, subject, body,
                              data_json, status, attempts, next_attempt_at, lease_owner, lease_expires_at, last_error, created_at, sent_at)
SELECT id, 'legacy.' || id, 'legacy', NULL, NULL, NULL, channel, recipient, subject, body,
       '{}', CASE status WHEN 'failed' THEN 'dead' ELSE status END, attempts, next_attempt_at, NULL, NULL, last_error, created_at, sent_at
FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_v2 RENAME TO notifications;
CREATE INDEX notifications_pending ON notifications (status, next_attempt_at);
CREATE INDEX notifications_campaign ON notifications (campaign_id, status);

-- The WeChat server API's access_token, shared by every instance so that none
-- invalidates another's by fetching its own. `refreshing_until` is a short
-- lease: the one instance holding it fetches, the others wait and re-read.
CREATE TABLE wechat_tokens (
    app_id TEXT PRIMARY KEY,
    access_token TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    refreshing_until TIMESTAMP NULL,
    updated_at TIMESTAMP NOT NULL
);
