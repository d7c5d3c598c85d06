// A load generator for the MQTT tier: many raw TCP connections, each logged in as a real device,
// publishing pre-encoded QoS 1 PUBLISH frames at a target total rate, and timing each message from
// the write of its frame to the broker's PUBACK.
//
// Frames are built before the clock starts (mqtt-packet's generate()), so the measured path is the
// broker's, not the generator's JSON and packet encoding. A token bucket spends the rate across the
// connections in turn; a connection whose socket is backed up, or that has too many messages
// unacknowledged, is passed over, and the achieved rate then shows the shortfall.
import net from 'node:net'
import { generate, parser as createParser, type Packet } from 'mqtt-packet'
import { encodeBinary } from '../core/contract/codec.ts'
import { deviceTopic, type DeviceKind } from '../core/contract/topics.ts'

export interface LoadDevice {
  deviceId: string
  secret: string
  /** bin devices publish readings, vehicle devices positions; default bin. */
  kind?: DeviceKind
}

export interface LoadOptions {
  /** Broker URL, mqtt://host:port. */
  url: string
  /** One connection per device. */
  devices: LoadDevice[]
  /** Target messages per second, over all connections. */
  rate: number
  /** How long to publish for, seconds (the number of messages is rate × duration) … */
  durationS?: number
  /** … or exactly this many messages. */
  messages?: number
  /** CBOR payloads on the `/cbor` topics instead of JSON. */
  binary?: boolean
  /** First seq of each device (default 1): continue after what the database already holds. */
  startSeq?: (deviceId: string) => number
  /** Device timestamp of each device's first message (ms); later ones step `tsStepMs` forward. Default: far enough back that the last is a minute ago. */
  startTs?: number
  tsStepMs?: number
  /** Messages a connection may have unacknowledged; default 1,000. */
  maxInflightPerConnection?: number
  /** After the last frame, how long to wait for the remaining PUBACKs; default 30 s. */
  ackTimeoutMs?: number
  connectConcurrency?: number
  connectTimeoutMs?: number
  signal?: AbortSignal
  /** Called about once a second while publishing. */
  onProgress?: (p: { elapsedMs: number; sent: number; acked: number }) => void
}

export interface LatencySummary { count: number; mean: number; p50: number; p90: number; p95: number; p99: number; p999: number; max: number }

export interface LoadReport {
  connections: number
  /** Connections the broker refused (bad credentials, throttled) or that failed. */
  refused: { deviceId: string; reason: string }[]
  connectMs: number
  planned: number
  sent: number
  acked: number
  /** Time from the first frame to the last frame written. */
  sendMs: number
  /** Time from the first frame to the last PUBACK received. */
  totalMs: number
  targetRate: number
  /** Frames written per second while publishing. */
  achievedRate: number
  /** PUBACKs per second over the whole run. */
  ackedRate: number
  /** Publish → PUBACK, milliseconds. */
  latencyMs: LatencySummary
  wasAcked(deviceId: string, seq: number): boolean
  /** Every acknowledged (deviceId, seq). */
  acknowledged(): Generator<{ deviceId: string; seq: number }>
  /** The seq range each device was given (first and last planned). */
  seqRange(deviceId: string): { first: number; last: number } | undefined
}

export class LoadError extends Error {
  override name = 'KERBSIDE_ERR_LOAD'
}

/** Beyond this the frames do not fit comfortably in memory; run several shorter loads instead. */
export const MAX_PLANNED_MESSAGES = 5_000_000

interface Conn {
  device: LoadDevice
  socket: net.Socket | null
  ready: boolean
  failed: string | null
  frames: Buffer[]
  /** Global index of this connection's first message. */
  offset: number
  firstSeq: number
  next: number
  inflight: number
  /** messageId → global message index. */
  byMessageId: Int32Array
  paused: boolean
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

function summarise(latencies: Float64Array): LatencySummary {
  const sorted = latencies.slice().sort()
  let sum = 0
  for (const v of sorted) sum += v
  const r = (v: number) => Math.round(v * 1000) / 1000
  return {
    count: sorted.length, mean: r(sorted.length ? sum / sorted.length : 0), p50: r(percentile(sorted, 50)), p90: r(percentile(sorted, 90)),
    p95: r(percentile(sorted, 95)), p99: r(percentile(sorted, 99)), p999: r(percentile(sorted, 99.9)), max: r(sorted.length ? sorted[sorted.length - 1]! : 0),
  }
}

function parseUrl(url: string): { host: string; port: number } {
  const u = new URL(url)
  if (u.protocol !== 'mqtt:' && u.protocol !== 'tcp:') throw new LoadError(`the load generator speaks plain MQTT over TCP (mqtt://…), not ${u.protocol}`)
  return { host: u.hostname, port: Number(u.port || 1883) }
}

/** Build every PUBLISH frame of one device before the clock starts. */
function buildFrames(device: LoadDevice, count: number, firstSeq: number, startTs: number, stepMs: number, binary: boolean): Buffer[] {
  const kind = device.kind ?? 'bin'
  const message = kind === 'bin' ? 'reading' : 'position'
  const topic = deviceTopic(kind, device.deviceId, message, binary)
  const frames: Buffer[] = []
  for (let j = 0; j < count; j++) {
    const seq = firstSeq + j
    const ts = new Date(startTs + j * stepMs).toISOString()
    const body = kind === 'bin'
      ? { seq, ts, fillPct: (seq * 7) % 101, tempC: 11.5, batteryV: 3.6, status: 'ok' }
      : { seq, ts, lat: 53.4084 + (seq % 100) / 10_000, lon: -2.9916 + (seq % 50) / 10_000, speedKmh: 12, heading: (seq * 10) % 360 }
    const payload = binary ? encodeBinary(body) : Buffer.from(JSON.stringify(body))
    // The message id is the frame's place in the connection's sequence; in-flight stays far below 65,535.
    frames.push(generate({ cmd: 'publish', topic, payload, qos: 1, retain: false, dup: false, messageId: (j % 65_535) + 1 }))
  }
  return frames
}

export async function runLoad(opts: LoadOptions): Promise<LoadReport> {
  if (opts.devices.length === 0) throw new LoadError('no devices to connect')
  if (!(opts.rate > 0)) throw new LoadError('rate must be a positive number of messages per second')
  const planned = opts.messages ?? Math.round(opts.rate * (opts.durationS ?? 10))
  if (!(planned > 0) || planned > MAX_PLANNED_MESSAGES) throw new LoadError(`the load must be 1 to ${MAX_PLANNED_MESSAGES.toLocaleString('en-GB')} messages, not ${planned}`)
  const maxInflight = Math.min(opts.maxInflightPerConnection ?? 1_000, 60_000)
  const { host, port } = parseUrl(opts.url)
  const C = opts.devices.length
  const stepMs = opts.tsStepMs ?? 1_000
  const perConn = Math.ceil(planned / C)
  const startTs = opts.startTs ?? Date.now() - 60_000 - perConn * stepMs

  // Frames and bookkeeping, laid out by connection: connection c owns indices offset..offset+n-1.
  const conns: Conn[] = []
  let offset = 0
  for (const [c, device] of opts.devices.entries()) {
    const n = Math.floor(planned / C) + (c < planned % C ? 1 : 0)
    const firstSeq = opts.startSeq?.(device.deviceId) ?? 1
    conns.push({ device, socket: null, ready: false, failed: null, frames: buildFrames(device, n, firstSeq, startTs, stepMs, opts.binary ?? false), offset, firstSeq, next: 0, inflight: 0, byMessageId: new Int32Array(65_536).fill(-1), paused: false })
    offset += n
  }
  const sentAt = new Float64Array(planned)
  const acked = new Uint8Array(planned)
  const latencies = new Float64Array(planned)
  let ackCount = 0
  let sent = 0
  let lastAckAt = 0
  let onAckProgress: (() => void) | null = null

  // Connect, in waves.
  const t0Connect = performance.now()
  const queue = [...conns]
  const connectOne = (conn: Conn) => new Promise<void>((resolve) => {
    const socket = net.connect({ host, port })
    socket.setNoDelay(true)
    const parser = createParser({ protocolVersion: 4 })
    const timer = setTimeout(() => { conn.failed = 'connect timeout'; socket.destroy(); resolve() }, opts.connectTimeoutMs ?? 30_000)
    parser.on('packet', (packet: Packet) => {
      if (packet.cmd === 'connack') {
        clearTimeout(timer)
        if (packet.returnCode === 0) conn.ready = true
        else { conn.failed = `CONNACK return code ${packet.returnCode}`; socket.destroy() }
        resolve()
      } else if (packet.cmd === 'puback') {
        const idx = conn.byMessageId[packet.messageId!]!
        if (idx < 0 || acked[idx]) return
        conn.byMessageId[packet.messageId!] = -1
        acked[idx] = 1
        const now = performance.now()
        latencies[ackCount++] = now - sentAt[idx]!
        lastAckAt = now
        conn.inflight--
        if (ackCount === sent) onAckProgress?.()
      }
    })
    parser.on('error', (err: Error) => { conn.failed = `protocol error: ${err.message}`; socket.destroy() })
    socket.on('data', (chunk) => parser.parse(chunk))
    socket.on('drain', () => { conn.paused = false })
    socket.on('error', (err) => { conn.failed ??= err.message })
    socket.on('close', () => {
      conn.ready = false
      conn.failed ??= 'connection closed'
      clearTimeout(timer)
      resolve()
    })
    conn.socket = socket
    socket.write(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: conn.device.deviceId, username: conn.device.deviceId, password: Buffer.from(conn.device.secret), clean: true, keepalive: 0 }))
  })
  // One connection first: brokers that cache a verified secret (Kerbside's does) then let a fleet
  // sharing one secret in without a slow hash each.
  await connectOne(queue.shift()!)
  await Promise.all(Array.from({ length: Math.min(queue.length, opts.connectConcurrency ?? 100) }, async () => {
    for (let conn = queue.shift(); conn; conn = queue.shift()) await connectOne(conn)
  }))
  const connectMs = performance.now() - t0Connect
  const live = conns.filter((c) => c.ready)
  const refused = conns.filter((c) => !c.ready).map((c) => ({ deviceId: c.device.deviceId, reason: c.failed ?? 'not connected' }))
  if (live.length === 0) {
    for (const c of conns) c.socket?.destroy()
    throw new LoadError(`no connection was accepted: ${conns[0]?.failed ?? 'unknown'}`)
  }

  // Publish: a token bucket refilled every few milliseconds, spent round-robin over the connections.
  const tStart = performance.now()
  const deadline = opts.durationS !== undefined ? tStart + opts.durationS * 1000 * 1.05 + 2_000 : Infinity
  let tokens = 0
  let last = tStart
  let rr = 0
  let lastProgress = tStart
  const burst = Math.max(opts.rate * 0.02, 1)
  const remaining = () => live.reduce((n, c) => n + (c.frames.length - c.next), 0)
  let left = remaining()
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now()
      const add = ((now - last) / 1000) * opts.rate
      tokens = Math.min(tokens + add, Math.max(burst, add)) // a late tick may spend its own share, no more
      last = now
      const batch = new Map<Conn, Buffer[]>()
      let idle = 0
      while (tokens >= 1 && left > 0 && idle < live.length) {
        const conn = live[rr]!
        rr = (rr + 1) % live.length
        if (!conn.ready || conn.paused || conn.inflight >= maxInflight || conn.next >= conn.frames.length) { idle++; continue }
        idle = 0
        const j = conn.next++
        const idx = conn.offset + j
        conn.byMessageId[(j % 65_535) + 1] = idx
        conn.inflight++
        sentAt[idx] = now
        let list = batch.get(conn)
        if (!list) batch.set(conn, (list = []))
        list.push(conn.frames[j]!)
        conn.frames[j] = EMPTY // let the frame go once written
        sent++
        left--
        tokens--
      }
      for (const [conn, list] of batch) if (!conn.socket!.write(list.length === 1 ? list[0]! : Buffer.concat(list))) conn.paused = true
      if (now - lastProgress >= 1000) {
        lastProgress = now
        opts.onProgress?.({ elapsedMs: now - tStart, sent, acked: ackCount })
      }
      if (left === 0 || now >= deadline || opts.signal?.aborted || live.every((c) => !c.ready)) return resolve()
      setTimeout(tick, 2)
    }
    tick()
  })
  const sendMs = performance.now() - tStart

  // The last PUBACKs.
  if (ackCount < sent) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, opts.ackTimeoutMs ?? 30_000)
      onAckProgress = () => { clearTimeout(timer); resolve() }
      opts.signal?.addEventListener('abort', () => { clearTimeout(timer); resolve() }, { once: true })
    })
  }
  const totalMs = (ackCount > 0 ? lastAckAt : performance.now()) - tStart
  await Promise.all(conns.map((c) => new Promise<void>((resolve) => {
    const s = c.socket
    if (!s || s.destroyed) return resolve()
    s.once('close', () => resolve())
    s.end(generate({ cmd: 'disconnect' }))
    setTimeout(() => s.destroy(), 2_000).unref()
  })))

  const byDevice = new Map(conns.map((c) => [c.device.deviceId, c]))
  return {
    connections: live.length,
    refused,
    connectMs: Math.round(connectMs),
    planned,
    sent,
    acked: ackCount,
    sendMs: Math.round(sendMs),
    totalMs: Math.round(totalMs),
    targetRate: opts.rate,
    achievedRate: Math.round(sent / (sendMs / 1000)),
    ackedRate: Math.round(ackCount / (Math.max(totalMs, 1) / 1000)),
    latencyMs: summarise(latencies.subarray(0, ackCount)),
    wasAcked(deviceId, seq) {
      const c = byDevice.get(deviceId)
      if (!c) return false
      const j = seq - c.firstSeq
      return j >= 0 && j < c.frames.length && acked[c.offset + j] === 1
    },
    *acknowledged() {
      for (const c of conns) for (let j = 0; j < c.frames.length; j++) if (acked[c.offset + j]) yield { deviceId: c.device.deviceId, seq: c.firstSeq + j }
    },
    seqRange(deviceId) {
      const c = byDevice.get(deviceId)
      return c && c.frames.length > 0 ? { first: c.firstSeq, last: c.firstSeq + c.frames.length - 1 } : undefined
    },
  }
}

const EMPTY = Buffer.alloc(0)
