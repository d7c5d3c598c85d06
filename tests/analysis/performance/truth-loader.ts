// Until the outcome classifier runs in these tests, the collections' outcomes as the data shows them
// (truth-kpis.ts) are written into collection_outcomes directly, and the residents' reports into
// missed_reports with the validity the evidence gives them. Real tables, real database.
import type { ReportTruth } from '../../../simulators/truth/records.ts'
import type { Queryable } from '../../../storage/database.ts'
import { seenValid, type SeenCollection } from './truth-kpis.ts'

const CHUNK = 20_000
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

export async function writeSeenOutcomes(db: Queryable, seen: SeenCollection[]): Promise<number> {
  let written = 0
  for (let i = 0; i < seen.length; i += CHUNK) {
    const part = seen.slice(i, i + CHUNK)
    const res = await db.query(
      `INSERT INTO collection_outcomes (collection_id, uprn, stream, round_id, contract_id, due_date, outcome, exception_code,
              lift_ts, lift_vehicle_id, reported_at, rectify_deadline, rectified_at)
       SELECT sc.collection_id, sc.uprn, sc.stream, sc.round_id, r.contract_id, sc.due_date, t.outcome, t.code, t.lift_ts, t.vehicle, t.reported_at, t.deadline,
              CASE WHEN t.outcome IN ('rectified', 'rectified_late') THEN t.lift_ts END
         FROM unnest($1::bigint[], $2::text[], $3::date[], $4::text[], $5::text[], $6::timestamptz[], $7::text[], $8::timestamptz[], $9::timestamptz[])
              AS t(uprn, stream, scheduled_date, outcome, code, lift_ts, vehicle, reported_at, deadline)
         JOIN scheduled_collections sc ON sc.uprn = t.uprn AND sc.stream = t.stream AND sc.scheduled_date = t.scheduled_date
         JOIN rounds r ON r.round_id = sc.round_id`,
      [part.map((s) => s.truth.uprn), part.map((s) => s.truth.stream), part.map((s) => s.truth.scheduledDate), part.map((s) => s.outcome), part.map((s) => s.exceptionCode),
        part.map((s) => iso(s.liftAt)), part.map((s) => s.liftVehicleId), part.map((s) => iso(s.reportedAt)), part.map((s) => iso(s.deadline))],
    )
    written += res.rowCount
  }
  return written
}

export async function writeReports(db: Queryable, reports: ReportTruth[]): Promise<number> {
  let written = 0
  for (let i = 0; i < reports.length; i += CHUNK) {
    const part = reports.slice(i, i + CHUNK)
    const res = await db.query(
      `INSERT INTO missed_reports (service_code, stream, uprn, collection_date, located_by, validity, invalid_reason, source, requested_at)
       SELECT 'missed_' || stream, stream, uprn, collection_date, 'uprn', validity, CASE WHEN validity = 'invalid' THEN reason END, 'simulation', at
         FROM unnest($1::text[], $2::bigint[], $3::date[], $4::text[], $5::text[], $6::timestamptz[]) AS t(stream, uprn, collection_date, validity, reason, at)`,
      [part.map((r) => r.stream), part.map((r) => r.uprn), part.map((r) => r.collectionDate), part.map((r) => (seenValid(r) ? 'valid' : 'invalid')), part.map((r) => r.reason), part.map((r) => r.at)],
    )
    written += res.rowCount
  }
  return written
}
