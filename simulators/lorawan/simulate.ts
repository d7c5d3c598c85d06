// LoRaWAN bin sensors through their network servers: registers one sensor per bin given (models and
// network servers taken in turn), then sends each sensor's uplinks to Kerbside's webhooks as The
// Things Stack or ChirpStack would: bins fill by day, are emptied, now and then one is knocked over,
// a sensor re-joins (its frame counter starts again), a gateway pair delivers an uplink twice.
// The command line is simulate-cli.ts; `kerbside demo` runs it for a share of its bins (cli/demo-lorawan.ts).
import { SENSOR_MODELS } from '../../ingest/codecs/index.ts'
import { geometryFor } from '../../ingest/codecs/fill-level.ts'
import { chirpstackJoin, chirpstackUp, ttsJoinAccept, ttsUplink } from './envelopes.ts'
import { encodeFrame, type SensorState } from './frames.ts'

export interface SimSensor {
  devEui: string; binId: string; model: string; server: 'ttn' | 'chirpstack'; fCnt: number; fill: number; capacityL: number; state: SensorState
  /** When Kerbside last heard this sensor (registered before), ms; null for a new one. */
  lastUplinkAt: number | null
}

export interface SimOptions {
  url: string
  adminKey: string
  secrets: { ttn: string; chirpstack: string }
  bins: string[]
  random?: () => number
  /** Models taken in turn; default every model Kerbside decodes. */
  models?: readonly string[]
  /** Fill added per round, % (uniform between the two); default 1–7 (a bin full in a day of hourly rounds). */
  fillPerRound?: readonly [number, number]
  /** Uplinks in flight at once (each sensor's own uplinks stay in order); default 1. */
  concurrency?: number
}

export const simDevEui = (i: number) => `A8404100${(0x51000000 + i).toString(16).toUpperCase()}`

/** Register one sensor per bin (PUT is idempotent: running the simulator again keeps them). */
export async function registerSensors(o: SimOptions): Promise<SimSensor[]> {
  const sensors: SimSensor[] = []
  const models = o.models ?? SENSOR_MODELS
  const random = o.random ?? Math.random
  for (const [i, binId] of o.bins.entries()) {
    const devEui = simDevEui(i)
    const model = models[i % models.length]!
    const res = await fetch(`${o.url}/api/v1/lorawan/devices/${devEui}`, { method: 'PUT', headers: { authorization: `Bearer ${o.adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ model, binId }) })
    if (res.status !== 200 && res.status !== 201) throw new Error(`registering ${devEui} on ${binId}: ${res.status} ${await res.text()}`)
    // Registered before (the simulator started again): carry on from the frame counter Kerbside last heard.
    const known = (await res.json()) as { lastFCnt: number | null; capacityL: number | null; lastUplinkAt: string | null }
    const fill = random() * 80
    sensors.push({ devEui, binId, model, server: i % 2 === 0 ? 'ttn' : 'chirpstack', fCnt: (known.lastFCnt ?? -1) + 1, fill, capacityL: known.capacityL ?? 240, lastUplinkAt: known.lastUplinkAt ? Date.parse(known.lastUplinkAt) : null, state: { distanceMm: 0, batteryPct: 95, tempC: 12, tilted: false } })
  }
  return sensors
}

async function post(o: SimOptions, server: 'ttn' | 'chirpstack', event: string, body: unknown): Promise<number> {
  const path = server === 'ttn' ? 'ttn' : `chirpstack?event=${event}`
  const res = await fetch(`${o.url}/api/v1/lorawan/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-kerbside-secret': o.secrets[server] }, body: JSON.stringify(body) })
  await res.arrayBuffer()
  return res.status
}

/** One reporting round: every sensor measures and sends one uplink (retried until answered 2xx). */
export async function sendRound(o: SimOptions, sensors: SimSensor[], at = new Date()): Promise<{ sent: number; retries: number }> {
  const random = o.random ?? Math.random
  const [lo, hi] = o.fillPerRound ?? [1, 7]
  let retries = 0
  async function one(s: SimSensor) {
    // Waste grows a little each round; a full bin is emptied; rarely a bin is knocked over or a sensor re-joins.
    s.fill = s.fill >= 95 ? 0 : Math.min(100, s.fill + lo + random() * (hi - lo))
    s.state.tilted = random() < 0.01
    s.state.batteryPct = Math.max(5, s.state.batteryPct - 0.01)
    s.state.tempC = 8 + random() * 8
    const g = geometryFor(s.capacityL)
    s.state.distanceMm = g.mountOffsetMm + g.innerDepthMm * (1 - s.fill / 100)
    if (random() < 0.005) {
      s.fCnt = 0
      const join = s.server === 'ttn' ? ttsJoinAccept(s.devEui, new Date(at.getTime() - 1000)) : chirpstackJoin(s.devEui, new Date(at.getTime() - 1000))
      await post(o, s.server, 'join', join)
    }
    const { fPort, payload } = encodeFrame(s.model, s.state)
    const spec = { devEui: s.devEui, fCnt: s.fCnt, fPort, payload, receivedAt: at, gateways: 1 + Math.floor(random() * 3) }
    const body = s.server === 'ttn' ? ttsUplink(spec) : chirpstackUp(spec)
    const copies = random() < 0.02 ? 2 : 1
    for (let c = 0; c < copies; c++) {
      for (let attempt = 0; ; attempt++) {
        const status = await post(o, s.server, 'up', body).catch(() => 0)
        if (status >= 200 && status < 300) break
        retries++
        if (attempt > 20) throw new Error(`uplink of ${s.devEui} refused with ${status}`)
        await new Promise((r) => setTimeout(r, 500))
      }
    }
    s.fCnt++
  }
  // A few sensors at a time, each one's uplink (and any join before it) in order.
  let next = 0
  const worker = async () => { while (next < sensors.length) await one(sensors[next++]!) }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency ?? 1, sensors.length)) }, worker))
  return { sent: sensors.length, retries }
}
