DROP TABLE wechat_tokens;
CREATE TABLE notifications_v1 (
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
INSERT INTO notifications_v1 (id, channel, recipient, subject, body, status, attempts, next_attempt_at, last_error, created_at, sent_at)
SELECT id, channel, recipient, subject, body,
       CASE status WHEN 'sent' THEN 'sent' WHEN 'pending' THEN 'pending' WHEN 'sending' THEN 'pending' ELSE 'failed' END,
       attempts, next_attempt_at, last_error, created_at, sent_at
FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_v1 RENAME TO notifications;
CREATE INDEX notifications_pending ON notifications (status, next_attempt_at);
ALTER TABLE guardians DROP COLUMN notify_channels;
ALTER TABLE guardians DROP COLUMN email;
