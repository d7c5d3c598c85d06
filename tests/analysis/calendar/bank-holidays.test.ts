// Bank holidays of England and Wales against the lists gov.uk/bank-holidays publishes.
import { describe, expect, test } from 'vitest'
import { bankHolidays, bankHolidaysBetween, easterSunday } from '../../../analysis/calendar/bank-holidays.ts'

const dates = (year: number) => bankHolidays(year).map((h) => h.date)

describe('Easter (computus)', () => {
  test.each([
    [1961, '1961-04-02'], [2000, '2000-04-23'], [2008, '2008-03-23'], [2011, '2011-04-24'], [2019, '2019-04-21'],
    [2024, '2024-03-31'], [2025, '2025-04-20'], [2026, '2026-04-05'], [2038, '2038-04-25'], [2285, '2285-03-22'],
  ])('%i: %s', (year, sunday) => expect(easterSunday(year)).toBe(sunday))
})

describe('as gov.uk lists them', () => {
  test('2020: early May moved to Friday 8 May (VE Day); Boxing Day on a Saturday is substituted on Monday 28th', () => {
    expect(dates(2020)).toEqual(['2020-01-01', '2020-04-10', '2020-04-13', '2020-05-08', '2020-05-25', '2020-08-31', '2020-12-25', '2020-12-28'])
  })
  test('2021: Christmas on Saturday and Boxing Day on Sunday are substituted on Monday 27th and Tuesday 28th', () => {
    expect(bankHolidays(2021).slice(-2)).toEqual([
      { date: '2021-12-27', name: 'Christmas Day (substitute day)' },
      { date: '2021-12-28', name: 'Boxing Day (substitute day)' },
    ])
  })
  test('2022: New Year substitute, spring holiday moved to Thursday 2 June, Platinum Jubilee, State Funeral, Christmas on a Sunday', () => {
    expect(dates(2022)).toEqual(['2022-01-03', '2022-04-15', '2022-04-18', '2022-05-02', '2022-06-02', '2022-06-03', '2022-08-29', '2022-09-19', '2022-12-26', '2022-12-27'])
    expect(bankHolidays(2022).find((h) => h.date === '2022-12-27')?.name).toBe('Christmas Day (substitute day)')
  })
  test('2023: New Year on a Sunday, and the coronation', () => {
    expect(dates(2023)).toEqual(['2023-01-02', '2023-04-07', '2023-04-10', '2023-05-01', '2023-05-08', '2023-05-29', '2023-08-28', '2023-12-25', '2023-12-26'])
  })
  test('2024, 2025 and 2026', () => {
    expect(dates(2024)).toEqual(['2024-01-01', '2024-03-29', '2024-04-01', '2024-05-06', '2024-05-27', '2024-08-26', '2024-12-25', '2024-12-26'])
    expect(dates(2025)).toEqual(['2025-01-01', '2025-04-18', '2025-04-21', '2025-05-05', '2025-05-26', '2025-08-25', '2025-12-25', '2025-12-26'])
    expect(dates(2026)).toEqual(['2026-01-01', '2026-04-03', '2026-04-06', '2026-05-04', '2026-05-25', '2026-08-31', '2026-12-25', '2026-12-28'])
  })
  test('2027: Christmas on a Saturday again', () => {
    expect(dates(2027)).toEqual(['2027-01-01', '2027-03-26', '2027-03-29', '2027-05-03', '2027-05-31', '2027-08-30', '2027-12-27', '2027-12-28'])
  })
})

test('bankHolidaysBetween spans years', () => {
  expect([...bankHolidaysBetween('2026-12-20', '2027-01-10').keys()]).toEqual(['2026-12-25', '2026-12-28', '2027-01-01'])
})
