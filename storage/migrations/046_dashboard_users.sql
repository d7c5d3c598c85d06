-- People who sign in to the dashboard (contract managers, contact-centre agents, administrators),
-- each with one role. Passwords are kept only as a slow hash; sessions only as a digest of their token.
CREATE TABLE users (
  username       text PRIMARY KEY CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,63}$'),
  display_name   text NOT NULL,
  role           text NOT NULL CHECK (role IN ('admin', 'contract_manager', 'crm', 'provisioning', 'viewer')),
  password_hash  text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  disabled_at    timestamptz,
  last_login_at  timestamptz
);

CREATE TABLE user_sessions (
  token_sha256  bytea PRIMARY KEY,
  username      text NOT NULL REFERENCES users (username),
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  revoked_at    timestamptz
);
CREATE INDEX user_sessions_user_idx ON user_sessions (username);
