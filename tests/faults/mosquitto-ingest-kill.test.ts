// Case 4 of issue 13: devices on an external broker (the machine's Mosquitto, standing in for
// EMQX/HiveMQ), and `kerbside ingest` as the front door that consumes from it on an MQTT 5 shared
// subscription, killed with SIGKILL three times and started again.
//
// Here the device's PUBACK comes from Mosquitto, so "acknowledged" means acknowledged by Mosquitto
// and held in ingest's persistent session there; ingest acknowledges to Mosquitto only after its
// commit. Mosquitto's defaults (max_queued_messages 1000 per session, max_inflight_messages 20)
// make it drop QoS 1 messages queued beyond 1000 for a session while its client is away: that
// is the external broker's configured limit, not something Kerbside can recover. So the fleet is
// paced to queue at most 80 % of that limit while ingest restarts (rate × restart time, from the
// first start; at most 1,000 msg/s), and the Mosquitto log is searched for drops when something is
// missing. FAULTS_MOSQUITTO_MAX_QUEUED tells the test a Mosquitto configured with a higher limit.
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import mqtt from 'mqtt'
import { afterAll, expect, test } from 'vitest'
import { silentLogger } from '../../core/log.ts'
import type { Database } from '../../storage/database.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { kerbsideProcess, killRepeatedly, provisionFleet, removeDir, SCALE, seconds, sleep, tempDir, type KerbsideProcess } from '../helpers/crash-harness.ts'
import { createFleet, summary, type Fleet } from '../helpers/device-fleet.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts'

const MOSQUITTO = new URL(process.env.MOSQUITTO_URL ?? 'mqtt://127.0.0.1:1883')
const MOSQUITTO_LOG = '/var/log/mosquitto/mosquitto.log'
const QUEUE_BUDGET = 0.8 * Number(process.env.FAULTS_MOSQUITTO_MAX_QUEUED ?? 1_000)
const DEVICES = 20
const BETWEEN_KILLS_MS = 5_000 * SCALE
const run = randomBytes(3).toString('hex')
const ingestClientId = `kerbside-ingest-${run}`
let pgdb: TestDatabase | undefined
let db: Database | undefined
const dataDir = tempDir('faults-mosquitto')
let ingest: KerbsideProcess | undefined
let fleet: Fleet | undefined

afterAll(async () => {
  await fleet?.close()
  if (ingest?.running()) await ingest.kill('SIGKILL')
  // Mosquitto keeps persistent sessions on disk: remove ours.
  const forget = async (clientId: string, protocolVersion: 4 | 5) => {
    const c = await mqtt.connectAsync(MOSQUITTO.toString(), { clientId, clean: true, protocolVersion, reconnectPeriod: 0, ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 0 } } : {}) })
    await c.endAsync()
  }
  await forget(ingestClientId, 5).catch(() => undefined)
  for (const id of fleet?.deviceIds ?? []) await forget(id, 4).catch(() => undefined)
  await db?.close()
  await pgdb?.drop()
  removeDir(dataDir)
})

test('kerbside ingest behind Mosquitto (shared subscription), SIGKILL ×3: everything Mosquitto acknowledged stored once', async () => {
  pgdb = await createTestDatabase()
  db = await openDatabase({ url: pgdb.url, logger: silentLogger })
  const devices = await provisionFleet(db, `mq${run}`, DEVICES)
  ingest = await kerbsideProcess({
    name: 'kerbside ingest', command: 'ingest', dataDir,
    env: { DATABASE_URL: pgdb.url, MQTT_URL: MOSQUITTO.toString(), INGEST_CLIENT_ID: ingestClientId, INGEST_SHARED_GROUP: `kerbside-${run}` },
  })
  const firstStart = await ingest.start()
  const rate = Math.max(50, Math.min(1_000, Math.floor(QUEUE_BUDGET / (1.5 * firstStart / 1000 + 1))))
  // Devices on Mosquitto know nothing of Kerbside's secrets: anonymous, client id = device id.
  fleet = createFleet({ devices, servers: () => [MOSQUITTO.toString()], rate, window: 50, credentials: false })
  await fleet.start()
  const t0 = performance.now()
  const restarts = await killRepeatedly(ingest, { times: 3, everyMs: BETWEEN_KILLS_MS })
  await sleep(BETWEEN_KILLS_MS)
  fleet.pause()
  const publishSeconds = (performance.now() - t0) / 1000
  await fleet.settle(60_000) // acknowledged by Mosquitto
  // Then wait for ingest to have stored everything Mosquitto acknowledged, as far as it will.
  const until = Date.now() + 120_000
  let v = await fleet.verify(db)
  while (v.missing > 0 && Date.now() < until) { await sleep(500); v = await fleet.verify(db) }
  const exit = await ingest.kill('SIGTERM')
  let drops = ''
  if (v.missing > 0) {
    try { drops = readFileSync(MOSQUITTO_LOG, 'utf8').split('\n').filter((l) => l.includes(ingestClientId) && /dropped/i.test(l)).slice(-3).join(' | ') } catch { drops = `(${MOSQUITTO_LOG} not readable)` }
  }
  console.error(`FAULT ingest behind Mosquitto, SIGKILL ×3: ${summary(v)}; paced at ${rate} msg/s for Mosquitto's queue limit, over ${publishSeconds.toFixed(0)} s; first start ${seconds([firstStart])}, restarts ${seconds(restarts)}; SIGTERM exit ${exit.code}${drops ? `; Mosquitto says: ${drops}` : ''}`)
  expect(restarts).toHaveLength(3)
  expect(v.acked).toBeGreaterThan(0)
  expect(v.missingSample).toEqual([])
  expect(v.missing).toBe(0)
  expect(v.doubled).toBe(0)
  expect(exit.code).toBe(0)
})
