// The live city map: everything the dashboard's first screen needs in one response (households and
// their bins with the last reading, street lines, vehicles, recent lifts, alerts), and a small
// summary that also tells the caller who the API takes them for (the dashboard's sign-in check).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Database } from '../../storage/database.ts'
import { mapBins, mapCounts, mapHouseholds, mapRecentLifts, mapVehicles } from '../../storage/map.ts'
import { CityMap, MapQuery, MapSummary } from '../schemas/map.ts'
import { Errors } from '../schemas/common.ts'
import { buildCityMap, type StreetCache } from '../map/build-city-map.ts'
import { encodeSnapshot, type MapSnapshots } from '../map/snapshot.ts'
import type { BaseMap } from '../../core/base-map.ts'

const MAP_ROLES = ['contract_manager', 'crm', 'viewer'] as const
// Compressed here rather than for every route because this is the one response that is megabytes long.
const acceptsGzip = (header: string | undefined) => !!header && /\bgzip\b/.test(header) && !/\bgzip\s*;\s*q=0(\.0*)?\b/.test(header)

/** The whole city now: `hours` of recent lifts, at most `liftLimit`. */
export async function readCityMap(db: Database, streets: StreetCache, q: MapQuery, baseMap: BaseMap | null = null): Promise<CityMap> {
  const now = new Date()
  const since = new Date(now.getTime() - q.hours * 3_600_000)
  // One after another: the embedded database runs one query at a time anyway.
  const households = await mapHouseholds(db)
  const bins = await mapBins(db)
  const vehicles = await mapVehicles(db)
  const lifts = await mapRecentLifts(db, since, q.liftLimit)
  return buildCityMap({ now, hours: q.hours, households, bins, vehicles, lifts, streets, baseMap })
}

export const mapRoutes: FastifyPluginAsyncTypebox<{ db: Database; streets: StreetCache; snapshots: MapSnapshots | null; defaults: MapQuery; baseMap: BaseMap | null }> = async (app, { db, streets, snapshots, defaults, baseMap }) => {
  app.addSchema(CityMap)
  app.addSchema(MapSummary)

  app.get('/map', {
    onRequest: app.requireRole(...MAP_ROLES),
    schema: {
      tags: ['map'],
      summary: 'The city now: households, bins and their last readings, streets, vehicles, recent lifts, alerts',
      description: 'Columnar and compact for a whole city in one response: see the CityMap schema. With the default query the answer is the API\'s latest snapshot of the city (`generatedAt` says when it was made, at most MAP_SNAPSHOT_SECONDS × 2 ago); what happened since arrives over the WebSocket /api/v1/live, which replays its last few minutes on request.',
      security: [{ apiKey: [] }],
      querystring: MapQuery,
      response: { 200: CityMap, ...Errors },
    },
  }, async (req, reply) => {
    const usual = req.query.hours === defaults.hours && req.query.liftLimit === defaults.liftLimit
    const snapshot = snapshots && usual ? await snapshots.get() : await encodeSnapshot(await readCityMap(db, streets, req.query, baseMap), 0)
    reply.type('application/json; charset=utf-8').header('vary', 'accept-encoding')
    if (!snapshot.gzipped || !acceptsGzip(req.headers['accept-encoding'])) return reply.send(snapshot.body)
    return reply.header('content-encoding', 'gzip').send(snapshot.gzipped)
  })

  app.get('/map/summary', {
    onRequest: app.requireRole(...MAP_ROLES),
    schema: {
      tags: ['map'],
      summary: 'How big the city is, and who the API key belongs to',
      security: [{ apiKey: [] }],
      response: { 200: MapSummary, ...Errors },
    },
  }, async (req) => ({ caller: { name: req.caller!.name, role: req.caller!.role }, ...(await mapCounts(db)) }))
}
