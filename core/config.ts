// Configuration, validated once at boot. Every setting comes from the environment (see
// .env.example); defaults make the embedded mode work on a fresh clone with no setup.
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { parseBaseMap } from './base-map.ts'

const Port = (def: number) => Type.Integer({ minimum: 0, maximum: 65535, default: def })
const Bool = (def: boolean) => Type.Boolean({ default: def })

export const ConfigSchema = Type.Object({
  KERBSIDE_DATA_DIR: Type.String({ default: './.kerbside', description: 'Embedded database, durable broker store and generated keys live here' }),
  DATABASE_URL: Type.Optional(Type.String({ description: 'postgres://… of a TimescaleDB or PostgreSQL server; unset = embedded' })),
  DATABASE_TIER: Type.Union([Type.Literal('timescaledb'), Type.Literal('timescaledb-apache'), Type.Literal('postgresql')], { default: 'timescaledb', description: 'Highest storage tier to use; lower it to opt out of TimescaleDB features' }),
  DATABASE_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
  EMBEDDED_FSYNC: Type.Boolean({ default: true, description: 'Embedded database: flush the write-ahead log to the disk at every commit (survives power loss, not only a crash); false trades that for speed' }),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info' }),

  MQTT_HOST: Type.String({ default: '0.0.0.0' }),
  MQTT_PORT: Port(1883),
  MQTT_WS_PORT: Port(8083),
  MQTTS_PORT: Port(8883),
  MQTT_TLS_CERT: Type.Optional(Type.String({ description: 'PEM certificate path; enables MQTT over TLS on MQTTS_PORT' })),
  MQTT_TLS_KEY: Type.Optional(Type.String()),
  MQTT_PERSISTENCE: Type.Union([Type.Literal('memory'), Type.Literal('level'), Type.Literal('redis')], { default: 'memory' }),
  REDIS_URL: Type.String({ default: 'redis://127.0.0.1:6379' }),
  MQTT_MAX_PACKET_BYTES: Type.Integer({ minimum: 1024, maximum: 268_435_455, default: 262_144, description: 'Largest MQTT packet the broker accepts; a bigger one closes the connection' }),
  MQTT_DRAIN_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 30_000 }),
  MQTT_AUTH_FAILURES_PER_MINUTE: Type.Integer({ minimum: 1, default: 10, description: 'Failed logins per client address per minute before that address is throttled' }),

  MQTT_URL: Type.Optional(Type.String({ description: 'Broker that ingest and the live feed connect to; default the local one' })),
  MQTT_USERNAME: Type.Optional(Type.String({ description: 'Username ingest uses on an external broker' })),
  MQTT_PASSWORD: Type.Optional(Type.String()),
  KERBSIDE_SERVICE_SECRET: Type.Optional(Type.String({ minLength: 16, description: 'Shared secret of Kerbside services on its own broker; generated into the data dir when unset' })),

  INGEST_CLIENT_ID: Type.String({ default: 'kerbside-ingest' }),
  INGEST_SHARED_GROUP: Type.Optional(Type.String({ description: 'MQTT 5 shared-subscription group; set to run several ingest workers on an external broker' })),
  INGEST_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 50_000, default: 2000 }),
  INGEST_BATCH_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 0, description: 'Longest a message waits for its batch to fill when the pipeline is idle (0: commit at once); under load batches form while the previous one commits' }),
  INGEST_MAX_PENDING: Type.Integer({ minimum: 1, default: 20_000, description: 'Messages held unacknowledged before ingest stops reading from the broker' }),
  INGEST_MAX_PAYLOAD_BYTES: Type.Integer({ minimum: 64, default: 16_384 }),

  // LoRaWAN network servers' webhooks (docs/lorawan.md): each sends its own secret in X-Kerbside-Secret; unset = that door refuses all.
  LORAWAN_TTN_SECRET: Type.Optional(Type.String({ minLength: 16, description: 'Secret The Things Stack webhook sends (POST /api/v1/lorawan/ttn)' })),
  LORAWAN_CHIRPSTACK_SECRET: Type.Optional(Type.String({ minLength: 16, description: 'Secret the ChirpStack HTTP integration sends (POST /api/v1/lorawan/chirpstack)' })),
  LORAWAN_MAX_BODY_BYTES: Type.Integer({ minimum: 1024, maximum: 16 * 1024 * 1024, default: 256 * 1024, description: 'Largest network-server message taken; bigger ones are refused (413) from their Content-Length, unread' }),
  LORAWAN_MQTT_SOURCES: Type.Optional(Type.String({ description: 'JSON list of network servers\' MQTT integrations to subscribe to: [{"server":"ttn"|"chirpstack","url","username","password","topic"}] (docs/lorawan.md)' })),
  // Backfill from The Things Stack's Storage Integration (all three set to enable it).
  LORAWAN_TTS_STORAGE_URL: Type.Optional(Type.String({ description: 'The Things Stack base URL, e.g. https://eu1.cloud.thethings.network' })),
  LORAWAN_TTS_APPLICATION_ID: Type.Optional(Type.String({ description: 'Application whose stored uplinks are read back' })),
  LORAWAN_TTS_API_KEY: Type.Optional(Type.String({ description: 'API key with RIGHT_APPLICATION_TRAFFIC_READ' })),
  LORAWAN_TTS_BACKFILL_MINUTES: Type.Integer({ minimum: 1, maximum: 1440, default: 10, description: 'Backfill every this many minutes (over the last two intervals), and once at start' }),
  LORAWAN_TTS_BACKFILL_MAX_HOURS: Type.Integer({ minimum: 1, maximum: 720, default: 24, description: 'At start, read back at most this far (the Storage Integration keeps 24 h on the Sandbox, 30 days on Cloud)' }),

  HTTP_HOST: Type.String({ default: '0.0.0.0' }),
  HTTP_PORT: Port(8080),
  HTTP_TLS_CERT: Type.Optional(Type.String()),
  HTTP_TLS_KEY: Type.Optional(Type.String()),
  HTTP_CORS_ORIGINS: Type.String({ default: '', description: 'Comma-separated origins allowed by CORS; empty = same origin only' }),
  HTTP_RATE_LIMIT_PER_MINUTE: Type.Integer({ minimum: 1, default: 600 }),
  HTTP_TRUSTED_PROXIES: Type.String({ default: '', description: 'Comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For is believed; empty = none (the socket address is the client)' }),
  MAP_SNAPSHOT_SECONDS: Type.Integer({ minimum: 0, maximum: 3600, default: 30, description: 'The city map is kept built ahead and rebuilt this often (at least 20 times its build time); 0 = build it for each request' }),
  // The dashboard's base map (docs/dashboard.md): unset, the city's own streets and names are drawn from the registry.
  MAP_TILE_URL: Type.Optional(Type.String({ description: 'Raster tile URL template for the dashboard map, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png or the council\'s own; unset = streets drawn from the registry, nothing fetched from outside' })),
  MAP_TILE_ATTRIBUTION: Type.Optional(Type.String({ description: 'Attribution shown on the map, required with MAP_TILE_URL (OpenStreetMap: © OpenStreetMap contributors)' })),
  MAP_TILE_MAX_ZOOM: Type.Integer({ minimum: 1, maximum: 22, default: 19, description: 'Highest zoom the tile server has' }),
  KERBSIDE_ADMIN_KEY: Type.Optional(Type.String({ minLength: 16, description: 'Admin API key; generated into the data dir at first start when unset' })),
  KERBSIDE_JOBS: Bool(true),
  KERBSIDE_TIMEZONE: Type.String({ default: 'Europe/London' }),

  // Retention (analysis/privacy, docs/data-protection.md): days kept; 0 keeps forever.
  REPORT_CONTACT_RETENTION_DAYS: Type.Integer({ minimum: 0, default: 90, description: "Reporters' contact details and the free text of missed-bin reports, after the report was made" }),
  AUDIT_LOG_RETENTION_DAYS: Type.Integer({ minimum: 0, default: 730, description: 'Entries of the audit log of household reads' }),
  READINGS_RETENTION_DAYS: Type.Integer({ minimum: 0, default: 400, description: 'Bin sensor readings, raw and their hourly roll-up' }),
  POSITION_RETENTION_DAYS: Type.Integer({ minimum: 0, default: 90, description: 'Refuse-vehicle GPS positions (the movements of crews)' }),
  QUARANTINE_RETENTION_DAYS: Type.Integer({ minimum: 0, default: 30, description: 'Refused input in quarantine, after it was last refused (a raw payload may hold a bin tag and a position)' }),

  // CRM webhooks (analysis/crm-feed, docs/crm-integration.md).
  CRM_WEBHOOK_URL: Type.Optional(Type.String({ description: 'Comma-separated http(s) URLs the CRM receives events at (signed webhooks); unset = no webhooks, the pull API only' })),
  CRM_WEBHOOK_SECRET: Type.Optional(Type.String({ minLength: 32, description: 'HMAC-SHA256 signing secret shared with the CRM; comma-separate two during a rotation' })),
})

export type Config = Static<typeof ConfigSchema>

export class ConfigError extends Error {
  override name = 'KERBSIDE_ERR_CONFIG'
}

/** Parse and validate configuration from an environment; throws ConfigError listing every bad setting. */
export function loadConfig(env: Record<string, string | undefined> = process.env, overrides: Partial<Config> = {}): Config {
  const known = Object.keys(ConfigSchema.properties)
  const picked: Record<string, unknown> = {}
  for (const key of known) {
    const raw = env[key]
    if (raw !== undefined && raw !== '') picked[key] = raw
  }
  const candidate = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, { ...picked, ...overrides }))
  const errors = [...Value.Errors(ConfigSchema, candidate)]
  if (errors.length > 0) {
    const lines = errors.map((e) => `  ${e.path.slice(1) || '(root)'}: ${e.message} (got ${JSON.stringify(e.value)})`)
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}\nSee .env.example for every setting and its default.`)
  }
  const config = candidate as Config
  if (Boolean(config.MQTT_TLS_CERT) !== Boolean(config.MQTT_TLS_KEY)) throw new ConfigError('MQTT_TLS_CERT and MQTT_TLS_KEY must be set together')
  if (Boolean(config.HTTP_TLS_CERT) !== Boolean(config.HTTP_TLS_KEY)) throw new ConfigError('HTTP_TLS_CERT and HTTP_TLS_KEY must be set together')
  try {
    parseBaseMap({ url: config.MAP_TILE_URL, attribution: config.MAP_TILE_ATTRIBUTION, maxZoom: config.MAP_TILE_MAX_ZOOM })
  } catch (err) {
    throw new ConfigError((err as Error).message)
  }
  if (config.CRM_WEBHOOK_URL && !config.CRM_WEBHOOK_SECRET) throw new ConfigError('CRM_WEBHOOK_URL needs CRM_WEBHOOK_SECRET: webhooks are always signed')
  for (const url of crmWebhookUrls(config)) {
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new ConfigError(`CRM_WEBHOOK_URL: ${JSON.stringify(url.replace(/[?#].*$/, ''))} is not an http(s) URL`)
  }
  return config
}

/** The broker URL internal services use when MQTT_URL is not set. */
export function localMqttUrl(config: Config): string {
  return config.MQTT_URL ?? `mqtt://127.0.0.1:${config.MQTT_PORT}`
}

/** The CRM webhook URLs, split from CRM_WEBHOOK_URL. */
export const crmWebhookUrls = (config: Config): string[] => (config.CRM_WEBHOOK_URL ?? '').split(',').map((s) => s.trim()).filter(Boolean)
