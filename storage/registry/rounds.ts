// Reading rounds for the dashboard and the CRM: the list with their sizes, and one round with its
// households in driving order and its next collection days from the calendar. A round's number of
// households is kept on it by the database (migration 132), so the list is a plain read.
import type { Queryable } from '../database.ts'

export interface RoundSummary {
  roundId: string
  name: string
  contractId: string
  contractorId: string
  stream: string
  weekday: number
  frequency: string
  anchorDate: string
  startsAt: string
  endsAt: string
  vehicleId: string | null
  vehicleRegistration: string | null
  subscription: boolean
  active: boolean
  households: number
}

export interface RoundStop {
  position: number
  uprn: number
  address: string
  postcode: string | null
  lat: number | null
  lon: number | null
  assisted: boolean
}

export interface RoundDay {
  scheduledDate: string
  dueDate: string
  cancelled: boolean
  collections: number
}

export interface RoundFilter {
  stream?: string
  weekday?: number
  contractId?: string
  vehicleId?: string
  active?: boolean
  limit: number
  offset: number
}

const SELECT_ROUND = `SELECT r.round_id AS "roundId", r.name, r.contract_id AS "contractId", c.contractor_id AS "contractorId", r.stream, r.weekday,
    r.frequency, r.anchor_date AS "anchorDate", to_char(r.starts_at, 'HH24:MI') AS "startsAt", to_char(r.ends_at, 'HH24:MI') AS "endsAt",
    r.vehicle_id AS "vehicleId", v.registration AS "vehicleRegistration", r.subscription, r.active,
    r.household_count AS households
  FROM rounds r
  JOIN contracts c ON c.contract_id = r.contract_id
  LEFT JOIN vehicles v ON v.vehicle_id = r.vehicle_id`

export async function listRounds(db: Queryable, f: RoundFilter): Promise<RoundSummary[]> {
  const { rows } = await db.query<RoundSummary>(
    `${SELECT_ROUND}
     WHERE ($1::text IS NULL OR r.stream = $1) AND ($2::int IS NULL OR r.weekday = $2) AND ($3::text IS NULL OR r.contract_id = $3)
       AND ($4::text IS NULL OR r.vehicle_id = $4) AND ($5::boolean IS NULL OR r.active = $5)
     ORDER BY r.weekday, r.stream, r.round_id LIMIT $6 OFFSET $7`,
    [f.stream ?? null, f.weekday ?? null, f.contractId ?? null, f.vehicleId ?? null, f.active ?? null, f.limit, f.offset],
  )
  return rows
}

export async function getRound(db: Queryable, roundId: string, opts: { today: string; days: number }): Promise<(RoundSummary & { stops: RoundStop[]; upcoming: RoundDay[] }) | null> {
  const { rows } = await db.query<RoundSummary>(`${SELECT_ROUND} WHERE r.round_id = $1`, [roundId])
  const round = rows[0]
  if (!round) return null
  const { rows: stops } = await db.query<RoundStop>(
    `SELECT rh.position, rh.uprn, h.address, h.postcode, h.lat, h.lon, h.assisted
       FROM round_households rh JOIN households h ON h.uprn = rh.uprn
      WHERE rh.round_id = $1 ORDER BY rh.position, rh.uprn`,
    [roundId],
  )
  const { rows: upcoming } = await db.query<RoundDay>(
    `SELECT scheduled_date AS "scheduledDate", due_date AS "dueDate", cancelled, count(*)::int AS collections
       FROM scheduled_collections
      WHERE round_id = $1 AND scheduled_date >= $2::date AND scheduled_date < $2::date + $3::int
      GROUP BY scheduled_date, due_date, cancelled ORDER BY scheduled_date, due_date`,
    [roundId, opts.today, opts.days],
  )
  return { ...round, stops, upcoming }
}
