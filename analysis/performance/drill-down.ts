// The collections behind a KPI, for the dashboard's drill-down: which misses, late collections,
// crew exceptions, misses not rectified in time, or repeat misses make up a figure (kpis.ts defines
// each), with the evidence fields and the default points each miss earned. Paged, oldest first.
import type { Queryable } from '../../storage/database.ts'
import { checkRange, type DateRange } from './periods.ts'
import { contractTerms } from './terms.ts'

export const DRILL_KPIS = ['missed', 'late', 'exceptions', 'not_rectified', 'repeat'] as const
export type DrillKpi = (typeof DRILL_KPIS)[number]

const OUTCOMES: Record<DrillKpi, string[]> = {
  missed: ['missed', 'rectified', 'rectified_late'],
  late: ['collected_late'],
  exceptions: ['crew_exception'],
  not_rectified: ['missed', 'rectified_late'],
  repeat: ['missed', 'rectified', 'rectified_late'],
}

export interface DrillDownOptions extends DateRange {
  kpi: DrillKpi
  roundId?: string
  /** Only crew exceptions with this code (kpi = exceptions). */
  exceptionCode?: string
  now?: Date
  limit: number
  offset: number
}

export interface KpiCollection {
  collectionId: number
  uprn: number
  address: string
  street: string | null
  ward: string | null
  stream: string
  roundId: string
  dueDate: string
  outcome: string
  exceptionCode: string | null
  liftTs: Date | null
  liftVehicleId: string | null
  reportedAt: Date | null
  rectifyDeadline: Date | null
  rectifiedAt: Date | null
  /** Misses only: a repeat at the property, not put right in time, and the default points it earned. */
  repeat: boolean
  notRectifiedInTime: boolean
  points: number
}

// $1 contract, $2 from, $3 to, $4 repeat window, $5 outcomes, $6 kpi, $7 round or NULL, $8 code or NULL, $9 now, $10 limit, $11 offset.
export const DRILL_DOWN_SQL = `
WITH cancelled AS (
  SELECT collection_id FROM scheduled_collections WHERE cancelled AND due_date BETWEEN $2::date - $4::int AND $3::date
),
-- The KPI's collections first, on their own (MATERIALIZED: otherwise the planner, seeing the LIMIT,
-- walks every outcome of the contract in due-date order to find a few misses: 3 s at 210,000
-- households against 0.1 s this way).
chosen AS MATERIALIZED (
  SELECT co.*
    FROM collection_outcomes co
   WHERE co.contract_id = $1 AND co.outcome = ANY ($5::text[]) AND co.due_date BETWEEN $2::date AND $3::date
     AND co.collection_id NOT IN (SELECT collection_id FROM cancelled)
     AND ($7::text IS NULL OR co.round_id = $7)
     AND ($8::text IS NULL OR co.exception_code = $8)
),
-- Repeats among the misses of the chosen collections' households only: whether a miss is a repeat
-- depends on that household's misses alone. Each household's misses by its own index (LATERAL;
-- OFFSET 0 keeps the planner from flattening it into a join that reads every miss of the contract
-- over the repeat window: 6,330 rows at 210,000 households for 70 households, growing with the city).
repeats AS (
  SELECT m.collection_id,
         count(*) OVER (PARTITION BY m.uprn ORDER BY m.due_date
                        RANGE BETWEEN make_interval(days => $4::int) PRECEDING AND interval '1 day' PRECEDING) > 0 AS is_repeat
    FROM (SELECT DISTINCT uprn FROM chosen) u
    CROSS JOIN LATERAL (
      SELECT co.collection_id, co.uprn, co.due_date
        FROM collection_outcomes co
       WHERE co.uprn = u.uprn AND co.contract_id = $1 AND co.outcome IN ('missed', 'rectified', 'rectified_late')
         AND co.due_date BETWEEN $2::date - $4::int AND $3::date
         AND co.collection_id NOT IN (SELECT collection_id FROM cancelled)
      OFFSET 0
    ) m
),
picked AS (
  SELECT co.*, coalesce(r.is_repeat, false) AS is_repeat,
         co.outcome = 'rectified_late' OR (co.outcome = 'missed' AND co.rectify_deadline <= $9) AS not_rectified
    FROM chosen co
    LEFT JOIN repeats r ON r.collection_id = co.collection_id
)
SELECT p.collection_id AS "collectionId", p.uprn, h.address, h.street, h.ward, p.stream, p.round_id AS "roundId", p.due_date AS "dueDate",
       p.outcome, p.exception_code AS "exceptionCode", p.lift_ts AS "liftTs", p.lift_vehicle_id AS "liftVehicleId",
       p.reported_at AS "reportedAt", p.rectify_deadline AS "rectifyDeadline", p.rectified_at AS "rectifiedAt",
       p.is_repeat AS repeat, coalesce(p.not_rectified, false) AS "notRectifiedInTime",
       count(*) OVER ()::int AS total
  FROM picked p
  JOIN households h ON h.uprn = p.uprn
 WHERE CASE $6 WHEN 'not_rectified' THEN coalesce(p.not_rectified, false) WHEN 'repeat' THEN p.is_repeat ELSE true END
 ORDER BY p.due_date, p.round_id, p.uprn, p.collection_id
 LIMIT $10 OFFSET $11`

export async function kpiCollections(db: Queryable, contractId: string, opts: DrillDownOptions): Promise<{ total: number; items: KpiCollection[] }> {
  const range = checkRange({ from: opts.from, to: opts.to })
  const t = await contractTerms(db, contractId)
  const { rows } = await db.query<Omit<KpiCollection, 'points'> & { total: number }>(DRILL_DOWN_SQL, [
    contractId, range.from, range.to, t.repeatWindowDays, OUTCOMES[opts.kpi], opts.kpi, opts.roundId ?? null, opts.exceptionCode ?? null,
    (opts.now ?? new Date()).toISOString(), opts.limit, opts.offset,
  ])
  const isMiss = new Set(OUTCOMES.missed)
  return {
    // count(*) OVER () is taken before LIMIT/OFFSET; past the last page there is no row to carry it.
    total: rows[0]?.total ?? (opts.offset > 0 ? (await kpiCollections(db, contractId, { ...opts, offset: 0, limit: 1 })).total : 0),
    items: rows.map(({ total: _, ...r }) => ({
      ...r,
      points: isMiss.has(r.outcome) ? (t.pointsPerMiss + (r.notRectifiedInTime ? t.pointsNotRectified : 0)) * (r.repeat ? t.repeatMultiplier : 1) : 0,
    })),
  }
}
