// Reliability: SIGKILL the ingest process in the middle of 50,000 QoS 1 messages and restart it.
// Every message the broker accepted is stored exactly once (embedded TimescaleDB, owned by ingest).
import { expect, test } from 'vitest'
import { killIngestMidStream } from '../helpers/kill-ingest.ts'

test('ingest killed mid-stream loses nothing and doubles nothing', async () => {
  const r = await killIngestMidStream({ messages: 50_000, devices: 50 })
  console.error(`kill-restart (embedded): ${JSON.stringify(r)}`)
  expect(r.acceptedByBroker).toBe(50_000)
  expect(r.killedAfterForwarded).toBeLessThan(50_000)
  expect(r.missing).toBe(0)
  expect(r.stored).toBe(50_000)
  expect(r.distinctStored).toBe(50_000)
}, 300_000)
