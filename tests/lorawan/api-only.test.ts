// `kerbside api` on its own (no broker in the process): the LoRaWAN webhooks commit through the API
// process's own ingest pipeline, and closing the API commits what that pipeline holds.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { createContext, openConfiguredDatabase, startApi } from '../../cli/stack.ts'
import { loadConfig } from '../../core/config.ts'
import { silentLogger } from '../../core/log.ts'
import { registerLoRaWANDevice } from '../../storage/lorawan-devices.ts'
import { ttsUplink } from '../../simulators/lorawan/envelopes.ts'
import { seedMinimalRegistry } from '../helpers/stack.ts'

const SECRET = 'api-only-ttn-secret-0123456789'
const dataDir = mkdtempSync(join(tmpdir(), 'kerbside-lorawan-api-only-'))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

test('an API-only process stores webhook uplinks through its own pipeline', async () => {
  const config = loadConfig({}, { KERBSIDE_DATA_DIR: dataDir, HTTP_HOST: '127.0.0.1', HTTP_PORT: 0, MQTT_PORT: 1, KERBSIDE_JOBS: false, LOG_LEVEL: 'silent', LORAWAN_TTN_SECRET: SECRET })
  const ctx = createContext(config, silentLogger)
  const db = await openConfiguredDatabase(ctx)
  try {
    await seedMinimalRegistry(db)
    await registerLoRaWANDevice(db, { devEui: '24E124713B15AAAA', model: 'milesight-em310-udl', binId: 'bin-1' })
    const api = await startApi(ctx, db)
    const receivedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000)
    const res = await fetch(`${api.url}/api/v1/lorawan/ttn`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-kerbside-secret': SECRET },
      body: JSON.stringify(ttsUplink({ devEui: '24E124713B15AAAA', fCnt: 3, fPort: 85, payload: Buffer.from('01755C03820802040000', 'hex'), receivedAt })),
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ outcome: 'stored', seq: 3, fillPct: 53 })
    await api.close()
    const { rows } = await db.query<{ seq: number; ts: Date }>(`SELECT seq, ts FROM bin_readings WHERE device_id = 'lw-24e124713b15aaaa'`)
    expect(rows).toEqual([{ seq: 3, ts: receivedAt }])
  } finally {
    await db.close()
  }
}, 120_000)
