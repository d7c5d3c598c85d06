// Two aedes nodes sharing Redis (mqemitter-redis carries messages between them, aedes-persistence-
// redis holds sessions): devices connected to different nodes, one ingest on one node, every
// message stored exactly once. The ingest session can move to the other node and keeps its queue.
import { afterAll, beforeAll, expect, test } from 'vitest'
import mqtt from 'mqtt'
import { Registry } from 'prom-client'
import { createBroker, type Broker } from '../../broker/create-broker.ts'
import { listenBroker, type Listening } from '../../broker/listeners.ts'
import { silentLogger } from '../../core/log.ts'
import { generateSecret, hashSecret } from '../../core/secrets.ts'
import { createIngest, type Ingest } from '../../ingest/create-ingest.ts'
import type { Database } from '../../storage/database.ts'
import { provisionDevices } from '../../storage/devices.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts'
import { count, waitFor } from '../helpers/stack.ts'

const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const SERVICE = generateSecret()
const DEVICE_SECRET = generateSecret()
const prefix = `kerbside-cluster-${Date.now().toString(36)}`
let pgdb: TestDatabase
let db: Database
const nodes: { broker: Broker; listening: Listening; url: string }[] = []
let ingest: Ingest | null = null

beforeAll(async () => {
  pgdb = await createTestDatabase()
  db = await openDatabase({ url: pgdb.url, logger: silentLogger })
  const secretHash = await hashSecret(DEVICE_SECRET)
  await provisionDevices(db, Array.from({ length: 10 }, (_, i) => ({ deviceId: `c-${i}`, kind: 'bin' as const, secretHash })))
  for (const id of ['node-a', 'node-b']) {
    const broker = await createBroker({
      id, logger: silentLogger, registry: new Registry(), serviceSecret: SERVICE,
      lookupDevice: async (deviceId) => ({ deviceId, kind: 'bin', secretHash, revoked: !deviceId.startsWith('c-') }),
      persistence: { kind: 'redis', dataDir: '', redisUrl: REDIS, redisPrefix: prefix }, drainTimeoutMs: 10_000, authFailuresPerMinute: 100,
    })
    const listening = await listenBroker(broker, { host: '127.0.0.1', tcpPort: 0 })
    nodes.push({ broker, listening, url: `mqtt://127.0.0.1:${listening.tcpPort}` })
  }
})
afterAll(async () => {
  await ingest?.stop()
  for (const n of nodes) { await n.broker.close(); await n.listening.close() }
  await db?.close()
  await pgdb?.drop()
})

const startIngest = async (url: string) => {
  const i = createIngest({ db, logger: silentLogger, registry: new Registry(), mqttUrl: url, clientId: 'kerbside-ingest', username: 'kerbside-ingest', password: SERVICE, batchSize: 500, batchMs: 20, maxPending: 5000, maxPayloadBytes: 16_384 })
  await i.start()
  return i
}

async function publish(from: number, to: number) {
  const base = Date.now() - 3_600_000
  await Promise.all(Array.from({ length: 10 }, async (_, d) => {
    const node = nodes[d % 2]! // half the devices on each node
    const c = await mqtt.connectAsync(node.url, { clientId: `c-${d}`, username: `c-${d}`, password: DEVICE_SECRET })
    for (let seq = from; seq <= to; seq++) await c.publishAsync(`kerbside/v1/bins/c-${d}/reading`, JSON.stringify({ seq, ts: new Date(base + seq * 1000).toISOString(), fillPct: seq % 100 }), { qos: 1 })
    await c.endAsync()
  }))
}

test('devices on both nodes reach the one ingest; each message is stored once', async () => {
  ingest = await startIngest(nodes[0]!.url)
  await publish(1, 300)
  await waitFor(async () => (await count(db, 'SELECT 1 FROM bin_readings')) === 3000, 30_000, '3,000 readings through two nodes')
  expect(await count(db, 'SELECT DISTINCT device_id, seq FROM bin_readings')).toBe(3000)
})

test('the ingest session moves to the other node and receives what was published while it was away', async () => {
  await ingest!.stop()
  ingest = null
  await publish(301, 400) // ingest offline: its session (in Redis) queues these
  ingest = await startIngest(nodes[1]!.url)
  await waitFor(async () => (await count(db, 'SELECT 1 FROM bin_readings')) === 4000, 30_000, 'queued readings after moving nodes')
  expect(await count(db, 'SELECT DISTINCT device_id, seq FROM bin_readings')).toBe(4000)
})
