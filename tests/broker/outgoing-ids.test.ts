// Two queued messages of one persistent session never share a packet id, so a PUBACK cannot delete
// a message the subscriber has not received (broker/outgoing-ids.ts). The aedes 1.2 sequence that
// lost messages in tests/services/kill-restart.test.ts, made deterministic:
//  1. a persistent subscriber receives N messages and drops its connection without acknowledging
//     them: they stay queued with the ids they were sent with;
//  2. it reconnects but does not read yet, so aedes' resending of the queue (one packet per socket
//     drain) stalls behind a full socket; a new message arrives and is delivered live with the new
//     connection's next id, which the test sets to the id still held by the last queued message
//     (aedes starts that counter at random: in kill-restart it ran into held ids by itself);
//  3. the subscriber reads and acknowledges everything in the order it arrives.
// Without the repair, the PUBACK for the new message deleted the last queued message instead (the
// first in the queue with that id), which was never resent: lost. Real broker (Kerbside's, memory
// persistence, no pipeline), a real MQTT.js device, and a subscriber speaking MQTT over a raw socket
// (mqtt-packet) so that the test decides when it reads and acknowledges.
import net from 'node:net'
import { afterAll, beforeAll, expect, test } from 'vitest'
import mqtt, { type MqttClient } from 'mqtt'
import { generate, parser, type Packet } from 'mqtt-packet'
import { Registry } from 'prom-client'
import { createBroker, type Broker } from '../../broker/create-broker.ts'
import { listenBroker } from '../../broker/listeners.ts'
import { silentLogger } from '../../core/log.ts'
import { generateSecret, hashSecret } from '../../core/secrets.ts'

const SUBSCRIBER = 'kerbside-ids-test'
const DEVICE = 'ids-0'
const TOPIC = `kerbside/v1/bins/${DEVICE}/reading`
const QUEUED = 300
const PAYLOAD_BYTES = 32 * 1024 // 300 x 32 KB: far more than loopback socket buffers hold unread

let broker: Broker
let listening: Awaited<ReturnType<typeof listenBroker>>
let device: MqttClient
let port: number
const serviceSecret = generateSecret()

beforeAll(async () => {
  const deviceSecret = generateSecret()
  const secretHash = await hashSecret(deviceSecret)
  broker = await createBroker({
    logger: silentLogger, registry: new Registry(), serviceSecret,
    lookupDevice: async (id) => (id === DEVICE ? { deviceId: id, kind: 'bin', secretHash, revoked: false } : null),
    persistence: { kind: 'memory', dataDir: '', redisUrl: '' }, drainTimeoutMs: 60_000, authFailuresPerMinute: 100,
  })
  listening = await listenBroker(broker, { host: '127.0.0.1', tcpPort: 0 })
  port = listening.tcpPort!
  device = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: DEVICE, username: DEVICE, password: deviceSecret, reconnectPeriod: 0 })
})
afterAll(async () => {
  await device?.endAsync()
  await broker?.close()
  await listening?.close()
})

const payloadOf = (name: string) => Buffer.concat([Buffer.from(`${name};`), Buffer.alloc(PAYLOAD_BYTES - name.length - 1, 32)])
const nameOf = (payload: Buffer | string) => String(payload).split(';')[0]!

/** A persistent-session subscriber on a raw socket: what it received, in order, with packet ids. */
function rawSubscriber(opts: { read: boolean; ack: boolean }) {
  const socket = net.connect(port, '127.0.0.1')
  const received: { name: string; messageId: number }[] = []
  const p = parser({ protocolVersion: 4 })
  let connack = false
  let suback = false
  let acking = opts.ack
  p.on('packet', (packet: Packet) => {
    if (packet.cmd === 'connack') connack = true
    if (packet.cmd === 'suback') suback = true
    if (packet.cmd === 'publish') {
      received.push({ name: nameOf(packet.payload), messageId: packet.messageId! })
      if (acking) socket.write(generate({ cmd: 'puback', messageId: packet.messageId! }))
    }
  })
  socket.on('data', (chunk) => p.parse(chunk))
  socket.on('error', () => undefined)
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  if (!opts.read) socket.pause()
  socket.write(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: SUBSCRIBER, clean: false, keepalive: 0, username: 'kerbside-ingest', password: Buffer.from(serviceSecret) }))
  return {
    socket, received, closed,
    connected: () => connack,
    subscribed: () => suback,
    startReading: (ack: boolean) => { acking = ack; socket.resume() },
  }
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const start = Date.now()
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

const queued = async () => {
  const store = (broker.aedes as unknown as { persistence: { outgoingStream(c: { id: string }): AsyncIterable<{ messageId?: number; payload: Buffer }> } }).persistence
  const out: { name: string; messageId?: number }[] = []
  for await (const p of store.outgoingStream({ id: SUBSCRIBER })) out.push({ name: nameOf(p.payload), messageId: p.messageId })
  return out
}
const registered = () => (broker.aedes as unknown as { clients: Record<string, unknown> }).clients[SUBSCRIBER] !== undefined

test('kill-restart loss: a message delivered live on a reconnect never takes the packet id of a queued message, so its PUBACK cannot delete one', async () => {
  // 1. The session, and N messages received on it but not acknowledged.
  const first = rawSubscriber({ read: true, ack: false })
  await waitFor('CONNACK', first.connected)
  first.socket.write(generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'kerbside/v1/bins/+/+', qos: 1 }] }))
  await waitFor('SUBACK', first.subscribed)
  for (let i = 1; i <= QUEUED; i++) await device.publishAsync(TOPIC, payloadOf(`queued-${i}`), { qos: 1 })
  await waitFor(`${QUEUED} messages on the first connection`, () => first.received.length === QUEUED)
  first.socket.destroy()
  await first.closed
  await waitFor('the broker to drop the first connection', () => !registered())
  const lastQueued = first.received[QUEUED - 1]!
  expect(lastQueued.name).toBe(`queued-${QUEUED}`)

  // 2. Reconnect without reading. The new connection numbers new messages from the id the last
  // queued message holds; a message published now is delivered live while the resending stalls.
  const onClient = (client: { id: string; _nextId: number }) => {
    if (client.id === SUBSCRIBER) client._nextId = lastQueued.messageId
  }
  broker.aedes.on('client', onClient as never)
  const second = rawSubscriber({ read: false, ack: false })
  await waitFor('the broker to register the second connection', registered)
  broker.aedes.removeListener('client', onClient as never)
  // Not awaited: aedes answers the device once the subscriber's copy is written, after the stall.
  const livePublished = device.publishAsync(TOPIC, payloadOf('live'), { qos: 1 })
  await waitFor('the live message to be given a packet id', async () => (await queued()).some((q) => q.name === 'live' && q.messageId !== undefined))
  const ids = new Map((await queued()).map((q) => [q.name, q.messageId]))
  console.error(`outgoing-ids: last queued message holds id ${lastQueued.messageId}; the live one got ${ids.get('live')}`)

  // 3. Read and acknowledge everything, in arrival order; reconnect if the broker drops us, until
  // the session's queue is empty.
  second.startReading(true)
  await livePublished
  await waitFor('the queue to empty, or the second connection to close', async () => second.socket.destroyed || (await queued()).length === 0)
  const received = [...second.received]
  let reconnects = 0
  while ((await queued()).length > 0) {
    await waitFor('the previous connection to be gone', () => !registered())
    reconnects++
    const next = rawSubscriber({ read: true, ack: true })
    await waitFor('the queue to empty, or the connection to close', async () => next.socket.destroyed || (await queued()).length === 0)
    received.push(...next.received)
    next.socket.destroy()
    await next.closed
  }
  console.error(`outgoing-ids: ${received.length} deliveries after the first connection, ${reconnects} reconnects after the second`)

  const names = new Set(received.map((r) => r.name))
  const missing = [...Array.from({ length: QUEUED }, (_, i) => `queued-${i + 1}`), 'live'].filter((n) => !names.has(n))
  expect(missing).toEqual([])
  // The scenario took place: on the second connection the live message arrived before the last
  // queued message was resent, and with an id of its own.
  const order = second.received.map((r) => r.name)
  expect(order.indexOf('live')).toBeGreaterThanOrEqual(0)
  expect(order.indexOf('live')).toBeLessThan(order.indexOf(`queued-${QUEUED}`))
  expect(second.received.find((r) => r.name === 'live')!.messageId).not.toBe(lastQueued.messageId)
  expect(second.received.find((r) => r.name === `queued-${QUEUED}`)!.messageId).toBe(lastQueued.messageId)
  second.socket.destroy()
}, 120_000)
