// Case 1 of issue 13: `kerbside start` (broker, pipeline, API in one process) on the embedded
// database, killed with SIGKILL three times under load and started again on the same data folder.
// Every reading a device got a PUBACK for must be stored, exactly once.
import { afterAll, expect, test } from 'vitest'
import { silentLogger } from '../../core/log.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { kerbsideProcess, settleOrExplain, killRepeatedly, provisionFleet, removeDir, SCALE, seconds, sleep, tempDir, type KerbsideProcess } from '../helpers/crash-harness.ts'
import { createFleet, summary, type Fleet } from '../helpers/device-fleet.ts'

const DEVICES = 20
const RATE = 1_000
const BETWEEN_KILLS_MS = 6_000 * SCALE
const dataDir = tempDir('faults-all-in-one')
let proc: KerbsideProcess | undefined
let fleet: Fleet | undefined

afterAll(async () => {
  await fleet?.close()
  if (proc?.running()) await proc.kill('SIGKILL')
  removeDir(dataDir)
})

test('all in one on the embedded database, SIGKILL ×3 under load: every acknowledged reading stored once', async () => {
  const seed = await openDatabase({ dataDir, logger: silentLogger })
  const devices = await provisionFleet(seed, 'aio', DEVICES)
  await seed.close()

  proc = await kerbsideProcess({ name: 'kerbside start', command: 'start', dataDir })
  const firstStart = await proc.start()
  fleet = createFleet({ devices, servers: () => [proc!.mqttUrl], rate: RATE, window: 100 })
  await fleet.start()
  const t0 = performance.now()
  const restarts = await killRepeatedly(proc, { times: 3, everyMs: BETWEEN_KILLS_MS })
  await sleep(BETWEEN_KILLS_MS)
  fleet.pause()
  const publishSeconds = (performance.now() - t0) / 1000
  await settleOrExplain(fleet, [proc], 120_000)
  const exit = await proc.kill('SIGTERM')

  const db = await openDatabase({ dataDir, logger: silentLogger, migrate: false })
  const v = await fleet.verify(db)
  await db.close()
  console.error(`FAULT all-in-one embedded, SIGKILL ×3: ${summary(v)}; offered ${(v.published / publishSeconds).toFixed(0)} msg/s over ${publishSeconds.toFixed(0)} s; first start ${seconds([firstStart])}, restarts ${seconds(restarts)}; SIGTERM exit ${exit.code}`)
  expect(restarts).toHaveLength(3)
  // The first kill cut every device (all were connected); later ones cut those that were back.
  expect(v.reconnects).toBeGreaterThanOrEqual(DEVICES)
  expect(v.acked).toBeGreaterThan(0)
  expect(v.missingSample).toEqual([])
  expect(v.missing).toBe(0)
  expect(v.doubled).toBe(0)
  expect(exit.code).toBe(0)
})
