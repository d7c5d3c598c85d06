// Assembling Kerbside's services from configuration: each alone (distributed mode) or all in one
// process on the embedded database (the default). Every `start*` returns something to close, in
// the order that loses nothing: stop taking requests, flush ingest, close the broker, the database.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { collectKerbsideDefaultMetrics } from './default-metrics.ts'
import { crmWebhookUrls, localMqttUrl, type Config } from '../core/config.ts'
import { loadLocalSecrets, type LocalSecrets } from '../core/local-secrets.ts'
import type { Logger } from '../core/log.ts'
import { createBroker, type Broker } from '../broker/create-broker.ts'
import { listenBroker, type Listening } from '../broker/listeners.ts'
import { SERVICE_USER_PREFIX } from '../broker/device-auth.ts'
import { createIngest, type Ingest } from '../ingest/create-ingest.ts'
import { createPipeline, type Pipeline } from '../ingest/pipeline.ts'
import { createLoRaWANIngest } from '../ingest/lorawan/uplink-handler.ts'
import { startTtsBackfill } from '../ingest/lorawan/tts-backfill.ts'
import { parseMqttSources, startLoRaWANMqttSource } from '../ingest/lorawan/mqtt-source.ts'
import { newestLoRaWANReading } from '../storage/lorawan-devices.ts'
import { buildApi, type Api } from '../api/build-api.ts'
import type { ReadinessCheck } from '../api/routes/ops.ts'
import { connectLiveFeed, type LiveFeed } from '../api/live-feed.ts'
import type { Database } from '../storage/database.ts'
import { deviceCredentials, devicesRevokedRecently } from '../storage/devices.ts'
import { openDatabase } from '../storage/open-database.ts'
import { startScheduler, type Scheduler } from '../analysis/scheduler.ts'
import { createReportAssessor } from '../analysis/first-contact/assess-report.ts'
import { startCrmWebhooks, type WebhookWorker } from '../analysis/crm-feed/webhook-worker.ts'
import { parseBaseMap } from '../core/base-map.ts'

export const DASHBOARD_DIR = join(import.meta.dirname, '..', 'dashboard', 'dist')

export interface Context {
  config: Config
  logger: Logger
  registry: Registry
  secrets: LocalSecrets
}

export function createContext(config: Config, logger: Logger): Context {
  const registry = new Registry()
  collectKerbsideDefaultMetrics(registry)
  const secrets = loadLocalSecrets(config.KERBSIDE_DATA_DIR, { adminKey: config.KERBSIDE_ADMIN_KEY, serviceSecret: config.KERBSIDE_SERVICE_SECRET })
  if (secrets.generated.includes('adminKey')) {
    logger.warn({ file: secrets.file }, `Generated the admin API key and saved it in ${secrets.file}. Set KERBSIDE_ADMIN_KEY to choose your own.`)
  }
  return { config, logger, registry, secrets }
}

export function openConfiguredDatabase(ctx: Context, migrate = true): Promise<Database> {
  return openDatabase({
    url: ctx.config.DATABASE_URL,
    dataDir: ctx.config.KERBSIDE_DATA_DIR,
    poolSize: ctx.config.DATABASE_POOL_SIZE,
    tierCeiling: ctx.config.DATABASE_TIER,
    embeddedFsync: ctx.config.EMBEDDED_FSYNC,
    logger: ctx.logger.child({ component: 'database' }),
    migrate,
  })
}

/** How long a shutdown waits for the pipeline to commit (and acknowledge) what it holds. */
const SHUTDOWN_DRAIN_MS = 10_000

export interface RunningBroker { broker: Broker; pipeline: Pipeline; listening: Listening; close(): Promise<void> }

/** The ingest pipeline with the configured batching; front doors hand it messages (ingest/pipeline.ts). */
export function createConfiguredPipeline(ctx: Context, db: Database, forward?: (msg: { topic: string; payload: Buffer }) => void): Pipeline {
  const { config } = ctx
  return createPipeline({
    forward,
    db,
    logger: ctx.logger.child({ component: 'ingest' }),
    registry: ctx.registry,
    batchSize: config.INGEST_BATCH_SIZE,
    batchMs: config.INGEST_BATCH_MS,
    maxPayloadBytes: config.INGEST_MAX_PAYLOAD_BYTES,
  })
}

/**
 * Kerbside's broker, committing its own devices' messages: each node of any shape (all in one, a
 * broker process on a database server, nodes sharing Redis) writes what its devices send before it
 * answers PUBACK. No second hop, no ingest subscriber.
 */
export async function startBroker(ctx: Context, db: Database): Promise<RunningBroker> {
  const { config } = ctx
  // Messages from other front doors (LoRaWAN webhooks) reach live subscribers through this broker once stored.
  let forwardTo: Broker | null = null
  const pipeline = createConfiguredPipeline(ctx, db, (msg) => forwardTo?.aedes.publish({ cmd: 'publish', topic: msg.topic, payload: msg.payload, qos: 0, retain: false, dup: false }, () => undefined))
  const broker = await createBroker({
    pipeline,
    revokedRecently: (s) => devicesRevokedRecently(db, s),
    logger: ctx.logger.child({ component: 'broker' }),
    registry: ctx.registry,
    lookupDevice: (id) => deviceCredentials(db, id),
    serviceSecret: ctx.secrets.serviceSecret,
    persistence: { kind: config.MQTT_PERSISTENCE, dataDir: config.KERBSIDE_DATA_DIR, redisUrl: config.REDIS_URL },
    drainTimeoutMs: config.MQTT_DRAIN_TIMEOUT_MS,
    authFailuresPerMinute: config.MQTT_AUTH_FAILURES_PER_MINUTE,
  })
  forwardTo = broker
  const listening = await listenBroker(broker, {
    host: config.MQTT_HOST,
    maxPacketBytes: config.MQTT_MAX_PACKET_BYTES,
    tcpPort: config.MQTT_PORT,
    wsPort: config.MQTT_WS_PORT,
    tls: config.MQTT_TLS_CERT && config.MQTT_TLS_KEY ? { port: config.MQTTS_PORT, certPath: config.MQTT_TLS_CERT, keyPath: config.MQTT_TLS_KEY } : undefined,
  })
  ctx.logger.info({ tcp: listening.tcpPort, ws: listening.wsPort, tls: listening.tlsPort, persistence: config.MQTT_PERSISTENCE }, 'MQTT broker listening')
  // Commit and acknowledge what is held, then aedes: it disconnects every client, which lets the
  // servers finish closing.
  return { broker, pipeline, listening, close: async () => { await broker.drain(SHUTDOWN_DRAIN_MS); await broker.close(); await listening.close() } }
}

/** The subscriber front door, for devices that connect to an external broker (MQTT_URL). */
export async function startIngest(ctx: Context, db: Database, mqttUrl = localMqttUrl(ctx.config), pipeline?: Pipeline): Promise<Ingest> {
  const { config } = ctx
  const ingest = createIngest({
    db,
    logger: ctx.logger.child({ component: 'ingest' }),
    registry: ctx.registry,
    mqttUrl,
    clientId: config.INGEST_CLIENT_ID,
    username: config.MQTT_USERNAME ?? `${SERVICE_USER_PREFIX}ingest`,
    password: config.MQTT_PASSWORD ?? ctx.secrets.serviceSecret,
    sharedGroup: config.INGEST_SHARED_GROUP,
    batchSize: config.INGEST_BATCH_SIZE,
    batchMs: config.INGEST_BATCH_MS,
    maxPending: config.INGEST_MAX_PENDING,
    maxPayloadBytes: config.INGEST_MAX_PAYLOAD_BYTES,
    pipeline,
  })
  await ingest.start()
  return ingest
}

export interface RunningApi { app: Api; live: LiveFeed; scheduler: Scheduler | null; crmWebhooks: WebhookWorker | null; url: string; close(): Promise<void> }

export async function startApi(ctx: Context, db: Database, extraReadiness: Record<string, ReadinessCheck> = {}, mqttUrl = localMqttUrl(ctx.config), pipeline?: Pipeline): Promise<RunningApi> {
  const { config } = ctx
  // The LoRaWAN webhooks commit through a pipeline: the broker's in the all-in-one process, its own in an API-only one.
  const ownPipeline = pipeline ? null : createConfiguredPipeline(ctx, db)
  const live = connectLiveFeed({
    url: mqttUrl,
    username: config.MQTT_USERNAME ?? `${SERVICE_USER_PREFIX}live`,
    password: config.MQTT_PASSWORD ?? ctx.secrets.serviceSecret,
    clientId: `kerbside-live-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    logger: ctx.logger.child({ component: 'live' }),
    maxPayloadBytes: config.INGEST_MAX_PAYLOAD_BYTES,
  })
  const app = await buildApi({
    db,
    assessReport: createReportAssessor(db),
    logger: ctx.logger.child({ component: 'api' }),
    registry: ctx.registry,
    adminKey: ctx.secrets.adminKey,
    live,
    readiness: extraReadiness,
    corsOrigins: config.HTTP_CORS_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean),
    trustedProxies: config.HTTP_TRUSTED_PROXIES.split(',').map((s) => s.trim()).filter(Boolean),
    rateLimitPerMinute: config.HTTP_RATE_LIMIT_PER_MINUTE,
    mapSnapshotSeconds: config.MAP_SNAPSHOT_SECONDS,
    baseMap: parseBaseMap({ url: config.MAP_TILE_URL, attribution: config.MAP_TILE_ATTRIBUTION, maxZoom: config.MAP_TILE_MAX_ZOOM }),
    dashboardDir: DASHBOARD_DIR,
    timezone: config.KERBSIDE_TIMEZONE,
    pipeline: pipeline ?? ownPipeline!,
    lorawan: { ttnSecret: config.LORAWAN_TTN_SECRET, chirpstackSecret: config.LORAWAN_CHIRPSTACK_SECRET, maxBodyBytes: config.LORAWAN_MAX_BODY_BYTES },
    https: config.HTTP_TLS_CERT && config.HTTP_TLS_KEY ? { cert: readFileSync(config.HTTP_TLS_CERT), key: readFileSync(config.HTTP_TLS_KEY) } : undefined,
  })
  const url = await app.listen({ host: config.HTTP_HOST, port: config.HTTP_PORT })
  // LoRaWAN beside the webhooks (docs/lorawan.md): the network servers' MQTT integrations, and the
  // uplinks The Things Stack stored while its webhook could not reach Kerbside, read back.
  const lorawanIngest = createLoRaWANIngest({ db, pipeline: pipeline ?? ownPipeline!, logger: ctx.logger.child({ component: 'lorawan' }), registry: ctx.registry })
  const lorawanMqtt = config.LORAWAN_MQTT_SOURCES
    ? parseMqttSources(config.LORAWAN_MQTT_SOURCES).map((src) => startLoRaWANMqttSource(src, lorawanIngest, ctx.logger.child({ component: 'lorawan-mqtt' })))
    : []
  const ttsBackfill = config.LORAWAN_TTS_STORAGE_URL && config.LORAWAN_TTS_APPLICATION_ID && config.LORAWAN_TTS_API_KEY
    ? startTtsBackfill({
      storage: { baseUrl: config.LORAWAN_TTS_STORAGE_URL, applicationId: config.LORAWAN_TTS_APPLICATION_ID, apiKey: config.LORAWAN_TTS_API_KEY },
      ingest: lorawanIngest,
      logger: ctx.logger.child({ component: 'lorawan-backfill' }), everyMinutes: config.LORAWAN_TTS_BACKFILL_MINUTES, maxHours: config.LORAWAN_TTS_BACKFILL_MAX_HOURS,
      newestStored: () => newestLoRaWANReading(db),
    })
    : null
  const scheduler = config.KERBSIDE_JOBS ? startScheduler({ db, logger: ctx.logger.child({ component: 'jobs' }), registry: ctx.registry, timezone: config.KERBSIDE_TIMEZONE, config }) : null
  // Guarded by a database lock: with several API instances, one delivers at a time.
  const webhookUrls = crmWebhookUrls(config)
  const crmWebhooks = webhookUrls.length > 0
    ? startCrmWebhooks({ db, logger: ctx.logger, registry: ctx.registry, urls: webhookUrls, secrets: config.CRM_WEBHOOK_SECRET!.split(',').map((s) => s.trim()) })
    : null
  ctx.logger.info({ url }, `API listening on ${url} (docs at ${url}/docs)`)
  return {
    app, live, scheduler, crmWebhooks, url,
    close: async () => {
      scheduler?.stop()
      await crmWebhooks?.stop()
      await ttsBackfill?.stop()
      for (const source of lorawanMqtt) await source.stop()
      await app.close()
      await ownPipeline?.close(SHUTDOWN_DRAIN_MS)
      await live.close()
    },
  }
}

export interface Stack { db: Database; broker: RunningBroker; pipeline: Pipeline; api: RunningApi; mqttUrl: string; close(): Promise<void> }

/** Everything in one process: broker (committing through the pipeline), API, jobs and the built dashboard. */
export async function startAll(ctx: Context): Promise<Stack> {
  const db = await openConfiguredDatabase(ctx)
  const closers: (() => Promise<void>)[] = [() => db.close()]
  const close = async () => { for (const c of closers.splice(0).reverse()) await c() }
  try {
    const broker = await startBroker(ctx, db)
    closers.push(broker.close)
    // The broker may have been given port 0 (tests): the live feed connects to the port it really got.
    const mqttUrl = `mqtt://127.0.0.1:${broker.listening.tcpPort}`
    // First on the way down: take no more, commit and acknowledge what is held.
    closers.push(async () => { await broker.broker.drain(SHUTDOWN_DRAIN_MS) })
    const readiness: Record<string, ReadinessCheck> = { ingest: () => ({ ok: broker.broker.ready(), reason: broker.broker.problem() }) }
    if (ctx.config.MQTT_URL) {
      // Devices on an external broker too: its subscriber front door feeds the same pipeline.
      const external = await startIngest(ctx, db, ctx.config.MQTT_URL, broker.pipeline)
      closers.push(external.stop)
      readiness.externalBroker = () => external.ready()
    }
    const api = await startApi(ctx, db, readiness, ctx.config.MQTT_URL ?? mqttUrl, broker.pipeline)
    closers.push(api.close)
    return { db, broker, pipeline: broker.pipeline, api, mqttUrl, close }
  } catch (err) {
    await close()
    throw err
  }
}
