// What the reward rules are computed from: each household's lifts in a month, summed per stream in
// one query. Lifts are the RFID-tagged lift events the vehicles send (identification-weighing in the
// sense of EN 14803), by the council's local day:
//   weighed    lifts with outcome 'collected' and a plausible weight: above 0 and at most the bin's
//              rated load (EN 840: 0.4 kg per litre of capacity; 96 kg for a 240 l bin; a bin of
//              unknown size is taken as 240 l). A heavier reading is an overloaded bin or a weighing
//              fault, and neither should earn points.
//   presented  bin-days with a 'collected' lift and no crew exception for that bin that day.
//   contaminated  bin-days with a 'contaminated' exception (a crew tapping it twice counts once).
// Communal bins are left out: their weight is not one household's.
import type { WasteStream } from '../../core/contract/domain.ts'
import type { Queryable } from '../../storage/database.ts'
import { addMonths, monthStart, type Month } from './periods.ts'

export interface StreamFacts {
  kg: number
  weighedLifts: number
  /** `<device id>#<seq>` of each weighed lift, oldest first */
  liftIds: string[]
  presented: number
  contaminated: number
  contaminatedLiftIds: string[]
}

export interface HouseholdFacts {
  uprn: number
  ward: string | null
  /** The contract whose rules apply: the one collecting its recycling, else any active round's. */
  contractId: string | null
  streams: Partial<Record<WasteStream, StreamFacts>>
}

/** Rated load of a wheeled bin per litre of capacity (EN 840). */
export const RATED_KG_PER_LITRE = 0.4

export async function loadMonthFacts(db: Queryable, month: Month, timeZone: string): Promise<Map<number, HouseholdFacts>> {
  const { rows } = await db.query<StreamFacts & { uprn: number; stream: WasteStream }>(
    `WITH lifts AS (
       SELECT l.uprn, b.stream, l.bin_id, l.device_id || '#' || l.seq AS lift_id, l.ts, l.outcome, l.weight_kg, b.capacity_l,
              (l.ts AT TIME ZONE $3)::date AS day
         FROM lift_events l JOIN bins b ON b.bin_id = l.bin_id
        WHERE l.ts >= ($1::timestamp AT TIME ZONE $3) AND l.ts < ($2::timestamp AT TIME ZONE $3)
          AND l.uprn IS NOT NULL AND NOT b.communal
     ), weighed AS (
       SELECT uprn, stream, round(sum(weight_kg::numeric), 2) AS kg, count(*)::int AS lifts, array_agg(lift_id ORDER BY ts, lift_id) AS lift_ids
         FROM lifts
        WHERE outcome = 'collected' AND weight_kg > 0 AND weight_kg <= COALESCE(capacity_l, 240) * $4::numeric
        GROUP BY uprn, stream
     ), bin_days AS (
       SELECT uprn, stream, bin_id, day, bool_or(outcome = 'collected') AS collected, bool_or(outcome <> 'collected') AS exception,
              min(lift_id) FILTER (WHERE outcome = 'contaminated') AS contaminated_lift
         FROM lifts GROUP BY uprn, stream, bin_id, day
     ), days AS (
       SELECT uprn, stream, count(*) FILTER (WHERE collected AND NOT exception)::int AS presented,
              count(contaminated_lift)::int AS contaminated,
              COALESCE(array_agg(contaminated_lift ORDER BY day, bin_id) FILTER (WHERE contaminated_lift IS NOT NULL), '{}') AS contaminated_ids
         FROM bin_days GROUP BY uprn, stream
     )
     SELECT d.uprn, d.stream, COALESCE(w.kg, 0) AS kg, COALESCE(w.lifts, 0) AS "weighedLifts", COALESCE(w.lift_ids, '{}') AS "liftIds",
            d.presented, d.contaminated, d.contaminated_ids AS "contaminatedLiftIds"
       FROM days d LEFT JOIN weighed w ON w.uprn = d.uprn AND w.stream = d.stream`,
    [monthStart(month), monthStart(addMonths(month, 1)), timeZone, RATED_KG_PER_LITRE],
  )
  const out = new Map<number, HouseholdFacts>()
  for (const { uprn, stream, ...facts } of rows) {
    let h = out.get(uprn)
    if (!h) out.set(uprn, (h = { uprn, ward: null, contractId: null, streams: {} }))
    h.streams[stream] = facts
  }
  return out
}

/** Ward and rules scope of households (those with lifts, and those with entries to revisit). */
export async function loadHouseholds(db: Queryable, uprns: readonly number[]): Promise<{ uprn: number; ward: string | null; contractId: string | null }[]> {
  const { rows } = await db.query<{ uprn: number; ward: string | null; contractId: string | null }>(
    `SELECT h.uprn, h.ward,
            -- The household's rounds by its own index first (OFFSET 0 keeps the planner from turning this
            -- into a probe of every round for every household, as it did on a city not yet analysed:
            -- 570 probes × 210,000 households, over eight minutes).
            (SELECT r.contract_id FROM (SELECT round_id FROM round_households WHERE uprn = h.uprn OFFSET 0) rh JOIN rounds r ON r.round_id = rh.round_id
              WHERE r.active ORDER BY (r.stream = 'recycling') DESC, r.round_id LIMIT 1) AS "contractId"
       FROM households h WHERE h.uprn = ANY($1::bigint[])`,
    [uprns],
  )
  return rows
}
