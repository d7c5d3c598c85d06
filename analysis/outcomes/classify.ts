// Writing the decided outcomes (decide.ts) into collection_outcomes: one statement per batch of due
// days, upserting every collection in it. Idempotent: a row is rewritten only when the decision or its
// evidence changed, and `revision` goes up (with decided_at) only when the decision did — the
// outcome, the exception code, the deciding event, the report, the deadline or the time it was put right.
import { addDays, daysBetween, isIsoDate, type IsoDate } from '../calendar/dates.ts'
import type { Database, Queryable } from '../../storage/database.ts'
import { emitMissEvents } from './crm-misses.ts'
import { DECIDE_CTES, decideParams } from './decide.ts'

export const CLASSIFY_SQL = `${DECIDE_CTES},
written AS (
  INSERT INTO collection_outcomes AS co (collection_id, uprn, stream, round_id, contract_id, due_date, outcome, exception_code,
         lift_ts, lift_device_id, lift_seq, lift_vehicle_id, lift_weight_kg, lift_distance_m,
         missed_at, first_report_id, reported_at, rectify_deadline, rectified_at, evidence, decided_at, revision)
  SELECT collection_id, uprn, stream, round_id, contract_id, due_date, outcome, exception_code,
         lift_ts, lift_device_id, lift_seq, lift_vehicle_id, lift_weight_kg, lift_distance_m,
         missed_at, first_report_id, reported_at, rectify_deadline, rectified_at, evidence, $3::timestamptz, 1
    FROM decided
  ON CONFLICT (collection_id) DO UPDATE SET
         outcome = EXCLUDED.outcome, exception_code = EXCLUDED.exception_code,
         lift_ts = EXCLUDED.lift_ts, lift_device_id = EXCLUDED.lift_device_id, lift_seq = EXCLUDED.lift_seq,
         lift_vehicle_id = EXCLUDED.lift_vehicle_id, lift_weight_kg = EXCLUDED.lift_weight_kg, lift_distance_m = EXCLUDED.lift_distance_m,
         missed_at = EXCLUDED.missed_at, first_report_id = EXCLUDED.first_report_id, reported_at = EXCLUDED.reported_at,
         rectify_deadline = EXCLUDED.rectify_deadline, rectified_at = EXCLUDED.rectified_at, evidence = EXCLUDED.evidence,
         decided_at = CASE WHEN (co.outcome, co.exception_code, co.lift_ts, co.lift_device_id, co.lift_seq, co.first_report_id, co.rectify_deadline, co.rectified_at)
                                IS DISTINCT FROM (EXCLUDED.outcome, EXCLUDED.exception_code, EXCLUDED.lift_ts, EXCLUDED.lift_device_id, EXCLUDED.lift_seq,
                                                  EXCLUDED.first_report_id, EXCLUDED.rectify_deadline, EXCLUDED.rectified_at)
                           THEN EXCLUDED.decided_at ELSE co.decided_at END,
         revision = co.revision + CASE WHEN (co.outcome, co.exception_code, co.lift_ts, co.lift_device_id, co.lift_seq, co.first_report_id, co.rectify_deadline, co.rectified_at)
                                IS DISTINCT FROM (EXCLUDED.outcome, EXCLUDED.exception_code, EXCLUDED.lift_ts, EXCLUDED.lift_device_id, EXCLUDED.lift_seq,
                                                  EXCLUDED.first_report_id, EXCLUDED.rectify_deadline, EXCLUDED.rectified_at)
                           THEN 1 ELSE 0 END
   WHERE (co.outcome, co.exception_code, co.lift_ts, co.lift_device_id, co.lift_seq, co.lift_vehicle_id, co.lift_weight_kg, co.lift_distance_m,
          co.missed_at, co.first_report_id, co.reported_at, co.rectify_deadline, co.rectified_at, co.evidence)
         IS DISTINCT FROM
         (EXCLUDED.outcome, EXCLUDED.exception_code, EXCLUDED.lift_ts, EXCLUDED.lift_device_id, EXCLUDED.lift_seq, EXCLUDED.lift_vehicle_id,
          EXCLUDED.lift_weight_kg, EXCLUDED.lift_distance_m, EXCLUDED.missed_at, EXCLUDED.first_report_id, EXCLUDED.reported_at,
          EXCLUDED.rectify_deadline, EXCLUDED.rectified_at, EXCLUDED.evidence)
  RETURNING (xmax = 0) AS inserted, collection_id, outcome
)
SELECT (SELECT count(*) FROM decided)::int AS decided,
       count(*) FILTER (WHERE inserted)::int AS inserted,
       count(*) FILTER (WHERE NOT inserted)::int AS written,
       -- Rows now collected or crew_exception that this statement wrote and the CRM may have been told were
       -- missed (crm-misses.ts withdraws those it was): rewritten ones (few), and new ones only where proactive
       -- detection confirmed a miss before the first decision (a small table, hashed: a day's thousands of
       -- first decisions are not each probed against the outbox).
       COALESCE(array_agg(collection_id) FILTER (WHERE outcome IN ('collected', 'crew_exception')
                  AND (NOT inserted OR collection_id IN (SELECT p.collection_id FROM proactive_misses p WHERE p.crm_event_id IS NOT NULL))), '{}') AS settled,
       (SELECT COALESCE(jsonb_object_agg(outcome, n), '{}'::jsonb) FROM (SELECT outcome, count(*)::int AS n FROM decided GROUP BY outcome) c) AS outcomes
  FROM written`

export interface ClassifyRange {
  /** Due dates from `from` to `to`, both included. */
  from: IsoDate
  to: IsoDate
  /** The evidence as it stands at this instant (the job's run time; tests pass simulated time). */
  now: Date
  /** Only these collections of the range. */
  collectionIds?: readonly number[]
  /** Only collections whose round's planned end has passed (the hourly job leaves rounds still out alone). */
  roundsEndedOnly?: boolean
  /**
   * Which collections decided collected or crew_exception are checked against the CRM's earlier
   * "missed" events: those this run rewrote (default), or all of the range (a re-run: repairs anything).
   */
  withdrawalScan?: 'changed' | 'all'
}

export interface ClassifyReport {
  from: IsoDate
  to: IsoDate
  /** Collections decided, and how many rows were new or rewritten (the rest were unchanged). */
  decided: number
  inserted: number
  rewritten: number
  outcomes: Record<string, number>
  /** CRM events written (analysis/outcomes/crm-misses.ts): misses confirmed, misses withdrawn. */
  crmEvents: { confirmed: number; withdrawn: number }
  ms: number
}

export class ClassifyRangeError extends Error {
  override name = 'KERBSIDE_ERR_CLASSIFY_RANGE'
}

/** Due days per statement: one day of a large city is one set-based statement. */
const DAYS_PER_STATEMENT = 1
export const MAX_CLASSIFY_DAYS = 400

/** Decide and store the outcome of every collection due in the range, one day per statement. */
export async function classifyOutcomes(db: Database, range: ClassifyRange): Promise<ClassifyReport> {
  const { from, to } = range
  if (!isIsoDate(from) || !isIsoDate(to)) throw new ClassifyRangeError(`from and to must be calendar days written YYYY-MM-DD, got ${JSON.stringify(from)} and ${JSON.stringify(to)}`)
  const span = daysBetween(from, to)
  if (span < 0) throw new ClassifyRangeError(`to (${to}) is before from (${from})`)
  if (span >= MAX_CLASSIFY_DAYS) throw new ClassifyRangeError(`a classification may span at most ${MAX_CLASSIFY_DAYS} days; ${from}..${to} spans ${span + 1}`)
  const t0 = performance.now()
  const report: ClassifyReport = { from, to, decided: 0, inserted: 0, rewritten: 0, outcomes: {}, crmEvents: { confirmed: 0, withdrawn: 0 }, ms: 0 }
  for (let day = from; day <= to; day = addDays(day, DAYS_PER_STATEMENT)) {
    const last = addDays(day, DAYS_PER_STATEMENT - 1) < to ? addDays(day, DAYS_PER_STATEMENT - 1) : to
    if (range.collectionIds && range.collectionIds.length === 0) break
    const row = await db.transaction(async (tx) => {
      // Room to hash and sort a day of a large city in memory.
      await tx.query(`SET LOCAL work_mem = '64MB'`)
      const { rows } = await tx.query<{ decided: number; inserted: number; written: number; settled: number[]; outcomes: Record<string, number> }>(
        CLASSIFY_SQL, decideParams({ from: day, to: last, now: range.now, collectionIds: range.collectionIds, roundsEndedOnly: range.roundsEndedOnly }),
      )
      const r = rows[0]!
      // The CRM's events commit with the outcomes that cause them (the last writes: they take the outbox lock).
      const events = await emitMissEvents(tx, {
        from: day, to: last, collectionIds: range.collectionIds ?? null, now: range.now,
        settled: range.withdrawalScan === 'all' ? 'all' : r.settled.map(Number),
      })
      return { ...r, events }
    })
    report.crmEvents.confirmed += row.events.confirmed
    report.crmEvents.withdrawn += row.events.withdrawn
    report.decided += row.decided
    report.inserted += row.inserted
    report.rewritten += row.written
    for (const [k, n] of Object.entries(row.outcomes)) report.outcomes[k] = (report.outcomes[k] ?? 0) + n
  }
  report.ms = Math.round(performance.now() - t0)
  return report
}

/**
 * The collections of a range that later evidence can still change once their day is behind — no
 * outcome yet (the job did not run that day), pending or missed — read through the partial index on
 * those few, and the days not classified at all found by comparing row counts per day.
 */
export async function unsettledCollections(db: Queryable, from: IsoDate, to: IsoDate): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(
    `SELECT collection_id AS id FROM collection_outcomes
      WHERE due_date BETWEEN $1::date AND $2::date AND outcome IN ('pending', 'missed')
     UNION ALL
     SELECT sc.collection_id FROM scheduled_collections sc
      WHERE sc.due_date = ANY (ARRAY(
              SELECT s.due_date
                FROM (SELECT due_date, count(*) AS n FROM scheduled_collections
                       WHERE due_date BETWEEN $1::date AND $2::date AND NOT cancelled GROUP BY due_date) s
                LEFT JOIN (SELECT due_date, count(*) AS n FROM collection_outcomes
                            WHERE due_date BETWEEN $1::date AND $2::date GROUP BY due_date) o USING (due_date)
               WHERE o.n IS NULL OR o.n < s.n))
        AND NOT sc.cancelled
        AND NOT EXISTS (SELECT 1 FROM collection_outcomes o WHERE o.collection_id = sc.collection_id)`,
    [from, to],
  )
  return rows.map((r) => r.id)
}
