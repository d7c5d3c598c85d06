// The broker's Redis backends never leave a rejected promise unhandled (CI failed on "Connection is
// closed" from a QUIT that mqemitter-redis sends at close and never handles, in about one broker
// close in three). Vitest fails the run on any unhandled rejection, so these tests fail if it returns.
import { expect, test } from 'vitest'
import mqtt from 'mqtt'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { createBroker } from '../../broker/create-broker.ts'
import { listenBroker } from '../../broker/listeners.ts'
import { DetachedSafeRedis } from '../../broker/persistence.ts'

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

test('a command nobody awaits, cut off by the connection closing, is reported instead of rejecting unhandled', async () => {
  const seen: string[] = []
  const conn = new DetachedSafeRedis(redisUrl)
  conn.onDetachedError = (err) => seen.push(err.message)
  // As aedes-persistence-redis' delWill does with the will list: sent, never awaited; the connection
  // goes before the command could be written (it is still connecting).
  void conn.lrem('kerbside-test-wills', 0, 'nobody')
  conn.disconnect()
  await new Promise((resolve) => setTimeout(resolve, 100))
  expect(seen).toEqual(['Connection is closed.'])
})

test('an awaited command still rejects for its caller', async () => {
  const conn = new DetachedSafeRedis(redisUrl)
  const answer = conn.get('kerbside-test-anything')
  conn.disconnect()
  await expect(answer).rejects.toThrow('Connection is closed')
})

test('a broker on Redis, started and closed again and again with clients, leaves nothing unhandled', async () => {
  const warnings: string[] = []
  const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line).msg) })
  for (let i = 0; i < 25; i++) {
    const broker = await createBroker({
      logger, registry: new Registry(), serviceSecret: 'secret-of-this-test', lookupDevice: async () => null,
      persistence: { kind: 'redis', dataDir: '', redisUrl, redisPrefix: `kerbside-close-${Date.now().toString(36)}-${i}` },
      drainTimeoutMs: 10_000, authFailuresPerMinute: 100,
    })
    const listening = await listenBroker(broker, { host: '127.0.0.1', tcpPort: 0 })
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${listening.tcpPort}`, { clientId: `kerbside-c${i}`, username: `kerbside-c${i}`, password: 'secret-of-this-test', clean: i % 2 === 0 })
    await client.subscribeAsync('kerbside/v1/#', { qos: 1 })
    await client.publishAsync('kerbside/v1/bins/d/status', '{"online":true}', { qos: 1, retain: true })
    await client.endAsync()
    await broker.close()
    await listening.close()
  }
  // An unhandled rejection fails the run (vitest); errors of commands cut off by the close are
  // expected and not worth a line, so the log stays empty.
  expect(warnings).toEqual([])
})
