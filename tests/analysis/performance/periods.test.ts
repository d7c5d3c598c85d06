import { describe, expect, test } from 'vitest'
import { buckets, checkRange, InvalidRangeError, isoWeek } from '../../../analysis/performance/periods.ts'

describe('periods', () => {
  test('ISO weeks, including the ones that cross a year', () => {
    expect(isoWeek('2026-03-02')).toBe('2026-W10')
    expect(isoWeek('2026-03-01')).toBe('2026-W09')
    expect(isoWeek('2026-01-01')).toBe('2026-W01') // a Thursday
    expect(isoWeek('2027-01-01')).toBe('2026-W53') // a Friday: the last week of 2026
    expect(isoWeek('2024-12-30')).toBe('2025-W01') // a Monday in the first week of 2025
  })
  test('months and weeks cut at the ends of the range', () => {
    expect(buckets({ from: '2026-01-30', to: '2026-02-02' }, 'month').map((b) => [b.period, b.from, b.to, b.days.length])).toEqual([['2026-01', '2026-01-30', '2026-01-31', 2], ['2026-02', '2026-02-01', '2026-02-02', 2]])
    expect(buckets({ from: '2026-03-07', to: '2026-03-09' }, 'week').map((b) => b.period)).toEqual(['2026-W10', '2026-W11'])
  })
  test('a range runs forwards and covers at most 366 days', () => {
    expect(checkRange({ from: '2025-03-01', to: '2026-03-01' })).toEqual({ from: '2025-03-01', to: '2026-03-01' })
    expect(() => checkRange({ from: '2026-03-02', to: '2026-03-01' })).toThrow(InvalidRangeError)
    expect(() => checkRange({ from: '2025-02-28', to: '2026-03-01' })).toThrow(InvalidRangeError)
    expect(() => checkRange({ from: '2026-02-30', to: '2026-03-01' })).toThrow(InvalidRangeError)
  })
})
