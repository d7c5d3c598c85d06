// Two batches in flight (PipelineOptions.maxInFlight): while one batch commits, the next is written
// too, but answers still leave in submission order [MQTT-4.6.0-2] — even when the later batch
// commits first. With maxInFlight 1 the second batch is not even begun before the first committed.
// The real pipeline and write path on the embedded database; only the first transaction is held
// back, by a step in front of the real adapter.
import { afterEach, beforeEach, expect, test } from 'vitest'
import { Registry } from 'prom-client'
import { silentLogger } from '../../core/log.ts'
import { createPipeline } from '../../ingest/pipeline.ts'
import type { Database } from '../../storage/database.ts'
import { provisionDevices } from '../../storage/devices.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { interceptCommits } from '../helpers/intercept-commits.ts'
import { waitFor } from '../helpers/stack.ts'

let db: Database
const base = Date.now() - 3_600_000
beforeEach(async () => {
  db = await openDatabase({ logger: silentLogger })
  await provisionDevices(db, [{ deviceId: 'order-1', kind: 'bin', secretHash: '!' }, { deviceId: 'order-2', kind: 'bin', secretHash: '!' }])
})
afterEach(async () => { await db.close() })

async function run(maxInFlight: number) {
  const events: string[] = []
  let calls = 0
  let release!: () => void
  const held = new Promise<void>((r) => { release = r })
  interceptCommits(db, async () => {
    const n = ++calls
    events.push(`begin ${n}`)
    if (n === 1) await held // the first batch's transaction waits until released
  })
  const pipeline = createPipeline({ db, logger: silentLogger, registry: new Registry(), batchSize: 5, batchMs: 0, maxPayloadBytes: 4096, maxInFlight })
  const answered: number[] = []
  const all: Promise<void>[] = []
  // Batch 1: order-1's seqs 1..5; batch 2: order-2's seqs 1..5 (no device in common).
  for (let i = 0; i < 10; i++) {
    const device = i < 5 ? 'order-1' : 'order-2'
    const seq = (i % 5) + 1
    all.push(new Promise<void>((resolve, reject) => pipeline.submit(
      { topic: `kerbside/v1/bins/${device}/reading`, payload: Buffer.from(JSON.stringify({ seq, ts: new Date(base + i * 1000).toISOString(), fillPct: 10 + i })) },
      (err) => { if (err) return reject(err); answered.push(i); resolve() },
    )))
  }
  // Did batch 2 commit while batch 1 was held? With two in flight, wait for it; with one, give it
  // time to (wrongly) happen.
  const count2 = async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM bin_readings WHERE device_id = 'order-2'`)).rows[0]!.n
  if (maxInFlight > 1) await waitFor(async () => (await count2()) === 5, 10_000, 'batch 2 committed')
  else await new Promise((r) => setTimeout(r, 500))
  const stored2 = await count2()
  const answeredWhileHeld = answered.length
  release()
  await Promise.all(all)
  await pipeline.close()
  const stored = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM bin_readings WHERE device_id LIKE 'order-%'`)).rows[0]!.n
  return { events, stored2, answeredWhileHeld, answered, stored }
}

test('two in flight: the later batch commits first, yet nothing is answered before the earlier one, and answers keep submission order', async () => {
  const r = await run(2)
  expect(r.events).toEqual(['begin 1', 'begin 2'])
  expect(r.stored2).toBe(5) // batch 2 committed while batch 1 was held
  expect(r.answeredWhileHeld).toBe(0) // but its messages waited for batch 1's answers
  expect(r.answered).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  expect(r.stored).toBe(10)
})

test('one in flight: the second batch begins only after the first committed', async () => {
  const r = await run(1)
  expect(r.events).toEqual(['begin 1', 'begin 2'])
  expect(r.stored2).toBe(0)
  expect(r.answeredWhileHeld).toBe(0)
  expect(r.answered).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  expect(r.stored).toBe(10)
})
