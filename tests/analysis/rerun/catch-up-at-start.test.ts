// Issue 17: "a catch-up of missed job periods at start", through the real start path. Kerbside ran its
// hourly classification, its KPI roll-up and its reward posting two days ago, then was down; started
// again (jobs on, as `kerbside start` runs them), it runs each of them at once for the latest tick it
// missed — the last :10 for the classification, the last 04:30 for the roll-up, the last 05:15 for the
// rewards (Europe/London) — without waiting for the next tick, and records each under that tick's period.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { afterAll, expect, test } from 'vitest'
import { addDays, localDate } from '../../../analysis/calendar/dates.ts'
import { ukInstant } from '../../../analysis/outcomes/local-time.ts'
import { startScheduler } from '../../../analysis/scheduler.ts'
import { createContext, startAll, type Stack } from '../../../cli/stack.ts'
import { loadConfig } from '../../../core/config.ts'
import { silentLogger } from '../../../core/log.ts'
import { waitFor } from '../../helpers/stack.ts'

const dataDir = mkdtempSync(join(tmpdir(), 'kerbside-catch-up-'))
let stack: Stack | null = null
afterAll(async () => {
  await stack?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

const start = (jobs: boolean) => startAll(createContext(loadConfig({}, {
  KERBSIDE_DATA_DIR: dataDir, MQTT_HOST: '127.0.0.1', MQTT_PORT: 0, MQTT_WS_PORT: 0, HTTP_HOST: '127.0.0.1', HTTP_PORT: 0,
  KERBSIDE_JOBS: jobs, LOG_LEVEL: 'silent',
}), silentLogger))

/** The latest instant at or before `now` that is `hh:mm` in the UK, and its UK day. */
function lastDaily(now: Date, minutes: number): string {
  const today = localDate(now)
  return ukInstant(today, minutes).getTime() <= now.getTime() ? today : addDays(today, -1)
}

test('started after being down over the :10 classification, the 04:30 roll-up and the 05:15 rewards, Kerbside runs each once for the tick it missed', async () => {
  // Two days ago, the three jobs ran (and nothing since).
  stack = await start(false)
  const before = new Date(Date.now() - 2 * 86_400_000)
  const scheduler = startScheduler({ db: stack.db, logger: silentLogger, registry: new Registry(), timezone: 'Europe/London', autostart: false })
  for (const job of ['outcomes', 'kpi-rollup', 'rewards']) expect((await scheduler.runNow(job, before)).status).toBe('done')
  scheduler.stop()
  await stack.close()
  stack = null

  // The ticks missed, worked out from the clock now: the last :10, the last 04:30 and 05:15 in the UK.
  const now = new Date()
  const tenPast = new Date(now)
  if (tenPast.getUTCMinutes() < 10) tenPast.setUTCHours(tenPast.getUTCHours() - 1)
  const expected = { outcomes: tenPast.toISOString().slice(0, 13), 'kpi-rollup': lastDaily(now, 4 * 60 + 30), rewards: lastDaily(now, 5 * 60 + 15) }

  stack = await start(true)
  const db = stack.db
  // Periods compare as text in time order; a tick that falls while this test runs gives a later one.
  const done = async () => (await db.query<{ job: string; period: string }>(
    `SELECT job, max(period) AS period FROM job_runs WHERE job IN ('outcomes', 'kpi-rollup', 'rewards') AND status = 'done' GROUP BY job ORDER BY job`)).rows
  await waitFor(async () => (await done()).every((r) => r.period >= expected[r.job as keyof typeof expected]) && (await done()).length === 3, 90_000, 'the catch-up runs')
  for (const r of await done()) expect(r.period >= expected[r.job as keyof typeof expected], `${r.job}: ${r.period}`).toBe(true)
  // Nothing in between: besides the run of two days ago, only the caught-up tick (and any tick that fell since).
  const { rows } = await db.query<{ job: keyof typeof expected; period: string }>(`SELECT job, period FROM job_runs WHERE job IN ('outcomes', 'kpi-rollup', 'rewards') ORDER BY job, period`)
  const periodBefore = { outcomes: before.toISOString().slice(0, 13), 'kpi-rollup': localDate(before), rewards: localDate(before) }
  for (const r of rows) expect(r.period === periodBefore[r.job] || r.period >= expected[r.job], `${r.job} ran for ${r.period}`).toBe(true)
}, 180_000)
