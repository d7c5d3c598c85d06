// The collection calendar generated in SQL on the embedded database: the same days as the pure
// rules, subscriptions, bank holidays and overrides, idempotency, and stale future rows removed
// while today's and past rows are kept.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { silentLogger } from '../../../core/log.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { importRegistry } from '../../../storage/registry/import.ts'
import { bankHolidaysBetween } from '../../../analysis/calendar/bank-holidays.ts'
import { CalendarRangeError, generateCalendar } from '../../../analysis/calendar/generate.ts'
import { calendarJob } from '../../../analysis/calendar/job.ts'
import { putOverride } from '../../../analysis/calendar/overrides.ts'
import { dueDay, roundDates } from '../../../analysis/calendar/rules.ts'
import { clearRegistry, smallCity, UPRN0 } from '../../storage/registry/fixture.ts'

let db: Database
beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
})
afterAll(async () => db?.close())
beforeEach(async () => {
  await clearRegistry(db)
  await importRegistry(db, smallCity(), { calendar: false })
})

// Spring 2026: Good Friday 3 April, Easter Monday 6 April, early May bank holiday Monday 4 May.
const SPRING = { from: '2026-03-30', to: '2026-05-10', today: '2026-03-29' }

interface Row { uprn: number; stream: string; round: string; scheduled: string; due: string; cancelled: boolean }
const rows = async (where = 'true', params: unknown[] = []) => (await db.query<Row>(
  `SELECT uprn, stream, round_id AS round, scheduled_date AS scheduled, due_date AS due, cancelled
     FROM scheduled_collections WHERE ${where} ORDER BY scheduled_date, stream, uprn`, params)).rows
const ids = async () => (await db.query<{ id: number }>(`SELECT collection_id AS id FROM scheduled_collections ORDER BY collection_id`)).rows.map((r) => r.id)

describe('generateCalendar', () => {
  test('gives every household of every round the days of the pure rules, with bank-holiday shifts', async () => {
    const report = await generateCalendar(db, SPRING)
    const city = smallCity()
    const holidays = bankHolidaysBetween('2026-03-01', SPRING.to)
    const expected: Row[] = []
    for (const round of city.rounds.filter((r) => !r.subscription)) {
      for (const day of roundDates(round, SPRING.from, SPRING.to)) {
        for (const stop of city.roundStops.filter((s) => s.roundId === round.roundId)) {
          expected.push({ uprn: stop.uprn, stream: round.stream, round: round.roundId, scheduled: day, due: dueDay(day, holidays).dueDate, cancelled: false })
        }
      }
    }
    const got = await rows(`stream <> 'garden'`)
    expect(got).toEqual(expected.sort((a, b) => a.scheduled.localeCompare(b.scheduled) || a.stream.localeCompare(b.stream) || a.uprn - b.uprn))
    // Alternate weeks: residual on 30 March, recycling on Easter Monday's week (moved to Tuesday), residual again on 13 April.
    expect([...new Set(got.map((r) => `${r.scheduled} ${r.stream} → ${r.due}`))]).toEqual([
      '2026-03-30 residual → 2026-03-30',
      '2026-04-06 recycling → 2026-04-07',
      '2026-04-13 residual → 2026-04-13',
      '2026-04-20 recycling → 2026-04-20',
      '2026-04-27 residual → 2026-04-27',
      '2026-05-04 recycling → 2026-05-05',
    ])
    expect(report).toMatchObject({ rounds: 3, inserted: report.collections, updated: 0, removed: 0 })
  })

  test('subscription rounds collect only households subscribed on the day', async () => {
    await generateCalendar(db, { from: '2026-01-01', to: '2026-03-01', today: '2025-12-31' })
    const garden = await rows(`stream = 'garden'`)
    // UPRN0 is subscribed throughout; UPRN0 + 1 until 31 January; the others never.
    expect(garden.filter((r) => r.uprn === UPRN0).map((r) => r.scheduled)).toEqual(['2026-01-06', '2026-01-20', '2026-02-03', '2026-02-17'])
    expect(garden.filter((r) => r.uprn === UPRN0 + 1).map((r) => r.scheduled)).toEqual(['2026-01-06', '2026-01-20'])
    expect(garden.every((r) => r.uprn <= UPRN0 + 1)).toBe(true)
  })

  test('is idempotent: a second run changes nothing and keeps the same rows', async () => {
    const first = await generateCalendar(db, SPRING)
    const before = await ids()
    const second = await generateCalendar(db, SPRING)
    expect(second).toMatchObject({ collections: first.collections, inserted: 0, updated: 0, removed: 0 })
    expect(await ids()).toEqual(before)
  })

  test('council overrides take precedence: moved or cancelled', async () => {
    await putOverride(db, { originalDate: '2026-04-06', movedTo: '2026-04-04', reason: 'Easter: Saturday before' })
    await putOverride(db, { originalDate: '2026-04-20', movedTo: null, reason: 'depot closed' })
    await generateCalendar(db, SPRING)
    expect(new Set((await rows(`scheduled_date = '2026-04-06'`)).map((r) => `${r.due} ${r.cancelled}`))).toEqual(new Set(['2026-04-04 false']))
    expect(new Set((await rows(`scheduled_date = '2026-04-20'`)).map((r) => `${r.due} ${r.cancelled}`))).toEqual(new Set(['2026-04-20 true']))
  })

  test('when a household leaves a round, its future rows go; today\'s and past rows stay', async () => {
    const range = { from: '2026-03-30', to: '2026-05-10' }
    await generateCalendar(db, { ...range, today: '2026-03-29' })
    // On 13 April (a residual Monday, so "today") UPRN0 + 5 leaves the residual round.
    const stops = smallCity().roundStops.filter((s) => s.roundId === 'mon-res' && s.uprn !== UPRN0 + 5)
    expect((await importRegistry(db, { roundStops: stops }, { calendar: { ...range, today: '2026-04-13' } })).ok).toBe(true)
    const left = await rows(`uprn = $1 AND stream = 'residual'`, [UPRN0 + 5])
    expect(left.map((r) => r.scheduled)).toEqual(['2026-03-30', '2026-04-13'])
    // Recycling is another round: unchanged.
    expect((await rows(`uprn = $1 AND stream = 'recycling'`, [UPRN0 + 5])).map((r) => r.scheduled)).toEqual(['2026-04-06', '2026-04-20', '2026-05-04'])
  })

  test('when a round changes day, its future rows move and the old ones go', async () => {
    await generateCalendar(db, { ...SPRING, today: '2026-03-29' })
    const city = smallCity()
    const residual = { ...city.rounds[0]!, weekday: 3, anchorDate: '2026-04-15' }
    const report = await importRegistry(db, { rounds: [residual] }, { calendar: { from: SPRING.from, to: SPRING.to, today: '2026-04-01' } })
    expect(report.calendar?.removed).toBeGreaterThan(0)
    const days = [...new Set((await rows(`round_id = 'mon-res'`)).map((r) => r.scheduled))]
    // 30 March stays (history); Mondays after today are gone; the Wednesdays of the new pattern
    // come in, today's (1 April) included, since the registry now says the round runs today.
    expect(days).toEqual(['2026-03-30', '2026-04-01', '2026-04-15', '2026-04-29'])
  })

  test('an inactive round has no future collections; a household moved to another round is taken over', async () => {
    await generateCalendar(db, SPRING)
    const city = smallCity()
    const mover = UPRN0 + 2
    const rounds = [
      { ...city.rounds[0]!, active: false },
      { roundId: 'mon-res-2', contractId: 'k1', name: 'Monday residual 2', stream: 'residual' as const, weekday: 1, frequency: 'fortnightly' as const, anchorDate: '2026-01-05' },
    ]
    const report = await importRegistry(db, { rounds, roundStops: [{ roundId: 'mon-res-2', uprn: mover, position: 0 }] }, { calendar: { from: SPRING.from, to: SPRING.to, today: '2026-04-01' } })
    expect(report.ok).toBe(true)
    expect((await rows(`round_id = 'mon-res'`)).map((r) => r.scheduled)).toEqual(Array(6).fill('2026-03-30'))
    expect((await rows(`round_id = 'mon-res-2'`)).map((r) => `${r.uprn} ${r.scheduled}`)).toEqual([`${mover} 2026-04-13`, `${mover} 2026-04-27`])
  })

  test('refuses a range backwards, too long, or of impossible days', async () => {
    await expect(generateCalendar(db, { from: '2026-05-01', to: '2026-04-01' })).rejects.toThrow(CalendarRangeError)
    await expect(generateCalendar(db, { from: '2026-01-01', to: '2027-12-31' })).rejects.toThrow(/at most 400 days/)
    await expect(generateCalendar(db, { from: '2026-02-30', to: '2026-03-31' })).rejects.toThrow(/from must be a calendar day/)
  })
})

test('the daily job keeps today and the next eight weeks', async () => {
  const detail = await calendarJob.run({ db, logger: silentLogger, now: new Date('2026-03-29T02:20:00Z'), period: '2026-03-29' })
  expect(calendarJob.period(new Date('2026-03-29T23:30:00Z'))).toBe('2026-03-30')
  expect(detail).toMatchObject({ from: '2026-03-29', to: '2026-05-24', today: '2026-03-29' })
  const { rows: span } = await db.query<{ first: string; last: string }>(`SELECT min(scheduled_date) AS first, max(scheduled_date) AS last FROM scheduled_collections`)
  expect(span[0]).toEqual({ first: '2026-03-30', last: '2026-05-18' })
})
