// The same readings give the same aggregate answers on every storage tier: continuous aggregate
// (full TimescaleDB), Kerbside's own roll-up on hypertables (Apache edition) and on plain tables.
// The answers are also checked against a computation done here in plain TypeScript.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { silentLogger } from '../../core/log.ts'
import type { Database, Tier } from '../../storage/database.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { readingAggregates, refreshReadingsRollup } from '../../storage/readings.ts'
import { writeBatch } from '../../ingest/write-batch.ts'
import { parseTopic } from '../../core/contract/topics.ts'

const TIERS: Tier[] = ['timescaledb', 'timescaledb-apache', 'postgresql']
const dbs = new Map<Tier, Database>()
const HOUR = 3_600_000
const start = Date.parse('2026-11-01T00:00:00Z')
const now = new Date(start + 72 * HOUR)

// Three days of readings every 10 minutes for two devices, with fills that are not round numbers.
const readings = Array.from({ length: 2 * 432 }, (_, i) => {
  const device = i % 2 === 0 ? 'd-1' : 'd-2'
  const k = Math.floor(i / 2)
  return { device, seq: k + 1, ts: new Date(start + k * 600_000), fill: Math.round(((k * 7.3) % 100) * 10) / 10, temp: 5 + (k % 13), battery: 3.9 - k * 0.0005 }
})
// A late reading that arrives after the roll-up ran: it must still count.
const late = { device: 'd-1', seq: 10_000, ts: new Date(start + 5 * HOUR + 123_000), fill: 99.5, temp: 80, battery: 3.1 }

async function insert(db: Database, rows: typeof readings) {
  await db.query(
    `INSERT INTO bin_readings (device_id, ts, seq, fill_pct, temp_c, battery_v)
     SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::bigint[], $4::real[], $5::real[], $6::real[])`,
    [rows.map((r) => r.device), rows.map((r) => r.ts.toISOString()), rows.map((r) => r.seq), rows.map((r) => r.fill), rows.map((r) => r.temp), rows.map((r) => r.battery)],
  )
}

beforeAll(async () => {
  for (const tier of TIERS) {
    const db = await openDatabase({ logger: silentLogger, tierCeiling: tier })
    dbs.set(tier, db)
    await insert(db, readings)
    await refreshReadingsRollup(db, { now })
    // The late reading goes through ingest's own write path, which records what it invalidates.
    await db.query(`INSERT INTO devices (device_id, kind, secret_hash) VALUES ('d-1', 'bin', '!')`)
    const topic = 'kerbside/v1/bins/d-1/reading'
    const body = { seq: late.seq, ts: late.ts.toISOString(), fillPct: late.fill, tempC: late.temp, batteryV: late.battery }
    await db.transaction((tx) => writeBatch(tx, [{ topic, payload: Buffer.from(JSON.stringify(body)), receivedAt: now, parsed: parseTopic(topic), result: { ok: true, message: { kind: 'reading', body } } }], { invalidateRollup: !db.capabilities.continuousAggregates }))
    await refreshReadingsRollup(db, { now })
  }
})
afterAll(async () => { for (const db of dbs.values()) await db.close() })

function expected(device: string, from: Date, to: Date, bucketSeconds: number) {
  const f32 = (x: number) => Math.fround(x) // stored as real
  const groups = new Map<number, number[]>()
  const temps = new Map<number, number[]>()
  const bats = new Map<number, number[]>()
  for (const r of [...readings, late]) {
    if (r.device !== device || r.ts < from || r.ts >= to) continue
    const b = Math.floor(r.ts.getTime() / (bucketSeconds * 1000)) * bucketSeconds * 1000
    groups.set(b, [...(groups.get(b) ?? []), f32(r.fill)])
    temps.set(b, [...(temps.get(b) ?? []), f32(r.temp)])
    bats.set(b, [...(bats.get(b) ?? []), f32(r.battery)])
  }
  return [...groups.keys()].sort((a, b) => a - b).map((b) => {
    const fills = groups.get(b)!
    return {
      bucket: new Date(b), n: fills.length,
      fillAvg: Math.round((fills.reduce((s, x) => s + x, 0) / fills.length) * 1e6) / 1e6,
      fillMin: Math.min(...fills), fillMax: Math.max(...fills),
      tempMax: Math.max(...temps.get(b)!), batteryMin: Math.min(...bats.get(b)!),
    }
  })
}

test.each([
  ['15 minutes', 900],
  ['1 hour', 3600],
  ['6 hours', 21_600],
  ['1 day', 86_400],
])('buckets of %s agree on every tier and with the plain computation', async (_name, seconds) => {
  const from = new Date(start + 2 * HOUR)
  const to = new Date(start + 70 * HOUR)
  const answers = await Promise.all(TIERS.map((tier) => readingAggregates(dbs.get(tier)!, 'd-1', from, to, seconds)))
  const alignedFrom = new Date(Math.floor(from.getTime() / (seconds * 1000)) * seconds * 1000)
  const alignedTo = new Date(Math.ceil(to.getTime() / (seconds * 1000)) * seconds * 1000)
  const want = expected('d-1', alignedFrom, alignedTo, seconds)
  for (const [i, answer] of answers.entries()) {
    expect(answer.length, TIERS[i]).toBe(want.length)
    answer.forEach((row, j) => {
      const w = want[j]!
      expect(row.bucket.getTime(), `${TIERS[i]} bucket ${j}`).toBe(w.bucket.getTime())
      expect(row.n).toBe(w.n)
      expect(row.fillAvg).toBeCloseTo(w.fillAvg, 4)
      expect(row.fillMin).toBeCloseTo(w.fillMin, 4)
      expect(row.fillMax).toBeCloseTo(w.fillMax, 4)
      expect(row.tempMax).toBeCloseTo(w.tempMax, 4)
      expect(row.batteryMin).toBeCloseTo(w.batteryMin, 4)
    })
  }
  expect(answers[1]).toEqual(answers[0])
  expect(answers[2]).toEqual(answers[0])
})

test('the late reading is counted in its hour on every tier', async () => {
  for (const tier of TIERS) {
    const [hour] = await readingAggregates(dbs.get(tier)!, 'd-1', new Date(start + 5 * HOUR), new Date(start + 6 * HOUR), 3600)
    expect(hour, tier).toMatchObject({ n: 7, fillMax: 99.5 })
  }
})
