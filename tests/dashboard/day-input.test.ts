// Dates as people in the UK write them (issue 14): Chromium's <input type="date"> follows the
// browser's language, not the page's, and showed mm/dd/yyyy in an en-GB dashboard. The dashboard's
// day fields are text in dd/mm/yyyy (DayInput), parsed and checked here.
import { flushSync } from 'svelte'
import { describe, expect, test } from 'vitest'
import DayInput from '../../dashboard/src/components/DayInput.svelte'
import { londonInstant, parseUkDay, ukDay } from '../../dashboard/src/lib/format.ts'
import { byTestId, render, text } from './render.ts'

describe('day fields in UK order', () => {
  test('dd/mm/yyyy both ways; impossible days are refused', () => {
    expect(ukDay('2026-12-07')).toBe('07/12/2026')
    expect(parseUkDay('7/12/2026')).toBe('2026-12-07')
    expect(parseUkDay('07-12-2026')).toBe('2026-12-07')
    expect(parseUkDay('2026-12-07')).toBe('2026-12-07')
    expect(parseUkDay('12/31/2026')).toBeNull() // US order: there is no 31st month
    expect(parseUkDay('31/02/2026')).toBeNull()
    expect(parseUkDay('yesterday')).toBeNull()
    expect(londonInstant('2026-07-07T13:05:09Z')).toBe('07/07/2026, 14:05:09') // British Summer Time
  })

  test('the field shows the day as dd/mm/yyyy, takes a typed one, and says plainly when it is not a date', () => {
    const changes: string[] = []
    const root = render(DayInput, { label: 'From', value: '2026-12-01', onchange: (d: string) => changes.push(d), testid: 'from' })
    const input = byTestId(root, 'from')[0] as HTMLInputElement
    expect(input.value).toBe('01/12/2026')
    expect(input.type).toBe('text')
    input.value = '7/12/2026'
    input.dispatchEvent(new Event('input', { bubbles: true }))
    input.dispatchEvent(new Event('change', { bubbles: true }))
    flushSync()
    expect(changes).toEqual(['2026-12-07'])
    input.value = '12/31/2026'
    input.dispatchEvent(new Event('input', { bubbles: true }))
    input.dispatchEvent(new Event('change', { bubbles: true }))
    flushSync()
    expect(changes).toEqual(['2026-12-07'])
    expect(input.getAttribute('aria-invalid')).toBe('true')
    expect(text(root.querySelector('[role="alert"]'))).toBe('Not a date: type it as dd/mm/yyyy, e.g. 07/12/2026')
  })
})
