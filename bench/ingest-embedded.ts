// node --import tsx bench/ingest-embedded.ts — the embedded half of bench:ingest alone, in about
// 90 s instead of five minutes, to catch a quiet window on a shared machine: the ceiling (Kerbside's
// broker acknowledging without storing, bench/ceiling-broker.ts) and end to end on `kerbside start`
// (broker, pipeline, API and the embedded TimescaleDB in one process, PUBACK after commit), the
// same devices, offer and checks as bench/ingest.ts (every acknowledged (device, seq) looked up
// afterwards), with the CPU of each party and the load average at the start and the end.
// BENCH_CPU_PROF_DIR=dir writes V8 CPU profiles of the broker-side processes (the engine's worker
// thread gets a file of its own).
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { silentLogger } from '../core/log.ts'
import { generateSecret } from '../core/secrets.ts'
import { openDatabase } from '../storage/open-database.ts'
import { checkStored, coresLine, deviceIds, provisionFleet, runDevices, storedLine } from './device-load.ts'
import { fmtInt as fmt, freePort, loadAverage, machine, sleep } from './lib.ts'

const ROOT = join(import.meta.dirname, '..')
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15)
const FAST_SECONDS = Number(process.env.BENCH_FAST_SECONDS ?? 10)
const CONNECTIONS = 200
const INFLIGHT = 20
const deviceSecret = generateSecret()
const profile = process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`] : []

function child(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [...profile, ...args], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'],
    env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', KERBSIDE_SERVICE_SECRET: generateSecret(), KERBSIDE_ADMIN_KEY: generateSecret(), KERBSIDE_JOBS: 'false', HTTP_HOST: '127.0.0.1', MQTT_HOST: '127.0.0.1', ...env },
  })
}
const stop = async (p: ChildProcess) => {
  if (p.exitCode !== null || p.signalCode !== null) return
  p.kill('SIGTERM')
  await new Promise((r) => p.once('exit', r))
}
const devices = (port: number, prefix: string, rate: number, seconds: number, parties: Record<string, () => number[]>) =>
  runDevices({ urls: [`mqtt://127.0.0.1:${port}`], ids: deviceIds(prefix, CONNECTIONS), secret: deviceSecret, rate, seconds, generators: 2, inflight: INFLIGHT, parties })

const dataDir = mkdtempSync(join(tmpdir(), 'kb-bench-embedded-'))
const folder = join(dataDir, 'embedded')
try {
  const loadStart = loadAverage()
  console.log(`# embedded ingest — ${new Date().toISOString()}\nmachine: ${machine()}; load average at the start ${loadStart}`)
  const seed = await openDatabase({ dataDir: folder, logger: silentLogger })
  for (const prefix of ['c-', 'e-']) await provisionFleet(seed, deviceIds(prefix, CONNECTIONS), deviceSecret)
  await seed.close()

  const ceilingBroker = child(['--import', 'tsx', join(ROOT, 'bench', 'ceiling-broker.ts')], { KERBSIDE_DATA_DIR: folder, MQTT_PORT: String(await freePort()) })
  const line = await new Promise<string>((resolve) => createInterface({ input: ceilingBroker.stdout! }).once('line', resolve))
  const ceiling = await devices((JSON.parse(line) as { mqttPort: number }).mqttPort, 'c-', 100_000, FAST_SECONDS, { broker: () => [ceilingBroker.pid!] })
  await stop(ceilingBroker)
  console.log(`ceiling (the broker acknowledging without storing): ${fmt(ceiling.rate)} msg/s; cores: ${coresLine(ceiling)}; broker ${ceiling.cpuPerThousand.broker!.toFixed(3)} core-s per 1,000`)

  const [mqttPort, httpPort] = [await freePort(), await freePort()]
  const stack = child([join(ROOT, 'cli', 'bin.js'), 'start'], { KERBSIDE_DATA_DIR: folder, MQTT_PORT: String(mqttPort), MQTT_WS_PORT: '0', HTTP_PORT: String(httpPort) })
  for (let i = 0; i < 900 && (await fetch(`http://127.0.0.1:${httpPort}/readyz`).catch(() => null))?.status !== 200; i++) await sleep(100)
  const r = await devices(mqttPort, 'e-', 50_000, SECONDS, { 'kerbside start': () => [stack.pid!] })
  await stop(stack)
  const again = await openDatabase({ dataDir: folder, logger: silentLogger })
  const check = await checkStored(again, 'e-', r.ackedRanges)
  await again.close()
  console.log(`end to end, embedded (kerbside start, PUBACK after commit): ${fmt(r.rate)} msg/s (${(r.rate / ceiling.rate).toFixed(2)} × the ceiling); ${storedLine(check)}; publish→PUBACK p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms; cores: ${coresLine(r)}; kerbside start ${r.cpuPerThousand['kerbside start']!.toFixed(3)} core-s per 1,000`)
  console.log(`load average at the end: ${loadAverage()}`)
  if (check.missing > 0 || check.rows !== check.distinct) process.exitCode = 1
} finally {
  rmSync(dataDir, { recursive: true, force: true })
}
process.exit()
