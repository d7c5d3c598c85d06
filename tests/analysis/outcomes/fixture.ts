// A small street for the outcome and first-contact tests: one contract, one vehicle with its unit, one
// weekly residual round of five households in driving order 50 m apart, their bins and one sensor,
// and collections scheduled on the days a test names. Lifts go in through ingest's own write path
// (writeBatch), so tags are resolved to bins exactly as in production.
import type { LiftOutcome } from '../../../core/contract/messages.ts'
import { deviceTopic, parseTopic } from '../../../core/contract/topics.ts'
import { writeBatch, type DecodedItem } from '../../../ingest/write-batch.ts'
import type { Database } from '../../../storage/database.ts'

export const STREET = { lat: 53.4, lon: -2.98 }
/** Metres to degrees of latitude. */
export const M_LAT = 1 / 111_320
export const UPRNS = [300000000001, 300000000002, 300000000003, 300000000004, 300000000005] as const
export const tagOf = (uprn: number) => `TAG-${uprn}`
export const VEHICLE = 'rcv-t1'
export const UNIT = 'unit-rcv-t1'
export const REGISTRATION = 'KB26 TST'
export const ROUND = 'res-mon-t'

/** Household k stands 50·k m north of the street's start. */
export const householdAt = (k: number) => ({ lat: STREET.lat + 50 * k * M_LAT, lon: STREET.lon })

export async function seedStreet(db: Database, opts: { weekday?: number; anchor?: string } = {}): Promise<void> {
  await db.query(`INSERT INTO contractors (contractor_id, name) VALUES ('tc', 'Test Waste Ltd')`)
  await db.query(`INSERT INTO contracts (contract_id, contractor_id, name, starts_on, rectify_working_days, report_opens_hour, report_window_working_days)
                  VALUES ('tk', 'tc', 'Test contract', '2026-01-01', 1, 16, 3)`)
  await db.query(`INSERT INTO vehicles (vehicle_id, registration, contractor_id) VALUES ($1, $2, 'tc')`, [VEHICLE, REGISTRATION])
  await db.query(`INSERT INTO devices (device_id, kind, secret_hash, vehicle_id) VALUES ($1, 'vehicle', 'unusable', $2)`, [UNIT, VEHICLE])
  await db.query(`INSERT INTO rounds (round_id, contract_id, name, stream, vehicle_id, weekday, frequency, anchor_date, starts_at, ends_at)
                  VALUES ($1, 'tk', 'Residual Test', 'residual', $2, $3, 'weekly', $4, '07:00', '15:00')`,
  [ROUND, VEHICLE, opts.weekday ?? 1, opts.anchor ?? '2026-03-02'])
  for (const [k, uprn] of UPRNS.entries()) {
    const at = householdAt(k)
    await db.query(`INSERT INTO households (uprn, address, street, postcode, lat, lon) VALUES ($1, $2, 'Test Road', 'L1 1AA', $3, $4)`, [uprn, `${k + 1} Test Road`, at.lat, at.lon])
    await db.query(`INSERT INTO bins (bin_id, uprn, stream, rfid_tag) VALUES ($1, $2, 'residual', $3)`, [`bin-${uprn}`, uprn, tagOf(uprn)])
    await db.query(`INSERT INTO round_households (round_id, uprn, position) VALUES ($1, $2, $3)`, [ROUND, uprn, k])
  }
  // The first household's bin has a fill sensor.
  await db.query(`INSERT INTO devices (device_id, kind, secret_hash, bin_id) VALUES ('sensor-1', 'bin', 'unusable', $1)`, [`bin-${UPRNS[0]}`])
}

/** Collections of every household of the street due on `dueDate` (scheduled that day unless given). */
export async function schedule(db: Database, dueDate: string, scheduledDate = dueDate): Promise<void> {
  await db.query(
    `INSERT INTO scheduled_collections (uprn, stream, round_id, scheduled_date, due_date)
     SELECT uprn, 'residual', $1, $2, $3 FROM unnest($4::bigint[]) AS uprn`,
    [ROUND, scheduledDate, dueDate, [...UPRNS]],
  )
}

export async function collectionId(db: Database, uprn: number, dueDate: string): Promise<number> {
  const { rows } = await db.query<{ id: number }>(`SELECT collection_id AS id FROM scheduled_collections WHERE uprn = $1 AND due_date = $2`, [uprn, dueDate])
  return rows[0]!.id
}

let seq = 0
export interface LiftSpec { at: string; uprn?: number; tag?: string; outcome?: LiftOutcome; metresAway?: number; weightKg?: number; household?: number }

/** Lift events from the street's vehicle unit, through writeBatch (seq numbered in the order given). */
export async function lifts(db: Database, specs: LiftSpec[]): Promise<void> {
  const items: DecodedItem[] = specs.map((s) => {
    const k = s.household ?? UPRNS.indexOf((s.uprn ?? UPRNS[0]) as (typeof UPRNS)[number])
    const at = householdAt(k)
    const body = {
      seq: ++seq, ts: new Date(s.at).toISOString(), tag: s.tag ?? tagOf(UPRNS[k]!), outcome: s.outcome ?? 'collected',
      lat: at.lat + (s.metresAway ?? 5) * M_LAT, lon: at.lon, ...(s.outcome && s.outcome !== 'collected' ? {} : { weightKg: s.weightKg ?? 14.5 }),
    }
    const topic = deviceTopic('vehicle', UNIT, 'lift')
    return { topic, payload: Buffer.from(JSON.stringify(body)), receivedAt: new Date(), parsed: parseTopic(topic), result: { ok: true, message: { kind: 'lift', body } } }
  })
  await db.transaction((tx) => writeBatch(tx, items))
}

/** A position of the street's vehicle `metresNorth` of the street's start. */
export async function position(db: Database, at: string, metresNorth: number): Promise<void> {
  const body = { seq: ++seq, ts: new Date(at).toISOString(), lat: STREET.lat + metresNorth * M_LAT, lon: STREET.lon, speedKmh: 8 }
  const topic = deviceTopic('vehicle', UNIT, 'position')
  await db.transaction((tx) => writeBatch(tx, [{ topic, payload: Buffer.from(JSON.stringify(body)), receivedAt: new Date(), parsed: parseTopic(topic), result: { ok: true, message: { kind: 'position', body } } }]))
}

let sensorSeq = 0
/** A reading of the first household's bin sensor. */
export async function reading(db: Database, at: string, fillPct: number): Promise<void> {
  const body = { seq: ++sensorSeq, ts: new Date(at).toISOString(), fillPct }
  const topic = deviceTopic('bin', 'sensor-1', 'reading')
  await db.transaction((tx) => writeBatch(tx, [{ topic, payload: Buffer.from(JSON.stringify(body)), receivedAt: new Date(), parsed: parseTopic(topic), result: { ok: true, message: { kind: 'reading', body } } }]))
}

/** Empty the test's tables of telemetry, outcomes, reports and collections, keeping the street. */
export async function clearActivity(db: Database): Promise<void> {
  await db.query(`DELETE FROM collection_outcomes`)
  await db.query(`DELETE FROM report_updates`)
  await db.query(`DELETE FROM report_contacts`)
  await db.query(`DELETE FROM missed_reports`)
  await db.query(`DELETE FROM scheduled_collections`)
  await db.query(`DELETE FROM lift_events`)
  await db.query(`DELETE FROM vehicle_positions`)
  await db.query(`DELETE FROM bin_readings`)
  await db.query(`UPDATE devices SET last_seq = NULL`)
  await db.query(`DELETE FROM device_gaps`)
}
