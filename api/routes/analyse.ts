// Re-running the analysis for a range (analysis/rerun): outcomes re-decided, KPIs re-scored, rewards
// re-posted, each under the scheduled job's own lock. A run for a large city takes minutes, so POST
// starts it and answers 202 with its id at once; GET answers its progress and, when done, its report.
// `kerbside analyse` uses the same routes when a running Kerbside owns the embedded database.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { AnalyseRangeError, getAnalyseRun, startAnalyseRun, type AnalyseRun } from '../../analysis/rerun/analyse-range.ts'
import type { Database } from '../../storage/database.ts'
import { httpError } from '../errors.ts'
import { Errors } from '../schemas/common.ts'

const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD' })
const Nullable = <T extends ReturnType<typeof Type.Any>>(t: T) => Type.Union([t, Type.Null()])

export const AnalyseRunOut = Type.Object({
  id: Type.String(),
  status: Type.Union([Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')]),
  startedAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  request: Type.Object({ from: Day, to: Day, contractId: Type.Union([Type.String(), Type.Null()]) }),
  progress: Nullable(Type.Any({ description: 'The latest step: { stage: waiting | outcomes | kpis | rewards, … } (outcomes: the day, daysDone of days, decided, written, crmEvents)' })),
  report: Nullable(Type.Any({ description: 'When done: days, decided, written, outcomes, crmEvents, reports closed, KPI days, reward postings, ms' })),
  error: Type.Union([Type.String(), Type.Null()]),
}, { $id: 'AnalyseRun' })

const out = (r: AnalyseRun) => ({ ...r, startedAt: r.startedAt.toISOString(), finishedAt: r.finishedAt?.toISOString() ?? null })

export const analyseRoutes: FastifyPluginAsyncTypebox<{ db: Database; timeZone: string }> = async (app, { db, timeZone }) => {
  app.addSchema(AnalyseRunOut)

  app.post('/analysis/runs', {
    onRequest: app.requireRole('admin'),
    schema: {
      tags: ['analysis'],
      summary: 'Re-run the analysis for a range of due days: re-decide outcomes, re-score KPIs, re-post rewards',
      description: 'After late data, a registry correction or a contract change. Idempotent (a second run changes nothing), and guarded by the scheduled jobs\' locks: '
        + 'it waits while the hourly outcomes job, the KPI roll-up or the reward posting is running. Answers 202 at once; follow the run at GET /analysis/runs/{id}.',
      security: [{ apiKey: [] }],
      body: Type.Object({ from: Day, to: Day, contractId: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) }, { additionalProperties: false }),
      response: { 202: Type.Ref('AnalyseRun'), ...Errors },
    },
  }, async (req, reply) => {
    const { from, to, contractId } = req.body
    let id: string
    try {
      id = await startAnalyseRun(db, { from, to, contractId: contractId ?? null, timeZone, log: req.log })
    } catch (err) {
      if (err instanceof AnalyseRangeError) throw httpError(400, 'KERBSIDE_ERR_REQUEST', err.message)
      throw err
    }
    req.log.info({ run: id, from, to, contractId, by: req.caller?.keyId }, 'analysis re-run started')
    return reply.code(202).send(out((await getAnalyseRun(db, id))!))
  })

  app.get('/analysis/runs/:id', {
    onRequest: app.requireRole('admin'),
    schema: {
      tags: ['analysis'], summary: 'A re-run of the analysis: its progress, and its report when done',
      description: 'status running, then done (with the report) or failed (with the error): a run that Kerbside stopped in the middle of (a restart, a crash) is failed, not running for ever; run the range again.',
      security: [{ apiKey: [] }],
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      response: { 200: Type.Ref('AnalyseRun'), ...Errors },
    },
  }, async (req) => {
    const run = await getAnalyseRun(db, req.params.id)
    if (!run) throw httpError(404, 'KERBSIDE_ERR_NOT_FOUND', `No analysis run ${req.params.id}.`)
    return out(run)
  })
}
