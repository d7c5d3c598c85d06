// SIGKILL the ingest process in the middle of a stream of QoS 1 messages, restart it, and check
// that every message the broker accepted is stored exactly once. The broker here is aedes without
// Kerbside's pipeline (it acknowledges at once), standing in for an external broker (EMQX, HiveMQ,
// Mosquitto): since issue 13 `kerbside ingest` is only the front door for such brokers, and
// Kerbside's own broker commits before its PUBACK (see tests/faults for its crash suite). Used by
// the default suite (embedded database, owned by the ingest process) and the services suite
// (PostgreSQL server).
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { Registry } from 'prom-client'
import { createBroker } from '../../broker/create-broker.ts'
import { listenBroker } from '../../broker/listeners.ts'
import { silentLogger } from '../../core/log.ts'
import { generateSecret, hashSecret } from '../../core/secrets.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { provisionDevices } from '../../storage/devices.ts'

const ROOT = join(import.meta.dirname, '..', '..')
const trace = (msg: string) => { if (process.env.TRACE_KILL) console.error(`[kill-ingest ${new Date().toISOString()}] ${msg}`) }

export interface KillResult {
  published: number
  acceptedByBroker: number
  stored: number
  distinctStored: number
  missing: number
  killedAfterForwarded: number
}

const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number }
    s.close(() => resolve(port))
  })
})

async function metricsOf(port: number): Promise<Record<string, number>> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
    const out: Record<string, number> = {}
    for (const line of text.split('\n')) {
      if (line.startsWith('#') || !line) continue
      const i = line.lastIndexOf(' ')
      out[line.slice(0, i)] = Number(line.slice(i + 1))
    }
    return out
  } catch {
    return {}
  }
}

export async function killIngestMidStream(opts: { databaseUrl?: string; messages: number; devices: number }): Promise<KillResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kerbside-kill-'))
  const serviceSecret = generateSecret()
  const deviceSecret = generateSecret()
  const secretHash = await hashSecret(deviceSecret)
  const deviceIds = Array.from({ length: opts.devices }, (_, i) => `kill-${i}`)

  // Register the devices in the database that ingest will use, then let ingest own it.
  const seed = await openDatabase({ url: opts.databaseUrl, dataDir, logger: silentLogger })
  await provisionDevices(seed, deviceIds.map((deviceId) => ({ deviceId, kind: 'bin', secretHash })))
  await seed.close()

  const registry = new Registry()
  const broker = await createBroker({
    logger: silentLogger, registry, serviceSecret,
    lookupDevice: async (id) => (deviceIds.includes(id) ? { deviceId: id, kind: 'bin', secretHash, revoked: false } : null),
    persistence: { kind: 'memory', dataDir, redisUrl: '' }, drainTimeoutMs: 30_000, authFailuresPerMinute: 100,
  })
  const listening = await listenBroker(broker, { host: '127.0.0.1', tcpPort: 0 })
  const mqttUrl = `mqtt://127.0.0.1:${listening.tcpPort}`
  const opsPort = await freePort()

  const startIngest = (): ChildProcess => spawn(process.execPath, [join(ROOT, 'cli', 'bin.js'), 'ingest'], {
    cwd: ROOT,
    stdio: ['ignore', process.env.KILL_LOG_LEVEL ? 'inherit' : 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH, KERBSIDE_DATA_DIR: dataDir, ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : {}),
      MQTT_URL: mqttUrl, MQTT_USERNAME: 'kerbside-ingest', MQTT_PASSWORD: serviceSecret, KERBSIDE_SERVICE_SECRET: serviceSecret,
      KERBSIDE_ADMIN_KEY: generateSecret(), HTTP_HOST: '127.0.0.1', HTTP_PORT: String(opsPort), LOG_LEVEL: process.env.KILL_LOG_LEVEL ?? 'warn',
      INGEST_BATCH_SIZE: '1000', INGEST_BATCH_MS: '20',
    },
  })
  const waitReady = async () => {
    for (let i = 0; i < 1800; i++) {
      const res = await fetch(`http://127.0.0.1:${opsPort}/readyz`).catch(() => null)
      if (res?.status === 200) return
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error('ingest did not become ready')
  }

  let child = startIngest()
  await waitReady()
  trace('ingest ready')

  // Publish from every device in parallel, QoS 1; count what the broker acknowledged.
  const perDevice = Math.ceil(opts.messages / opts.devices)
  let accepted = 0
  let published = 0
  const base = Date.now() - 3_600_000
  const publishers = deviceIds.map(async (deviceId, d) => {
    const client = await mqtt.connectAsync(mqttUrl, { clientId: deviceId, username: deviceId, password: deviceSecret, reconnectPeriod: 0 })
    for (let seq = 1; seq <= perDevice; seq++) {
      published++
      await client.publishAsync(`kerbside/v1/bins/${deviceId}/reading`, JSON.stringify({ seq, ts: new Date(base + seq * 50 + d).toISOString(), fillPct: seq % 100 }), { qos: 1 })
      accepted++
    }
    await client.endAsync()
  })

  // Kill ingest once a good share of the stream has been forwarded to it, then start it again.
  const forwarded = async () => Number((await registry.getSingleMetricAsString('kerbside_broker_messages_out_total')).split('\n').find((l) => l.startsWith('kerbside_broker_messages_out_total '))?.split(' ')[1] ?? 0)
  while ((await forwarded()) < opts.messages * 0.3) await new Promise((r) => setTimeout(r, 10))
  const killedAfterForwarded = await forwarded()
  trace(`killing after ${killedAfterForwarded} forwarded, ${accepted} accepted`)
  child.kill('SIGKILL')
  await new Promise((r) => child.once('exit', r))
  child = startIngest()
  await waitReady()
  trace('restarted')
  await Promise.all(publishers)
  trace(`published ${accepted}`)

  // Done when the broker holds nothing more for the ingest session (every message delivered and
  // acknowledged, which ingest does only after its commit) and ingest holds nothing unacknowledged.
  const persistence = (broker.aedes as unknown as { persistence: { outgoingStream(client: { id: string }): AsyncIterable<unknown> } }).persistence
  const queuedForIngest = async () => {
    let n = 0
    for await (const _ of persistence.outgoingStream({ id: 'kerbside-ingest' })) n++
    return n
  }
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the restarted ingest process exited with code ${child.exitCode}`)
    const m = await metricsOf(opsPort)
    const queued = await queuedForIngest()
    trace(`received ${m['kerbside_ingest_received_total']}, pending ${m['kerbside_ingest_pending_messages']}, queued at the broker ${queued}`)
    if (queued === 0 && m['kerbside_ingest_pending_messages'] === 0) break
    await new Promise((r) => setTimeout(r, 500))
  }
  child.kill('SIGTERM')
  await new Promise((r) => child.once('exit', r))
  await broker.close()
  await listening.close()

  const db = await openDatabase({ url: opts.databaseUrl, dataDir, logger: silentLogger, migrate: false })
  const { rows } = await db.query<{ n: number; d: number }>(`SELECT count(*)::int AS n, count(DISTINCT (device_id, seq))::int AS d FROM bin_readings`)
  const { rows: missingRows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM unnest($1::text[]) dev(id) CROSS JOIN generate_series(1, $2::int) s(seq)
      WHERE NOT EXISTS (SELECT 1 FROM bin_readings r WHERE r.device_id = dev.id AND r.seq = s.seq)`, [deviceIds, perDevice])
  if (missingRows[0]!.n > 0) {
    // Say where the missing ones went: refused into quarantine (and why), or nowhere.
    const { rows: why } = await db.query<{ reason: string; n: number }>(`SELECT reason, count(*)::int AS n FROM quarantine GROUP BY reason`)
    const { rows: gaps } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM device_gaps`)
    console.error(`kill-ingest: ${missingRows[0]!.n} missing; quarantine by reason ${JSON.stringify(why)}; device gaps recorded ${gaps[0]!.n}`)
  }
  await db.close()
  rmSync(dataDir, { recursive: true, force: true })
  return { published, acceptedByBroker: accepted, stored: rows[0]!.n, distinctStored: rows[0]!.d, missing: missingRows[0]!.n, killedAfterForwarded }
}
