-- Manual check-ins and revocations by door staff (docs/check-in-semantics.md,
-- docs/adr/0065-append-only-check-in-overrides.md). Append-only: a row is the
-- audit trail itself (who, when, why), so UPDATE and DELETE are refused by a
-- trigger; rows leave only with their event or participant (ON DELETE CASCADE,
-- which deletes through the foreign key and bypasses no rule: the trigger
-- allows a delete whose event or user no longer exists). A participant's
-- effective state = the scanner's check-ins and the latest override (by at, id).
-- The admin is kept as the email they signed in with (the admin accounts table,
-- migration 0050, is applied after this one on a fresh database, and the trail
-- must outlive the account).
CREATE TABLE check_in_overrides (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id    text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  action      text NOT NULL CHECK (action IN ('check_in', 'revoke')),
  admin_email text NOT NULL CHECK (length(admin_email) BETWEEN 1 AND 254),
  reason      text NOT NULL CHECK (length(reason) <= 500 AND btrim(reason) <> ''),
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX check_in_overrides_event ON check_in_overrides (event_id, user_id, at, id);

CREATE FUNCTION check_in_overrides_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- A cascade from a deleted event or user may remove rows; nothing else may.
  IF TG_OP = 'DELETE' AND (NOT EXISTS (SELECT 1 FROM events WHERE id = OLD.event_id)
                           OR NOT EXISTS (SELECT 1 FROM users WHERE id = OLD.user_id)) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'check_in_overrides is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER check_in_overrides_no_update BEFORE UPDATE ON check_in_overrides
  FOR EACH ROW EXECUTE FUNCTION check_in_overrides_append_only();
CREATE TRIGGER check_in_overrides_no_delete BEFORE DELETE ON check_in_overrides
  FOR EACH ROW EXECUTE FUNCTION check_in_overrides_append_only();

-- The report's data version (migration 0003, ADR 0035): an override changes the
-- report, so it moves events.report_version in its own transaction, once per
-- statement and event (the function registrations use).
CREATE TRIGGER check_in_overrides_report_version AFTER INSERT ON check_in_overrides
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION report_version_registrations();
