// Why bins are missed, on the hand-computed scenario of the performance tests (contract K, March 2026):
// breakdowns, the hour the round passed, hotspots, repeat households and the cost of return trips.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { silentLogger } from '../../../core/log.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { cellCentre, whyMissed, type Breakdown, type WhyMissed } from '../../../analysis/why-missed/why-missed.ts'
import { MARCH, seedScenario, uprn } from '../performance/scenario.ts'

let db: Database
let w: WhyMissed
beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  await seedScenario(db, 'K')
  w = await whyMissed(db, 'K', { ...MARCH, minScheduled: 5 })
})
afterAll(async () => {
  await db?.close()
})

const brief = (rows: Breakdown[]) => rows.map((r) => [r.key, r.scheduled, r.missed])

describe('breakdowns', () => {
  test('the total: 26 decided collections (cancelled and pending left out), 9 misses', () => {
    expect(w.total).toMatchObject({ scheduled: 26, missed: 9, collectedLate: 1, crewExceptions: 3, returnVisits: 3 })
    expect(w.total.exceptionsByCode).toEqual({ not_presented: 1, contaminated: 1, no_access: 1, excess_waste: 0, overweight: 0, wrong_bin: 0, other: 0 })
  })

  test('by round, vehicle, stream, street, ward and weekday', () => {
    expect(w.by.round.map((r) => [r.key, r.scheduled, r.missed, r.collectedLate, r.crewExceptions, r.returnVisits])).toEqual([['K-B', 7, 3, 0, 1, 0], ['K-A', 19, 6, 1, 2, 3]])
    expect(brief(w.by.vehicle)).toEqual([['K-v-B', 7, 3], ['K-v-A', 19, 6]])
    expect(brief(w.by.stream)).toEqual([['recycling', 7, 3], ['residual', 19, 6]])
    expect(w.by.street.map((r) => [r.key, r.ward, r.scheduled, r.missed])).toEqual([['Park Road', 'South', 9, 7], ['Mill Lane', 'North', 17, 2]])
    expect(brief(w.by.ward)).toEqual([['South', 9, 7], ['North', 17, 2]])
    expect(brief(w.by.weekday)).toEqual([['1', 17, 5], ['2', 7, 3], ['4', 2, 1]])
    expect(w.by.round[0]!.missedPer100k).toBeCloseTo((3 / 7) * 100_000, 6)
  })

  test('rounds carry their registry names; every breakdown says how many rows it has', () => {
    expect(w.by.round.map((r) => [r.key, r.name])).toEqual([['K-B', 'Round K-B'], ['K-A', 'Round K-A']])
    expect(w.rowCounts).toEqual({ round: 2, street: 2, ward: 2, vehicle: 2, stream: 2, weekday: 3, hour: 7, window: 2 })
  })

  test('`rows` keeps the rows with the most misses, in the breakdown\'s own order, and the counts of all', async () => {
    const one = await whyMissed(db, 'K', { ...MARCH, minScheduled: 5, rows: 1 })
    // Park Road has 7 misses (of 9), Mill Lane 2 (of 17); round K-A 6 misses, K-B 3 (K-B first by rate).
    expect(brief(one.by.street)).toEqual([['Park Road', 9, 7]])
    expect(one.by.round.map((r) => [r.key, r.name, r.missed])).toEqual([['K-A', 'Round K-A', 6]])
    const two = await whyMissed(db, 'K', { ...MARCH, minScheduled: 5, rows: 2 })
    expect(brief(two.by.round)).toEqual([['K-B', 7, 3], ['K-A', 19, 6]]) // both: the usual order, worst rate first
    // Weekdays by time of week: the two with most misses (Monday 5, Tuesday 3), not Thursday's 1.
    expect(brief(two.by.weekday)).toEqual([['1', 17, 5], ['2', 7, 3]])
    expect(one.rowCounts).toEqual(w.rowCounts)
    expect(one.total).toEqual(w.total)
    expect(one.hotspots).toEqual(w.hotspots)
  })

  test('the hour the round passed: its own lift, or the last stop it lifted before in driving order', () => {
    // 2 March, round A: h8 (late), h9 (missed) and h10 (rectified) take h7's refusal at 13:00; on 16 March
    // round A lifted nothing, so h3's miss has no passing time.
    expect(brief(w.by.hour)).toEqual([['8', 1, 0], ['9', 5, 1], ['10', 3, 0], ['11', 3, 0], ['12', 8, 5], ['13', 5, 2], ['not_passed', 1, 1]])
    expect(brief(w.by.window)).toEqual([['within', 25, 8], ['not_passed', 1, 1]])
  })
})

describe('hotspots', () => {
  test('streets with enough collections, worst first, with their households\' mean position', () => {
    expect(w.hotspots.streets.map((s) => [s.key, s.ward, s.scheduled, s.missed])).toEqual([['Park Road', 'South', 9, 7], ['Mill Lane', 'North', 17, 2]])
    // Park Road's collections: h7 ×2, h8 ×2, h9 ×3, h10 ×2 at 53.40 + h/1000.
    expect(w.hotspots.streets[0]!.lat).toBeCloseTo(53.4 + 77 / 9 / 1000, 9)
    expect(w.hotspots.streets[0]!.lon).toBeCloseTo(-2.99, 9)
  })

  test('grid cells: every collection in one cell, centres near the households', () => {
    expect(w.hotspots.cells.length).toBeGreaterThan(0)
    for (const c of w.hotspots.cells) {
      expect(c.lat).toBeGreaterThan(53.39)
      expect(c.lat).toBeLessThan(53.42)
      expect(Math.abs(c.lon + 2.99)).toBeLessThan(0.01)
    }
  })

  test('hotspots are named by street: a cell after the street most of its collections are on, with that ward', () => {
    expect(w.hotspots.streets.map((s) => s.name)).toEqual(['Park Road', 'Mill Lane'])
    // Mill Lane (17 collections) outnumbers Park Road (9) wherever the two share a cell.
    for (const c of w.hotspots.cells) expect(['Around Mill Lane, North', 'Around Park Road, South']).toContain(`${c.name}, ${c.ward}`)
    expect(w.hotspots.cells.some((c) => c.name === 'Around Mill Lane')).toBe(true)
  })

  test('a cell key maps back to its centre', () => {
    const { lat, lon } = cellCentre('23778:-4432', 250)
    expect(lat).toBeCloseTo((23778.5 * 250) / 111_320, 6)
    expect(lon).toBeLessThan(0)
  })
})

describe('repeat households', () => {
  test('households with a repeat miss in the period, most repeats first, with what to look at', () => {
    expect(w.repeatHouseholds.total).toBe(4)
    expect(w.repeatHouseholds.households.map((h) => [h.uprn - uprn(0), h.misses, h.missesInPeriod, h.repeatMisses, h.reported, h.streams, h.exceptionCodes, h.assisted, h.suggestion])).toEqual([
      [9, 3, 3, 2, 3, ['recycling', 'residual'], [], true, 'review_assisted_collection'],
      [3, 2, 1, 1, 2, ['residual'], [], false, 'assisted_collection'],
      [7, 2, 1, 1, 0, ['recycling'], ['no_access'], false, 'access_fix'],
      [10, 2, 2, 1, 1, ['residual'], [], false, 'assisted_collection'],
    ])
    expect(w.repeatHouseholds.households[0]).toMatchObject({ street: 'Park Road', ward: 'South', firstMissed: '2026-03-02', lastMissed: '2026-03-09' })
    // h8's earlier miss was 85 days before: outside the 84-day window, so h8 is not listed.
  })

  test('the ranking is kept between answers, and what changes shows at once: a report, the registry, an outcome', async () => {
    const own = await openDatabase({ logger: silentLogger })
    try {
      await seedScenario(own, 'K')
      const rows = async () => (await whyMissed(own, 'K', { ...MARCH, minScheduled: 5 })).repeatHouseholds.households.map((h) => [h.uprn - uprn(0), h.repeatMisses, h.reported, h.suggestion])
      expect(await rows()).toEqual([[9, 2, 3, 'review_assisted_collection'], [3, 1, 2, 'assisted_collection'], [7, 1, 0, 'access_fix'], [10, 1, 1, 'assisted_collection']])
      expect(await rows()).toEqual(await rows()) // answered from the kept ranking
      // h10's unreported miss is reported, and h10 goes on an assisted collection: neither touches what the ranking sums.
      await own.query(`UPDATE collection_outcomes SET reported_at = due_date + time '17:00' WHERE uprn = $1 AND outcome IN ('missed', 'rectified', 'rectified_late') AND reported_at IS NULL`, [uprn(10)])
      await own.query('UPDATE households SET assisted = true WHERE uprn = $1', [uprn(10)])
      expect((await rows())[3]).toEqual([10, 1, 2, 'review_assisted_collection'])
      // A late lift turns h3's miss in March into a collection: h3 has no repeat left.
      await own.query(`UPDATE collection_outcomes SET outcome = 'collected' WHERE uprn = $1 AND due_date >= '2026-03-01' AND outcome IN ('missed', 'rectified', 'rectified_late')`, [uprn(3)])
      expect((await rows()).map((r) => r[0])).toEqual([9, 7, 10])
      const again = await whyMissed(own, 'K', { ...MARCH, minScheduled: 5 })
      expect(again.repeatHouseholds.total).toBe(3)
    } finally {
      await own.close()
    }
  })
})

describe('return trips', () => {
  test('rectification visits × (£25 + 6 km × £1.50) by default; late collections counted beside', () => {
    expect(w.returnTrips).toEqual({ visits: 3, costPerVisit: 25, costPerKm: 1.5, kmPerVisit: 6, km: 18, cost: 102, collectedLateVisits: 1 })
  })

  test('the cost parameters are the contract\'s', async () => {
    await db.query(`UPDATE contracts SET return_visit_cost = 40, return_cost_per_km = 0.8, return_km_per_visit = 10 WHERE contract_id = 'K'`)
    const again = await whyMissed(db, 'K', MARCH)
    expect(again.returnTrips).toMatchObject({ visits: 3, km: 30, cost: 3 * 40 + 30 * 0.8 })
  })
})
