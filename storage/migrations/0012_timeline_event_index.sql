-- /health counts refused transitions on every call: an index keeps that a look-up, not a scan.
CREATE INDEX timeline_event ON timeline (event)
