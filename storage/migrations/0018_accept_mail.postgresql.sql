-- One webhook's mail stored, or found a duplicate, in one call: the statements that store it
-- on SQLite (_accept_statements in storage/_store.py), in their order, run by the server. A
-- burst's webhooks are then one pipelined call for all of them, one round trip (the server
-- runs it as one implicit transaction), not seven (BEGIN, each of the five statements for all
-- of them, COMMIT).
--   inserted: the new mail's id, or null for a duplicate;
--   by_event, by_body: the earlier mail with its event key, with its body.
CREATE FUNCTION accept_mail(
    mail_target TEXT, mail_source TEXT, mail_kind TEXT, mail_body TEXT, mail_dedupe_key TEXT,
    mail_event_key TEXT, received DOUBLE PRECISION, bodies_expire DOUBLE PRECISION,
    events_expire DOUBLE PRECISION,
    OUT inserted BIGINT, OUT by_event BIGINT, OUT by_body BIGINT
) LANGUAGE plpgsql AS '
BEGIN
    UPDATE mail SET dedupe_key = NULL
        WHERE dedupe_key = mail_dedupe_key AND received_at <= bodies_expire;
    DELETE FROM event_keys WHERE key = mail_event_key AND at <= events_expire;
    INSERT INTO mail (target, source, kind, body, dedupe_key, received_at)
        SELECT mail_target, mail_source, mail_kind, mail_body, mail_dedupe_key, received
        WHERE NOT EXISTS (SELECT 1 FROM event_keys WHERE key = mail_event_key)
        ON CONFLICT (dedupe_key) DO NOTHING RETURNING id INTO inserted;
    INSERT INTO event_keys (key, mail_id, at)
        SELECT mail_event_key, id, received FROM mail
        WHERE dedupe_key = mail_dedupe_key AND mail_event_key IS NOT NULL
        ON CONFLICT (key) DO NOTHING;
    by_event := (SELECT mail_id FROM event_keys WHERE key = mail_event_key);
    by_body := (SELECT id FROM mail WHERE dedupe_key = mail_dedupe_key);
END'
