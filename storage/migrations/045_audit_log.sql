-- Who read which household's record, and when: every successful read of a household's data through
-- the API (summary, collection history, first-contact check, rewards, subject-access export) and
-- every erasure. Append-only; kept for the council's own accountability (UK GDPR Art. 5(2)).
CREATE TABLE audit_log (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  actor       text NOT NULL,          -- api key id (or 'bootstrap'), or dashboard user
  actor_name  text NOT NULL,
  role        text NOT NULL,
  action      text NOT NULL,          -- e.g. 'GET /api/v1/households/:uprn/collections'
  uprn        bigint,
  status      integer NOT NULL,
  ip          text
);
CREATE INDEX audit_log_uprn_idx ON audit_log (uprn, at DESC);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
