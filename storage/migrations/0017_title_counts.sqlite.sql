-- A title search with a media type or state filter counts the titles the trigram index finds
-- that pass the filters: each one is looked up in this index, never in the table.
CREATE INDEX requests_kinds ON requests (id, media_type, state)
