// `kerbside start` receiving The Things Stack webhooks is killed with SIGKILL mid-stream while a
// test network server keeps sending, retrying every uplink that got no 2xx as The Things Stack does
// with webhook retries on. After the restart every uplink must be stored exactly once: 0 lost (each
// one answered 2xx is in the database), 0 doubled (a retry of an uplink committed just before the
// kill is recognised).
import { afterAll, expect, test } from 'vitest'
import { silentLogger } from '../../core/log.ts'
import { registerLoRaWANDevice } from '../../storage/lorawan-devices.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { ttsUplink } from '../../simulators/lorawan/envelopes.ts'
import { kerbsideProcess, removeDir, sleep, tempDir, type KerbsideProcess } from '../helpers/crash-harness.ts'

const SECRET = 'ttn-secret-for-the-kill-test-0123'
const DEVICES = 10
const UPLINKS_PER_DEVICE = 40
const IN_FLIGHT = 8
const FRAME = Buffer.from('01755C03820802040000', 'hex')
const dataDir = tempDir('lorawan-kill')
let proc: KerbsideProcess | undefined

afterAll(async () => {
  if (proc?.running()) await proc.kill('SIGKILL')
  removeDir(dataDir)
})

const devEui = (i: number) => `24E12471AA${i.toString(16).toUpperCase().padStart(6, '0')}`

test('webhook receiver SIGKILLed mid-stream while the network server retries: 0 lost, 0 doubled', async () => {
  const seed = await openDatabase({ dataDir, logger: silentLogger })
  await seed.query(`INSERT INTO households (uprn, address) SELECT 300000000000 + g, g || ' Kill Street' FROM generate_series(1, $1::int) g`, [DEVICES])
  await seed.query(`INSERT INTO bins (bin_id, uprn, stream, capacity_l) SELECT 'kill-bin-' || g, 300000000000 + g, 'residual', 240 FROM generate_series(1, $1::int) g`, [DEVICES])
  for (let i = 1; i <= DEVICES; i++) await registerLoRaWANDevice(seed, { devEui: devEui(i), model: 'milesight-em310-udl', binId: `kill-bin-${i}` })
  await seed.close()

  proc = await kerbsideProcess({ name: 'kerbside start', command: 'start', dataDir, env: { LORAWAN_TTN_SECRET: SECRET } })
  await proc.start()
  const url = `http://127.0.0.1:${proc.httpPort}/api/v1/lorawan/ttn`

  // The test network server: every uplink once, in FCnt order per device, each retried until a 2xx.
  const base = Date.now() - 600_000
  const queue = Array.from({ length: UPLINKS_PER_DEVICE }, (_, f) => Array.from({ length: DEVICES }, (_, d) => ({ d: d + 1, fCnt: f + 1 }))).flat()
  const acked = new Set<string>()
  let attempts = 0
  let failures = 0
  const send = async (u: { d: number; fCnt: number }) => {
    const body = JSON.stringify(ttsUplink({ devEui: devEui(u.d), fCnt: u.fCnt, fPort: 85, payload: FRAME, receivedAt: new Date(base + u.fCnt * 1000 + u.d) }))
    for (;;) {
      attempts++
      try {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-kerbside-secret': SECRET }, body, signal: AbortSignal.timeout(10_000) })
        const answer = await res.json() as { outcome?: string }
        if (res.status === 200 && answer.outcome === 'stored') { acked.add(`${u.d}:${u.fCnt}`); return }
        failures++
      } catch {
        failures++
      }
      await sleep(200)
    }
  }
  let next = 0
  const senders = Array.from({ length: IN_FLIGHT }, async () => {
    while (next < queue.length) await send(queue[next++]!)
  })

  // Kill once a third of the stream is acknowledged, and start again on the same folder and ports.
  while (acked.size < queue.length / 3) await sleep(20)
  const ackedBeforeKill = acked.size
  const exit = await proc.kill('SIGKILL')
  expect(exit.signal).toBe('SIGKILL')
  await proc.start()
  await Promise.all(senders)
  const term = await proc.kill('SIGTERM')

  const db = await openDatabase({ dataDir, logger: silentLogger, migrate: false })
  const { rows } = await db.query<{ deviceId: string; seq: number; n: number }>(
    `SELECT device_id AS "deviceId", seq, count(*)::int AS n FROM bin_readings WHERE device_id LIKE 'lw-24e12471aa%' GROUP BY device_id, seq`)
  const { rows: quarantined } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM quarantine`)
  await db.close()
  const stored = new Map(rows.map((r) => [`${parseInt(r.deviceId.slice(-6), 16)}:${r.seq}`, r.n]))
  const lost = [...acked].filter((k) => !stored.has(k))
  const doubled = rows.filter((r) => r.n > 1)
  console.error(`FAULT lorawan webhook SIGKILL: ${queue.length} uplinks, ${acked.size} acknowledged (${ackedBeforeKill} before the kill), ${attempts} requests (${failures} failed and retried), stored ${rows.length}, lost ${lost.length}, doubled ${doubled.length}; SIGTERM exit ${term.code}`)
  expect(acked.size).toBe(queue.length)
  expect(lost).toEqual([])
  expect(doubled).toEqual([])
  expect(rows).toHaveLength(queue.length)
  expect(failures).toBeGreaterThan(0)
  expect(quarantined[0]!.n).toBe(0)
  expect(term.code).toBe(0)
}, 600_000)
