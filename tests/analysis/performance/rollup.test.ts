// The KPI roll-up: stored days read back the same as live ones; the triggers mark a day stale when
// an outcome, a report or a cancellation changes; a passed deadline or other terms make a day live
// again; and the daily job stores the month-to-date deduction once per day.
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { silentLogger } from '../../../core/log.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { contractPerformance, roundLeague } from '../../../analysis/performance/performance.ts'
import { kpiRollupJob, storedMonths } from '../../../analysis/performance/job.ts'
import { refreshRollup } from '../../../analysis/performance/rollup.ts'
import { startScheduler } from '../../../analysis/scheduler.ts'
import { MARCH, NOW, seedScenario, uprn } from './scenario.ts'

let db: Database
let ids: Record<string, number>
beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  ids = (await seedScenario(db, 'K')).ids
})
afterAll(async () => {
  await db?.close()
})

const staleDays = async () => (await db.query<{ day: string }>(`SELECT day FROM kpi_stale_days WHERE contract_id = 'K' ORDER BY day`)).rows.map((r) => r.day)
const perf = (now = NOW) => contractPerformance(db, 'K', { ...MARCH, now })

describe('roll-up', () => {
  test('every day written is marked stale; a refresh stores them and reads give the same figures', async () => {
    const live = await perf()
    expect(live.source).toEqual({ rolledUpDays: 0, liveDays: 31 })
    expect(await staleDays()).toContain('2026-03-02')

    const report = await refreshRollup(db, { now: NOW, contractId: 'K', ensure: MARCH })
    expect(report.contracts).toBe(1)
    expect(report.days).toBeGreaterThanOrEqual(31)
    expect(await staleDays()).toEqual([])
    const stored = await perf()
    expect(stored.source).toEqual({ rolledUpDays: 31, liveDays: 0 })
    expect(stored.figures).toEqual(live.figures)
    expect(stored.points).toEqual(live.points)
    expect((await roundLeague(db, 'K', { ...MARCH, now: NOW })).rounds.map((r) => r.points.total)).toEqual([15, 9])
  })

  test('an outcome reclassified marks its day stale, and readers see the change at once', async () => {
    await db.query(`UPDATE collection_outcomes SET outcome = 'collected', lift_ts = '2026-03-09T15:00:00Z' WHERE collection_id = $1`, [ids['A-0309-h10']])
    expect(await staleDays()).toEqual(['2026-03-09'])
    const p = await perf()
    expect(p.source).toEqual({ rolledUpDays: 30, liveDays: 1 })
    expect(p.figures).toMatchObject({ missed: 8, collected: 14, repeatMisses: 4 })
    await refreshRollup(db, { now: NOW, contractId: 'K' })
    expect(await staleDays()).toEqual([])
    expect((await perf()).figures).toMatchObject({ missed: 8, collected: 14 })
  })

  test('a report assessed, and a collection cancelled, mark their days stale', async () => {
    await db.query(`UPDATE missed_reports SET validity = 'invalid', invalid_reason = 'collected' WHERE uprn = $1 AND stream = 'residual' AND validity = 'pending'`, [uprn(5)])
    expect(await staleDays()).toEqual(expect.arrayContaining(['2026-03-19']))
    expect((await perf()).figures.reports).toEqual({ total: 6, valid: 3, invalid: 3, pending: 0 })

    await db.query(`UPDATE scheduled_collections SET cancelled = true WHERE collection_id = $1`, [ids['A-0302-h1']])
    expect(await staleDays()).toEqual(expect.arrayContaining(['2026-03-02']))
    expect((await perf()).figures).toMatchObject({ scheduled: 25, collected: 13 })
    await db.query(`UPDATE scheduled_collections SET cancelled = false WHERE collection_id = $1`, [ids['A-0302-h1']])
    await refreshRollup(db, { now: NOW, contractId: 'K' })
    expect((await perf()).figures).toMatchObject({ scheduled: 26, collected: 14 })
  })

  test('a stored day holds until its earliest open rectification deadline passes', async () => {
    const before = await perf(new Date('2026-03-21T23:58:00Z'))
    expect(before.source.liveDays).toBe(0)
    expect(before.figures).toMatchObject({ awaitingRectification: 1 })
    const after = await perf(new Date('2026-03-21T23:59:00Z'))
    expect(after.source).toEqual({ rolledUpDays: 30, liveDays: 1 })
    expect(after.figures).toMatchObject({ awaitingRectification: 0, notRectifiedInTime: 4 })
  })

  test('changing the repeat window makes every day live until the roll-up catches up', async () => {
    await db.query(`UPDATE contracts SET repeat_window_days = 7 WHERE contract_id = 'K'`)
    const p = await perf()
    expect(p.source.liveDays).toBe(31)
    // Within 7 days only: h9 recycling 03 Mar after residual 02 Mar, and h9 residual 09 Mar after 03 Mar.
    expect(p.figures.repeatMisses).toBe(2)
    await refreshRollup(db, { now: NOW, contractId: 'K' })
    expect((await perf()).source.liveDays).toBe(0)
    await db.query(`UPDATE contracts SET repeat_window_days = 84 WHERE contract_id = 'K'`)
  })

})

describe('the kpi-rollup job', () => {
  test('runs once per local day, refreshes the roll-up and stores the month to date', async () => {
    await db.query(`UPDATE collection_outcomes SET outcome = 'missed', lift_ts = NULL WHERE collection_id = $1`, [ids['A-0309-h10']])
    const scheduler = startScheduler({ db, logger: silentLogger, registry: new Registry(), timezone: 'Europe/London', jobs: [kpiRollupJob], autostart: false })
    try {
      const first = await scheduler.runNow('kpi-rollup', NOW)
      expect(first.status).toBe('done')
      expect(first.detail).toMatchObject({ contracts: 1, months: 2 })
      expect(await staleDays()).toEqual([])
      expect((await scheduler.runNow('kpi-rollup', new Date('2026-03-20T20:00:00Z'))).status).toBe('skipped')
    } finally {
      scheduler.stop()
    }
    const months = await storedMonths(db, 'K')
    expect(months.map((m) => [m.month, m.asOfDay, m.points, m.deduction])).toEqual([['2026-02', '2026-02-28', 0, 0], ['2026-03', '2026-03-20', 24, 1200]])
    expect(months[1]).toMatchObject({ deductionUncapped: 1200, deductionCap: 10_000 })
  })
})

describe('last, as it empties the outcomes', () => {
  test('a TRUNCATE of the outcomes forgets the roll-up', async () => {
    await refreshRollup(db, { now: NOW, ensure: MARCH })
    expect((await perf()).source.liveDays).toBe(0)
    await db.query(`TRUNCATE collection_outcomes`)
    const p = await perf()
    expect(p.source.liveDays).toBe(31)
    expect(p.figures.scheduled).toBe(0)
  })
})
