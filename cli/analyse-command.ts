// `kerbside analyse --from DATE --to DATE [--contract ID]`: re-decide the outcomes of a range of due
// days, re-score the KPIs and re-post the rewards (analysis/rerun), printing progress as it goes.
// On a database server it runs here, under the same advisory locks as the scheduled jobs of any
// running instance; when a running Kerbside owns the embedded database, it asks that process to run
// it (POST /api/v1/analysis/runs) and follows the run's progress.
import { parseArgs } from 'node:util'
import { analyseRange, AnalyseRangeError, type AnalyseProgress, type AnalyseReport, type AnalyseRun } from '../analysis/rerun/analyse-range.ts'
import type { Config } from '../core/config.ts'
import type { Logger } from '../core/log.ts'
import { openDatabase } from '../storage/open-database.ts'
import { EmbeddedDatabaseBusyError } from '../storage/pglite-adapter.ts'
import { answer, ApiClientError, localApi } from './api-client.ts'
import type { ExtraCommand } from './commands.ts'

const USAGE = 'usage: kerbside analyse --from YYYY-MM-DD --to YYYY-MM-DD [--contract ID]'

class AnalyseUsageError extends Error {
  override name = 'KERBSIDE_ERR_USAGE'
}

export function progressLine(p: AnalyseProgress): string {
  switch (p.stage) {
    case 'waiting': return `waiting for the ${p.job} job to finish its run…`
    case 'outcomes': return `outcomes ${p.day} (${p.daysDone}/${p.days}): ${p.decided} decided, ${p.written} changed; CRM: ${p.crmEvents.confirmed} miss(es) confirmed, ${p.crmEvents.withdrawn} withdrawn`
    case 'kpis': return `KPIs: ${p.days} contract-day(s) of ${p.contracts} contract(s) rolled up again`
    case 'rewards': return `rewards ${p.month}: ${p.entries} new ledger entr(ies), ${p.adjustments} adjustment(s), ${p.events} CRM event(s)`
  }
}

export function summaryLine(r: AnalyseReport): string {
  const outcomes = Object.entries(r.outcomes).sort().map(([k, n]) => `${k} ${n}`).join(', ')
  return `Analysed ${r.from}..${r.to}${r.contractId ? ` (contract ${r.contractId})` : ''}: ${r.decided} collection(s) decided (${outcomes || 'none'}), ${r.written} changed; `
    + `CRM: ${r.crmEvents.confirmed} miss(es) confirmed, ${r.crmEvents.withdrawn} withdrawn; reports: ${r.reportsAssessed} assessed, ${r.reportsClosed} closed, ${r.reportsInvalidated} re-judged invalid; `
    + `KPIs: ${r.kpis.days} day(s); rewards: ${r.rewards.map((m) => `${m.month} +${m.entries}`).join(', ') || 'no month over yet'}; in ${(r.ms / 1000).toFixed(1)} s`
}

async function viaApi(config: Config, body: { from: string; to: string; contractId?: string }): Promise<AnalyseReport> {
  const api = localApi(config)
  // The API declares progress and report as JSON it does not describe further; they are analyse-range's own.
  type Run = Pick<AnalyseRun, 'id' | 'status' | 'error'> & { progress: unknown; report: unknown }
  let run: Run = await answer(api.POST('/api/v1/analysis/runs', { body }), 'POST /analysis/runs')
  let shown = ''
  for (;;) {
    const line = run.progress ? progressLine(run.progress as AnalyseProgress) : ''
    if (line && line !== shown) console.log(line)
    shown = line
    if (run.status === 'done') return run.report as AnalyseReport
    if (run.status === 'failed') throw new AnalyseRangeError(run.error ?? 'the re-run failed')
    await new Promise((resolve) => setTimeout(resolve, 1000))
    run = await answer(api.GET('/api/v1/analysis/runs/{id}', { params: { path: { id: run.id } } }), `GET /analysis/runs/${run.id}`)
  }
}

export const analyseCommand: ExtraCommand = {
  name: 'analyse',
  usage: 'analyse --from --to',
  summary: 're-decide outcomes, re-score KPIs and re-post rewards for a range of days [--contract ID]',
  async run(args, env: { config: Config; logger: Logger }) {
    let values: { from?: string; to?: string; contract?: string }
    try {
      values = parseArgs({ args, options: { from: { type: 'string' }, to: { type: 'string' }, contract: { type: 'string' } } }).values
      if (!values.from || !values.to) throw new AnalyseUsageError(`--from and --to are required\n${USAGE}`)
    } catch (err) {
      console.error(`kerbside analyse: ${(err as Error).message}${err instanceof AnalyseUsageError ? '' : `\n${USAGE}`}`)
      return 1
    }
    const request = { from: values.from, to: values.to, contractId: values.contract }
    try {
      let report: AnalyseReport
      let db
      try {
        db = await openDatabase({
          url: env.config.DATABASE_URL, dataDir: env.config.KERBSIDE_DATA_DIR, poolSize: env.config.DATABASE_POOL_SIZE, tierCeiling: env.config.DATABASE_TIER,
          logger: env.logger.child({ component: 'database' }, { level: 'warn' }),
        })
      } catch (err) {
        if (!(err instanceof EmbeddedDatabaseBusyError)) throw err
        db = null
      }
      if (db) {
        try {
          report = await analyseRange(db, { ...request, timeZone: env.config.KERBSIDE_TIMEZONE, onProgress: (p) => console.log(progressLine(p)) })
        } finally {
          await db.close()
        }
      } else {
        console.log('A running Kerbside owns the embedded database: asking it to run the analysis.')
        report = await viaApi(env.config, request)
      }
      console.log(summaryLine(report))
      return 0
    } catch (err) {
      if (!(err instanceof AnalyseRangeError) && !(err instanceof ApiClientError)) throw err
      console.error(`kerbside analyse: ${err.message}`)
      return 1
    }
  },
}
