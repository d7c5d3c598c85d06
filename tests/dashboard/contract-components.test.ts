// The contract pages' components render what they are given — in words, not only in colour — and
// report what people do. The data are typed by the API's own schemas (dashboard/src/lib/api-types.ts).
import { flushSync } from 'svelte'
import { expect, test } from 'vitest'
import CollectionTimeline from '../../dashboard/src/components/CollectionTimeline.svelte'
import FirstContactPanel from '../../dashboard/src/components/FirstContactPanel.svelte'
import KpiCard from '../../dashboard/src/components/KpiCard.svelte'
import ReportsTable from '../../dashboard/src/components/ReportsTable.svelte'
import type { CollectionRecord, FirstContactAnswer, ReportRow } from '../../dashboard/src/lib/api-types.ts'
import { byTestId, render, text } from './render.ts'

test('KPI card: the figure, the target met or missed in words, and the way to the collections behind it', () => {
  const drilled: string[] = []
  const missed = render(KpiCard, {
    id: 'missed', title: 'Missed per 100,000', value: '41.2', raw: 41.2, target: 'Target ≤ 30', met: false,
    details: ['12 missed of 29,100'], action: 'Show missed collections', onaction: () => drilled.push('missed'),
  })
  const card = byTestId(missed, 'kpi-missed')[0]!
  expect(card.dataset.value).toBe('41.2')
  expect(text(card)).toContain('✗ Target missed')
  expect(text(card)).toContain('Target ≤ 30')
  expect(text(card)).toContain('12 missed of 29,100')
  byTestId(missed, 'kpi-missed-drill')[0]!.click()
  expect(drilled).toEqual(['missed'])

  expect(text(render(KpiCard, { id: 'on-day', title: 'On the day', value: '99.80 %', target: 'Target ≥ 99.76 %', met: true }))).toContain('✓ Target met')
  expect(text(render(KpiCard, { id: 'rect', title: 'Rectified', value: '—', target: 'Target ≥ 95 %', met: null }))).toContain('No data yet')
  // No target, no verdict; no action, no button.
  const plain = render(KpiCard, { id: 'repeat', title: 'Repeat misses', value: '0' })
  expect(text(plain)).not.toMatch(/Target/)
  expect(byTestId(plain, 'kpi-repeat-drill')).toHaveLength(0)
})

const report = (over: Partial<ReportRow>): ReportRow => ({
  reportId: 1, serviceCode: 'missed-residual', stream: 'residual', uprn: 100000000009, address: '9 Test Street', postcode: 'L1 1AA',
  collectionDate: '2026-03-10', requestedAt: '2026-03-10T17:00:00Z', status: 'open', statusNotes: null, validity: 'valid', invalidReason: null,
  expectedDatetime: '2026-03-11T23:59:00Z', closedAt: null, agencyResponsible: null, ...over,
})

test('reports: status, validity with the reason, the deadline, and overdue said in words; links only where the role may follow', () => {
  const now = Date.parse('2026-03-12T09:00:00Z')
  const reports = [
    report({ reportId: 3 }), // open, due yesterday: overdue
    report({ reportId: 2, uprn: 100000000002, expectedDatetime: '2026-03-13T23:59:00Z' }), // open, due tomorrow
    report({ reportId: 1, uprn: 100000000001, status: 'closed', validity: 'invalid', invalidReason: 'The crew logged “not presented” at 07:42.', expectedDatetime: null, closedAt: '2026-03-10T18:00:00Z' }),
  ]
  const root = render(ReportsTable, { reports, now, href: (uprn: number) => (uprn === 100000000001 ? null : `#/households/${uprn}`) })
  const rows = byTestId(root, 'report-row')
  expect(rows.map((r) => [r.dataset.report, r.dataset.status, r.dataset.validity])).toEqual([['3', 'open', 'valid'], ['2', 'open', 'valid'], ['1', 'closed', 'invalid']])
  expect(text(rows[0])).toContain('Overdue')
  expect(text(rows[1])).not.toContain('Overdue')
  expect(text(rows[2])).toContain('Not a miss')
  expect(text(rows[2])).toContain('not presented')
  expect(rows[0]!.querySelector('a')!.getAttribute('href')).toBe('#/households/100000000009')
  expect(rows[2]!.querySelector('a')).toBeNull()
})

const collection = (over: Partial<CollectionRecord>): CollectionRecord => ({
  collectionId: 1, stream: 'residual', roundId: 'R1', roundName: 'Residual Tuesday', scheduledDate: '2026-03-10', dueDate: '2026-03-10', cancelled: false, outcome: 'collected',
  exceptionCode: null, liftTs: '2026-03-10T08:12:00Z', liftWeightKg: 14.5, liftDistanceM: 6, liftVehicleId: 'rcv-01', reportedAt: null,
  rectifyDeadline: null, rectifiedAt: null, evidence: {}, ...over,
})

test('collection timeline: each outcome with its evidence, a paged list, and an empty household', () => {
  const pages: number[] = []
  const evidence = {
    rule: 'missed', dayStart: '2026-03-03T00:00:00Z', dayEnd: '2026-03-04T00:00:00Z', overAt: '2026-03-03T18:00:00Z', maxDistanceM: 60, report: null,
    events: [{ ts: '2026-03-03T09:00:00Z', deviceId: 'unit-1', seq: 7, vehicleId: 'rcv-02', outcome: 'collected', weightKg: 12, distanceM: 420, onDueDay: true, accepted: false }],
  }
  const items = [
    collection({ collectionId: 3, dueDate: '2999-01-05', scheduledDate: '2999-01-05', outcome: null, liftTs: null, liftWeightKg: null, liftDistanceM: null, liftVehicleId: null }),
    collection({ collectionId: 2 }),
    collection({ collectionId: 1, dueDate: '2026-03-03', scheduledDate: '2026-03-03', outcome: 'missed', liftTs: null, liftWeightKg: null, liftDistanceM: null, liftVehicleId: null,
      reportedAt: '2026-03-03T17:30:00Z', rectifyDeadline: '2026-03-04T23:59:00Z', evidence }),
    collection({ collectionId: 0, dueDate: '2026-02-24', scheduledDate: '2026-02-24', outcome: 'crew_exception', exceptionCode: 'not_presented', evidence: 'not evidence' }),
  ]
  const root = render(CollectionTimeline, { items, total: 45, offset: 0, limit: 4, busy: false, onpage: (d: number) => pages.push(d) })
  const rows = byTestId(root, 'collection')
  expect(rows.map((r) => r.dataset.outcome)).toEqual(['undecided', 'collected', 'missed', 'crew_exception'])
  expect(text(rows[0])).toContain('Upcoming')
  expect(text(rows[1])).toContain('14.5 kg')
  expect(text(rows[1])).toContain('6 m away')
  expect(text(rows[1])).toContain('Residual Tuesday') // the round by its name, not its id
  expect(text(rows[1])).not.toContain('R1')
  expect(text(rows[2])).toContain('Reported missed')
  expect(text(rows[2])).toContain('1 event the rules looked at')
  expect(text(rows[2])).toContain('not accepted (too far away)')
  expect(text(rows[3])).toContain('Not presented')
  expect(text(root)).toContain('1–4 of 45')
  const [newer, older] = [...root.querySelectorAll<HTMLButtonElement>('nav button')]
  expect(newer!.disabled).toBe(true)
  older!.click()
  expect(pages).toEqual([1])

  expect(text(render(CollectionTimeline, { items: [], total: 0, offset: 0, limit: 20, busy: false, onpage: () => undefined }))).toContain('No collections scheduled')
})

const answer: FirstContactAnswer = {
  uprn: 100000000009, stream: 'residual', address: '9 Test Street', asOf: '2026-03-04T10:00:00Z', verdict: 'genuine_miss', valid: true,
  reason: 'The round finished at 15:10 and no lift or crew exception was recorded for this bin.', windowSide: null,
  collection: { collectionId: 1, roundId: 'R1', roundName: 'Residual Tuesday', scheduledDate: '2026-03-03', dueDate: '2026-03-03', plannedStart: '2026-03-03T07:00:00Z', plannedEnd: '2026-03-03T15:00:00Z', outcome: 'missed', movedFrom: null },
  window: { opensAt: '2026-03-04T16:00:00Z', closesAt: '2026-03-06T23:59:59Z' }, collected: null, exception: null, progress: null, nextCollection: '2026-03-17',
  previousReports: [],
  timeline: [
    { at: '2026-03-03T07:00:00Z', kind: 'scheduled', summary: 'Round Residual Tuesday planned 07:00–15:00' },
    { at: '2026-03-03T14:02:00Z', kind: 'vehicle_nearest', summary: 'rcv-01 passed 35 m away' },
  ],
  nextAction: { action: 'return_visit', tell: 'We are sorry: your bin was missed. The crew will return by Thursday.', deadline: '2026-03-05T23:59:00Z' },
}

test('first contact: the verdict, what to tell the resident and by when, the evidence timeline; problems and errors as alerts', () => {
  const checks: string[] = []
  const streams: string[] = []
  const props = {
    streams: ['residual', 'recycling'], stream: 'residual', date: '', status: 'ready' as const, answer, error: null, problem: null,
    onstream: (s: string) => streams.push(s), ondate: () => undefined, oncheck: () => checks.push('check'),
  }
  const root = render(FirstContactPanel, props)
  const verdict = byTestId(root, 'fc-verdict')[0]!
  expect(verdict.dataset.verdict).toBe('genuine_miss')
  expect(text(verdict)).toContain('Missed: a genuine miss')
  expect(text(byTestId(root, 'fc-tell')[0])).toContain('The crew will return by Thursday.')
  expect(text(byTestId(root, 'fc-tell')[0])).toContain('Book a return visit')
  expect(byTestId(root, 'fc-deadline')).toHaveLength(1)
  expect(text(root)).toContain('A missed-bin report now would be a valid miss.')
  expect(byTestId(root, 'fc-timeline')[0]!.querySelectorAll('li')).toHaveLength(2)
  // A new verdict takes the keyboard focus, for the agent and for screen readers.
  expect(document.activeElement).toBe(verdict)

  const select = byTestId(root, 'fc-stream')[0] as HTMLSelectElement
  select.value = 'recycling'
  select.dispatchEvent(new Event('change', { bubbles: true }))
  root.querySelector('form')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }))
  expect(streams).toEqual(['recycling'])
  expect(checks).toEqual(['check'])

  const failed = render(FirstContactPanel, { ...props, answer: null, status: 'error' as const, error: 'Kerbside could not be reached.', problem: 'Choose the bin the resident is calling about.' })
  const alerts = [...failed.querySelectorAll('[role="alert"]')].map(text)
  expect(alerts).toEqual(['Choose the bin the resident is calling about.', 'Kerbside could not be reached.'])
  expect(byTestId(failed, 'fc-verdict')).toHaveLength(0)
  const none = render(FirstContactPanel, { ...props, answer: null, streams: [], stream: '' })
  expect((byTestId(none, 'fc-check')[0] as HTMLButtonElement).disabled).toBe(true)
  flushSync()
})
