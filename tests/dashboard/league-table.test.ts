// The league table renders the page it is given with the whole contract in its foot, says which
// rounds of how many it shows, and reports sorting, paging and a round's misses asked for.
import { flushSync } from 'svelte'
import { expect, test } from 'vitest'
import LeagueTable from '../../dashboard/src/components/LeagueTable.svelte'
import type { KpiFigures, League, LeagueRow } from '../../dashboard/src/lib/api-types.ts'
import { byTestId, render, text } from './render.ts'

const figures = (scheduled: number, missed: number): KpiFigures => ({
  scheduled, pending: 0, collected: scheduled - missed, collectedLate: 0, crewExceptions: 0, missed, missedReported: 0, rectified: 0, rectifiedLate: 0,
  outstanding: missed, awaitingRectification: 0, notRectifiedInTime: 0, repeatMisses: 0, returnVisits: 0,
  missedPer100k: (missed / scheduled) * 100_000, onDayPct: ((scheduled - missed) / scheduled) * 100, rectifiedInTimePct: null, invalidReportPct: null,
  reports: { total: 0, valid: 0, invalid: 0, pending: 0 },
  exceptionsByCode: { not_presented: 0, contaminated: 0, no_access: 0, excess_waste: 0, overweight: 0, wrong_bin: 0, other: 0 },
})
const points = (missed: number) => ({ misses: missed, notRectified: 0, repeats: 0, total: missed })
const row = (rank: number, roundId: string, missed: number): LeagueRow => ({
  rank, roundId, name: `Round ${roundId}`, stream: 'residual', vehicleId: null, figures: figures(1000, missed), points: points(missed), score: 100 - missed, targets: [],
})
const totals: League['totals'] = { figures: figures(570_000, 171), points: points(171), score: 71.5, targets: [] }

test('a page of the league with the contract in its foot, the pager, and what people ask for', () => {
  const asked: string[] = []
  const props = {
    rounds: [row(26, 'R-26', 0), row(27, 'R-27', 4)], total: 570, offset: 25, pageSize: 25, totals, sortKey: 'rank' as const, sortDir: 'ascending' as const,
    onsort: (k: string) => asked.push(`sort ${k}`), onround: (r: string) => asked.push(`round ${r}`), onpage: (d: number) => asked.push(`page ${d}`),
  }
  const root = render(LeagueTable, props)
  expect(byTestId(root, 'league-row').map((r) => r.dataset.round)).toEqual(['R-26', 'R-27'])
  const foot = text(byTestId(root, 'league-totals')[0])
  expect(foot).toContain('All 570 rounds')
  expect(foot).toContain('570,000')
  expect(foot).toContain('71.5')
  expect(text(byTestId(root, 'league-page')[0])).toBe('26–27 of 570')
  expect(text(root.querySelector('caption'))).toContain('Rounds 26 to 27 of 570')
  byTestId(root, 'league-previous')[0]!.click()
  byTestId(root, 'league-next')[0]!.click()
  byTestId(root, 'league-sort-missed')[0]!.click()
  // Only a round with misses has misses to open.
  const buttons = byTestId(root, 'league-row').map((r) => r.querySelector('button'))
  expect(buttons[0]).toBeNull()
  buttons[1]!.click()
  flushSync()
  expect(asked).toEqual(['page -1', 'page 1', 'sort missed', 'round R-27'])
})

test('the last page cannot go further, the first not back; one page needs no pager', () => {
  const base = { totals, sortKey: 'missed' as const, sortDir: 'descending' as const, onsort: () => {}, onround: () => {}, onpage: () => {} }
  const last = render(LeagueTable, { ...base, rounds: [row(570, 'R-570', 9)], total: 570, offset: 550, pageSize: 25 })
  expect((byTestId(last, 'league-next')[0] as HTMLButtonElement).disabled).toBe(true)
  expect((byTestId(last, 'league-previous')[0] as HTMLButtonElement).disabled).toBe(false)
  expect(byTestId(last, 'league-sort-missed')[0]!.closest('th')!.getAttribute('aria-sort')).toBe('descending')
  const first = render(LeagueTable, { ...base, rounds: [row(1, 'R-1', 0)], total: 570, offset: 0, pageSize: 25 })
  expect((byTestId(first, 'league-previous')[0] as HTMLButtonElement).disabled).toBe(true)
  const one = render(LeagueTable, { ...base, rounds: [row(1, 'R-1', 0), row(2, 'R-2', 1)], total: 2, offset: 0, pageSize: 25 })
  expect(byTestId(one, 'league-next')).toHaveLength(0)
  expect(text(byTestId(one, 'league-totals')[0])).toContain('All 2 rounds')
})
