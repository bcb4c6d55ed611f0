-- Issue 14: every query on a request path uses an index (tests/query_plans.rs
-- runs each hot query's plan on both backends). Per-guardian lookups (the
-- sibling check at submit, a parent's application list) and the twin family
-- had none, so their cost grew with the number of registrations.
CREATE INDEX children_guardian ON children (guardian_id, campaign_id);
CREATE INDEX applications_family ON applications (family_id);
CREATE INDEX guardians_unionid ON guardians (unionid);
CREATE INDEX staff_refresh_tokens_staff ON staff_refresh_tokens (staff_id);
CREATE INDEX offers_school ON offers (school_id);
CREATE INDEX applications_township ON applications (township_id, status);
CREATE INDEX applications_assigned ON applications (assigned_township_id);
