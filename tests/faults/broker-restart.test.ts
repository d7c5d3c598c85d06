// The broker restarts gracefully, twice, in the middle of a stream, with durable persistence on
// disk and the ingest pipeline in-process (the shape of `kerbside broker`): each stop commits and
// acknowledges what the pipeline holds, leaves the rest unacknowledged, and the devices resend it
// after reconnecting. Every acknowledged reading is stored exactly once.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { Registry } from 'prom-client'
import { createBroker } from '../../broker/create-broker.ts'
import { listenBroker } from '../../broker/listeners.ts'
import { silentLogger } from '../../core/log.ts'
import { generateSecret } from '../../core/secrets.ts'
import { createPipeline } from '../../ingest/pipeline.ts'
import type { Database } from '../../storage/database.ts'
import { deviceCredentials } from '../../storage/devices.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { provisionFleet, removeDir, sleep, tempDir } from '../helpers/crash-harness.ts'
import { createFleet, summary, type Fleet } from '../helpers/device-fleet.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts'

const DEVICES = 20
let pgdb: TestDatabase
let db: Database
const dataDir = tempDir('fault-broker-restart')
let stopNode: (() => Promise<{ committed: number; abandoned: number }>) | null = null
let fleet: Fleet | undefined

async function startNode(port: number) {
  const registry = new Registry()
  const pipeline = createPipeline({ db, logger: silentLogger, registry, batchSize: 500, batchMs: 10, maxPayloadBytes: 16_384 })
  const broker = await createBroker({
    pipeline, logger: silentLogger, registry, serviceSecret: generateSecret(),
    lookupDevice: (id) => deviceCredentials(db, id),
    persistence: { kind: 'level', dataDir, redisUrl: '' }, drainTimeoutMs: 30_000, authFailuresPerMinute: 1000,
  })
  const listening = await listenBroker(broker, { host: '127.0.0.1', tcpPort: port })
  stopNode = async () => {
    const drained = await broker.drain(10_000)
    await broker.close()
    await listening.close()
    return drained
  }
  return listening.tcpPort!
}

beforeAll(async () => {
  pgdb = await createTestDatabase()
  db = await openDatabase({ url: pgdb.url, logger: silentLogger })
})
afterAll(async () => {
  await fleet?.close()
  await stopNode?.()
  await db?.close()
  await pgdb?.drop()
  removeDir(dataDir)
})

test('two graceful broker restarts mid-stream: sessions resume, nothing acknowledged lost, nothing doubled', async () => {
  const devices = await provisionFleet(db, 'rst', DEVICES)
  const port = await startNode(0)
  fleet = createFleet({ devices, servers: () => [`mqtt://127.0.0.1:${port}`], rate: 1_000, window: 50 })
  await fleet.start()
  const drains: { committed: number; abandoned: number }[] = []
  for (let i = 0; i < 2; i++) {
    await sleep(3_000)
    drains.push(await stopNode!())
    stopNode = null
    await sleep(1_500) // down for a moment
    await startNode(port)
  }
  await sleep(3_000)
  fleet.pause()
  await fleet.settle(60_000)
  const v = await fleet.verify(db)
  console.error(`FAULT broker restarts (level persistence, pipeline in-process): ${summary(v)}; each stop committed/abandoned ${JSON.stringify(drains)}`)
  expect(drains).toHaveLength(2)
  expect(v.reconnects).toBeGreaterThanOrEqual(DEVICES)
  expect(v.acked).toBeGreaterThan(0)
  expect(v.missingSample).toEqual([])
  expect(v.missing).toBe(0)
  expect(v.doubled).toBe(0)
})
