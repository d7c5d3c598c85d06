// What the CRM is told when the outcome analysis decides a collection (docs/crm-integration.md):
//
//   collection.missed_confirmed   for every collection decided as a contractor miss — `missed`, or a
//                                 miss put right (`rectified`, `rectified_late`): a miss put right is
//                                 still a miss (docs/kpis.md). Key `missed-collection:<collectionId>`,
//                                 the key proactive detection uses (analysis/proactive), so whichever
//                                 path confirms a miss first writes the one event and the other adds
//                                 nothing.
//   collection.miss_withdrawn     when a collection the CRM was told of (an event with that key is in
//                                 the outbox, from either path) is now decided `collected` or
//                                 `crew_exception`: late evidence of the due day shows the bin emptied,
//                                 or a resident-side exception. Key `miss-withdrawn:<collectionId>`.
//
// A miss later emptied on a return visit or a late lift (`collected_late`, `rectified…`) is not
// withdrawn: it was missed on its day. Withdrawn is final, as in proactive detection: a collection
// that turns into a miss again after a withdrawal is not announced twice (the key is taken).
//
// Both run inside the transaction that writes the outcomes, as its last writes, so an outcome and its
// event commit together: a crash between them cannot lose an event, and a re-run finds the key taken.
import type { MissedCollectionData } from '../../core/contract/crm-events.ts'
import { emitCrmEvents } from '../../storage/crm-outbox.ts'
import type { Queryable } from '../../storage/database.ts'
import { timeOnDay } from '../first-contact/advice.ts'

/** The outcomes that are a contractor miss (docs/kpis.md, "Missed"). */
export const MISS_OUTCOMES = ['missed', 'rectified', 'rectified_late'] as const
/** The outcomes that contradict a miss announced earlier. */
export const WITHDRAWING_OUTCOMES = ['collected', 'crew_exception'] as const

export const missKey = (collectionId: number) => `missed-collection:${collectionId}`
export const withdrawnKey = (collectionId: number) => `miss-withdrawn:${collectionId}`

export interface MissEventScope {
  /** Due dates from `from` to `to`, both included. */
  from: string
  to: string
  /** Only these collections (NULL/undefined: every one of the range). */
  collectionIds?: readonly number[] | null
  /**
   * Which collections decided collected or crew_exception to look at for a withdrawal: those the
   * caller just rewrote (cheap; the hourly job), or 'all' of the scope (a re-run repairs anything).
   */
  settled: readonly number[] | 'all'
  /** When the analysis decided (the withdrawal's time). */
  now: Date
}

export interface MissEventCounts {
  confirmed: number
  withdrawn: number
}

// $1 from, $2 to, $3 collection ids or NULL. Through collection_outcomes_outcome_idx (outcome, due_date):
// misses are few. The outbox's unique key index answers "told already?".
const UNTOLD_MISSES_SQL = `
SELECT co.collection_id AS "collectionId", co.uprn, co.stream, co.due_date AS "dueDate", co.round_id AS "roundId", co.contract_id AS "contractId",
       co.missed_at AS "missedAt", co.first_report_id AS "reportId", co.rectify_deadline AS "rectifyDeadline"
  FROM collection_outcomes co
 WHERE co.outcome IN ('missed', 'rectified', 'rectified_late') AND co.due_date BETWEEN $1::date AND $2::date
   AND ($3::bigint[] IS NULL OR co.collection_id = ANY ($3::bigint[]))
   AND NOT EXISTS (SELECT 1 FROM crm_outbox o WHERE o.idempotency_key = 'missed-collection:' || co.collection_id)
 ORDER BY co.due_date, co.collection_id`

// $1 from, $2 to, $3 collection ids or NULL, $4 only these (NULL: all of the scope).
const TOLD_BUT_SETTLED_SQL = `
SELECT co.collection_id AS "collectionId", co.uprn, co.stream, co.due_date AS "dueDate", co.round_id AS "roundId", co.contract_id AS "contractId",
       co.outcome, co.exception_code AS "exceptionCode", co.lift_ts AS "liftTs"
  FROM collection_outcomes co
 WHERE co.outcome IN ('collected', 'crew_exception') AND co.due_date BETWEEN $1::date AND $2::date
   AND ($3::bigint[] IS NULL OR co.collection_id = ANY ($3::bigint[]))
   AND ($4::bigint[] IS NULL OR co.collection_id = ANY ($4::bigint[]))
   AND EXISTS (SELECT 1 FROM crm_outbox o WHERE o.idempotency_key = 'missed-collection:' || co.collection_id)
   AND NOT EXISTS (SELECT 1 FROM crm_outbox o WHERE o.idempotency_key = 'miss-withdrawn:' || co.collection_id)
 ORDER BY co.due_date, co.collection_id`

type Stream = MissedCollectionData['stream']
interface MissRow { collectionId: number; uprn: number; stream: Stream; dueDate: string; roundId: string; contractId: string; missedAt: Date | null; reportId: number | null; rectifyDeadline: Date | null }
interface SettledRow { collectionId: number; uprn: number; stream: Stream; dueDate: string; roundId: string; contractId: string; outcome: string; exceptionCode: string | null; liftTs: Date | null }

/** Why a miss is withdrawn, in the words proactive detection uses. */
export function withdrawalReason(r: Pick<SettledRow, 'outcome' | 'exceptionCode' | 'liftTs'>): string {
  const at = r.liftTs ? ` at ${timeOnDay(r.liftTs)}` : ''
  return r.outcome === 'collected' ? `a lift of the bin${at} was recorded` : `the crew logged ${r.exceptionCode ?? 'an exception'}${at}`
}

/**
 * Write the CRM events the decided outcomes of the scope call for and the outbox lacks. Call inside
 * the transaction that wrote the outcomes, as its last write (emitCrmEvents takes the outbox lock).
 */
export async function emitMissEvents(tx: Queryable, s: MissEventScope): Promise<MissEventCounts> {
  const ids = s.collectionIds ?? null
  const misses = (await tx.query<MissRow>(UNTOLD_MISSES_SQL, [s.from, s.to, ids])).rows
  const settled = s.settled === 'all' || s.settled.length > 0
    ? (await tx.query<SettledRow>(TOLD_BUT_SETTLED_SQL, [s.from, s.to, ids, s.settled === 'all' ? null : s.settled])).rows
    : []
  if (misses.length === 0 && settled.length === 0) return { confirmed: 0, withdrawn: 0 }
  const written = await emitCrmEvents(tx, [
    ...misses.map((m) => ({
      type: 'collection.missed_confirmed' as const,
      idempotencyKey: missKey(m.collectionId),
      uprn: m.uprn,
      occurredAt: m.missedAt ?? s.now,
      data: {
        collectionId: Number(m.collectionId), stream: m.stream, dueDate: m.dueDate, roundId: m.roundId, contractId: m.contractId,
        missedAt: m.missedAt?.toISOString() ?? null, reportId: m.reportId === null ? null : Number(m.reportId), rectifyDeadline: m.rectifyDeadline?.toISOString() ?? null,
      },
    })),
    ...settled.map((w) => ({
      type: 'collection.miss_withdrawn' as const,
      idempotencyKey: withdrawnKey(w.collectionId),
      uprn: w.uprn,
      occurredAt: s.now,
      data: {
        collectionId: Number(w.collectionId), stream: w.stream, dueDate: w.dueDate, roundId: w.roundId, contractId: w.contractId,
        reason: withdrawalReason(w), withdrawnAt: s.now.toISOString(),
      },
    })),
  ])
  const created = written.filter((e) => e.created)
  return {
    confirmed: created.filter((e) => e.idempotencyKey.startsWith('missed-collection:')).length,
    withdrawn: created.filter((e) => e.idempotencyKey.startsWith('miss-withdrawn:')).length,
  }
}
