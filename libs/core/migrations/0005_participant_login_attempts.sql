-- Participant sign-ins (POST /api/sessions), for the per-account and per-address
-- limits that the admin console already has (admin_login_attempts, migration 0050,
-- same shape): without them an attacker could guess one participant's password
-- forever. Kept in PostgreSQL, not in memory, so every backend instance behind a
-- load balancer sees the same counts. Rows older than a day are deleted on the way.
CREATE TABLE participant_login_attempts (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email        text NOT NULL,        -- lower-cased, as typed (may not exist)
  address      text NOT NULL,        -- client IP address
  attempted_at timestamptz NOT NULL,
  succeeded    boolean NOT NULL
);
CREATE INDEX participant_login_attempts_email ON participant_login_attempts (email, attempted_at);
CREATE INDEX participant_login_attempts_address ON participant_login_attempts (address, attempted_at);
CREATE INDEX participant_login_attempts_time ON participant_login_attempts (attempted_at);
