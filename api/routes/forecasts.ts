// Fill forecasts for the contract manager (analysis/forecast): the list to act on — bins forecast to
// overflow before their collection first, communal and high-use before the rest — and one bin's forecast.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { BinForecast } from '../../analysis/proactive/schema.ts'
import type { Database } from '../../storage/database.ts'
import { getForecast, listForecasts, type StoredForecast } from '../../storage/forecasts.ts'
import { httpError } from '../errors.ts'
import { Errors } from '../schemas/common.ts'

const READERS = ['contract_manager', 'viewer'] as const
const iso = (d: Date | null) => (d ? d.toISOString() : null)
const out = (f: StoredForecast) => ({
  ...f, readAt: f.readAt.toISOString(), lastEmptiedAt: iso(f.lastEmptiedAt), fullAt: iso(f.fullAt), nextCollectionAt: iso(f.nextCollectionAt), forecastAt: f.forecastAt.toISOString(),
})

export const forecastRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.addSchema(BinForecast)

  app.get('/forecasts/bins', {
    onRequest: app.requireRole(...READERS),
    schema: {
      tags: ['forecasts'], summary: 'Bins by forecast: overflowing before collection first, communal and high-use first, soonest full first', security: [{ apiKey: [] }],
      querystring: Type.Object({
        overflow: Type.Boolean({ default: true, description: 'Only bins forecast to be full before their next collection' }),
        stream: Type.Optional(Type.String()), contractId: Type.Optional(Type.String()),
        limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }), offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
      }),
      response: { 200: Type.Array(Type.Ref('BinForecast')), ...Errors },
    },
  }, async (req) => (await listForecasts(db, { overflowOnly: req.query.overflow, stream: req.query.stream, contractId: req.query.contractId, limit: req.query.limit, offset: req.query.offset })).map(out))

  app.get('/forecasts/bins/:binId', {
    onRequest: app.requireRole(...READERS),
    schema: { tags: ['forecasts'], summary: 'One bin\'s fill forecast', security: [{ apiKey: [] }], params: Type.Object({ binId: Type.String({ minLength: 1, maxLength: 100 }) }), response: { 200: Type.Ref('BinForecast'), ...Errors } },
  }, async (req) => {
    const f = await getForecast(db, req.params.binId)
    if (!f) throw httpError(404, 'KERBSIDE_ERR_NOT_FOUND', `No forecast for bin ${req.params.binId}: it has no sensor, or no readings yet.`)
    return out(f)
  })
}
