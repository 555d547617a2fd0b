-- A title search counts every title containing the text. The trigram index narrows a long
-- text's candidates but has each one's row read to check it, and cannot serve a text of one
-- or two letters at all; LOWER(title) of every row costs more than the rest of a scan. So the
-- folded title is stored, and held with the filters in an index a count reads alone (the
-- planner takes it over the trigram index once the candidates are many).
ALTER TABLE requests ADD COLUMN title_folded TEXT GENERATED ALWAYS AS (LOWER(title)) STORED;
CREATE INDEX requests_folded_titles ON requests (media_type, state, title_folded);
DROP INDEX IF EXISTS requests_title_trigrams;
DO 'BEGIN
    CREATE INDEX requests_title_trigrams ON requests USING gin (title_folded gin_trgm_ops);
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE ''no trigram index for the title search (%): it scans'', SQLERRM;
END';
ANALYZE requests
