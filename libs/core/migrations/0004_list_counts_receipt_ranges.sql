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

-- 3. Each sync receipt remembers the range of check-in times its batch covered
--    (its accepted records; NULL when it had none). ingestBatch skips the direct
--    COPY when an earlier receipt of the same event and scanner overlaps the new
--    batch's range: any stored row the batch repeats lies in such a range, so a
--    resend, whole or partial, goes straight to the idempotent path instead of
--    aborting a COPY (an ERROR line in the server log). Fresh batches of a
--    growing log do not overlap and keep the COPY (docs/backend.md, "Ingest paths").
ALTER TABLE sync_receipts ADD COLUMN min_check_in_time bigint, ADD COLUMN max_check_in_time bigint;
UPDATE sync_receipts s SET min_check_in_time = r.lo, max_check_in_time = r.hi
  FROM (SELECT receipt_id, min(check_in_time) AS lo, max(check_in_time) AS hi FROM check_ins
        WHERE receipt_id IS NOT NULL GROUP BY receipt_id) r
  WHERE r.receipt_id = s.id;
