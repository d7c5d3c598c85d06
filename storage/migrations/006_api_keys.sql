-- API keys of the council's systems (CRM, dashboards, provisioning tools), each with one role.
-- A key is `ks_<key_id>_<secret>`; the secret has 256 bits of entropy, so a SHA-256 digest is kept
-- (a slow hash protects low-entropy passwords; it adds nothing for random keys).
CREATE TABLE api_keys (
  key_id        text PRIMARY KEY,
  name          text NOT NULL,
  role          text NOT NULL CHECK (role IN ('admin', 'contract_manager', 'crm', 'provisioning', 'viewer')),
  key_sha256    bytea NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz,
  last_used_at  timestamptz
);
