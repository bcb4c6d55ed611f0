DROP TABLE supplement_responses;
ALTER TABLE campaigns DROP COLUMN supplement_expiry;
ALTER TABLE review_decisions DROP COLUMN supplement_items;
