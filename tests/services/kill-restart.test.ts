// SIGKILL the ingest process (the front door for an external broker, here a bare aedes) in the
// middle of 50,000 QoS 1 messages and restart it, with the machine's PostgreSQL server as the
// database: every message the broker accepted stored exactly once. The crash suite of Kerbside's
// own broker, which commits before it acknowledges, is tests/faults.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { killIngestMidStream } from '../helpers/kill-ingest.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts'

let pgdb: TestDatabase
beforeAll(async () => { pgdb = await createTestDatabase() })
afterAll(async () => pgdb?.drop())

test('ingest killed mid-stream loses nothing and doubles nothing (PostgreSQL server)', async () => {
  const r = await killIngestMidStream({ databaseUrl: pgdb.url, messages: 50_000, devices: 50 })
  console.error(`kill-restart (postgresql): ${JSON.stringify(r)}`)
  expect(r.acceptedByBroker).toBe(50_000)
  expect(r.missing).toBe(0)
  expect(r.stored).toBe(50_000)
  expect(r.distinctStored).toBe(50_000)
}, 300_000)
