// The live city map: everything the dashboard's first screen needs in one response (households and
// their bins with the last reading, street lines, vehicles, recent lifts, alerts), and a small
// summary that also tells the caller who the API takes them for (the dashboard's sign-in check).
import { promisify } from 'node:util'
import { gzip as gzipCb } from 'node:zlib'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Database } from '../../storage/database.ts'
import { mapBins, mapCounts, mapHouseholds, mapRecentLifts, mapVehicles } from '../../storage/map.ts'
import { CityMap, MapQuery, MapSummary } from '../schemas/map.ts'
import { Errors } from '../schemas/common.ts'
import { buildCityMap, createStreetCache } from '../map/build-city-map.ts'

const MAP_ROLES = ['contract_manager', 'crm', 'viewer'] as const
const gzip = promisify(gzipCb)
// Whole-city JSON is long runs of similar ids and numbers: gzip takes it to about a tenth. Done
// here rather than for every route because this is the one response that is megabytes long.
const GZIP_FROM_BYTES = 16 * 1024
const acceptsGzip = (header: string | undefined) => !!header && /\bgzip\b/.test(header) && !/\bgzip\s*;\s*q=0(\.0*)?\b/.test(header)

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
  }, async (req, reply) => {
    const now = new Date()
    const since = new Date(now.getTime() - req.query.hours * 3_600_000)
    // One after another: the embedded database runs one query at a time anyway.
    const households = await mapHouseholds(db)
    const bins = await mapBins(db)
    const vehicles = await mapVehicles(db)
    const lifts = await mapRecentLifts(db, since, req.query.liftLimit)
    // JSON.stringify rather than the schema's serialiser: for a whole city's columns it is 10–30 times
    // faster (about 0.1 s against 0.9–2.4 s at 20,000 households), and the first screen waits on it.
    // The answer still matches the declared CityMap schema (tests/api/map/map-api.test.ts checks it).
    const map: CityMap = buildCityMap({ now, hours: req.query.hours, households, bins, vehicles, lifts, streets })
    const body = JSON.stringify(map)
    reply.type('application/json; charset=utf-8').header('vary', 'accept-encoding')
    if (body.length < GZIP_FROM_BYTES || !acceptsGzip(req.headers['accept-encoding'])) return reply.send(body)
    return reply.header('content-encoding', 'gzip').send(await gzip(body, { level: 4 }))
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
