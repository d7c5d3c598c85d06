// The demo's LoRaWAN bin sensors: a share of the city's wheeled bins that have no MQTT sensor get
// a LoRaWAN one (Milesight EM310-UDL and Dragino LDDS75, the models councils buy most, in turn),
// registered by DevEUI through the API like a council's own, and the LoRaWAN simulator
// (simulators/lorawan/) posts their uplinks to the demo's own webhooks, half as The Things Stack
// and half as ChirpStack would, each with the secret the demo configured for that network server.
// They go through the same front door as a real network server's: codec, fill level, the one
// ingest pipeline; so these bins fill on the map and show in the household history like the others.
import type { City } from '../simulators/city/city.ts'
import { registerSensors, sendRound, type SimOptions, type SimSensor } from '../simulators/lorawan/simulate.ts'
import { createRandom } from '../simulators/random.ts'

/** Share of the city's wheeled bins without an MQTT sensor that get a LoRaWAN one. */
export const LORAWAN_SHARE = 0.06
export const DEMO_LORAWAN_MODELS = ['milesight-em310-udl', 'dragino-ldds75'] as const
/** Sensors report every ten minutes, as the demo's MQTT sensors do live. */
export const LORAWAN_INTERVAL_MS = 10 * 60_000
/** Before going live, the last three hours (every half hour, to keep the start quick): no LoRaWAN bin looks unheard of. */
export const LORAWAN_PAST_MS = 3 * 3600_000
const PAST_INTERVAL_MS = 30 * 60_000
/** At most this many: registering goes through the API, at most HTTP_RATE_LIMIT_PER_MINUTE (600) requests a minute for one key. */
export const LORAWAN_MAX_SENSORS = 300
/** Fill per ten-minute round, %: a bin fills in about four days (it is emptied when nearly full). */
const FILL_PER_ROUND: readonly [number, number] = [0, 0.35]

/** The bins that get a LoRaWAN sensor: every n-th wheeled bin without one, in the city's own order (the same bins on every start). */
export function lorawanBins(city: City, share = LORAWAN_SHARE): string[] {
  const candidates = city.bins.filter((b) => b.stream !== 'food' && !b.sensorDeviceId)
  const wheeled = city.bins.filter((b) => b.stream !== 'food').length
  const want = Math.min(candidates.length, LORAWAN_MAX_SENSORS, Math.round(wheeled * share))
  if (want === 0) return []
  const step = candidates.length / want
  return Array.from({ length: want }, (_, i) => candidates[Math.floor(i * step)]!.binId)
}

export interface DemoLoRaWAN {
  sensors: SimSensor[]
  /** Uplinks sent for the recent past. */
  past: number
  /** Stop the live rounds and wait for the one under way. */
  stop(): Promise<void>
}

export interface DemoLoRaWANOptions {
  url: string
  /** An API key with the provisioning role (registers the sensors). */
  provisioningKey: string
  secrets: { ttn: string; chirpstack: string }
  bins: string[]
  seed: number
  now?: () => number
  onError?: (err: unknown) => void
}

/** Register the sensors, send the last hours' uplinks, then one round every LORAWAN_INTERVAL_MS until stopped. */
export async function startDemoLoRaWAN(o: DemoLoRaWANOptions): Promise<DemoLoRaWAN> {
  const now = o.now ?? Date.now
  const rng = createRandom(o.seed * 7919 + 15)
  const sim: SimOptions = {
    url: o.url, adminKey: o.provisioningKey, secrets: o.secrets, bins: o.bins, models: DEMO_LORAWAN_MODELS,
    random: () => rng.next(), fillPerRound: FILL_PER_ROUND, concurrency: 8,
  }
  const sensors = await registerSensors(sim)
  let past = 0
  const start = now()
  // After a restart, from where the sensors were last heard (their frame counters carry on from there).
  const heard = Math.max(0, ...sensors.map((s) => s.lastUplinkAt ?? 0))
  for (let at = Math.max(start - LORAWAN_PAST_MS, heard + PAST_INTERVAL_MS); at <= start; at += PAST_INTERVAL_MS) past += (await sendRound(sim, sensors, new Date(at))).sent

  let stopped = false
  let running: Promise<unknown> = Promise.resolve()
  let timer: NodeJS.Timeout | undefined
  const schedule = () => {
    timer = setTimeout(() => {
      running = sendRound(sim, sensors, new Date(now())).catch((err: unknown) => o.onError?.(err)).finally(() => { if (!stopped) schedule() })
    }, LORAWAN_INTERVAL_MS)
    timer.unref()
  }
  schedule()
  return {
    sensors, past,
    async stop() {
      stopped = true
      clearTimeout(timer)
      await running
    },
  }
}

/** The banner's line about them. */
export function describeLoRaWAN(l: DemoLoRaWAN): string {
  const ttn = l.sensors.filter((s) => s.server === 'ttn').length
  const models = [...new Set(l.sensors.map((s) => s.model))].join(', ')
  return `${l.sensors.length} bins with LoRaWAN sensors (${models}) send every ${LORAWAN_INTERVAL_MS / 60_000} minutes through simulated The Things Stack (${ttn}) and ChirpStack (${l.sensors.length - ttn}) webhooks`
}
