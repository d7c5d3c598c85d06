// /metrics of every process shape — the all-in-one `kerbside start`, and the distributed `kerbside
// broker`, `kerbside ingest` and `kerbside api` on the machine's PostgreSQL — as Prometheus' own
// linter reads it: each exposition is piped into `promtool check metrics` (Debian's prometheus
// package), and any finding fails the test. Without promtool the test fails, saying how to get it.
import { spawn, spawnSync } from 'node:child_process'
import { afterAll, describe, expect, test } from 'vitest'
import { kerbsideProcess, removeDir, tempDir, type KerbsideProcess } from '../helpers/crash-harness.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts'

const PROMTOOL = process.env.PROMTOOL ?? 'promtool'

/** promtool's findings on an exposition: empty when it passes (exit 0, nothing said). */
function promtoolFindings(exposition: string): Promise<{ code: number | null; findings: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PROMTOOL, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (c: Buffer) => { out += c.toString() })
    child.stderr.on('data', (c: Buffer) => { out += c.toString() })
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, findings: out.split('\n').map((l) => l.trim()).filter(Boolean) }))
    child.stdin.end(exposition)
  })
}

const procs: KerbsideProcess[] = []
const dirs: string[] = []
let pgdb: TestDatabase | undefined

/** promtool must be there: each test fails (not skips) without it, saying how to install it. */
function requirePromtool(): void {
  const version = spawnSync(PROMTOOL, ['--version'], { encoding: 'utf8' })
  if (version.error || version.status !== 0) {
    throw new Error(`promtool is needed to check /metrics and was not found (${version.error?.message ?? `exit ${version.status}`}). `
      + 'Install it with Debian\'s prometheus package: apt-get install -y prometheus (it provides /usr/bin/promtool; stop the prometheus service it may start), or set PROMTOOL to its path.')
  }
}

afterAll(async () => {
  for (const p of procs.reverse()) if (p.running()) await p.kill('SIGTERM').catch(() => undefined)
  await pgdb?.drop()
  for (const d of dirs) removeDir(d)
})

async function started(name: string, command: 'start' | 'broker' | 'ingest' | 'api', dataDir: string, env: Record<string, string> = {}): Promise<KerbsideProcess> {
  const p = await kerbsideProcess({ name, command, dataDir, env: { LOG_LEVEL: 'warn', ...env } })
  procs.push(p)
  await p.start()
  return p
}

async function expectPromtoolPasses(p: KerbsideProcess): Promise<void> {
  requirePromtool()
  const res = await fetch(`http://127.0.0.1:${p.httpPort}/metrics`)
  expect(res.status).toBe(200)
  const text = await res.text()
  expect(text).toMatch(/^# HELP kerbside_/m)
  const { code, findings } = await promtoolFindings(text)
  expect(findings, `${p.name}: promtool check metrics`).toEqual([])
  expect(code, `${p.name}: promtool exit code`).toBe(0)
}

describe('promtool check metrics on every process shape', () => {
  test('the check can fail: promtool reports a gauge named like a counter', async () => {
    requirePromtool()
    const bad = '# HELP kerbside_nodejs_active_handles_total Number of active libuv handles.\n# TYPE kerbside_nodejs_active_handles_total gauge\nkerbside_nodejs_active_handles_total 3\n'
    const { code, findings } = await promtoolFindings(bad)
    expect(code).not.toBe(0)
    expect(findings.join('\n')).toContain('non-counter metrics should not have "_total" suffix')
  })

  test('all-in-one: kerbside start (embedded database)', async () => {
    requirePromtool()
    const dir = tempDir('promtool-start')
    dirs.push(dir)
    await expectPromtoolPasses(await started('kerbside start', 'start', dir))
  }, 180_000)

  test('distributed on PostgreSQL: kerbside broker, kerbside ingest, kerbside api', async () => {
    requirePromtool()
    pgdb = await createTestDatabase()
    // One data folder: the service secret the broker generates there is the one ingest and the API sign in with.
    const dir = tempDir('promtool-distributed')
    dirs.push(dir)
    const broker = await started('kerbside broker', 'broker', dir, { DATABASE_URL: pgdb.url })
    const env = { DATABASE_URL: pgdb.url, MQTT_URL: broker.mqttUrl }
    const ingest = await started('kerbside ingest', 'ingest', dir, env)
    const api = await started('kerbside api', 'api', dir, env)
    for (const p of [broker, ingest, api]) await expectPromtoolPasses(p)
  }, 240_000)
})
