// The live city map: everything the dashboard's first screen needs in one response (households and
// their bins with the last reading, street lines, vehicles, recent lifts, alerts), and a small
// summary that also tells the caller who the API takes them for (the dashboard's sign-in check).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Database } from '../../storage/database.ts'
import { mapBins, mapHouseholds, mapRecentLifts, mapVehicles, type MapCounts } from '../../storage/map.ts'
import type { SharedCount } from '../shared-count.ts'
import { promisify } from 'node:util'
import { gzip } from 'node:zlib'
import { Type } from '@sinclair/typebox'
import { ALERT_KINDS } from '../../core/bin-alerts.ts'
import { CityMap, MapHousehold, MapNearestQuery, MapOverview, MapQuery, MapSummary, MapTileParams, MapTileQuery } from '../schemas/map.ts'
import { HOUSEHOLDS_FROM_ZOOM, TILE_EXTENT } from '../map/city-index.ts'
import { Errors, Uprn } from '../schemas/common.ts'
import { buildCityMap, type StreetCache } from '../map/build-city-map.ts'
import { encodeSnapshot, type MapSnapshots } from '../map/snapshot.ts'
import type { BaseMap } from '../../core/base-map.ts'

const MAP_ROLES = ['contract_manager', 'crm', 'viewer'] as const
const gzipTile = promisify(gzip)
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

export const mapRoutes: FastifyPluginAsyncTypebox<{ db: Database; streets: StreetCache; snapshots: MapSnapshots | null; views: MapSnapshots; defaults: MapQuery; baseMap: BaseMap | null; counts: SharedCount<MapCounts> }> = async (app, { db, streets, snapshots, views, defaults, baseMap, counts }) => {
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
    const snapshot = snapshots && usual ? await snapshots.get() : encodeSnapshot(await readCityMap(db, streets, req.query, baseMap), 0)
    reply.type('application/json; charset=utf-8').header('vary', 'accept-encoding')
    const gzipped = await snapshot.gzipped()
    if (!gzipped || !acceptsGzip(req.headers['accept-encoding'])) return reply.send(snapshot.body)
    return reply.header('content-encoding', 'gzip').send(gzipped)
  })

  app.get('/map/summary', {
    onRequest: app.requireRole(...MAP_ROLES),
    schema: {
      tags: ['map'],
      summary: 'How big the city is, and who the API key belongs to',
      description: 'The counts are shared by every caller: counted again in the background when older than 30 s, and at once after a registry change through the API.',
      security: [{ apiKey: [] }],
      response: { 200: MapSummary, ...Errors },
    },
  }, async (req) => ({ caller: { name: req.caller!.name, role: req.caller!.role }, ...(await counts.get()).value }))

  // The map for a city of any size: the overview, vector tiles and one household at a time, all from one snapshot.
  app.addSchema(MapOverview)
  app.addSchema(MapHousehold)
  const householdAnswer = { 200: MapHousehold, ...Errors }
  const notOnMap = (what: string) => Object.assign(new Error(`${what} is not on the map (no such household with coordinates, or not in the latest snapshot).`), { statusCode: 404, code: 'KERBSIDE_ERR_NOT_ON_MAP' })

  app.get('/map/overview', {
    onRequest: app.requireRole(...MAP_ROLES),
    schema: {
      tags: ['map'],
      summary: "The city map's first screen: counts, households by fill band, alerts, vehicles, the latest lifts",
      description: 'Small at any city size. The households themselves are in the vector tiles (/api/v1/map/tiles/{z}/{x}/{y}, with `v` = `generation`), one household\'s bins at /api/v1/map/households/{uprn}; what happened since `generatedAt` arrives over the WebSocket /api/v1/live.',
      security: [{ apiKey: [] }],
      response: { 200: MapOverview, ...Errors },
    },
  }, async (req, reply) => {
    // Serialised once per snapshot (JSON.stringify, checked against the schema by the route's test), gzipped when the client takes it.
    const { body, gzipped } = (await views.get()).index.overviewEncoded()
    reply.type('application/json; charset=utf-8').header('vary', 'accept-encoding')
    if (!acceptsGzip(req.headers['accept-encoding'])) return reply.send(body)
    return reply.header('content-encoding', 'gzip').send(await gzipped)
  })

  app.get('/map/tiles/:z/:x/:y', {
    onRequest: app.requireRole(...MAP_ROLES),
    schema: {
      tags: ['map'],
      summary: 'Households and streets as a Mapbox vector tile',
      description: `Layer \`households\`: below zoom ${HOUSEHOLDS_FROM_ZOOM} clusters (\`point_count\`, households by fill band \`n0\`…\`n4\`, most urgent alert \`a\`: index into fire, overflow, offline, low_battery, ${ALERT_KINDS.length} for none), from zoom ${HOUSEHOLDS_FROM_ZOOM} one point per household (\`u\` UPRN, \`b\` fill band, \`a\` alert). Layer \`streets\`: the registry's street lines with \`name\`. Extent ${TILE_EXTENT}. Asked for with the overview's generation (\`v\`), the tile may be cached privately.`,
      security: [{ apiKey: [] }],
      params: MapTileParams,
      querystring: MapTileQuery,
      response: { 200: Type.String({ format: 'binary', description: 'application/vnd.mapbox-vector-tile' }), ...Errors },
    },
  }, async (req, reply) => {
    const { z, x, y } = req.params
    if (x >= 2 ** z || y >= 2 ** z) throw Object.assign(new Error(`Tile ${z}/${x}/${y} does not exist: x and y run from 0 to ${2 ** z - 1} at zoom ${z}.`), { statusCode: 400, code: 'KERBSIDE_ERR_BAD_TILE' })
    const snapshot = await views.get()
    const colour = req.query.colour
    if (colour !== 'all' && colour >= snapshot.map.streams.length) throw Object.assign(new Error(`colour ${colour} is not a stream of this city (0 to ${snapshot.map.streams.length - 1}, or all).`), { statusCode: 400, code: 'KERBSIDE_ERR_BAD_COLOUR' })
    const tile = snapshot.index.tile(z, x, y, colour)
    const current = req.query.v === snapshot.index.generation
    reply.type('application/vnd.mapbox-vector-tile').header('cache-control', current ? 'private, max-age=3600, immutable' : 'no-store').header('x-map-generation', snapshot.index.generation).header('vary', 'accept-encoding')
    const bytes = Buffer.from(tile.buffer, tile.byteOffset, tile.byteLength)
    // Cluster tiles are mostly repeated property names and small integers: gzip takes them to about a third.
    if (bytes.length < 1024 || !acceptsGzip(req.headers['accept-encoding'])) return reply.send(bytes)
    return reply.header('content-encoding', 'gzip').send(await gzipTile(bytes, { level: 4 }))
  })

  app.get('/map/streets', {
    onRequest: app.requireRole(...MAP_ROLES),
    schema: { tags: ['map'], summary: "The registry's street lines with their names (the why-missed hotspot map)", security: [{ apiKey: [] }], response: { 200: Type.Object({ generatedAt: CityMap.properties.generatedAt, streets: CityMap.properties.streets }), ...Errors } },
  }, async () => (await views.get()).index.streetLines())

  app.get('/map/households/:uprn', {
    onRequest: app.requireRole(...MAP_ROLES),
    schema: { tags: ['map'], summary: "One household on the map: its bins, their last readings and alerts", security: [{ apiKey: [] }], params: Type.Object({ uprn: Uprn }), response: householdAnswer },
  }, async (req) => (await views.get()).index.household(req.params.uprn) ?? Promise.reject(notOnMap(`UPRN ${req.params.uprn}`)))

  app.get('/map/devices/:deviceId/household', {
    onRequest: app.requireRole(...MAP_ROLES),
    schema: { tags: ['map'], summary: 'The household whose bin carries this sensor (for a live reading that raises an alert)', security: [{ apiKey: [] }], params: Type.Object({ deviceId: Type.String({ minLength: 1, maxLength: 128 }) }), response: householdAnswer },
  }, async (req) => (await views.get()).index.householdOfDevice(req.params.deviceId) ?? Promise.reject(notOnMap(`Sensor ${req.params.deviceId}`)))

  app.get('/map/nearest', {
    onRequest: app.requireRole(...MAP_ROLES),
    schema: { tags: ['map'], summary: 'The household nearest to a point (a lift on the feed, a click on the map)', security: [{ apiKey: [] }], querystring: MapNearestQuery, response: householdAnswer },
  }, async (req) => (await views.get()).index.nearest(req.query.lat, req.query.lon, req.query.withinM) ?? Promise.reject(notOnMap(`No household within ${req.query.withinM} m of ${req.query.lat}, ${req.query.lon}; that point`)))
}
