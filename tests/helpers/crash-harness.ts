// Kerbside as a real child process for the crash suite: `node cli/bin.js start|broker|ingest` with
// its own environment and free ports, killed (SIGKILL, SIGTERM) and started again on the same data
// folder and ports, as systemd or Kubernetes would. It says how long each start took (spawn to
// /readyz 200), its exit code, its peak memory (VmHWM from /proc), and the tail of its log.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateSecret, hashSecret } from '../../core/secrets.ts'
import type { Queryable } from '../../storage/database.ts'
import { provisionDevices } from '../../storage/devices.ts'
import type { FleetDevice } from './device-fleet.ts'

// FAULTS_KERBSIDE_ROOT runs the children from another checkout (e.g. a clean `git archive HEAD`)
// while the working tree is mid-edit.
const ROOT = process.env.FAULTS_KERBSIDE_ROOT ?? join(import.meta.dirname, '..', '..')

/** The crash suite's size: 1 in CI (npm run test:faults), larger for `npm run faults:full`. */
export const SCALE = Number(process.env.FAULTS_SCALE ?? 1)

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * A free port below the kernel's ephemeral range (32768 and up on Linux): a port from that range can
 * be taken by any outgoing connection on a busy machine while the child is down between restarts.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000)
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer()
      s.once('error', () => resolve(false))
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
    })
    if (free) return port
  }
}

export const tempDir = (name: string) => mkdtempSync(join(tmpdir(), `kerbside-${name}-`))
export const removeDir = (dir: string) => rmSync(dir, { recursive: true, force: true })

/** Provision devices with one secret each, as `kerbside devices add` would (slow hash and all). */
export async function provisionFleet(db: Queryable, prefix: string, n: number): Promise<FleetDevice[]> {
  const devices = await Promise.all(Array.from({ length: n }, async (_, i) => {
    const secret = generateSecret()
    return { deviceId: `${prefix}-${i}`, secret, secretHash: await hashSecret(secret) }
  }))
  await provisionDevices(db, devices.map((d) => ({ deviceId: d.deviceId, kind: 'bin' as const, secretHash: d.secretHash })))
  return devices.map(({ deviceId, secret }) => ({ deviceId, secret }))
}

export interface Exit { code: number | null; signal: NodeJS.Signals | null }

export interface KerbsideProcess {
  readonly name: string
  readonly mqttPort: number
  readonly httpPort: number
  mqttUrl: string
  pid(): number | undefined
  running(): boolean
  /** Spawn and wait for /readyz 200 (and the MQTT port, if it has one); resolves with the milliseconds that took. */
  start(): Promise<number>
  /** Send a signal and wait for the exit. */
  kill(signal: NodeJS.Signals, timeoutMs?: number): Promise<Exit>
  /** GET /readyz: the status code, or null when nothing answers. */
  readyz(): Promise<number | null>
  metrics(): Promise<Record<string, number>>
  /** Peak resident memory of the running process (VmHWM), in MiB. */
  peakRssMb(): number | null
  /** The last lines it wrote to stderr/stdout. */
  logTail(lines?: number): string
  /** Every exit it made, in order. */
  exits: Exit[]
}

export interface ProcessOptions {
  name: string
  command: 'start' | 'broker' | 'ingest' | 'api'
  dataDir: string
  env?: Record<string, string>
  /** Ports to keep across restarts; picked free when not given. */
  mqttPort?: number
  httpPort?: number
  /** Seconds to wait for readiness. */
  readyTimeoutS?: number
}

export async function kerbsideProcess(opts: ProcessOptions): Promise<KerbsideProcess> {
  const mqttPort = opts.mqttPort ?? await freePort()
  const httpPort = opts.httpPort ?? await freePort()
  let child: ChildProcess | null = null
  let log: string[] = []
  const exits: Exit[] = []
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    KERBSIDE_DATA_DIR: opts.dataDir,
    LOG_LEVEL: process.env.FAULTS_LOG_LEVEL ?? 'warn',
    KERBSIDE_JOBS: 'false',
    MQTT_HOST: '127.0.0.1', MQTT_PORT: String(mqttPort), MQTT_WS_PORT: '0',
    HTTP_HOST: '127.0.0.1', HTTP_PORT: String(httpPort),
    HTTP_RATE_LIMIT_PER_MINUTE: '1000000',
    MQTT_AUTH_FAILURES_PER_MINUTE: '10000',
    ...opts.env,
  }
  const capture = (chunk: Buffer) => {
    const lines = chunk.toString().split('\n').filter(Boolean)
    log.push(...lines)
    if (log.length > 400) log = log.slice(-200)
    if (process.env.FAULTS_ECHO) for (const l of lines) console.error(`[${opts.name}] ${l}`)
  }
  const readyz = async () => {
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort}/readyz`, { signal: AbortSignal.timeout(2_000) })
      await res.arrayBuffer()
      return res.status
    } catch {
      return null
    }
  }
  const mqttOpen = () => new Promise<boolean>((resolve) => {
    const s = connect(mqttPort, '127.0.0.1')
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => resolve(false))
  })

  const self: KerbsideProcess = {
    name: opts.name, mqttPort, httpPort, mqttUrl: `mqtt://127.0.0.1:${mqttPort}`, exits,
    pid: () => child?.pid,
    running: () => child !== null && child.exitCode === null && child.signalCode === null,
    async start() {
      if (self.running()) throw new Error(`${opts.name} is already running`)
      const t0 = performance.now()
      const c = spawn(process.execPath, [join(ROOT, 'cli', 'bin.js'), opts.command], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
      child = c
      c.stdout!.on('data', capture)
      c.stderr!.on('data', capture)
      c.once('exit', (code, signal) => { exits.push({ code, signal }) })
      const until = Date.now() + (opts.readyTimeoutS ?? 120) * 1000
      for (;;) {
        if (c.exitCode !== null || c.signalCode !== null) throw new Error(`${opts.name} exited (${c.exitCode ?? c.signalCode}) while starting:\n${self.logTail()}`)
        if ((await readyz()) === 200 && (opts.command === 'ingest' || opts.command === 'api' || await mqttOpen())) return performance.now() - t0
        if (Date.now() > until) throw new Error(`${opts.name} not ready after ${opts.readyTimeoutS ?? 120} s:\n${self.logTail()}`)
        await sleep(50)
      }
    },
    async kill(signal, timeoutMs = 60_000) {
      const c = child
      if (!c || !self.running()) throw new Error(`${opts.name} is not running`)
      const exited = new Promise<Exit>((resolve) => c.once('exit', (code, sig) => resolve({ code, signal: sig })))
      c.kill(signal)
      const timer = setTimeout(() => c.kill('SIGKILL'), timeoutMs)
      const exit = await exited
      clearTimeout(timer)
      return exit
    },
    readyz,
    async metrics() {
      try {
        const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`, { signal: AbortSignal.timeout(5_000) })).text()
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
    },
    peakRssMb() {
      const pid = child?.pid
      if (!pid || !self.running()) return null
      try {
        const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
        return kb ? Number(kb) / 1024 : null
      } catch {
        return null
      }
    },
    logTail: (lines = 30) => log.slice(-lines).join('\n'),
  }
  return self
}

/**
 * Kill `proc` with SIGKILL `times` times while the fleet publishes, `everyMs` apart, each time
 * starting it again at once on the same folder and ports. Returns each restart's time to ready.
 */
export async function killRepeatedly(proc: KerbsideProcess, opts: { times: number; everyMs: number; before?: () => Promise<void> | void }): Promise<number[]> {
  const restarts: number[] = []
  for (let k = 0; k < opts.times; k++) {
    await sleep(opts.everyMs)
    await opts.before?.()
    const exit = await proc.kill('SIGKILL')
    if (exit.signal !== 'SIGKILL') throw new Error(`${proc.name} ended by itself before the kill (${JSON.stringify(exit)}):\n${proc.logTail()}`)
    restarts.push(await proc.start())
  }
  return restarts
}

export const seconds = (ms: number[]) => ms.map((m) => `${(m / 1000).toFixed(1)} s`).join(', ')

const WATCHED = ['kerbside_ingest_pending_messages', 'kerbside_broker_awaiting_commit_messages', 'kerbside_broker_connected_clients', 'kerbside_ingest_received_total', 'kerbside_ingest_batches_total']

/** Wait until the fleet holds nothing unacknowledged; if it never does, say what each process holds. */
export async function settleOrExplain(fleet: { settle(ms: number): Promise<void> }, procs: KerbsideProcess[], timeoutMs: number): Promise<void> {
  try {
    await fleet.settle(timeoutMs)
  } catch (err) {
    const states = await Promise.all(procs.map(async (p) => {
      const m = await p.metrics()
      return `${p.name} (running ${p.running()}): ${WATCHED.map((k) => `${k.replace(/^kerbside_/, '')}=${m[k] ?? '-'}`).join(' ')}\n${p.logTail(15)}`
    }))
    throw new Error(`${(err as Error).message}\n${states.join('\n')}`)
  }
}
