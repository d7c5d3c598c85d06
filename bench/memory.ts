// npm run bench:memory — resident memory of each Kerbside service, run as separate processes as in
// a distributed deployment (`kerbside broker`, `kerbside ingest`, `kerbside api`, jobs off), on the
// PostgreSQL server, with a city installed, at a steady city load.
//
// The city: the seeded generator's households (210,000, Liverpool's size; --quick 20,000), registry
// and eight weeks of calendar. The load, from the load generator in its own process:
//   idle     services up, the city installed, nothing publishing
//   steady   Liverpool's hourly reports, ~170 msg/s (the design's figure), from CONNECTIONS devices,
//            while the contact centre asks the API about 20 things a second (household history,
//            first-contact checks, KPIs) for random households
//   storm    a whole-city reconnect storm, ~2,000 msg/s, with the same API traffic
// RSS of each process is sampled every second (Linux /proc); the table gives the mean and the maximum.
//
//   node --import tsx bench/memory.ts [--quick] [--seconds 60] [--households 210000]
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { addDays } from '../analysis/calendar/dates.ts'
import { silentLogger } from '../core/log.ts'
import { generateSecret, hashSecret } from '../core/secrets.ts'
import { generateCity } from '../simulators/city/generate-city.ts'
import { installCity } from '../simulators/install-city.ts'
import { createApiKey } from '../storage/api-keys.ts'
import { provisionDevices } from '../storage/devices.ts'
import { openDatabase } from '../storage/open-database.ts'
import { createTestDatabase } from '../tests/helpers/postgres.ts'
import { emitResult, fmtInt, freePort, loadAverage, machine, progress, quick, rssMiB, sleep, step, table } from './lib.ts'

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, seconds: { type: 'string' }, households: { type: 'string' } } })
const ROOT = join(import.meta.dirname, '..')
const HOUSEHOLDS = Number(values.households ?? (quick ? 20_000 : 210_000))
const SECONDS = Number(values.seconds ?? (quick ? 15 : 60))
const CONNECTIONS = quick ? 500 : 2_000
const STEADY_RATE = 170
const STORM_RATE = 2_000
const START = '2026-03-02'
const serviceSecret = generateSecret()
const adminKey = generateSecret()
const deviceSecret = generateSecret()

interface Service { name: string; proc: ChildProcess; port: number }

async function startService(command: string, env: Record<string, string>, port: number): Promise<Service> {
  const proc = spawn(process.execPath, [join(ROOT, 'cli', 'bin.js'), command], {
    cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'],
    env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', KERBSIDE_SERVICE_SECRET: serviceSecret, KERBSIDE_ADMIN_KEY: adminKey, KERBSIDE_JOBS: 'false', HTTP_HOST: '127.0.0.1', MQTT_HOST: '127.0.0.1', HTTP_PORT: String(port), ...env },
  })
  for (let i = 0; i < 1200; i++) {
    if ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200) return { name: command, proc, port }
    if (proc.exitCode !== null) throw new Error(`kerbside ${command} exited with ${proc.exitCode}`)
    await sleep(100)
  }
  throw new Error(`kerbside ${command} did not become ready`)
}

async function stopService(s: Service): Promise<void> {
  if (s.proc.exitCode !== null) return
  s.proc.kill('SIGTERM')
  const killer = setTimeout(() => s.proc.kill('SIGKILL'), 15_000)
  await new Promise((r) => s.proc.once('exit', r))
  clearTimeout(killer)
}

/** The load generator in its own process (bench/load-child.ts) for `seconds` at `rate`. */
function load(url: string, ids: string[], rate: number, seconds: number, startSeq: number): Promise<{ acked: number; sent: number }> {
  const options = {
    url, rate, durationS: seconds, maxInflightPerConnection: 20, ackTimeoutMs: 30_000, startTs: Date.now() - 3_600_000, tsStepMs: 10,
    devices: ids.map((deviceId) => ({ deviceId, secret: deviceSecret, kind: 'bin' })),
  }
  // startSeq cannot cross the process boundary as a function: every device continues from one number.
  // The options go through a file: 2,000 devices with their secrets are more than one argument may hold (E2BIG).
  const file = join(mkdtempSync(join(tmpdir(), 'kb-load-')), 'options.json')
  writeFileSync(file, JSON.stringify(options))
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'load-child.ts'), `@${file}`, String(startSeq)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  proc.stdout.on('data', (d) => { out += d })
  return new Promise((resolve, reject) => proc.once('exit', () => {
    try { resolve(JSON.parse(out) as { acked: number; sent: number }) } catch { reject(new Error(`load generator output: ${out.slice(0, 300)}`)) }
  }))
}

/** Contact-centre traffic: `perSecond` requests a second, round robin over three endpoints, until stopped. */
function apiTraffic(port: number, key: string, uprns: number[], contractId: string, perSecond: number) {
  let stop = false
  let done = 0
  let failed = 0
  const failures: Record<string, number> = {}
  const today = addDays(START, 53)
  const paths = [
    (u: number) => `/api/v1/households/${u}/collections?limit=20`,
    (u: number) => `/api/v1/households/${u}/first-contact?stream=residual`,
    () => `/api/v1/contracts/${contractId}/performance?from=${addDays(today, -27)}&to=${today}`,
  ]
  const running = (async () => {
    for (let i = 0; !stop; i++) {
      const t0 = performance.now()
      const res = await fetch(`http://127.0.0.1:${port}${paths[i % paths.length]!(uprns[i % uprns.length]!)}`, { headers: { authorization: `Bearer ${key}` } }).catch(() => null)
      await res?.arrayBuffer()
      if (res?.status === 200) done++
      else {
        failed++
        const why = String(res?.status ?? 'no answer')
        failures[why] = (failures[why] ?? 0) + 1
      }
      await sleep(Math.max(0, 1000 / perSecond - (performance.now() - t0)))
    }
  })()
  return { stop: async () => { stop = true; await running; return { done, failed, failures } } }
}

type Phase = 'idle' | 'steady' | 'storm'
const samples: Record<string, Record<Phase, number[]>> = {}
async function sample(services: Service[], phase: Phase, seconds: number, until?: Promise<unknown>) {
  let finished = false
  void until?.then(() => { finished = true })
  const end = performance.now() + seconds * 1000
  while (until ? !finished : performance.now() < end) {
    for (const s of services) ((samples[s.name] ??= { idle: [], steady: [], storm: [] })[phase]).push(rssMiB(s.proc.pid!))
    await sleep(1000)
  }
}

const loadStart = loadAverage()
console.log(`# Memory of each service at steady city load — ${new Date().toISOString()}`)
console.log(`machine: ${machine()}; load average at the start ${loadStart}`)
const server = await createTestDatabase()
const db = await openDatabase({ url: server.url, logger: silentLogger })
const services: Service[] = []
let result: Record<string, unknown> = {}
const apiAnswered: Partial<Record<Phase, number>> = {}
try {
  const city = generateCity({ seed: 7, households: HOUSEHOLDS, start: START, sensorShare: 0.02 })
  await step(`city of ${fmtInt(HOUSEHOLDS)} households (registry and calendar)`, () => installCity(db, city, { calendar: { from: START, to: addDays(START, 62), today: addDays(START, -1) } }))
  const ids = Array.from({ length: CONNECTIONS }, (_, i) => `mem-${String(i).padStart(5, '0')}`)
  const secretHash = await hashSecret(deviceSecret)
  await provisionDevices(db, ids.map((deviceId) => ({ deviceId, kind: 'bin' as const, secretHash })))
  const key = (await createApiKey(db, 'bench contact centre', 'contract_manager')).key
  const { rows: homes } = await db.query<{ uprn: number }>(`SELECT uprn FROM households ORDER BY random() LIMIT 2000`)
  const uprns = homes.map((h) => h.uprn)

  const [mqttPort, brokerOps, ingestOps, apiPort] = [await freePort(), await freePort(), await freePort(), await freePort()]
  const mqttUrl = `mqtt://127.0.0.1:${mqttPort}`
  const common = { DATABASE_URL: server.url, KERBSIDE_DATA_DIR: join(tmpdir(), 'kerbside-bench') }
  await step('services: broker, ingest, api (separate processes)', async () => {
    services.push(await startService('broker', { ...common, MQTT_PORT: String(mqttPort), MQTT_WS_PORT: '0' }, brokerOps))
    services.push(await startService('ingest', { ...common, MQTT_URL: mqttUrl }, ingestOps))
    // The API's rate limit (600 a minute per key by default) would refuse the bench's own steady traffic.
    services.push(await startService('api', { ...common, MQTT_URL: mqttUrl, HTTP_RATE_LIMIT_PER_MINUTE: '100000' }, apiPort))
  })
  await step('idle', () => sample(services, 'idle', 10))
  let seq = 1
  for (const [phase, rate] of [['steady', STEADY_RATE], ['storm', STORM_RATE]] as const) {
    await step(`${phase}: ${fmtInt(rate)} msg/s from ${fmtInt(CONNECTIONS)} devices for ${SECONDS} s, API ~20 requests/s`, async () => {
      const traffic = apiTraffic(apiPort, key, uprns, city.contract.contractId, 20)
      const gen = load(mqttUrl, ids, rate, SECONDS, seq)
      await sample(services, phase, SECONDS, gen)
      const sent = await gen
      const api = await traffic.stop()
      seq += Math.ceil(sent.sent / CONNECTIONS) + 1
      progress(`  ${fmtInt(sent.acked)} messages acknowledged; API answered ${fmtInt(api.done)} requests, ${api.failed} failed${api.failed ? ` (by status: ${JSON.stringify(api.failures)})` : ''}`)
      apiAnswered[phase] = api.done
    })
  }
  // Ingest may still be writing the storm's tail: wait until the count stands still for 3 s.
  const stored = { n: -1 }
  for (let still = 0, i = 0; still < 3 && i < 120; i++) {
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM bin_readings WHERE device_id LIKE 'mem-%'`)
    still = rows[0]!.n === stored.n ? still + 1 : 0
    stored.n = rows[0]!.n
    await sleep(1000)
  }
  const stat = (v: number[]) => ({ mean: v.reduce((a, b) => a + b, 0) / Math.max(1, v.length), max: Math.max(...v) })
  const rows = services.map((s) => ({ service: s.name, idle: stat(samples[s.name]!.idle), steady: stat(samples[s.name]!.steady), storm: stat(samples[s.name]!.storm) }))
  console.log(`\n${fmtInt(HOUSEHOLDS)} households installed; ${fmtInt(stored.n)} readings stored during the run; RSS in MiB (mean / max of 1 s samples); the API answered ${fmtInt(apiAnswered.steady ?? 0)} and ${fmtInt(apiAnswered.storm ?? 0)} requests in the two phases`)
  console.log(table(['service', 'idle', `steady ${STEADY_RATE} msg/s`, `storm ${fmtInt(STORM_RATE)} msg/s`],
    rows.map((r) => [r.service, `${r.idle.mean.toFixed(0)} / ${r.idle.max.toFixed(0)}`, `${r.steady.mean.toFixed(0)} / ${r.steady.max.toFixed(0)}`, `${r.storm.mean.toFixed(0)} / ${r.storm.max.toFixed(0)}`])))
  result = { households: HOUSEHOLDS, connections: CONNECTIONS, seconds: SECONDS, steadyRate: STEADY_RATE, stormRate: STORM_RATE, stored: stored.n, services: rows, apiAnswered }
} finally {
  for (const s of services.reverse()) await stopService(s)
  await db.close()
  await server.drop()
}
const loadEnd = loadAverage()
console.log(`load average at the end: ${loadEnd}`)
emitResult({ bench: 'memory', machine: machine(), loadStart, loadEnd, quick, ...result })
process.exit(0)
