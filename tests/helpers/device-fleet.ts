// A fleet of real devices for the crash suite: one MQTT.js client per device, QoS 1, publishing bin
// readings `{seq, ts, fillPct}` with a monotonic seq at a target total rate, with a bounded number
// of messages in flight per device. Each device records every seq it got a PUBACK for; after a run,
// `verify` checks that every acknowledged (device, seq) is in bin_readings exactly once.
//
// Sessions are persistent (clean = false): a device that reconnects with CleanSession 0 must resend
// every PUBLISH not yet acknowledged [MQTT-4.4.0-1]; with CleanSession 1 the spec lets both sides
// drop that state, so only a persistent session makes "the device sends it again" a promise rather
// than a habit of MQTT.js. One client object per device lives across every reconnect
// (reconnectPeriod), so its outgoing store (the unacknowledged messages) survives a broker or
// network failure, as a device's flash would.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import type { Queryable } from '../../storage/database.ts'

export interface FleetDevice { deviceId: string; secret?: string }

export interface FleetOptions {
  devices: FleetDevice[]
  /** Broker addresses for each device, tried in turn on every reconnect (the first is its home). */
  servers: (index: number) => string[]
  /** Target total publish rate, messages per second. */
  rate: number
  /** Most messages a device has sent and not yet had acknowledged. */
  window: number
  protocolVersion?: 4 | 5
  /** Send the device's id and secret as MQTT credentials (false: anonymous, for Mosquitto). */
  credentials?: boolean
  reconnectPeriodMs?: number
  /** The first seq each device sends (a second run of the same devices continues after the first). */
  firstSeq?: number
}

export interface FleetCounts {
  published: number
  acked: number
  inFlight: number
  /** Publish callbacks with an error (not stored in the client; published again). */
  retried: number
  /** CONNACKs after the first, over the whole fleet. */
  reconnects: number
}

export interface Verification extends FleetCounts {
  /** Rows in bin_readings for the fleet's devices. */
  stored: number
  /** Acknowledged (device, seq) with no row. */
  missing: number
  /** Extra rows for a (device, seq) stored more than once. */
  doubled: number
  /** Stored but never acknowledged (committed, then the PUBACK was lost in a crash): allowed. */
  storedNotAcked: number
  /** A few missing ones, to say where to look. */
  missingSample: string[]
}

interface DeviceState {
  id: string
  client: MqttClient
  topic: string
  seq: number
  inFlight: number
  acked: Set<number>
  connects: number
}

export interface Fleet {
  readonly deviceIds: string[]
  /** Connect every device (waits for the first CONNACK of each) and start publishing. */
  start(): Promise<void>
  /** Change the target rate (and window) while running. */
  setRate(rate: number, window?: number): void
  /** Stop starting new messages; those in flight stay in flight until acknowledged. */
  pause(): void
  /** Wait until nothing is in flight (every message sent was acknowledged), or fail after `timeoutMs`. */
  settle(timeoutMs: number): Promise<void>
  counts(): FleetCounts
  /** Acknowledged so far; a test that must see no acknowledgement in a window reads it twice. */
  acked(): number
  verify(db: Queryable): Promise<Verification>
  /** Disconnect every device (their unacknowledged messages are abandoned). */
  close(): Promise<void>
}

export function createFleet(opts: FleetOptions): Fleet {
  const reconnectPeriod = opts.reconnectPeriodMs ?? 250
  let published = 0
  let ackedTotal = 0
  let retried = 0
  let rate = opts.rate
  let window = opts.window
  let running = false
  let closed = false
  let ticker: NodeJS.Timeout | null = null
  let cursor = 0
  let credit = 0
  let lastTick = 0

  const states: DeviceState[] = opts.devices.map((d, i) => {
    const servers = opts.servers(i).map((u) => { const url = new URL(u); return { host: url.hostname, port: Number(url.port) } })
    const options: IClientOptions = {
      servers,
      clientId: d.deviceId,
      clean: false,
      reconnectPeriod,
      // Firmware retries after a refused CONNACK (Kerbside answers 3, server unavailable, while its
      // database is away); MQTT.js would otherwise stop reconnecting for good.
      reconnectOnConnackError: true,
      connectTimeout: 5_000,
      keepalive: 30,
      protocolVersion: opts.protocolVersion ?? 4,
      manualConnect: true,
      ...(opts.credentials === false ? {} : { username: d.deviceId, password: d.secret }),
    }
    const client = mqtt.connect(options)
    const s: DeviceState = { id: d.deviceId, client, topic: `kerbside/v1/bins/${d.deviceId}/reading`, seq: (opts.firstSeq ?? 1) - 1, inFlight: 0, acked: new Set(), connects: 0 }
    client.on('packetreceive', (p) => {
      // Counted at the CONNACK: MQTT.js emits 'connect' only after it has resent its store.
      if (p.cmd === 'connack' && ((p as { returnCode?: number }).returnCode ?? (p as { reasonCode?: number }).reasonCode ?? 0) === 0) s.connects++
    })
    client.on('error', () => undefined) // refused or reset connections: MQTT.js reconnects by itself
    return s
  })

  const send = (s: DeviceState, seq: number, payload: string) => {
    s.client.publish(s.topic, payload, { qos: 1 }, (err) => {
      if (err) {
        if (closed) return
        // Not kept in the client's store (e.g. the connection closed while the store was being
        // resent): the device sends the same message again, as firmware would.
        retried++
        setTimeout(() => send(s, seq, payload), 100)
        return
      }
      s.inFlight--
      if (!s.acked.has(seq)) { s.acked.add(seq); ackedTotal++ }
    })
  }

  const publishOne = (s: DeviceState) => {
    const seq = ++s.seq
    s.inFlight++
    published++
    send(s, seq, JSON.stringify({ seq, ts: new Date().toISOString(), fillPct: seq % 101 }))
  }

  // Every 5 ms, send what the target rate owes since the last tick, round-robin over devices with
  // room in their window. Credit is capped at 100 ms worth, so an outage does not end in a burst of
  // everything that was not sent during it.
  const tick = () => {
    const now = performance.now()
    credit = Math.min(credit + (rate * (now - lastTick)) / 1000, Math.max(1, rate / 10))
    lastTick = now
    let idle = 0
    while (credit >= 1 && idle < states.length) {
      const s = states[cursor]!
      cursor = (cursor + 1) % states.length
      if (s.inFlight >= window) { idle++; continue }
      idle = 0
      publishOne(s)
      credit--
    }
  }

  const counts = (): FleetCounts => ({
    published,
    acked: ackedTotal,
    inFlight: states.reduce((n, s) => n + s.inFlight, 0),
    retried,
    reconnects: states.reduce((n, s) => n + Math.max(0, s.connects - 1), 0),
  })

  return {
    deviceIds: states.map((s) => s.id),
    async start() {
      await Promise.all(states.map((s) => new Promise<void>((resolve) => {
        if (s.connects > 0) return resolve()
        s.client.once('connect', () => resolve())
        if (!s.client.connected && !s.client.reconnecting) s.client.connect()
      })))
      running = true
      lastTick = performance.now()
      ticker ??= setInterval(() => { if (running) tick() }, 5)
    },
    setRate(r, w) { rate = r; if (w !== undefined) window = w },
    pause() { running = false; credit = 0 },
    async settle(timeoutMs) {
      const until = Date.now() + timeoutMs
      while (counts().inFlight > 0) {
        if (Date.now() > until) throw new Error(`devices still hold ${counts().inFlight} unacknowledged messages after ${timeoutMs} ms (${JSON.stringify(counts())})`)
        await new Promise((r) => setTimeout(r, 100))
      }
    },
    counts,
    acked: () => ackedTotal,
    async verify(db) {
      const { rows } = await db.query<{ device_id: string; seq: string | number; n: number }>(
        `SELECT device_id, seq, count(*)::int AS n FROM bin_readings WHERE device_id = ANY($1::text[]) GROUP BY device_id, seq`,
        [states.map((s) => s.id)],
      )
      const stored = new Map<string, Map<number, number>>()
      let total = 0
      let doubled = 0
      for (const r of rows) {
        const perDevice = stored.get(r.device_id) ?? new Map<number, number>()
        stored.set(r.device_id, perDevice)
        perDevice.set(Number(r.seq), r.n)
        total += r.n
        doubled += r.n - 1
      }
      let missing = 0
      let storedNotAcked = 0
      const missingSample: string[] = []
      for (const s of states) {
        const have = stored.get(s.id) ?? new Map<number, number>()
        for (const seq of s.acked) {
          if (have.has(seq)) continue
          missing++
          if (missingSample.length < 10) missingSample.push(`${s.id}#${seq}`)
        }
        for (const seq of have.keys()) if (!s.acked.has(seq)) storedNotAcked++
      }
      return { ...counts(), stored: total, missing, doubled, storedNotAcked, missingSample }
    },
    async close() {
      running = false
      closed = true
      if (ticker) clearInterval(ticker)
      ticker = null
      await Promise.all(states.map((s) => s.client.endAsync(true).catch(() => undefined)))
    },
  }
}

/** One line a reader can compare across runs: the figures every case prints. */
export function summary(v: Verification): string {
  return `published ${v.published}, acknowledged ${v.acked}, stored ${v.stored}, missing ${v.missing}, doubled ${v.doubled}` +
    ` (stored but not acknowledged ${v.storedNotAcked}, resent after an error ${v.retried}, reconnects ${v.reconnects})` +
    (v.missingSample.length ? `; missing e.g. ${v.missingSample.join(' ')}` : '')
}
