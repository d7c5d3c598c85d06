// Re-running the analysis for a range of due days, when late data arrived past the hourly job's
// lookback, the registry was corrected, or a contract's terms changed (`kerbside analyse`,
// POST /api/v1/analysis/runs). In the hourly and daily jobs' order, each under that job's own lock
// (analysis/scheduler.ts: `job:<name>`), so a re-run and a scheduled run never work at once:
//
//   1. outcomes   reports still pending assessed; every collection due in the range re-decided from
//                 the evidence as it stands now, day by day (one transaction a day, with the CRM's
//                 events for the misses decided and withdrawn: analysis/outcomes/crm-misses.ts, every
//                 collection of the range checked); reports closed or re-judged as the outcomes say;
//   2. KPIs       the range's contract-days marked stale and rolled up again, and the month-to-date
//                 points and deduction stored again;
//   3. rewards    every month of the range that is over posted again (adjustments only for what changed).
//
// Every step is idempotent: a second run with nothing new writes no outcome, no event, no ledger entry.
import { randomUUID } from 'node:crypto'
import type { Database } from '../../storage/database.ts'
import { addDays, daysBetween, isIsoDate, type IsoDate } from '../calendar/dates.ts'
import { createReportAssessor } from '../first-contact/assess-report.ts'
import { classifyOutcomes, MAX_CLASSIFY_DAYS } from '../outcomes/classify.ts'
import { ukDate } from '../outcomes/local-time.ts'
import { assessPendingReports, settleReports } from '../outcomes/reports-sync.ts'
import { storeMonthToDate } from '../performance/job.ts'
import { DEFAULT_TIME_ZONE, refreshRollup } from '../performance/rollup.ts'
import { postRewards } from '../rewards/ledger.ts'
import { lastClosedMonth, monthsFrom } from '../rewards/periods.ts'

export class AnalyseRangeError extends Error {
  override name = 'KERBSIDE_ERR_ANALYSE_RANGE'
}

export interface AnalyseOptions {
  from: IsoDate
  to: IsoDate
  /** Only this contract's collections and KPIs (rewards are the council's, posted for every household). */
  contractId?: string | null
  /** The evidence as it stands at this instant (default now). */
  now?: Date
  timeZone?: string
  /** How long to wait for a scheduled job holding a lock (default 10 minutes), and how often to ask. */
  lockWaitMs?: number
  lockPollMs?: number
  onProgress?: (p: AnalyseProgress) => void
}

export type AnalyseProgress =
  | { stage: 'waiting'; job: string }
  | { stage: 'outcomes'; day: IsoDate; daysDone: number; days: number; decided: number; written: number; crmEvents: { confirmed: number; withdrawn: number } }
  | { stage: 'kpis'; contracts: number; days: number }
  | { stage: 'rewards'; month: string; entries: number; adjustments: number; events: number }

export interface AnalyseReport {
  from: IsoDate
  to: IsoDate
  contractId: string | null
  days: number
  reportsAssessed: number
  decided: number
  written: number
  outcomes: Record<string, number>
  crmEvents: { confirmed: number; withdrawn: number }
  reportsClosed: number
  reportsInvalidated: number
  kpis: { contracts: number; days: number }
  rewards: { month: string; entries: number; adjustments: number; events: number }[]
  ms: number
}

/** Check a range before anything runs (the API and the CLI answer with this message). */
export async function checkAnalyseRange(db: Database, o: Pick<AnalyseOptions, 'from' | 'to' | 'contractId' | 'now'>): Promise<void> {
  if (!isIsoDate(o.from) || !isIsoDate(o.to)) throw new AnalyseRangeError(`from and to must be calendar days written YYYY-MM-DD, got ${JSON.stringify(o.from)} and ${JSON.stringify(o.to)}.`)
  if (o.to < o.from) throw new AnalyseRangeError(`to (${o.to}) is before from (${o.from}).`)
  const today = ukDate(o.now ?? new Date())
  if (o.to > today) throw new AnalyseRangeError(`to (${o.to}) is after today (${today}): collections not yet due cannot be decided.`)
  if (daysBetween(o.from, o.to) >= MAX_CLASSIFY_DAYS) throw new AnalyseRangeError(`a re-run may span at most ${MAX_CLASSIFY_DAYS} days; ${o.from}..${o.to} spans ${daysBetween(o.from, o.to) + 1}.`)
  if (o.contractId) {
    const { rows } = await db.query(`SELECT 1 FROM contracts WHERE contract_id = $1`, [o.contractId])
    if (rows.length === 0) throw new AnalyseRangeError(`no contract ${JSON.stringify(o.contractId)}.`)
  }
}

/** Run `fn` under a scheduled job's lock, waiting while the job holds it. */
async function underJobLock<T>(db: Database, job: string, o: AnalyseOptions, fn: () => Promise<T>): Promise<T> {
  const until = Date.now() + (o.lockWaitMs ?? 600_000)
  for (let told = false; ;) {
    const r = await db.withLock(`job:${job}`, fn)
    if (r.ran) return r.value
    if (Date.now() > until) throw new AnalyseRangeError(`the ${job} job has held its lock for longer than the re-run waits; try again later.`)
    if (!told) o.onProgress?.({ stage: 'waiting', job })
    told = true
    await new Promise((resolve) => setTimeout(resolve, o.lockPollMs ?? 2000))
  }
}

export async function analyseRange(db: Database, o: AnalyseOptions): Promise<AnalyseReport> {
  const t0 = performance.now()
  const now = o.now ?? new Date()
  await checkAnalyseRange(db, { ...o, now })
  const contractId = o.contractId ?? null
  const timeZone = o.timeZone ?? DEFAULT_TIME_ZONE
  const days = daysBetween(o.from, o.to) + 1
  const report: AnalyseReport = {
    from: o.from, to: o.to, contractId, days, reportsAssessed: 0, decided: 0, written: 0, outcomes: {}, crmEvents: { confirmed: 0, withdrawn: 0 },
    reportsClosed: 0, reportsInvalidated: 0, kpis: { contracts: 0, days: 0 }, rewards: [], ms: 0,
  }

  await underJobLock(db, 'outcomes', o, async () => {
    report.reportsAssessed = await assessPendingReports(db, now, createReportAssessor(db))
    for (let day = o.from, n = 1; day <= o.to; day = addDays(day, 1), n++) {
      const ids = contractId ? await contractCollections(db, contractId, day) : undefined
      const r = await classifyOutcomes(db, { from: day, to: day, now, collectionIds: ids, withdrawalScan: 'all' })
      report.decided += r.decided
      report.written += r.inserted + r.rewritten
      for (const [k, v] of Object.entries(r.outcomes)) report.outcomes[k] = (report.outcomes[k] ?? 0) + v
      report.crmEvents.confirmed += r.crmEvents.confirmed
      report.crmEvents.withdrawn += r.crmEvents.withdrawn
      o.onProgress?.({ stage: 'outcomes', day, daysDone: n, days, decided: r.decided, written: r.inserted + r.rewritten, crmEvents: r.crmEvents })
    }
    const settled = await settleReports(db, now)
    report.reportsClosed = settled.closed
    report.reportsInvalidated = settled.invalidated
  })

  await underJobLock(db, 'kpi-rollup', o, async () => {
    // Contract terms may have changed without marking anything: mark the range, then roll it up again.
    await db.query(
      `INSERT INTO kpi_stale_days (contract_id, day)
       SELECT c.contract_id, d::date FROM contracts c, generate_series($1::date, $2::date, interval '1 day') AS d
        WHERE $3::text IS NULL OR c.contract_id = $3
       ON CONFLICT (contract_id, day) DO UPDATE SET version = nextval('kpi_stale_version')`,
      [o.from, o.to, contractId],
    )
    const r = await refreshRollup(db, { now, timeZone, contractId: contractId ?? undefined, only: { from: o.from, to: o.to } })
    await storeMonthToDate(db, { now, timeZone })
    report.kpis = { contracts: r.contracts, days: r.days }
    o.onProgress?.({ stage: 'kpis', contracts: r.contracts, days: r.days })
  })

  const lastMonth = lastClosedMonth(now, timeZone)
  const months = monthsFrom(o.from.slice(0, 7), o.to.slice(0, 7)).filter((m) => m <= lastMonth)
  if (months.length > 0) {
    await underJobLock(db, 'rewards', o, async () => {
      for (const month of months) {
        const [p] = await postRewards(db, { from: month, now, timeZone, cascade: false })
        const row = { month, entries: p?.entries ?? 0, adjustments: p?.adjustments ?? 0, events: p?.events ?? 0 }
        report.rewards.push(row)
        o.onProgress?.({ stage: 'rewards', ...row })
      }
    })
  }
  report.ms = Math.round(performance.now() - t0)
  return report
}

async function contractCollections(db: Database, contractId: string, day: IsoDate): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(
    `SELECT sc.collection_id AS id FROM scheduled_collections sc JOIN rounds r ON r.round_id = sc.round_id
      WHERE r.contract_id = $1 AND sc.due_date = $2 AND NOT sc.cancelled`, [contractId, day])
  return rows.map((r) => Number(r.id))
}

// ---- Runs recorded for the API: started in the background, their progress read back ----

export interface AnalyseRun {
  id: string
  status: 'running' | 'done' | 'failed'
  startedAt: Date
  finishedAt: Date | null
  request: { from: IsoDate; to: IsoDate; contractId: string | null }
  progress: AnalyseProgress | null
  report: AnalyseReport | null
  error: string | null
}

const RUN_JOB = 'analyse'

/** Held by the process running a re-run for as long as it runs: a run recorded as running whose lock is free was cut short. */
const runLock = (id: string) => `analyse-run:${id}`

/**
 * Start a re-run in the background, recorded in job_runs (job 'analyse', period = the run's id) with
 * its latest progress, and return its id. The range is checked first, so a bad request fails at once.
 * The run holds its own lock while it runs (recorded only once the lock is held), so a run that
 * Kerbside stopped in the middle of is told apart from one still going (getAnalyseRun).
 */
export async function startAnalyseRun(db: Database, o: Omit<AnalyseOptions, 'onProgress'> & { log?: { error: (o: object, m: string) => void } }): Promise<string> {
  await checkAnalyseRange(db, o)
  const id = randomUUID()
  const request = { from: o.from, to: o.to, contractId: o.contractId ?? null }
  let latest: AnalyseProgress | null = null
  let writing: Promise<unknown> = Promise.resolve()
  const record = (p: AnalyseProgress) => {
    latest = p
    writing = writing.then(() => db.query(`UPDATE job_runs SET detail = $3 WHERE job = $1 AND period = $2 AND status = 'running'`, [RUN_JOB, id, JSON.stringify({ request, progress: latest })])).catch(() => undefined)
  }
  let recorded!: () => void
  let notRecorded!: (err: unknown) => void
  const started = new Promise<void>((resolve, reject) => { recorded = resolve; notRecorded = reject })
  void db.withLock(runLock(id), async () => {
    try {
      await db.query(`INSERT INTO job_runs (job, period, status, detail) VALUES ($1, $2, 'running', $3)`, [RUN_JOB, id, JSON.stringify({ request, progress: null })])
    } catch (err) {
      notRecorded(err)
      return
    }
    recorded()
    try {
      const report = await analyseRange(db, { ...o, onProgress: record })
      await writing
      await db.query(`UPDATE job_runs SET status = 'done', finished_at = now(), detail = $3 WHERE job = $1 AND period = $2`, [RUN_JOB, id, JSON.stringify({ request, progress: latest, report })])
    } catch (err) {
      o.log?.error({ err, run: id }, 'analysis re-run failed')
      await writing
      await db.query(`UPDATE job_runs SET status = 'failed', finished_at = now(), detail = $3 WHERE job = $1 AND period = $2`, [RUN_JOB, id, JSON.stringify({ request, progress: latest, error: (err as Error).message })])
        .catch(() => undefined)
    }
  }).then((r) => { if (!r.ran) notRecorded(new Error(`the lock of re-run ${id} is held already`)) }, notRecorded)
  await started
  return id
}

type RunDetail = { request: AnalyseRun['request']; progress?: AnalyseProgress | null; report?: AnalyseReport; error?: string }
const INTERRUPTED = 'Kerbside stopped during the run, before it finished. Every day re-decided is kept (each is one transaction) and the re-run is idempotent: run it again.'

export async function getAnalyseRun(db: Database, id: string): Promise<AnalyseRun | null> {
  const read = async () => (await db.query<{ status: AnalyseRun['status']; startedAt: Date; finishedAt: Date | null; detail: RunDetail }>(
    `SELECT status, started_at AS "startedAt", finished_at AS "finishedAt", detail FROM job_runs WHERE job = $1 AND period = $2`, [RUN_JOB, id])).rows[0]
  let r = await read()
  if (!r) return null
  if (r.status === 'running') {
    // Nobody holds the run's lock: the process running it stopped (a restart, a crash). Recorded as failed.
    const probe = await db.withLock(runLock(id), async () => {
      await db.query(`UPDATE job_runs SET status = 'failed', finished_at = now(), detail = detail || $3::jsonb WHERE job = $1 AND period = $2 AND status = 'running'`,
        [RUN_JOB, id, JSON.stringify({ error: INTERRUPTED })])
      return read()
    })
    if (probe.ran && probe.value) r = probe.value
  }
  return {
    id, status: r.status, startedAt: r.startedAt, finishedAt: r.finishedAt, request: r.detail.request,
    progress: r.detail.progress ?? null, report: r.detail.report ?? null, error: r.detail.error ?? null,
  }
}
