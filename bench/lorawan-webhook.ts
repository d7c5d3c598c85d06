// bench:lorawan — LoRaWAN webhook uplinks end to end: The Things Stack messages POSTed to
// /api/v1/lorawan/ttn of a real Kerbside (`kerbside start`, a child process), each answered only
// after its reading is committed. Prints, on the embedded database and on PostgreSQL:
//   - throughput: uplinks/s answered 200 "stored", closed loop with CONCURRENCY requests in flight;
//   - latency at 500 uplinks/s offered (open loop): p50/p90/p99/max of the time to the 2xx.
// Every uplink is a new (device, FCnt); the answers are checked (stored, one per uplink).
// --quick for a smoke run.
import { spawn } from 'node:child_process'
import { Agent, request } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateSecret } from '../core/secrets.ts'
import { ttsUplink } from '../simulators/lorawan/envelopes.ts'
import { createTestDatabase } from '../tests/helpers/postgres.ts'
import { emitResult, fmtInt, freePort, loadAverage, machine, percentiles, progress, quick, sleep, table } from './lib.ts'

const ROOT = join(import.meta.dirname, '..')
const DEVICES = quick ? 20 : 200
const THROUGHPUT_SECONDS = quick ? 3 : 20
const CONCURRENCY = 64
const RATE = 500
const LATENCY_SECONDS = quick ? 3 : 20
const SECRET = generateSecret()
const ADMIN = generateSecret()
// An EM310-UDL frame as its README defines it: battery 92 %, distance 520 mm, upright.
const FRAME = Buffer.from('01755C03820802040000', 'hex')

interface Tier { name: string; env: Record<string, string>; cleanup: () => Promise<void> }

async function startKerbside(env: Record<string, string>) {
  const httpPort = await freePort()
  const proc = spawn(process.execPath, [join(ROOT, 'cli', 'bin.js'), 'start'], {
    cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'],
    env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', KERBSIDE_ADMIN_KEY: ADMIN, KERBSIDE_JOBS: 'false', HTTP_HOST: '127.0.0.1', MQTT_HOST: '127.0.0.1', MQTT_PORT: String(await freePort()), MQTT_WS_PORT: '0', HTTP_PORT: String(httpPort), HTTP_RATE_LIMIT_PER_MINUTE: '100000', MAP_SNAPSHOT_SECONDS: '0', LORAWAN_TTN_SECRET: SECRET, ...env },
  })
  for (let i = 0; ; i++) {
    const res = await fetch(`http://127.0.0.1:${httpPort}/readyz`).catch(() => null)
    if (res?.status === 200) break
    if (i > 1200 || proc.exitCode !== null) throw new Error('Kerbside did not become ready')
    await sleep(100)
  }
  return {
    url: `http://127.0.0.1:${httpPort}`,
    stop: async () => { if (proc.exitCode === null) { proc.kill('SIGTERM'); await new Promise((r) => proc.once('exit', r)) } },
  }
}

async function seed(url: string): Promise<string[]> {
  const auth = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }
  const households = Array.from({ length: DEVICES }, (_, i) => ({ uprn: 200000000000 + i, address: `${i + 1} Bench Road`, street: 'Bench Road', postcode: 'L1 1AA', ward: 'Central', lat: 53.4 + i / 1e5, lon: -2.99 }))
  const bins = households.map((h, i) => ({ binId: `lw-bin-${i}`, uprn: h.uprn, stream: 'residual', rfidTag: null, capacityL: 240, colour: null, sensorDeviceId: null }))
  const res = await fetch(`${url}/api/v1/registry/import`, { method: 'POST', headers: auth, body: JSON.stringify({ households, bins }) })
  if (res.status !== 200) throw new Error(`registry import: ${res.status} ${await res.text()}`)
  const euis: string[] = []
  for (let i = 0; i < DEVICES; i++) {
    const devEui = `24E1247100${i.toString(16).toUpperCase().padStart(6, '0')}`
    const r = await fetch(`${url}/api/v1/lorawan/devices/${devEui}`, { method: 'PUT', headers: auth, body: JSON.stringify({ model: 'milesight-em310-udl', binId: `lw-bin-${i}` }) })
    if (r.status !== 201) throw new Error(`register ${devEui}: ${r.status} ${await r.text()}`)
    euis.push(devEui)
  }
  return euis
}

const agent = new Agent({ keepAlive: true, maxSockets: 512 })

/** POST one uplink; resolves with the status, the outcome and the milliseconds to the full answer. */
function postUplink(url: string, body: string): Promise<{ status: number; outcome: string; ms: number }> {
  const t0 = performance.now()
  return new Promise((resolve) => {
    const req = request(`${url}/api/v1/lorawan/ttn`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-kerbside-secret': SECRET } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        let outcome = 'unreadable'
        try { outcome = (JSON.parse(Buffer.concat(chunks).toString()) as { outcome?: string }).outcome ?? 'none' } catch { /* counted as unreadable */ }
        resolve({ status: res.statusCode ?? 0, outcome, ms: performance.now() - t0 })
      })
    })
    req.on('error', (err) => resolve({ status: 0, outcome: err.message, ms: performance.now() - t0 }))
    req.end(body)
  })
}

/** Uplinks in turn over the devices, each with the device's next FCnt and its own network-server time. */
function uplinkSource(euis: string[]) {
  const fCnt = new Map<string, number>()
  let n = 0
  const base = Date.now() - 3_600_000
  return () => {
    const devEui = euis[n % euis.length]!
    const f = (fCnt.get(devEui) ?? 0) + 1
    fCnt.set(devEui, f)
    n++
    return JSON.stringify(ttsUplink({ devEui, fCnt: f, fPort: 85, payload: FRAME, receivedAt: new Date(base + n), gateways: 2 }))
  }
}

const tally = (results: { status: number; outcome: string }[]) => {
  const out: Record<string, number> = {}
  for (const r of results) out[`${r.status} ${r.outcome}`] = (out[`${r.status} ${r.outcome}`] ?? 0) + 1
  return out
}

async function throughput(url: string, next: () => string) {
  const results: { status: number; outcome: string; ms: number }[] = []
  const until = performance.now() + THROUGHPUT_SECONDS * 1000
  const t0 = performance.now()
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < until) results.push(await postUplink(url, next()))
  }))
  const seconds = (performance.now() - t0) / 1000
  const stored = results.filter((r) => r.status === 200 && r.outcome === 'stored').length
  return { rate: stored / seconds, stored, sent: results.length, outcomes: tally(results), latency: percentiles(results.map((r) => r.ms)) }
}

async function latencyAt(url: string, next: () => string) {
  const pending: Promise<{ status: number; outcome: string; ms: number }>[] = []
  const t0 = performance.now()
  const total = RATE * LATENCY_SECONDS
  // Open loop: each uplink leaves at its own time whatever the answers before it did.
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / RATE
    const wait = due - performance.now()
    if (wait > 1) await sleep(wait)
    pending.push(postUplink(url, next()))
  }
  const offeredFor = (performance.now() - t0) / 1000
  const results = await Promise.all(pending)
  const stored = results.filter((r) => r.status === 200 && r.outcome === 'stored').length
  return { offered: total / offeredFor, stored, sent: results.length, outcomes: tally(results), latency: percentiles(results.map((r) => r.ms)) }
}

async function main() {
  console.log(`bench:lorawan — webhook uplinks end to end (HTTP 200 = committed). ${machine()}; load ${loadAverage()}`)
  const tiers: Tier[] = []
  const dir = mkdtempSync(join(tmpdir(), 'kerbside-bench-lorawan-'))
  tiers.push({ name: 'embedded (PGlite)', env: { KERBSIDE_DATA_DIR: join(dir, 'embedded') }, cleanup: async () => {} })
  try {
    const tdb = await createTestDatabase()
    tiers.push({ name: 'PostgreSQL', env: { KERBSIDE_DATA_DIR: join(dir, 'pg'), DATABASE_URL: tdb.url }, cleanup: () => tdb.drop() })
  } catch (err) {
    console.log(`(PostgreSQL not reachable, skipped: ${(err as Error).message})`)
  }
  const rows: (string | number)[][] = []
  const result: Record<string, unknown> = { bench: 'lorawan', devices: DEVICES }
  try {
    for (const tier of tiers) {
      progress(`${tier.name}: starting Kerbside`)
      const k = await startKerbside(tier.env)
      try {
        progress(`${tier.name}: registering ${DEVICES} sensors`)
        const next = uplinkSource(await seed(k.url))
        progress(`${tier.name}: throughput, ${CONCURRENCY} in flight for ${THROUGHPUT_SECONDS} s`)
        const tp = await throughput(k.url, next)
        progress(`${tier.name}: ${RATE} uplinks/s for ${LATENCY_SECONDS} s`)
        const lat = await latencyAt(k.url, next)
        for (const [what, r] of [['throughput', tp], [`at ${RATE}/s`, lat]] as const) {
          if (r.stored !== r.sent) console.log(`   ${tier.name} ${what}: not all stored: ${JSON.stringify(r.outcomes)}`)
        }
        rows.push([tier.name, fmtInt(tp.rate), tp.latency.p99.toFixed(1), fmtInt(lat.offered), lat.latency.p50.toFixed(1), lat.latency.p90.toFixed(1), lat.latency.p99.toFixed(1), lat.latency.max.toFixed(1), `${lat.stored}/${lat.sent}`])
        result[tier.name.startsWith('PostgreSQL') ? 'postgres' : 'embedded'] = { uplinksPerSecond: Math.round(tp.rate), closedLoopP99Ms: tp.latency.p99, at500: { offered: lat.offered, p50Ms: lat.latency.p50, p90Ms: lat.latency.p90, p99Ms: lat.latency.p99, maxMs: lat.latency.max, stored: lat.stored, sent: lat.sent } }
      } finally {
        await k.stop()
        await tier.cleanup()
      }
    }
  } finally {
    agent.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
  console.log(table(['database', 'uplinks/s', 'p99 ms (64 in flight)', 'offered/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'stored'], rows))
  emitResult(result)
}

await main()
