// A small contract to hand-compute KPIs on: a contractor, a contract with chosen terms, rounds,
// households on named streets, and scheduled collections with the outcomes the test writes itself
// into collection_outcomes (a real table in the real database).
import type { Queryable } from '../../storage/database.ts'

export interface FixtureTerms {
  monthlyPayment?: number
  targetMissedPer100k?: number
  targetOnDayPct?: number
  targetRectifiedPct?: number
  pointsPerMiss?: number
  pointsNotRectified?: number
  repeatMultiplier?: number
  repeatWindowDays?: number
  pointValue?: number
  deductionCapPct?: number
}

export async function createContract(db: Queryable, contractId: string, terms: FixtureTerms = {}): Promise<void> {
  await db.query(`INSERT INTO contractors (contractor_id, name) VALUES ('fx-contractor', 'Fixture Waste Ltd') ON CONFLICT DO NOTHING`)
  await db.query(
    `INSERT INTO contracts (contract_id, contractor_id, name, starts_on, monthly_payment, target_missed_per_100k, target_on_day_pct, target_rectified_pct,
       points_per_miss, points_not_rectified, repeat_multiplier, repeat_window_days, point_value, deduction_cap_pct)
     VALUES ($1, 'fx-contractor', $2, '2025-01-01', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [contractId, `Contract ${contractId}`, terms.monthlyPayment ?? 100_000, terms.targetMissedPer100k ?? 30, terms.targetOnDayPct ?? 99.76, terms.targetRectifiedPct ?? 98,
      terms.pointsPerMiss ?? 1, terms.pointsNotRectified ?? 2, terms.repeatMultiplier ?? 2, terms.repeatWindowDays ?? 84, terms.pointValue ?? 50, terms.deductionCapPct ?? 10],
  )
}

export interface FixtureRound {
  roundId: string
  contractId: string
  stream?: string
  vehicleId?: string
  weekday?: number
  startsAt?: string
  endsAt?: string
}

export async function createRound(db: Queryable, r: FixtureRound): Promise<void> {
  const vehicleId = r.vehicleId ?? `v-${r.roundId}`
  await db.query(`INSERT INTO vehicles (vehicle_id, registration, contractor_id) VALUES ($1, $1, 'fx-contractor') ON CONFLICT DO NOTHING`, [vehicleId])
  const weekday = r.weekday ?? 1
  // An anchor on the right weekday: 2026-01-05 is a Monday.
  const anchor = new Date(Date.UTC(2026, 0, 4 + weekday)).toISOString().slice(0, 10)
  await db.query(
    `INSERT INTO rounds (round_id, contract_id, name, stream, vehicle_id, weekday, frequency, anchor_date, starts_at, ends_at)
     VALUES ($1, $2, $3, $4, $5, $6, 'weekly', $7, $8, $9)`,
    [r.roundId, r.contractId, `Round ${r.roundId}`, r.stream ?? 'residual', vehicleId, weekday, anchor, r.startsAt ?? '07:00', r.endsAt ?? '15:00'],
  )
}

export interface FixtureHousehold {
  uprn: number
  street?: string
  ward?: string
  lat?: number
  lon?: number
  assisted?: boolean
  /** Rounds serving it, with its position in each. */
  rounds?: Record<string, number>
}

export async function createHousehold(db: Queryable, h: FixtureHousehold): Promise<void> {
  const street = h.street ?? 'High Street'
  await db.query(
    `INSERT INTO households (uprn, address, street, postcode, ward, lat, lon, assisted) VALUES ($1, $2, $3, 'L1 1AA', $4, $5, $6, $7)`,
    [h.uprn, `${h.uprn % 1000} ${street}`, street, h.ward ?? 'Central', h.lat ?? 53.4, h.lon ?? -2.99, h.assisted ?? false],
  )
  for (const [roundId, position] of Object.entries(h.rounds ?? {})) {
    await db.query(`INSERT INTO round_households (round_id, uprn, position) VALUES ($1, $2, $3)`, [roundId, h.uprn, position])
  }
}

export type Outcome = 'pending' | 'collected' | 'collected_late' | 'crew_exception' | 'missed' | 'rectified' | 'rectified_late'

export interface FixtureCollection {
  uprn: number
  roundId: string
  contractId: string
  due: string
  outcome: Outcome
  stream?: string
  exceptionCode?: string | null
  cancelled?: boolean
  liftTs?: string | null
  liftVehicleId?: string | null
  reportedAt?: string | null
  rectifyDeadline?: string | null
  rectifiedAt?: string | null
}

/** A scheduled collection and its outcome; returns the collection id. */
export async function addCollection(db: Queryable, c: FixtureCollection): Promise<number> {
  const stream = c.stream ?? (await db.query<{ stream: string }>(`SELECT stream FROM rounds WHERE round_id = $1`, [c.roundId])).rows[0]!.stream
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO scheduled_collections (uprn, stream, round_id, scheduled_date, due_date, cancelled) VALUES ($1, $2, $3, $4, $4, $5) RETURNING collection_id AS id`,
    [c.uprn, stream, c.roundId, c.due, c.cancelled ?? false],
  )
  const id = rows[0]!.id
  await db.query(
    `INSERT INTO collection_outcomes (collection_id, uprn, stream, round_id, contract_id, due_date, outcome, exception_code, lift_ts, lift_vehicle_id,
       reported_at, rectify_deadline, rectified_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [id, c.uprn, stream, c.roundId, c.contractId, c.due, c.outcome, c.exceptionCode ?? null, c.liftTs ?? null, c.liftVehicleId ?? null,
      c.reportedAt ?? null, c.rectifyDeadline ?? null, c.rectifiedAt ?? null],
  )
  return id
}

export interface FixtureReport {
  uprn: number
  stream: string
  requestedAt: string
  validity: 'pending' | 'valid' | 'invalid'
  collectionDate?: string
}

export async function addReport(db: Queryable, r: FixtureReport): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO missed_reports (service_code, stream, uprn, collection_date, located_by, validity, invalid_reason, source, requested_at)
     VALUES ($1, $2, $3, $4, 'uprn', $5, $6, 'test', $7) RETURNING report_id AS id`,
    [`missed_${r.stream}`, r.stream, r.uprn, r.collectionDate ?? null, r.validity, r.validity === 'invalid' ? 'collected' : null, r.requestedAt],
  )
  return rows[0]!.id
}
