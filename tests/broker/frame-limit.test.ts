// A client announcing a packet larger than the cap is cut off before the broker buffers it; the
// broker goes on serving others. Packets are built with mqtt-packet, sent over a raw socket.
import net from 'node:net'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { generate } from 'mqtt-packet'
import { FrameLimit } from '../../broker/frame-limit.ts'
import { connectDevice, provision, startTestStack, type TestStack } from '../helpers/stack.ts'

let t: TestStack
beforeAll(async () => { t = await startTestStack() })
afterAll(async () => t?.close())

test('the guard passes bytes through unchanged, however they are split', async () => {
  const frames = Buffer.concat([
    generate({ cmd: 'pingreq' }),
    generate({ cmd: 'publish', topic: 'a/b', payload: Buffer.alloc(300, 7), qos: 1, messageId: 9, retain: false, dup: false }),
    generate({ cmd: 'publish', topic: 'c', payload: Buffer.alloc(20_000, 1), qos: 0, retain: false, dup: false }),
  ])
  for (const size of [1, 2, 3, 7, 128, 4096]) {
    const limit = new FrameLimit(64 * 1024)
    const out: Buffer[] = []
    limit.on('data', (d: Buffer) => out.push(d))
    for (let i = 0; i < frames.length; i += size) limit.write(frames.subarray(i, i + size))
    limit.end()
    await new Promise((r) => limit.once('end', r))
    expect(Buffer.concat(out).equals(frames), `chunks of ${size}`).toBe(true)
  }
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
