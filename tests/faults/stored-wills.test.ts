// Case 7 of issue 13 (issue 19, MQTT half): last wills. A will is authorised at CONNECT, so a
// device that names another device's topic as its will is refused with CONNACK return code 5.
// A will stored by a broker that was killed (level or Redis persistence) is published later by
// whichever node finds it (aedes looks every 4 × its 60 s heartbeat): it may say only that its own
// device went offline. The store is also given a will it should never hold (one that claims another
// device went offline, as an older version could have stored it): nothing may be published for
// that other device, and the broker must go on running.
//
// The sweep tests wait over four minutes (both kinds at once), too long for CI's time budget: they
// run in `npm run faults:full` (FAULTS_SCALE > 1) or with FAULTS_WILL_SWEEP=1. The CONNECT test
// always runs.
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { randomBytes, randomInt } from 'node:crypto'
import { ClassicLevel } from 'classic-level'
import { Redis } from 'ioredis'
import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, expect, test } from 'vitest'
import { silentLogger } from '../../core/log.ts'
import type { Database } from '../../storage/database.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { kerbsideProcess, provisionFleet, removeDir, SCALE, sleep, tempDir, type KerbsideProcess } from '../helpers/crash-harness.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts'

const require = createRequire(import.meta.url)
const SERVICE_SECRET = randomBytes(24).toString('hex')
const REDIS = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
REDIS.pathname = `/${randomInt(1, 16)}`
/** aedes publishes the wills of a dead broker on its first sweep, 4 × 60 s after it started. */
const WILL_SWEEP_MS = 4 * 60_000
const SWEEP = SCALE > 1 || process.env.FAULTS_WILL_SWEEP === '1'
const run = randomBytes(3).toString('hex')
let pgdb: TestDatabase | undefined
let db: Database | undefined
const cleanup: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined)
  await db?.close()
  await pgdb?.drop()
})

const database = async () => {
  if (!db) {
    pgdb = await createTestDatabase()
    db = await openDatabase({ url: pgdb.url, logger: silentLogger })
  }
  return db
}
const statusTopic = (id: string) => `kerbside/v1/bins/${id}/status`
const offline = JSON.stringify({ online: false })

/** The CONNACK return code a connection gets (0 = accepted). */
function connack(url: string, opts: mqtt.IClientOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...opts })
    c.on('packetreceive', (p) => { if (p.cmd === 'connack') { resolve((p as { returnCode?: number }).returnCode ?? 0); c.end(true) } })
    c.on('error', () => undefined)
    c.on('close', () => setTimeout(() => reject(new Error('closed without a CONNACK')), 100))
  })
}

test('a will aimed at another device, or at anything but its own status, is refused at CONNECT (return code 5)', async () => {
  const d = await database()
  const [owner, victim] = await provisionFleet(d, `wc${run}`, 2) as { deviceId: string; secret: string }[] as [{ deviceId: string; secret: string }, { deviceId: string; secret: string }]
  const dataDir = tempDir('faults-wills-connect')
  const proc = await kerbsideProcess({ name: 'kerbside broker', command: 'broker', dataDir, env: { DATABASE_URL: pgdb!.url } })
  cleanup.push(async () => { if (proc.running()) await proc.kill('SIGKILL'); removeDir(dataDir) })
  await proc.start()
  const as = { clientId: owner.deviceId, username: owner.deviceId, password: owner.secret }
  const codes = {
    otherDevicesStatus: await connack(proc.mqttUrl, { ...as, will: { topic: statusTopic(victim.deviceId), payload: Buffer.from(offline), qos: 1, retain: true } }),
    otherDevicesReading: await connack(proc.mqttUrl, { ...as, will: { topic: `kerbside/v1/bins/${victim.deviceId}/reading`, payload: Buffer.from('{}'), qos: 1, retain: false } }),
    ownReading: await connack(proc.mqttUrl, { ...as, will: { topic: `kerbside/v1/bins/${owner.deviceId}/reading`, payload: Buffer.from('{}'), qos: 1, retain: false } }),
    ownStatus: await connack(proc.mqttUrl, { ...as, will: { topic: statusTopic(owner.deviceId), payload: Buffer.from(offline), qos: 1, retain: true } }),
  }
  console.error(`FAULT wills at CONNECT: CONNACK return codes ${JSON.stringify(codes)}`)
  expect(codes).toEqual({ otherDevicesStatus: 5, otherDevicesReading: 5, ownReading: 5, ownStatus: 0 })
})

/** Put a will into the broker's store as a broker `gone` would have left it. */
async function plantWill(kind: 'level' | 'redis', dataDir: string, clientId: string, topic: string, payload: string) {
  const packet = { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: true, dup: false, length: 0, messageId: 0 }
  if (kind === 'level') {
    const AsyncLevelPersistence = require('aedes-persistence-level/asyncPersistence.js')
    const level = new ClassicLevel(join(dataDir, 'broker'))
    const store = new AsyncLevelPersistence(level)
    await store.setup({ id: `gone-${run}` })
    await store.putWill({ id: clientId }, packet)
    await store.destroy()
    return
  }
  const msgpack = require(require.resolve('msgpack-lite', { paths: [require.resolve('aedes-persistence-redis')] }))
  const redis = new Redis(REDIS.toString())
  const key = `will:gone-${run}:${encodeURIComponent(clientId)}`
  await redis.set(key, msgpack.encode({ ...packet, clientId, brokerId: `gone-${run}` }))
  await redis.rpush('will', key)
  await redis.quit()
}

interface SweepOutcome {
  killedBy: NodeJS.Signals | null
  /** Status messages published live (not retained replays) for this run's devices after the restart. */
  after: string[]
  ownerWill: string
  victimId: string
  exitsAfterRestart: { code: number | null; signal: NodeJS.Signals | null }[]
  stillRunning: boolean
  devices: { device_id: string; online: boolean | null }[]
  log: string
}

const sweeps = new Map<string, Promise<SweepOutcome>>()
/** Run once per persistence kind, shared by the tests below (the sweep takes four minutes). */
const sweep = (kind: 'level' | 'redis') => {
  if (!sweeps.has(kind)) sweeps.set(kind, runSweep(kind))
  return sweeps.get(kind)!
}

async function runSweep(kind: 'level' | 'redis'): Promise<SweepOutcome> {
  const d = await database()
  const prefix = `w${kind[0]}${run}`
  // Names sort rogue < owner < victim (level keeps wills in key order; Redis in the order stored).
  type Device = { deviceId: string; secret: string }
  const [rogue, owner, victim] = await provisionFleet(d, prefix, 3) as [Device, Device, Device]
  const dataDir = tempDir(`faults-wills-${kind}`)
  const env: Record<string, string> = { DATABASE_URL: pgdb!.url, MQTT_PERSISTENCE: kind, KERBSIDE_SERVICE_SECRET: SERVICE_SECRET, ...(kind === 'redis' ? { REDIS_URL: REDIS.toString() } : {}) }
  const proc: KerbsideProcess = await kerbsideProcess({ name: `kerbside broker (${kind})`, command: 'broker', dataDir, env })
  const clients: MqttClient[] = []
  cleanup.push(async () => {
    for (const c of clients) await c.endAsync(true).catch(() => undefined)
    if (proc.running()) await proc.kill('SIGKILL')
    removeDir(dataDir)
    if (kind === 'redis') {
      const redis = new Redis(REDIS.toString())
      for await (const keys of redis.scanStream({ match: `*${prefix}*`, count: 500 })) if ((keys as string[]).length) await redis.del(...(keys as string[]))
      await redis.lrem('will', 0, `will:gone-${run}:${rogue.deviceId}`)
      await redis.quit()
    }
  })
  await proc.start()

  // Kerbside's own service watches the status topics across the restart. Retained replays (sent
  // when it subscribes again) are not counted: only what the broker publishes live.
  const seen: string[] = []
  const watcher = await mqtt.connectAsync(proc.mqttUrl, { clientId: `kerbside-watch-${prefix}`, username: `kerbside-watch-${prefix}`, password: SERVICE_SECRET, reconnectPeriod: 300 })
  clients.push(watcher)
  watcher.on('message', (topic, payload, packet) => { if (topic.includes(prefix) && !packet.retain) seen.push(`${topic} ${payload.toString()}`) })
  await watcher.subscribeAsync('kerbside/v1/bins/+/status', { qos: 1 })

  // The victim says it is online; the owner connects with its own will, as firmware should.
  const victimClient = await mqtt.connectAsync(proc.mqttUrl, { clientId: victim.deviceId, username: victim.deviceId, password: victim.secret, reconnectPeriod: 0 })
  await victimClient.publishAsync(statusTopic(victim.deviceId), JSON.stringify({ online: true }), { qos: 1, retain: true })
  await victimClient.endAsync()
  const ownerClient = await mqtt.connectAsync(proc.mqttUrl, { clientId: owner.deviceId, username: owner.deviceId, password: owner.secret, reconnectPeriod: 0, will: { topic: statusTopic(owner.deviceId), payload: Buffer.from(offline), qos: 1, retain: true } })
  clients.push(ownerClient)
  await ownerClient.publishAsync(statusTopic(owner.deviceId), JSON.stringify({ online: true }), { qos: 1, retain: true })

  const killed = await proc.kill('SIGKILL')
  ownerClient.end(true) // the device is gone too (power cut): its stored will is all that speaks for it
  // A will another device's client left in the store, aimed at the victim's status: what an
  // earlier version (before wills were authorised at CONNECT) may have stored.
  await plantWill(kind, dataDir, rogue.deviceId, statusTopic(victim.deviceId), offline)
  const seenBeforeRestart = seen.length
  await proc.start()
  const restartedAt = Date.now()

  // Wait for the first will sweep of the restarted broker (and a little more).
  const ownerWill = `${statusTopic(owner.deviceId)} ${offline}`
  while (!seen.slice(seenBeforeRestart).includes(ownerWill) && Date.now() < restartedAt + WILL_SWEEP_MS + 60_000 && proc.running()) await sleep(1_000)
  await sleep(5_000)
  const after = seen.slice(seenBeforeRestart)
  const { rows } = await d.query<{ device_id: string; online: boolean | null }>(`SELECT device_id, online FROM devices WHERE device_id = ANY($1::text[]) ORDER BY device_id`, [[owner.deviceId, victim.deviceId]])
  const outcome: SweepOutcome = { killedBy: killed.signal, after, ownerWill, victimId: victim.deviceId, exitsAfterRestart: proc.exits.slice(1), stillRunning: proc.running(), devices: rows, log: proc.logTail(6) }
  console.error(`FAULT stored wills (${kind}): killed by ${killed.signal}; after the restart the watcher saw ${JSON.stringify(after)} within ${((Date.now() - restartedAt) / 1000).toFixed(0)} s; broker exits since ${JSON.stringify(outcome.exitsAfterRestart)}; devices ${JSON.stringify(rows)}\n${outcome.log}`)
  return outcome
}

for (const kind of SWEEP ? ['level', 'redis'] as const : []) {
  test.concurrent(`a stored will for another device publishes nothing after SIGKILL of kerbside broker (${kind} persistence)`, async () => {
    const o = await sweep(kind)
    expect(o.killedBy).toBe('SIGKILL')
    expect(o.after.filter((m) => m.includes(o.victimId))).toEqual([]) // nothing for the victim
    expect(o.devices.find((r) => r.device_id === o.victimId)?.online).toBe(true)
  }, WILL_SWEEP_MS + 180_000)

  // Known bug, for the lead (broker/create-broker.ts): aedes' will sweep (aedes.js _clearWills)
  // awaits authorizePublish for each stored will; a refused one rejects the sweep, aedes emits
  // 'error' on the broker, nothing listens for it, and the process exits with code 1. The refused
  // will is not deleted, so every restart crashes again at its first sweep, and the wills after it
  // (other devices' own offline notices) are never published. Fixed: a refused stored will is emptied and published to no one, then deleted by the sweep; aedes' error event is heard.
  test.concurrent(`after SIGKILL of kerbside broker (${kind} persistence) the will sweep publishes the devices' own wills and the broker survives a refused one`, async () => {
    const o = await sweep(kind)
    expect(o.after).toContain(o.ownerWill)
    expect(o.exitsAfterRestart).toEqual([])
    expect(o.stillRunning).toBe(true)
  }, WILL_SWEEP_MS + 180_000)
}
