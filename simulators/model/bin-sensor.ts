// A fill sensor on a wheelie bin: what it measures and reports, and the things that happen to it —
// offline spells (radio out of reach), a rare bin fire, a slowly draining battery, a lid left open,
// a bin knocked over, and the bin moved out to the kerb for collection (reported as `moved`, the
// FIWARE status for a container away from its usual place).
import type { BinStatus } from '../../core/contract/messages.ts'
import type { Random } from '../random.ts'
import { DAY_MS, HOUR_MS, MINUTE_MS, londonMinutes } from '../time.ts'
import type { OfflineMode, SensorBehaviour } from './behaviour.ts'
import { clamp } from './bin-fill.ts'

export interface HeldReading { at: number; seq: number; body: Record<string, unknown> }

export interface OfflineSpell {
  from: number
  to: number
  held: HeldReading[]
  bufferedSeqs: number[]
  lostSeqs: number[]
}

export interface BinFire { start: number; end: number; peakTempC: number }

export interface SensorAgent {
  deviceId: string
  bin: number
  binId: string
  uprn: number
  cbor: boolean
  rng: Random
  intervalMs: number
  mode: OfflineMode
  spells: OfflineSpell[]
  /** The spell in progress, if the sensor is offline now. */
  offline: OfflineSpell | null
  fires: BinFire[]
  batteryStartV: number
  drainPerReadingV: number
  readings: number
  /** When the bin stands at the kerb: [from, to) intervals, added as collections are planned. */
  presented: [number, number][]
  /** Chance per reading of an impossible fill from a faulty transducer (0 for a sound sensor). */
  faultyRate: number
}

export function createSensorAgent(input: { deviceId: string; bin: number; binId: string; uprn: number; rng: Random; behaviour: SensorBehaviour; startMs: number; endMs: number }): SensorAgent {
  const { rng, behaviour: b, startMs, endMs } = input
  const setup = rng.fork('setup')
  const mode = setup.weighted(Object.entries(b.offlineModes) as [OfflineMode, number][])
  const nearlyFlat = setup.chance(0.04) // a few sensors near the end of their battery life
  const agent: SensorAgent = {
    deviceId: input.deviceId, bin: input.bin, binId: input.binId, uprn: input.uprn, rng: rng.fork('readings'),
    cbor: setup.chance(b.cborShare),
    intervalMs: b.readingIntervalS * 1000,
    mode, spells: [], offline: null, fires: [],
    batteryStartV: nearlyFlat ? setup.between(3.3, 3.36) : setup.between(3.5, 3.67),
    drainPerReadingV: nearlyFlat ? 0.0004 : 0.00003,
    readings: 0,
    presented: [],
    // Drawn only when the simulation asks for faulty sensors, so that other runs keep their random sequences.
    faultyRate: (b.faultyShare ?? 0) > 0 && setup.chance(b.faultyShare!) ? (b.faultyReadingRate ?? 0.05) : 0,
  }
  // Offline spells: Poisson arrivals, exponential lengths (30 minutes to three days).
  const weekMs = 7 * DAY_MS
  if (b.offlineSpellsPerWeek > 0) {
    const spells = rng.fork('offline')
    for (let t = startMs + spells.exponential(weekMs / b.offlineSpellsPerWeek); t < endMs;) {
      const length = clamp(spells.exponential(b.offlineMeanHours * HOUR_MS), 30 * MINUTE_MS, 72 * HOUR_MS)
      agent.spells.push({ from: Math.round(t), to: Math.round(Math.min(t + length, endMs)), held: [], bufferedSeqs: [], lostSeqs: [] })
      t += length + spells.exponential(weekMs / b.offlineSpellsPerWeek)
    }
  }
  // Bin fires: rare, 20–90 minutes, hot enough to trip any alarm.
  if (b.fireRatePerDay > 0) {
    const fires = rng.fork('fires')
    for (let day = Math.floor(startMs / DAY_MS); day * DAY_MS < endMs; day++) {
      if (!fires.chance(b.fireRatePerDay)) continue
      const start = Math.round(Math.max(startMs, day * DAY_MS + fires.between(0, DAY_MS)))
      if (start >= endMs) continue
      agent.fires.push({ start, end: Math.round(start + fires.between(20, 90) * MINUTE_MS), peakTempC: Math.round(fires.between(80, 400)) })
    }
  }
  return agent
}

/** Outdoor temperature in Merseyside: ~5 °C in January, ~16 °C in July, warmest mid-afternoon. */
export function ambientTempC(ms: number): number {
  const d = new Date(ms)
  const dayOfYear = (ms - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY_MS
  const seasonal = 10.5 - 5.5 * Math.cos((2 * Math.PI * (dayOfYear - 15)) / 365)
  const hour = londonMinutes(ms) / 60
  return seasonal + 3.5 * Math.sin((2 * Math.PI * (hour - 9)) / 24)
}

export const fireAt = (agent: SensorAgent, ms: number): BinFire | undefined => agent.fires.find((f) => ms >= f.start && ms < f.end)
const presentedAt = (agent: SensorAgent, ms: number) => agent.presented.some(([from, to]) => ms >= from && ms < to)

export interface Measurement {
  trueFillPct: number
  body: { fillPct: number; tempC: number; batteryV: number; status: BinStatus }
}

/** What the sensor measures at `ms`, given the bin's real fill. */
export function measure(agent: SensorAgent, ms: number, trueFillPct: number, noisePct: number): Measurement {
  const r = agent.rng
  const fire = fireAt(agent, ms)
  const noisy = trueFillPct + r.normal(0, noisePct)
  let status: BinStatus = 'ok'
  let tempC = ambientTempC(ms) + r.normal(0, 0.6) + (trueFillPct > 50 ? 1.2 : 0) // decomposition warms a full bin a little
  const roll = r.next()
  if (fire) {
    status = 'burning'
    const progress = (ms - fire.start) / (fire.end - fire.start)
    tempC = 60 + (fire.peakTempC - 60) * Math.sin(Math.PI * (0.15 + 0.7 * Math.min(1, progress))) // never below an alarm
  } else if (roll < 0.0001) status = 'vandalized'
  else if (roll < 0.0004) status = 'dropped' // knocked over by wind or a passer-by
  else if (trueFillPct > 100 || roll < 0.004) status = 'lidOpen'
  else if (presentedAt(agent, ms)) status = 'moved'
  agent.readings++
  // A faulty transducer's echo: an impossible fill, sent as measured (the device contract refuses it).
  const faultyFill = agent.faultyRate > 0 && r.chance(agent.faultyRate) ? Math.round(r.between(120, 160)) : null
  // Lithium thionyl chloride cells sag a little in the cold.
  const batteryV = agent.batteryStartV - agent.drainPerReadingV * agent.readings - 0.015 * Math.max(0, 5 - tempC) / 5
  return {
    trueFillPct,
    body: {
      fillPct: faultyFill ?? Math.round(clamp(noisy, 0, 100) * 10) / 10,
      tempC: Math.round(clamp(tempC, -60, 1000) * 10) / 10,
      batteryV: Math.round(clamp(batteryV, 0, 30) * 100) / 100,
      status,
    },
  }
}
