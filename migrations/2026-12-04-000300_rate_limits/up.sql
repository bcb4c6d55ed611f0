-- Fixed-window request counters (issue 14): one row per bucket and window,
-- shared by every `ruxue serve` on the database. A bucket is a SHA-256 of
-- what is counted (a guardian, a client address, a guardian's duplicate ID
-- hits), never the address or the id itself. Rows of past windows are
-- deleted as new windows start.
CREATE TABLE rate_limits (
    bucket TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits INTEGER NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
CREATE INDEX rate_limits_window ON rate_limits (window_start);
