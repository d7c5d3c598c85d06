// Ingest consuming from an external broker: the machine's Mosquitto (standing in for EMQX/HiveMQ),
// which does not know Kerbside's devices — ingest enforces the registry itself. With MQTT 5 shared
// subscriptions, several ingest workers split one stream and each message is stored exactly once.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, expect, test } from 'vitest'
import mqtt from 'mqtt'
import { Registry } from 'prom-client'
import { silentLogger } from '../../core/log.ts'
import { createIngest, type Ingest } from '../../ingest/create-ingest.ts'
import type { Database } from '../../storage/database.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { provisionDevices } from '../../storage/devices.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts'
import { count, waitFor } from '../helpers/stack.ts'

const MOSQUITTO = process.env.MOSQUITTO_URL ?? 'mqtt://127.0.0.1:1883'
const run = randomBytes(4).toString('hex') // Mosquitto keeps sessions on disk: keep ours apart
let pgdb: TestDatabase
let db: Database
const ingests: Ingest[] = []

beforeAll(async () => {
  pgdb = await createTestDatabase()
  db = await openDatabase({ url: pgdb.url, logger: silentLogger })
  await provisionDevices(db, Array.from({ length: 20 }, (_, i) => ({ deviceId: `m${run}-${i}`, kind: 'bin' as const, secretHash: '!' })))
})
afterAll(async () => {
  for (const i of ingests) await i.stop()
  // Remove our persistent sessions from Mosquitto.
  for (const clientId of [`kerbside-ingest-${run}`, `kerbside-ingest-${run}-a`, `kerbside-ingest-${run}-b`]) {
    const c = await mqtt.connectAsync(MOSQUITTO, { clientId, clean: true, protocolVersion: 5, properties: { sessionExpiryInterval: 0 } })
    await c.endAsync()
  }
  await db?.close()
  await pgdb?.drop()
})

const newIngest = (clientId: string, registry: Registry, sharedGroup?: string) => {
  const ingest = createIngest({
    db, logger: silentLogger, registry, mqttUrl: MOSQUITTO, clientId, sharedGroup, protocolVersion: 5,
    batchSize: 500, batchMs: 20, maxPending: 2000, maxPayloadBytes: 16_384,
  })
  ingests.push(ingest)
  return ingest
}

async function publishAll(n: number, seqFrom: number) {
  const clients = await Promise.all(Array.from({ length: 20 }, (_, i) => mqtt.connectAsync(MOSQUITTO, { clientId: `m${run}-${i}`, protocolVersion: 5 })))
  const base = Date.now() - 3_600_000
  await Promise.all(clients.map(async (c, i) => {
    for (let k = 0; k < n / 20; k++) {
      const seq = seqFrom + k
      await c.publishAsync(`kerbside/v1/bins/m${run}-${i}/reading`, JSON.stringify({ seq, ts: new Date(base + seq * 100).toISOString(), fillPct: k % 100 }), { qos: 1 })
    }
    await c.endAsync()
  }))
}

test('one ingest consumes from Mosquitto; unregistered devices are quarantined there', async () => {
  const ingest = newIngest(`kerbside-ingest-${run}`, new Registry())
  await ingest.start()
  await publishAll(1000, 1)
  const stranger = await mqtt.connectAsync(MOSQUITTO, { clientId: `stranger-${run}` })
  await stranger.publishAsync(`kerbside/v1/bins/stranger-${run}/reading`, JSON.stringify({ seq: 1, ts: new Date().toISOString(), fillPct: 5 }), { qos: 1 })
  await stranger.endAsync()
  await waitFor(async () => (await count(db, 'SELECT 1 FROM bin_readings')) === 1000, 30_000, '1,000 readings from Mosquitto')
  await waitFor(async () => (await count(db, `SELECT 1 FROM quarantine WHERE reason = 'unknown_device' AND device_id = $1`, [`stranger-${run}`])) === 1, 10_000, 'stranger quarantined')
  await ingest.stop()
  ingests.splice(ingests.indexOf(ingest), 1)
})

test('two workers on an MQTT 5 shared subscription store each message exactly once and share the load', async () => {
  const regA = new Registry()
  const regB = new Registry()
  const a = newIngest(`kerbside-ingest-${run}-a`, regA, `kerbside-${run}`)
  const b = newIngest(`kerbside-ingest-${run}-b`, regB, `kerbside-${run}`)
  await Promise.all([a.start(), b.start()])
  const before = await count(db, 'SELECT 1 FROM bin_readings')
  await publishAll(4000, 10_000)
  await waitFor(async () => (await count(db, 'SELECT 1 FROM bin_readings')) === before + 4000, 60_000, '4,000 readings via two workers')
  const received = async (r: Registry) => Number((await r.getSingleMetricAsString('kerbside_ingest_received_total')).split('\n').find((l) => l.startsWith('kerbside_ingest_received_total '))?.split(' ')[1])
  const [ra, rb] = [await received(regA), await received(regB)]
  console.error(`shared subscription: worker a received ${ra}, worker b ${rb}`)
  expect(ra + rb).toBe(4000)
  expect(Math.min(ra, rb)).toBeGreaterThan(500)
  expect(await count(db, 'SELECT DISTINCT device_id, seq FROM bin_readings WHERE seq >= 10000')).toBe(4000)
})
