// Two aedes nodes sharing Redis (mqemitter-redis carries messages between them, aedes-persistence-
// redis holds sessions), each committing its own devices' messages through its own ingest pipeline
// to one PostgreSQL database: every message stored exactly once, and acknowledged only after that.
// A subscriber of Kerbside's (the live feed, say) on one node gets, after the commit, what devices
// on the other node sent; its persistent session can move to the other node and keeps its queue.
import { afterAll, beforeAll, expect, test } from 'vitest'
import mqtt from 'mqtt'
import { Registry } from 'prom-client'
import { createBroker, type Broker } from '../../broker/create-broker.ts'
import { listenBroker, type Listening } from '../../broker/listeners.ts'
import { silentLogger } from '../../core/log.ts'
import { generateSecret, hashSecret } from '../../core/secrets.ts'
import { createPipeline } from '../../ingest/pipeline.ts'
import type { Database } from '../../storage/database.ts'
import { deviceCredentials, provisionDevices } from '../../storage/devices.ts'
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

beforeAll(async () => {
  pgdb = await createTestDatabase()
  db = await openDatabase({ url: pgdb.url, logger: silentLogger })
  const secretHash = await hashSecret(DEVICE_SECRET)
  await provisionDevices(db, Array.from({ length: 10 }, (_, i) => ({ deviceId: `c-${i}`, kind: 'bin' as const, secretHash })))
  for (const id of ['node-a', 'node-b']) {
    const registry = new Registry()
    const pipeline = createPipeline({ db, logger: silentLogger, registry, batchSize: 500, batchMs: 10, maxPayloadBytes: 16_384 })
    const broker = await createBroker({
      id, pipeline, logger: silentLogger, registry, serviceSecret: SERVICE,
      lookupDevice: (deviceId) => deviceCredentials(db, deviceId),
      persistence: { kind: 'redis', dataDir: '', redisUrl: REDIS, redisPrefix: prefix }, drainTimeoutMs: 10_000, authFailuresPerMinute: 100,
    })
    const listening = await listenBroker(broker, { host: '127.0.0.1', tcpPort: 0 })
    nodes.push({ broker, listening, url: `mqtt://127.0.0.1:${listening.tcpPort}` })
  }
})
afterAll(async () => {
  for (const n of nodes) { await n.broker.drain(5_000); await n.broker.close(); await n.listening.close() }
  await db?.close()
  await pgdb?.drop()
})

/** Publish seqs from..to from every device, half of them on each node; resolves when all are acknowledged. */
async function publish(from: number, to: number): Promise<number> {
  let acked = 0
  await Promise.all(Array.from({ length: 10 }, async (_, d) => {
    const node = nodes[d % 2]!
    const c = await mqtt.connectAsync(node.url, { clientId: `c-${d}`, username: `c-${d}`, password: DEVICE_SECRET })
    for (let seq = from; seq <= to; seq++) {
      await c.publishAsync(`kerbside/v1/bins/c-${d}/reading`, JSON.stringify({ seq, ts: new Date().toISOString(), fillPct: seq % 100 }), { qos: 1 })
      acked++
    }
    await c.endAsync()
  }))
  return acked
}

const subscriber = (url: string) => mqtt.connectAsync(url, { clientId: 'kerbside-watch', username: 'kerbside-watch', password: SERVICE, clean: false })

test('devices on both nodes: each node commits its own devices, every acknowledged message stored once; a subscriber on one node sees both', async () => {
  const watch = await subscriber(nodes[0]!.url)
  await watch.subscribeAsync('kerbside/v1/bins/+/reading', { qos: 1 })
  const seen = new Set<string>()
  watch.on('message', (topic, payload) => seen.add(`${topic.split('/')[3]}#${(JSON.parse(payload.toString()) as { seq: number }).seq}`))
  const acked = await publish(1, 300)
  // Acknowledged means stored: no waiting for a second hop.
  expect(acked).toBe(3000)
  expect(await count(db, 'SELECT 1 FROM bin_readings')).toBe(3000)
  expect(await count(db, 'SELECT DISTINCT device_id, seq FROM bin_readings')).toBe(3000)
  await waitFor(() => seen.size === 3000, 30_000, 'the subscriber on node a to see all 3,000, half of them committed on node b')
  await watch.endAsync()
  // Gone from node a (not only closed on our side) before the next test publishes for it offline.
  const clientsOfA = (nodes[0]!.broker.aedes as unknown as { clients: Record<string, unknown> }).clients // aedes' own table; not in its typings
  await waitFor(() => clientsOfA['kerbside-watch'] === undefined, 10_000, 'node a to let the subscriber go')
})

test('a subscriber\'s persistent session moves to the other node and receives what was published while it was away', async () => {
  await publish(301, 400) // the subscriber is offline: its session (in Redis) queues these
  const seen = new Set<string>()
  // The listener before the CONNECT: the queued messages can arrive in the same read as the CONNACK.
  // A real subscriber's settings: it reconnects if a CONNACK does not come.
  const watch = mqtt.connect(nodes[1]!.url, { clientId: 'kerbside-watch', username: 'kerbside-watch', password: SERVICE, clean: false, reconnectPeriod: 1000, connectTimeout: 5000 })
  watch.on('message', (topic, payload) => seen.add(`${topic.split('/')[3]}#${(JSON.parse(payload.toString()) as { seq: number }).seq}`))
  // Every reading published while it was away; at-least-once, so a reading of the first test whose
  // PUBACK it had not sent when it left may come again too.
  const queued = Array.from({ length: 10 }, (_, d) => Array.from({ length: 100 }, (_, i) => `c-${d}#${301 + i}`)).flat()
  await waitFor(() => queued.every((k) => seen.has(k)), 60_000, 'the queued readings after moving nodes')
  expect([...seen].filter((k) => Number(k.split('#')[1]) > 400)).toEqual([])
  await watch.endAsync()
  expect(await count(db, 'SELECT DISTINCT device_id, seq FROM bin_readings')).toBe(4000)
})
