// Why missed on a thin period (issue 14): on the 6th of December the page opened on "this month so
// far" (five complete days and today) and showed 0 missed. A page that explains misses opens on the
// last four complete weeks early in a month; a period the person chose is kept; later in the month,
// and on the performance page, "this month so far" stays the first question.
import { expect, test } from 'vitest'
import { ContractScope } from '../../dashboard/src/lib/contract-scope.svelte.ts'
import { PRESETS, isThinMonth, presetRange } from '../../dashboard/src/lib/periods.ts'

test('early in a month: the last four complete weeks, ending yesterday', () => {
  const scope = new ContractScope(() => '2026-12-06')
  expect(scope.range).toEqual({ from: '2026-12-01', to: '2026-12-06' })
  scope.preferCompletePeriod()
  expect(scope.preset).toBe('4w-complete')
  expect(scope.range).toEqual({ from: '2026-11-08', to: '2026-12-05' })
  expect(PRESETS.find((p) => p.id === scope.preset)?.label).toBe('Last 4 complete weeks')
})

test('on the first of the month too (no complete day at all)', () => {
  const scope = new ContractScope(() => '2027-03-01')
  scope.preferCompletePeriod()
  expect(scope.range).toEqual({ from: '2027-02-01', to: '2027-02-28' })
})

test('later in the month "this month so far" holds enough, and is kept', () => {
  const scope = new ContractScope(() => '2026-12-20')
  scope.preferCompletePeriod()
  expect(scope.preset).toBe('month')
  expect(scope.range).toEqual({ from: '2026-12-01', to: '2026-12-20' })
  expect(isThinMonth('2026-12-14')).toBe(true)
  expect(isThinMonth('2026-12-15')).toBe(false)
})

test('a period the person chose is kept, even "this month so far"', () => {
  const scope = new ContractScope(() => '2026-12-06')
  scope.setPreset('month')
  scope.preferCompletePeriod()
  expect(scope.range).toEqual({ from: '2026-12-01', to: '2026-12-06' })
  const days = new ContractScope(() => '2026-12-06')
  days.setDays('2026-12-02', '2026-12-03')
  days.preferCompletePeriod()
  expect(days.range).toEqual({ from: '2026-12-02', to: '2026-12-03' })
  expect(presetRange('4w-complete', '2026-12-06')).toEqual({ from: '2026-11-08', to: '2026-12-05' })
})
