// npm run bench:soak -- --minutes 30 — Kerbside at city load for a long while, watching for growth.
// Broker, ingest and API run as separate processes (distributed mode) on a PostgreSQL server, so each
// one's memory is its own. The load generator (simulators/load-generator.ts, in its own process)
// keeps a Liverpool-sized stream going: every bin reporting hourly is ~170 msg/s (DESIGN.md), over
// SOAK_CONNECTIONS device connections, QoS 1. A probe device publishes once a second with its real
// send time to time publish → stored; a client calls the API a few times a second. Every minute:
// RSS and V8 heap of each service, rows stored, publish → stored p50/p99, API p99. At the end, a
// growth verdict per process from the slope of its memory after warm-up, and docs/soak.md.
// Figures are printed and written, never asserted.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import mqtt from 'mqtt'
import { silentLogger } from '../core/log.ts'
import { generateSecret, hashSecret } from '../core/secrets.ts'
import { provisionDevices } from '../storage/devices.ts'
import { openDatabase } from '../storage/open-database.ts'
import { createTestDatabase } from '../tests/helpers/postgres.ts'
import { fmtInt, freePort, loadAverage, machine, percentiles, progress, rssMiB, sleep, table } from './lib.ts'

const ROOT = join(import.meta.dirname, '..')
const { values } = parseArgs({ options: { minutes: { type: 'string', default: '30' }, rate: { type: 'string', default: '170' }, out: { type: 'string', default: join(ROOT, 'docs', 'soak.md') }, load: { type: 'string' } } })
const MINUTES = Number(values.minutes)
const RATE = Number(values.rate)
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? 2000)
const serviceSecret = generateSecret()
const adminKey = generateSecret()
const deviceSecret = generateSecret()

interface Service { name: string; proc: ChildProcess; port: number }

function spawnService(name: string, env: Record<string, string>, port: number): Service {
  const proc = spawn(process.execPath, [join(ROOT, 'cli', 'bin.js'), name], {
    cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'],
    env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', KERBSIDE_SERVICE_SECRET: serviceSecret, KERBSIDE_ADMIN_KEY: adminKey, KERBSIDE_JOBS: 'false', HTTP_HOST: '127.0.0.1', MQTT_HOST: '127.0.0.1', HTTP_PORT: String(port), ...env },
  })
  return { name, proc, port }
}

async function waitReady(s: Service) {
  for (let i = 0; i < 1200; i++) {
    if (s.proc.exitCode !== null) throw new Error(`${s.name} exited with ${s.proc.exitCode}`)
    const res = await fetch(`http://127.0.0.1:${s.port}/readyz`).catch(() => null)
    if (res?.status === 200) return
    await sleep(100)
  }
  throw new Error(`${s.name} did not become ready`)
}

async function heapMiB(s: Service): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${s.port}/metrics`)).text().catch(() => '')
  const m = /^kerbside_nodejs_heap_size_used_bytes (\S+)$/m.exec(text)
  return m ? Number(m[1]) / 1024 / 1024 : NaN
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

/** Least-squares slope of y over x (per unit of x). */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length
  const mx = xs.reduce((a, b) => a + b, 0) / n
  const my = ys.reduce((a, b) => a + b, 0) / n
  let num = 0
  let den = 0
  for (let i = 0; i < n; i++) { num += (xs[i]! - mx) * (ys[i]! - my); den += (xs[i]! - mx) ** 2 }
  return den === 0 ? 0 : num / den
}

interface Sample { minute: number; rss: Record<string, number>; heap: Record<string, number>; stored: number; perSecond: number; e2e: { p50: number; p99: number; count: number }; api: { p50: number; p99: number; count: number; errors: number } }

async function main() {
  console.log(`# Kerbside soak — ${new Date().toISOString()}`)
  console.log(`machine: ${machine()}; load average at the start ${loadAverage()}`)
  console.log(`${MINUTES} min at ${RATE} msg/s over ${fmtInt(CONNECTIONS)} device connections (QoS 1, JSON readings); broker, ingest and API as separate processes on PostgreSQL\n`)
  const pg = await createTestDatabase()
  const dataDir = mkdtempSync(join(tmpdir(), 'kerbside-soak-'))
  const services: Service[] = []
  let generator: ChildProcess | null = null
  try {
    const [mqttPort, wsPort, brokerOps, ingestOps, apiPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()])
    const common = { DATABASE_URL: pg.url, KERBSIDE_DATA_DIR: dataDir, MQTT_URL: `mqtt://127.0.0.1:${mqttPort}` }
    const broker = spawnService('broker', { ...common, MQTT_PORT: String(mqttPort), MQTT_WS_PORT: String(wsPort) }, brokerOps)
    services.push(broker)
    await waitReady(broker) // the broker migrates the database first
    const db = await openDatabase({ url: pg.url, logger: silentLogger, migrate: false })
    const secretHash = await hashSecret(deviceSecret)
    const ids = soakDeviceIds(CONNECTIONS)
    await provisionDevices(db, [...ids, 'soak-probe'].map((deviceId) => ({ deviceId, kind: 'bin' as const, secretHash })))
    const ingest = spawnService('ingest', common, ingestOps)
    const api = spawnService('api', common, apiPort)
    services.push(ingest, api)
    await Promise.all([waitReady(ingest), waitReady(api)])
    progress('stack ready; starting the load')

    // The city: RATE msg/s for the whole soak (and a minute of slack for the clock), from this file
    // run again as the load generator's process (2,000 devices do not fit in one argument).
    const load: LoadSpec = { url: `mqtt://127.0.0.1:${mqttPort}`, rate: RATE, durationS: MINUTES * 60 + 60, connections: CONNECTIONS, secret: deviceSecret }
    generator = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--load', JSON.stringify(load)], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })

    // publish → stored, from a probe with its real send time.
    const probe = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: 'soak-probe', username: 'soak-probe', password: deviceSecret })
    const sentAt = new Map<number, number>()
    let e2e: number[] = []
    let probeSeq = 0
    let seen = 0
    let running = true
    const probing = (async () => {
      while (running) {
        probeSeq++
        sentAt.set(probeSeq, performance.now())
        probe.publish('kerbside/v1/bins/soak-probe/reading', JSON.stringify({ seq: probeSeq, ts: new Date().toISOString(), fillPct: probeSeq % 100 }), { qos: 1 })
        const until = performance.now() + 1000
        while (running && performance.now() < until) {
          const { rows } = await db.query<{ s: number | null }>(`SELECT max(seq)::int AS s FROM bin_readings WHERE device_id = 'soak-probe'`)
          const t = performance.now()
          for (let s = seen + 1; s <= (rows[0]?.s ?? 0); s++) { const at = sentAt.get(s); if (at !== undefined) { e2e.push(t - at); sentAt.delete(s) } }
          seen = Math.max(seen, rows[0]?.s ?? 0)
          await sleep(5)
        }
      }
    })()

    // The contact centre and the dashboard: a few API calls a second.
    let apiLatencies: number[] = []
    let apiErrors = 0
    const paths = ['/api/v1/devices?limit=50', '/api/v1/households?q=Test&limit=10', '/api/v1/map/summary', '/api/v1/contracts', '/api/v1/events?after=0&limit=50']
    const calling = (async () => {
      for (let i = 0; running; i++) {
        const t0 = performance.now()
        const res = await fetch(`http://127.0.0.1:${apiPort}${paths[i % paths.length]}`, { headers: { authorization: `Bearer ${adminKey}` } }).catch(() => null)
        if (!res || res.status >= 500) apiErrors++
        await res?.arrayBuffer()
        apiLatencies.push(performance.now() - t0)
        await sleep(200)
      }
    })()

    const count = async () => Number((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM bin_readings`)).rows[0]!.n)
    const samples: Sample[] = []
    let lastCount = await count()
    let lastAt = performance.now()
    const start = performance.now()
    for (let minute = 1; minute <= MINUTES; minute++) {
      await sleep(Math.max(0, start + minute * 60_000 - performance.now()))
      const stored = await count()
      const now = performance.now()
      const e = percentiles(e2e)
      const a = percentiles(apiLatencies)
      const s: Sample = {
        minute, stored, perSecond: (stored - lastCount) / ((now - lastAt) / 1000),
        rss: Object.fromEntries(services.map((x) => [x.name, rssMiB(x.proc.pid!)])),
        heap: Object.fromEntries(await Promise.all(services.map(async (x) => [x.name, await heapMiB(x)] as const))),
        e2e: { p50: e.p50, p99: e.p99, count: e.count }, api: { p50: a.p50, p99: a.p99, count: a.count, errors: apiErrors },
      }
      samples.push(s)
      lastCount = stored
      lastAt = now
      e2e = []
      apiLatencies = []
      apiErrors = 0
      progress(`minute ${minute}: ${fmtInt(s.perSecond)} rows/s, RSS ${services.map((x) => `${x.name} ${s.rss[x.name]!.toFixed(0)}`).join(' ')} MiB, publish→stored p99 ${s.e2e.p99.toFixed(0)} ms, API p99 ${s.api.p99.toFixed(0)} ms`)
    }
    running = false
    await Promise.all([probing, calling])
    await probe.endAsync()
    await db.close()

    const rows = samples.map((s) => [
      s.minute, fmtInt(s.perSecond), fmtInt(s.stored),
      ...services.flatMap((x) => [s.rss[x.name]!.toFixed(0), s.heap[x.name]!.toFixed(0)]),
      s.e2e.p50.toFixed(0), s.e2e.p99.toFixed(0), s.api.p99.toFixed(0), s.api.errors,
    ])
    const header = ['min', 'rows/s', 'stored', ...services.flatMap((x) => [`${x.name} RSS MiB`, `${x.name} heap MiB`]), 'pub→stored p50 ms', 'p99 ms', 'API p99 ms', 'API 5xx']
    const tableText = table(header, rows)

    // Growth: after a warm-up minute, the median of the last third of the samples against the median
    // of the first third (robust to garbage-collection sawtooth), and the least-squares trend.
    const warm = samples.filter((s) => s.minute >= 2)
    const verdicts: string[] = []
    if (warm.length < 3) verdicts.push(`Too short to judge growth (${warm.length} samples after the first minute; run 30 minutes).`)
    else {
      const note = warm.length < 10 ? ' (indicative only: fewer than 10 samples)' : ''
      const minutes = warm.map((s) => s.minute)
      const thirds = (ys: number[]) => {
        const k = Math.max(1, Math.floor(ys.length / 3))
        return { first: median(ys.slice(0, k)), last: median(ys.slice(-k)) }
      }
      for (const x of services) {
        for (const what of ['rss', 'heap'] as const) {
          const ys = warm.map((s) => s[what][x.name]!)
          const { first, last } = thirds(ys)
          const perHour = slope(minutes, ys) * 60
          const grows = last - first > Math.max(10, first * 0.1) && perHour > 0 // more than 10 % (or 10 MiB) up
          verdicts.push(`${x.name} ${what === 'rss' ? 'RSS' : 'heap'}: ${first.toFixed(0)} → ${last.toFixed(0)} MiB (median of first and last third), trend ${perHour >= 0 ? '+' : ''}${perHour.toFixed(1)} MiB/h — ${grows ? 'GROWING' : 'no growth'}${note}`)
        }
      }
      for (const [label, ys] of [['publish → stored p99', warm.map((s) => s.e2e.p99)], ['API p99', warm.map((s) => s.api.p99)]] as const) {
        const { first, last } = thirds([...ys])
        verdicts.push(`${label}: ${first.toFixed(0)} → ${last.toFixed(0)} ms (median of first and last third), range ${Math.min(...ys).toFixed(0)}–${Math.max(...ys).toFixed(0)} ms — ${last > first * 1.5 + 50 ? 'GETTING SLOWER' : 'steady'}${note}`)
      }
    }
    console.log(`\n${tableText}\n`)
    for (const v of verdicts) console.log(v)

    const doc = `# Soak: Kerbside at city load over time

\`npm run bench:soak -- --minutes ${MINUTES}\` (${new Date().toISOString().slice(0, 16)}Z). Broker, ingest and API as separate
processes (distributed mode) on the local PostgreSQL server; the load generator in its own process
keeps ${RATE} msg/s (every bin of a Liverpool-sized city reporting hourly, DESIGN.md) over
${fmtInt(CONNECTIONS)} device connections, QoS 1, JSON readings. A probe device publishes once a second
with its real send time (publish → committed row); an API client calls five read endpoints in turn,
five calls a second. Sampled every minute: RSS (/proc) and V8 heap used (/metrics) of each service.

Machine: ${machine()}; load average at the end ${loadAverage()} (shared with other work).

\`\`\`
${tableText}
\`\`\`

## Verdict

${verdicts.map((v) => `- ${v}`).join('\n')}

Growth is judged from minute 2 on: memory is called growing when the median of the last third of
the samples is more than 10 % (or 10 MiB) above the median of the first third and the least-squares
trend is upward; latency is called getting slower when its last-third median is more than 1.5×
(+50 ms) the first. Figures are measured, not asserted.
`
    writeFileSync(values.out!, doc)
    console.log(`\nwritten to ${values.out}`)
  } finally {
    generator?.kill('SIGTERM')
    for (const s of services.reverse()) {
      if (s.proc.exitCode === null) { s.proc.kill('SIGTERM'); await new Promise((r) => s.proc.once('exit', r)) }
    }
    await pg.drop().catch(() => undefined)
    rmSync(dataDir, { recursive: true, force: true })
  }
}

interface LoadSpec { url: string; rate: number; durationS: number; connections: number; secret: string }
function soakDeviceIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `soak-${String(i + 1).padStart(6, '0')}`)
}

if (values.load) {
  const spec = JSON.parse(values.load) as LoadSpec
  const { runLoad } = await import('../simulators/load-generator.ts')
  await runLoad({
    url: spec.url, rate: spec.rate, durationS: spec.durationS, maxInflightPerConnection: 20, ackTimeoutMs: 60_000, connectConcurrency: 200,
    devices: soakDeviceIds(spec.connections).map((deviceId) => ({ deviceId, secret: spec.secret, kind: 'bin' as const })),
  })
  process.exit(0)
} else {
  await main()
}
