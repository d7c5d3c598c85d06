// Contractor performance and why bins are missed, per contract: KPIs against targets with points,
// deduction and score; the league of rounds; trends; the breakdowns, hotspots, repeat households and
// return-trip cost; and the collections behind each KPI. Definitions in docs/kpis.md.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { kpiCollections } from '../../analysis/performance/drill-down.ts'
import { InvalidRangeError } from '../../analysis/performance/periods.ts'
import { contractPerformance, performanceTrends, roundLeague } from '../../analysis/performance/performance.ts'
import { DEFAULT_TIME_ZONE } from '../../analysis/performance/rollup.ts'
import { ContractNotFoundError } from '../../analysis/performance/terms.ts'
import { whyMissed } from '../../analysis/why-missed/why-missed.ts'
import type { Database } from '../../storage/database.ts'
import { httpError } from '../errors.ts'
import { Errors } from '../schemas/common.ts'
import { CollectionsQuery, ContractParams, LeagueQuery, PERFORMANCE_SCHEMAS, RangeQuery, TrendsQuery, WhyMissedQuery } from '../schemas/performance.ts'
import { Type } from '@sinclair/typebox'

const ROLES = ['contract_manager', 'viewer'] as const // admin passes every role check

/** Analysis errors as HTTP errors: an unknown contract is a 404, a bad range a 400. */
async function answer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    if (err instanceof ContractNotFoundError) throw httpError(404, err.name, err.message)
    if (err instanceof InvalidRangeError) throw httpError(400, err.name, err.message)
    throw err
  }
}

export const performanceRoutes: FastifyPluginAsyncTypebox<{ db: Database; timeZone?: string }> = async (app, { db, timeZone = DEFAULT_TIME_ZONE }) => {
  for (const schema of PERFORMANCE_SCHEMAS) app.addSchema(schema)
  const common = { tags: ['performance'], security: [{ apiKey: [] }], params: ContractParams }

  app.get('/contracts/:contractId/performance', {
    onRequest: app.requireRole(...ROLES),
    schema: {
      ...common, summary: 'Contractor KPIs against the contract\'s targets, default points, the monthly deduction and the 0–100 score',
      querystring: RangeQuery, response: { 200: Type.Ref('ContractPerformance'), ...Errors },
    },
  }, async (req) => answer(() => contractPerformance(db, req.params.contractId, { ...req.query, timeZone })))

  app.get('/contracts/:contractId/league', {
    onRequest: app.requireRole(...ROLES),
    schema: {
      ...common, summary: 'The contract\'s rounds ranked by score, with their KPIs and points: a page in the order asked for, the number of rounds and the contract\'s totals',
      description: 'A city\'s league is hundreds of rounds: ask for a page (`limit`, `offset`) in the order shown (`sort`, `order`), e.g. the top ten (`limit=10`) and the bottom ten (`sort=rank&order=desc&limit=10`). Without `limit`, every round.',
      querystring: LeagueQuery, response: { 200: Type.Ref('League'), ...Errors },
    },
  }, async (req) => answer(() => roundLeague(db, req.params.contractId, { ...req.query, timeZone })))

  app.get('/contracts/:contractId/trends', {
    onRequest: app.requireRole(...ROLES),
    schema: {
      ...common, summary: 'KPIs, points and score by day, ISO week or month over a range',
      querystring: TrendsQuery, response: { 200: Type.Ref('Trends'), ...Errors },
    },
  }, async (req) => answer(() => performanceTrends(db, req.params.contractId, { ...req.query, timeZone })))

  app.get('/contracts/:contractId/why-missed', {
    onRequest: app.requireRole(...ROLES),
    schema: {
      ...common, summary: 'Why bins are missed: breakdowns, hotspots, repeat households and the cost of return trips',
      querystring: WhyMissedQuery, response: { 200: Type.Ref('WhyMissed'), ...Errors },
    },
  }, async (req) => answer(() => whyMissed(db, req.params.contractId, { ...req.query, timeZone })))

  app.get('/contracts/:contractId/collections', {
    onRequest: app.requireRole(...ROLES),
    schema: {
      ...common, summary: 'The collections behind a KPI (drill-down), oldest first, paged',
      querystring: CollectionsQuery, response: { 200: Type.Ref('KpiCollectionPage'), ...Errors },
    },
  }, async (req) => {
    const { kpi, round, code, limit, offset, from, to } = req.query
    const page = await answer(() => kpiCollections(db, req.params.contractId, { kpi, from, to, roundId: round, exceptionCode: code, limit, offset }))
    return { ...page, limit, offset }
  })
}
