// The PUBACK of a QoS 1 message leaves only when the application acks it (after its commit):
// a message not acked before the connection drops is redelivered on the persistent session; an
// acked one is not. Acks that arrive after the connection dropped send nothing stale.
import { afterAll, beforeAll, expect, test } from 'vitest'
import mqtt from 'mqtt'
import { Registry } from 'prom-client'
import { createBroker, type Broker } from '../../broker/create-broker.ts'
import { listenBroker, type Listening } from '../../broker/listeners.ts'
import { silentLogger } from '../../core/log.ts'
import { connectAckAfterCommit, type ReceivedMessage } from '../../ingest/ack-after-commit.ts'
import { waitFor } from '../helpers/stack.ts'

const SECRET = 'service-secret-for-this-test'
let broker: Broker
let listening: Listening
let url: string

beforeAll(async () => {
  broker = await createBroker({
    logger: silentLogger, registry: new Registry(), serviceSecret: SECRET, lookupDevice: async () => null,
    persistence: { kind: 'memory', dataDir: '', redisUrl: '' }, drainTimeoutMs: 10_000, authFailuresPerMinute: 100,
  })
  listening = await listenBroker(broker, { host: '127.0.0.1', tcpPort: 0 })
  url = `mqtt://127.0.0.1:${listening.tcpPort}`
})
afterAll(async () => { await broker.close(); await listening.close() })

function subscriber(received: ReceivedMessage[], maxPending = 100) {
  const c = connectAckAfterCommit(url, { clientId: 'kerbside-sub', username: 'kerbside-sub', password: SECRET, clean: false, reconnectPeriod: 0, maxPending, onMessage: (m) => received.push(m) })
  return new Promise<typeof c>((resolve) => c.client.once('connect', () => c.client.subscribe('t/#', { qos: 1 }, () => resolve(c))))
}

test('unacknowledged messages are redelivered; acknowledged ones are not', async () => {
  const publisher = await mqtt.connectAsync(url, { clientId: 'kerbside-pub', username: 'kerbside-pub', password: SECRET })
  const first: ReceivedMessage[] = []
  const a = await subscriber(first)
  for (let i = 0; i < 10; i++) await publisher.publishAsync(`t/${i}`, String(i), { qos: 1 })
  await waitFor(() => first.length === 10, 5000, 'ten messages')
  for (const m of first.slice(0, 4)) m.ack() // "committed"
  expect(a.pending()).toBe(6)
  await new Promise((r) => setTimeout(r, 100))
  a.client.end(true) // connection lost before the other six were committed
  await new Promise((r) => setTimeout(r, 100))
  for (const m of first.slice(4)) m.ack() // too late: must send nothing on a dead connection

  const second: ReceivedMessage[] = []
  const b = await subscriber(second)
  await waitFor(() => second.length === 6, 5000, 'redelivery of the six')
  expect(second.map((m) => m.topic).sort()).toEqual(['t/4', 't/5', 't/6', 't/7', 't/8', 't/9'])
  for (const m of second) m.ack()
  await new Promise((r) => setTimeout(r, 100))
  b.client.end(true)

  const third: ReceivedMessage[] = []
  const c = await subscriber(third)
  await new Promise((r) => setTimeout(r, 300))
  expect(third).toEqual([])
  await c.client.endAsync()
  await publisher.endAsync()
})

test('at maxPending unacknowledged messages, reading stops until acks free the window', async () => {
  const publisher = await mqtt.connectAsync(url, { clientId: 'kerbside-pub2', username: 'kerbside-pub2', password: SECRET })
  const got: ReceivedMessage[] = []
  const s = await subscriber(got, 5)
  for (let i = 0; i < 20; i++) await publisher.publishAsync(`t/bp/${i}`, String(i), { qos: 1 })
  await new Promise((r) => setTimeout(r, 300))
  expect(got.length).toBe(5)
  for (const m of got.splice(0)) m.ack()
  await waitFor(() => got.length === 5, 5000, 'the next five')
  while (got.length > 0) { for (const m of got.splice(0)) m.ack(); await new Promise((r) => setTimeout(r, 100)) }
  expect(s.pending()).toBe(0)
  await s.client.endAsync()
  await publisher.endAsync()
})
