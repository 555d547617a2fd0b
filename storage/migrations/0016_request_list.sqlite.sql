-- Each index holds every column the list filters on, the title included (a search of one or two
-- letters reads it there): a page or a count never reads the table.
CREATE INDEX requests_newest ON requests (created_at, id, state, media_type, title);
CREATE INDEX requests_state_newest ON requests (state, created_at, id, media_type, title);
CREATE INDEX requests_type_newest ON requests (media_type, created_at, id, state, title);
CREATE TRIGGER request_counts_insert AFTER INSERT ON requests BEGIN
    INSERT INTO request_counts (state, media_type, n) VALUES (new.state, new.media_type, 1)
    ON CONFLICT (state, media_type) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER request_counts_update AFTER UPDATE OF state, media_type ON requests
WHEN old.state IS NOT new.state OR old.media_type IS NOT new.media_type BEGIN
    UPDATE request_counts SET n = n - 1 WHERE state = old.state AND media_type = old.media_type;
    INSERT INTO request_counts (state, media_type, n) VALUES (new.state, new.media_type, 1)
    ON CONFLICT (state, media_type) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER request_counts_delete AFTER DELETE ON requests BEGIN
    UPDATE request_counts SET n = n - 1 WHERE state = old.state AND media_type = old.media_type;
END;
-- Title search: a trigram full-text index finds every title containing a text of three characters
-- or more, whatever its case; its rowid is the request's id. Triggers keep it in step with requests.
CREATE VIRTUAL TABLE request_titles USING fts5 (title, tokenize = 'trigram case_sensitive 0');
INSERT INTO request_titles (rowid, title) SELECT id, title FROM requests;
CREATE TRIGGER request_titles_insert AFTER INSERT ON requests BEGIN
    INSERT INTO request_titles (rowid, title) VALUES (new.id, new.title);
END;
CREATE TRIGGER request_titles_update AFTER UPDATE OF id, title ON requests
WHEN old.id IS NOT new.id OR old.title IS NOT new.title BEGIN
    DELETE FROM request_titles WHERE rowid = old.id;
    INSERT INTO request_titles (rowid, title) VALUES (new.id, new.title);
END;
CREATE TRIGGER request_titles_delete AFTER DELETE ON requests BEGIN
    DELETE FROM request_titles WHERE rowid = old.id;
END
