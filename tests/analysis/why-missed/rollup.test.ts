// The why-missed roll-up (migration 131) against the one-pass query it replaces, kept as the ground
// truth: on the hand-computed scenario of the performance tests (contract K, March 2026), on the
// embedded database and on PostgreSQL, the answer read from the roll-up equals the direct one when
// every day is rolled up, when none is, when only some are, and after each kind of change the roll-up
// must notice: a late lift, a cancellation, a collection moved, a household's street and position, a
// round's hours, a round's stops in driving order. The refresh is the KPI roll-up's (refreshRollup).
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { refreshRollup } from '../../../analysis/performance/rollup.ts'
import { rolledUpBreakdowns } from '../../../analysis/why-missed/breakdowns.ts'
import { freshWhyMissedDays } from '../../../analysis/why-missed/rollup.ts'
import { whyMissed, type WhyMissed, type WhyMissedOptions } from '../../../analysis/why-missed/why-missed.ts'
import { silentLogger } from '../../../core/log.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { createTestDatabase, type TestDatabase } from '../../helpers/postgres.ts'
import { MARCH, NOW, seedScenario, uprn } from '../performance/scenario.ts'
import { seedBusyContract } from './busy-contract.ts'

/**
 * The two answers must be the same object; the streets' mean positions are sums of floating-point
 * products added in another order, so they are compared to 1e-9 degrees (0.1 mm) and then set aside.
 */
function expectSameAnswer(got: WhyMissed, want: WhyMissed): void {
  expect(got.hotspots.streets.length).toBe(want.hotspots.streets.length)
  got.hotspots.streets.forEach((s, i) => {
    expect(s.lat).toBeCloseTo(want.hotspots.streets[i]!.lat, 9)
    expect(s.lon).toBeCloseTo(want.hotspots.streets[i]!.lon, 9)
  })
  const positionless = (w: WhyMissed) => ({ ...w, hotspots: { ...w.hotspots, streets: w.hotspots.streets.map(({ lat: _a, lon: _o, ...s }) => s) } })
  expect(positionless(got)).toEqual(positionless(want))
}

const ENGINES = [['embedded'], ['postgresql']] as const

describe.each(ENGINES)('why-missed roll-up on %s', (engine) => {
  let db: Database
  let server: TestDatabase | null = null
  let ids: Record<string, number>
  beforeAll(async () => {
    server = engine === 'postgresql' ? await createTestDatabase() : null
    db = await openDatabase({ url: server?.url, logger: silentLogger })
    ids = (await seedScenario(db, 'K')).ids
    await seedBusyContract(db)
  })
  afterAll(async () => {
    await db?.close()
    await server?.drop()
  })

  /** The answer from the roll-up (the route's) against the one-pass answer, for a few option sets. */
  async function expectRolledUpAsDirect(opts: Partial<WhyMissedOptions> = {}): Promise<WhyMissed> {
    const o = { ...MARCH, minScheduled: 1, households: 1000, ...opts }
    const got = await whyMissed(db, 'K', o)
    expectSameAnswer(got, await whyMissed(db, 'K', { ...o, direct: true }))
    // Smaller hotspot lists are cut from the same ranking.
    expectSameAnswer(await whyMissed(db, 'K', { ...o, hotspots: 1 }), await whyMissed(db, 'K', { ...o, hotspots: 1, direct: true }))
    return got
  }
  const source = async (range: { from: string; to: string } = MARCH) => {
    const r = await rolledUpBreakdowns(db, { contractId: 'K', ...range, timeZone: 'Europe/London' })
    return { rolledUpDays: r.rolledUpDays, liveDays: r.liveDays }
  }
  const staleDays = async () => (await db.query<{ day: string }>(`SELECT day FROM why_missed_stale_days WHERE contract_id = 'K' ORDER BY day`)).rows.map((r) => r.day)

  test('nothing rolled up: every day computed live gives the one-pass answer (the scenario\'s hand-computed figures)', async () => {
    expect(await source()).toEqual({ rolledUpDays: 0, liveDays: 31 })
    const w = await expectRolledUpAsDirect()
    expect(w.total).toMatchObject({ scheduled: 26, missed: 9, collectedLate: 1, crewExceptions: 3, returnVisits: 3 })
    expect(w.by.hour.map((r) => [r.key, r.scheduled, r.missed])).toEqual([['8', 1, 0], ['9', 5, 1], ['10', 3, 0], ['11', 3, 0], ['12', 8, 5], ['13', 5, 2], ['not_passed', 1, 1]])
  })

  test('part of the range rolled up (the first fortnight): the rest computed live, the same answer', async () => {
    const report = await refreshRollup(db, { now: NOW, contractId: 'K', ensure: { from: '2026-03-01', to: '2026-03-14' }, only: { from: '2026-03-01', to: '2026-03-14' } })
    expect(report.whyMissedDays).toBe(14)
    expect(await source()).toEqual({ rolledUpDays: 14, liveDays: 17 })
    await expectRolledUpAsDirect()
  })

  test('the whole month rolled up by the KPI roll-up\'s refresh: read from the roll-up alone, the same answer', async () => {
    await refreshRollup(db, { now: NOW, contractId: 'K', ensure: MARCH })
    expect(await source()).toEqual({ rolledUpDays: 31, liveDays: 0 })
    expect(await staleDays()).toEqual([])
    await expectRolledUpAsDirect()
    // Other ranges and time zones: a range inside the month; another zone is computed live.
    await expectRolledUpAsDirect({ from: '2026-03-02', to: '2026-03-09' })
    await expectRolledUpAsDirect({ timeZone: 'America/New_York' })
    expect((await rolledUpBreakdowns(db, { contractId: 'K', ...MARCH, timeZone: 'America/New_York' })).liveDays).toBe(31)
    // Other cell sizes are answered by the one-pass query.
    await expectRolledUpAsDirect({ cellM: 100 })
  })

  test('a late lift turns a miss into a collection: its day is marked stale and answered live at once, then rolled up again', async () => {
    await db.query(`UPDATE collection_outcomes SET outcome = 'collected', lift_ts = '2026-03-09T15:00:00Z' WHERE collection_id = $1`, [ids['A-0309-h10']])
    expect(await staleDays()).toEqual(['2026-03-09'])
    expect(await source()).toEqual({ rolledUpDays: 30, liveDays: 1 })
    const w = await expectRolledUpAsDirect()
    expect(w.total).toMatchObject({ scheduled: 26, missed: 8 })
    expect(w.by.hour.find((r) => r.key === '15')).toMatchObject({ scheduled: 1, missed: 0 })
    await refreshRollup(db, { now: NOW, contractId: 'K' })
    expect(await source()).toEqual({ rolledUpDays: 31, liveDays: 0 })
    await expectRolledUpAsDirect()
  })

  test('an outcome rewritten with nothing the breakdowns read changed marks nothing', async () => {
    await db.query(`UPDATE collection_outcomes SET decided_at = now(), evidence = '{"again": true}' WHERE collection_id = $1`, [ids['A-0302-h1']])
    expect(await staleDays()).toEqual([])
  })

  test('the calendar: a decided collection cancelled, and one moved to another day, leave and join the right days', async () => {
    await db.query(`UPDATE scheduled_collections SET cancelled = true WHERE collection_id = $1`, [ids['A-0302-h1']])
    expect(await staleDays()).toEqual(['2026-03-02'])
    expect((await expectRolledUpAsDirect()).total).toMatchObject({ scheduled: 25 })
    await db.query(`UPDATE scheduled_collections SET cancelled = false WHERE collection_id = $1`, [ids['A-0302-h1']])
    await refreshRollup(db, { now: NOW, contractId: 'K' })
    expect((await expectRolledUpAsDirect()).total).toMatchObject({ scheduled: 26 })

    // Moved: the collection and its outcome to the 4th (as a re-run of the outcomes would).
    await db.query(`UPDATE scheduled_collections SET due_date = '2026-03-04' WHERE collection_id = $1`, [ids['B-0303-h1']])
    await db.query(`UPDATE collection_outcomes SET due_date = '2026-03-04' WHERE collection_id = $1`, [ids['B-0303-h1']])
    expect(await staleDays()).toEqual(['2026-03-03', '2026-03-04'])
    expect((await expectRolledUpAsDirect()).by.weekday.find((r) => r.key === '3')).toMatchObject({ scheduled: 1 })
    await refreshRollup(db, { now: NOW, contractId: 'K' })
    expect(await source()).toEqual({ rolledUpDays: 31, liveDays: 0 })
    await expectRolledUpAsDirect()
  })

  test('the registry: a household moved to another street and position marks the days of its collections', async () => {
    await db.query(`UPDATE households SET street = 'Mill Lane', ward = 'North', lat = 53.3, lon = -2.95 WHERE uprn = $1`, [uprn(9)])
    expect(await staleDays()).toEqual(['2026-03-02', '2026-03-03', '2026-03-09'])
    const w = await expectRolledUpAsDirect()
    expect(w.by.street.map((r) => [r.key, r.scheduled])).toEqual([['Park Road', 6], ['Mill Lane', 20]])
    await db.query(`UPDATE households SET street = street WHERE uprn = $1`, [uprn(8)])
    expect(await staleDays()).toEqual(['2026-03-02', '2026-03-03', '2026-03-09'])
    await refreshRollup(db, { now: NOW, contractId: 'K' })
    await expectRolledUpAsDirect()
  })

  test('a round\'s hours decide the window; its stops\' order decides when it passed a miss', async () => {
    await db.query(`UPDATE rounds SET starts_at = '10:00', ends_at = '12:00' WHERE round_id = 'K-A'`)
    expect((await staleDays()).filter((d) => d.startsWith('2026-03'))).toHaveLength(31)
    const w = await expectRolledUpAsDirect()
    expect(w.by.window.map((r) => r.key)).toEqual(['before', 'within', 'after', 'not_passed'])
    await refreshRollup(db, { now: NOW, contractId: 'K' })
    expect(await staleDays()).toEqual([])

    // h10 (missed on 9 March) driven to first: the round now passes it at h1's lift, 09:00.
    const before = (await whyMissed(db, 'K', MARCH)).by.hour
    await db.query(`UPDATE round_households SET position = 0 WHERE round_id = 'K-A' AND uprn = $1`, [uprn(10)])
    expect(await staleDays()).toEqual(expect.arrayContaining(['2026-03-02', '2026-03-09']))
    const after = await expectRolledUpAsDirect()
    expect(after.by.hour).not.toEqual(before)
    await refreshRollup(db, { now: NOW, contractId: 'K' })
    expect(await source()).toEqual({ rolledUpDays: 31, liveDays: 0 })
    await expectRolledUpAsDirect()
  })

  test('a busier contract (600 households on 24 street names across wards, some without street, ward or position; every outcome and code; cancellations): the same answer rolled up, partly rolled up and live, before and after changes', async () => {
    const R = (opts: Partial<WhyMissedOptions> = {}) => ({ ...MARCH, households: 1000, hotspots: 500, ...opts })
    const same = async (opts: Partial<WhyMissedOptions> = {}) => {
      const got = await whyMissed(db, 'R', R(opts))
      expectSameAnswer(got, await whyMissed(db, 'R', { ...R(opts), direct: true }))
      return got
    }
    const live = await same()
    expect(live.by.street.length).toBeGreaterThan(24)
    expect(live.hotspots.cells.length).toBeGreaterThan(10)
    expect(live.by.window.map((r) => r.key).sort()).toEqual(['after', 'before', 'not_passed', 'within'])
    for (const code of ['not_presented', 'contaminated', 'no_access', 'excess_waste', 'overweight', 'wrong_bin', 'other']) expect(live.total.exceptionsByCode[code], code).toBeGreaterThan(0)

    await refreshRollup(db, { now: NOW, contractId: 'R', ensure: { from: '2026-03-09', to: '2026-03-20' }, only: { from: '2026-03-09', to: '2026-03-20' } })
    expect((await rolledUpBreakdowns(db, { contractId: 'R', ...MARCH, timeZone: 'Europe/London' })).rolledUpDays).toBe(12)
    await same()
    await refreshRollup(db, { now: NOW, contractId: 'R', ensure: MARCH })
    expect((await rolledUpBreakdowns(db, { contractId: 'R', ...MARCH, timeZone: 'Europe/London' })).liveDays).toBe(0)
    expect(await same()).toEqual(await whyMissed(db, 'R', R()))
    await same({ from: '2026-03-04', to: '2026-03-17', minScheduled: 5 })
    // A round handed to another vehicle: read from the round, so the kept sums answer at once.
    await db.query(`UPDATE rounds SET vehicle_id = 'R-v-2' WHERE round_id = 'R-1'`)
    expect((await same()).by.vehicle.map((r) => r.key).sort()).toEqual(['', 'R-v-2', 'R-v-3', 'R-v-4', 'R-v-5'])

    // Late lifts, reclassified misses, a cancellation and a household moved, then the refresh.
    await db.query(`UPDATE collection_outcomes SET outcome = 'collected', lift_ts = due_date + time '16:45' WHERE contract_id = 'R' AND outcome = 'missed' AND uprn % 3 = 0`)
    await db.query(`UPDATE collection_outcomes SET outcome = 'missed', lift_ts = NULL WHERE contract_id = 'R' AND outcome = 'collected' AND uprn % 101 = 0`)
    await db.query(`UPDATE scheduled_collections SET cancelled = true WHERE round_id = 'R-2' AND due_date = '2026-03-10' AND uprn % 4 = 0`)
    await db.query(`UPDATE households SET street = 'Street 7', ward = 'Ward 1', lat = lat + 0.004 WHERE uprn IN (200000000011, 200000000012)`)
    expect((await rolledUpBreakdowns(db, { contractId: 'R', ...MARCH, timeZone: 'Europe/London' })).liveDays).toBeGreaterThan(0)
    await same()
    await refreshRollup(db, { now: NOW, contractId: 'R' })
    expect((await rolledUpBreakdowns(db, { contractId: 'R', ...MARCH, timeZone: 'Europe/London' })).liveDays).toBe(0)
    await same()
  }, 180_000)

  test('a TRUNCATE of the outcomes forgets the roll-up', async () => {
    expect(await freshWhyMissedDays(db, { contractId: 'K', ...MARCH, timeZone: 'Europe/London' })).toHaveLength(31)
    await db.query(`TRUNCATE collection_outcomes`)
    expect(await source()).toEqual({ rolledUpDays: 0, liveDays: 31 })
    expect((await expectRolledUpAsDirect()).total.scheduled).toBeNull()
  })
})

