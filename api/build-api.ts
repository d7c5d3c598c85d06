// The HTTP API (fastify). Built here and returned unlistened: tests call `app.inject`, the entry
// point calls `listen`. Plugins in boot order: security (helmet, CORS, rate limit) -> docs ->
// auth -> routes -> the built dashboard.
import { existsSync } from 'node:fs'
import { STATUS_CODES } from 'node:http'
import Fastify, { type FastifyBaseLogger, type FastifyReply } from 'fastify'
import cors from '@fastify/cors'
import formbody from '@fastify/formbody'
import helmet from '@fastify/helmet'
import rateLimit from '@fastify/rate-limit'
import fastifyStatic from '@fastify/static'
import swagger from '@fastify/swagger'
import { finishDocument } from './openapi-document.ts'
import swaggerUi from '@fastify/swagger-ui'
import websocket from '@fastify/websocket'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Registry } from 'prom-client'
import { redactUrl, type Logger } from '../core/log.ts'
import type { Database } from '../storage/database.ts'
import { errorHandler } from './errors.ts'
import { createLocalFeed, type LiveFeed } from './live-feed.ts'
import { authPlugin } from './plugins/auth.ts'
import { errorMetricsPlugin, httpErrorsCounter } from './plugins/error-metrics.ts'
import { inputGuardPlugin } from './plugins/input-guard.ts'
import { ErrorBody } from './schemas/common.ts'
import { deviceRoutes } from './routes/devices.ts'
import { keyRoutes } from './routes/keys.ts'
import { userRoutes } from './routes/users.ts'
import { householdRoutes } from './routes/households.ts'
import { auditPlugin } from './plugins/audit.ts'
import { liveRoutes } from './routes/live.ts'
import { mapRoutes, readCityMap } from './routes/map.ts'
import { mapCounts } from '../storage/map.ts'
import { onOneCore, sharedCount } from './shared-count.ts'
import { createStreetCache } from './map/build-city-map.ts'
import { createMapSnapshots, type MapSnapshots } from './map/snapshot.ts'
import { MapQuery } from './schemas/map.ts'
import { baseMapImageSource, type BaseMap } from '../core/base-map.ts'
import { opsRoutes, type ReadinessCheck } from './routes/ops.ts'
import { registryRoutes } from './routes/registry.ts'
import { rewardRoutes } from './routes/rewards.ts'
import { crmEventRoutes } from './routes/crm-events.ts'
import { open311Routes } from './routes/open311/index.ts'
import { performanceRoutes } from './routes/performance.ts'
import { contractRoutes } from './routes/contracts.ts'
import { reportRoutes } from './routes/reports.ts'
import { quarantineRoutes } from './routes/quarantine.ts'
import { ngsiLdRoutes } from './routes/ngsi-ld.ts'
import { privacyRoutes } from './routes/privacy.ts'
import { firstContactRoutes } from './routes/first-contact.ts'
import { proactiveRoutes } from './routes/proactive.ts'
import { forecastRoutes } from './routes/forecasts.ts'
import { analyseRoutes } from './routes/analyse.ts'
import type { AssessReport } from '../storage/reports.ts'
import type { Pipeline } from '../ingest/pipeline.ts'
import { createLoRaWANIngest } from '../ingest/lorawan/uplink-handler.ts'
import { lorawanRoutes } from './routes/lorawan.ts'

export interface ApiOptions {
  db: Database
  /** Judges each new missed-bin report from the evidence (analysis/first-contact createReportAssessor); without it reports stay pending. */
  assessReport?: AssessReport
  logger: Logger
  registry: Registry
  adminKey: string
  live?: LiveFeed
  readiness?: Record<string, ReadinessCheck>
  corsOrigins?: string[]
  rateLimitPerMinute?: number
  /**
   * Addresses (IPs or CIDRs) of the reverse proxies whose X-Forwarded-For is believed. Empty or unset:
   * none, so request.ip (rate limits, login throttling, audit) is the socket's own address.
   */
  trustedProxies?: string[]
  /** Folder of the built dashboard, served at / when it exists. */
  dashboardDir?: string
  https?: { cert: Buffer; key: Buffer }
  /** The council's time zone: "today", due dates and reporting windows are local dates. */
  timezone?: string
  /** Keep the city map built ahead, rebuilt every this many seconds (api/map/snapshot.ts); 0 or unset: build it for each request. */
  mapSnapshotSeconds?: number
  /** The operator's tile server for the dashboard map (core/base-map.ts); unset: the registry's streets are drawn. */
  baseMap?: BaseMap | null
  /** The ingest pipeline, for the LoRaWAN network servers' webhooks (routes/lorawan.ts); without it they answer 503. */
  pipeline?: Pipeline
  /** Per-network-server secrets and the body limit of those webhooks. */
  lorawan?: { ttnSecret?: string; chirpstackSecret?: string; maxBodyBytes?: number }
}

/** Request bodies beyond this are refused with 413; the registry import has its own limit (routes/registry.ts). */
export const BODY_LIMIT = 256 * 1024

const MAP_DEFAULTS: MapQuery = { hours: MapQuery.properties.hours.default as number, liftLimit: MapQuery.properties.liftLimit.default as number }

declare module 'fastify' {
  interface FastifyInstance {
    /** The city map kept built ahead, or null when each request builds it. */
    mapSnapshots: MapSnapshots | null
  }
}

export async function buildApi(opts: ApiOptions) {
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    https: opts.https ?? null,
    trustProxy: opts.trustedProxies && opts.trustedProxies.length > 0 ? opts.trustedProxies : false,
    bodyLimit: BODY_LIMIT,
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false } },
    // URLs the router refuses (a malformed %-escape, a path segment over 100 characters) answered in
    // the API's error body and counted like every other refusal (these replies skip the hooks).
    frameworkErrors: (err, _req, reply: FastifyReply) => {
      const statusCode = err.statusCode ?? 400
      httpErrorsCounter(opts.registry).inc({ status: String(statusCode), code: err.code })
      void reply.code(statusCode).send({ statusCode, code: err.code, error: STATUS_CODES[statusCode] ?? 'Bad Request', message: err.message })
    },
  }).withTypeProvider<TypeBoxTypeProvider>()
  app.setErrorHandler(errorHandler)
  await app.register(errorMetricsPlugin, { registry: opts.registry })
  await app.register(inputGuardPlugin)
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ statusCode: 404, code: 'KERBSIDE_ERR_NOT_FOUND', error: 'Not Found', message: `No route ${req.method} ${redactUrl(req.url)}. The API is described at /docs.` }))

  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        // The base map's tiles are images from the operator's tile server, and nothing else from outside.
        imgSrc: ["'self'", 'data:', 'blob:', ...(opts.baseMap ? [baseMapImageSource(opts.baseMap)] : [])],
        connectSrc: ["'self'", 'ws:', 'wss:'],
        workerSrc: ["'self'", 'blob:'],
      },
    },
  })
  const origins = opts.corsOrigins ?? []
  await app.register(cors, { origin: origins.length > 0 ? origins : false })
  await app.register(rateLimit, {
    max: opts.rateLimitPerMinute ?? 600,
    timeWindow: '1 minute',
    allowList: (req) => req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics',
    keyGenerator: (req) => (req.headers.authorization ?? req.headers['x-api-key'] ?? req.ip) as string,
    errorResponseBuilder: (_req, ctx) => ({ statusCode: 429, code: 'KERBSIDE_ERR_RATE_LIMITED', error: 'Too Many Requests', message: `Rate limit of ${ctx.max} requests per minute reached; retry in ${Math.ceil(ctx.ttl / 1000)} s.` }),
  })
  await app.register(formbody)
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } })

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Kerbside API', version: '1', description: 'Smart-bin telemetry and refuse-service monitoring for councils.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      // Relative: the document describes the server that serves it, wherever it is deployed.
      servers: [{ url: '/', description: 'This Kerbside server' }],
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'API key: Authorization: Bearer ks_…' } } },
    },
    // operationIds, public operations' `security: []`, 4xx answers and 2020-12 tuples (api/openapi-document.ts).
    transformObject: (documentObject) => finishDocument('openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject),
    refResolver: { buildLocalReference: (json, _base, _frag, i) => (json.$id as string) ?? `def-${i}` },
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
  app.addSchema(ErrorBody)

  // The city map built ahead; a registry change through the API drops it at once.
  const streets = createStreetCache()
  const mapSnapshots = opts.mapSnapshotSeconds
    ? createMapSnapshots({ build: () => readCityMap(opts.db, streets, MAP_DEFAULTS, opts.baseMap ?? null), refreshMs: opts.mapSnapshotSeconds * 1000, maxAgeMs: 2 * opts.mapSnapshotSeconds * 1000, logger: opts.logger, prepare: true })
    : null
  // The overview, tiles and households always come from a snapshot, so that one screen's answers agree;
  // with none kept ahead, one is built on demand and lives a few seconds.
  const mapViews = mapSnapshots ?? createMapSnapshots({ build: () => readCityMap(opts.db, streets, MAP_DEFAULTS, opts.baseMap ?? null), refreshMs: 0, maxAgeMs: 5000, logger: opts.logger })
  app.decorate('mapSnapshots', mapSnapshots)
  // How big the city is (the map summary): counted at most every 30 s for every caller, again at once after a registry change.
  const mapSizes = sharedCount(onOneCore(opts.db, mapCounts), { freshMs: 30_000, onError: (err) => opts.logger.warn({ err }, 'map summary: the city not counted') })
  app.addHook('onResponse', async (req, reply) => {
    if (req.method !== 'GET' && reply.statusCode < 400 && req.routeOptions.url?.startsWith('/api/v1/registry')) mapSizes.invalidate()
  })
  if (mapSnapshots) {
    mapSnapshots.start()
    app.addHook('onResponse', async (req, reply) => {
      if (req.method !== 'GET' && reply.statusCode < 400 && req.routeOptions.url?.startsWith('/api/v1/registry')) mapSnapshots.invalidate()
    })
    app.addHook('onClose', async () => mapSnapshots.stop())
  }

  await app.register(authPlugin, { db: opts.db, adminKey: opts.adminKey })
  await app.register(auditPlugin, { db: opts.db })
  await app.register(opsRoutes, { registry: opts.registry, checks: { database: async () => (await opts.db.query('SELECT 1')).rowCount === 1, ...opts.readiness } })
  await app.register(async (v1) => {
    await v1.register(deviceRoutes, { db: opts.db })
    await v1.register(keyRoutes, { db: opts.db })
    await v1.register(userRoutes, { db: opts.db })
    await v1.register(householdRoutes, { db: opts.db, timezone: opts.timezone ?? 'Europe/London' })
    await v1.register(privacyRoutes, { db: opts.db, timezone: opts.timezone ?? 'Europe/London' })
    await v1.register(firstContactRoutes, { db: opts.db })
    await v1.register(liveRoutes, { feed: opts.live ?? createLocalFeed(), db: opts.db })
    await v1.register(mapRoutes, { db: opts.db, streets, snapshots: mapSnapshots, views: mapViews, defaults: MAP_DEFAULTS, baseMap: opts.baseMap ?? null, counts: mapSizes })
    await v1.register(registryRoutes, { db: opts.db })
    await v1.register(rewardRoutes, { db: opts.db, timezone: opts.timezone ?? 'Europe/London' })
    await v1.register(crmEventRoutes, { db: opts.db })
    await v1.register(performanceRoutes, { db: opts.db, timeZone: opts.timezone ?? 'Europe/London' })
    await v1.register(contractRoutes, { db: opts.db })
    await v1.register(reportRoutes, { db: opts.db })
    await v1.register(quarantineRoutes, { db: opts.db })
    await v1.register(proactiveRoutes, { db: opts.db })
    await v1.register(forecastRoutes, { db: opts.db })
    await v1.register(lorawanRoutes, {
      db: opts.db,
      ingest: opts.pipeline ? createLoRaWANIngest({ db: opts.db, pipeline: opts.pipeline, logger: opts.logger.child({ component: 'lorawan' }), registry: opts.registry }) : null,
      secrets: { ttn: opts.lorawan?.ttnSecret, chirpstack: opts.lorawan?.chirpstackSecret },
      maxBodyBytes: opts.lorawan?.maxBodyBytes ?? 256 * 1024,
    })
    await v1.register(analyseRoutes, { db: opts.db, timeZone: opts.timezone ?? 'Europe/London' })
  }, { prefix: '/api/v1' })
  await app.register(open311Routes, { prefix: '/open311/v2', db: opts.db, assessReport: opts.assessReport })
  await app.register(ngsiLdRoutes, { prefix: '/ngsi-ld/v1', db: opts.db, timeZone: opts.timezone ?? 'Europe/London' })

  if (opts.dashboardDir && existsSync(opts.dashboardDir)) {
    await app.register(fastifyStatic, { root: opts.dashboardDir, prefix: '/', wildcard: false, index: ['index.html'] })
  }
  return app
}

export type Api = Awaited<ReturnType<typeof buildApi>>
