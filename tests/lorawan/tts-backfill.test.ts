// Backfill from The Things Stack's Storage Integration, against a stand-in that answers its HTTP API
// as documented (GET …/packages/storage/uplink_message, Bearer key, text/event-stream, one
// {"result": …} per line): uplinks the webhook missed are stored; run again, or overlapping the
// webhook, nothing is doubled; a refused key or an error line is a clear error.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { Registry } from 'prom-client'
import { silentLogger } from '../../core/log.ts'
import { backfillFromTtsStorage, TtsStorageError } from '../../ingest/lorawan/tts-backfill.ts'
import { createLoRaWANIngest, type LoRaWANIngest } from '../../ingest/lorawan/uplink-handler.ts'
import { registerLoRaWANDevice } from '../../storage/lorawan-devices.ts'
import { ttsUplink } from '../../simulators/lorawan/envelopes.ts'
import { parseTtsMessage } from '../../ingest/lorawan/tts-envelope.ts'
import { count, seedMinimalRegistry, startTestStack, type TestStack } from '../helpers/stack.ts'

const KEY = 'NNSXS.TESTKEY'
const EUI = '24E124713B15BBBB'
const T0 = Math.floor(Date.now() / 1000) * 1000 - 3_600_000
// What the Application Server stored: 25 uplinks, one a minute.
const stored = Array.from({ length: 25 }, (_, i) => ttsUplink({ devEui: EUI, fCnt: i + 1, fPort: 85, payload: Buffer.from('01755C03820802040000', 'hex'), receivedAt: new Date(T0 + i * 60_000) }))
const requests: URL[] = []
let failWith: 'key' | 'error-line' | null = null

let t: TestStack
let tts: Server
let baseUrl: string
let ingest: LoRaWANIngest

beforeAll(async () => {
  t = await startTestStack({})
  await seedMinimalRegistry(t.db)
  await registerLoRaWANDevice(t.db, { devEui: EUI, model: 'milesight-em310-udl', binId: 'bin-1' })
  ingest = createLoRaWANIngest({ db: t.db, pipeline: t.stack.pipeline, logger: silentLogger, registry: new Registry() })
  tts = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x')
    requests.push(url)
    if (url.pathname !== '/api/v3/as/applications/kerbside-bins/packages/storage/uplink_message' || req.headers.accept !== 'text/event-stream') { res.writeHead(404).end(); return }
    if (req.headers.authorization !== `Bearer ${KEY}` || failWith === 'key') { res.writeHead(401, { 'content-type': 'application/json' }).end('{"code":16,"message":"error:pkg/auth/rights:no_application_rights"}'); return }
    const after = Date.parse(url.searchParams.get('after')!)
    const limit = Number(url.searchParams.get('limit'))
    const page = stored.filter((m) => Date.parse(m.received_at as string) > after).slice(0, limit)
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    for (const m of page) res.write(`${JSON.stringify({ result: m })}\n`)
    if (failWith === 'error-line') res.write(`${JSON.stringify({ error: { code: 14, message: 'storage unavailable' } })}\n`)
    res.end()
  })
  await new Promise<void>((r) => tts.listen(0, '127.0.0.1', r))
  baseUrl = `http://127.0.0.1:${(tts.address() as AddressInfo).port}`
}, 120_000)
afterAll(async () => {
  await new Promise((r) => tts?.close(r))
  await t?.close()
})

const storage = () => ({ baseUrl, applicationId: 'kerbside-bins', apiKey: KEY })

test('uplinks the webhook missed are read back page by page and stored; again, nothing is doubled', async () => {
  // The webhook delivered the first five; the rest never arrived.
  for (const m of stored.slice(0, 5)) await ingest.handle('ttn', parseTtsMessage(m), Buffer.from(JSON.stringify(m)))
  const first = await backfillFromTtsStorage(storage(), ingest, new Date(T0 - 60_000), { pageSize: 10 })
  // Three pages of 10; each page after the first starts again at the time its predecessor ended, so the
  // two boundary uplinks are read twice — and recognised.
  expect(first).toMatchObject({ read: 27, outcomes: { stored: 27 }, interrupted: false, newest: new Date(T0 + 24 * 60_000) })
  expect(requests).toHaveLength(3)
  expect(await count(t.db, `SELECT 1 FROM bin_readings WHERE device_id = 'lw-24e124713b15bbbb'`)).toBe(25)
  const again = await backfillFromTtsStorage(storage(), ingest, new Date(T0 - 60_000), { pageSize: 10 })
  expect(again.read).toBe(27)
  expect(await count(t.db, `SELECT 1 FROM bin_readings WHERE device_id = 'lw-24e124713b15bbbb'`)).toBe(25)
  expect(await count(t.db, `SELECT 1 FROM quarantine`)).toBe(0)
})

test('a refused key or an error in the stream is a clear error', async () => {
  failWith = 'key'
  await expect(backfillFromTtsStorage(storage(), ingest, new Date(T0))).rejects.toThrow(/answered 401.*no_application_rights/)
  failWith = 'error-line'
  await expect(backfillFromTtsStorage(storage(), ingest, new Date(T0 + 30 * 60_000))).rejects.toThrow(TtsStorageError)
  failWith = null
})
