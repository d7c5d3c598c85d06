// Scheduled jobs on node-cron. node-cron is neither durable nor distributed, so each run is
// guarded by a database lock (one instance runs it) and recorded in job_runs under its period key
// (a period already done is skipped): several API replicas, or a restart, never double a run.
import cron, { type ScheduledTask } from 'node-cron'
import { Counter, Histogram, type Registry } from 'prom-client'
import type { Config } from '../core/config.ts'
import type { Logger } from '../core/log.ts'
import type { Database } from '../storage/database.ts'
import { refreshReadingsRollup } from '../storage/readings.ts'
import { calendarJob } from './calendar/job.ts'
import { crmMissBackfillJob } from './outcomes/crm-backfill-job.ts'
import { outcomesJob } from './outcomes/job.ts'
import { proactiveMissesJob } from './proactive/job.ts'
import { fillForecastJob } from './forecast/job.ts'
import { kpiRollupJob } from './performance/job.ts'
import { retentionJob } from './privacy/retention-job.ts'
import { rewardsJob } from './rewards/job.ts'

export interface JobContext {
  db: Database
  logger: Logger
  now: Date
  period: string
  /** The service's configuration, when the scheduler was given it. */
  config?: Config
}

export interface JobDefinition {
  name: string
  /** cron expression, evaluated in the scheduler's time zone */
  schedule: string
  /** The period a run at `now` covers, e.g. '2026-11-23' for a daily job; runs are idempotent per period. */
  period: (now: Date) => string
  run: (ctx: JobContext) => Promise<Record<string, unknown> | void>
  /** Also run once when the scheduler starts (catch up after downtime; a period already done is skipped). */
  runAtStart?: boolean
}

export type JobResult = { status: 'done' | 'skipped' | 'locked' | 'failed'; detail?: unknown }

const hourPeriod = (d: Date) => d.toISOString().slice(0, 13)
const quarterHourPeriod = (d: Date) => `${d.toISOString().slice(0, 14)}${String(Math.floor(d.getUTCMinutes() / 15) * 15).padStart(2, '0')}`

/** Jobs every deployment runs. Analysis jobs (outcomes, KPIs, rewards…) are added by their modules. */
export const CORE_JOBS: JobDefinition[] = [
  {
    name: 'readings-rollup',
    schedule: '*/15 * * * *',
    period: quarterHourPeriod,
    async run({ db, now }) {
      // On a server the full edition refreshes its continuous aggregate itself; the embedded engine
      // has no background workers, and the other tiers use Kerbside's roll-up table.
      if (db.capabilities.continuousAggregates && db.kind === 'pg') return { skipped: 'refreshed by the TimescaleDB policy' }
      const { hours } = await refreshReadingsRollup(db, { now })
      return { hours }
    },
  },
  {
    name: 'timescaledb-policies',
    schedule: '7 * * * *',
    period: hourPeriod,
    async run({ db }) {
      // The embedded TimescaleDB cannot run background workers: run its policy jobs (compression,
      // retention, continuous-aggregate refresh) from here. Servers run them themselves.
      if (db.kind !== 'pglite' || !db.capabilities.continuousAggregates) return { skipped: 'not needed on this tier' }
      const { rows } = await db.query<{ id: number }>(`SELECT job_id AS id FROM timescaledb_information.jobs WHERE job_id >= 1000 ORDER BY job_id`)
      for (const { id } of rows) await db.query(`CALL run_job($1)`, [id])
      return { jobs: rows.length }
    },
  },
  calendarJob,
  outcomesJob,
  crmMissBackfillJob,
  proactiveMissesJob,
  fillForecastJob,
  kpiRollupJob,
  rewardsJob,
  retentionJob,
]

export interface Scheduler {
  runNow(name: string, now?: Date): Promise<JobResult>
  /**
   * Run each job whose latest scheduled tick before `now` has no completed run, once, keyed by that
   * tick's period (the process was down, or busy, when it fell due). Jobs that never ran are left to
   * their schedule (a fresh install has missed nothing), and jobs run at start run anyway.
   */
  catchUp(now?: Date): Promise<Record<string, JobResult>>
  stop(): void
}

/** Catch-up looks this far back for a job's latest tick: a day and a bit covers every daily job. */
const CATCH_UP_MINUTES = 26 * 60

/** The latest whole minute at or before `now` at which `task` fires (in its time zone), within CATCH_UP_MINUTES. */
export function lastTick(task: Pick<ScheduledTask, 'match'>, now: Date): Date | null {
  const start = Math.floor(now.getTime() / 60_000) * 60_000
  for (let i = 0; i <= CATCH_UP_MINUTES; i++) {
    const at = new Date(start - i * 60_000)
    if (task.match(at)) return at
  }
  return null
}

export function startScheduler(opts: { db: Database; logger: Logger; registry: Registry; timezone: string; jobs?: JobDefinition[]; autostart?: boolean; config?: Config }): Scheduler {
  const { db, logger } = opts
  const jobs = new Map((opts.jobs ?? CORE_JOBS).map((j) => [j.name, j]))
  const runs = new Counter({ name: 'kerbside_job_runs_total', help: 'Scheduled job runs by job and result', labelNames: ['job', 'status'], registers: [opts.registry] })
  const seconds = new Histogram({ name: 'kerbside_job_seconds', help: 'Duration of scheduled job runs', labelNames: ['job'], buckets: [0.01, 0.1, 0.5, 1, 5, 15, 30, 60, 300], registers: [opts.registry] })

  async function runJob(job: JobDefinition, now = new Date(), periodOf: Date = now): Promise<JobResult> {
    const period = job.period(periodOf)
    const outcome = await db.withLock(`job:${job.name}`, async (): Promise<JobResult> => {
      const { rows } = await db.query<{ status: string }>(`SELECT status FROM job_runs WHERE job = $1 AND period = $2`, [job.name, period])
      if (rows[0]?.status === 'done') return { status: 'skipped' }
      await db.query(
        `INSERT INTO job_runs (job, period, status) VALUES ($1, $2, 'running')
         ON CONFLICT (job, period) DO UPDATE SET status = 'running', started_at = now(), finished_at = NULL, detail = NULL`,
        [job.name, period],
      )
      const t0 = performance.now()
      try {
        const detail = (await job.run({ db, logger: logger.child({ job: job.name, period }), now, period, config: opts.config })) ?? {}
        await db.query(`UPDATE job_runs SET status = 'done', finished_at = now(), detail = $3 WHERE job = $1 AND period = $2`, [job.name, period, JSON.stringify(detail)])
        return { status: 'done', detail }
      } catch (err) {
        logger.error({ err, job: job.name, period }, 'scheduled job failed; it will run again at its next tick')
        await db.query(`UPDATE job_runs SET status = 'failed', finished_at = now(), detail = $3 WHERE job = $1 AND period = $2`, [job.name, period, JSON.stringify({ error: (err as Error).message })])
        return { status: 'failed', detail: (err as Error).message }
      } finally {
        seconds.observe({ job: job.name }, (performance.now() - t0) / 1000)
      }
    })
    const result: JobResult = outcome.ran ? outcome.value : { status: 'locked' }
    runs.inc({ job: job.name, status: result.status })
    return result
  }

  const tasks = [...jobs.values()].map((job) =>
    cron.schedule(job.schedule, () => void runJob(job).catch((err: unknown) => logger.error({ err, job: job.name }, 'job could not start')), { timezone: opts.timezone, noOverlap: true, name: job.name }),
  )
  const taskOf = new Map([...jobs.values()].map((job, i) => [job.name, tasks[i]!]))

  async function catchUp(now = new Date()): Promise<Record<string, JobResult>> {
    const results: Record<string, JobResult> = {}
    // One after another, in the jobs' order (outcomes, proactive misses, … KPIs, rewards): each reads what the one
    // before wrote. The jobs run at start anyway (the calendar, the CRM backfill) are not caught up here.
    for (const job of jobs.values()) {
      if (job.runAtStart) continue
      const tick = lastTick(taskOf.get(job.name)!, now)
      if (!tick) continue
      const { rows } = await db.query<{ ever: boolean; due: boolean }>(
        `SELECT count(*) FILTER (WHERE status = 'done') > 0 AS ever, count(*) FILTER (WHERE status = 'done' AND period = $2) > 0 AS due
           FROM job_runs WHERE job = $1`, [job.name, job.period(tick)])
      if (!rows[0]?.ever || rows[0].due) continue
      logger.info({ job: job.name, period: job.period(tick) }, 'catching up a job period missed while the service was down')
      results[job.name] = await runJob(job, now, tick)
    }
    return results
  }

  if (opts.autostart === false) for (const t of tasks) void t.stop()
  else {
    // Catch up in the background: a fresh start at 10:00 should not wait for tomorrow's 02:20.
    for (const job of jobs.values()) {
      if (job.runAtStart) void runJob(job).catch((err: unknown) => logger.error({ err, job: job.name }, 'catch-up run failed'))
    }
    void catchUp().catch((err: unknown) => logger.error({ err }, 'catching up missed job periods failed'))
  }

  return {
    runNow(name, now) {
      const job = jobs.get(name)
      if (!job) throw new Error(`no job named ${name}; known: ${[...jobs.keys()].join(', ')}`)
      return runJob(job, now)
    },
    catchUp,
    stop() {
      for (const t of tasks) void t.stop()
    },
  }
}
