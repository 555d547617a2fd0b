-- The dispatcher reads a page of webhooks' requests in one query, matching each look-up column
-- with IN lists joined by OR: an index on every one of them keeps that a look-up, not a scan.
CREATE INDEX requests_jellyseerr ON requests (jellyseerr_request_id)
