// A graceful shutdown of the one-process stack (npm start) with a backlog: devices are disconnected
// first, ingest takes and stores everything the broker had queued for it, and only then do ingest,
// the broker (memory persistence: its queues die with it) and the database close. Every message
// the broker acknowledged to a device is in the database when the data folder is opened again.
import { rmSync } from 'node:fs'
import { afterAll, expect, test } from 'vitest'
import { silentLogger } from '../../core/log.ts'
import type { Database } from '../../storage/database.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { connectDevice, provision, seedMinimalRegistry, startTestStack } from '../helpers/stack.ts'

const MESSAGES = 6000
let reopened: Database | null = null
let dataDir = ''
afterAll(async () => {
  await reopened?.close()
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
})

test('closing with messages still queued for ingest stores every acknowledged one', async () => {
  // Small batches make ingest the slow side, so that the broker holds a queue when the close begins.
  const t = await startTestStack({ INGEST_BATCH_SIZE: 50, INGEST_BATCH_MS: 5 })
  dataDir = t.dataDir
  await seedMinimalRegistry(t.db)
  const sensor = await connectDevice(t.mqttUrl, 'sensor-1', await provision(t.db, 'sensor-1', 'bin', { binId: 'bin-1' }))
  const base = Date.now() - 86_400_000
  let acked = 0
  const inFlight: Promise<unknown>[] = []
  for (let seq = 1; seq <= MESSAGES; seq++) {
    inFlight.push(sensor.publishAsync('kerbside/v1/bins/sensor-1/reading', JSON.stringify({ seq, ts: new Date(base + seq * 1000).toISOString(), fillPct: seq % 100 }), { qos: 1 }).then(() => { acked++ }))
  }
  await Promise.all(inFlight)
  const storedBeforeClose = Number((await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM bin_readings`)).rows[0]!.n)
  // Not t.close(): that would delete the data folder this test opens again.
  await t.stack.close()
  sensor.end(true)
  reopened = await openDatabase({ dataDir, logger: silentLogger })
  const { rows } = await reopened.query<{ n: number; d: number }>(`SELECT count(*)::int AS n, count(DISTINCT seq)::int AS d FROM bin_readings WHERE device_id = 'sensor-1'`)
  console.error(`SHUTDOWN acknowledged ${acked}, stored before the close ${storedBeforeClose}, stored after ${rows[0]!.n}`)
  expect(acked).toBe(MESSAGES)
  expect(storedBeforeClose).toBeLessThan(MESSAGES) // there was a backlog to drain, or the test proves nothing
  expect(rows[0]).toEqual({ n: MESSAGES, d: MESSAGES })
}, 180_000)
