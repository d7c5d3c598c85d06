// The outbox of events for the council's CRM (migration 071). Modules write events with
// emitCrmEvent in the same transaction as the change that causes them, so an event exists exactly
// when its change committed; the webhook worker (analysis/crm-feed) and the pull API read them here.
//
// Ordering: event ids come from a sequence, and a sequence hands out ids before commit, so without
// care a transaction could commit id 102 while 101 is still open, and a poller that read past 102
// would never see 101. Writers therefore take one transaction-scoped advisory lock before inserting:
// every id still uncommitted is higher than every id already visible, and "after <cursor>" is safe.
// The lock is held until commit, so call emitCrmEvent as the last write of a transaction.
import { Value } from '@sinclair/typebox/value'
import { CRM_EVENT_DATA, type CrmEvent, type MissedCollectionData, type NewCrmEvent } from '../core/contract/crm-events.ts'
import { lockKey, type Queryable } from './database.ts'

export class CrmEventError extends Error {
  override name = 'KERBSIDE_ERR_CRM_EVENT'
}

const OUTBOX_LOCK = lockKey('crm-outbox-writers')
const INSERT_CHUNK = 2000

function checked(e: NewCrmEvent): NewCrmEvent {
  const schema = CRM_EVENT_DATA[e.type]
  if (!schema) throw new CrmEventError(`Unknown CRM event type ${JSON.stringify(e.type)}.`)
  if (!e.idempotencyKey || e.idempotencyKey.length > 200) throw new CrmEventError(`A CRM event needs an idempotency key of 1 to 200 characters (${e.type}).`)
  if (!Value.Check(schema, e.data)) {
    const first = [...Value.Errors(schema, e.data)][0]
    throw new CrmEventError(`CRM event ${e.idempotencyKey} (${e.type}) does not match its schema: ${first?.path || '(data)'} ${first?.message ?? ''}`.trim())
  }
  return e
}

/**
 * Write events to the outbox inside the caller's transaction. An event whose idempotency key is
 * already there is left alone (`created: false`), so re-running the change that causes it is safe.
 * Returns one result per event, in order.
 */
export async function emitCrmEvents(tx: Queryable, events: readonly NewCrmEvent[]): Promise<{ id: number; idempotencyKey: string; created: boolean }[]> {
  if (events.length === 0) return []
  for (const e of events) checked(e)
  await tx.query('SELECT pg_advisory_xact_lock($1)', [OUTBOX_LOCK])
  const created = new Map<string, number>()
  for (let i = 0; i < events.length; i += INSERT_CHUNK) {
    const rows = events.slice(i, i + INSERT_CHUNK).map((e, n) => ({ ord: n, key: e.idempotencyKey, type: e.type, uprn: e.uprn, at: (e.occurredAt ?? new Date()).toISOString(), data: e.data }))
    const { rows: inserted } = await tx.query<{ id: number; key: string }>(
      `INSERT INTO crm_outbox (idempotency_key, type, uprn, crm_ref, occurred_at, data)
       SELECT e.key, e.type, e.uprn, h.crm_ref, e.at, e.data
         FROM jsonb_to_recordset($1::jsonb) AS e(ord int, key text, type text, uprn bigint, at timestamptz, data jsonb)
         LEFT JOIN households h ON h.uprn = e.uprn
        ORDER BY e.ord
       ON CONFLICT (idempotency_key) DO NOTHING
       RETURNING event_id AS id, idempotency_key AS key`,
      [JSON.stringify(rows)],
    )
    for (const r of inserted) created.set(r.key, r.id)
  }
  const existing = events.filter((e) => !created.has(e.idempotencyKey)).map((e) => e.idempotencyKey)
  const known = new Map<string, number>()
  if (existing.length > 0) {
    const { rows } = await tx.query<{ id: number; key: string }>(`SELECT event_id AS id, idempotency_key AS key FROM crm_outbox WHERE idempotency_key = ANY($1::text[])`, [existing])
    for (const r of rows) known.set(r.key, r.id)
  }
  return events.map((e) => {
    const id = created.get(e.idempotencyKey)
    return id !== undefined ? { id, idempotencyKey: e.idempotencyKey, created: true } : { id: known.get(e.idempotencyKey)!, idempotencyKey: e.idempotencyKey, created: false }
  })
}

/** Write one event to the outbox inside the caller's transaction (see emitCrmEvents). */
export async function emitCrmEvent(tx: Queryable, event: NewCrmEvent): Promise<{ id: number; created: boolean }> {
  const [r] = await emitCrmEvents(tx, [event])
  return { id: r!.id, created: r!.created }
}

export interface MissedCollectionConfirmed {
  collectionId: number
  uprn: number
  stream: MissedCollectionData['stream']
  dueDate: string
  roundId: string
  contractId: string
  missedAt: Date | null
  reportId?: number | null
  rectifyDeadline?: Date | null
}

/**
 * "Missed collection confirmed", for the collection-outcome analysis. One event per collection
 * (key `missed-collection:<collectionId>`): confirming the same miss again adds nothing.
 */
export function emitMissedCollectionConfirmed(tx: Queryable, m: MissedCollectionConfirmed): Promise<{ id: number; created: boolean }> {
  return emitCrmEvent(tx, {
    type: 'collection.missed_confirmed',
    idempotencyKey: `missed-collection:${m.collectionId}`,
    uprn: m.uprn,
    occurredAt: m.missedAt ?? undefined,
    data: {
      collectionId: m.collectionId, stream: m.stream, dueDate: m.dueDate, roundId: m.roundId, contractId: m.contractId,
      missedAt: m.missedAt?.toISOString() ?? null, reportId: m.reportId ?? null, rectifyDeadline: m.rectifyDeadline?.toISOString() ?? null,
    },
  })
}

/** "Report closed", from the report as it stands in `tx` (called by storage/reports.ts when a report closes). */
export async function emitReportClosed(tx: Queryable, reportId: number): Promise<void> {
  const { rows } = await tx.query<{ uprn: number; stream: MissedCollectionData['stream']; collectionDate: string | null; validity: 'pending' | 'valid' | 'invalid'; statusNotes: string | null; closedAt: Date }>(
    `SELECT uprn, stream, collection_date AS "collectionDate", validity, status_notes AS "statusNotes", closed_at AS "closedAt"
       FROM missed_reports WHERE report_id = $1 AND status = 'closed'`,
    [reportId],
  )
  const r = rows[0]
  if (!r) return
  await emitCrmEvent(tx, {
    type: 'report.closed',
    idempotencyKey: `report-closed:${reportId}`,
    uprn: r.uprn,
    occurredAt: r.closedAt,
    data: { reportId, serviceRequestId: String(reportId), stream: r.stream, collectionDate: r.collectionDate, validity: r.validity, statusNotes: r.statusNotes, closedAt: r.closedAt.toISOString() },
  })
}

const SELECT_EVENT = `SELECT event_id AS id, idempotency_key AS "idempotencyKey", type, occurred_at AS "occurredAt", uprn, crm_ref AS "crmRef", data FROM crm_outbox`

type EventRow = Omit<CrmEvent, 'occurredAt'> & { occurredAt: Date }
const toEvent = (r: EventRow): CrmEvent => ({ ...r, occurredAt: r.occurredAt.toISOString() }) as CrmEvent

/** Events after the cursor `after` (an event id; 0 = from the start), oldest first. */
export async function listCrmEvents(db: Queryable, opts: { after: number; limit: number }): Promise<CrmEvent[]> {
  const { rows } = await db.query<EventRow>(`${SELECT_EVENT} WHERE event_id > $1 ORDER BY event_id LIMIT $2`, [opts.after, opts.limit])
  return rows.map(toEvent)
}

/** Every event about a household (subject-access export). */
export async function crmEventsForUprn(db: Queryable, uprn: number): Promise<CrmEvent[]> {
  const { rows } = await db.query<EventRow>(`${SELECT_EVENT} WHERE uprn = $1 ORDER BY event_id`, [uprn])
  return rows.map(toEvent)
}

export async function getCrmEvents(db: Queryable, ids: readonly number[]): Promise<CrmEvent[]> {
  const { rows } = await db.query<EventRow>(`${SELECT_EVENT} WHERE event_id = ANY($1::bigint[]) ORDER BY event_id`, [ids])
  return rows.map(toEvent)
}
