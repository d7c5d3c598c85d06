// The live city map: everything the dashboard's first screen needs in one response (households and
// their bins with the last reading, street lines, vehicles, recent lifts, alerts), and a small
// summary that also tells the caller who the API takes them for (the dashboard's sign-in check).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Database } from '../../storage/database.ts'
import { mapCounts, mapHouseholdBins, mapRecentLifts, mapVehicles } from '../../storage/map.ts'
import { CityMap, MapQuery, MapSummary } from '../schemas/map.ts'
import { Errors } from '../schemas/common.ts'
import { buildCityMap, createStreetCache } from '../map/build-city-map.ts'

const MAP_ROLES = ['contract_manager', 'crm', 'viewer'] as const

export const mapRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.addSchema(CityMap)
  app.addSchema(MapSummary)
  const streets = createStreetCache()

  app.get('/map', {
    preHandler: app.requireRole(...MAP_ROLES),
    schema: {
      tags: ['map'],
      summary: 'The city now: households, bins and their last readings, streets, vehicles, recent lifts, alerts',
      description: 'Columnar and compact for a whole city in one response: see the CityMap schema. Live changes follow on the WebSocket /api/v1/live.',
      security: [{ apiKey: [] }],
      querystring: MapQuery,
      response: { 200: CityMap, ...Errors },
    },
  }, async (req) => {
    const now = new Date()
    const since = new Date(now.getTime() - req.query.hours * 3_600_000)
    // One after another: the embedded database runs one query at a time anyway.
    const binRows = await mapHouseholdBins(db)
    const vehicles = await mapVehicles(db)
    const lifts = req.query.liftLimit > 0 ? await mapRecentLifts(db, since, req.query.liftLimit) : []
    return buildCityMap({ now, hours: req.query.hours, binRows, vehicles, lifts, streets })
  })

  app.get('/map/summary', {
    preHandler: app.requireRole(...MAP_ROLES),
    schema: {
      tags: ['map'],
      summary: 'How big the city is, and who the API key belongs to',
      security: [{ apiKey: [] }],
      response: { 200: MapSummary, ...Errors },
    },
  }, async (req) => ({ caller: { name: req.caller!.name, role: req.caller!.role }, ...(await mapCounts(db)) }))
}
