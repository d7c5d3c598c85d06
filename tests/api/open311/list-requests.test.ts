// GeoReport v2 GET Service Requests (each filter, default window and limit) and GET Service Request.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { closeReport, createReport, type NewReport } from '../../../storage/reports.ts'
import { FORMATS, PERSONAL, UPRN_1, UPRN_2, expectErrors, expectNoPersonalData, get, items, startOpen311Stack, type Open311Stack } from './open311-client.ts'

let s: Open311Stack
const DAY = 86_400_000
const ago = (days: number) => new Date(Date.now() - days * DAY)
const id: Record<string, string> = {}
let closedAt: Date
let expectedAt: Date

const REQUEST_FIELDS = ['address', 'address_id', 'agency_responsible', 'description', 'expected_datetime', 'lat', 'long', 'media_url', 'requested_datetime',
  'service_code', 'service_name', 'service_notice', 'service_request_id', 'status', 'status_notes', 'updated_datetime', 'zipcode']
const W3 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/

beforeAll(async () => {
  s = await startOpen311Stack()
  const file = async (name: string, r: Omit<NewReport, 'locatedBy' | 'source'>) => {
    id[name] = String((await createReport(s.t.db, { locatedBy: 'uprn', source: 'test', ...r })).report.id)
  }
  await file('a', { serviceCode: 'missed_residual', stream: 'residual', uprn: UPRN_1, collectionDate: '2024-05-13', requestedAt: ago(2), description: 'Not emptied', contact: { firstName: PERSONAL.first_name, email: PERSONAL.email, phone: PERSONAL.phone } })
  await file('b', { serviceCode: 'missed_recycling', stream: 'recycling', uprn: UPRN_2, requestedAt: ago(10), mediaUrl: 'https://photos.example.org/b.jpg' })
  await file('c', { serviceCode: 'missed_garden', stream: 'garden', uprn: UPRN_1, requestedAt: ago(100) })
  await file('d', { serviceCode: 'missed_food', stream: 'food', uprn: UPRN_2, requestedAt: ago(200) })
  closedAt = ago(7)
  expectedAt = ago(8)
  await closeReport(s.t.db, Number(id.b), 'Collected on the return visit.', { expectedDatetime: expectedAt, at: closedAt })
})
afterAll(async () => s?.close())

describe.each(FORMATS)('GET requests.%s', (format) => {
  const list = async (query: string, key = s.keys.crm) => get(s.url(`/requests.${format}?api_key=${encodeURIComponent(key)}${query}`))
  const ids = async (query: string) => {
    const a = await list(query)
    expect(a.status, a.text).toBe(200)
    return items(a, format, 'service_requests', 'request').map((r) => String(r.service_request_id))
  }

  test('by default, the most recent 90 days, newest first, with every field of the spec', async () => {
    const a = await list('')
    expect(a.status).toBe(200)
    expect(a.headers.get('cache-control')).toBe('no-store')
    const requests = items(a, format, 'service_requests', 'request')
    expect(requests.map((r) => String(r.service_request_id))).toEqual([id.a, id.b])
    for (const r of requests) {
      expect(Object.keys(r).sort()).toEqual(REQUEST_FIELDS)
      expect(r.requested_datetime).toMatch(W3)
      expect(r.updated_datetime).toMatch(W3)
    }
    const [first, second] = requests
    expect(first).toMatchObject({ status: 'open', service_code: 'missed_residual', service_name: 'Missed bin: general waste', description: 'Not emptied',
      address: '1 Test Street, L1 1AA', address_id: String(UPRN_1), zipcode: 'L1 1AA' })
    expect(Number(first!.lat)).toBeCloseTo(53.4084, 6)
    expect(Number(first!.long)).toBeCloseTo(-2.9916, 6)
    expect(second).toMatchObject({ status: 'closed', status_notes: 'Collected on the return visit.', media_url: 'https://photos.example.org/b.jpg' })
    expectNoPersonalData(a.text)
  })

  test('service_request_id (comma-delimited) overrides every other filter', async () => {
    expect((await ids(`&service_request_id=${id.c},${id.a}&status=closed&start_date=2001-01-01T00:00:00Z&end_date=2001-01-02T00:00:00Z`)).sort()).toEqual([id.a, id.c].sort())
    expect(await ids('&service_request_id=999999')).toEqual([])
  })

  test('service_code, comma-delimited or repeated', async () => {
    expect(await ids('&service_code=missed_recycling')).toEqual([id.b])
    expect(await ids('&service_code=missed_residual,missed_recycling')).toEqual([id.a, id.b])
    expect(await ids('&service_code=missed_residual&service_code=missed_recycling')).toEqual([id.a, id.b])
  })

  test('status', async () => {
    expect(await ids('&status=open')).toEqual([id.a])
    expect(await ids('&status=closed')).toEqual([id.b])
    expect(await ids('&status=open,closed')).toEqual([id.a, id.b])
  })

  test('start_date and end_date', async () => {
    const w3 = (d: Date) => encodeURIComponent(d.toISOString())
    expect(await ids(`&start_date=${w3(ago(101))}&end_date=${w3(ago(99))}`)).toEqual([id.c])
    // One end given: 90 days from it.
    expect(await ids(`&start_date=${w3(ago(120))}`)).toEqual([id.c])
    expect(await ids(`&end_date=${w3(ago(95))}`)).toEqual([id.c])
    // Time zones other than Z.
    expect(await ids(`&start_date=${encodeURIComponent(ago(3).toISOString().replace('Z', '+00:00'))}`)).toEqual([id.a])
  })

  test.each([
    ['a start_date without a time', '&start_date=2024-05-01', 'W3C date-time'],
    ['a start_date in words', '&start_date=yesterday', 'W3C date-time'],
    ['an end_date without a time zone', '&end_date=2024-05-01T00:00:00', 'W3C date-time'],
    ['an end_date before the start_date', '&start_date=2024-05-02T00:00:00Z&end_date=2024-05-01T00:00:00Z', 'must not be before'],
    ['more than 90 days', '&start_date=2024-01-01T00:00:00Z&end_date=2024-04-01T00:00:01Z', '90 days'],
    ['an unknown status', '&status=pending', 'status must be open or closed'],
    ['an unknown service_code', '&service_code=missed_piano', 'missed_piano'],
    ['a service_request_id that is not one', '&service_request_id=12,abc', 'abc'],
  ])('%s is 400', async (_name, query, message) => {
    expect(expectErrors(await list(query), format, 400)[0]).toContain(message)
  })

  test('answers without a key (the public representation, tests/api/open311/fixmystreet-client.test.ts); a key given must be valid and have role crm, contract_manager or viewer', async () => {
    expect((await get(s.url(`/requests.${format}`))).status).toBe(200)
    expectErrors(await list('', 'ks_nosuchkey0000_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'), format, 403)
    expectErrors(await list('', s.keys.provisioning), format, 403)
    for (const role of ['crm', 'contract_manager', 'viewer'] as const) expect((await list('', s.keys[role])).status).toBe(200)
    expect((await get(s.url(`/requests.${format}`), { authorization: `Bearer ${s.keys.viewer}` })).status).toBe(200)
  })
})

describe.each(FORMATS)('GET requests/{id}.%s', (format) => {
  const one = (rid: string, key = s.keys.crm) => get(s.url(`/requests/${rid}.${format}?api_key=${encodeURIComponent(key)}`))

  test('answers service_requests/request with the one report', async () => {
    const a = await one(id.b!)
    expect(a.status).toBe(200)
    const [r, ...rest] = items(a, format, 'service_requests', 'request')
    expect(rest).toEqual([])
    expect(Object.keys(r!).sort()).toEqual(REQUEST_FIELDS)
    expect(r).toMatchObject({ service_request_id: id.b, status: 'closed', status_notes: 'Collected on the return visit.', address_id: String(UPRN_2) })
    // "For requests with status=closed, this will be the date the request was closed."
    const wholeSeconds = (d: Date) => Math.floor(d.getTime() / 1000) * 1000
    expect(Date.parse(String(r!.updated_datetime))).toBe(wholeSeconds(closedAt))
    expect(Date.parse(String(r!.expected_datetime))).toBe(wholeSeconds(expectedAt))
  })

  test('an absent optional value is null in JSON and an empty element in XML', async () => {
    const [r] = items(await one(id.c!), format, 'service_requests', 'request')
    expect(r!.expected_datetime).toBe(format === 'json' ? null : '')
    expect(r!.agency_responsible).toBe(format === 'json' ? null : '')
  })

  test('never carries the reporter\'s personal data', async () => {
    const a = await one(id.a!)
    expect(a.status).toBe(200)
    expectNoPersonalData(a.text)
  })

  test('a viewer (the wallboard) gets the report without the property or what the reporter wrote (issue 19)', async () => {
    const [r] = items(await one(id.b!, s.keys.viewer), format, 'service_requests', 'request')
    for (const f of ['address', 'address_id', 'lat', 'long', 'description', 'media_url']) expect(r, f).not.toHaveProperty(f)
    expect(r).toMatchObject({ service_request_id: id.b, status: 'closed' })
    const [m] = items(await one(id.b!, s.keys.contract_manager), format, 'service_requests', 'request')
    expect(m).toHaveProperty('address_id', String(UPRN_2))
    expect(m).not.toHaveProperty('description')
  })

  test('an unknown id is 404', async () => {
    expect(expectErrors(await one('987654'), format, 404)[0]).toContain('987654')
    expectErrors(await one('not-a-number'), format, 404)
  })

  test('answers without a key, but not with a key of another role', async () => {
    expect((await get(s.url(`/requests/${id.a}.${format}`))).status).toBe(200)
    expectErrors(await get(s.url(`/requests/${id.a}.${format}?api_key=${s.keys.provisioning}`)), format, 403)
  })
})

test('at most 1,000 requests are returned, the newest', async () => {
  // 1,001 reports made 300–301 days ago, filed in one statement.
  await s.t.db.query(
    `INSERT INTO missed_reports (service_code, stream, uprn, located_by, source, requested_at, updated_at)
     SELECT 'missed_glass', 'glass', $1, 'uprn', 'bulk', now() - interval '301 days' + g * interval '1 minute', now() - interval '301 days' + g * interval '1 minute'
       FROM generate_series(1, 1001) g`,
    [UPRN_1],
  )
  const from = encodeURIComponent(ago(302).toISOString())
  const to = encodeURIComponent(ago(299).toISOString())
  const a = await get(s.url(`/requests.json?api_key=${s.keys.crm}&start_date=${from}&end_date=${to}`))
  const requests = items(a, 'json', 'service_requests', 'request')
  expect(requests).toHaveLength(1000)
  const times = requests.map((r) => Date.parse(String(r.requested_datetime)))
  expect(times).toEqual([...times].sort((x, y) => y - x))
})
