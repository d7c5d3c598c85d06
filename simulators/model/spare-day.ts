// Spare vehicles: the late collections a breakdown or an unfinished round left, and the return
// visits for misses residents reported (rectification).
import type { IsoDate } from '../../analysis/calendar/dates.ts'
import { londonInstant, MINUTE_MS } from '../time.ts'
import { crewFor } from './behaviour.ts'
import { gpsFix, weightOf, type DayPlanning, type Pending, type PlannedMessage } from './round-day.ts'
import { driveRoute, samplePositions, type RouteStop } from './vehicle-route.ts'

export class SparesError extends Error {
  override name = 'KERBSIDE_ERR_SIM_SPARES'
}

/**
 * A spare vehicle's day, planned at 05:00: yesterday's unfinished work and the return visits for
 * reported misses, in route order, split between the spare vehicles. Returns each one's messages.
 */
export function planSpareDay(p: DayPlanning, date: IsoDate, pending: Pending[]): Map<string, PlannedMessage[]> {
  const out = new Map<string, PlannedMessage[]>()
  const work: Pending[] = []
  const seen = new Set<string>()
  for (const w of pending) {
    const c = p.truth.collections.get(w.key)
    // Once emptied, there is nothing to go back for.
    if (!c || seen.has(w.key) || c.collectedAt !== null) continue
    seen.add(w.key)
    work.push(w)
  }
  if (work.length === 0) return out
  const spares = p.city.vehicles.filter((v) => v.role === 'spare')
  if (spares.length === 0) throw new SparesError('the city has no spare vehicle for late collections and return visits')
  work.sort((a, b) => a.household - b.household) // route order
  const r = p.rng.fork('spares', date)
  spares.forEach((vehicle, si) => {
    const mine = work.slice(Math.round((si * work.length) / spares.length), Math.round(((si + 1) * work.length) / spares.length))
    if (mine.length === 0) return
    const crew = crewFor(p.behaviour, `spare:${date}`, vehicle.vehicleId)
    const noise = mine.map(() => r.logNormal(1, 0.12))
    const stops: RouteStop[] = mine.map((w, i) => {
      const bin = p.city.bins[w.bin]!
      return {
        at: p.city.households[w.household]!, dwellS: crew.secondsPerLift[bin.stream] * r.logNormal(1, 0.3) + 20, skip: false, sameStreet: false,
        weightKg: (t: number) => weightOf(p.fill.litresAt(w.bin, t), bin.capacityL, bin.stream, noise[i]!),
      }
    })
    const route = driveRoute(stops, {
      departAt: londonInstant(date, 7 * 60) + r.between(0, 15) * MINUTE_MS, depot: p.city.depot, tip: p.city.tip, capacityKg: vehicle.capacityKg,
      speedKmh: p.behaviour.vehicles.speedKmh, tipMinutes: p.behaviour.vehicles.tipMinutes,
    })
    const items: PlannedMessage[] = []
    mine.forEach((w, i) => {
      const t = route.stopTimes[i]!
      const c = p.truth.collections.get(w.key)!
      const bin = p.city.bins[w.bin]!
      const household = p.city.households[w.household]!
      const weightKg = route.weights[i]!
      p.fill.empty(w.bin, t)
      const { lat, lon } = gpsFix(household, r)
      items.push({
        at: Math.round(t), kind: 'lift', body: { tag: bin.tag, weightKg, lat, lon, outcome: 'collected' },
        onSent: (seq, ts) => {
          c.lifts.push({ ts, seq, deviceId: vehicle.unitDeviceId, vehicleId: vehicle.vehicleId, outcome: 'collected', weightKg, lat, lon, visit: w.visit })
          c.collectedAt = ts
          if (w.visit === 'late') { c.outcome = 'collected_late'; c.lateAt = ts } else { c.outcome = 'rectified'; c.rectifiedAt = ts }
        },
      })
    })
    for (const f of samplePositions(route.legs, p.behaviour.vehicles.positionIntervalS * 1000)) if (f.at >= p.positionsFrom) items.push({ at: f.at, kind: 'position', body: { lat: f.lat, lon: f.lon, speedKmh: f.speedKmh, heading: f.heading } })
    out.set(vehicle.vehicleId, items)
  })
  return out
}
