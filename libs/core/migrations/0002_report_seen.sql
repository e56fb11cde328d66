-- The attendance report's summary of check_ins (docs/benchmarks-core.md,
-- "Report"). Per (event, bleUuid, scanner): first and last check-in time and
-- the row count, over exactly the check-ins whose receipt is listed in
-- report_folded for that event. buildReport folds receipts not listed yet into
-- it (report time, so ingest stays a plain COPY) and aggregates on the fly only
-- the check-ins of receipts not folded yet and rows without a receipt.
-- Invariant: a check-in's receipt_id never changes, and every check-in of a
-- receipt commits with the receipt. Deleting an event's check-ins must delete
-- the event (ON DELETE CASCADE clears these tables), as the admin app does.
CREATE TABLE report_seen (
  event_id   text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  ble_uuid   uuid NOT NULL,
  scanner_id text NOT NULL,
  first_ms   bigint NOT NULL,
  last_ms    bigint NOT NULL,
  n          bigint NOT NULL,
  PRIMARY KEY (event_id, ble_uuid, scanner_id)
);

CREATE TABLE report_folded (
  event_id   text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  receipt_id bigint NOT NULL,
  PRIMARY KEY (event_id, receipt_id)
);

-- Finds the check-ins of given receipts (and those without one) of an event.
CREATE INDEX check_ins_event_receipt ON check_ins (event_id, receipt_id);
