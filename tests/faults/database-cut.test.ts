// The database connection is cut in the middle of batches, and the database is unreachable for a
// while (as during a restart): ingest retries without acknowledging, and every message the broker
// accepted is stored exactly once.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { report, startPipeline, type Pipeline } from './harness.ts'

let p: Pipeline
beforeAll(async () => { p = await startPipeline({ devices: 20 }) })
afterAll(async () => p?.close())

test('connections cut mid-batch and the database down for 5 s: nothing lost, nothing doubled', async () => {
  const PER_DEVICE = 1000
  let faults = 0
  const cuts = new Set<number>()
  const published = await p.publish(PER_DEVICE, {
    onProgress: (acked) => {
      for (const at of [4000, 9000, 14000]) {
        if (acked >= at && !cuts.has(at)) {
          cuts.add(at)
          faults += p.proxy.cut() > 0 ? 1 : 0
          if (at === 9000) { // and the server is "restarting" for five seconds
            p.proxy.down()
            faults++
            setTimeout(() => p.proxy.resume(), 5000)
          }
        }
      }
    },
  })
  await p.waitDrained()
  const v = await p.verify(PER_DEVICE)
  const dbErrors = await p.registry.getSingleMetricAsString('kerbside_ingest_db_errors_total')
  report('database cut and down', { faults, published, stored: v.stored, lost: v.missing, duplicates: v.stored - v.distinct, extra: `retried batch writes: ${dbErrors.match(/kind="transient"} (\d+)/)?.[1] ?? 0}` })
  expect(faults).toBeGreaterThanOrEqual(3)
  expect(published).toBe(20 * PER_DEVICE)
  expect(v.missing).toBe(0)
  expect(v.stored).toBe(published)
  expect(v.distinct).toBe(published)
})
