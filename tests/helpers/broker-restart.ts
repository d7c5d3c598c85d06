// A persistent session survives a broker restart: messages published while the subscriber was away
// are delivered when it comes back, after the broker itself was closed and started again on the
// same store (level on disk, or Redis).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { Registry } from 'prom-client'
import { createBroker } from '../../broker/create-broker.ts'
import { listenBroker } from '../../broker/listeners.ts'
import type { PersistenceKind } from '../../broker/persistence.ts'
import { silentLogger } from '../../core/log.ts'

const SECRET = 'service-secret-of-this-test'

export async function queuedAcrossRestart(kind: PersistenceKind, redisUrl = 'redis://127.0.0.1:6379'): Promise<{ published: number; deliveredAfterRestart: string[] }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kerbside-persist-'))
  const redisPrefix = `kerbside-test-${Date.now().toString(36)}`
  const start = async (port = 0) => {
    const broker = await createBroker({
      logger: silentLogger, registry: new Registry(), serviceSecret: SECRET, lookupDevice: async () => null,
      persistence: { kind, dataDir, redisUrl, redisPrefix }, drainTimeoutMs: 10_000, authFailuresPerMinute: 100,
    })
    const listening = await listenBroker(broker, { host: '127.0.0.1', tcpPort: port })
    return { broker, listening, url: `mqtt://127.0.0.1:${listening.tcpPort}`, stop: async () => { await broker.close(); await listening.close() } }
  }
  try {
    let b = await start()
    const port = b.listening.tcpPort!
    const sub = await mqtt.connectAsync(b.url, { clientId: 'kerbside-durable', username: 'kerbside-durable', password: SECRET, clean: false })
    await sub.subscribeAsync('kerbside/v1/#', { qos: 1 })
    await sub.endAsync()
    const pub = await mqtt.connectAsync(b.url, { clientId: 'kerbside-pub', username: 'kerbside-pub', password: SECRET })
    for (let i = 0; i < 25; i++) await pub.publishAsync(`kerbside/v1/bins/d/reading`, String(i), { qos: 1 })
    await pub.endAsync()
    await b.stop()

    b = await start(port)
    const got: string[] = []
    const back = mqtt.connect(b.url, { clientId: 'kerbside-durable', username: 'kerbside-durable', password: SECRET, clean: false })
    back.on('message', (_t, m) => got.push(m.toString()))
    for (let i = 0; i < 100 && got.length < 25; i++) await new Promise((r) => setTimeout(r, 50))
    await back.endAsync()
    await b.stop()
    return { published: 25, deliveredAfterRestart: got }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
}
