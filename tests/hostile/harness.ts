// The stack the hostile-input suite attacks: broker, ingest and API in one process as `kerbside
// start` runs them, on a fresh PostgreSQL database, with the log captured so that refusals can be
// checked line by line. Helpers to read the metrics as the operator sees them (GET /metrics), to
// fingerprint what is stored, to prove each service still works, and to print the suite's counts.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createContext, startAll, type Context, type Stack } from '../../cli/stack.ts'
import { loadConfig, type Config } from '../../core/config.ts'
import { createLogger } from '../../core/log.ts'
import type { Database } from '../../storage/database.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts'
import { connectDevice, count, provision, seedMinimalRegistry, waitFor } from '../helpers/stack.ts'

export interface HostileStack {
  ctx: Context
  stack: Stack
  db: Database
  mqttUrl: string
  mqttPort: number
  httpUrl: string
  adminKey: string
  /** Every log line the stack wrote (JSON, info and above). */
  logs: string[]
  /** A device that only ever sends valid messages, to show the pipeline still works. */
  probe: { deviceId: string; secret: string; sent: number }
  /** GET /metrics as text. */
  metrics(): Promise<string>
  /** Sum of a metric's samples whose labels include `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>
  /** Samples of a counter by one label, e.g. rejections by reason. */
  byLabel(name: string, label: string): Promise<Record<string, number>>
  /** Publish one valid reading from the probe device and wait until it is stored; checks API health too. */
  stillUp(): Promise<void>
  /** Probe messages stored, and distinct (device, seq) among them. */
  probeStored(): Promise<{ stored: number; distinct: number }>
  close(): Promise<void>
}

/** Tables that hostile input may legitimately change: refused input is kept in quarantine for
 *  inspection, reads are audited, sign-ins make sessions, jobs record their runs. */
export const VOLATILE_TABLES = ['quarantine', 'audit_log', 'job_runs', 'user_sessions', 'schema_migrations', 'kerbside_migrations']

export async function startHostileStack(overrides: Partial<Config> = {}): Promise<HostileStack & { pg: TestDatabase }> {
  const pg = await createTestDatabase()
  const dataDir = mkdtempSync(join(tmpdir(), 'kerbside-hostile-'))
  const config = loadConfig({}, {
    KERBSIDE_DATA_DIR: dataDir, DATABASE_URL: pg.url,
    MQTT_HOST: '127.0.0.1', MQTT_PORT: 0, MQTT_WS_PORT: 0, HTTP_HOST: '127.0.0.1', HTTP_PORT: 0,
    KERBSIDE_JOBS: false, LOG_LEVEL: 'info', INGEST_BATCH_MS: 20,
    ...overrides,
  })
  const logs: string[] = []
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logs.push(line) } })
  const ctx = createContext(config, logger)
  const stack = await startAll(ctx)
  await seedMinimalRegistry(stack.db)
  const probe = { deviceId: 'probe-1', secret: await provision(stack.db, 'probe-1', 'bin', { binId: 'bin-2' }), sent: 0 }
  const httpUrl = stack.api.url
  const metrics = async () => (await fetch(`${httpUrl}/metrics`)).text()
  const samples = async (name: string) => (await metrics()).split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `)).map((l) => {
    const labels: Record<string, string> = {}
    for (const m of l.matchAll(/(\w+)="([^"]*)"/g)) labels[m[1]!] = m[2]!
    return { labels, value: Number(l.slice(l.lastIndexOf(' ') + 1)) }
  })
  const probeDevice = await connectDevice(stack.mqttUrl, probe.deviceId, probe.secret, { reconnectPeriod: 1000 })
  const probeStored = async () => {
    const { rows } = await stack.db.query<{ n: number; d: number }>(`SELECT count(*)::int AS n, count(DISTINCT seq)::int AS d FROM bin_readings WHERE device_id = $1`, [probe.deviceId])
    return { stored: rows[0]!.n, distinct: rows[0]!.d }
  }
  return {
    ctx, stack, db: stack.db, mqttUrl: stack.mqttUrl, mqttPort: stack.broker.listening.tcpPort!, httpUrl, adminKey: ctx.secrets.adminKey, logs, probe, pg,
    metrics,
    async metric(name, labels = {}) {
      return (await samples(name)).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0)
    },
    async byLabel(name, label) {
      const out: Record<string, number> = {}
      for (const s of await samples(name)) if (s.labels[label] !== undefined) out[s.labels[label]] = (out[s.labels[label]] ?? 0) + s.value
      return out
    },
    async stillUp() {
      for (const path of ['/healthz', '/readyz']) {
        const res = await fetch(`${httpUrl}${path}`)
        if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${await res.text()}`)
      }
      const seq = ++probe.sent
      await probeDevice.publishAsync(`kerbside/v1/bins/${probe.deviceId}/reading`, JSON.stringify({ seq, ts: new Date(Date.now() - 1000).toISOString(), fillPct: seq % 100 }), { qos: 1 })
      await waitFor(async () => (await count(stack.db, `SELECT 1 FROM bin_readings WHERE device_id = $1 AND seq = $2`, [probe.deviceId, seq])) === 1, 20_000, `probe reading ${seq} stored`)
    },
    probeStored,
    async close() {
      await probeDevice.endAsync(true).catch(() => undefined)
      await stack.close()
      await pg.drop()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/**
 * A digest of every stored table (rows in a stable order), leaving out the volatile tables and the
 * probe device's own rows. Equal before and after an attack = nothing stored was changed.
 */
export async function fingerprint(db: Database, opts: { excludeDevices?: string[]; excludeTables?: string[] } = {}): Promise<Record<string, string>> {
  const skip = new Set([...VOLATILE_TABLES, ...(opts.excludeTables ?? [])])
  const { rows: tables } = await db.query<{ name: string; hasDevice: boolean }>(
    `SELECT t.table_name AS name, EXISTS (SELECT 1 FROM information_schema.columns c WHERE c.table_schema = 'public' AND c.table_name = t.table_name AND c.column_name = 'device_id') AS "hasDevice"
       FROM information_schema.tables t WHERE t.table_schema = 'public' AND t.table_type = 'BASE TABLE' ORDER BY 1`)
  const out: Record<string, string> = {}
  for (const t of tables) {
    if (skip.has(t.name)) continue
    const where = t.hasDevice && opts.excludeDevices?.length ? `WHERE device_id IS NULL OR NOT (device_id = ANY($1::text[]))` : ''
    const { rows } = await db.query<{ n: number; digest: string | null }>(
      `SELECT count(*)::int AS n, md5(string_agg(x::text, '|' ORDER BY x::text)) AS digest FROM "${t.name}" x ${where}`, where ? [opts.excludeDevices] : [])
    out[t.name] = `${rows[0]!.n}:${rows[0]!.digest ?? '-'}`
  }
  return out
}

/** Counts of one hostile run, printed as one line (collected from the suite's output). */
export class Tally {
  tried = 0
  readonly rejected: Record<string, number> = {}
  serverErrors = 0
  lost = 0
  duplicates = 0
  constructor(readonly name: string) {}
  reject(reason: string, n = 1): void {
    this.rejected[reason] = (this.rejected[reason] ?? 0) + n
  }
  print(extra = ''): void {
    const reasons = Object.entries(this.rejected).sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`).join(', ')
    console.error(`HOSTILE ${this.name}: inputs tried ${this.tried}, rejections by reason {${reasons}}, 5xx: ${this.serverErrors}, lost: ${this.lost}, duplicates: ${this.duplicates}${extra ? `, ${extra}` : ''}`)
  }
}

/** The difference between two counter snapshots, by label, without zeros. */
export function delta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0)
  return out
}
