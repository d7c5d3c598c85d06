// The end-to-end test of issue 3: a simulated week for 20,000 households runs through the real broker
// and ingest into the database, with every lift and reading stored — counts checked against the
// simulator's own log (the ground truth), device by device.
//
// Sized to run in the default suite in a couple of minutes on two cores: 1 % of wheeled bins carry a
// sensor (481 sensors) reporting every 4 hours, and vehicles report their position every minute.
// That is ~29,500 lifts, ~20,000 readings and ~13,500 positions (~25 s through the embedded stack
// on an idle machine). Ingest batches for 250 ms, so the embedded database writes fewer, larger
// transactions.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { addDays, isoWeekday } from '../../analysis/calendar/dates.ts'
import { createApiKey } from '../../storage/api-keys.ts'
import { generateCity } from '../../simulators/city/generate-city.ts'
import type { City } from '../../simulators/city/city.ts'
import { installCity } from '../../simulators/install-city.ts'
import { createSimulation } from '../../simulators/model/simulation.ts'
import { runSimulation, type RunResult } from '../../simulators/run/run-simulation.ts'
import { readGroundTruth } from '../../simulators/truth/ground-truth.ts'
import { londonDate } from '../../simulators/time.ts'
import { count, startTestStack, waitFor, type TestStack } from '../helpers/stack.ts'

let t: TestStack
let dir: string
beforeAll(async () => {
  t = await startTestStack({ INGEST_BATCH_MS: 250 })
  dir = mkdtempSync(join(tmpdir(), 'kerbside-sim-'))
})
afterAll(async () => {
  await t?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** The Monday at least eight days back: the whole week is in the past, as ingest requires. */
function lastFullWeek(): string {
  const d = addDays(londonDate(Date.now()), -8)
  return addDays(d, 1 - isoWeekday(d))
}

test('a simulated week for 20,000 households goes through broker and ingest with every lift and reading stored', async ({ annotate }) => {
  const start = lastFullWeek()
  const end = addDays(start, 6)
  const city: City = generateCity({ seed: 2026, households: 20_000, start, sensorShare: 0.01 })
  const installed = await installCity(t.db, city, { calendar: { from: addDays(start, -7), to: end, today: addDays(start, -8) } })
  expect(installed.provisioned).toBe(city.devices.length)
  const { key } = await createApiKey(t.db, 'simulated residents', 'crm')
  const truthFile = join(dir, 'truth.jsonl')

  const simulation = createSimulation(city, { days: 7, behaviour: { sensors: { readingIntervalS: 4 * 3600 }, vehicles: { positionIntervalS: 60 } } })
  const result: RunResult = await runSimulation({ simulation, mqttUrl: t.mqttUrl, secret: installed.secret, api: { url: t.httpUrl, key }, truthFile })
  const truth = result.truth
  const acked = truth.acknowledged
  await annotate(`simulated week, 20,000 households: ${result.messages.toLocaleString('en-GB')} messages in ${(result.realMs / 1000).toFixed(1)} s (${Math.round(result.messagesPerSecond)} msg/s); ${JSON.stringify(acked)}; ${result.reports} reports`)

  // Nothing lost between the broker's PUBACK and the database.
  expect(acked.reading + acked.lift + acked.position).toBe(result.messages - acked.status)
  await waitFor(async () => (await count(t.db, 'SELECT 1 FROM lift_events')) === acked.lift
    && (await count(t.db, 'SELECT 1 FROM bin_readings')) === acked.reading
    && (await count(t.db, 'SELECT 1 FROM vehicle_positions')) === acked.position, 180_000, 'every message stored')
  expect(acked.lift).toBeGreaterThan(25_000)
  expect(acked.reading).toBeGreaterThan(15_000)
  expect(await count(t.db, 'SELECT 1 FROM quarantine')).toBe(0)

  // Device by device, kind by kind.
  const stored = new Map<string, { reading: number; lift: number; position: number }>()
  for (const [table, kind] of [['bin_readings', 'reading'], ['lift_events', 'lift'], ['vehicle_positions', 'position']] as const) {
    for (const row of (await t.db.query<{ deviceId: string; n: number }>(`SELECT device_id AS "deviceId", count(*)::int AS n FROM ${table} GROUP BY 1`)).rows) {
      const s = stored.get(row.deviceId) ?? { reading: 0, lift: 0, position: 0 }
      s[kind] = row.n
      stored.set(row.deviceId, s)
    }
  }
  for (const [deviceId, c] of truth.byDevice) {
    expect(stored.get(deviceId) ?? { reading: 0, lift: 0, position: 0 }, deviceId).toEqual({ reading: c.reading, lift: c.lift, position: c.position })
  }

  // Every lift as the crew made it: the right bin of the right household, outcome and weight.
  const lifts = new Map((await t.db.query<{ deviceId: string; seq: number; tag: string; uprn: number | null; outcome: string; weightKg: number | null }>(
    `SELECT device_id AS "deviceId", seq, tag, uprn, outcome, weight_kg AS "weightKg" FROM lift_events`)).rows.map((r) => [`${r.deviceId}#${r.seq}`, r]))
  let checked = 0
  for (const c of truth.collections.values()) {
    for (const l of c.lifts) {
      const row = lifts.get(`${l.deviceId}#${l.seq}`)
      expect(row, `${c.roundId} ${c.uprn}`).toMatchObject({ tag: c.tag, uprn: c.uprn, outcome: l.outcome })
      if (l.weightKg !== null) expect(row!.weightKg).toBeCloseTo(l.weightKg, 1)
      checked++
    }
  }
  expect(checked).toBe(acked.lift)

  // Every collection the simulation decided is one the calendar expected, on the same due day.
  const due = new Set((await t.db.query<{ k: string }>(
    `SELECT uprn || '|' || stream || '|' || scheduled_date || '|' || due_date AS k FROM scheduled_collections WHERE due_date BETWEEN $1 AND $2`, [start, end])).rows.map((r) => r.k))
  expect(due.size).toBe(truth.collections.size)
  for (const c of truth.collections.values()) expect(due.has(`${c.uprn}|${c.stream}|${c.scheduledDate}|${c.dueDate}`)).toBe(true)

  // Sequence gaps exactly where sensors lost messages (and a later one arrived to show it).
  const lastSent = new Map<string, number>()
  for (const r of truth.readings) if (r.delivery !== 'lost') lastSent.set(r.deviceId, Math.max(lastSent.get(r.deviceId) ?? 0, r.seq))
  const expectedMissing = truth.offline.reduce((n, o) => n + o.lostSeqs.filter((s) => s < (lastSent.get(o.deviceId) ?? 0)).length, 0)
  expect(Number((await t.db.query<{ n: number }>(`SELECT coalesce(sum(missing), 0)::int AS n FROM device_gaps WHERE NOT lead_in`)).rows[0]!.n)).toBe(expectedMissing)
  // Online at the start; offline and back for each spell. Ingest records a device's state as of
  // each batch, so a spell that runs through in one batch at full speed leaves no transition.
  const transitions = await count(t.db, 'SELECT 1 FROM device_status_events')
  expect(await count(t.db, 'SELECT DISTINCT device_id FROM device_status_events')).toBe(city.devices.length)
  expect(transitions).toBeLessThanOrEqual(city.devices.length + 2 * truth.offline.length)
  expect(acked.status).toBe(city.devices.length + 2 * truth.offline.length)

  // Residents' reports filed through Open311, each as the simulation made it.
  const posted = truth.reports.filter((r) => r.serviceRequestId !== null)
  expect(truth.reports.filter((r) => r.error !== null)).toEqual([])
  expect(posted).toHaveLength(truth.reports.length)
  expect(await count(t.db, 'SELECT 1 FROM missed_reports')).toBe(posted.length)
  const reports = new Map((await t.db.query<{ id: number; uprn: number; stream: string; collectionDate: string | null }>(
    `SELECT report_id AS id, uprn, stream, collection_date AS "collectionDate" FROM missed_reports`)).rows.map((r) => [String(r.id), r]))
  for (const r of posted) expect(reports.get(r.serviceRequestId!)).toMatchObject({ uprn: r.uprn, stream: r.stream, collectionDate: r.collectionDate })
  expect(truth.reports.some((r) => r.genuine)).toBe(true)

  // The ground-truth file says the same as the truth in memory.
  const file = await readGroundTruth(truthFile)
  expect(file.collections.size).toBe(truth.collections.size)
  expect(file.reports.map((r) => r.serviceRequestId)).toEqual(truth.reports.map((r) => r.serviceRequestId))
  expect(file.readings).toHaveLength(truth.readings.length)
  expect(file.fileSummary!.acknowledged).toEqual(acked)
  expect(file.meta!.seed).toBe(2026)
}, 400_000)
