-- Which scanners may write check-ins into (and read the roster of) which events
-- (docs/adr/0046-scanners-are-assigned-to-events.md). Ingest and the roster look
-- up one row by the primary key; the event index serves "this event's scanners"
-- and the cascade from events.
CREATE TABLE scanner_assignments (
  scanner_id  text NOT NULL REFERENCES scanners (scanner_id) ON DELETE CASCADE,
  event_id    text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  assigned_at timestamptz NOT NULL,
  PRIMARY KEY (scanner_id, event_id)
);
CREATE INDEX scanner_assignments_event ON scanner_assignments (event_id);

-- Upgrade without taking anything away: before this migration every scanner key
-- could write into every event, so every existing non-revoked scanner is assigned
-- to every existing event. Events and scanners created from now on start with no
-- assignment. A revoked key cannot sign in, so it gets none.
INSERT INTO scanner_assignments (scanner_id, event_id, assigned_at)
SELECT s.scanner_id, e.id, now()
FROM scanners s CROSS JOIN events e
WHERE s.revoked_at IS NULL;
