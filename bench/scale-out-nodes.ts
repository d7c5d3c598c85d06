// bench:scale-out, Kerbside's own broker: one, then two `kerbside broker` nodes sharing Redis
// (MQTT_PERSISTENCE=redis, mqemitter-redis between the nodes), each committing its own devices'
// messages to one PostgreSQL database before it answers PUBACK. Devices are split over the nodes (one
// load-generator process per node at least); the rate is the PUBACKs per second over the middle of
// the run, every acknowledged message is then looked up in the database, and the CPU of each party
// (the nodes, Redis, PostgreSQL, the generators) is measured to name the bottleneck.
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { generateSecret } from '../core/secrets.ts'
import type { Database } from '../storage/database.ts'
import { limitCpu, removeCgroup } from './cgroup.ts'
import { checkStored, deviceIds, provisionFleet, runDevices, type StoredCheck } from './device-load.ts'
import { freePort, progress, sleep } from './lib.ts'

const ROOT = join(import.meta.dirname, '..')

export interface NodeRun {
  nodes: number
  /** Each node's CPU limit in cores, or null for none. */
  nodeCpu: number | null
  rate: number
  sent: number
  acked: number
  check: StoredCheck
  cores: Record<string, number>
  /** CPU seconds per 1,000 acknowledged messages, by party. */
  cpuPerThousand: Record<string, number>
  machineBusyCores: number
}

export interface NodeBench {
  db: Database
  dbUrl: string
  dbName: string
  redisUrl: string
  redisPid: number | null
  tag: string
  seconds: number
  connections: number
  inflight: number
  rate: number
  dataDir: string
}

interface Node { proc: ChildProcess; mqttPort: number; cgroup?: string }

async function startNode(b: NodeBench, i: number, secret: string, cpu: number | null, label: string): Promise<Node> {
  const [mqttPort, opsPort] = [await freePort(), await freePort()]
  const proc = spawn(process.execPath, [join(ROOT, 'cli', 'bin.js'), 'broker'], {
    cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH, LOG_LEVEL: 'warn', DATABASE_URL: b.dbUrl, MQTT_PERSISTENCE: 'redis', REDIS_URL: b.redisUrl,
      MQTT_HOST: '127.0.0.1', MQTT_PORT: String(mqttPort), MQTT_WS_PORT: '0', HTTP_HOST: '127.0.0.1', HTTP_PORT: String(opsPort),
      KERBSIDE_SERVICE_SECRET: secret, KERBSIDE_ADMIN_KEY: generateSecret(), KERBSIDE_DATA_DIR: join(b.dataDir, `node-${i}`), KERBSIDE_JOBS: 'false',
    },
  })
  for (let k = 0; k < 900; k++) {
    if ((await fetch(`http://127.0.0.1:${opsPort}/readyz`).catch(() => null))?.status === 200) {
      // Limited once ready: start-up (loading TypeScript, migrations) is not what is measured.
      return { proc, mqttPort, cgroup: cpu === null ? undefined : limitCpu(proc.pid!, `kerbside-bench-${b.tag}-${label}-${i}`, cpu) }
    }
    if (proc.exitCode !== null) throw new Error(`broker node ${i} exited with ${proc.exitCode}`)
    await sleep(100)
  }
  throw new Error(`broker node ${i} did not become ready`)
}

async function stopNode(n: Node): Promise<void> {
  if (n.proc.exitCode === null && n.proc.signalCode === null) {
    n.proc.kill('SIGTERM')
    const killer = setTimeout(() => n.proc.kill('SIGKILL'), 20_000)
    await new Promise((r) => n.proc.once('exit', r))
    clearTimeout(killer)
  }
  if (n.cgroup) removeCgroup(n.cgroup)
}

export async function runNodes(b: NodeBench, nodes: number, nodeCpu: number | null): Promise<NodeRun> {
  const label = `n${nodes}${nodeCpu === null ? '' : 'l'}`
  const prefix = `so${b.tag}${label}-`
  const ids = deviceIds(prefix, b.connections)
  const secret = generateSecret()
  await provisionFleet(b.db, ids, secret)
  const serviceSecret = generateSecret() // one for the cluster: the nodes' own sessions share it
  const ns: Node[] = []
  try {
    for (let i = 0; i < nodes; i++) ns.push(await startNode(b, i, serviceSecret, nodeCpu, label))
    const pgPids = async () => (await b.db.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [b.dbName])).rows.map((r) => r.pid)
    let pg = await pgPids()
    const refresh = setInterval(() => void pgPids().then((p) => { pg = p }, () => undefined), 500)
    progress(`  ${nodes} broker node(s) on Redis ready${nodeCpu === null ? '' : `, each limited to ${nodeCpu} of a core`}; devices publishing for ${b.seconds} s`)
    const r = await runDevices({
      urls: ns.map((n) => `mqtt://127.0.0.1:${n.mqttPort}`), ids, secret, rate: b.rate, seconds: b.seconds, generators: Math.max(2, nodes), inflight: b.inflight,
      parties: { 'broker nodes': () => ns.map((n) => n.proc.pid!), Redis: () => (b.redisPid ? [b.redisPid] : []), PostgreSQL: () => pg },
      startingDuring: ['PostgreSQL'],
    })
    clearInterval(refresh)
    const check = await checkStored(b.db, prefix, r.ackedRanges)
    return { nodes, nodeCpu, rate: r.rate, sent: r.sent, acked: r.acked, check, cores: r.cores, cpuPerThousand: r.cpuPerThousand, machineBusyCores: r.machineBusyCores }
  } finally {
    for (const n of ns) await stopNode(n)
  }
}
