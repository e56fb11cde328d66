-- The deployment's BLE namespace (issue 11 §1, docs/adr/0027-deployment-namespace.md):
-- 10 random bytes, generated once by the first migrate and never changed by a later
-- one. New bleUuids are namespace || 6 random bytes, so a scanner that knows the
-- namespace logs this deployment's participants and nobody else's devices.
CREATE TABLE deployment (
  -- One row: the key can only be true.
  id            boolean PRIMARY KEY DEFAULT true CHECK (id),
  ble_namespace bytea NOT NULL CHECK (length(ble_namespace) = 10),
  created_at    timestamptz NOT NULL
);

-- gen_random_uuid() (PostgreSQL 13+, pg_strong_random) is version 4: bytes 0-5 and
-- 10-15 are fully random (the version and variant bits sit in bytes 6 and 8), so
-- these 10 bytes are 80 random bits without needing pgcrypto.
INSERT INTO deployment (ble_namespace, created_at)
SELECT substring(uuid_send(gen_random_uuid()) FROM 1 FOR 6) || substring(uuid_send(gen_random_uuid()) FROM 11 FOR 4),
       now();
