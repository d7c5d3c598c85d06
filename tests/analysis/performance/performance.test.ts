// Contractor performance on the hand-computed scenario (scenario.ts): every KPI, the points with the
// not-rectified extra and the repeat multiplier, the deduction and its cap, the league and trends.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { silentLogger } from '../../../core/log.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { contractPerformance, performanceTrends, roundLeague } from '../../../analysis/performance/performance.ts'
import { ContractNotFoundError } from '../../../analysis/performance/terms.ts'
import { InvalidRangeError } from '../../../analysis/performance/periods.ts'
import { MARCH, NOW, seedScenario } from './scenario.ts'

let db: Database
beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  await seedScenario(db, 'K')
  // The same collections under a contract that pays little: its deduction hits the cap.
  await seedScenario(db, 'SMALL', { monthlyPayment: 5_000 })
})
afterAll(async () => {
  await db?.close()
})

describe('contract performance, March 2026 as of 20 March noon', () => {
  test('counts: scheduled (cancelled and pending left out), outcomes, misses and their rectification', async () => {
    const p = await contractPerformance(db, 'K', { ...MARCH, now: NOW })
    expect(p.figures).toMatchObject({
      scheduled: 26, pending: 1, collected: 13, collectedLate: 1, crewExceptions: 3,
      missed: 9, missedReported: 6, rectified: 2, rectifiedLate: 1, outstanding: 6,
      awaitingRectification: 1, notRectifiedInTime: 3, repeatMisses: 5, returnVisits: 3,
    })
    expect(p.figures.exceptionsByCode).toEqual({ not_presented: 1, contaminated: 1, no_access: 1, excess_waste: 0, overweight: 0, wrong_bin: 0, other: 0 })
  })

  test('KPIs: missed per 100,000, on the day %, rectified in time %, invalid-report rate', async () => {
    const f = (await contractPerformance(db, 'K', { ...MARCH, now: NOW })).figures
    expect(f.missedPer100k).toBeCloseTo((9 / 26) * 100_000, 6)
    expect(f.onDayPct).toBeCloseTo((13 / (26 - 3)) * 100, 6)
    expect(f.rectifiedInTimePct).toBeCloseTo((2 / (2 + 3)) * 100, 6)
    // Six reports in March by London days (28 Feb 23:30 GMT and 1 Apr 00:30 BST are not): 3 valid, 2 invalid, 1 pending.
    expect(f.reports).toEqual({ total: 6, valid: 3, invalid: 2, pending: 1 })
    expect(f.invalidReportPct).toBeCloseTo(40, 6)
  })

  test('points: 1 a miss, +2 when not rectified in time, all × 2 for a repeat; 24 points = £1,200', async () => {
    const p = await contractPerformance(db, 'K', { ...MARCH, now: NOW })
    // 9 misses; 3 not rectified in time; repeats: 5 misses (2 of them not rectified) doubled.
    expect(p.points).toEqual({ misses: 9, notRectified: 6, repeats: 5 + 2 * 2, total: 24 })
    expect(p.deduction).toEqual({ months: [{ month: '2026-03', from: '2026-03-01', to: '2026-03-31', points: 24, value: 1200, cap: 10_000, deduction: 1200, capped: false }], total: 1200 })
  })

  test('the deduction is capped at deduction_cap_pct of the monthly payment', async () => {
    const p = await contractPerformance(db, 'SMALL', { ...MARCH, now: NOW })
    expect(p.points.total).toBe(24)
    expect(p.deduction.months[0]).toMatchObject({ value: 1200, cap: 500, deduction: 500, capped: true })
    expect(p.deduction.total).toBe(500)
  })

  test('a range over two months is capped month by month', async () => {
    const p = await contractPerformance(db, 'SMALL', { from: '2026-01-01', to: '2026-03-31', now: NOW })
    // January: the 5 Jan miss (1 point, rectified in time, no earlier miss: £50). February: nothing.
    expect(p.deduction.months.map((m) => [m.month, m.points, m.deduction])).toEqual([['2026-01', 1, 50], ['2026-02', 0, 0], ['2026-03', 24, 500]])
    expect(p.deduction.total).toBe(550)
  })

  test('a miss awaiting rectification turns into "not rectified in time" when its deadline passes', async () => {
    const f = (await contractPerformance(db, 'K', { ...MARCH, now: new Date('2026-03-22T00:00:00Z') })).figures
    expect(f).toMatchObject({ awaitingRectification: 0, notRectifiedInTime: 4 })
    expect(f.rectifiedInTimePct).toBeCloseTo((2 / 6) * 100, 6)
  })

  test('the score against the targets: every KPI far off target scores 0', async () => {
    const p = await contractPerformance(db, 'K', { ...MARCH, now: NOW })
    expect(p.score).toBe(0)
    expect(p.targets.map((t) => [t.kpi, t.target, t.met, t.score, t.weight])).toEqual([
      ['missedPer100k', 30, false, 0, 0.5], ['onDayPct', 99.76, false, 0, 0.3], ['rectifiedInTimePct', 98, false, 0, 0.2],
    ])
  })

  test('a day with nothing decided has no KPIs and no score', async () => {
    const p = await contractPerformance(db, 'K', { from: '2026-03-20', to: '2026-03-20', now: NOW })
    expect(p.figures).toMatchObject({ scheduled: 0, pending: 1, missedPer100k: null, onDayPct: null, rectifiedInTimePct: null })
    expect(p.score).toBeNull()
  })

  test('unknown contract and bad ranges are named errors', async () => {
    await expect(contractPerformance(db, 'nope', { ...MARCH, now: NOW })).rejects.toBeInstanceOf(ContractNotFoundError)
    await expect(contractPerformance(db, 'K', { from: '2026-03-31', to: '2026-03-01' })).rejects.toBeInstanceOf(InvalidRangeError)
    await expect(contractPerformance(db, 'K', { from: '2025-01-01', to: '2026-03-01' })).rejects.toBeInstanceOf(InvalidRangeError)
  })
})

describe('league of rounds', () => {
  test('ranked by score, then fewer misses per 100,000', async () => {
    const { rounds } = await roundLeague(db, 'K', { ...MARCH, now: NOW })
    expect(rounds.map((r) => [r.rank, r.roundId, r.figures.scheduled, r.figures.missed, r.points.total])).toEqual([
      // A: 6 misses in 19 (31,579 per 100k); B: 3 in 7 (42,857 per 100k). Both score 0.
      [1, 'K-A', 19, 6, 3 + 1 + 6 + 2 + 2 + 1],
      [2, 'K-B', 7, 3, 6 + 2 + 1],
    ])
    expect(rounds[0]).toMatchObject({ name: 'Round K-A', stream: 'residual', vehicleId: 'K-v-A' })
  })
})

describe('trends', () => {
  test('by ISO week: partial weeks at both ends keep only the days in range', async () => {
    const t = await performanceTrends(db, 'K', { ...MARCH, now: NOW, granularity: 'week' })
    expect(t.points.map((p) => [p.period, p.from, p.to, p.figures.scheduled, p.figures.missed, p.points.total])).toEqual([
      ['2026-W09', '2026-03-01', '2026-03-01', 0, 0, 0],
      ['2026-W10', '2026-03-02', '2026-03-08', 17, 5, 3 + 1 + 6 + 2 + 1],
      ['2026-W11', '2026-03-09', '2026-03-15', 6, 2, 6 + 2],
      ['2026-W12', '2026-03-16', '2026-03-22', 3, 2, 2 + 1],
      ['2026-W13', '2026-03-23', '2026-03-29', 0, 0, 0],
      ['2026-W14', '2026-03-30', '2026-03-31', 0, 0, 0],
    ])
    expect(t.points[0]!.figures.reports.total).toBe(1) // 1 Mar 00:30
  })

  test('by day and by month add up to the whole range', async () => {
    const days = await performanceTrends(db, 'K', { ...MARCH, now: NOW, granularity: 'day' })
    expect(days.points).toHaveLength(31)
    expect(days.points.reduce((s, p) => s + p.figures.scheduled, 0)).toBe(26)
    expect(days.points.reduce((s, p) => s + p.points.total, 0)).toBe(24)
    const months = await performanceTrends(db, 'K', { from: '2026-02-15', to: '2026-03-31', now: NOW, granularity: 'month' })
    expect(months.points.map((p) => [p.period, p.from, p.to, p.figures.scheduled])).toEqual([['2026-02', '2026-02-15', '2026-02-28', 0], ['2026-03', '2026-03-01', '2026-03-31', 26]])
  })
})
