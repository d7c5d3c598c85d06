// A client announcing a packet larger than the cap is cut off before the broker buffers it; the
// broker goes on serving others. Packets are built with mqtt-packet, sent over a raw socket.
import net from 'node:net'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { generate } from 'mqtt-packet'
import { FrameSizeCheck } from '../../broker/frame-limit.ts'
import { connectDevice, provision, startTestStack, type TestStack } from '../helpers/stack.ts'

let t: TestStack
beforeAll(async () => { t = await startTestStack() })
afterAll(async () => t?.close())

test('the guard follows packet boundaries however the bytes are split, and stops at the first oversized packet', () => {
  const frames = Buffer.concat([
    generate({ cmd: 'pingreq' }),
    generate({ cmd: 'publish', topic: 'a/b', payload: Buffer.alloc(300, 7), qos: 1, messageId: 9, retain: false, dup: false }),
    generate({ cmd: 'publish', topic: 'c', payload: Buffer.alloc(20_000, 1), qos: 0, retain: false, dup: false }),
  ])
  const oversized = generate({ cmd: 'publish', topic: 'd', payload: Buffer.alloc(70_000, 2), qos: 0, retain: false, dup: false })
  for (const size of [1, 2, 3, 7, 128, 4096]) {
    const ok = new FrameSizeCheck(64 * 1024)
    for (let i = 0; i < frames.length; i += size) expect(ok.check(frames.subarray(i, i + size)), `chunks of ${size}`).toBeNull()
    const bad = new FrameSizeCheck(64 * 1024)
    const stream = Buffer.concat([frames, oversized])
    let failedAt = -1
    for (let i = 0; i < stream.length && failedAt < 0; i += size) if (bad.check(stream.subarray(i, i + size))) failedAt = i
    // The error comes with the chunk holding the oversized packet's Remaining Length, not before.
    expect(failedAt, `chunks of ${size}`).toBeGreaterThanOrEqual(Math.floor(frames.length / size) * size - size)
    expect(failedAt).toBeLessThan(frames.length + 5)
  }
  expect(new FrameSizeCheck(64 * 1024).check(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))?.message).toMatch(/more than four bytes/)
})

test('bytes pass through the broker connection unchanged, in both directions', async () => {
  // A QoS 1 publish and its PUBACK, split into single bytes on the way in.
  const url = new URL(t.mqttUrl)
  const secret = await provision(t.db, 'sensor-bytes', 'bin')
  const socket = net.connect(Number(url.port), url.hostname)
  await new Promise((r) => socket.once('connect', r))
  const received: Buffer[] = []
  socket.on('data', (d: Buffer) => received.push(d))
  const bytes = Buffer.concat([
    generate({ cmd: 'connect', clientId: 'sensor-bytes', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 30, username: 'sensor-bytes', password: Buffer.from(secret) }),
    generate({ cmd: 'publish', topic: 'kerbside/v1/bins/sensor-bytes/reading', payload: Buffer.from(JSON.stringify({ seq: 1, ts: new Date().toISOString(), fillPct: 3 })), qos: 1, messageId: 77, retain: false, dup: false }),
  ])
  for (const byte of bytes) { socket.write(Buffer.from([byte])) }
  const expected = Buffer.concat([generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }), generate({ cmd: 'puback', messageId: 77 })])
  for (let i = 0; i < 100 && Buffer.concat(received).length < expected.length; i++) await new Promise((r) => setTimeout(r, 50))
  expect(Buffer.concat(received).equals(expected)).toBe(true)
  socket.destroy()
})

test('a 10 MB packet announcement closes that connection; the broker serves others', async () => {
  const url = new URL(t.mqttUrl)
  const socket = net.connect(Number(url.port), url.hostname)
  await new Promise((r) => socket.once('connect', r))
  socket.write(generate({ cmd: 'connect', clientId: 'big', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 30, username: 'kerbside-x', password: Buffer.from(t.ctx.secrets.serviceSecret) }))
  // Fixed header of a PUBLISH claiming 10,000,000 bytes, then a trickle of its body.
  const header = generate({ cmd: 'publish', topic: 't', payload: Buffer.alloc(10_000_000), qos: 0, retain: false, dup: false }).subarray(0, 5)
  socket.write(header)
  socket.write(Buffer.alloc(1000))
  const closed = await new Promise<boolean>((resolve) => { socket.once('close', () => resolve(true)); setTimeout(() => resolve(false), 5000) })
  expect(closed).toBe(true)
  const metrics = await t.ctx.registry.getSingleMetricAsString('kerbside_broker_rejections_total')
  expect(metrics).toMatch(/reason="packet_too_large"} 1/)
  const secret = await provision(t.db, 'sensor-ok', 'bin')
  const ok = await connectDevice(t.mqttUrl, 'sensor-ok', secret)
  await ok.publishAsync('kerbside/v1/bins/sensor-ok/reading', JSON.stringify({ seq: 1, ts: new Date().toISOString(), fillPct: 1 }), { qos: 1 })
  await ok.endAsync()
})
