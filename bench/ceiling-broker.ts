// The ceiling of bench:ingest: Kerbside's broker built as `kerbside broker` builds it (device login,
// topic ACL, frame limit, the same listeners), but without the ingest pipeline, so aedes answers each
// QoS 1 PUBLISH with a PUBACK at once and stores nothing. End to end can at best match this.
// Configured from the environment like the real command; prints {"mqttPort":…} on stdout once listening.
import { createBroker } from '../broker/create-broker.ts'
import { listenBroker } from '../broker/listeners.ts'
import { createContext, openConfiguredDatabase } from '../cli/stack.ts'
import { loadConfig } from '../core/config.ts'
import { createLogger } from '../core/log.ts'
import { deviceCredentials } from '../storage/devices.ts'

const config = loadConfig()
const ctx = createContext(config, createLogger({ level: config.LOG_LEVEL, name: 'bench-ceiling-broker' }))
// The registry only, for device logins: nothing is written.
const db = await openConfiguredDatabase(ctx, false)
const broker = await createBroker({
  logger: ctx.logger,
  registry: ctx.registry,
  lookupDevice: (id) => deviceCredentials(db, id),
  serviceSecret: ctx.secrets.serviceSecret,
  persistence: { kind: config.MQTT_PERSISTENCE, dataDir: config.KERBSIDE_DATA_DIR, redisUrl: config.REDIS_URL },
  drainTimeoutMs: config.MQTT_DRAIN_TIMEOUT_MS,
  authFailuresPerMinute: config.MQTT_AUTH_FAILURES_PER_MINUTE,
})
const listening = await listenBroker(broker, { host: config.MQTT_HOST, maxPacketBytes: config.MQTT_MAX_PACKET_BYTES, tcpPort: config.MQTT_PORT })
process.stdout.write(`${JSON.stringify({ mqttPort: listening.tcpPort })}\n`)
process.once('SIGTERM', () => {
  void (async () => {
    await broker.close()
    await listening.close()
    await db.close()
    process.exit(0) // exit, not return: --cpu-prof writes its profile on exit
  })()
})
