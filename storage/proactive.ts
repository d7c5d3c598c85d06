// Proactive misses and the contractor's list of return collections (migration 090). The detection
// (analysis/proactive/detect.ts) decides; this file writes what it decided, in set-based statements,
// and answers the API and the first-contact check. A confirmation writes the miss, opens the return
// and puts "missed collection confirmed" in the CRM outbox in one transaction, so the CRM hears of a
// miss exactly when it was confirmed.
import { emitCrmEvents } from './crm-outbox.ts'
import type { Database, Queryable } from './database.ts'
import type { MissedCollectionData, MissWithdrawnData } from '../core/contract/crm-events.ts'

export const MISS_STATUSES = ['suspected', 'confirmed', 'withdrawn', 'resolved'] as const
export type MissStatus = (typeof MISS_STATUSES)[number]
export const RETURN_STATUSES = ['open', 'done', 'cancelled'] as const
export type ReturnStatus = (typeof RETURN_STATUSES)[number]

export interface MissFacts {
  collectionId: number
  uprn: number
  stream: string
  roundId: string
  contractId: string
  dueDate: string
  binId: string | null
  basis: string
  sensor: string
  confidence: number
  evidence: Record<string, unknown>
}

export interface ProactiveMiss extends MissFacts {
  status: MissStatus
  raisedAt: Date
  confirmedAt: Date | null
  returnDue: Date | null
  crmEventId: number | null
  withdrawnAt: Date | null
  withdrawnReason: string | null
  resolvedAt: Date | null
  updatedAt: Date
  revision: number
  returnId: number | null
  returnStatus: ReturnStatus | null
}

const SELECT_MISS = `
SELECT p.collection_id AS "collectionId", p.uprn, p.stream, p.round_id AS "roundId", p.contract_id AS "contractId", p.due_date AS "dueDate",
       p.bin_id AS "binId", p.status, p.basis, p.sensor, p.confidence, p.evidence, p.raised_at AS "raisedAt", p.confirmed_at AS "confirmedAt",
       p.return_due AS "returnDue", p.crm_event_id AS "crmEventId", p.withdrawn_at AS "withdrawnAt", p.withdrawn_reason AS "withdrawnReason",
       p.resolved_at AS "resolvedAt", p.updated_at AS "updatedAt", p.revision, rc.return_id AS "returnId", rc.status AS "returnStatus"
  FROM proactive_misses p LEFT JOIN return_collections rc ON rc.collection_id = p.collection_id`

/** Raise new suspected misses, or refresh open ones (confidence, basis, sensor, evidence); no status change. */
export async function upsertSuspected(db: Queryable, misses: readonly MissFacts[], now: Date): Promise<number> {
  if (misses.length === 0) return 0
  const { rowCount } = await db.query(
    `INSERT INTO proactive_misses AS p (collection_id, uprn, stream, round_id, contract_id, due_date, bin_id, status, basis, sensor, confidence, evidence, raised_at, updated_at)
     SELECT m."collectionId", m.uprn, m.stream, m."roundId", m."contractId", m."dueDate", m."binId", 'suspected', m.basis, m.sensor, m.confidence, m.evidence, $2, $2
       FROM jsonb_to_recordset($1::jsonb) AS m("collectionId" bigint, uprn bigint, stream text, "roundId" text, "contractId" text, "dueDate" date,
                                                 "binId" text, basis text, sensor text, confidence real, evidence jsonb)
     ON CONFLICT (collection_id) DO UPDATE SET confidence = EXCLUDED.confidence, basis = EXCLUDED.basis, sensor = EXCLUDED.sensor,
            evidence = EXCLUDED.evidence, updated_at = EXCLUDED.updated_at, revision = p.revision + 1
      WHERE p.status IN ('suspected', 'confirmed')
        AND (p.confidence, p.basis, p.sensor) IS DISTINCT FROM (EXCLUDED.confidence, EXCLUDED.basis, EXCLUDED.sensor)`,
    [JSON.stringify(misses), now],
  )
  return rowCount
}

export interface Confirmation extends MissFacts {
  returnDue: Date
  /** When the crew passed (or the round ended): the instant of the miss, for the CRM. */
  missedAt: Date
  source: 'proactive' | 'manual'
}

/**
 * Confirm misses: the row becomes `confirmed` (inserted so when new), the return collection opens on
 * the contractor's list, and "missed collection confirmed" goes into the CRM outbox — one transaction.
 * Idempotent: a miss confirmed already, or withdrawn or resolved meanwhile, is left alone.
 */
export async function confirmMisses(db: Database, items: readonly Confirmation[], now: Date): Promise<{ confirmed: number; crmEvents: number }> {
  if (items.length === 0) return { confirmed: 0, crmEvents: 0 }
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ collectionId: number }>(
      `INSERT INTO proactive_misses AS p (collection_id, uprn, stream, round_id, contract_id, due_date, bin_id, status, basis, sensor, confidence, evidence,
                                          raised_at, confirmed_at, return_due, updated_at)
       SELECT m."collectionId", m.uprn, m.stream, m."roundId", m."contractId", m."dueDate", m."binId", 'confirmed', m.basis, m.sensor, m.confidence, m.evidence,
              $2, $2, m."returnDue", $2
         FROM jsonb_to_recordset($1::jsonb) AS m("collectionId" bigint, uprn bigint, stream text, "roundId" text, "contractId" text, "dueDate" date,
                                                   "binId" text, basis text, sensor text, confidence real, evidence jsonb, "returnDue" timestamptz)
       ON CONFLICT (collection_id) DO UPDATE SET status = 'confirmed', confidence = EXCLUDED.confidence, basis = EXCLUDED.basis, sensor = EXCLUDED.sensor,
              evidence = EXCLUDED.evidence, confirmed_at = EXCLUDED.confirmed_at, return_due = EXCLUDED.return_due, updated_at = EXCLUDED.updated_at,
              revision = p.revision + 1
        WHERE p.status = 'suspected'
       RETURNING collection_id AS "collectionId"`,
      [JSON.stringify(items), now],
    )
    const done = new Set(rows.map((r) => r.collectionId))
    const confirmed = items.filter((i) => done.has(i.collectionId))
    if (confirmed.length === 0) return { confirmed: 0, crmEvents: 0 }
    await tx.query(
      `INSERT INTO return_collections (collection_id, uprn, stream, bin_id, round_id, contract_id, due_date, source, status, due_by, opened_at)
       SELECT m."collectionId", m.uprn, m.stream, m."binId", m."roundId", m."contractId", m."dueDate", m.source, 'open', m."returnDue", $2
         FROM jsonb_to_recordset($1::jsonb) AS m("collectionId" bigint, uprn bigint, stream text, "binId" text, "roundId" text, "contractId" text,
                                                   "dueDate" date, source text, "returnDue" timestamptz)
       ON CONFLICT (collection_id) DO NOTHING`,
      [JSON.stringify(confirmed), now],
    )
    const events = await emitCrmEvents(tx, confirmed.map((m) => ({
      type: 'collection.missed_confirmed' as const,
      idempotencyKey: `missed-collection:${m.collectionId}`,
      uprn: m.uprn,
      occurredAt: now,
      data: {
        collectionId: m.collectionId, stream: m.stream as MissedCollectionData['stream'], dueDate: m.dueDate, roundId: m.roundId, contractId: m.contractId,
        missedAt: m.missedAt.toISOString(), reportId: null, rectifyDeadline: m.returnDue.toISOString(),
      },
    })))
    await tx.query(
      `UPDATE proactive_misses p SET crm_event_id = e.id FROM jsonb_to_recordset($1::jsonb) AS e(cid bigint, id bigint) WHERE p.collection_id = e.cid`,
      [JSON.stringify(events.map((e, i) => ({ cid: confirmed[i]!.collectionId, id: e.id })))],
    )
    return { confirmed: confirmed.length, crmEvents: events.filter((e) => e.created).length }
  })
}

/** Withdraw open misses that later evidence contradicts; their open returns are cancelled with the same reason. */
export async function withdrawMisses(db: Database, items: readonly { collectionId: number; reason: string }[], now: Date): Promise<number> {
  if (items.length === 0) return 0
  return db.transaction(async (tx) => {
    const { rows: withdrawn } = await tx.query<{ collectionId: number; uprn: number; stream: MissWithdrawnData['stream']; dueDate: string; roundId: string; contractId: string; reason: string; told: boolean }>(
      `UPDATE proactive_misses p SET status = 'withdrawn', withdrawn_at = $2, withdrawn_reason = w.reason, updated_at = $2, revision = p.revision + 1
         FROM jsonb_to_recordset($1::jsonb) AS w("collectionId" bigint, reason text)
        WHERE p.collection_id = w."collectionId" AND p.status IN ('suspected', 'confirmed')
       RETURNING p.collection_id AS "collectionId", p.uprn, p.stream, to_char(p.due_date, 'YYYY-MM-DD') AS "dueDate", p.round_id AS "roundId",
                 p.contract_id AS "contractId", w.reason,
                 -- Told by this path, or by the outcome analysis (the same key: analysis/outcomes/crm-misses.ts).
                 p.crm_event_id IS NOT NULL OR EXISTS (SELECT 1 FROM crm_outbox o WHERE o.idempotency_key = 'missed-collection:' || p.collection_id) AS told`,
      [JSON.stringify(items), now],
    )
    const rowCount = withdrawn.length
    await tx.query(
      `UPDATE return_collections r SET status = 'cancelled', closed_at = $2, close_reason = w.reason
         FROM jsonb_to_recordset($1::jsonb) AS w("collectionId" bigint, reason text)
        WHERE r.collection_id = w."collectionId" AND r.status = 'open'`,
      [JSON.stringify(items), now],
    )
    // The CRM was told of these misses (by either path): tell it they are withdrawn, in the same transaction.
    await emitCrmEvents(tx, withdrawn.filter((w) => w.told).map((w) => ({
      type: 'collection.miss_withdrawn' as const,
      idempotencyKey: `miss-withdrawn:${w.collectionId}`,
      uprn: Number(w.uprn),
      occurredAt: now,
      data: { collectionId: Number(w.collectionId), stream: w.stream, dueDate: w.dueDate, roundId: w.roundId, contractId: w.contractId, reason: w.reason, withdrawnAt: now.toISOString() },
    })))
    return rowCount
  })
}

/** Misses put right: the bin was emptied after its day (the return visit); the return is done. */
export async function resolveMisses(db: Database, items: readonly { collectionId: number; at: Date; reason: string }[], now: Date): Promise<number> {
  if (items.length === 0) return 0
  return db.transaction(async (tx) => {
    const { rowCount } = await tx.query(
      `UPDATE proactive_misses p SET status = 'resolved', resolved_at = w.at, updated_at = $2, revision = p.revision + 1
         FROM jsonb_to_recordset($1::jsonb) AS w("collectionId" bigint, at timestamptz)
        WHERE p.collection_id = w."collectionId" AND p.status IN ('suspected', 'confirmed')`,
      [JSON.stringify(items), now],
    )
    await tx.query(
      `UPDATE return_collections r SET status = 'done', closed_at = w.at, close_reason = w.reason
         FROM jsonb_to_recordset($1::jsonb) AS w("collectionId" bigint, at timestamptz, reason text)
        WHERE r.collection_id = w."collectionId" AND r.status = 'open'`,
      [JSON.stringify(items)],
    )
    return rowCount
  })
}

export interface MissFilter {
  status?: MissStatus[]
  contractId?: string
  roundId?: string
  from?: string
  to?: string
  minConfidence?: number
  uprn?: number
  limit: number
  offset?: number
}

export async function listMisses(db: Queryable, f: MissFilter): Promise<ProactiveMiss[]> {
  const { rows } = await db.query<ProactiveMiss>(
    `${SELECT_MISS}
      WHERE ($1::text[] IS NULL OR p.status = ANY($1::text[])) AND ($2::text IS NULL OR p.contract_id = $2) AND ($3::text IS NULL OR p.round_id = $3)
        AND ($4::date IS NULL OR p.due_date >= $4::date) AND ($5::date IS NULL OR p.due_date <= $5::date)
        AND p.confidence >= $6::real AND ($7::bigint IS NULL OR p.uprn = $7)
      ORDER BY p.due_date DESC, p.confidence DESC, p.collection_id LIMIT $8 OFFSET $9`,
    [f.status ?? null, f.contractId ?? null, f.roundId ?? null, f.from ?? null, f.to ?? null, f.minConfidence ?? 0, f.uprn ?? null, f.limit, f.offset ?? 0],
  )
  return rows
}

export async function getMiss(db: Queryable, collectionId: number): Promise<ProactiveMiss | null> {
  const { rows } = await db.query<ProactiveMiss>(`${SELECT_MISS} WHERE p.collection_id = $1`, [collectionId])
  return rows[0] ?? null
}

export interface ReturnCollection {
  returnId: number
  collectionId: number
  uprn: number
  address: string
  postcode: string | null
  lat: number | null
  lon: number | null
  stream: string
  binId: string | null
  roundId: string
  contractId: string
  dueDate: string
  source: 'proactive' | 'manual'
  status: ReturnStatus
  dueBy: Date
  openedAt: Date
  closedAt: Date | null
  closeReason: string | null
}

/** The contractor's list: returns by status, soonest due first. */
export async function listReturns(db: Queryable, f: { status?: ReturnStatus[]; contractId?: string; limit: number; offset?: number }): Promise<ReturnCollection[]> {
  const { rows } = await db.query<ReturnCollection>(
    `SELECT r.return_id AS "returnId", r.collection_id AS "collectionId", r.uprn, h.address, h.postcode, h.lat, h.lon, r.stream, r.bin_id AS "binId",
            r.round_id AS "roundId", r.contract_id AS "contractId", r.due_date AS "dueDate", r.source, r.status, r.due_by AS "dueBy",
            r.opened_at AS "openedAt", r.closed_at AS "closedAt", r.close_reason AS "closeReason"
       FROM return_collections r JOIN households h ON h.uprn = r.uprn
      WHERE ($1::text[] IS NULL OR r.status = ANY($1::text[])) AND ($2::text IS NULL OR r.contract_id = $2)
      ORDER BY r.due_by, r.return_id LIMIT $3 OFFSET $4`,
    [f.status ?? null, f.contractId ?? null, f.limit, f.offset ?? 0],
  )
  return rows
}
