// Case 5 of issue 13: the database away for a long minute. `kerbside broker` reaches PostgreSQL
// through a TCP proxy the test controls; mid-stream every connection is cut and new ones are
// refused for CUT_S seconds. While the database is away no PUBACK may leave (once the commits in
// flight at the cut have finished, the count of acknowledgements stands still), /readyz of the
// broker's ops server says not ready, and afterwards every acknowledged reading is stored once and
// readiness returns by itself, in the same process.
import { afterAll, expect, test } from 'vitest'
import { silentLogger } from '../../core/log.ts'
import type { Database } from '../../storage/database.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { kerbsideProcess, settleOrExplain, provisionFleet, removeDir, SCALE, seconds, sleep, tempDir, type KerbsideProcess } from '../helpers/crash-harness.ts'
import { createFleet, summary, type Fleet } from '../helpers/device-fleet.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts'
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts'

// 60 s, as issue 13 asks, in `npm run faults:full`; 30 s in CI (its time budget). Only the longer
// cut outlasts the devices' keepalive (30 s × 1.5): the broker reads nothing more from a socket
// whose PUBACKs wait for a commit, so PINGREQs go unanswered, devices reconnect, and until the
// database returns their CONNECTs are refused with return code 3 (server unavailable).
const CUT_S = Number(process.env.FAULTS_CUT_SECONDS ?? (SCALE > 1 ? 60 : 30))
/** Commits under way at the cut may still answer within this time (their PUBACKs are honest). */
const SETTLE_MS = 3_000
const DEVICES = 20
let pgdb: TestDatabase | undefined
let db: Database | undefined
let proxy: TcpProxy | undefined
let proc: KerbsideProcess | undefined
let fleet: Fleet | undefined
const dataDir = tempDir('faults-cut')

afterAll(async () => {
  await fleet?.close()
  if (proc?.running()) await proc.kill('SIGKILL')
  await proxy?.close()
  await db?.close()
  await pgdb?.drop()
  removeDir(dataDir)
})

test(`the database cut for ${CUT_S} s: no PUBACK while it is away, not ready, then everything stored and ready again without a restart`, async () => {
  pgdb = await createTestDatabase()
  db = await openDatabase({ url: pgdb.url, logger: silentLogger })
  const devices = await provisionFleet(db, 'cut', DEVICES)
  const target = new URL(pgdb.url)
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
  const viaProxy = new URL(pgdb.url)
  viaProxy.hostname = '127.0.0.1'
  viaProxy.port = String(proxy.port)
  proc = await kerbsideProcess({ name: 'kerbside broker', command: 'broker', dataDir, env: { DATABASE_URL: viaProxy.toString(), MQTT_PERSISTENCE: 'level' } })
  await proc.start()
  const pid = proc.pid()
  fleet = createFleet({ devices, servers: () => [proc!.mqttUrl], rate: 1_000, window: 100 })
  await fleet.start()
  await sleep(5_000 * SCALE)
  const ackedBeforeCut = fleet.acked()

  const cutAt = Date.now()
  const connectionsCut = proxy.cut()
  proxy.down()
  await sleep(SETTLE_MS)
  const ackedAfterSettle = fleet.acked()
  const readiness: (number | null)[] = []
  while (Date.now() < cutAt + CUT_S * 1000) {
    readiness.push(await proc.readyz())
    await sleep(1_000)
  }
  const ackedDuringCut = fleet.acked() - ackedAfterSettle
  const inFlightAtEnd = fleet.counts().inFlight
  proxy.resume()
  const resumedAt = Date.now()
  let readyAgainMs: number | null = null
  while (Date.now() < resumedAt + 60_000) {
    if ((await proc.readyz()) === 200) { readyAgainMs = Date.now() - resumedAt; break }
    await sleep(200)
  }
  await sleep(3_000 * SCALE) // and the stream goes on
  fleet.pause()
  await settleOrExplain(fleet, [proc], 120_000)
  const v = await fleet.verify(db)
  const notReady = readiness.filter((s) => s === 503).length
  console.error(`FAULT database cut ${CUT_S} s (${connectionsCut} connections cut): ${summary(v)}; acknowledged before the cut ${ackedBeforeCut}, in the ${SETTLE_MS} ms after it ${ackedAfterSettle - ackedBeforeCut}, during the rest of the cut ${ackedDuringCut}; held by devices at the end of the cut ${inFlightAtEnd}; /readyz during the cut ${notReady}×503 of ${readiness.length} (${[...new Set(readiness)].join('/')}); ready again ${readyAgainMs === null ? 'never' : seconds([readyAgainMs])} after the database came back`)
  expect(connectionsCut).toBeGreaterThan(0)
  expect(ackedDuringCut).toBe(0)
  expect(inFlightAtEnd).toBeGreaterThan(0) // devices kept publishing and were held
  expect(readiness.length).toBeGreaterThan(0)
  expect(readiness.filter((s) => s !== 503)).toEqual([])
  expect(readyAgainMs).not.toBeNull()
  expect(proc.pid()).toBe(pid) // recovered in the same process
  expect(proc.exits).toEqual([])
  expect(v.missingSample).toEqual([])
  expect(v.missing).toBe(0)
  expect(v.doubled).toBe(0)
})
