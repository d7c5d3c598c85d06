// A slow database: every chunk to and from PostgreSQL is held 50 ms. Ingest falls behind, stops
// reading from the broker once INGEST_MAX_PENDING messages wait for their commit (memory stays
// bounded), and never acknowledges a message before it is stored.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { waitFor } from '../helpers/stack.ts'
import { report, startPipeline, type Pipeline } from './harness.ts'

const MAX_PENDING = 2000
let p: Pipeline
beforeAll(async () => { p = await startPipeline({ devices: 20, maxPending: MAX_PENDING, batchSize: 500 }) })
afterAll(async () => p?.close())

test('backpressure holds memory bounded and nothing is acknowledged before it is stored', async () => {
  const PER_DEVICE = 750
  p.proxy.delay(50)
  const forwarded = async () => Number((await p.registry.getSingleMetricAsString('kerbside_broker_messages_out_total')).split('\n').find((l) => l.startsWith('kerbside_broker_messages_out_total '))?.split(' ')[1] ?? 0)
  const samples: { pending: number; acked: number; stored: number; heapMb: number }[] = []
  let publishing = true
  const sampler = (async () => {
    while (publishing) {
      // Acknowledged by ingest = forwarded to it minus what the broker still holds for it. Read
      // that first, then what is stored: a message acknowledged before its commit would show as
      // acknowledged and not stored.
      const acked = (await forwarded()) - (await p.queuedForIngest())
      const { rows } = await p.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM bin_readings`)
      samples.push({ pending: await p.pending(), acked, stored: rows[0]!.n, heapMb: process.memoryUsage().heapUsed / 2 ** 20 })
      await new Promise((r) => setTimeout(r, 100))
    }
  })()
  const published = await p.publish(PER_DEVICE, { window: 100 })
  // Keep sampling while the slow database works off the backlog: that is when pending is highest.
  await waitFor(async () => Number((await p.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM bin_readings`)).rows[0]!.n) >= published, 300_000, 'backlog stored')
  publishing = false
  await sampler
  p.proxy.delay(0)
  await p.waitDrained()
  const v = await p.verify(PER_DEVICE)
  const maxPending = Math.max(...samples.map((s) => s.pending))
  const violations = samples.filter((s) => s.acked > s.stored)
  const heap = samples.map((s) => s.heapMb)
  report('slow database', {
    faults: 1, published, stored: v.stored, lost: v.missing, duplicates: v.stored - v.distinct,
    extra: `${samples.length} samples, max pending ${maxPending} (limit ${MAX_PENDING}), acknowledged-before-stored ${violations.length}, heap ${Math.min(...heap).toFixed(0)}–${Math.max(...heap).toFixed(0)} MiB`,
  })
  expect(samples.length).toBeGreaterThan(10)
  expect(maxPending).toBeGreaterThan(MAX_PENDING / 2) // the database really was the bottleneck
  expect(maxPending).toBeLessThanOrEqual(MAX_PENDING)
  expect(violations).toEqual([])
  expect(v.missing).toBe(0)
  expect(v.stored).toBe(published)
  expect(v.distinct).toBe(published)
})
