-- pgbench: the statements one registration submit writes, in one
-- transaction, without ruxue in between (the ceiling for the submit
-- benchmark). The reads the submit does before writing (draft, guardian,
-- idempotency record, duplicate and sibling checks) are here too, by the
-- same indexes.
\set id random(1, 9000000000000)
\set g random(1, :seed)
BEGIN;
SELECT response_json FROM idempotency_keys WHERE key = 'pb-k' || :id;
SELECT id, data_json FROM registration_drafts WHERE id = 'seed-r' || :g AND guardian_id = 'seed-g' || :g;
SELECT a.id FROM children c JOIN applications a ON a.child_id = c.id WHERE c.campaign_id = '2027-G1' AND c.id_number_hash = 'pb-h' || :id;
SELECT a.id, a.registration_no, a.family_id, a.facts_json FROM applications a JOIN children c ON c.id = a.child_id WHERE c.guardian_id = 'seed-g' || :g AND c.campaign_id = '2027-G1' LIMIT 1;
SELECT nextval('bench_regno');
SELECT count(*) FROM applications WHERE registration_no = '2027-G1-P' || :id;
INSERT INTO children (id, campaign_id, guardian_id, name, id_number_enc, id_number_hash, id_number_masked, birth_date, sex, created_at)
    VALUES ('pb-c' || :id, '2027-G1', 'seed-g' || :g, '林小明', repeat('x', 120), 'pb-h' || :id, '350524********0000', DATE '2021-01-01', 'M', now());
INSERT INTO applications (id, campaign_id, child_id, registration_no, status, facts_json, idempotency_key, submitted_at, updated_at, version)
    VALUES ('pb-a' || :id, '2027-G1', 'pb-c' || :id, '2027-G1-P' || :id, 'submitted', repeat('{"hukou":"local"}', 20), 'pb-i' || :id, now(), now(), 1);
INSERT INTO application_events (id, application_id, at, status, actor, note) VALUES ('pb-e' || :id, 'pb-a' || :id, now(), 'submitted', 'guardian', '');
INSERT INTO documents (id, application_id, kind, content_hash, mime, size_bytes, uploaded_at)
    VALUES ('pb-d' || :id, 'pb-a' || :id, 'hukou', 'pb', 'image/png', 1000, now());
INSERT INTO audit_log (seq, at, actor, action, target, before_json, after_json, prev_hash, hash)
    SELECT v, now(), 'guardian:bench', 'application.submit', 'application:pb-a' || :id, NULL, '{"registration_no":"x"}', '', 'pending:' || v
    FROM (SELECT nextval('ruxue_audit_pending') AS v) n;
INSERT INTO idempotency_keys (key, scope, response_json, created_at) VALUES ('pb-k' || :id, 'registration.submit', '{}', now());
END;
