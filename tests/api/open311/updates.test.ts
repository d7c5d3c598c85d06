// FixMyStreet's GET Service Request Updates, fed by every status change or note of a report
// (filing, verdict, closing), and the report functions other parts of Kerbside call.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { closeReport, createReport, eraseReportContacts, eraseReportContactsBefore, getReport, reportContactsForUprn, setReportVerdict, ReportInputError } from '../../../storage/reports.ts'
import { FORMATS, PERSONAL, UPRN_1, UPRN_2, expectErrors, get, items, startOpen311Stack, type Open311Stack } from './open311-client.ts'

let s: Open311Stack
const HOUR = 3_600_000
const ago = (hours: number) => new Date(Date.now() - hours * HOUR)
const w3 = (d: Date) => encodeURIComponent(d.toISOString())
const wholeSeconds = (d: Date) => Math.floor(d.getTime() / 1000) * 1000
// When each change happened (simulated): filed, verdict, closed; the other report filed.
const T = { filed: ago(30), verdict: ago(29), closed: ago(21), other: ago(10) }
let reportId: number
let otherId: number

beforeAll(async () => {
  s = await startOpen311Stack()
  const { report } = await createReport(s.t.db, { serviceCode: 'missed_residual', stream: 'residual', uprn: UPRN_1, collectionDate: '2024-05-13', locatedBy: 'uprn', source: 'test', serviceNotice: 'Report received.', requestedAt: T.filed, contact: { firstName: PERSONAL.first_name, phone: PERSONAL.phone } })
  reportId = report.id
  await setReportVerdict(s.t.db, reportId, { validity: 'valid', verdict: { lifts: [], exceptions: [] }, statusNotes: 'Missed collection confirmed.', expectedDatetime: ago(20), at: T.verdict })
  await closeReport(s.t.db, reportId, 'Emptied on the return visit.', { at: T.closed })
  otherId = (await createReport(s.t.db, { serviceCode: 'missed_recycling', stream: 'recycling', uprn: UPRN_2, locatedBy: 'uprn', source: 'test', serviceNotice: 'Report received.', requestedAt: T.other })).report.id
})
afterAll(async () => s?.close())

describe.each(FORMATS)('GET servicerequestupdates.%s', (format) => {
  const feed = (query: string, key = s.keys.crm) => get(s.url(`/servicerequestupdates.${format}?api_key=${encodeURIComponent(key)}${query}`))

  test('lists every change oldest first, as service_request_updates/request_update', async () => {
    const a = await feed('')
    expect(a.status, a.text).toBe(200)
    const updates = items(a, format, 'service_request_updates', 'request_update')
    for (const u of updates) expect(Object.keys(u).sort()).toEqual(['description', 'media_url', 'service_request_id', 'status', 'update_id', 'updated_datetime'])
    expect(updates.map((u) => [String(u.service_request_id), u.status, u.description])).toEqual([
      [String(reportId), 'open', 'Report received.'],
      [String(reportId), 'open', 'Missed collection confirmed.'],
      [String(reportId), 'closed', 'Emptied on the return visit.'],
      [String(otherId), 'open', 'Report received.'],
    ])
    expect(new Set(updates.map((u) => u.update_id)).size).toBe(4)
    expect(updates.map((u) => Date.parse(String(u.updated_datetime)))).toEqual([T.filed, T.verdict, T.closed, T.other].map(wholeSeconds))
  })

  test('start_date and end_date select updates by their time', async () => {
    const a = await feed(`&start_date=${w3(ago(25))}&end_date=${w3(ago(15))}`)
    expect(items(a, format, 'service_request_updates', 'request_update').map((u) => [String(u.service_request_id), u.status])).toEqual([[String(reportId), 'closed']])
  })

  test.each([
    ['a start_date that is not a W3C date-time', '&start_date=2024-13-01T00:00:00Z'],
    ['an end_date without a time zone', '&end_date=2024-05-01T10:00'],
    ['a window of more than 90 days', '&start_date=2024-01-01T00:00:00Z&end_date=2024-06-01T00:00:00Z'],
  ])('%s is 400', async (_name, query) => {
    expectErrors(await feed(query), format, 400)
  })

  test('needs a key with a reading role', async () => {
    expectErrors(await get(s.url(`/servicerequestupdates.${format}`)), format, 403)
    expectErrors(await feed('', s.keys.provisioning), format, 403)
    expect((await feed('', s.keys.contract_manager)).status).toBe(200)
  })
})

describe('report functions', () => {
  test('a verdict that changes neither status nor notes adds no update', async () => {
    const before = (await s.t.db.query('SELECT 1 FROM report_updates WHERE report_id = $1', [otherId])).rowCount
    await setReportVerdict(s.t.db, otherId, { validity: 'pending', verdict: { note: 'round still in progress' } })
    expect((await s.t.db.query('SELECT 1 FROM report_updates WHERE report_id = $1', [otherId])).rowCount).toBe(before)
    expect(await getReport(s.t.db, otherId)).toMatchObject({ validity: 'pending', verdict: { note: 'round still in progress' }, statusNotes: 'Report received.' })
  })

  test('an invalid verdict needs a reason, and may close the report', async () => {
    await expect(setReportVerdict(s.t.db, otherId, { validity: 'invalid' })).rejects.toBeInstanceOf(ReportInputError)
    const closed = await setReportVerdict(s.t.db, otherId, { validity: 'invalid', reason: 'the crew recorded the bin as not presented', statusNotes: 'No further action: the bin was not out.', close: true })
    expect(closed).toMatchObject({ status: 'closed', validity: 'invalid', invalidReason: 'the crew recorded the bin as not presented', statusNotes: 'No further action: the bin was not out.' })
    expect(closed!.closedAt).toBeInstanceOf(Date)
    // A later valid verdict clears the reason; a missing verdict keeps the evidence held.
    const revised = await setReportVerdict(s.t.db, otherId, { validity: 'valid' })
    expect(revised).toMatchObject({ validity: 'valid', invalidReason: null, verdict: { note: 'round still in progress' } })
  })

  test('closing a closed report changes nothing', async () => {
    const before = (await s.t.db.query('SELECT 1 FROM report_updates WHERE report_id = $1', [reportId])).rowCount
    const again = await closeReport(s.t.db, reportId, 'Closed twice?')
    expect(again!.statusNotes).toBe('Emptied on the return visit.')
    expect((await s.t.db.query('SELECT 1 FROM report_updates WHERE report_id = $1', [reportId])).rowCount).toBe(before)
    expect(await closeReport(s.t.db, 424242, 'nothing')).toBeNull()
    expect(await setReportVerdict(s.t.db, 424242, { validity: 'valid' })).toBeNull()
  })

  test('erasing a reporter\'s personal data leaves the report and its updates whole', async () => {
    expect(await reportContactsForUprn(s.t.db, UPRN_1)).toEqual([expect.objectContaining({ reportId, firstName: PERSONAL.first_name, phone: PERSONAL.phone, email: null })])
    const updatesBefore = (await s.t.db.query('SELECT 1 FROM report_updates WHERE report_id = $1', [reportId])).rowCount
    expect(await eraseReportContacts(s.t.db, { uprn: UPRN_1 })).toBe(1)
    expect(await reportContactsForUprn(s.t.db, UPRN_1)).toEqual([])
    expect(await getReport(s.t.db, reportId)).toMatchObject({ id: reportId, status: 'closed', validity: 'valid', uprn: UPRN_1 })
    expect((await s.t.db.query('SELECT 1 FROM report_updates WHERE report_id = $1', [reportId])).rowCount).toBe(updatesBefore)
    expect(await eraseReportContacts(s.t.db, { reportIds: [reportId] })).toBe(0)
  })

  test('retention erases the personal data of reports made before a cut-off, and only theirs', async () => {
    const old = await createReport(s.t.db, { serviceCode: 'missed_glass', stream: 'glass', uprn: UPRN_2, locatedBy: 'uprn', source: 'test', requestedAt: ago(24 * 400), contact: { email: PERSONAL.email } })
    const recent = await createReport(s.t.db, { serviceCode: 'missed_glass', stream: 'glass', uprn: UPRN_2, locatedBy: 'uprn', source: 'test', requestedAt: ago(24 * 5), contact: { email: PERSONAL.email } })
    expect(await eraseReportContactsBefore(s.t.db, ago(24 * 365))).toBe(1)
    expect((await reportContactsForUprn(s.t.db, UPRN_2)).map((c) => c.reportId)).toEqual([recent.report.id])
    expect(await getReport(s.t.db, old.report.id)).not.toBeNull()
  })
})
