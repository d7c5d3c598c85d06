// The first hour, timed: `kerbside demo` on a fresh data folder, and the seconds until the API
// answers with populated KPIs (the past weeks worked out) and until a first live lift (one made
// after the demo went live, not one of the replayed past's) reaches the dashboard's live feed. Prints figures; asserts nothing. Target: under 60 s.
//
//   npm run bench:demo [-- --households 1200]
//   FAKETIME='@2026-12-11 23:30:00' LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 npm run bench:demo   (another moment)
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import WebSocket from 'ws'
import { freePort, loadAverage, sleep } from './lib.ts'

const { values } = parseArgs({ options: { households: { type: 'string', default: '1200' }, 'timeout-s': { type: 'string', default: '600' } } })

const dir = mkdtempSync(join(tmpdir(), 'kerbside-bench-demo-'))
const [mqtt, ws, http] = [await freePort(), await freePort(), await freePort()]
const base = `http://127.0.0.1:${http}`
console.log(`machine: ${availableParallelism()} cores, load ${loadAverage()}; demo of ${values.households} households in ${dir}`)

const t0 = performance.now()
const child = spawn(process.execPath, ['cli/bin.js', 'demo', '--data-dir', dir, '--households', values.households!], {
  env: { ...process.env, MQTT_PORT: String(mqtt), MQTT_WS_PORT: String(ws), HTTP_PORT: String(http), LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'pipe', 'inherit'],
})
let output = ''
child.stdout.on('data', (b: Buffer) => { output += b.toString() })
const seconds = () => (performance.now() - t0) / 1000
const marks: Record<string, number> = {}
let live: WebSocket | null = null

async function get(path: string, key: string): Promise<unknown> {
  try {
    const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } })
    return res.ok ? await res.json() : null
  } catch {
    return null
  }
}

try {
  const deadline = Number(values['timeout-s']) * 1000
  while (performance.now() - t0 < deadline && (marks.kpis === undefined || marks.lift === undefined)) {
    await sleep(1000)
    if (child.exitCode !== null) throw new Error(`the demo exited (${child.exitCode}):\n${output}`)
    const secrets = join(dir, 'secrets.json')
    if (!existsSync(secrets)) continue
    const key = (JSON.parse(readFileSync(secrets, 'utf8')) as { adminKey: string }).adminKey
    if (marks.api === undefined && (await get('/api/v1/contracts', key)) !== null) marks.api = seconds()
    if (marks.kpis === undefined) {
      const to = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10)
      const from = new Date(Date.now() - 28 * 86_400_000).toISOString().slice(0, 10)
      const p = (await get(`/api/v1/contracts/household-collections/performance?from=${from}&to=${to}`, key)) as { figures?: { scheduled: number; collected: number; reports: { total: number } } } | null
      if (p?.figures && p.figures.collected > 0 && p.figures.reports.total > 0) {
        marks.kpis = seconds()
        console.log(`KPIs populated at ${marks.kpis.toFixed(1)} s: ${p.figures.scheduled.toLocaleString('en-GB')} collections scheduled over four weeks, ${p.figures.reports.total} reports`)
      }
    }
    // Live: lifted after the demo went live (its marker says when), not one of the replayed past's.
    const liveFrom = Date.parse((JSON.parse(readFileSync(join(dir, 'kerbside-demo.json'), 'utf8')) as { running?: { startedAt: string } }).running?.startedAt ?? '')
    if (!Number.isFinite(liveFrom)) continue
    // The dashboard draws a lift from its live feed as it arrives: listen where it listens.
    if (!live) {
      live = new WebSocket(`${base.replace('http', 'ws')}/api/v1/live?api_key=${encodeURIComponent(key)}`)
      live.on('message', (raw: Buffer) => {
        const event = JSON.parse(raw.toString()) as { type?: string; data?: { ts?: string } }
        if (marks.lift !== undefined || event.type !== 'lift' || Date.parse(event.data?.ts ?? '') < liveFrom) return
        marks.lift = seconds()
        console.log(`first live lift on the dashboard's live feed at ${marks.lift.toFixed(1)} s (lifted at ${event.data!.ts})`)
      })
      live.on('error', () => { live = null })
    }
  }
  const populated = /Dashboard populated ([\d.]+) s/.exec(output)?.[1]
  console.log('')
  console.log(`API answering          ${marks.api?.toFixed(1) ?? '-'} s`)
  console.log(`demo says populated    ${populated ?? '-'} s`)
  console.log(`KPIs populated (API)   ${marks.kpis?.toFixed(1) ?? 'not within the timeout'} s`)
  console.log(`first live lift        ${marks.lift?.toFixed(1) ?? 'not within the timeout'} s   (target for a populated dashboard: 60 s)`)
} finally {
  live?.terminate()
  if (child.exitCode === null) {
    child.kill('SIGINT')
    await new Promise((r) => child.once('exit', r))
  }
  rmSync(dir, { recursive: true, force: true })
}
