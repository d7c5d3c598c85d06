// The pipeline the fault tests break: real devices (MQTT.js, QoS 1) → the real broker → ingest →
// PostgreSQL, with a TCP proxy the test controls between ingest and the database. Everything
// counts: what the broker acknowledged, what is stored, what is still queued for ingest.
import mqtt from 'mqtt'
import { Registry } from 'prom-client'
import { createBroker, type Broker } from '../../broker/create-broker.ts'
import { listenBroker, type Listening } from '../../broker/listeners.ts'
import { silentLogger } from '../../core/log.ts'
import { generateSecret, hashSecret } from '../../core/secrets.ts'
import { createIngest, type Ingest } from '../../ingest/create-ingest.ts'
import type { Database } from '../../storage/database.ts'
import { provisionDevices } from '../../storage/devices.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts'
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts'

export interface Pipeline {
  db: Database          // direct connection, for checking
  ingestDb: Database    // ingest's connection, through the proxy
  proxy: TcpProxy
  broker: Broker
  ingest: Ingest
  registry: Registry
  url: string
  deviceIds: string[]
  /** Publish `perDevice` messages from every device, `window` of them in flight per device at a time. */
  publish(perDevice: number, opts?: { onProgress?: (acked: number) => void; window?: number }): Promise<number>
  queuedForIngest(): Promise<number>
  pending(): Promise<number>
  waitDrained(timeoutMs?: number): Promise<void>
  verify(perDevice: number): Promise<{ stored: number; distinct: number; missing: number }>
  close(): Promise<void>
}

export async function startPipeline(opts: { devices: number; maxPending?: number; batchSize?: number } = { devices: 20 }): Promise<Pipeline> {
  const pgdb: TestDatabase = await createTestDatabase()
  const db = await openDatabase({ url: pgdb.url, logger: silentLogger })
  const secret = generateSecret()
  const secretHash = await hashSecret(secret)
  const deviceIds = Array.from({ length: opts.devices }, (_, i) => `f-${i}`)
  await provisionDevices(db, deviceIds.map((deviceId) => ({ deviceId, kind: 'bin' as const, secretHash })))

  const target = new URL(pgdb.url)
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
  const viaProxy = new URL(pgdb.url)
  viaProxy.hostname = '127.0.0.1'
  viaProxy.port = String(proxy.port)
  const ingestDb = await openDatabase({ url: viaProxy.toString(), logger: silentLogger, migrate: false, poolSize: 4 })
  ingestDb.capabilities = db.capabilities

  const registry = new Registry()
  const serviceSecret = generateSecret()
  const broker = await createBroker({
    logger: silentLogger, registry, serviceSecret,
    lookupDevice: async (id) => (deviceIds.includes(id) ? { deviceId: id, kind: 'bin', secretHash, revoked: false } : null),
    persistence: { kind: 'memory', dataDir: '', redisUrl: '' }, drainTimeoutMs: 60_000, authFailuresPerMinute: 1000,
  })
  const listening: Listening = await listenBroker(broker, { host: '127.0.0.1', tcpPort: 0 })
  const url = `mqtt://127.0.0.1:${listening.tcpPort}`
  const ingest = createIngest({
    db: ingestDb, logger: silentLogger, registry, mqttUrl: url, clientId: 'kerbside-ingest', username: 'kerbside-ingest', password: serviceSecret,
    batchSize: opts.batchSize ?? 1000, batchMs: 20, maxPending: opts.maxPending ?? 5000, maxPayloadBytes: 16_384,
  })
  await ingest.start()

  const metric = async (name: string) => Number((await registry.getSingleMetricAsString(name)).split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1] ?? NaN)
  const persistence = (broker.aedes as unknown as { persistence: { outgoingStream(c: { id: string }): AsyncIterable<unknown> } }).persistence
  const queuedForIngest = async () => { let n = 0; for await (const _ of persistence.outgoingStream({ id: 'kerbside-ingest' })) n++; return n }
  const base = Date.now() - 6 * 3_600_000

  return {
    db, ingestDb, proxy, broker, ingest, registry, url, deviceIds, queuedForIngest,
    pending: () => metric('kerbside_ingest_pending_messages'),
    async publish(perDevice, o = {}) {
      let acked = 0
      await Promise.all(deviceIds.map(async (deviceId, d) => {
        const c = await mqtt.connectAsync(url, { clientId: deviceId, username: deviceId, password: secret })
        const window = o.window ?? 1
        for (let first = 1; first <= perDevice; first += window) {
          await Promise.all(Array.from({ length: Math.min(window, perDevice - first + 1) }, async (_, k) => {
            const seq = first + k
            await c.publishAsync(`kerbside/v1/bins/${deviceId}/reading`, JSON.stringify({ seq, ts: new Date(base + seq * 1000 + d).toISOString(), fillPct: seq % 100 }), { qos: 1 })
            acked++
            if (acked % 500 === 0) o.onProgress?.(acked)
          }))
        }
        await c.endAsync()
      }))
      return acked
    },
    async waitDrained(timeoutMs = 180_000) {
      const until = Date.now() + timeoutMs
      while (Date.now() < until) {
        if ((await queuedForIngest()) === 0 && (await metric('kerbside_ingest_pending_messages')) === 0) return
        await new Promise((r) => setTimeout(r, 250))
      }
      throw new Error(`not drained after ${timeoutMs} ms: ${await queuedForIngest()} queued at the broker`)
    },
    async verify(perDevice) {
      const { rows } = await db.query<{ n: number; d: number }>(`SELECT count(*)::int AS n, count(DISTINCT (device_id, seq))::int AS d FROM bin_readings`)
      const { rows: m } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM unnest($1::text[]) dev(id) CROSS JOIN generate_series(1, $2::int) s(seq)
          WHERE NOT EXISTS (SELECT 1 FROM bin_readings r WHERE r.device_id = dev.id AND r.seq = s.seq)`, [deviceIds, perDevice])
      return { stored: rows[0]!.n, distinct: rows[0]!.d, missing: m[0]!.n }
    },
    async close() {
      await ingest.stop().catch(() => undefined)
      await broker.close()
      await listening.close()
      await ingestDb.close().catch(() => undefined)
      await proxy.close()
      await db.close()
      await pgdb.drop()
    },
  }
}

/** One line per fault test, collected into the suite's summary. */
export function report(name: string, r: { faults: number; published: number; stored: number; duplicates: number; lost: number; extra?: string }) {
  console.error(`FAULT ${name}: faults injected ${r.faults}, messages acknowledged ${r.published}, stored ${r.stored}, lost ${r.lost}, duplicates ${r.duplicates}${r.extra ? `, ${r.extra}` : ''}`)
}
