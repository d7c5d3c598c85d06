// The Open311 assessor wired into the API (buildApi's assessReport, as cli/stack.ts passes it): a report
// the evidence contradicts is recorded invalid with its reason and closed; a genuine miss is valid, with
// the return deadline as expected_datetime, and the classified miss takes the report in at once.
// Open311 files reports at the real time, so the collection here is two days before today.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { Registry } from 'prom-client'
import { silentLogger } from '../../../core/log.ts'
import { buildApi, type Api } from '../../../api/build-api.ts'
import { addDays } from '../../../analysis/calendar/dates.ts'
import { createReportAssessor } from '../../../analysis/first-contact/assess-report.ts'
import { rectifyDeadline } from '../../../analysis/first-contact/window.ts'
import { classifyOutcomes } from '../../../analysis/outcomes/classify.ts'
import { ukDate, ukInstant } from '../../../analysis/outcomes/local-time.ts'
import { createApiKey } from '../../../storage/api-keys.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { getReport } from '../../../storage/reports.ts'
import { lifts, schedule, seedStreet, UPRNS } from '../../analysis/outcomes/fixture.ts'

const ADMIN = 'ks_admin000000_OAOAOAOAOAOAOAOAOAOAOAOAOAOAOAOAOAOAOAOAOAO'
let db: Database
let app: Api
let crm: string
// Two days ago is always inside a three-working-day window that opened at 16:00 that day.
const due = addDays(ukDate(new Date()), -2)
const at = (hhmm: string) => ukInstant(due, Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3))).toISOString()

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  await seedStreet(db)
  app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN, assessReport: createReportAssessor(db) })
  crm = (await createApiKey(db, 'crm', 'crm')).key
  await schedule(db, due)
  await lifts(db, [{ at: at('08:00'), household: 0 }, { at: at('08:10'), household: 2, outcome: 'contaminated' }, { at: at('12:00'), household: 4 }])
  await classifyOutcomes(db, { from: due, to: due, now: new Date() })
})
afterAll(async () => {
  await app?.close()
  await db?.close()
})

async function file(uprn: number) {
  const res = await app.inject({
    method: 'POST', url: '/open311/v2/requests.json', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ api_key: crm, service_code: 'missed_residual', address_id: String(uprn), 'attribute[collection_date]': due, description: 'Bin not emptied' }).toString(),
  })
  expect(res.statusCode, res.body).toBe(200)
  const [answer] = res.json() as { service_request_id: string; service_notice: string }[]
  return { ...answer!, report: (await getReport(db, Number(answer!.service_request_id)))! }
}

test('a report about a bin that was emptied is invalid, with its reason, and closed', async () => {
  const { report, service_notice } = await file(UPRNS[0])
  expect(report).toMatchObject({ validity: 'invalid', status: 'closed', invalidReason: expect.stringMatching(/^the bin was emptied at 08:00 on /) })
  expect(service_notice).toMatch(/^Our records show your general waste bin was emptied at 08:00/)
  expect(report.verdict).toMatchObject({ verdict: 'collected', valid: false })
})

test('a report about a bin the crew refused is invalid: crew exception', async () => {
  const { report } = await file(UPRNS[2])
  expect(report).toMatchObject({ validity: 'invalid', status: 'closed', invalidReason: expect.stringContaining('the crew recorded contaminated') })
})

test('a genuine miss is valid: the return deadline is expected_datetime, the resident is told, the outcome takes the report in', async () => {
  const before = await db.query<{ outcome: string; revision: number }>(`SELECT outcome, revision FROM collection_outcomes WHERE uprn = $1 AND due_date = $2`, [UPRNS[1], due])
  expect(before.rows[0]).toMatchObject({ outcome: 'missed' })
  const { report, service_notice } = await file(UPRNS[1])
  expect(report).toMatchObject({ validity: 'valid', status: 'open', invalidReason: null })
  expect(report.expectedDatetime).toEqual(rectifyDeadline(report.requestedAt, 1))
  expect(service_notice).toContain('A crew will return to empty it by')
  const { rows } = await db.query<{ outcome: string; firstReportId: number; reportedAt: Date; rectifyDeadline: Date; revision: number }>(
    `SELECT outcome, first_report_id AS "firstReportId", reported_at AS "reportedAt", rectify_deadline AS "rectifyDeadline", revision
       FROM collection_outcomes WHERE uprn = $1 AND due_date = $2`, [UPRNS[1], due],
  )
  expect(rows[0]).toMatchObject({ outcome: 'missed', firstReportId: report.id, reportedAt: report.requestedAt, rectifyDeadline: report.expectedDatetime, revision: before.rows[0]!.revision + 1 })
})
