-- Feeding the council's CRM (analysis/crm-feed, docs/crm-integration.md).
--
--   crm_outbox               events for the customer record, written in the same transaction as the
--                            change that causes them, each with a stable idempotency key (a second
--                            write of the same key is a no-op). event_id is the pull API's cursor:
--                            writers serialise on an advisory lock (storage/crm-outbox.ts), so ids
--                            become visible in order and a poller never skips one.
--   crm_webhook_endpoints    each configured webhook URL (credentials and query stripped), how far its
--                            deliveries have been queued, and whether it is failing (the worker then
--                            sends one event at a time until it answers again).
--   crm_webhook_deliveries   one row per event and endpoint: attempts, last status and error, when to
--                            try next; 'dead' after too many attempts or a permanent refusal.

CREATE TABLE crm_outbox (
  event_id         bigserial PRIMARY KEY,
  idempotency_key  text NOT NULL UNIQUE CHECK (length(idempotency_key) BETWEEN 1 AND 200),
  type             text NOT NULL,
  uprn             bigint,
  crm_ref          text,
  occurred_at      timestamptz NOT NULL,
  data             jsonb NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX crm_outbox_uprn_idx ON crm_outbox (uprn, event_id) WHERE uprn IS NOT NULL;

CREATE TABLE crm_webhook_endpoints (
  endpoint_id           text PRIMARY KEY,
  url                   text NOT NULL,
  enqueued_through      bigint NOT NULL DEFAULT 0,
  consecutive_failures  integer NOT NULL DEFAULT 0,
  paused_until          timestamptz,
  created_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE crm_webhook_deliveries (
  endpoint_id       text NOT NULL REFERENCES crm_webhook_endpoints (endpoint_id) ON DELETE CASCADE,
  event_id          bigint NOT NULL REFERENCES crm_outbox (event_id),
  status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts          integer NOT NULL DEFAULT 0,
  next_attempt_at   timestamptz,
  last_attempt_at   timestamptz,
  last_status_code  integer,
  last_error        text,
  delivered_at      timestamptz,
  dead_at           timestamptz,
  PRIMARY KEY (endpoint_id, event_id),
  CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL))
);
CREATE INDEX crm_webhook_deliveries_due_idx ON crm_webhook_deliveries (endpoint_id, next_attempt_at, event_id) WHERE status = 'pending';
CREATE INDEX crm_webhook_deliveries_dead_idx ON crm_webhook_deliveries (endpoint_id, event_id) WHERE status = 'dead';
