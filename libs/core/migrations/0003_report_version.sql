-- The report's data version (docs/storage.md, docs/adr/0035-...): a cached
-- report is reused while core::readReportVersion returns the numbers it was
-- built with. Every number changes in the same transaction as the data it
-- covers, so a reader never sees new data under an old number or the reverse:
--   events.report_version   the event row (BEFORE UPDATE trigger) and its
--                           registrations (statement triggers below);
--   report_users_version    users and retired bleUuids, for every event (a new
--                           user can turn an unknown device into a walk-in);
--   count(*) of the event's sync_receipts and of its check-ins without a
--                           receipt, read by the version query itself.
-- No trigger on check_ins: a batch stays a plain COPY. Invariant: every
-- check-in with a receipt_id commits together with that receipt, and receipts
-- are only deleted with their event (a performCheckIn under an existing receipt
-- would be invisible to the version, as it is to report_seen, migration 0002).

ALTER TABLE events ADD COLUMN report_version bigint NOT NULL DEFAULT 0;

-- Any update of an event row (name, venue, dates, or a bump below) moves it.
CREATE FUNCTION report_version_event_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.report_version := OLD.report_version + 1;
  RETURN NEW;
END
$$;
CREATE TRIGGER events_report_version BEFORE UPDATE ON events
  FOR EACH ROW EXECUTE FUNCTION report_version_event_row();

-- Registrations: once per statement, for each event it touched. The event rows
-- are locked in id order first (FOR NO KEY UPDATE, which does not conflict with
-- ingest's FOR KEY SHARE) so two multi-event statements cannot deadlock.
CREATE FUNCTION report_version_registrations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    PERFORM 1 FROM events WHERE id IN (SELECT event_id FROM changed UNION SELECT event_id FROM changed_old)
      ORDER BY id FOR NO KEY UPDATE;
    UPDATE events SET report_version = report_version + 1
      WHERE id IN (SELECT event_id FROM changed UNION SELECT event_id FROM changed_old);
  ELSE
    PERFORM 1 FROM events WHERE id IN (SELECT event_id FROM changed) ORDER BY id FOR NO KEY UPDATE;
    UPDATE events SET report_version = report_version + 1 WHERE id IN (SELECT event_id FROM changed);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER registrations_report_version_insert AFTER INSERT ON registrations
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION report_version_registrations();
CREATE TRIGGER registrations_report_version_delete AFTER DELETE ON registrations
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION report_version_registrations();
CREATE TRIGGER registrations_report_version_update AFTER UPDATE ON registrations
  REFERENCING NEW TABLE AS changed OLD TABLE AS changed_old
  FOR EACH STATEMENT EXECUTE FUNCTION report_version_registrations();

-- One row. Users and retired bleUuids appear in every event's report.
CREATE TABLE report_users_version (
  one     boolean PRIMARY KEY DEFAULT true CHECK (one),
  version bigint NOT NULL DEFAULT 0
);
INSERT INTO report_users_version DEFAULT VALUES;

CREATE FUNCTION report_version_users() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE report_users_version SET version = version + 1;
  RETURN NULL;
END
$$;
-- Not on password, disabled or sessions: the report shows neither.
CREATE TRIGGER users_report_version AFTER INSERT OR DELETE OR UPDATE OF display_name, email, ble_uuid ON users
  FOR EACH STATEMENT EXECUTE FUNCTION report_version_users();
CREATE TRIGGER retired_ble_uuids_report_version AFTER INSERT OR DELETE OR UPDATE ON retired_ble_uuids
  FOR EACH STATEMENT EXECUTE FUNCTION report_version_users();
