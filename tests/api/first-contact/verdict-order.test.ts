// Issue 17: the first-contact verdict rules in their documented order (docs/crm-integration.md):
// evidence of a lift (or the crew's exception) wins over the round and the reporting window; a miss
// put right says so; every verdict carries the next collection, the household summary's; and the
// household history lists past collections newest first with the upcoming ones apart.
//
// The test street (a Monday round 07:00–15:00, households 1–5 in driving order; window from 16:00 on
// the day to the end of the third working day after; return within one working day), Mon 16 Mar 2026
// (GMT): number 1 emptied at 09:12, number 2 not put out (09:30), number 3 emptied at 09:40, number 5
// at 11:00; number 4 passed by. Number 4 is reported at 17:00 and returned to on Tue 17 Mar at 10:00.
// Collections also on 9, 23 and 30 March.
import { Registry } from 'prom-client'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { buildApi, type Api } from '../../../api/build-api.ts'
import { createReportAssessor } from '../../../analysis/first-contact/assess-report.ts'
import { firstContactCheck } from '../../../analysis/first-contact/check.ts'
import { silentLogger } from '../../../core/log.ts'
import type { Database } from '../../../storage/database.ts'
import { collectionHistory, nextCollections } from '../../../storage/households.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { createReport, setReportVerdict } from '../../../storage/reports.ts'
import { lifts, REGISTRATION, schedule, seedStreet, UPRNS } from '../../analysis/outcomes/fixture.ts'

const ADMIN = 'ks_admin000000_VOVOVOVOVOVOVOVOVOVOVOVOVOVOVOVOVOVOVOVOVOV'
let db: Database
let app: Api

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  await seedStreet(db)
  app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN })
  for (const day of ['2026-03-09', '2026-03-16', '2026-03-23', '2026-03-30']) await schedule(db, day)
  await lifts(db, [
    { at: '2026-03-16T09:12:00Z', household: 0 },
    { at: '2026-03-16T09:30:00Z', household: 1, outcome: 'not_presented' },
    { at: '2026-03-16T09:40:00Z', household: 2 },
    { at: '2026-03-16T11:00:00Z', household: 4 },
  ])
  const { report } = await createReport(db, { serviceCode: 'missed_residual', stream: 'residual', uprn: UPRNS[3], collectionDate: '2026-03-16', locatedBy: 'uprn', source: 'test', requestedAt: new Date('2026-03-16T17:00:00Z') })
  await setReportVerdict(db, report.id, await createReportAssessor(db)(report))
  await lifts(db, [{ at: '2026-03-17T10:00:00Z', household: 3 }])
})
afterAll(async () => {
  await app?.close()
  await db?.close()
})

const check = (k: number, at: string, date = '2026-03-16') => firstContactCheck(db, { uprn: UPRNS[k]!, stream: 'residual', date, at: new Date(at) })

test('a bin lifted this morning, before the window opens: collected, with no invitation to report', async () => {
  const a = await check(0, '2026-03-16T10:30:00Z')
  expect(a).toMatchObject({ verdict: 'collected', valid: false, windowSide: null, nextCollection: '2026-03-23', rectified: null })
  expect(a.reason).toBe(`the bin was emptied at 09:12 on Mon 16 Mar by ${REGISTRATION}, 5 m from the property`)
  expect(a.nextAction).toEqual({
    action: 'none', deadline: null,
    tell: `Our records show your general waste bin was emptied at 09:12 on Mon 16 Mar by vehicle ${REGISTRATION}, 5 m from your property, so no return visit is needed. Your next collection is on Mon 23 Mar.`,
  })
  // After the window closed (end of Thu 19 Mar), the lift still decides; the next collection is the first on or after today.
  expect(await check(0, '2026-03-26T09:00:00Z')).toMatchObject({ verdict: 'collected', windowSide: null, nextCollection: '2026-03-30' })
})

test('the crew\'s exception this morning decides before the window too', async () => {
  const a = await check(1, '2026-03-16T10:30:00Z')
  expect(a).toMatchObject({ verdict: 'crew_exception', valid: false, windowSide: null, exception: { code: 'not_presented' }, nextCollection: '2026-03-23' })
  expect(a.nextAction.action).toBe('resident_action')
})

test('a bin not reached yet: round in progress, with the next collection', async () => {
  const a = await check(3, '2026-03-16T10:30:00Z')
  expect(a).toMatchObject({ verdict: 'round_in_progress', valid: false, windowSide: null, nextCollection: '2026-03-23' })
})

test('nothing recorded and the round over: too early before 16:00, a genuine miss after, each with the next collection', async () => {
  expect(await check(3, '2026-03-16T15:45:00Z')).toMatchObject({ verdict: 'outside_reporting_window', windowSide: 'too_early', nextCollection: '2026-03-23' })
  const a = await check(3, '2026-03-16T17:30:00Z')
  expect(a).toMatchObject({ verdict: 'genuine_miss', valid: true, nextCollection: '2026-03-23', nextAction: { action: 'return_visit', deadline: '2026-03-17T17:00:00.000Z' } })
})

test('a miss put right says so: reported, returned to within the deadline', async () => {
  const a = await check(3, '2026-03-17T12:00:00Z')
  expect(a).toMatchObject({
    verdict: 'collected', valid: false, nextCollection: '2026-03-23',
    collected: { at: '2026-03-17T10:00:00.000Z', onDueDate: false },
    rectified: { outcome: 'rectified', reportedAt: '2026-03-16T17:00:00.000Z', deadline: '2026-03-17T17:00:00.000Z', returnedAt: '2026-03-17T10:00:00.000Z' },
  })
  expect(a.reason).toBe(`the collection of Mon 16 Mar was missed and put right: reported at 17:00 on Mon 16 Mar, the bin was emptied on the return visit at 10:00 on Tue 17 Mar by ${REGISTRATION}, within the deadline of Tue 17 Mar 17:00`)
  expect(a.nextAction.tell).toBe(`Sorry: the crew did not empty your general waste bin on Mon 16 Mar. It was emptied on the return visit at 10:00 on Tue 17 Mar by vehicle ${REGISTRATION}, within the deadline of Tue 17 Mar 17:00, so no further visit is needed. Your next collection is on Mon 23 Mar.`)
})

test('the next collection is the household summary\'s, and the API answer carries it and the rectification', async () => {
  const summary = await nextCollections(db, UPRNS[3], '2026-03-17')
  const fc = await check(3, '2026-03-17T12:00:00Z')
  expect(summary.find((n) => n.stream === 'residual')?.dueDate).toBe(fc.nextCollection)
  const res = await app.inject({ url: `/api/v1/households/${UPRNS[3]}/first-contact?stream=residual&date=2026-03-16&at=2026-03-17T12:00:00Z`, headers: { authorization: `Bearer ${ADMIN}` } })
  expect(res.statusCode, res.body).toBe(200)
  expect(res.json()).toMatchObject({ verdict: 'collected', nextCollection: '2026-03-23', rectified: { outcome: 'rectified' } })
})

test('household history: due today or before, newest first; upcoming apart, soonest first', async () => {
  const h = await collectionHistory(db, UPRNS[3], { limit: 10, offset: 0, today: '2026-03-17' })
  expect(h.total).toBe(2)
  expect(h.items.map((c) => c.dueDate)).toEqual(['2026-03-16', '2026-03-09'])
  expect(h.upcoming.map((c) => c.dueDate)).toEqual(['2026-03-23', '2026-03-30'])
  // On a collection day, that day's collection is history, not upcoming.
  const onTheDay = await collectionHistory(db, UPRNS[3], { limit: 10, offset: 0, today: '2026-03-23' })
  expect(onTheDay.items.map((c) => c.dueDate)).toEqual(['2026-03-23', '2026-03-16', '2026-03-09'])
  expect(onTheDay.upcoming.map((c) => c.dueDate)).toEqual(['2026-03-30'])
})
