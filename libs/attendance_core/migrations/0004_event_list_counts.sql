-- The organizers' lists at 50,000 participants (docs/benchmarks-admin-queries.md).
--
-- 1. Registrations and participants are shown 50 at a time, ordered by
--    lower(display_name), lower(email): with this index the first page is read
--    in order instead of sorting every row.
CREATE INDEX users_name_order ON users (lower(display_name), lower(email));

-- 2. The events list's registered/attended counts, per event, stored with the
--    report version (migration 0003) they were computed under. listEventSummaries
--    recomputes only events whose version moved (a sync, a registration, a user
--    or bleUuid change) and otherwise reads these numbers: recounting 200,000
--    check-ins on every page view cost ~150 ms. A row whose version does not
--    match is never used, so a stale or missing row costs time, never accuracy.
CREATE TABLE event_list_counts (
  event_id      text PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
  event_version bigint NOT NULL,  -- events.report_version
  users_version bigint NOT NULL,  -- report_users_version.version
  receipts      bigint NOT NULL,  -- count of the event's sync_receipts
  unreceipted   bigint NOT NULL,  -- count of its check-ins without a receipt
  registered    bigint NOT NULL,
  attended      bigint NOT NULL
);
