// Case 6 of issue 13, first half: a slow database and a graceful stop with a backlog.
// `kerbside broker` (level persistence, the shape whose graceful stop once overflowed the stack)
// reaches PostgreSQL through a TCP proxy that holds every chunk SLOW_MS each way, so each commit
// takes tens of milliseconds and devices with deep windows build a backlog. Then SIGTERM: the stop
// must finish by itself with exit code 0, what was acknowledged must already be stored, and what
// was not acknowledged must arrive after the restart (devices resend it).
import { afterAll, expect, test } from 'vitest'
import { silentLogger } from '../../core/log.ts'
import type { Database } from '../../storage/database.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { kerbsideProcess, settleOrExplain, provisionFleet, removeDir, SCALE, seconds, sleep, tempDir, type KerbsideProcess } from '../helpers/crash-harness.ts'
import { createFleet, summary, type Fleet } from '../helpers/device-fleet.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts'
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts'

const SLOW_MS = Number(process.env.FAULTS_SLOW_MS ?? 10)
const DEVICES = 20
let pgdb: TestDatabase | undefined
let db: Database | undefined
let proxy: TcpProxy | undefined
let proc: KerbsideProcess | undefined
let fleet: Fleet | undefined
const dataDir = tempDir('faults-slow')

afterAll(async () => {
  await fleet?.close()
  if (proc?.running()) await proc.kill('SIGKILL')
  await proxy?.close()
  await db?.close()
  await pgdb?.drop()
  removeDir(dataDir)
})

const meanCommitMs = (m: Record<string, number>) => (1000 * (m['kerbside_ingest_commit_seconds_sum'] ?? NaN)) / (m['kerbside_ingest_commit_seconds_count'] ?? NaN)

test('a slow database, then SIGTERM with a backlog: clean exit, acknowledged means stored, the rest resent after the restart', async () => {
  pgdb = await createTestDatabase()
  db = await openDatabase({ url: pgdb.url, logger: silentLogger })
  const devices = await provisionFleet(db, 'slow', DEVICES)
  const target = new URL(pgdb.url)
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
  const viaProxy = new URL(pgdb.url)
  viaProxy.hostname = '127.0.0.1'
  viaProxy.port = String(proxy.port)
  proc = await kerbsideProcess({ name: 'kerbside broker', command: 'broker', dataDir, env: { DATABASE_URL: viaProxy.toString(), MQTT_PERSISTENCE: 'level' } })
  await proc.start()
  proxy.delay(SLOW_MS)
  fleet = createFleet({ devices, servers: () => [proc!.mqttUrl], rate: 2_000, window: 200 })
  await fleet.start()
  let maxPending = 0
  for (let i = 0; i < 8 * SCALE; i++) {
    await sleep(1_000)
    maxPending = Math.max(maxPending, (await proc.metrics())['kerbside_ingest_pending_messages'] ?? 0)
  }
  const m = await proc.metrics()
  const backlog = m['kerbside_ingest_pending_messages'] ?? 0
  const held = fleet.counts().inFlight

  const t0 = performance.now()
  const exit = await proc.kill('SIGTERM')
  const stopMs = performance.now() - t0
  const atStop = await fleet.verify(db) // nothing can be acknowledged now: the broker is gone
  const unackedAtStop = fleet.counts().inFlight
  const log = proc.logTail(200)

  // The database is quick again for the restart: MQTT.js resends a device's stored messages one at
  // a time, each after the PUBACK of the one before, so on a slow database 200 of them would take
  // 200 commits per device.
  proxy.delay(0)
  const restart = await proc.start()
  await sleep(3_000 * SCALE)
  fleet.pause()
  await settleOrExplain(fleet, [proc], 180_000)
  const v = await fleet.verify(db)
  const exit2 = await proc.kill('SIGTERM')
  console.error(`FAULT slow database (${SLOW_MS} ms per chunk each way, mean commit ${meanCommitMs(m).toFixed(0)} ms) and SIGTERM with a backlog: pipeline backlog at the stop ${backlog} (max ${maxPending}), devices holding ${held}; stop took ${seconds([stopMs])}, exit ${exit.code}/${exit.signal}; at the stop: acknowledged ${atStop.acked}, missing ${atStop.missing}, left unacknowledged ${unackedAtStop}; after the restart (${seconds([restart])}): ${summary(v)}; second stop exit ${exit2.code}`)
  expect(maxPending).toBeGreaterThan(0) // the database really was behind
  expect(exit).toEqual({ code: 0, signal: null })
  expect(log).not.toMatch(/Maximum call stack|second error|killed by timeout/)
  expect(atStop.missingSample).toEqual([])
  expect(atStop.missing).toBe(0)
  expect(unackedAtStop).toBeGreaterThan(0) // a backlog was left for the devices to resend
  expect(v.missingSample).toEqual([])
  expect(v.missing).toBe(0)
  expect(v.doubled).toBe(0)
  expect(exit2.code).toBe(0)
})
