// The PUBACK of a QoS 1 message leaves only when the application acks it (after its commit):
// a message not acked before the connection drops is redelivered on the persistent session; an
// acked one is not. Acks that arrive after the connection dropped send nothing stale.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createServer, type AddressInfo } from 'node:net'
import mqtt from 'mqtt'
import mqttPacket from 'mqtt-packet'
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

// aedes restarts its packet-id counter after a restart while queued messages keep their old ids,
// so two unacknowledged messages may share an id. A scripted broker (mqtt-packet over a real
// socket) sends exactly that: each message must still get its own PUBACK when its own commit is done.
test('two messages under the same packet id each get their own PUBACK', async () => {
  const pubacks: number[] = []
  const server = createServer((socket) => {
    const parser = mqttPacket.parser({ protocolVersion: 4 })
    parser.on('packet', (p) => {
      if (p.cmd === 'connect') socket.write(mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }))
      if (p.cmd === 'puback') pubacks.push(p.messageId!)
      if (p.cmd === 'subscribe') socket.write(mqttPacket.generate({ cmd: 'suback', messageId: p.messageId, granted: [1] }))
    })
    socket.on('data', (d) => parser.parse(d))
    socket.on('error', () => undefined)
    for (const topic of ['t/first', 't/second']) {
      setTimeout(() => socket.write(mqttPacket.generate({ cmd: 'publish', topic, payload: Buffer.from(topic), qos: 1, messageId: 7, dup: false, retain: false })), 50)
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const received: ReceivedMessage[] = []
  const c = connectAckAfterCommit(`mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`, { clientId: 'kerbside-ids', username: 'kerbside-ids', password: SECRET, clean: false, reconnectPeriod: 0, maxPending: 10, onMessage: (m) => received.push(m) })
  try {
    await waitFor(() => received.length === 2, 5000, 'both messages')
    expect(received.map((m) => m.topic)).toEqual(['t/first', 't/second'])
    received[1]!.ack()
    await waitFor(() => pubacks.length === 1, 5000, 'the PUBACK of the second')
    await new Promise((r) => setTimeout(r, 100))
    expect(pubacks).toEqual([7])
    received[0]!.ack()
    await waitFor(() => pubacks.length === 2, 5000, 'the PUBACK of the first')
    expect(pubacks).toEqual([7, 7])
  } finally {
    c.client.end(true)
    server.close()
  }
})
