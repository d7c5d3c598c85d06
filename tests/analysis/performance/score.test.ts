// The 0–100 score and the pure KPI arithmetic, hand-computed.
import { describe, expect, test } from 'vitest'
import { emptyCounts } from '../../../analysis/performance/counts.ts'
import { defaultPoints, kpiFigures, monthDeduction } from '../../../analysis/performance/kpis.ts'
import { contractScore, failureScore } from '../../../analysis/performance/score.ts'

const targets = { targetMissedPer100k: 30, targetOnDayPct: 99.76, targetRectifiedPct: 98 }

describe('failureScore', () => {
  test('100 up to the allowed level, 0 from three times it, a straight line between', () => {
    expect(failureScore(0, 30)).toBe(100)
    expect(failureScore(30, 30)).toBe(100)
    expect(failureScore(45, 30)).toBe(75)
    expect(failureScore(60, 30)).toBe(50)
    expect(failureScore(90, 30)).toBe(0)
    expect(failureScore(500, 30)).toBe(0)
  })
  test('with nothing allowed, any failure scores 0', () => {
    expect(failureScore(0, 0)).toBe(100)
    expect(failureScore(0.001, 0)).toBe(0)
  })
})

describe('contractScore', () => {
  test('weighted 0.5 / 0.3 / 0.2: 45 per 100k, 99.64 % on the day, 100 % rectified = 80', () => {
    // missed: (90 − 45) / 60 = 75; on the day: failure 0.36 of 0.24 allowed → (0.72 − 0.36) / 0.48 = 75; rectified: 100.
    const s = contractScore({ missedPer100k: 45, onDayPct: 99.64, rectifiedInTimePct: 100 }, targets)
    expect(s.components.map((c) => [c.kpi, c.score, c.met])).toEqual([['missedPer100k', 75, false], ['onDayPct', 75, false], ['rectifiedInTimePct', 100, true]])
    expect(s.score).toBe(80)
  })
  test('targets met exactly score 100', () => {
    expect(contractScore({ missedPer100k: 30, onDayPct: 99.76, rectifiedInTimePct: 98 }, targets).score).toBe(100)
  })
  test('a KPI without data is left out and the weights renormalised', () => {
    // missed 75 (weight 0.5), on the day 100 (0.3): (37.5 + 30) / 0.8 = 84.375 → 84.4
    const s = contractScore({ missedPer100k: 45, onDayPct: 100, rectifiedInTimePct: null }, targets)
    expect(s.score).toBe(84.4)
    expect(s.components[2]).toMatchObject({ kpi: 'rectifiedInTimePct', value: null, met: null, score: null })
    expect(contractScore({ missedPer100k: null, onDayPct: null, rectifiedInTimePct: null }, targets).score).toBeNull()
  })
})

describe('points and deduction', () => {
  const terms = { pointsPerMiss: 3, pointsNotRectified: 5, repeatMultiplier: 1.5 }
  test('per miss, plus the not-rectified extra, × the multiplier for repeats', () => {
    // 10 misses, 4 not rectified in time, 2 repeats of which 1 not rectified:
    // 10×3 + 4×5 + 0.5 × (2×3 + 1×5) = 30 + 20 + 5.5
    const c = { ...emptyCounts(), missed: 10, notRectified: 4, repeatMisses: 2, repeatNotRectified: 1 }
    expect(defaultPoints(c, terms)).toEqual({ misses: 30, notRectified: 20, repeats: 5.5, total: 55.5 })
  })
  test('points × point value, capped at the cap % of the monthly payment', () => {
    const t = { pointValue: 50, deductionCapPct: 10, monthlyPayment: 20_000 }
    expect(monthDeduction({ month: '2026-03', from: '2026-03-01', to: '2026-03-31' }, 39.9, t)).toMatchObject({ value: 1995, cap: 2000, deduction: 1995, capped: false })
    expect(monthDeduction({ month: '2026-03', from: '2026-03-01', to: '2026-03-31' }, 40.1, t)).toMatchObject({ value: 2005, cap: 2000, deduction: 2000, capped: true })
  })
  test('ratios with a zero base are null', () => {
    const f = kpiFigures(emptyCounts())
    expect([f.missedPer100k, f.onDayPct, f.rectifiedInTimePct, f.invalidReportPct]).toEqual([null, null, null, null])
    // Every collection a crew exception: nothing was the contractor's to collect.
    expect(kpiFigures({ ...emptyCounts(), scheduled: 5, crewExceptions: 5 }).onDayPct).toBeNull()
  })
})
