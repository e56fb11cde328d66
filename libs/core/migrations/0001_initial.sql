-- attendance schema v1. Migrations are append-only: never edit a released file,
-- add NNNN_next.sql instead (docs/storage.md).

CREATE TABLE users (
  id            uuid PRIMARY KEY,
  email         text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
  display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
  password_hash text,                       -- Argon2id (crypto_pwhash_str); NULL = cannot log in
  disabled      boolean NOT NULL DEFAULT false,
  ble_uuid      uuid NOT NULL UNIQUE,
  created_at    timestamptz NOT NULL
);
-- Email is unique regardless of case.
CREATE UNIQUE INDEX users_email_ci ON users (lower(email));

-- bleUuids a user had before regenerate-ble-uuid: old check-ins still belong to them.
CREATE TABLE retired_ble_uuids (
  ble_uuid   uuid PRIMARY KEY,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  retired_at timestamptz NOT NULL
);

CREATE TABLE events (
  id         text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._:-]{1,128}$'),
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  venue      text NOT NULL DEFAULT '',
  starts_at  timestamptz,
  ends_at    timestamptz,
  created_at timestamptz NOT NULL,
  CHECK (starts_at IS NULL OR ends_at IS NULL OR ends_at >= starts_at)
);

CREATE TABLE registrations (
  event_id   text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (event_id, user_id)
);
CREATE INDEX registrations_user ON registrations (user_id);

CREATE TABLE scanners (
  scanner_id text PRIMARY KEY CHECK (scanner_id ~ '^[A-Za-z0-9._:-]{1,128}$'),
  key_hash   bytea NOT NULL CHECK (length(key_hash) = 32),   -- SHA-256 of the API key
  key_prefix text NOT NULL,                                  -- first 12 characters, for display and lookup
  created_at timestamptz NOT NULL,
  revoked_at timestamptz
);
CREATE INDEX scanners_key_prefix ON scanners (key_prefix);

-- One row per accepted /batchCheckIn request, even when it stored nothing:
-- "synced, nobody came" is distinct from "not synced".
CREATE TABLE sync_receipts (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id    text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  scanner_id  text NOT NULL REFERENCES scanners (scanner_id),
  received_at timestamptz NOT NULL,
  received    integer NOT NULL DEFAULT 0,
  inserted    integer NOT NULL DEFAULT 0,
  duplicates  integer NOT NULL DEFAULT 0,
  rejected    integer NOT NULL DEFAULT 0
);
CREATE INDEX sync_receipts_event ON sync_receipts (event_id, scanner_id);

-- Append-only sightings. The natural key makes every write idempotent. No
-- foreign keys: ingest checks the event under FOR KEY SHARE in the same
-- transaction, and per-row FK triggers would double the cost of a 100k batch
-- (docs/adr/0031-check-ins-natural-key-without-foreign-keys.md).
CREATE TABLE check_ins (
  event_id      text NOT NULL,
  ble_uuid      uuid NOT NULL,
  check_in_time bigint NOT NULL,   -- Unix epoch milliseconds, as sent by the scanner
  scanner_id    text NOT NULL,
  receipt_id    bigint,            -- the sync_receipts row that first brought it
  PRIMARY KEY (event_id, ble_uuid, check_in_time, scanner_id)
);

CREATE TABLE participant_sessions (
  token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),  -- SHA-256 of the bearer token
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX participant_sessions_user ON participant_sessions (user_id);
