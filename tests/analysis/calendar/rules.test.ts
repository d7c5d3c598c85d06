// The calendar's rules, as pure functions: which days a round runs, and the day each collection is due.
import { describe, expect, test } from 'vitest'
import { bankHolidaysBetween } from '../../../analysis/calendar/bank-holidays.ts'
import { addDays, isIsoDate, isoWeekday, localDate } from '../../../analysis/calendar/dates.ts'
import { dueDay, roundDates, roundRunsOn, type RoundPattern } from '../../../analysis/calendar/rules.ts'

const residual: RoundPattern = { weekday: 1, frequency: 'fortnightly', anchorDate: '2026-01-05' }
const recycling: RoundPattern = { weekday: 1, frequency: 'fortnightly', anchorDate: '2026-01-12' }
const food: RoundPattern = { weekday: 3, frequency: 'weekly', anchorDate: '2026-01-07' }

describe('round days', () => {
  test('weekly rounds run on every one of their weekdays', () => {
    expect(roundDates(food, '2026-03-01', '2026-03-31')).toEqual(['2026-03-04', '2026-03-11', '2026-03-18', '2026-03-25'])
  })

  test('fortnightly rounds run every 14 days from the anchor, before it as well as after', () => {
    expect(roundDates(residual, '2025-12-01', '2026-02-28')).toEqual(['2025-12-08', '2025-12-22', '2026-01-05', '2026-01-19', '2026-02-02', '2026-02-16'])
  })

  test('two fortnightly rounds with anchors a week apart alternate weeks', () => {
    const from = '2026-01-01'
    const to = '2026-12-31'
    const a = roundDates(residual, from, to)
    const b = roundDates(recycling, from, to)
    expect(a.filter((d) => b.includes(d))).toEqual([])
    const mondays = [...a, ...b].sort()
    expect(mondays).toHaveLength(52)
    for (let i = 1; i < mondays.length; i++) expect(mondays[i]).toBe(addDays(mondays[i - 1]!, 7))
    for (let i = 0; i < mondays.length; i++) expect(a.includes(mondays[i]!)).toBe(i % 2 === 0)
  })

  test('only on its weekday', () => {
    expect(roundRunsOn(residual, '2026-01-06')).toBe(false)
    expect(roundRunsOn(residual, '2026-01-12')).toBe(false)
    expect(roundRunsOn(residual, '2026-01-19')).toBe(true)
  })
})

describe('due day', () => {
  const holidays = bankHolidaysBetween('2025-12-01', '2027-12-31')
  const due = (d: string, overrides?: Map<string, string | null>) => dueDay(d, holidays, overrides)

  test('an ordinary week is unchanged', () => {
    for (const d of ['2026-03-09', '2026-03-10', '2026-03-11', '2026-03-12', '2026-03-13']) expect(due(d)).toEqual({ dueDate: d, cancelled: false, reason: 'scheduled' })
  })

  test('Easter Monday week: every collection from Monday to Friday slips a day, Friday to Saturday', () => {
    // Easter Monday 2026 is 6 April.
    expect(['2026-04-06', '2026-04-07', '2026-04-08', '2026-04-09', '2026-04-10'].map((d) => due(d).dueDate))
      .toEqual(['2026-04-07', '2026-04-08', '2026-04-09', '2026-04-10', '2026-04-11'])
    expect(isoWeekday(due('2026-04-10').dueDate)).toBe(6)
    expect(due('2026-04-06').reason).toBe('bank-holiday')
  })

  test('Good Friday: only Friday moves (to Saturday); the days before it in that week do not', () => {
    expect(['2026-03-30', '2026-04-01', '2026-04-02', '2026-04-03'].map((d) => due(d).dueDate)).toEqual(['2026-03-30', '2026-04-01', '2026-04-02', '2026-04-04'])
  })

  test('a holiday mid-week moves that day and the rest of the week, not the days before it', () => {
    // Christmas Day 2024 was a Wednesday and Boxing Day a Thursday.
    expect(['2024-12-23', '2024-12-24', '2024-12-25', '2024-12-26', '2024-12-27'].map((d) => dueDay(d, bankHolidaysBetween('2024-12-01', '2024-12-31')).dueDate))
      .toEqual(['2024-12-23', '2024-12-24', '2024-12-27', '2024-12-28', '2024-12-29'])
  })

  test('Christmas 2026: Friday 25th moves to Saturday 26th; Monday 28th (Boxing Day substitute) starts the next week slipping a day', () => {
    expect(due('2026-12-24').dueDate).toBe('2026-12-24')
    expect(due('2026-12-25').dueDate).toBe('2026-12-26')
    expect(['2026-12-28', '2026-12-29', '2026-12-30', '2026-12-31', '2027-01-01'].map((d) => due(d).dueDate))
      .toEqual(['2026-12-29', '2026-12-30', '2026-12-31', '2027-01-02', '2027-01-03'])
  })

  test('a week with two holidays: a collection never lands on a bank holiday', () => {
    // 2027: Monday 27th and Tuesday 28th December are the substitute days.
    const moved = ['2027-12-27', '2027-12-28', '2027-12-29', '2027-12-30', '2027-12-31'].map((d) => due(d).dueDate)
    expect(moved).toEqual(['2027-12-29', '2027-12-30', '2027-12-31', '2028-01-01', '2028-01-02'])
  })

  test('weekend rounds are not shifted', () => {
    expect(due('2026-04-04')).toEqual({ dueDate: '2026-04-04', cancelled: false, reason: 'scheduled' })
  })

  test('a council override wins over the bank-holiday rule; null cancels', () => {
    const overrides = new Map<string, string | null>([['2026-12-25', '2026-12-24'], ['2026-12-28', null]])
    expect(due('2026-12-25', overrides)).toEqual({ dueDate: '2026-12-24', cancelled: false, reason: 'override' })
    expect(due('2026-12-28', overrides)).toEqual({ dueDate: '2026-12-28', cancelled: true, reason: 'override' })
    // Other days of that week still follow the rule.
    expect(due('2026-12-29', overrides).dueDate).toBe('2026-12-30')
  })
})

describe('dates', () => {
  test('real days only', () => {
    expect(isIsoDate('2028-02-29')).toBe(true)
    expect(isIsoDate('2026-02-29')).toBe(false)
    expect(isIsoDate('2026-13-01')).toBe(false)
    expect(isIsoDate('26-01-01')).toBe(false)
  })
  test('the UK day, across midnight and the clock change', () => {
    expect(localDate(new Date('2026-06-30T23:30:00Z'))).toBe('2026-07-01')
    expect(localDate(new Date('2026-12-31T23:30:00Z'))).toBe('2026-12-31')
  })
})
