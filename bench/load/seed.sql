-- Fills campaign 2027-G1 with SEED registrations (the benchmark runs
-- against a campaign that already holds 300 000), in SQL both backends
-- accept. @SEED@ is replaced by bench/load.sh. Rows are complete enough for
-- every index and every per-guardian lookup to have their real size: a
-- guardian, a child, an application, an event, a document and a submitted
-- draft each; the ID numbers are placeholders (no real encryption: these
-- children are never shown). The audit log is not seeded (appending costs
-- the same whatever its length: a sequence number and an insert).
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < @SEED@)
INSERT INTO guardians (id, openid, unionid, name, relation, phone, created_at, updated_at)
SELECT 'seed-g' || i, 'seed-' || i, NULL, '林美玲', '母亲', '13805951234', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM s;

WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < @SEED@)
INSERT INTO children (id, campaign_id, guardian_id, name, id_number_enc, id_number_hash, id_number_masked, birth_date, sex, created_at)
SELECT 'seed-c' || i, '2027-G1', 'seed-g' || i, '林小明', 'seed', 'seed-h' || i, '350524********0000', '2021-01-01', 'M', CURRENT_TIMESTAMP FROM s;

WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < @SEED@)
INSERT INTO applications (id, campaign_id, child_id, registration_no, status, facts_json, family_id, township_id,
    catchment_school_id, zone_id, category, priority_json, explanation, idempotency_key, submitted_at, updated_at, version)
SELECT 'seed-a' || i, '2027-G1', 'seed-c' || i, '2027-G1-S' || i, 'submitted', '{}', NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, 'seed-k' || i, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1 FROM s;

WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < @SEED@)
INSERT INTO application_events (id, application_id, at, status, actor, note)
SELECT 'seed-e' || i, 'seed-a' || i, CURRENT_TIMESTAMP, 'submitted', 'guardian:seed-g' || i, '' FROM s;

WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < @SEED@)
INSERT INTO documents (id, application_id, kind, content_hash, mime, size_bytes, uploaded_at)
SELECT 'seed-d' || i, 'seed-a' || i, 'hukou', 'seed', 'image/png', 1000, CURRENT_TIMESTAMP FROM s;

WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < @SEED@)
INSERT INTO registration_drafts (id, guardian_id, campaign_id, application_id, status, data_json, created_at, updated_at)
SELECT 'seed-r' || i, 'seed-g' || i, '2027-G1', 'seed-a' || i, 'submitted', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM s;
