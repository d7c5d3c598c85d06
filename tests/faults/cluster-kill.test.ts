// Case 3 of issue 13: two `kerbside broker` nodes sharing Redis (MQTT_PERSISTENCE=redis), each
// committing its own devices' messages to one PostgreSQL database. Devices are spread over both
// nodes and know both addresses. Three times under load, the node holding more of the devices is
// killed with SIGKILL and started again (devices that failed over stay where they landed, so
// killing the same node again would cut nobody). Its devices reconnect to whichever node answers
// (MQTT.js tries the next address on each attempt) and resend what was not acknowledged.
//
// Every `kerbside broker` has a random aedes id, so the two nodes' ids differ. The Redis key prefix
// is not configurable from the environment (broker/persistence.ts takes one, cli/stack.ts passes
// none), so this run keeps its keys apart with a Redis database number of its own and device ids
// of its own, and deletes its keys at the end.
import { randomBytes, randomInt } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, expect, test } from 'vitest'
import { silentLogger } from '../../core/log.ts'
import type { Database } from '../../storage/database.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { kerbsideProcess, settleOrExplain, provisionFleet, removeDir, SCALE, seconds, sleep, tempDir, type KerbsideProcess } from '../helpers/crash-harness.ts'
import { createFleet, summary, type Fleet } from '../helpers/device-fleet.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts'

const DEVICES = 20
const RATE = 1_000
const BETWEEN_KILLS_MS = 5_000 * SCALE
const REDIS = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
REDIS.pathname = `/${randomInt(1, 16)}`
const run = randomBytes(3).toString('hex')
let pgdb: TestDatabase | undefined
let db: Database | undefined
const dataDir = tempDir('faults-cluster')
const nodes: KerbsideProcess[] = []
let fleet: Fleet | undefined

afterAll(async () => {
  await fleet?.close()
  for (const n of nodes) if (n.running()) await n.kill('SIGKILL')
  await db?.close()
  await pgdb?.drop()
  removeDir(dataDir)
  const redis = new Redis(REDIS.toString())
  for await (const keys of redis.scanStream({ match: `*cl${run}*`, count: 500 })) if ((keys as string[]).length) await redis.del(...(keys as string[]))
  const subs = (await redis.hkeys('sub:client').catch(() => [])).filter((k) => k.includes(`cl${run}`))
  if (subs.length) await redis.hdel('sub:client', ...subs)
  await redis.quit()
})

test('two broker nodes on Redis, one killed ×3 under load: its devices reconnect, every acknowledged reading stored once', async () => {
  pgdb = await createTestDatabase()
  db = await openDatabase({ url: pgdb.url, logger: silentLogger })
  const devices = await provisionFleet(db, `cl${run}`, DEVICES)
  for (const name of ['a', 'b']) {
    nodes.push(await kerbsideProcess({ name: `broker ${name}`, command: 'broker', dataDir, env: { DATABASE_URL: pgdb.url, MQTT_PERSISTENCE: 'redis', REDIS_URL: REDIS.toString() } }))
  }
  const [a, b] = nodes as [KerbsideProcess, KerbsideProcess]
  const starts = [await a.start(), await b.start()]
  // Even devices live on A, odd ones on B; each tries the other node when its own does not answer.
  fleet = createFleet({ devices, servers: (i) => (i % 2 === 0 ? [a.mqttUrl, b.mqttUrl] : [b.mqttUrl, a.mqttUrl]), rate: RATE, window: 100 })
  await fleet.start()
  const t0 = performance.now()
  const restarts: number[] = []
  const killed: string[] = []
  for (let k = 0; k < 3; k++) {
    await sleep(BETWEEN_KILLS_MS)
    const connected = await Promise.all(nodes.map(async (n) => (await n.metrics())['kerbside_broker_connected_clients'] ?? 0))
    const victim = connected[0]! >= connected[1]! ? a : b
    const exit = await victim.kill('SIGKILL')
    expect(exit.signal).toBe('SIGKILL')
    killed.push(`${victim.name} (${Math.max(...connected)} clients)`)
    restarts.push(await victim.start())
  }
  await sleep(BETWEEN_KILLS_MS)
  fleet.pause()
  const publishSeconds = (performance.now() - t0) / 1000
  await settleOrExplain(fleet, nodes, 120_000)
  const v = await fleet.verify(db)
  const perNode = await Promise.all(nodes.map(async (n) => (await n.metrics())['kerbside_ingest_received_total'] ?? 0))
  const exits = [await a.kill('SIGTERM'), await b.kill('SIGTERM')]
  console.error(`FAULT two broker nodes on Redis, SIGKILL ×3 of the busier node (${killed.join(', ')}): ${summary(v)}; offered ${(v.published / publishSeconds).toFixed(0)} msg/s over ${publishSeconds.toFixed(0)} s; starts ${seconds(starts)}, restarts ${seconds(restarts)}; committed since its last start by A ${perNode[0]}, B ${perNode[1]}; SIGTERM exits ${exits.map((e) => e.code).join(', ')}`)
  expect(restarts).toHaveLength(3)
  expect(v.reconnects).toBeGreaterThanOrEqual(DEVICES / 2) // the first kill cut half the fleet
  expect(v.acked).toBeGreaterThan(0)
  expect(v.missingSample).toEqual([])
  expect(v.missing).toBe(0)
  expect(v.doubled).toBe(0)
  expect(exits.map((e) => e.code)).toEqual([0, 0])
})
