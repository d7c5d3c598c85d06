// Webhook delivery state (migration 071): the configured endpoints and, per event and endpoint,
// attempts, last status and error, and when to try next. Only the delivery worker writes here,
// and only one worker runs at a time (it holds a lock), so these statements need no row locks.
import type { CrmEvent } from '../core/contract/crm-events.ts'
import type { Database, Queryable } from './database.ts'

export interface WebhookEndpoint {
  endpointId: string
  url: string
  enqueuedThrough: number
  consecutiveFailures: number
  pausedUntil: Date | null
}

const SELECT_ENDPOINT = `SELECT endpoint_id AS "endpointId", url, enqueued_through AS "enqueuedThrough",
  consecutive_failures AS "consecutiveFailures", paused_until AS "pausedUntil" FROM crm_webhook_endpoints`

/**
 * Record a configured endpoint (idempotent). The first endpoint ever configured receives every event
 * in the outbox; one added later starts with the events written after it was added (earlier ones are
 * in the pull API), so that pointing Kerbside at a new URL does not replay years of history.
 */
export async function registerEndpoint(db: Database, endpointId: string, url: string): Promise<WebhookEndpoint> {
  return db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO crm_webhook_endpoints (endpoint_id, url, enqueued_through)
       SELECT $1, $2, CASE WHEN EXISTS (SELECT 1 FROM crm_webhook_endpoints) THEN COALESCE((SELECT max(event_id) FROM crm_outbox), 0) ELSE 0 END
       ON CONFLICT (endpoint_id) DO UPDATE SET url = excluded.url`,
      [endpointId, url],
    )
    return (await tx.query<WebhookEndpoint>(`${SELECT_ENDPOINT} WHERE endpoint_id = $1`, [endpointId])).rows[0]!
  })
}

export async function getEndpoint(db: Queryable, endpointId: string): Promise<WebhookEndpoint | null> {
  return (await db.query<WebhookEndpoint>(`${SELECT_ENDPOINT} WHERE endpoint_id = $1`, [endpointId])).rows[0] ?? null
}

/** Give the events written since the last call a pending delivery to this endpoint; returns how many. */
export async function enqueueNewEvents(db: Database, endpointId: string, limit: number): Promise<number> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ n: number; through: number | null }>(
      `WITH ep AS (SELECT enqueued_through FROM crm_webhook_endpoints WHERE endpoint_id = $1),
       ins AS (
         INSERT INTO crm_webhook_deliveries (endpoint_id, event_id, next_attempt_at)
         SELECT $1, o.event_id, o.created_at FROM crm_outbox o, ep WHERE o.event_id > ep.enqueued_through ORDER BY o.event_id LIMIT $2
         ON CONFLICT DO NOTHING
         RETURNING event_id
       )
       SELECT count(*)::int AS n, max(event_id) AS through FROM ins`,
      [endpointId, limit],
    )
    const { n, through } = rows[0]!
    if (through !== null) await tx.query(`UPDATE crm_webhook_endpoints SET enqueued_through = greatest(enqueued_through, $2) WHERE endpoint_id = $1`, [endpointId, through])
    return n
  })
}

export interface DueDelivery {
  event: CrmEvent
  attempts: number
}

/** Pending deliveries whose time has come, the longest-waiting first (so retries take turns). */
export async function dueDeliveries(db: Queryable, endpointId: string, now: Date, limit: number): Promise<DueDelivery[]> {
  const { rows } = await db.query<{ attempts: number; id: number; idempotencyKey: string; type: string; occurredAt: Date; uprn: number | null; crmRef: string | null; data: unknown }>(
    `SELECT d.attempts, o.event_id AS id, o.idempotency_key AS "idempotencyKey", o.type, o.occurred_at AS "occurredAt", o.uprn, o.crm_ref AS "crmRef", o.data
       FROM crm_webhook_deliveries d JOIN crm_outbox o ON o.event_id = d.event_id
      WHERE d.endpoint_id = $1 AND d.status = 'pending' AND d.next_attempt_at <= $2
      ORDER BY d.next_attempt_at, d.event_id LIMIT $3`,
    [endpointId, now, limit],
  )
  return rows.map(({ attempts, ...e }) => ({ attempts, event: { ...e, occurredAt: e.occurredAt.toISOString() } as CrmEvent }))
}

export type AttemptOutcome =
  | { kind: 'delivered'; statusCode: number }
  | { kind: 'retry'; statusCode: number | null; error: string; nextAttemptAt: Date }
  | { kind: 'dead'; statusCode: number | null; error: string }

/** Record one attempt at delivering an event to an endpoint. */
export async function recordAttempt(db: Queryable, endpointId: string, eventId: number, at: Date, o: AttemptOutcome): Promise<void> {
  const error = o.kind === 'delivered' ? null : o.error.slice(0, 500)
  await db.query(
    `UPDATE crm_webhook_deliveries SET attempts = attempts + 1, last_attempt_at = $3, last_status_code = $4, last_error = $5,
            status = $6, next_attempt_at = $7,
            delivered_at = CASE WHEN $6 = 'delivered' THEN $3 ELSE delivered_at END,
            dead_at = CASE WHEN $6 = 'dead' THEN $3 ELSE dead_at END
      WHERE endpoint_id = $1 AND event_id = $2 AND status = 'pending'`,
    [endpointId, eventId, at, o.statusCode, error, o.kind === 'retry' ? 'pending' : o.kind, o.kind === 'retry' ? o.nextAttemptAt : null],
  )
}

/** The endpoint's health: failures in a row, and until when it is left alone. */
export async function setEndpointHealth(db: Queryable, endpointId: string, consecutiveFailures: number, pausedUntil: Date | null): Promise<void> {
  await db.query(`UPDATE crm_webhook_endpoints SET consecutive_failures = $2, paused_until = $3 WHERE endpoint_id = $1`, [endpointId, consecutiveFailures, pausedUntil])
}

export interface PendingStats {
  endpointId: string
  /** Events not yet delivered: pending deliveries and events not yet queued for this endpoint (dead letters not included). */
  undelivered: number
  oldestUndeliveredAt: Date | null
}

const PENDING_STATS = `(SELECT count(*) FROM crm_webhook_deliveries d WHERE d.endpoint_id = e.endpoint_id AND d.status = 'pending')
      + (SELECT count(*) FROM crm_outbox o WHERE o.event_id > e.enqueued_through) AS undelivered,
    LEAST((SELECT min(o.created_at) FROM crm_webhook_deliveries d JOIN crm_outbox o ON o.event_id = d.event_id WHERE d.endpoint_id = e.endpoint_id AND d.status = 'pending'),
          (SELECT min(o.created_at) FROM crm_outbox o WHERE o.event_id > e.enqueued_through)) AS "oldestUndeliveredAt"`

/** What the worker's gauges show; cheap (partial indexes), so it runs after every pass. */
export async function pendingStats(db: Queryable, endpointIds: readonly string[]): Promise<PendingStats[]> {
  const { rows } = await db.query<PendingStats>(
    `SELECT e.endpoint_id AS "endpointId", ${PENDING_STATS} FROM crm_webhook_endpoints e WHERE e.endpoint_id = ANY($1::text[]) ORDER BY e.endpoint_id`,
    [endpointIds],
  )
  return rows
}

export interface EndpointStats extends PendingStats {
  url: string
  delivered: number
  dead: number
  consecutiveFailures: number
  pausedUntil: Date | null
}

/** Every endpoint ever configured, with its totals (counts every delivery: for the admin API, not for a scrape). */
export async function endpointStats(db: Queryable, endpointIds?: readonly string[]): Promise<EndpointStats[]> {
  const { rows } = await db.query<EndpointStats>(
    `SELECT e.endpoint_id AS "endpointId", e.url, e.consecutive_failures AS "consecutiveFailures", e.paused_until AS "pausedUntil", ${PENDING_STATS},
            (SELECT count(*) FROM crm_webhook_deliveries d WHERE d.endpoint_id = e.endpoint_id AND d.status = 'delivered') AS delivered,
            (SELECT count(*) FROM crm_webhook_deliveries d WHERE d.endpoint_id = e.endpoint_id AND d.status = 'dead') AS dead
       FROM crm_webhook_endpoints e
      WHERE $1::text[] IS NULL OR e.endpoint_id = ANY($1::text[])
      ORDER BY e.endpoint_id`,
    [endpointIds ?? null],
  )
  return rows
}

export interface DeadLetter {
  endpointId: string
  eventId: number
  idempotencyKey: string
  type: string
  attempts: number
  lastStatusCode: number | null
  lastError: string | null
  deadAt: Date
}

export async function listDeadLetters(db: Queryable, opts: { endpointId?: string; limit: number; after?: number }): Promise<DeadLetter[]> {
  const { rows } = await db.query<DeadLetter>(
    `SELECT d.endpoint_id AS "endpointId", d.event_id AS "eventId", o.idempotency_key AS "idempotencyKey", o.type, d.attempts,
            d.last_status_code AS "lastStatusCode", d.last_error AS "lastError", d.dead_at AS "deadAt"
       FROM crm_webhook_deliveries d JOIN crm_outbox o ON o.event_id = d.event_id
      WHERE d.status = 'dead' AND ($1::text IS NULL OR d.endpoint_id = $1) AND d.event_id > $2
      ORDER BY d.event_id, d.endpoint_id LIMIT $3`,
    [opts.endpointId ?? null, opts.after ?? 0, opts.limit],
  )
  return rows
}

/** Send dead letters again (after the CRM fixed what refused them): attempts start from zero. */
export async function requeueDeadLetters(db: Queryable, opts: { endpointId?: string; eventIds?: readonly number[]; now?: Date }): Promise<number> {
  const res = await db.query(
    `UPDATE crm_webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = COALESCE($3::timestamptz, now()), dead_at = NULL
      WHERE status = 'dead' AND ($1::text IS NULL OR endpoint_id = $1) AND ($2::bigint[] IS NULL OR event_id = ANY($2::bigint[]))`,
    [opts.endpointId ?? null, opts.eventIds ?? null, opts.now ?? null],
  )
  return res.rowCount
}
