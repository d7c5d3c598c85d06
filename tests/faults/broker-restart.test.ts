// The broker restarts (gracefully, twice) in the middle of a stream, with durable persistence on
// disk: device sessions and the ingest subscription resume, devices resend what was not yet
// acknowledged, and every message the broker acknowledged is stored exactly once.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
import { waitFor } from '../helpers/stack.ts'
import { report } from './harness.ts'

const DEVICES = 20
const PER_DEVICE = 600
let pgdb: TestDatabase
let db: Database
let dataDir: string
let node: { broker: Broker; listening: Listening } | null = null
let ingest: Ingest | null = null
const serviceSecret = generateSecret()
const secret = generateSecret()
let secretHash: string
const deviceIds = Array.from({ length: DEVICES }, (_, i) => `r-${i}`)

async function startBroker(port: number) {
  const broker = await createBroker({
    logger: silentLogger, registry: new Registry(), serviceSecret,
    lookupDevice: async (id) => (deviceIds.includes(id) ? { deviceId: id, kind: 'bin', secretHash, revoked: false } : null),
    persistence: { kind: 'level', dataDir, redisUrl: '' }, drainTimeoutMs: 30_000, authFailuresPerMinute: 1000,
  })
  const listening = await listenBroker(broker, { host: '127.0.0.1', tcpPort: port })
  return { broker, listening }
}

beforeAll(async () => {
  pgdb = await createTestDatabase()
  db = await openDatabase({ url: pgdb.url, logger: silentLogger })
  dataDir = mkdtempSync(join(tmpdir(), 'kerbside-fault-broker-'))
  secretHash = await hashSecret(secret)
  await provisionDevices(db, deviceIds.map((deviceId) => ({ deviceId, kind: 'bin' as const, secretHash })))
})
afterAll(async () => {
  await ingest?.stop()
  if (node) { await node.broker.close(); await node.listening.close() }
  await db?.close()
  await pgdb?.drop()
  rmSync(dataDir, { recursive: true, force: true })
})

test('two broker restarts mid-stream: sessions resume, nothing lost, nothing doubled', async () => {
  node = await startBroker(0)
  const port = node.listening.tcpPort!
  const url = `mqtt://127.0.0.1:${port}`
  ingest = createIngest({ db, logger: silentLogger, registry: new Registry(), mqttUrl: url, clientId: 'kerbside-ingest', username: 'kerbside-ingest', password: serviceSecret, batchSize: 500, batchMs: 20, maxPending: 5000, maxPayloadBytes: 16_384 })
  await ingest.start()

  let acked = 0
  const base = Date.now() - 3_600_000
  // Devices keep a persistent session and resend unacknowledged QoS 1 messages after reconnecting.
  const devices = deviceIds.map(async (deviceId, d) => {
    const c = await mqtt.connectAsync(url, { clientId: deviceId, username: deviceId, password: secret, clean: false, reconnectPeriod: 300 })
    for (let seq = 1; seq <= PER_DEVICE; seq++) {
      await c.publishAsync(`kerbside/v1/bins/${deviceId}/reading`, JSON.stringify({ seq, ts: new Date(base + seq * 1000 + d).toISOString(), fillPct: seq % 100 }), { qos: 1 })
      acked++
    }
    await c.endAsync()
  })
  let restarts = 0
  for (const at of [0.3, 0.6]) {
    await waitFor(() => acked >= DEVICES * PER_DEVICE * at, 120_000, `${at * 100} % published`)
    await node.broker.close()
    await node.listening.close()
    node = null
    await new Promise((r) => setTimeout(r, 1500)) // down for a moment
    node = await startBroker(port)
    restarts++
  }
  await Promise.all(devices)
  const persistence = (node!.broker.aedes as unknown as { persistence: { outgoingStream(c: { id: string }): AsyncIterable<unknown> } }).persistence
  await waitFor(async () => {
    let queued = 0
    for await (const _ of persistence.outgoingStream({ id: 'kerbside-ingest' })) queued++
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM bin_readings`)
    return queued === 0 && rows[0]!.n >= DEVICES * PER_DEVICE
  }, 120_000, 'everything stored').catch(async (err: Error) => {
    // Say which messages are missing and whether ingest set them aside, before failing.
    const missing = await db.query<{ device_id: string; seq: number }>(
      `SELECT d.device_id, s.seq FROM unnest($1::text[]) AS d(device_id) CROSS JOIN generate_series(1, $2::int) AS s(seq)
        WHERE NOT EXISTS (SELECT 1 FROM bin_readings r WHERE r.device_id = d.device_id AND r.seq = s.seq) LIMIT 20`, [deviceIds, PER_DEVICE])
    const quarantined = await db.query(`SELECT reason, count(*)::int AS n FROM quarantine GROUP BY reason`)
    throw new Error(`${err.message}; missing ${JSON.stringify(missing.rows)}; quarantined ${JSON.stringify(quarantined.rows)}`)
  })
  const { rows } = await db.query<{ n: number; d: number }>(`SELECT count(*)::int AS n, count(DISTINCT (device_id, seq))::int AS d FROM bin_readings`)
  const stored = rows[0]!.n
  report('broker restarts (level persistence)', { faults: restarts, published: acked, stored, lost: DEVICES * PER_DEVICE - rows[0]!.d, duplicates: stored - rows[0]!.d })
  expect(restarts).toBe(2)
  expect(acked).toBe(DEVICES * PER_DEVICE)
  expect(stored).toBe(DEVICES * PER_DEVICE)
  expect(rows[0]!.d).toBe(DEVICES * PER_DEVICE)
})
