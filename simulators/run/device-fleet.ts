// The simulated devices on the wire: one MQTT.js connection per device, logged in as a real device
// would (client id = username = device id, the device's secret), announcing itself online with a
// retained status and leaving a last will that says offline. Messages go at QoS 1; the broker's
// PUBACK is what counts as published. A window bounds the messages in flight across the fleet.
import mqtt, { type MqttClient } from 'mqtt'
import type { DeviceKind } from '../../core/contract/topics.ts'
import { deviceTopic } from '../../core/contract/topics.ts'
import type { MessageKind } from '../../core/contract/messages.ts'
import type { GroundTruth, TruthMessageKind } from '../truth/ground-truth.ts'

export interface FleetOptions {
  url: string
  secret: string
  /** Messages in flight (sent, not yet acknowledged) across the fleet; default 2,000. */
  maxInflight?: number
  /** Connections opened at once when the fleet starts; default 50. */
  connectConcurrency?: number
  truth?: GroundTruth
}

export class FleetError extends Error {
  override name = 'KERBSIDE_ERR_SIM_FLEET'
}

interface Device {
  deviceId: string
  kind: DeviceKind
  client: MqttClient | null
  /** Connecting, or going offline: publishes wait for it. */
  ready: Promise<void>
  pending: Set<Promise<void>>
}

export class DeviceFleet {
  private readonly devices = new Map<string, Device>()
  private inflight = 0
  private waiters: (() => void)[] = []
  private readonly maxInflight: number
  readonly errors: Error[] = []

  constructor(private readonly opts: FleetOptions) {
    this.maxInflight = opts.maxInflight ?? 2_000
  }

  get size(): number {
    return this.devices.size
  }

  /** Connect every device and announce it online at simulated time `at`. */
  async connectAll(devices: readonly { deviceId: string; kind: DeviceKind }[], at: number): Promise<void> {
    const add = (d: { deviceId: string; kind: DeviceKind }) => {
      const device: Device = { deviceId: d.deviceId, kind: d.kind, client: null, ready: Promise.resolve(), pending: new Set() }
      this.devices.set(d.deviceId, device)
      device.ready = this.connect(device, at)
      return device.ready
    }
    const [first, ...rest] = devices
    // One device first: the broker remembers a verified (hash, secret) pair, so a fleet sharing one
    // secret then logs in without another slow hash per device.
    if (first) await add(first)
    const queue = [...rest]
    const worker = async () => { for (let d = queue.shift(); d; d = queue.shift()) await add(d) }
    await Promise.all(Array.from({ length: Math.min(queue.length, this.opts.connectConcurrency ?? 50) }, worker))
  }

  private async connect(device: Device, at: number): Promise<void> {
    const statusTopic = deviceTopic(device.kind, device.deviceId, 'status')
    const client = await mqtt.connectAsync(this.opts.url, {
      clientId: device.deviceId,
      username: device.deviceId,
      password: this.opts.secret,
      clean: true,
      keepalive: 60,
      connectTimeout: 30_000,
      reconnectPeriod: 1_000, // a dropped connection comes back; QoS 1 messages in flight are sent again
      will: { topic: statusTopic, payload: Buffer.from(JSON.stringify({ online: false })), qos: 1, retain: true },
    }, false)
    // A connection reset is the network's (or a broker that was busy too long to answer a ping):
    // the client reconnects by itself and sends its unacknowledged messages again. Anything else stops the run.
    client.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || (err as NodeJS.ErrnoException).code === 'EPIPE') return
      this.errors.push(new FleetError(`${device.deviceId}: ${err.message}`))
    })
    device.client = client
    await this.send(device, 'status', statusTopic, JSON.stringify({ online: true, ts: new Date(at).toISOString() }), true)
  }

  /** Wait until the fleet has room for another message in flight. */
  room(): Promise<void> {
    if (this.inflight < this.maxInflight) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  /** Publish a device message at QoS 1 (returns at once; `drain` waits for the acknowledgements). */
  publish(deviceId: string, message: MessageKind, payload: Buffer | string, binary: boolean): void {
    const device = this.devices.get(deviceId)
    if (!device) throw new FleetError(`device ${deviceId} is not in the fleet`)
    const topic = deviceTopic(device.kind, deviceId, message, binary)
    this.track(device, device.ready.then(() => this.send(device, message as TruthMessageKind, topic, payload, false)))
  }

  private track(device: Device, p: Promise<void>): void {
    this.inflight++
    const done = p.catch((err: unknown) => { this.errors.push(err instanceof Error ? err : new FleetError(String(err))) }).finally(() => {
      device.pending.delete(done)
      this.inflight--
      const next = this.waiters.shift()
      next?.()
    })
    device.pending.add(done)
  }

  private async send(device: Device, kind: TruthMessageKind, topic: string, payload: Buffer | string, retain: boolean): Promise<void> {
    const client = device.client
    if (!client) throw new FleetError(`${device.deviceId} is offline; nothing can be sent`)
    await client.publishAsync(topic, payload, { qos: 1, retain })
    this.opts.truth?.acked(device.deviceId, kind)
  }

  /** The device goes offline: says so (it knows its radio is going), then disconnects. */
  goOffline(deviceId: string, at: number): Promise<void> {
    const device = this.devices.get(deviceId)
    if (!device) throw new FleetError(`device ${deviceId} is not in the fleet`)
    const before = device.ready
    device.ready = (async () => {
      await before
      await Promise.all(device.pending)
      await this.send(device, 'status', deviceTopic(device.kind, deviceId, 'status'), JSON.stringify({ online: false, ts: new Date(at).toISOString() }), true)
      await device.client?.endAsync()
      device.client = null
    })()
    return device.ready
  }

  /** The device comes back: reconnects and announces itself online. */
  goOnline(deviceId: string, at: number): Promise<void> {
    const device = this.devices.get(deviceId)
    if (!device) throw new FleetError(`device ${deviceId} is not in the fleet`)
    const before = device.ready
    device.ready = before.then(() => this.connect(device, at))
    return device.ready
  }

  /** Wait for every message in flight to be acknowledged. */
  async drain(): Promise<void> {
    while (this.inflight > 0) {
      const all = [...this.devices.values()].flatMap((d) => [d.ready, ...d.pending])
      await Promise.allSettled(all)
    }
  }

  /** Disconnect every device cleanly (no last will: the simulation stops, the devices do not fail). */
  async close(): Promise<void> {
    await this.drain()
    await Promise.all([...this.devices.values()].map(async (d) => {
      await d.ready.catch(() => undefined)
      await d.client?.endAsync()
      d.client = null
    }))
  }
}
