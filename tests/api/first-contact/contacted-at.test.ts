// Issue 17: a CRM forwarding a call logged earlier (or after an outage) sends the time the resident
// made contact, attribute[contacted_at], and the assessor judges the reporting window against it.
// Open311 files at the real time, so the collection here is 30 days before today: long past its
// window (three working days after the day), while a call at 17:00 on the day was inside it
// (the window opens at 16:00). Households 1, 3 and 5 were emptied; 2 and 4 were passed by.
import { Registry } from 'prom-client'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { buildApi, type Api } from '../../../api/build-api.ts'
import { addDays } from '../../../analysis/calendar/dates.ts'
import { createReportAssessor } from '../../../analysis/first-contact/assess-report.ts'
import { rectifyDeadline } from '../../../analysis/first-contact/window.ts'
import { ukDate, ukInstant } from '../../../analysis/outcomes/local-time.ts'
import { silentLogger } from '../../../core/log.ts'
import { createApiKey } from '../../../storage/api-keys.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { getReport } from '../../../storage/reports.ts'
import { lifts, schedule, seedStreet, UPRNS } from '../../analysis/outcomes/fixture.ts'

const ADMIN = 'ks_admin000000_CTCTCTCTCTCTCTCTCTCTCTCTCTCTCTCTCTCTCTCTCTC'
let db: Database
let app: Api
let crm: string
const due = addDays(ukDate(new Date()), -30)
const at = (hhmm: string, day = due) => ukInstant(day, Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3)))

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  await seedStreet(db)
  app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN, assessReport: createReportAssessor(db) })
  crm = (await createApiKey(db, 'crm', 'crm')).key
  await schedule(db, due)
  await lifts(db, [{ at: at('08:00').toISOString(), household: 0 }, { at: at('09:00').toISOString(), household: 2 }, { at: at('12:00').toISOString(), household: 4 }])
})
afterAll(async () => {
  await app?.close()
  await db?.close()
})

const post = (fields: Record<string, string>) => app.inject({
  method: 'POST', url: '/open311/v2/requests.json', headers: { 'content-type': 'application/x-www-form-urlencoded' },
  payload: new URLSearchParams({ api_key: crm, service_code: 'missed_residual', ...fields }).toString(),
})

test('a call logged at 17:00 on the day is judged then: a genuine miss, its return due a working day after the call', async () => {
  const contact = at('17:00')
  const res = await post({ address_id: String(UPRNS[1]), 'attribute[collection_date]': due, 'attribute[contacted_at]': contact.toISOString() })
  expect(res.statusCode, res.body).toBe(200)
  const report = (await getReport(db, Number((res.json() as { service_request_id: string }[])[0]!.service_request_id)))!
  expect(report).toMatchObject({ requestedAt: contact, validity: 'valid', expectedDatetime: rectifyDeadline(contact, 1) })
  expect(report.verdict).toMatchObject({ verdict: 'genuine_miss', asOf: contact.toISOString() })
})

test('the same call without the attribute is judged at the time it arrives: too late', async () => {
  const res = await post({ address_id: String(UPRNS[3]), 'attribute[collection_date]': due })
  expect(res.statusCode, res.body).toBe(200)
  const report = (await getReport(db, Number((res.json() as { service_request_id: string }[])[0]!.service_request_id)))!
  expect(report).toMatchObject({ validity: 'invalid', verdict: { verdict: 'outside_reporting_window', windowSide: 'too_late' } })
})

test('with no collection date, the collection is the latest due on or before the day of the call', async () => {
  // The next day's call: the latest collection due on or before it is `due` (none since).
  const contact = at('10:00', addDays(due, 1))
  const res = await post({ address_id: String(UPRNS[3]), 'attribute[contacted_at]': contact.toISOString(), description: 'logged by the contact centre yesterday' })
  expect(res.statusCode, res.body).toBe(200)
  const report = (await getReport(db, Number((res.json() as { service_request_id: string }[])[0]!.service_request_id)))!
  expect(report).toMatchObject({ collectionDate: due, collectionDateInferred: true, requestedAt: contact, validity: 'valid' })
})

test('a contact time in the future, before the collection day, or not a date-time is refused, and nothing is filed', async () => {
  const before = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM missed_reports`)).rows[0]!.n
  const future = await post({ address_id: String(UPRNS[1]), 'attribute[collection_date]': due, 'attribute[contacted_at]': new Date(Date.now() + 3_600_000).toISOString() })
  expect(future.statusCode).toBe(400)
  expect(future.body).toMatch(/contacted_at.*is in the future/)
  const early = await post({ address_id: String(UPRNS[1]), 'attribute[collection_date]': due, 'attribute[contacted_at]': new Date(at('00:00').getTime() - 60_000).toISOString() })
  expect(early.statusCode).toBe(400)
  expect(early.body).toMatch(/contacted_at.*is before the collection it reports/)
  const garbled = await post({ address_id: String(UPRNS[1]), 'attribute[collection_date]': due, 'attribute[contacted_at]': 'yesterday teatime' })
  expect(garbled.statusCode).toBe(400)
  expect(garbled.body).toMatch(/attribute\[contacted_at\] must be a date and time/)
  expect((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM missed_reports`)).rows[0]!.n).toBe(before)
})

test('the service definition lists the attribute', async () => {
  const res = await app.inject({ url: '/open311/v2/services/missed_residual.json' })
  expect(res.statusCode).toBe(200)
  expect((res.json() as { attributes: { code: string; datatype: string; required: boolean }[] }).attributes).toContainEqual(expect.objectContaining({ code: 'contacted_at', datatype: 'datetime', required: false }))
})
