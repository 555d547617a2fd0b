-- A dead letter keeps the mail it came from, so a person can retry it after the cause is fixed
-- (the mail row itself is pruned with the applied mail).
ALTER TABLE dead_letters ADD COLUMN mail_id BIGINT;
ALTER TABLE dead_letters ADD COLUMN target TEXT;
ALTER TABLE dead_letters ADD COLUMN source TEXT;
ALTER TABLE dead_letters ADD COLUMN kind TEXT;
ALTER TABLE dead_letters ADD COLUMN body TEXT
