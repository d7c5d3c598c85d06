import { expect, test } from 'vitest'
import { queuedAcrossRestart } from '../helpers/broker-restart.ts'

test('with Redis persistence, a session and its queue survive a broker restart', async () => {
  const r = await queuedAcrossRestart('redis', process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
  expect(r.deliveredAfterRestart).toEqual(Array.from({ length: r.published }, (_, i) => String(i)))
})

test('regression: retained messages are delivered on SUBSCRIBE with Redis persistence ("stream.pipe is not a function")', async () => {
  const { Registry } = await import('prom-client')
  const mqtt = (await import('mqtt')).default
  const { createBroker } = await import('../../broker/create-broker.ts')
  const { listenBroker } = await import('../../broker/listeners.ts')
  const { silentLogger } = await import('../../core/log.ts')
  const broker = await createBroker({
    logger: silentLogger, registry: new Registry(), serviceSecret: 'secret-of-this-test', lookupDevice: async () => null,
    persistence: { kind: 'redis', dataDir: '', redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', redisPrefix: `kerbside-retained-${Date.now().toString(36)}` },
    drainTimeoutMs: 10_000, authFailuresPerMinute: 100,
  })
  const listening = await listenBroker(broker, { host: '127.0.0.1', tcpPort: 0 })
  const url = `mqtt://127.0.0.1:${listening.tcpPort}`
  const a = await mqtt.connectAsync(url, { clientId: 'kerbside-a', username: 'kerbside-a', password: 'secret-of-this-test' })
  await a.publishAsync('kerbside/v1/bins/d1/status', '{"online":true}', { qos: 1, retain: true })
  const b = await mqtt.connectAsync(url, { clientId: 'kerbside-b', username: 'kerbside-b', password: 'secret-of-this-test' })
  const got = new Promise<string>((resolve) => b.once('message', (_t, m) => resolve(m.toString())))
  await b.subscribeAsync('kerbside/v1/bins/+/status', { qos: 1 })
  expect(await got).toBe('{"online":true}')
  await a.endAsync()
  await b.endAsync()
  await broker.close()
  await listening.close()
})
