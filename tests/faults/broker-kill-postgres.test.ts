// Case 2 of issue 13: `kerbside broker` on a PostgreSQL server (the distributed shape: the broker
// commits its own devices' messages), killed with SIGKILL three times under load, once with the
// default in-memory MQTT persistence and once with `level`. No ingest process: the PUBACK is the
// commit, so nothing the broker acknowledged can wait anywhere for a second hop.
import { afterAll, expect, test } from 'vitest'
import { silentLogger } from '../../core/log.ts'
import type { Database } from '../../storage/database.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { kerbsideProcess, settleOrExplain, killRepeatedly, provisionFleet, removeDir, SCALE, seconds, sleep, tempDir, type KerbsideProcess } from '../helpers/crash-harness.ts'
import { createFleet, summary, type Fleet } from '../helpers/device-fleet.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts'

const DEVICES = 20
const RATE = 1_000
const BETWEEN_KILLS_MS = 5_000 * SCALE
const cleanup: (() => Promise<void>)[] = []
afterAll(async () => { for (const c of cleanup.reverse()) await c().catch(() => undefined) })

for (const persistence of ['memory', 'level'] as const) {
  test(`kerbside broker on PostgreSQL, MQTT_PERSISTENCE=${persistence}, SIGKILL ×3 under load: every acknowledged reading stored once`, async () => {
    const pgdb: TestDatabase = await createTestDatabase()
    const db: Database = await openDatabase({ url: pgdb.url, logger: silentLogger })
    const dataDir = tempDir(`faults-broker-${persistence}`)
    const held: { proc?: KerbsideProcess; fleet?: Fleet } = {}
    cleanup.push(async () => {
      await held.fleet?.close()
      if (held.proc?.running()) await held.proc.kill('SIGKILL')
      await db.close()
      await pgdb.drop()
      removeDir(dataDir)
    })
    const devices = await provisionFleet(db, `bk-${persistence}`, DEVICES)
    const proc = held.proc = await kerbsideProcess({ name: `kerbside broker (${persistence})`, command: 'broker', dataDir, env: { DATABASE_URL: pgdb.url, MQTT_PERSISTENCE: persistence } })
    const firstStart = await proc.start()
    const fleet = held.fleet = createFleet({ devices, servers: () => [proc.mqttUrl], rate: RATE, window: 100 })
    await fleet.start()
    const t0 = performance.now()
    const restarts = await killRepeatedly(proc, { times: 3, everyMs: BETWEEN_KILLS_MS })
    await sleep(BETWEEN_KILLS_MS)
    fleet.pause()
    const publishSeconds = (performance.now() - t0) / 1000
    await settleOrExplain(fleet, [proc], 120_000)
    const v = await fleet.verify(db)
    const exit = await proc.kill('SIGTERM')
    console.error(`FAULT broker on PostgreSQL (${persistence}), SIGKILL ×3: ${summary(v)}; offered ${(v.published / publishSeconds).toFixed(0)} msg/s over ${publishSeconds.toFixed(0)} s; first start ${seconds([firstStart])}, restarts ${seconds(restarts)}; SIGTERM exit ${exit.code}`)
    expect(restarts).toHaveLength(3)
    // The first kill cut every device (all were connected); later ones cut those that were back.
    expect(v.reconnects).toBeGreaterThanOrEqual(DEVICES)
    expect(v.acked).toBeGreaterThan(0)
    expect(v.missingSample).toEqual([])
    expect(v.missing).toBe(0)
    expect(v.doubled).toBe(0)
    expect(exit.code).toBe(0)
  })
}
