// A graceful shutdown of the one-process stack (npm start) with a backlog: the pipeline holds
// messages whose commits are still to come when the close begins. Regression: the old two-hop stack
// crashed here with level persistence (RangeError: Maximum call stack size exceeded) and could lose
// acknowledged messages. Now: the close finishes, every message acknowledged to the device is in the
// database when the data folder is opened again, and what was not acknowledged was not lost either:
// the device still holds it and sends it again to the restarted stack, where it is stored once.
import { rmSync } from 'node:fs'
import { afterAll, expect, test } from 'vitest'
import type { MqttClient } from 'mqtt'
import { silentLogger } from '../../core/log.ts'
import type { Config } from '../../core/config.ts'
import type { Database } from '../../storage/database.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { freePort } from '../helpers/crash-harness.ts'
import { interceptCommits } from '../helpers/intercept-commits.ts'
import { connectDevice, provision, seedMinimalRegistry, startTestStack, waitFor } from '../helpers/stack.ts'

const MESSAGES = 1500
let reopened: Database | null = null
const dirs: string[] = []
afterAll(async () => {
  await reopened?.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

for (const persistence of ['memory', 'level'] as const) {
  test(`closing with a backlog (${persistence} persistence) stores every acknowledged message; the rest is resent and stored once`, async () => {
    // One MQTT port for both runs: the device reconnects by itself, as a real one would.
    const overrides: Partial<Config> = { INGEST_BATCH_SIZE: 50, MQTT_PERSISTENCE: persistence, MQTT_PORT: await freePort() }
    const t = await startTestStack(overrides)
    dirs.push(t.dataDir)
    await seedMinimalRegistry(t.db)
    const secret = await provision(t.db, 'sensor-1', 'bin', { binId: 'bin-1' })
    // Commits made slow (each batch waits 20 ms first), so that a backlog is held when the close begins.
    interceptCommits(t.db, () => new Promise((r) => setTimeout(r, 20)))
    const sensor: MqttClient = await connectDevice(t.mqttUrl, 'sensor-1', secret, { clean: false, reconnectPeriod: 200 })
    const base = Date.now() - 86_400_000
    const acked = new Set<number>()
    for (let seq = 1; seq <= MESSAGES; seq++) {
      sensor.publish('kerbside/v1/bins/sensor-1/reading', JSON.stringify({ seq, ts: new Date(base + seq * 1000).toISOString(), fillPct: seq % 100 }), { qos: 1 }, (err) => { if (!err) acked.add(seq) })
    }
    await waitFor(() => acked.size >= 300, 60_000, 'some acknowledgements')
    // Not t.close(): that would delete the data folder this test opens again.
    await t.stack.close()
    const ackedAtClose = acked.size
    reopened = await openDatabase({ dataDir: t.dataDir, logger: silentLogger })
    const stored = new Set((await reopened.query<{ seq: number }>(`SELECT seq FROM bin_readings WHERE device_id = 'sensor-1'`)).rows.map((r) => r.seq))
    const missing = [...acked].filter((s) => !stored.has(s))
    console.error(`SHUTDOWN (${persistence}): acknowledged ${ackedAtClose} of ${MESSAGES} before the close, stored ${stored.size}, acknowledged but missing ${missing.length}`)
    expect(ackedAtClose).toBeLessThan(MESSAGES) // there was a backlog, or the test proves nothing
    expect(missing).toEqual([])
    await reopened.close()
    reopened = null

    // The device still holds what was not acknowledged (MQTT.js keeps it in its outgoing store) and
    // sends it to the restarted stack, one message at a time, when it reconnects by itself.
    const again = await startTestStack({ ...overrides, KERBSIDE_DATA_DIR: t.dataDir })
    const counts = async () => (await again.db.query<{ n: number; d: number }>(`SELECT count(*)::int AS n, count(DISTINCT seq)::int AS d FROM bin_readings WHERE device_id = 'sensor-1'`)).rows[0]!
    await waitFor(async () => (await counts()).d === MESSAGES, 150_000, 'every message stored after the restart')
    expect(await counts()).toEqual({ n: MESSAGES, d: MESSAGES })
    sensor.end(true)
    await again.stack.close()
  }, 300_000)
}
