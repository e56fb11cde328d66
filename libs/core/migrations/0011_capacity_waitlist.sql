-- Registration states an organizer can rely on (issue 12, docs/adr/0074-capacity-and-waitlist-in-one-core-rule.md):
-- an optional capacity and closing time per event, and a waitlist beside the
-- registrations. `registrations` keeps meaning "has a seat", so the roster, the
-- report and every count read from it stay registered-only without a change.
ALTER TABLE events
  ADD COLUMN capacity integer CHECK (capacity BETWEEN 1 AND 1000000),  -- NULL = unlimited
  ADD COLUMN registration_closes_at timestamptz;                       -- NULL = when the event is over

-- Participants waiting for a seat, first come first served by seq (a
-- sequence, not a time: two requests in the same millisecond still have an order).
CREATE TABLE waitlist (
  event_id  text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  seq       bigint GENERATED ALWAYS AS IDENTITY,
  joined_at timestamptz NOT NULL,
  PRIMARY KEY (event_id, user_id)
);
CREATE UNIQUE INDEX waitlist_order ON waitlist (event_id, seq);
CREATE INDEX waitlist_user ON waitlist (user_id);
