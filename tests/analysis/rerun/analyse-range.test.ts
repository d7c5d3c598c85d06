// Issue 17: an operator re-runs a range after late data. On the test street (a Monday round of five
// households, 07:00–15:00) the crew lifted households 1, 3, 4 and 5 on Mon 2 Mar and the hourly job
// decided household 2 missed (CRM told). On Thu 2 Apr — 31 days later, far past the hourly job's
// 14-day lookback — the vehicle unit delivers a buffered lift of household 2 at 10:00 on 2 Mar.
// Hand-computed: the hourly job leaves it missed; `analyse 2026-03-02..2026-03-02` re-decides it
// collected, withdraws the CRM's miss, the KPI day goes from 1 miss in 5 (20,000 per 100,000) to none,
// March is posted again; a second run changes nothing. The re-run waits while the outcomes job holds
// its lock. The same through the admin API (202, then progress), the CLI, and the scheduler's
// catch-up of a missed hourly period at start.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, expect, test, vi } from 'vitest'
import { buildApi } from '../../../api/build-api.ts'
import { analyseRange, AnalyseRangeError, type AnalyseProgress } from '../../../analysis/rerun/analyse-range.ts'
import { outcomesJob } from '../../../analysis/outcomes/job.ts'
import { contractPerformance } from '../../../analysis/performance/performance.ts'
import { startScheduler } from '../../../analysis/scheduler.ts'
import { analyseCommand } from '../../../cli/analyse-command.ts'
import { loadConfig } from '../../../core/config.ts'
import { silentLogger } from '../../../core/log.ts'
import { createApiKey } from '../../../storage/api-keys.ts'
import { listCrmEvents } from '../../../storage/crm-outbox.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { collectionId, lifts, schedule, seedStreet, UPRNS } from '../outcomes/fixture.ts'

const DAY = '2026-03-02'
const LATER = new Date('2026-04-02T09:00:00Z')
let dataDir: string
let db: Database

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'kerbside-analyse-'))
  db = await openDatabase({ logger: silentLogger, dataDir })
  await seedStreet(db)
  await schedule(db, DAY)
  await lifts(db, [{ at: '2026-03-02T08:00:00Z', household: 0 }, { at: '2026-03-02T08:20:00Z', household: 2 }, { at: '2026-03-02T08:30:00Z', household: 3 }, { at: '2026-03-02T08:40:00Z', household: 4 }])
  await outcomesJob.run({ db, logger: silentLogger, now: new Date('2026-03-02T16:10:00Z'), period: '2026-03-02T16' })
})
afterAll(async () => {
  await db?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

const outcomeOf = async (uprn: number) => (await db.query<{ outcome: string }>(`SELECT outcome FROM collection_outcomes WHERE uprn = $1 AND due_date = $2`, [uprn, DAY])).rows[0]?.outcome
const kpis = async () => (await contractPerformance(db, 'tk', { from: DAY, to: DAY, now: LATER })).figures

test('re-decides a day past the hourly lookback, withdraws the CRM miss, re-scores the KPIs, re-posts March; a second run changes nothing', async () => {
  expect(await outcomeOf(UPRNS[1])).toBe('missed')
  expect(await kpis()).toMatchObject({ scheduled: 5, missed: 1, missedPer100k: 20_000 })
  const c2 = await collectionId(db, UPRNS[1], DAY)
  expect((await listCrmEvents(db, { after: 0, limit: 100 })).map((e) => e.idempotencyKey)).toEqual([`missed-collection:${c2}`])

  await lifts(db, [{ at: '2026-03-02T10:00:00Z', household: 1 }])
  await outcomesJob.run({ db, logger: silentLogger, now: LATER, period: '2026-04-02T09' })
  expect(await outcomeOf(UPRNS[1])).toBe('missed') // 31 days back: the hourly job does not look

  const progress: AnalyseProgress[] = []
  const first = await analyseRange(db, { from: DAY, to: DAY, now: LATER, onProgress: (p) => progress.push(p) })
  expect(first).toMatchObject({ days: 1, decided: 5, written: 1, outcomes: { collected: 5 }, crmEvents: { confirmed: 0, withdrawn: 1 }, rewards: [{ month: '2026-03' }] })
  expect(progress.map((p) => p.stage)).toEqual(['outcomes', 'kpis', 'rewards'])
  expect(progress[0]).toMatchObject({ stage: 'outcomes', day: DAY, daysDone: 1, days: 1, decided: 5, written: 1 })
  expect(await outcomeOf(UPRNS[1])).toBe('collected')
  expect(await kpis()).toMatchObject({ scheduled: 5, missed: 0, missedPer100k: 0, onDayPct: 100 })
  const events = (await listCrmEvents(db, { after: 0, limit: 100 })).filter((e) => e.type.startsWith('collection.'))
  expect(events.map((e) => e.idempotencyKey)).toEqual([`missed-collection:${c2}`, `miss-withdrawn:${c2}`])
  const posted = (await listCrmEvents(db, { after: 0, limit: 100 })).length
  expect(events[1]!.data).toMatchObject({ reason: 'a lift of the bin at 10:00 on Mon 2 Mar was recorded', withdrawnAt: LATER.toISOString() })
  const stored = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM kpi_round_days WHERE contract_id = 'tk' AND day = $1 AND missed = 0`, [DAY])).rows[0]!.n
  expect(stored).toBe(1) // the roll-up holds the new figures, not only the live read

  const again = await analyseRange(db, { from: DAY, to: DAY, now: LATER })
  expect(again).toMatchObject({ decided: 5, written: 0, crmEvents: { confirmed: 0, withdrawn: 0 }, reportsClosed: 0 })
  expect(again.rewards[0]).toMatchObject({ month: '2026-03', entries: 0, adjustments: 0, events: 0 })
  expect(await listCrmEvents(db, { after: 0, limit: 100 })).toHaveLength(posted)
})

test('waits while the scheduled outcomes job holds its lock, and says so', async () => {
  let release!: () => void
  const held = new Promise<void>((r) => { release = r })
  let lockTaken!: () => void
  const taken = new Promise<void>((r) => { lockTaken = r })
  const job = db.withLock('job:outcomes', async () => { lockTaken(); await held })
  await taken
  const progress: AnalyseProgress[] = []
  const run = analyseRange(db, { from: DAY, to: DAY, now: LATER, lockPollMs: 20, onProgress: (p) => { progress.push(p); if (p.stage === 'waiting') release() } })
  await job
  await run
  expect(progress.map((p) => p.stage)).toEqual(['waiting', 'outcomes', 'kpis', 'rewards'])
  expect(progress[0]).toEqual({ stage: 'waiting', job: 'outcomes' })
})

test('refuses a range it cannot run, before doing anything', async () => {
  await expect(analyseRange(db, { from: '2026-03-09', to: DAY, now: LATER })).rejects.toThrow(/is before from/)
  await expect(analyseRange(db, { from: DAY, to: '2026-04-03', now: LATER })).rejects.toThrow(/after today \(2026-04-02\)/)
  await expect(analyseRange(db, { from: DAY, to: DAY, contractId: 'nope', now: LATER })).rejects.toBeInstanceOf(AnalyseRangeError)
  await expect(analyseRange(db, { from: '2026-02-30', to: DAY, now: LATER })).rejects.toThrow(/calendar days/)
})

test('the admin API starts a run (202), reports its progress and its report; other roles are refused', async () => {
  const ADMIN = 'admin-key-of-the-analyse-test-01234'
  const app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN })
  try {
    const viewer = (await createApiKey(db, 'wallboard', 'viewer')).key
    const post = (body: unknown, key = ADMIN) => app.inject({ method: 'POST', url: '/api/v1/analysis/runs', headers: { authorization: `Bearer ${key}` }, payload: body as object })
    expect((await post({ from: DAY, to: DAY }, viewer)).statusCode).toBe(403)
    const bad = await post({ from: DAY, to: '2026-02-01' })
    expect(bad.statusCode).toBe(400)
    expect(bad.json()).toMatchObject({ message: expect.stringMatching(/before from/) })

    const started = await post({ from: DAY, to: DAY, contractId: 'tk' })
    expect(started.statusCode).toBe(202)
    const { id } = started.json() as { id: string }
    let run: { status: string; report: { decided: number; written: number; contractId: string } | null } = started.json()
    for (let i = 0; i < 400 && run.status === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 25))
      run = (await app.inject({ method: 'GET', url: `/api/v1/analysis/runs/${id}`, headers: { authorization: `Bearer ${ADMIN}` } })).json()
    }
    expect(run).toMatchObject({ status: 'done', request: { from: DAY, to: DAY, contractId: 'tk' }, progress: { stage: 'rewards' }, report: { contractId: 'tk', decided: 5, written: 0 } })
    expect((await app.inject({ method: 'GET', url: '/api/v1/analysis/runs/3f0c6a52-0000-4000-8000-000000000000', headers: { authorization: `Bearer ${ADMIN}` } })).statusCode).toBe(404)
  } finally {
    await app.close()
  }
})

test('kerbside analyse runs on the database and prints its progress and a summary', async () => {
  await db.close()
  const lines: string[] = []
  const log = vi.spyOn(console, 'log').mockImplementation((m: unknown) => { lines.push(String(m)) })
  try {
    const config = loadConfig({ KERBSIDE_DATA_DIR: dataDir })
    expect(await analyseCommand.run(['--from', DAY, '--to', DAY, '--contract', 'tk'], { config, logger: silentLogger })).toBe(0)
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    expect(await analyseCommand.run(['--from', DAY], { config, logger: silentLogger })).toBe(1)
    errors.mockRestore()
  } finally {
    log.mockRestore()
    db = await openDatabase({ logger: silentLogger, dataDir })
  }
  expect(lines[0]).toBe(`outcomes ${DAY} (1/1): 5 decided, 0 changed; CRM: 0 miss(es) confirmed, 0 withdrawn`)
  expect(lines.at(-1)).toMatch(new RegExp(`^Analysed ${DAY}\\.\\.${DAY} \\(contract tk\\): 5 collection\\(s\\) decided \\(collected 5\\), 0 changed; CRM: 0 miss\\(es\\) confirmed, 0 withdrawn;`))
})

test('at start, the scheduler catches up a job period missed while the service was down', async () => {
  await db.query(`DELETE FROM job_runs WHERE job = 'outcomes'`)
  const scheduler = startScheduler({ db, logger: silentLogger, registry: new Registry(), timezone: 'Europe/London', jobs: [outcomesJob], autostart: false })
  try {
    // Never run: a fresh install has missed nothing.
    expect(await scheduler.catchUp(new Date('2026-04-02T11:20:00Z'))).toEqual({})
    expect((await scheduler.runNow('outcomes', new Date('2026-04-02T08:10:00Z'))).status).toBe('done')
    // Down from 08:30 to 11:20 (BST: the 12:10 local tick of 11:10 UTC was missed): caught up, keyed by that tick's hour.
    expect(await scheduler.catchUp(new Date('2026-04-02T11:20:00Z'))).toEqual({ outcomes: expect.objectContaining({ status: 'done' }) })
    expect((await db.query<{ period: string }>(`SELECT period FROM job_runs WHERE job = 'outcomes' ORDER BY period`)).rows.map((r) => r.period)).toEqual(['2026-04-02T08', '2026-04-02T11'])
    // Started again at once: nothing missed.
    expect(await scheduler.catchUp(new Date('2026-04-02T11:25:00Z'))).toEqual({})
  } finally {
    scheduler.stop()
  }
})

test('a run Kerbside stopped in the middle of is reported failed, not running for ever', async () => {
  // What a process killed during a re-run leaves: its run recorded as running, and nobody running it.
  const id = '6d7b1f0e-0000-4000-8000-00000000a11e'
  await db.query(`INSERT INTO job_runs (job, period, status, detail) VALUES ('analyse', $1, 'running', $2)`,
    [id, JSON.stringify({ request: { from: DAY, to: DAY, contractId: null }, progress: { stage: 'outcomes', day: DAY, daysDone: 1, days: 1, decided: 5, written: 0, crmEvents: { confirmed: 0, withdrawn: 0 } } })])
  const ADMIN = 'admin-key-of-the-analyse-test-01234'
  const app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN })
  try {
    const res = await app.inject({ method: 'GET', url: `/api/v1/analysis/runs/${id}`, headers: { authorization: `Bearer ${ADMIN}` } })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ status: 'failed', progress: { stage: 'outcomes' }, error: expect.stringMatching(/stopped during the run.*run it again/) })
    expect(res.json().finishedAt).not.toBeNull()
  } finally {
    await app.close()
  }
})
