// What happened to each scheduled collection, decided from the evidence. The rules, in order (the
// first that holds decides; DECIDE_SQL below is their one implementation, set-based):
//
//   Evidence of a collection: lift events of the household's bin of that stream — lift_events.bin_id
//   (resolved from the RFID tag by ingest) whose bin has the collection's stream and household, or,
//   when ingest did not know the tag yet (bin_id NULL), the tag matched to the bin now — made from the
//   start of the due day (Europe/London local time, so BST is minded) until the start of the day of
//   the household's next collection of that stream, and no later than `now`. An event counts only
//   when it was made within MAX_LIFT_DISTANCE_M of the property: a lift recorded farther away is the
//   tag read at the wrong place (a bin taken down the road, a stray read at the depot or the tip, a
//   bad GPS fix) and cannot show that this household's bin was emptied at the kerb. Such events are
//   kept in `evidence` with accepted = false, and the household's coordinates being unknown accepts
//   them (distance NULL).
//
//   collected        an accepted `collected` lift on the due day (the first one decides). It wins over a
//                    crew exception the same day: the bin was emptied.
//   crew_exception   no accepted lift on the due day but an accepted crew exception (not_presented,
//                    contaminated, no_access, excess_waste, overweight, wrong_bin) on it; the last one
//                    logged gives exception_code. A later lift does not change it: the resident's side.
//   pending          neither yet, and the day is not over: `now` is before `over_at` (below) and no valid
//                    missed-bin report has established the miss already.
//   missed           neither, and the day is over (or a valid report established the miss), with no
//                    accepted `collected` lift since.
//   collected_late   missed, then an accepted `collected` lift after the due day, with no valid report
//                    made before that lift (the contractor came back unasked, e.g. an unfinished round).
//   rectified        missed, reported — the first valid missed_report for that UPRN and stream whose
//                    collection_date is the due date, made before the lift — and then collected by the
//                    report's rectification deadline (its expected_datetime, set when it was judged
//                    valid: contract.rectify_working_days working days after the report, England and
//                    Wales bank holidays excluded; see analysis/first-contact/window.ts).
//   rectified_late   the same, collected after that deadline.
//
//   over_at: the round is over when its vehicle has lifted nothing for ROUND_GRACE_MINUTES after the
//   later of the round's planned end (rounds.ends_at) and the vehicle's last lift that day (rounds
//   run late: the day is not over while the crew is still working), and at the latest at the end of
//   the local due day. missed_at is over_at, or the valid report's time when that came first.
//
// Late data re-decides: every input is read afresh, so a lift that arrives after a collection was
// marked missed turns it into collected (on the day) or collected_late/rectified (after it).
import type { CollectionOutcome } from '../../core/contract/domain.ts'
import type { Queryable } from '../../storage/database.ts'
import { addDays } from '../calendar/dates.ts'
import { ukInstant } from './local-time.ts'

/** Lifts and exceptions farther than this from the property are recorded but not accepted (see above). */
export const MAX_LIFT_DISTANCE_M = 150
/** A round is over once its vehicle has been idle this long after its planned end (see above). */
export const ROUND_GRACE_MINUTES = 30
/** Later lifts belong to a collection until the household's next one of the stream, and this many days at most. */
export const MAX_CLAIM_DAYS = 28

// $1 first due date, $2 last due date, $3 now, $4 only these collection ids (NULL = every one due in
// the range), $5 MAX_LIFT_DISTANCE_M, $6 ROUND_GRACE_MINUTES, $7 only collections whose round's planned
// end has passed by `now`; $8 the start of the first due day, $9 the end of the last claim
// (MAX_CLAIM_DAYS after the last due day), $10 the end of the last due day: constant bounds on every
// read of the lift_events hypertable, so that the planner keeps to the chunks of these days (and none
// after `now`); $11 MAX_CLAIM_DAYS.
export const DECIDE_CTES = `
WITH target AS MATERIALIZED (
  SELECT sc.collection_id, sc.uprn, sc.stream, sc.round_id, r.contract_id, r.vehicle_id AS round_vehicle_id, sc.due_date,
         h.lat AS h_lat, h.lon AS h_lon,
         (sc.due_date::timestamp AT TIME ZONE 'Europe/London') AS day_start,
         ((sc.due_date + 1)::timestamp AT TIME ZONE 'Europe/London') AS day_end,
         ((sc.due_date + r.ends_at) AT TIME ZONE 'Europe/London') AS planned_end
    FROM scheduled_collections sc
    JOIN rounds r ON r.round_id = sc.round_id
    JOIN households h ON h.uprn = sc.uprn
   WHERE sc.due_date BETWEEN $1::date AND $2::date AND NOT sc.cancelled
     AND ($4::bigint[] IS NULL OR sc.collection_id = ANY($4::bigint[]))
     AND (NOT $7::boolean OR ((sc.due_date + r.ends_at) AT TIME ZONE 'Europe/London') <= $3::timestamptz)
),
target_bins AS MATERIALIZED (
  -- The household's bins of the collection's stream (usually one).
  SELECT t.collection_id, b.bin_id, b.rfid_tag FROM target t JOIN bins b ON b.uprn = t.uprn AND b.stream = t.stream
),
day_events AS MATERIALIZED (
  -- Lift events of those bins on the due day: by the bin ingest resolved from the tag, or, for tags it
  -- did not know yet (bin_id NULL), by the tag now. The constant bounds keep the planner to the chunks
  -- of these days.
  SELECT t.collection_id, l.ts, l.device_id, l.seq, l.vehicle_id, l.outcome, l.weight_kg, true AS on_day,
         kerbside_distance_m(t.h_lat, t.h_lon, l.lat, l.lon) AS distance_m
    FROM lift_events l
    JOIN target_bins tb ON tb.bin_id = l.bin_id
    JOIN target t ON t.collection_id = tb.collection_id AND l.ts >= t.day_start AND l.ts < t.day_end
   WHERE l.ts >= $8::timestamptz AND l.ts < $10::timestamptz AND l.ts <= $3::timestamptz
  UNION ALL
  SELECT t.collection_id, l.ts, l.device_id, l.seq, l.vehicle_id, l.outcome, l.weight_kg, true AS on_day,
         kerbside_distance_m(t.h_lat, t.h_lon, l.lat, l.lon) AS distance_m
    FROM lift_events l
    JOIN target_bins tb ON tb.rfid_tag = l.tag
    JOIN target t ON t.collection_id = tb.collection_id AND l.ts >= t.day_start AND l.ts < t.day_end
   WHERE l.bin_id IS NULL AND l.ts >= $8::timestamptz AND l.ts < $10::timestamptz AND l.ts <= $3::timestamptz
),
later_events AS MATERIALIZED (
  -- After the due day, only for collections not emptied on it (few), probed per collection through the
  -- (uprn, ts) and (tag, ts) indexes. Evidence belongs to this collection until the day of the
  -- household's next collection of the stream, and for MAX_CLAIM_DAYS at most.
  SELECT t.collection_id, l.ts, l.device_id, l.seq, l.vehicle_id, l.outcome, l.weight_kg, false AS on_day,
         kerbside_distance_m(t.h_lat, t.h_lon, l.lat, l.lon) AS distance_m
    FROM target t
    CROSS JOIN LATERAL (
      SELECT (least((SELECT n.due_date FROM scheduled_collections n
                      WHERE n.uprn = t.uprn AND n.stream = t.stream AND n.due_date > t.due_date AND NOT n.cancelled
                      ORDER BY n.due_date LIMIT 1), t.due_date + $11::int)::timestamp AT TIME ZONE 'Europe/London') AS claim_until) c
    JOIN target_bins b ON b.collection_id = t.collection_id
    CROSS JOIN LATERAL (
      SELECT x.ts, x.device_id, x.seq, x.vehicle_id, x.outcome, x.weight_kg, x.lat, x.lon FROM lift_events x
       WHERE x.uprn = t.uprn AND x.bin_id = b.bin_id AND x.ts >= t.day_end AND x.ts < c.claim_until AND x.ts <= $3::timestamptz
         AND x.ts >= $8::timestamptz AND x.ts < $9::timestamptz
      UNION ALL
      SELECT x.ts, x.device_id, x.seq, x.vehicle_id, x.outcome, x.weight_kg, x.lat, x.lon FROM lift_events x
       WHERE x.tag = b.rfid_tag AND x.bin_id IS NULL AND x.ts >= t.day_end AND x.ts < c.claim_until AND x.ts <= $3::timestamptz
         AND x.ts >= $8::timestamptz AND x.ts < $9::timestamptz
    ) l
   WHERE t.day_end <= $3::timestamptz
     AND t.collection_id NOT IN (SELECT d.collection_id FROM day_events d WHERE d.outcome = 'collected' AND COALESCE(d.distance_m <= $5::float8, true))
),
candidate AS MATERIALIZED (
  SELECT e.*, COALESCE(e.distance_m <= $5::float8, true) AS accepted
    FROM (SELECT * FROM day_events UNION ALL SELECT * FROM later_events) e
),
deciding AS (
  -- The event that decides, in the rules' order: the first lift on the due day, else the last crew
  -- exception on it, else the first lift after it.
  SELECT DISTINCT ON (collection_id) * FROM (
    SELECT 1 AS rank, c.* FROM candidate c WHERE c.on_day AND c.accepted AND c.outcome = 'collected'
    UNION ALL
    SELECT 2 AS rank, c.* FROM candidate c WHERE c.on_day AND c.accepted AND c.outcome <> 'collected'
    UNION ALL
    SELECT 3 AS rank, c.* FROM candidate c WHERE NOT c.on_day AND c.accepted AND c.outcome = 'collected'
  ) e
  ORDER BY collection_id, rank, (CASE WHEN rank = 2 THEN ts END) DESC NULLS LAST, ts, seq
),
event_list AS (
  SELECT collection_id, jsonb_agg(jsonb_build_object(
           'ts', ts, 'deviceId', device_id, 'seq', seq, 'vehicleId', vehicle_id, 'outcome', outcome, 'weightKg', weight_kg,
           'distanceM', round(distance_m::numeric, 1), 'onDueDay', on_day, 'accepted', accepted) ORDER BY ts, seq) AS events
    FROM candidate GROUP BY collection_id
),
report AS (
  -- The first valid missed-bin report about this collection.
  SELECT DISTINCT ON (t.collection_id) t.collection_id, m.report_id, m.requested_at, m.expected_datetime
    FROM target t
    JOIN missed_reports m ON m.uprn = t.uprn AND m.stream = t.stream AND m.collection_date = t.due_date
   WHERE m.validity = 'valid' AND m.requested_at <= $3::timestamptz
   ORDER BY t.collection_id, m.requested_at, m.report_id
),
round_day AS (
  -- When each round's vehicle last lifted anything on the day (rounds run late).
  SELECT v.round_vehicle_id, v.day_start, v.day_end,
         (SELECT max(l.ts) FROM lift_events l
           WHERE l.vehicle_id = v.round_vehicle_id AND l.ts >= v.day_start AND l.ts < v.day_end AND l.ts <= $3::timestamptz
             AND l.ts >= $8::timestamptz AND l.ts < $10::timestamptz) AS last_lift
    FROM (SELECT DISTINCT round_vehicle_id, day_start, day_end FROM target WHERE round_vehicle_id IS NOT NULL) v
),
judged AS (
  SELECT t.*, dl.rank, dl.ts AS dl_ts, dl.device_id AS dl_device_id, dl.seq AS dl_seq, dl.vehicle_id AS dl_vehicle_id,
         dl.weight_kg AS dl_weight_kg, dl.distance_m AS dl_distance_m, dl.outcome AS dl_outcome,
         rp.report_id, rp.requested_at AS reported_at, rp.expected_datetime AS rectify_deadline,
         least(t.day_end, greatest(t.planned_end, rd.last_lift) + make_interval(mins => $6::int)) AS over_at
    FROM target t
    LEFT JOIN deciding dl USING (collection_id)
    LEFT JOIN report rp USING (collection_id)
    LEFT JOIN round_day rd ON rd.round_vehicle_id = t.round_vehicle_id AND rd.day_start = t.day_start
),
decided AS (
  SELECT j.collection_id, j.uprn, j.stream, j.round_id, j.contract_id, j.due_date, o.outcome,
         CASE WHEN o.outcome = 'crew_exception' THEN j.dl_outcome END AS exception_code,
         -- The event that decided it: the lift (on the day, late, or the return visit), or the crew's exception.
         j.dl_ts AS lift_ts, j.dl_device_id AS lift_device_id, j.dl_seq AS lift_seq, j.dl_vehicle_id AS lift_vehicle_id,
         j.dl_weight_kg AS lift_weight_kg, j.dl_distance_m::real AS lift_distance_m,
         CASE WHEN o.outcome IN ('missed', 'collected_late', 'rectified', 'rectified_late') THEN least(j.over_at, j.reported_at) END AS missed_at,
         CASE WHEN o.outcome NOT IN ('collected', 'crew_exception') THEN j.report_id END AS first_report_id,
         CASE WHEN o.outcome NOT IN ('collected', 'crew_exception') THEN j.reported_at END AS reported_at,
         CASE WHEN o.outcome NOT IN ('collected', 'crew_exception') THEN j.rectify_deadline END AS rectify_deadline,
         CASE WHEN o.outcome IN ('rectified', 'rectified_late') THEN j.dl_ts END AS rectified_at,
         jsonb_build_object(
           'rule', o.outcome, 'dayStart', j.day_start, 'dayEnd', j.day_end, 'overAt', j.over_at, 'maxDistanceM', $5::float8,
           'events', COALESCE(el.events, '[]'::jsonb),
           'report', CASE WHEN j.report_id IS NOT NULL THEN jsonb_build_object('id', j.report_id, 'at', j.reported_at, 'deadline', j.rectify_deadline) END
         ) AS evidence
    FROM judged j
    CROSS JOIN LATERAL (SELECT CASE
           WHEN j.rank = 1 THEN 'collected'
           WHEN j.rank = 2 THEN 'crew_exception'
           WHEN $3::timestamptz < j.over_at AND j.report_id IS NULL THEN 'pending'
           WHEN j.rank IS NULL THEN 'missed'
           WHEN j.report_id IS NULL OR j.reported_at > j.dl_ts THEN 'collected_late'
           WHEN j.rectify_deadline IS NULL OR j.dl_ts <= j.rectify_deadline THEN 'rectified'
           ELSE 'rectified_late'
         END AS outcome) o
    LEFT JOIN event_list el USING (collection_id)
)`

/** The earlier of an instant and just after `now` (bounds are exclusive; nothing after `now` is read). */
const earlier = (a: Date, now: Date) => (a.getTime() <= now.getTime() ? a : new Date(now.getTime() + 1))

/** The parameters of DECIDE_CTES, in order. */
export function decideParams(o: { from: string; to: string; now: Date; collectionIds?: readonly number[] | null; roundsEndedOnly?: boolean }): unknown[] {
  return [o.from, o.to, o.now, o.collectionIds ?? null, MAX_LIFT_DISTANCE_M, ROUND_GRACE_MINUTES, o.roundsEndedOnly ?? false,
    ukInstant(o.from), earlier(ukInstant(addDays(o.to, MAX_CLAIM_DAYS)), o.now), earlier(ukInstant(addDays(o.to, 1)), o.now), MAX_CLAIM_DAYS]
}

export interface DecidedEvent {
  ts: string
  deviceId: string
  seq: number
  vehicleId: string | null
  outcome: string
  weightKg: number | null
  distanceM: number | null
  onDueDay: boolean
  accepted: boolean
}

export interface DecidedOutcome {
  collectionId: number
  uprn: number
  stream: string
  roundId: string
  contractId: string
  dueDate: string
  outcome: CollectionOutcome
  exceptionCode: string | null
  liftTs: Date | null
  liftDeviceId: string | null
  liftSeq: number | null
  liftVehicleId: string | null
  liftWeightKg: number | null
  liftDistanceM: number | null
  missedAt: Date | null
  firstReportId: number | null
  reportedAt: Date | null
  rectifyDeadline: Date | null
  rectifiedAt: Date | null
  evidence: { rule: CollectionOutcome; dayStart: string; dayEnd: string; overAt: string; maxDistanceM: number; events: DecidedEvent[]; report: { id: number; at: string; deadline: string | null } | null }
}

/**
 * What the rules decide for collections as the evidence stands at `now`, without writing anything
 * (the first-contact check asks this of one collection; classifyOutcomes writes it for many).
 */
export async function decideOutcomes(db: Queryable, o: { from: string; to: string; now: Date; collectionIds?: readonly number[] }): Promise<DecidedOutcome[]> {
  const { rows } = await db.query<DecidedOutcome>(
    `${DECIDE_CTES}
     SELECT collection_id AS "collectionId", uprn, stream, round_id AS "roundId", contract_id AS "contractId", due_date AS "dueDate", outcome,
            exception_code AS "exceptionCode", lift_ts AS "liftTs", lift_device_id AS "liftDeviceId", lift_seq AS "liftSeq",
            lift_vehicle_id AS "liftVehicleId", lift_weight_kg AS "liftWeightKg", lift_distance_m AS "liftDistanceM", missed_at AS "missedAt",
            first_report_id AS "firstReportId", reported_at AS "reportedAt", rectify_deadline AS "rectifyDeadline", rectified_at AS "rectifiedAt", evidence
       FROM decided ORDER BY collection_id`,
    decideParams(o),
  )
  return rows
}
