// npm run bench:scale-out — what a second node adds, for both ways of running Kerbside at scale:
//   A. Kerbside's own broker: one, then two `kerbside broker` nodes sharing Redis, each committing its
//      own devices' messages before it answers PUBACK (bench/scale-out-nodes.ts; a private
//      redis-server for the run, so that nothing else on the machine shares it);
//   B. an external broker: one, then two `kerbside ingest` workers on one MQTT 5 shared subscription
//      of the machine's Mosquitto (standing in for EMQX or HiveMQ), into the same PostgreSQL server.
// Each pair runs without a CPU limit, then with a CPU quota per node or worker (see below).
//
// B in detail. A fleet of DEVICES bin sensors publishes QoS 1 readings to Mosquitto over CONNECTIONS raw TCP
// connections (frames encoded with mqtt-packet, written in bursts; Mosquitto here authenticates no
// one, and ingest checks every device against the registry itself). The fleet is visited in turn, so
// that a device's next reading comes only after every other device's — like a city's sensors, each
// reporting now and then — and no device ever has two readings in flight at once (see below).
// Mosquitto acknowledges a publish at once and, past a subscriber's window, queues at most
// max_queued_messages (1,000 by default) and then DROPS QoS 1 messages, so the publisher is paced by
// what the workers have processed (their /metrics): at most WINDOW messages published and not yet
// committed, inside one worker's receive maximum (INGEST_MAX_PENDING). The committed rate is then
// the workers' rate.
//
// Why one reading per device in flight: a shared subscription spreads one device's messages over
// the workers, and ingest's sequence bookkeeping (ingest/write-batch.ts) reads the device's last seq
// without a lock. Two workers with batches of the same device can both see the same last seq and
// open gaps from it; device_gaps is keyed by (device, after_seq) with ON CONFLICT DO NOTHING, so if
// the narrower gap is kept, messages still in flight for the wider one later find no gap and are
// refused as seq regressions. An early run of this benchmark with 200 devices, each 40 readings deep,
// stored 40,965 of 41,635 messages that the two workers had received (not reproduced in a later run
// of the same shape; the mechanism above is read from the code, not proven). A city's sensors report
// hourly, so this needs a device replaying a backlog fast; the default fleet reports in turn, and the
// quarantine count of each run is printed so that it shows if it happens. Each run checks that every message was stored exactly
// once, reads from each worker's /metrics how many it received, and measures the CPU of each party
// (workers, Mosquitto, the PostgreSQL backends of the database, the publisher, everything else) so
// that the bottleneck is named from figures, not guessed.
//
// On two cores, one unlimited node or worker with its broker, PostgreSQL and the publisher already
// keeps the machine most of the way busy, so a second one has little CPU left to add: that run
// measures the machine. The second set of runs gives each node or worker a CPU limit (a Linux cgroup,
// --worker-cpu, default a quarter of a core; bench/cgroup.ts), as a container's CPU limit does in
// production — one per pod, a few hundred millicores each — so that they, not the database or the
// machine, are the bottleneck, and the runs show what adding one adds. The cgroup needs root (the
// cpu controller under /sys/fs/cgroup/cpu); without it the limited runs are skipped with a note.
//
//   node --import tsx bench/scale-out.ts [--quick] [--seconds 20] [--workers 1,2] [--devices 20000] [--worker-cpu 0.25|none] [--only nodes|mosquitto]
// (--devices 200 puts 40 readings of each device in flight at once: the race described above)
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import mqtt from 'mqtt'
import { generate } from 'mqtt-packet'
import { silentLogger } from '../core/log.ts'
import { generateSecret } from '../core/secrets.ts'
import type { Database } from '../storage/database.ts'
import { provisionDevices } from '../storage/devices.ts'
import { openDatabase } from '../storage/open-database.ts'
import { createTestDatabase } from '../tests/helpers/postgres.ts'
import { cgroupsUsable, CGROUP_CPU, limitCpu, removeCgroup } from './cgroup.ts'
import { cpuMeter } from './cpu.ts'
import { runNodes, type NodeRun } from './scale-out-nodes.ts'
import { emitResult, fmtInt, freePort, loadAverage, machine, progress, quick, sleep, table } from './lib.ts'

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, seconds: { type: 'string' }, workers: { type: 'string' }, devices: { type: 'string' }, 'worker-cpu': { type: 'string' }, only: { type: 'string' } } })
const ROOT = join(import.meta.dirname, '..')
const MOSQUITTO = process.env.MOSQUITTO_URL ?? 'mqtt://127.0.0.1:1883'
const SECONDS = Number(values.seconds ?? (quick ? 8 : 20))
const WORKERS = (values.workers ?? '1,2').split(',').map(Number)
const DEVICES = Number(values.devices ?? (quick ? 10_000 : 20_000))
const CONNECTIONS = 50
const WINDOW = 8_000
const run = randomBytes(3).toString('hex') // Mosquitto keeps persistent sessions on disk: keep ours apart
const WORKER_CPU = values['worker-cpu'] === 'none' ? null : Number(values['worker-cpu'] ?? 0.25)
const ONLY = values.only
const NODE_CONNECTIONS = 200
const NODE_INFLIGHT = 20
const NODE_RATE = quick ? 20_000 : 40_000

interface Worker { proc: ChildProcess; clientId: string; opsPort: number; cgroup?: string }

async function startWorker(dbUrl: string, clientId: string, group: string, cpuLimit: number | null): Promise<Worker> {
  const opsPort = await freePort()
  const proc = spawn(process.execPath, [join(ROOT, 'cli', 'bin.js'), 'ingest'], {
    cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH, LOG_LEVEL: 'warn', DATABASE_URL: dbUrl, MQTT_URL: MOSQUITTO, INGEST_CLIENT_ID: clientId, INGEST_SHARED_GROUP: group,
      HTTP_HOST: '127.0.0.1', HTTP_PORT: String(opsPort), KERBSIDE_SERVICE_SECRET: generateSecret(), KERBSIDE_DATA_DIR: join(tmpdir(), 'kerbside-bench'),
    },
  })
  // Limited once ready: start-up (loading TypeScript) is not what is measured.
  for (let i = 0; i < 600; i++) {
    if ((await fetch(`http://127.0.0.1:${opsPort}/readyz`).catch(() => null))?.status === 200) {
      return { proc, clientId, opsPort, cgroup: cpuLimit === null ? undefined : limitCpu(proc.pid!, `kerbside-bench-${clientId}`, cpuLimit) }
    }
    if (proc.exitCode !== null) throw new Error(`ingest worker ${clientId} exited with ${proc.exitCode}`)
    await sleep(100)
  }
  throw new Error(`ingest worker ${clientId} did not become ready`)
}

async function stopWorker(w: Worker): Promise<void> {
  if (w.proc.exitCode === null) {
    w.proc.kill('SIGTERM')
    const killer = setTimeout(() => w.proc.kill('SIGKILL'), 15_000)
    await new Promise((r) => w.proc.once('exit', r))
    clearTimeout(killer)
  }
  if (w.cgroup) removeCgroup(w.cgroup)
  // Remove the persistent session it left on Mosquitto.
  const c = await mqtt.connectAsync(MOSQUITTO, { clientId: w.clientId, clean: true, protocolVersion: 5, properties: { sessionExpiryInterval: 0 } })
  await c.endAsync()
}

/** What a worker's /metrics say: messages received, still unacknowledged, and refused (quarantined). */
async function workerCounts(w: Worker): Promise<{ received: number; pending: number; rejected: number }> {
  const text = await (await fetch(`http://127.0.0.1:${w.opsPort}/metrics`)).text()
  const one = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? 0)
  const rejected = [...text.matchAll(/^kerbside_ingest_rejected_total\{[^}]*\} (\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0)
  return { received: one('kerbside_ingest_received_total'), pending: one('kerbside_ingest_pending_messages'), rejected }
}

/** Raw MQTT 3.1.1 connections that write pre-encoded QoS 1 PUBLISH frames, for a fleet visited in turn. */
async function connectFleet(prefix: string, ids: string[]) {
  const url = new URL(MOSQUITTO)
  const sockets = await Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(Number(url.port || 1883), url.hostname)
    s.once('error', reject)
    s.once('connect', () => s.write(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: `${prefix}pub-${i}`, keepalive: 120 })))
    s.once('data', (d) => { // CONNACK; afterwards PUBACKs, not needed: what the workers commit is the measure
      if (d[0] !== 0x20 || d[3] !== 0) reject(new Error(`publisher ${i}: connection refused`))
      s.on('data', () => {})
      resolve(s)
    })
  })))
  const seq = ids.map(() => 0)
  let next = 0
  let messageId = 0
  let published = 0
  const base = Date.now() - 86_400_000
  return {
    /** Publish n messages: the next n devices of the fleet, one reading each. */
    publish(n: number) {
      const frames: Buffer[][] = sockets.map(() => [])
      for (let k = 0; k < n; k++) {
        const d = next
        next = (next + 1) % ids.length
        const s = ++seq[d]!
        messageId = (messageId % 65_535) + 1
        const payload = `{"seq":${s},"ts":"${new Date(base + s * 60_000).toISOString()}","fillPct":${(s * 7 + d) % 101},"tempC":11.5,"batteryV":3.61}`
        frames[d % CONNECTIONS]!.push(generate({ cmd: 'publish', topic: `kerbside/v1/bins/${ids[d]}/reading`, payload, qos: 1, messageId, retain: false, dup: false }))
      }
      published += n
      frames.forEach((f, i) => { if (f.length > 0) sockets[i]!.write(Buffer.concat(f)) })
    },
    published: () => published,
    close: () => { for (const s of sockets) s.end(generate({ cmd: 'disconnect' })) },
  }
}

interface RunResult {
  workers: number
  /** Each worker's CPU limit in cores, or null for none. */
  workerCpu: number | null
  published: number
  stored: number
  distinct: number
  rate: number
  perWorker: number[]
  quarantined: number
  quarantineReasons: Record<string, number>
  cores: Record<string, number>
  machineBusyCores: number
}

async function runWith(db: Database, dbUrl: string, dbName: string, workers: number, workerCpu: number | null): Promise<RunResult> {
  const prefix = `so${run}w${workers}${workerCpu === null ? '' : 'l'}-`
  const ids = Array.from({ length: DEVICES }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`)
  for (let i = 0; i < ids.length; i += 5000) await provisionDevices(db, ids.slice(i, i + 5000).map((deviceId) => ({ deviceId, kind: 'bin' as const, secretHash: '!' })))
  const tag = `${run}-${workers}${workerCpu === null ? '' : 'l'}`
  const group = `kerbside-bench-${tag}`
  const ws: Worker[] = []
  for (let i = 0; i < workers; i++) ws.push(await startWorker(dbUrl, `kerbside-ingest-${tag}-${i}`, group, workerCpu))
  progress(`  ${workers} worker(s) ready${workerCpu === null ? '' : `, each limited to ${workerCpu} of a core`}; publishing for ${SECONDS} s, at most ${fmtInt(WINDOW)} messages published and not yet committed`)
  const devices = await connectFleet(prefix, ids)
  // Processed = received and acknowledged (committed, or refused into quarantine), over the workers.
  const committed = async () => (await Promise.all(ws.map(workerCounts))).reduce((a, c) => a + c.received - c.pending, 0)
  const pgPids = async () => (await db.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 OR backend_type <> 'client backend'`, [dbName])).rows.map((r) => r.pid)
  let pg = await pgPids()
  const mosquittoPid = (() => { try { return [Number(readFileSync('/run/mosquitto/mosquitto.pid', 'utf8'))] } catch { return [] } })()
  const meter = cpuMeter({
    'ingest workers': () => ws.map((w) => w.proc.pid!),
    mosquitto: () => mosquittoPid,
    'PostgreSQL (this database)': () => pg,
    publisher: () => [process.pid],
  })

  // Warm-up: 2 s at the window, not measured.
  const until = (ms: number) => performance.now() + ms
  const pump = async (end: number, onSecond?: (done: number) => void) => {
    let last = await committed()
    let nextSecond = performance.now() + 1000
    while (performance.now() < end) {
      const done = await committed()
      const room = WINDOW - (devices.published() - done)
      if (room > 0) devices.publish(Math.min(room, 4_000))
      if (performance.now() >= nextSecond) { onSecond?.(done - last); last = done; nextSecond += 1000 }
      await sleep(20)
    }
  }
  await pump(until(2000))
  const samples: number[] = []
  pg = await pgPids()
  meter.start()
  await pump(until(SECONDS * 1000), (n) => {
    samples.push(n)
    if (samples.length % 5 === 0) progress(`    ${samples.length} s: ${fmtInt(n)} msg/s committed`)
  })
  pg = [...new Set([...pg, ...await pgPids()])]
  const cpu = meter.stop()
  const published = devices.published()
  devices.close()
  // Let the workers drain what is in flight, then check every message is stored exactly once.
  const count = async () => (await db.query<{ n: number; d: number }>(
    `SELECT count(*)::int AS n, count(DISTINCT (device_id, seq))::int AS d FROM bin_readings WHERE device_id LIKE $1`, [`${prefix}%`])).rows[0]!
  for (let i = 0; i < 600 && (await committed()) < published; i++) await sleep(100)
  const c = await count()
  const counts = await Promise.all(ws.map(workerCounts))
  const { rows: reasons } = await db.query<{ reason: string; n: number }>(
    `SELECT reason, count(*)::int AS n FROM quarantine WHERE device_id LIKE $1 GROUP BY reason ORDER BY reason`, [`${prefix}%`])
  const perWorker = counts.map((c) => c.received)
  for (const w of ws) await stopWorker(w)
  const middle = samples.slice(Math.floor(samples.length * 0.1))
  return {
    workers, workerCpu, published, stored: c.n, distinct: c.d, perWorker, quarantined: counts.reduce((a, x) => a + x.rejected, 0), quarantineReasons: Object.fromEntries(reasons.map((r) => [r.reason, r.n])),
    rate: middle.reduce((a, b) => a + b, 0) / Math.max(1, middle.length),
    cores: cpu.cores, machineBusyCores: cpu.machineBusyCores,
  }
}

/** A redis-server of the run's own: nothing else on the machine shares its keys or its pub/sub. */
async function startRedis(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const port = await freePort()
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return
    proc.kill('SIGTERM')
    await new Promise((r) => proc.once('exit', r))
  }
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true) })
      s.once('error', () => resolve(false))
    })
    if (up) return { url: `redis://127.0.0.1:${port}`, pid: proc.pid!, stop }
    if (proc.exitCode !== null) break
    await sleep(100)
  }
  await stop()
  throw new Error('redis-server did not start (is it installed?)')
}

const loadStart = loadAverage()
console.log(`# Scale-out: Kerbside broker nodes on Redis, and ingest workers on MQTT 5 shared subscriptions (Mosquitto), into PostgreSQL — ${new Date().toISOString()}`)
console.log(`machine: ${machine()}; load average at the start ${loadStart}`)
console.log(`A. broker nodes: ${fmtInt(NODE_CONNECTIONS)} device connections, QoS 1 JSON readings, at most ${NODE_INFLIGHT} unacknowledged each, offered up to ${fmtInt(NODE_RATE)} msg/s; runs of ${SECONDS} s`)
console.log(`B. ingest workers: ${fmtInt(DEVICES)} devices over ${CONNECTIONS} connections, QoS 1 JSON readings; runs of ${SECONDS} s after 2 s of warm-up; broker ${MOSQUITTO}`)
const server = await createTestDatabase()
const dbName = new URL(server.url).pathname.slice(1)
const db = await openDatabase({ url: server.url, logger: silentLogger })
const results: RunResult[] = []
const nodeRuns: NodeRun[] = []
const limits: (number | null)[] = [null]
if (WORKER_CPU !== null) {
  if (cgroupsUsable(run)) limits.push(WORKER_CPU)
  else console.log(`(the runs with a CPU limit per node or worker are skipped: cannot create cgroups under ${CGROUP_CPU}; run as root on Linux with the cgroup v1 cpu controller)`)
}
const limitName = (l: number | null) => (l === null ? 'no limit' : `${l} core each`)
try {
  if (ONLY !== 'mosquitto') {
    const redis = await startRedis()
    const dataDir = mkdtempSync(join(tmpdir(), 'kb-scale-'))
    try {
      const bench = { db, dbUrl: server.url, dbName, redisUrl: redis.url, redisPid: redis.pid, tag: run, seconds: SECONDS, connections: NODE_CONNECTIONS, inflight: NODE_INFLIGHT, rate: NODE_RATE, dataDir }
      for (const limit of limits) {
        for (const n of WORKERS) {
          progress(`${n} broker node(s) on Redis, ${limitName(limit)}:`)
          const r = await runNodes(bench, n, limit)
          nodeRuns.push(r)
          progress(`  ${fmtInt(r.rate)} msg/s; ${fmtInt(r.check.found)} of ${fmtInt(r.check.acked)} acknowledged stored`)
        }
      }
    } finally {
      await redis.stop()
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
  if (ONLY !== 'nodes') {
    for (const limit of limits) {
      for (const n of WORKERS) {
        progress(`${n} ingest worker(s) on Mosquitto, ${limitName(limit)}:`)
        results.push(await runWith(db, server.url, dbName, n, limit))
        const r = results[results.length - 1]!
        progress(`  ${fmtInt(r.rate)} msg/s; ${fmtInt(r.stored)} stored of ${fmtInt(r.published)} published; received per worker ${r.perWorker.map(fmtInt).join(', ')}; quarantined ${JSON.stringify(r.quarantineReasons)}`)
      }
    }
  }
} finally {
  await db.close()
  await server.drop()
}

/** Two / one, and what bounded the pair, from the CPU figures of the run with two. */
function ratio<R extends { cores: Record<string, number>; machineBusyCores: number; rate: number }>(one: R | undefined, two: R | undefined, limit: number | null, party: string, what: string): number | null {
  if (!one || !two) return null
  const speedup = two.rate / one.rate
  const busy = two.machineBusyCores / 2
  const bound = limit !== null && (two.cores[party] ?? 0) >= 0.9 * 2 * limit
  const bottleneck = limit === null
    ? (busy >= 0.9 ? `the machine: its cores were ${(busy * 100).toFixed(0)} % busy with two` : `not the machine (${(busy * 100).toFixed(0)} % busy)`)
    : (bound ? `the ${what} (each used its whole CPU limit)` : `not the ${what} alone (they did not use their whole limit)`)
  const others = Object.entries(two.cores).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')
  console.log(`${limitName(limit)}: two ${what} / one ${speedup.toFixed(2)} ×; bottleneck ${bottleneck}; cores with two: ${others}; the machine ${two.machineBusyCores.toFixed(2)} of 2`)
  return speedup
}

const nodeSpeedups: Record<string, number> = {}
if (nodeRuns.length > 0) {
  const parties = Object.keys(nodeRuns[0]!.cores)
  console.log('\nA. Kerbside broker nodes sharing Redis, each committing its own devices (PUBACK after commit)\n' + table(
    ['nodes', 'CPU limit per node', 'committed msg/s', 'acknowledged', 'found stored', 'each once', ...parties.map((p) => `${p} (cores)`), 'other processes', 'machine busy (of 2)'],
    nodeRuns.map((r) => {
      const ours = Object.values(r.cores).reduce((a, b) => a + b, 0)
      return [r.nodes, r.nodeCpu === null ? 'none' : `${r.nodeCpu} core`, fmtInt(r.rate), fmtInt(r.check.acked), fmtInt(r.check.found), r.check.rows === r.check.distinct ? 'yes' : 'NO',
        ...parties.map((p) => r.cores[p]!.toFixed(2)), Math.max(0, r.machineBusyCores - ours).toFixed(2), r.machineBusyCores.toFixed(2)]
    }),
  ) + '\n')
  for (const limit of limits) {
    const s = ratio(nodeRuns.find((r) => r.nodes === 1 && r.nodeCpu === limit), nodeRuns.find((r) => r.nodes === 2 && r.nodeCpu === limit), limit, 'broker nodes', 'broker nodes')
    if (s !== null) nodeSpeedups[limit === null ? 'unlimited' : 'limited'] = s
  }
  for (const r of nodeRuns) console.log(`CPU per 1,000 messages, ${r.nodes} node(s), ${limitName(r.nodeCpu)}: ${Object.entries(r.cpuPerThousand).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')} core-seconds`)
  const lost = nodeRuns.reduce((n, r) => n + r.check.missing, 0)
  console.log(`every acknowledged message stored, once: ${lost === 0 && nodeRuns.every((r) => r.check.rows === r.check.distinct) ? 'yes' : `NO (${fmtInt(lost)} missing)`}`)
}
const speedups: Record<string, number> = {}
if (results.length > 0) {
  const parties = Object.keys(results[0]!.cores)
  console.log('\nB. kerbside ingest workers on one MQTT 5 shared subscription of Mosquitto\n' + table(
    ['workers', 'CPU limit per worker', 'committed msg/s', 'published', 'stored', 'each once', 'quarantined', 'received per worker', ...parties.map((p) => `${p} (cores)`), 'other processes', 'machine busy (of 2)'],
    results.map((r) => {
      const ours = Object.values(r.cores).reduce((a, b) => a + b, 0)
      return [r.workers, r.workerCpu === null ? 'none' : `${r.workerCpu} core`, fmtInt(r.rate), fmtInt(r.published), fmtInt(r.stored), r.stored === r.published && r.distinct === r.stored ? 'yes' : 'NO', fmtInt(r.quarantined), r.perWorker.map(fmtInt).join(' / '),
        ...parties.map((p) => r.cores[p]!.toFixed(2)), Math.max(0, r.machineBusyCores - ours).toFixed(2), r.machineBusyCores.toFixed(2)]
    }),
  ) + '\n')
  for (const limit of limits) {
    const s = ratio(results.find((r) => r.workers === 1 && r.workerCpu === limit), results.find((r) => r.workers === 2 && r.workerCpu === limit), limit, 'ingest workers', 'ingest workers')
    if (s !== null) speedups[limit === null ? 'unlimited' : 'limited'] = s
  }
}
for (const [name, s] of [['broker nodes', nodeSpeedups.limited], ['ingest workers', speedups.limited]] as const) {
  if (s !== undefined) console.log(`target ≥ 1.5 × with a CPU limit each (${name}): ${s >= 1.5 ? 'met' : 'NOT met'} (${s.toFixed(2)} ×)`)
}
const speedup = speedups.limited ?? speedups.unlimited ?? NaN
const loadEnd = loadAverage()
console.log(`load average at the end: ${loadEnd}`)
emitResult({ bench: 'scale-out', machine: machine(), loadStart, loadEnd, quick, seconds: SECONDS, devices: DEVICES, window: WINDOW, workerCpu: WORKER_CPU, results, speedup, speedups, nodes: nodeRuns, nodeSpeedups })
process.exit(0)
