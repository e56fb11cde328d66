-- Admin web console: accounts, sessions and login attempts.
-- Applied by `attendance-backend migrate` / `attendance-admin migrate` after core's
-- schema (version 0050: it shipped in the admin app's own range before it moved here).
-- Read and written by admin_accounts.cpp. IF NOT EXISTS keeps it harmless on databases where the
-- tables were created by hand during development.

CREATE TABLE IF NOT EXISTS admin_accounts (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email         text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
  password_hash text NOT NULL,              -- Argon2id (crypto_pwhash_str)
  disabled      boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS admin_accounts_email_ci ON admin_accounts (lower(email));

-- The cookie carries a random token; only its SHA-256 (hex) is stored.
CREATE TABLE IF NOT EXISTS admin_sessions (
  token_hash text PRIMARY KEY CHECK (length(token_hash) = 64),
  admin_id   bigint NOT NULL REFERENCES admin_accounts (id) ON DELETE CASCADE,
  csrf_token text NOT NULL,                 -- per-session synchronizer token
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS admin_sessions_expires ON admin_sessions (expires_at);

-- Failed (and successful) sign-ins, for the per-account and per-address limits.
CREATE TABLE IF NOT EXISTS admin_login_attempts (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email        text NOT NULL,               -- lower-cased, as typed (may not exist)
  address      text NOT NULL,               -- client IP address
  attempted_at timestamptz NOT NULL,
  succeeded    boolean NOT NULL
);
CREATE INDEX IF NOT EXISTS admin_login_attempts_email ON admin_login_attempts (email, attempted_at);
CREATE INDEX IF NOT EXISTS admin_login_attempts_address ON admin_login_attempts (address, attempted_at);
CREATE INDEX IF NOT EXISTS admin_login_attempts_time ON admin_login_attempts (attempted_at);
