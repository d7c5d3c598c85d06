// npm run bench:ingest — acknowledged means stored: what it costs, in one run on one machine.
//   0. the load generator alone, against a stand-in broker that only answers (bench/null-broker.ts):
//      it must go faster than the ceiling, or the generator and not Kerbside is what is measured
//   1. the ceiling: Kerbside's broker acknowledging without storing (built without the ingest
//      pipeline, bench/ceiling-broker.ts): QoS 1 publish → PUBACK at once
//   2. end to end on the PostgreSQL server: `kerbside broker`, PUBACK only after the batch holding
//      the message has committed
//   3. end to end on the embedded TimescaleDB: `kerbside start`'s one process (broker, pipeline, API)
//   4. raw COPY into the same table on each database
//   5. publish → PUBACK (= committed) at a steady 2,000 msg/s, on both databases
// Each party is its own process, as in production; the devices are GENERATORS load-generator
// processes (bench/load-child.ts: pre-encoded QoS 1 frames over CONNECTIONS device connections, at
// most INFLIGHT unacknowledged per connection, as devices wait for PUBACKs). Rates are the PUBACKs
// per second over the middle of each run; after each end-to-end run every acknowledged (device, seq)
// is looked up in the database. The CPU each party used is printed, to name the bottleneck.
// Figures are printed, never asserted. Frames are built before the clock starts, so the offered
// rate × the run's length is what each generator builds first: the generator alone and the ceiling
// run BENCH_FAST_SECONDS (10) at up to BENCH_MAX_RATE (100,000) msg/s, the end-to-end runs
// BENCH_SECONDS (15) at up to BENCH_E2E_RATE (50,000); a rate within 5 % of what was offered is
// flagged as capped by the offer. --quick runs each for 5 s (a smoke run). BENCH_CPU_PROF_DIR=dir: the broker-side processes write
// V8 CPU profiles there when they exit.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import { silentLogger } from '../core/log.ts'
import { generateSecret } from '../core/secrets.ts'
import { openDatabase } from '../storage/open-database.ts'
import { createPgliteDatabase } from '../storage/pglite-adapter.ts'
import { createTestDatabase } from '../tests/helpers/postgres.ts'
import { checkStored, coresLine, deviceIds, provisionFleet, runDevices, storedLine, type LoadResult, type StoredCheck } from './device-load.ts'
import { fmtInt as fmt, freePort, loadAverage, machine, progress, quick, sleep } from './lib.ts'

const ROOT = join(import.meta.dirname, '..')
const SECONDS = Number(process.env.BENCH_SECONDS ?? (quick ? 5 : 15))
const FAST_SECONDS = Number(process.env.BENCH_FAST_SECONDS ?? (quick ? 5 : 10))
const STEADY_S = quick ? 8 : 20
const COPY_ROWS = quick ? 200_000 : 500_000
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 200)
const GENERATORS = Number(process.env.BENCH_GENERATORS ?? 2)
const MAX_RATE = Number(process.env.BENCH_MAX_RATE ?? 100_000)
const E2E_RATE = Number(process.env.BENCH_E2E_RATE ?? 50_000)
const STEADY_RATE = 2000
const INFLIGHT = Number(process.env.BENCH_INFLIGHT ?? 20)
const serviceSecret = generateSecret()
const deviceSecret = generateSecret()

interface Child { proc: ChildProcess; stop(): Promise<void> }

const profileArgs = process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`] : []

function spawnChild(args: string[], env: Record<string, string>, stdout: 'ignore' | 'pipe' = 'ignore'): Child {
  const proc = spawn(process.execPath, [...profileArgs, ...args], {
    cwd: ROOT, stdio: ['ignore', stdout, 'inherit'],
    env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', KERBSIDE_SERVICE_SECRET: serviceSecret, KERBSIDE_ADMIN_KEY: generateSecret(), KERBSIDE_JOBS: 'false', HTTP_HOST: '127.0.0.1', MQTT_HOST: '127.0.0.1', ...env },
  })
  return {
    proc,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return
      proc.kill('SIGTERM')
      await new Promise((r) => proc.once('exit', r))
    },
  }
}

const spawnKerbside = (command: string, env: Record<string, string>) => spawnChild([join(ROOT, 'cli', 'bin.js'), command], env)

/** A bench child that prints {"mqttPort":…} once it listens. */
async function spawnListening(script: string, env: Record<string, string>): Promise<Child & { mqttPort: number }> {
  const child = spawnChild(['--import', 'tsx', join(ROOT, 'bench', script)], env, 'pipe')
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.proc.stdout! }).once('line', resolve)
    child.proc.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)))
  })
  return { ...child, mqttPort: (JSON.parse(line) as { mqttPort: number }).mqttPort }
}

async function waitReady(port: number, what: string) {
  for (let i = 0; i < 900; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null)
    if (res?.status === 200) return
    await sleep(100)
  }
  throw new Error(`${what} did not become ready`)
}

/** CONNECTIONS devices named `prefix…`, publishing to `url` at up to `rate` msg/s for `seconds`. */
async function devices(url: string, prefix: string, rate: number, seconds: number, generators: number, parties: Record<string, () => number[]>): Promise<LoadResult> {
  const r = await runDevices({ urls: [url], ids: deviceIds(prefix, CONNECTIONS), secret: deviceSecret, rate, seconds, generators, inflight: INFLIGHT, parties, startingDuring: ['PostgreSQL'] })
  if (r.refused > 0) console.log(`   (${r.refused} device connections refused)`)
  if (rate !== STEADY_RATE && r.rate >= 0.95 * rate) console.log(`   (${fmt(r.rate)} msg/s is the rate offered: capped by the offer, not by what was measured)`)
  return r
}

async function provision(db: Parameters<typeof provisionFleet>[0], prefixes: string[]) {
  for (const prefix of prefixes) await provisionFleet(db, deviceIds(prefix, CONNECTIONS), deviceSecret)
}

async function copyRows(write: (text: string) => Promise<void>): Promise<number> {
  const base = Date.now() - 86_400_000
  const lines: string[] = []
  for (let i = 0; i < COPY_ROWS; i++) lines.push(`${new Date(base + i).toISOString()}\tcopy-${i % CONNECTIONS}\t${i}\t${i % 101}\t11.5\t3.6\tok\n`)
  const t0 = performance.now()
  await write(lines.join(''))
  return COPY_ROWS / ((performance.now() - t0) / 1000)
}

async function main() {
  const m = machine()
  console.log(`# Kerbside ingest benchmark — ${new Date().toISOString()}`)
  const loadStart = loadAverage()
  console.log(`machine: ${m}; load average at the start ${loadStart}`)
  console.log(`${CONNECTIONS} device connections from ${GENERATORS} load-generator processes, QoS 1 JSON readings, at most ${INFLIGHT} unacknowledged per connection; without storing ${FAST_SECONDS} s at up to ${fmt(MAX_RATE)} msg/s offered, end to end ${SECONDS} s at up to ${fmt(E2E_RATE)}\n`)
  const results: Record<string, number> = {}
  const checks: Record<string, StoredCheck> = {}

  const tdb = await createTestDatabase()
  const dbName = new URL(tdb.url).pathname.slice(1)
  const db = await openDatabase({ url: tdb.url, logger: silentLogger })
  const pgPids = async () => (await db.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [dbName])).rows.map((r) => r.pid)
  await provision(db, ['c-', 'p-', 'q-'])
  const dataDir = mkdtempSync(join(tmpdir(), 'kb-bench-'))
  try {
    progress('0. the load generator alone')
    {
      const nul = await spawnListening('null-broker.ts', {})
      const r = await devices(`mqtt://127.0.0.1:${nul.mqttPort}`, 'n-', MAX_RATE, FAST_SECONDS, GENERATORS, { 'stand-in broker': () => [nul.proc.pid!] })
      console.log(`0. load generator alone (stand-in broker that only answers): ${fmt(r.rate)} msg/s acknowledged (${fmt(r.acked)} of ${fmt(r.sent)}); cores: ${coresLine(r)}`)
      results.generatorAlone = r.rate
      await nul.stop()
    }

    progress('1. the ceiling: the broker acknowledging without storing')
    {
      const [mqttPort] = [await freePort()]
      const broker = await spawnListening('ceiling-broker.ts', { KERBSIDE_DATA_DIR: dataDir, DATABASE_URL: tdb.url, MQTT_PORT: String(mqttPort) })
      const r = await devices(`mqtt://127.0.0.1:${broker.mqttPort}`, 'c-', MAX_RATE, FAST_SECONDS, GENERATORS, { broker: () => [broker.proc.pid!] })
      console.log(`1. ceiling — Kerbside's broker acknowledging without storing (no pipeline): ${fmt(r.rate)} msg/s (${fmt(r.acked)} of ${fmt(r.sent)}); publish→PUBACK p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms; cores: ${coresLine(r)}`)
      results.ceiling = r.rate
      results.cpuCeilingBroker = r.cpuPerThousand.broker!
      await broker.stop()
    }

    progress('2. end to end, PostgreSQL; 5a. latency at 2,000 msg/s')
    {
      const [mqttPort, opsPort] = [await freePort(), await freePort()]
      const url = `mqtt://127.0.0.1:${mqttPort}`
      const broker = spawnKerbside('broker', { KERBSIDE_DATA_DIR: dataDir, DATABASE_URL: tdb.url, MQTT_PORT: String(mqttPort), HTTP_PORT: String(opsPort) })
      await waitReady(opsPort, 'broker')
      // The broker's database sessions, read before and after each run (the meter takes both).
      let pgBackends = await pgPids()
      const refresh = setInterval(() => void pgPids().then((p) => { pgBackends = p }, () => undefined), 500)
      const parties = { broker: () => [broker.proc.pid!], PostgreSQL: () => pgBackends }
      const r = await devices(url, 'p-', E2E_RATE, SECONDS, GENERATORS, parties)
      checks.pg = await checkStored(db, 'p-', r.ackedRanges)
      console.log(`2. end to end, PostgreSQL (kerbside broker, PUBACK after commit): ${fmt(r.rate)} msg/s; ${storedLine(checks.pg)}; publish→PUBACK p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms; cores: ${coresLine(r)}`)
      results.e2ePg = r.rate
      results.cpuPgBroker = r.cpuPerThousand.broker!
      results.cpuPgDatabase = r.cpuPerThousand.PostgreSQL!
      const s = await devices(url, 'q-', STEADY_RATE, STEADY_S, 1, parties)
      checks.pgSteady = await checkStored(db, 'q-', s.ackedRanges)
      console.log(`5a. publish → PUBACK (= committed) at a steady ${fmt(STEADY_RATE)} msg/s, PostgreSQL: p50 ${s.latencyMs.p50.toFixed(1)} ms, p99 ${s.latencyMs.p99.toFixed(1)} ms, max ${s.latencyMs.max.toFixed(1)} ms (${fmt(s.latencyMs.count)} messages); ${storedLine(checks.pgSteady)}`)
      results.latPgP50 = s.latencyMs.p50
      results.latPgP99 = s.latencyMs.p99
      clearInterval(refresh)
      await broker.stop()
    }

    progress('4. raw COPY, PostgreSQL')
    {
      const client = new pg.Client({ connectionString: tdb.url })
      await client.connect()
      results.copy = await copyRows((text) => pipeline(Readable.from([text]), client.query(copyFrom('COPY bin_readings (ts, device_id, seq, fill_pct, temp_c, battery_v, status) FROM STDIN'))))
      console.log(`4. raw COPY into the same PostgreSQL table: ${fmt(results.copy)} rows/s (${fmt(COPY_ROWS)} rows)`)
      await client.end()
    }
  } finally {
    await db.close()
    await tdb.drop()
  }

  progress('3. end to end, embedded; 5b. latency at 2,000 msg/s')
  try {
    {
      const seed = await openDatabase({ dataDir: join(dataDir, 'embedded'), logger: silentLogger })
      await provision(seed, ['e-', 'f-'])
      await seed.close()
    }
    const [mqttPort, httpPort] = [await freePort(), await freePort()]
    const url = `mqtt://127.0.0.1:${mqttPort}`
    const stack = spawnKerbside('start', { KERBSIDE_DATA_DIR: join(dataDir, 'embedded'), MQTT_PORT: String(mqttPort), MQTT_WS_PORT: '0', HTTP_PORT: String(httpPort) })
    await waitReady(httpPort, 'kerbside start')
    const parties = { 'kerbside start': () => [stack.proc.pid!] }
    const r = await devices(url, 'e-', E2E_RATE, SECONDS, GENERATORS, parties)
    results.e2eEmbedded = r.rate
    results.cpuEmbedded = r.cpuPerThousand['kerbside start']!
    const s = await devices(url, 'f-', STEADY_RATE, STEADY_S, 1, parties)
    results.latEmbP50 = s.latencyMs.p50
    results.latEmbP99 = s.latencyMs.p99
    await stack.stop()
    // The embedded database belongs to one process: checked once `kerbside start` has closed it.
    const again = await openDatabase({ dataDir: join(dataDir, 'embedded'), logger: silentLogger })
    try {
      checks.embedded = await checkStored(again, 'e-', r.ackedRanges)
      checks.embeddedSteady = await checkStored(again, 'f-', s.ackedRanges)
      console.log(`3. end to end, embedded (kerbside start: broker, pipeline, API in one process): ${fmt(r.rate)} msg/s; ${storedLine(checks.embedded)}; publish→PUBACK p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms; cores: ${coresLine(r)}`)
      console.log(`5b. publish → PUBACK (= committed) at a steady ${fmt(STEADY_RATE)} msg/s, embedded: p50 ${s.latencyMs.p50.toFixed(1)} ms, p99 ${s.latencyMs.p99.toFixed(1)} ms, max ${s.latencyMs.max.toFixed(1)} ms (${fmt(s.latencyMs.count)} messages); ${storedLine(checks.embeddedSteady)}`)
    } finally {
      await again.close()
    }
    // COPY from a blob is PGlite's own API, on the thread that runs the engine: opened here on this one.
    const direct = await createPgliteDatabase({ dataDir: join(dataDir, 'embedded', 'pgdata'), worker: false })
    try {
      const pglite = direct.pglite!
      results.copyEmbedded = await copyRows(async (text) => { await pglite.query(`COPY bin_readings (ts, device_id, seq, fill_pct, temp_c, battery_v, status) FROM '/dev/blob'`, [], { blob: new Blob([text]) }) })
      console.log(`4b. raw COPY into the same embedded table: ${fmt(results.copyEmbedded)} rows/s (${fmt(COPY_ROWS)} rows)`)
    } finally {
      await direct.close()
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }

  const ceiling = results.ceiling!
  results.ratioPg = results.e2ePg! / ceiling
  results.ratioEmbedded = results.e2eEmbedded! / ceiling
  console.log('\nratios')
  console.log(`  load generator alone / ceiling:    ${(results.generatorAlone! / ceiling).toFixed(2)} (above 1: the generator is not the bottleneck)`)
  console.log(`  end to end (PostgreSQL) / ceiling: ${results.ratioPg.toFixed(2)}`)
  console.log(`  end to end (embedded) / ceiling:   ${results.ratioEmbedded.toFixed(2)}`)
  console.log(`  end to end (PostgreSQL) / raw COPY: ${(results.e2ePg! / results.copy!).toFixed(2)}`)
  console.log(`  end to end (embedded) / raw COPY:   ${(results.e2eEmbedded! / results.copyEmbedded!).toFixed(2)}`)
  console.log(`\nCPU per 1,000 messages (core-seconds): broker acknowledging without storing ${results.cpuCeilingBroker!.toFixed(3)}; end to end on PostgreSQL, broker ${results.cpuPgBroker!.toFixed(3)} + PostgreSQL ${results.cpuPgDatabase!.toFixed(3)}; embedded, kerbside start ${results.cpuEmbedded!.toFixed(3)}`)
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met')
  console.log('\ntargets (2-core machine)')
  console.log(`  end to end on PostgreSQL ≥ 20,000 msg/s: ${met(results.e2ePg! >= 20_000)} (${fmt(results.e2ePg!)}); ≥ 0.9 × the ceiling: ${met(results.ratioPg >= 0.9)} (${results.ratioPg.toFixed(2)})`)
  console.log(`  end to end embedded ≥ 10,000 msg/s: ${met(results.e2eEmbedded! >= 10_000)} (${fmt(results.e2eEmbedded!)}); ≥ 0.9 × the ceiling: ${met(results.ratioEmbedded >= 0.9)} (${results.ratioEmbedded.toFixed(2)})`)
  console.log(`  p99 publish → PUBACK at 2,000 msg/s < 100 ms on PostgreSQL: ${met(results.latPgP99! < 100)} (${results.latPgP99!.toFixed(1)} ms); < 150 ms embedded: ${met(results.latEmbP99! < 150)} (${results.latEmbP99!.toFixed(1)} ms)`)
  const lost = Object.values(checks).reduce((n, c) => n + c.missing, 0)
  const doubled = Object.values(checks).reduce((n, c) => n + c.rows - c.distinct, 0)
  results.acknowledgedMissing = lost
  results.storedTwice = doubled
  console.log(`  every acknowledged message stored, once (4 end-to-end runs, ${fmt(Object.values(checks).reduce((n, c) => n + c.acked, 0))} acknowledged): ${lost === 0 && doubled === 0 ? 'yes' : `NO: ${fmt(lost)} missing, ${fmt(doubled)} doubled`}`)
  const loadEnd = loadAverage()
  console.log(`load average at the end: ${loadEnd}`)
  console.log(`\nJSON ${JSON.stringify({ bench: 'ingest', machine: m, loadStart, loadEnd, quick, seconds: SECONDS, fastSeconds: FAST_SECONDS, offered: { fast: MAX_RATE, e2e: E2E_RATE }, connections: CONNECTIONS, generators: GENERATORS, inflight: INFLIGHT, ...results })}`)
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err)
  process.exit(1)
})
