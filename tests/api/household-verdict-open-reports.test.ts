// Regression (issue 14): the household page said "Collected … no further action" (the first-contact
// verdict) beside "Open reports #1 … confirmed miss, return visit by Mon 7 Dec" (the summary) until
// the hourly job closed the report. Both now read the same evidence at the same instant: the summary's
// report is "put right" as soon as the return lift is stored, and a verdict on a later collection
// still owes the return visit of an earlier miss that has not been put right. No job runs here.
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { buildApi, type Api } from '../../api/build-api.ts'
import type { HouseholdSummary } from '../../api/schemas/households.ts'
import { addDays } from '../../analysis/calendar/dates.ts'
import { createReportAssessor } from '../../analysis/first-contact/assess-report.ts'
import type { FirstContactAnswer } from '../../analysis/first-contact/schema.ts'
import { ukDate, ukInstant } from '../../analysis/outcomes/local-time.ts'
import { silentLogger } from '../../core/log.ts'
import { createApiKey } from '../../storage/api-keys.ts'
import type { Database } from '../../storage/database.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { lifts, schedule, seedStreet, UPRNS } from '../analysis/outcomes/fixture.ts'

const ADMIN = 'ks_admin000000_HVHVHVHVHVHVHVHVHVHVHVHVHVHVHVHVHVHVHVHVHVH'
let db: Database
let app: Api
let crm: string
// A missed collection a week ago, and the next one yesterday.
const today = ukDate(new Date())
const due = addDays(today, -7)
const nextDue = addDays(today, -1)
const at = (hhmm: string, day: string) => ukInstant(day, Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3)))

const summary = async (uprn: number): Promise<HouseholdSummary> => {
  const res = await app.inject({ method: 'GET', url: `/api/v1/households/${uprn}`, headers: { authorization: `Bearer ${crm}` } })
  expect(res.statusCode, res.body).toBe(200)
  return res.json() as HouseholdSummary
}
const check = async (uprn: number, date?: string): Promise<FirstContactAnswer> => {
  const res = await app.inject({ method: 'GET', url: `/api/v1/households/${uprn}/first-contact?stream=residual${date ? `&date=${date}` : ''}`, headers: { authorization: `Bearer ${crm}` } })
  expect(res.statusCode, res.body).toBe(200)
  return res.json() as FirstContactAnswer
}
/** A resident's report of the missed collection, made at 17:00 on the day (inside the window): valid, return visit due. */
async function report(uprn: number): Promise<number> {
  const res = await app.inject({
    method: 'POST', url: '/open311/v2/requests.json', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ api_key: crm, service_code: 'missed_residual', address_id: String(uprn), 'attribute[collection_date]': due, 'attribute[contacted_at]': at('17:00', due).toISOString() }).toString(),
  })
  expect(res.statusCode, res.body).toBe(200)
  return Number((res.json() as { service_request_id: string }[])[0]!.service_request_id)
}

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  await seedStreet(db)
  app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN, assessReport: createReportAssessor(db) })
  crm = (await createApiKey(db, 'crm', 'crm')).key
  await schedule(db, due)
  await schedule(db, nextDue)
  // Households 0 and 2 emptied on the day; 1 and 3 passed by.
  await lifts(db, [{ at: at('08:00', due).toISOString(), household: 0 }, { at: at('08:10', due).toISOString(), household: 2 }])
})
afterAll(async () => {
  await app?.close()
  await db?.close()
})

describe('the household summary and the first-contact verdict agree at every moment', () => {
  test('before the return visit: a confirmed miss awaiting its return, and a verdict that owes it (not "too late to report")', async () => {
    const uprn = UPRNS[1]
    const id = await report(uprn)
    const [card, verdict] = [await summary(uprn), await check(uprn, due)]
    expect(card.openReports).toEqual([expect.objectContaining({ reportId: id, validity: 'valid', state: 'awaiting_return', evidenceAt: null })])
    // A new call now is outside the reporting window, but the miss was reported in time and is owed its return visit.
    expect(verdict.verdict).toBe('outside_reporting_window')
    expect(verdict.nextAction.action).toBe('return_visit')
    expect(verdict.nextAction.deadline).toBe(card.openReports[0]!.expectedDatetime)
    expect(verdict.nextAction.tell).toContain(`Your earlier report (#${id})`)
  })

  test('the return lift stored, the hourly job not run: the report is put right on the card as the verdict says "emptied"', async () => {
    const uprn = UPRNS[1]
    const returned = at('10:30', addDays(due, 1))
    await lifts(db, [{ at: returned.toISOString(), household: 1 }])
    const [card, verdict] = [await summary(uprn), await check(uprn, due)]
    // Still open in the table (the hourly job closes it), but not "confirmed miss, return visit by …" any more.
    expect(card.openReports).toHaveLength(1)
    expect(card.openReports[0]).toMatchObject({ state: 'put_right', evidenceAt: returned.toISOString() })
    expect(verdict.verdict).toBe('collected')
    expect(verdict.collected).toMatchObject({ at: returned.toISOString(), onDueDate: false })
    expect(verdict.nextAction.action).toBe('none')
  })

  test('a verdict on a later collection that was emptied still owes the return visit of an earlier, unrepaired miss', async () => {
    const uprn = UPRNS[3]
    const id = await report(uprn)
    await lifts(db, [{ at: at('08:30', nextDue).toISOString(), household: 3 }])
    const card = await summary(uprn)
    expect(card.openReports).toEqual([expect.objectContaining({ reportId: id, state: 'awaiting_return' })])
    // The latest collection (yesterday's) was emptied, but report #id is owed its return: not "no further action".
    const verdict = await check(uprn)
    expect(verdict.collection?.dueDate).toBe(nextDue)
    expect(verdict.verdict).toBe('collected')
    expect(verdict.nextAction.action).toBe('return_visit')
    expect(verdict.nextAction.tell).toContain(`Your earlier report (#${id})`)
    expect(verdict.nextAction.deadline).toBe(card.openReports[0]!.expectedDatetime)
  })

  test('an emptied household with no open report is told no further action, as before', async () => {
    const verdict = await check(UPRNS[0], due)
    expect(verdict.verdict).toBe('collected')
    expect(verdict.nextAction.action).toBe('none')
    expect((await summary(UPRNS[0])).openReports).toEqual([])
  })
})
