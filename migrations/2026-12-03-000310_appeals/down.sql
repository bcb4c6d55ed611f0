DROP TABLE appeals;
ALTER TABLE campaigns DROP COLUMN appeal_days;
