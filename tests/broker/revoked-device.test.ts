// Regression for issue 19 (MEDIUM, revocation does not cut a live device): a device revoked while
// connected published `status: "burning"` and the broker acknowledged it. Now its first message
// after the revocation is quarantined, not acknowledged and not passed on, and its connection is
// closed then — without waiting for the broker's revocation check (left out of this broker, so
// that only the pipeline's refusal can cut it).
import { createServer, type Server } from 'node:net'
import type { AddressInfo } from 'node:net'
import mqtt from 'mqtt'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createBroker, type Broker } from '../../broker/create-broker.ts'
import { silentLogger } from '../../core/log.ts'
import { createPipeline } from '../../ingest/pipeline.ts'
import type { Database } from '../../storage/database.ts'
import { deviceCredentials, revokeDevice } from '../../storage/devices.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { connectDevice, count, provision, seedMinimalRegistry } from '../helpers/stack.ts'

const SERVICE = 'service-secret-for-revoked-device-test'
let db: Database
let broker: Broker
let server: Server
let url: string

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  await seedMinimalRegistry(db)
  const pipeline = createPipeline({ db, logger: silentLogger, registry: new Registry(), batchSize: 100, batchMs: 5, maxPayloadBytes: 16_384 })
  broker = await createBroker({
    pipeline, logger: silentLogger, registry: new Registry(), lookupDevice: (id) => deviceCredentials(db, id), serviceSecret: SERVICE,
    persistence: { kind: 'memory', dataDir: '', redisUrl: '' }, drainTimeoutMs: 5_000, authFailuresPerMinute: 100,
  })
  server = createServer((socket) => broker.handle(socket))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  await broker?.close()
  await new Promise((resolve) => server?.close(resolve))
  await db?.close()
})

test('the first message of a device revoked while connected: not acknowledged, not stored, not passed on; the connection is closed', async () => {
  const secret = await provision(db, 'rev-live', 'bin', { binId: 'bin-1' })
  const watcher = await mqtt.connectAsync(url, { clientId: 'kerbside-watch', username: 'kerbside-watch', password: SERVICE, reconnectPeriod: 0 })
  const seen: string[] = []
  watcher.on('message', (topic, payload) => { if (topic.includes('rev-live')) seen.push(payload.toString()) })
  await watcher.subscribeAsync('kerbside/v1/#', { qos: 1 })

  const sensor = await connectDevice(url, 'rev-live', secret)
  const pubacks: number[] = []
  let secondPuback = () => undefined as void
  sensor.on('packetreceive', (p) => { if (p.cmd === 'puback') { pubacks.push(p.messageId!); if (pubacks.length === 2) secondPuback() } })
  // Whichever comes first: the connection closed (right), or the message acknowledged (the old behaviour).
  const closed = new Promise<void>((resolve) => { sensor.once('close', () => resolve()); secondPuback = resolve })
  const ts = () => new Date(Date.now() - 60_000).toISOString()
  await sensor.publishAsync('kerbside/v1/bins/rev-live/reading', JSON.stringify({ seq: 1, ts: ts(), fillPct: 10 }), { qos: 1 })
  expect(pubacks).toHaveLength(1)

  await revokeDevice(db, 'rev-live')
  sensor.publish('kerbside/v1/bins/rev-live/reading', JSON.stringify({ seq: 2, ts: ts(), fillPct: 100, tempC: 99, status: 'burning' }), { qos: 1 }, () => undefined)
  await closed
  expect(pubacks).toHaveLength(1) // the second was not acknowledged
  expect(await count(db, `SELECT 1 FROM bin_readings WHERE device_id = 'rev-live'`)).toBe(1)
  expect(await count(db, `SELECT 1 FROM quarantine WHERE device_id = 'rev-live' AND reason = 'unknown_device'`)).toBe(1)
  expect(seen.map((m) => (JSON.parse(m) as { seq: number }).seq)).toEqual([1])
  sensor.end(true)
  await watcher.endAsync()
})
