-- The bleUuids of deleted participants (issue 12, docs/adr/0076-participant-data-rights-in-the-api-and-one-security-suite.md):
-- their check-in rows stay (ADR 0069: the event's totals stay true), and reports
-- count them as one anonymous number instead of listing each as an unknown device,
-- so no id of an erased participant reaches a report. Only the id: nothing links
-- it to a person any more.
CREATE TABLE erased_ble_uuids (
  ble_uuid uuid PRIMARY KEY
);

-- Every report depends on it, like users and retired bleUuids (migration 0003).
CREATE TRIGGER erased_ble_uuids_report_version AFTER INSERT OR DELETE OR UPDATE ON erased_ble_uuids
  FOR EACH STATEMENT EXECUTE FUNCTION report_version_users();
