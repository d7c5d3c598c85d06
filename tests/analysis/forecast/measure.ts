// Fill forecasts against the simulator's truth, shared by the forecast test and bench/proactive.ts.
// At each forecast instant T every sensor bin is forecast as its readings stood at T; the truth is the
// bin's real level (the simulator's `bin-full` records: when the content reached the bin's capacity,
// cycle by cycle) and its emptyings (collected lifts):
//   days to full     for bins that really filled after T and before their next emptying: forecast minus
//                    true days from T (error; mean absolute, median, 90th percentile, bias);
//   not full         bins emptied before they filled: a forecast of full before that emptying is a false alarm;
//   overflow alerts  forecast full before the next collection, against really full before the next emptying.
import { forecastBins } from '../../../analysis/forecast/forecast.ts'
import type { Database } from '../../../storage/database.ts'
import type { SimulatedCity } from '../../helpers/simulated-city.ts'

export interface ForecastError {
  forecasts: number
  withRate: number
  filled: number
  maeDays: number
  medianAbsDays: number
  p90AbsDays: number
  biasDays: number
  notFilled: number
  falseAlarms: number
  overflow: { predicted: number; actual: number; hit: number; precision: number; recall: number }
}

const DAY_MS = 86_400_000

export async function forecastError(db: Database, sim: SimulatedCity, instants: readonly Date[]): Promise<ForecastError> {
  const empties = new Map<string, number[]>()
  for (const c of sim.truth.collections.values()) {
    for (const l of c.lifts) if (l.outcome === 'collected') empties.set(c.binId, [...(empties.get(c.binId) ?? []), Date.parse(l.ts)])
  }
  for (const v of empties.values()) v.sort((a, b) => a - b)
  const fulls = new Map<string, number[]>()
  for (const f of sim.truth.binFull) fulls.set(f.binId, [...(fulls.get(f.binId) ?? []), Date.parse(f.at)])
  for (const v of fulls.values()) v.sort((a, b) => a - b)

  const errors: number[] = []
  const out: ForecastError = { forecasts: 0, withRate: 0, filled: 0, maeDays: NaN, medianAbsDays: NaN, p90AbsDays: NaN, biasDays: NaN, notFilled: 0, falseAlarms: 0, overflow: { predicted: 0, actual: 0, hit: 0, precision: NaN, recall: NaN } }
  for (const at of instants) {
    const t = at.getTime()
    for (const f of await forecastBins(db, at)) {
      out.forecasts++
      const e = empties.get(f.binId) ?? []
      const prev = [...e].reverse().find((x) => x <= t) ?? -Infinity
      const next = e.find((x) => x > t) ?? sim.endMs
      const full = (fulls.get(f.binId) ?? []).find((x) => x > prev && x < next)
      if (full !== undefined && full <= t) continue // full already: nothing to forecast
      const reallyOverflows = full !== undefined
      if (f.overflow) out.overflow.predicted++
      if (reallyOverflows) out.overflow.actual++
      if (f.overflow && reallyOverflows) out.overflow.hit++
      if (f.fullAt === null) continue
      out.withRate++
      if (full !== undefined) {
        out.filled++
        errors.push((f.fullAt.getTime() - full) / DAY_MS)
      } else if (next < sim.endMs) {
        out.notFilled++
        if (f.fullAt.getTime() < next) out.falseAlarms++
      }
    }
  }
  const abs = errors.map(Math.abs).sort((a, b) => a - b)
  const r2 = (v: number) => Math.round(v * 100) / 100
  if (abs.length) {
    out.maeDays = r2(abs.reduce((s, v) => s + v, 0) / abs.length)
    out.medianAbsDays = r2(abs[Math.floor(abs.length / 2)]!)
    out.p90AbsDays = r2(abs[Math.min(abs.length - 1, Math.floor(abs.length * 0.9))]!)
    out.biasDays = r2(errors.reduce((s, v) => s + v, 0) / errors.length)
  }
  out.overflow.precision = out.overflow.predicted ? r2(out.overflow.hit / out.overflow.predicted) : NaN
  out.overflow.recall = out.overflow.actual ? r2(out.overflow.hit / out.overflow.actual) : NaN
  return out
}
