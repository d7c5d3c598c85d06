// Devices for the benchmarks that measure Kerbside's own broker (bench:ingest, bench:scale-out):
// a fleet provisioned in the registry, publishing QoS 1 readings from load-generator processes of
// their own (bench/load-child.ts), and the check that every message acknowledged to them is stored.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import type { Database } from '../storage/database.ts'
import { provisionDevices } from '../storage/devices.ts'
import { hashSecret } from '../core/secrets.ts'
import { cpuMeter } from './cpu.ts'
import { fmtInt } from './lib.ts'

const ROOT = join(import.meta.dirname, '..')

export const deviceIds = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(5, '0')}`)

export async function provisionFleet(db: Database, ids: string[], secret: string): Promise<void> {
  const secretHash = await hashSecret(secret)
  for (let i = 0; i < ids.length; i += 5000) await provisionDevices(db, ids.slice(i, i + 5000).map((deviceId) => ({ deviceId, kind: 'bin' as const, secretHash })))
}

interface ChildReport {
  sent: number; acked: number
  latencyMs: { p50: number; p99: number; max: number; count: number }
  refused: unknown[]
  progress: { ms: number; acked: number }[]
  ackedRanges: Record<string, [number, number][]>
}

export interface LoadResult {
  sent: number
  acked: number
  /** PUBACKs per second over the middle of the run (first and last 20 % of its seconds dropped), summed over the generators. */
  rate: number
  /** Publish → PUBACK of the first generator (of all messages when there is one). */
  latencyMs: ChildReport['latencyMs']
  refused: number
  /** Each device's acknowledged seqs, as [first, last] runs. */
  ackedRanges: Record<string, [number, number][]>
  /** Cores each party used while the devices published (1.0 = one core busy). */
  cores: Record<string, number>
  /** CPU seconds each party spent per 1,000 acknowledged messages (its cores × the measured interval / acknowledged). */
  cpuPerThousand: Record<string, number>
  machineBusyCores: number
}

export interface DeviceLoad {
  /** Broker URLs; generator g connects its devices to urls[g % urls.length]. */
  urls: string[]
  ids: string[]
  secret: string
  rate: number
  seconds: number
  generators: number
  /** Messages a connection may have unacknowledged: offered more than the broker takes, devices wait for PUBACKs. */
  inflight: number
  /** Processes whose CPU is measured, by name; those in `startingDuring` may start during the run. */
  parties?: Record<string, () => number[]>
  startingDuring?: string[]
}

function middleRate(samples: { ms: number; acked: number }[]): number {
  const steps: number[] = []
  for (let i = 1; i < samples.length; i++) steps.push((samples[i]!.acked - samples[i - 1]!.acked) / ((samples[i]!.ms - samples[i - 1]!.ms) / 1000))
  const middle = steps.slice(Math.floor(steps.length * 0.2), Math.ceil(steps.length * 0.8))
  return middle.length > 0 ? middle.reduce((a, b) => a + b, 0) / middle.length : 0
}

/**
 * The devices publish from `generators` processes of their own, so that they do not share the
 * event loop they measure. Offered more than the system takes, publishers wait for PUBACKs (closed
 * loop), as real devices do, instead of queueing without bound.
 */
export async function runDevices(load: DeviceLoad): Promise<LoadResult> {
  const procs = Array.from({ length: load.generators }, (_, g) => {
    const devices = load.ids.filter((_, i) => i % load.generators === g).map((deviceId) => ({ deviceId, secret: load.secret, kind: 'bin' }))
    const options = { url: load.urls[g % load.urls.length], rate: load.rate / load.generators, durationS: load.seconds, maxInflightPerConnection: load.inflight, ackTimeoutMs: 60_000, devices }
    return spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'load-child.ts'), JSON.stringify(options)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
  })
  const meter = cpuMeter({ ...load.parties, 'load generators': () => procs.map((p) => p.pid!) }, { startingDuring: load.startingDuring })
  meter.start()
  // Stopped as the first generator writes its report, while every process can still be read.
  let cpu: ReturnType<typeof meter.stop> | null = null
  const reports = await Promise.all(procs.map((proc) => {
    let out = ''
    proc.stdout.on('data', (d) => { cpu ??= meter.stop(); out += d })
    return new Promise<ChildReport>((resolve, reject) => proc.once('exit', () => {
      try { resolve(JSON.parse(out) as ChildReport) } catch { reject(new Error(`load generator output: ${out.slice(0, 500)}`)) }
    }))
  }))
  cpu ??= meter.stop()
  const acked = reports.reduce((n, r) => n + r.acked, 0)
  const measured = cpu
  return {
    sent: reports.reduce((n, r) => n + r.sent, 0),
    acked: reports.reduce((n, r) => n + r.acked, 0),
    rate: reports.reduce((n, r) => n + middleRate(r.progress), 0),
    latencyMs: reports[0]!.latencyMs,
    refused: reports.reduce((n, r) => n + r.refused.length, 0),
    ackedRanges: Object.assign({}, ...reports.map((r) => r.ackedRanges)) as LoadResult['ackedRanges'],
    cores: cpu.cores,
    cpuPerThousand: Object.fromEntries(Object.entries(measured.cores).map(([k, v]) => [k, acked > 0 ? (v * measured.wallS * 1000) / acked : NaN])),
    machineBusyCores: cpu.machineBusyCores,
  }
}

export interface StoredCheck { acked: number; found: number; missing: number; rows: number; distinct: number }

/**
 * Every acknowledged (device, seq) looked up: how many are stored, and whether the prefix's rows are
 * each stored once. Acknowledged means stored, so `missing` must be 0.
 */
export async function checkStored(db: Database, prefix: string, ranges: LoadResult['ackedRanges']): Promise<StoredCheck> {
  const dev: string[] = []
  const first: number[] = []
  const last: number[] = []
  for (const [d, runs] of Object.entries(ranges)) for (const [a, b] of runs) { dev.push(d); first.push(a); last.push(b) }
  const acked = first.reduce((n, a, i) => n + last[i]! - a + 1, 0)
  const { rows: [found] } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM unnest($1::text[], $2::int[], $3::int[]) AS a(device_id, first, last)
       JOIN bin_readings r ON r.device_id = a.device_id AND r.seq BETWEEN a.first AND a.last`, [dev, first, last])
  const { rows: [all] } = await db.query<{ n: number; d: number }>(
    `SELECT count(*)::int AS n, count(DISTINCT (device_id, seq))::int AS d FROM bin_readings WHERE device_id LIKE $1`, [`${prefix}%`])
  return { acked, found: found!.n, missing: acked - found!.n, rows: all!.n, distinct: all!.d }
}

export const coresLine = (r: LoadResult) => `${Object.entries(r.cores).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}; machine ${r.machineBusyCores.toFixed(2)} of 2`

export const storedLine = (c: StoredCheck) =>
  `${fmtInt(c.found)} of ${fmtInt(c.acked)} acknowledged found stored${c.missing === 0 ? '' : ` — ${fmtInt(c.missing)} MISSING`}; ${fmtInt(c.rows)} rows, ${c.rows === c.distinct ? 'each once' : `${fmtInt(c.rows - c.distinct)} DOUBLED`}`
