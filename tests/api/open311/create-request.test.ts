// GeoReport v2 POST Service Request: form-encoded and JSON, every way of naming the property,
// retries, data minimisation, and every invalid request in both formats.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createApiKey } from '../../../storage/api-keys.ts'
import { createReport } from '../../../storage/reports.ts'
import { FORMATS, PERSONAL, UPRN_1, UPRN_2, expectErrors, expectNoPersonalData, items, json, postForm, postJson, startOpen311Stack, xmlItems, type Open311Stack } from './open311-client.ts'

let s: Open311Stack
beforeAll(async () => {
  s = await startOpen311Stack()
  // A contract and a recycling round that collects UPRN_2 on Wednesdays, with one collection due.
  await s.t.db.query(`INSERT INTO contracts (contract_id, contractor_id, name, starts_on) VALUES ('k1', 'c1', 'Test contract', '2024-01-01')`)
  await s.t.db.query(`INSERT INTO rounds (round_id, contract_id, name, stream, weekday, frequency, anchor_date) VALUES ('r-rec-wed', 'k1', 'Recycling Wednesday', 'recycling', 3, 'weekly', '2024-05-15')`)
  await s.t.db.query(`INSERT INTO round_households (round_id, uprn, position) VALUES ('r-rec-wed', $1, 1)`, [UPRN_2])
  await s.t.db.query(`INSERT INTO scheduled_collections (uprn, stream, round_id, scheduled_date, due_date) VALUES ($1, 'recycling', 'r-rec-wed', '2024-05-15', '2024-05-15')`, [UPRN_2])
})
afterAll(async () => s?.close())

const row = async (id: string) => (await s.t.db.query<Record<string, unknown>>('SELECT * FROM missed_reports WHERE report_id = $1', [Number(id)])).rows[0]!
const contact = async (id: string) => (await s.t.db.query<Record<string, unknown>>('SELECT * FROM report_contacts WHERE report_id = $1', [Number(id)])).rows[0]

describe('form-encoded, as the spec says', () => {
  test('files a report by address_id and answers [{ service_request_id, service_notice, account_id }]', async () => {
    const a = await postForm(s.url('/requests.json'), {
      api_key: s.keys.crm, jurisdiction_id: 'kerbside.example', service_code: 'missed_residual', address_id: String(UPRN_1),
      'attribute[collection_date]': '2024-05-13', 'attribute[bin_location_note]': 'by the side gate',
      description: 'Bin was out by 6am and not emptied', media_url: 'https://photos.example.org/bin.jpg', account_id: 'CRM-000123', ...PERSONAL,
    })
    expect(a.status, a.text).toBe(200)
    const [created, ...rest] = json<Record<string, unknown>[]>(a)
    expect(rest).toEqual([])
    expect(Object.keys(created!).sort()).toEqual(['account_id', 'service_notice', 'service_request_id'])
    expect(created).toMatchObject({ service_request_id: expect.stringMatching(/^\d+$/), account_id: 'CRM-000123',
      // judged at once against the evidence (analysis/first-contact): this fixture schedules nothing
      service_notice: expect.stringContaining('There was no general waste collection due at this address on Mon 13 May') })
    expectNoPersonalData(a.text)

    const report = await row(String(created!.service_request_id))
    expect(report).toMatchObject({ uprn: UPRN_1, stream: 'residual', service_code: 'missed_residual', collection_date: '2024-05-13', collection_date_inferred: false,
      located_by: 'uprn', status: 'closed', validity: 'invalid', bin_location_note: 'by the side gate', media_url: 'https://photos.example.org/bin.jpg' })
    // Personal data is kept apart from the report, and only there.
    expectNoPersonalData(JSON.stringify(report))
    expect(await contact(String(created!.service_request_id))).toMatchObject({ ...Object.fromEntries(Object.entries(PERSONAL)), account_id: 'CRM-000123' })
  })

  test('answers in XML as service_requests/request', async () => {
    const a = await postForm(s.url('/requests.xml'), { api_key: s.keys.crm, service_code: 'missed_residual', 'attribute[uprn]': String(UPRN_1), 'attribute[collection_date]': '2024-05-06' })
    expect(a.status, a.text).toBe(200)
    const [created, ...rest] = xmlItems(a, 'service_requests', 'request')
    expect(rest).toEqual([])
    expect(Object.keys(created!).sort()).toEqual(['account_id', 'service_notice', 'service_request_id'])
    expect(created!.service_request_id).toMatch(/^\d+$/)
    expect(created!.account_id).toBe('')
  })

  test('treats empty optional fields as absent', async () => {
    const a = await postForm(s.url('/requests.json'), { api_key: s.keys.crm, service_code: 'missed_glass', address_id: String(UPRN_1), lat: '', long: '', email: '', description: '  ', 'attribute[collection_date]': '2024-04-01' })
    expect(a.status, a.text).toBe(200)
    const id = String(json(a)[0]!.service_request_id)
    expect(await row(id)).toMatchObject({ description: null, located_by: 'uprn' })
    expect(await contact(id)).toBeUndefined()
  })
})

describe('JSON bodies', () => {
  test('take attribute as an object and the key as a Bearer token', async () => {
    const a = await postJson(s.url('/requests.json'), { service_code: 'missed_food', address_id: UPRN_1, attribute: { collection_date: '2024-05-14' } }, { authorization: `Bearer ${s.keys.crm}` })
    expect(a.status, a.text).toBe(200)
    expect(await row(String(json(a)[0]!.service_request_id))).toMatchObject({ stream: 'food', collection_date: '2024-05-14', uprn: UPRN_1 })
  })

  test('take attribute[code] fields and the key as X-Api-Key', async () => {
    const a = await postJson(s.url('/requests.xml'), { service_code: 'missed_garden', 'attribute[uprn]': String(UPRN_2), 'attribute[collection_date]': '2024-05-14T09:30:00+01:00' }, { 'x-api-key': s.keys.crm })
    expect(a.status, a.text).toBe(200)
    expect(await row(String(xmlItems(a, 'service_requests', 'request')[0]!.service_request_id))).toMatchObject({ stream: 'garden', collection_date: '2024-05-14', uprn: UPRN_2 })
  })
})

describe('locating the property', () => {
  test('lat/long names the nearest household within 50 m, and only its position is returned', async () => {
    // ~8 m from 2 Test Street (53.4085, -2.9915), ~15 m from 1 Test Street.
    const a = await postForm(s.url('/requests.json'), { api_key: s.keys.crm, service_code: 'missed_residual', lat: '53.40857', long: '-2.99145', 'attribute[collection_date]': '2024-05-20' })
    expect(a.status, a.text).toBe(200)
    const report = await row(String(json(a)[0]!.service_request_id))
    expect(report).toMatchObject({ uprn: UPRN_2, located_by: 'latlong' })
    expect(report.located_distance_m as number).toBeLessThan(10)
  })

  test('without a collection_date, the report is about the latest collection due, and names the contractor', async () => {
    const a = await postForm(s.url('/requests.json'), { api_key: s.keys.crm, service_code: 'missed_recycling', address_id: String(UPRN_2) })
    expect(a.status, a.text).toBe(200)
    expect(await row(String(json(a)[0]!.service_request_id))).toMatchObject({ collection_date: '2024-05-15', collection_date_inferred: true, agency_responsible: 'Test Contractor' })
  })
})

describe('data minimisation', () => {
  test('contact details typed into the description are removed, markup stripped, length capped', async () => {
    const long = `${'The bin was not emptied again. '.repeat(60)}`
    const a = await postForm(s.url('/requests.json'), {
      api_key: s.keys.crm, service_code: 'missed_residual', address_id: String(UPRN_2), 'attribute[collection_date]': '2024-03-04',
      description: `<b>Ring me</b> on 07700 900461 or +44 151 496 0000, or write to pq.reporter@example.org.\r\n\r\n\r\n${long}`,
    })
    expect(a.status, a.text).toBe(200)
    const description = (await row(String(json(a)[0]!.service_request_id))).description as string
    expect(description.startsWith('Ring me on [phone removed] or [phone removed], or write to [email removed].\n\nThe bin')).toBe(true)
    expect(description.length).toBe(1000)
    expect(description.endsWith('…')).toBe(true)
  })
})

describe('retries answer with the same service_request_id', () => {
  const report = (date: string) => ({ api_key: s.keys.crm, service_code: 'missed_residual', address_id: String(UPRN_1), 'attribute[collection_date]': date })

  test('with the same Idempotency-Key', async () => {
    const first = await postForm(s.url('/requests.json'), { ...report('2024-02-05'), description: 'first try' }, { 'idempotency-key': 'crm-case-881' })
    const retry = await postForm(s.url('/requests.xml'), { ...report('2024-02-05'), description: 'second try' }, { 'idempotency-key': 'crm-case-881' })
    const id = json(first)[0]!.service_request_id
    expect(xmlItems(retry, 'service_requests', 'request')[0]!.service_request_id).toBe(id)
    expect((await row(String(id))).description).toBe('first try')
  })

  test('an Idempotency-Key reused for another report is refused', async () => {
    await postForm(s.url('/requests.json'), report('2024-02-12'), { 'idempotency-key': 'crm-case-882' })
    const other = await postForm(s.url('/requests.json'), { ...report('2024-02-12'), address_id: String(UPRN_2) }, { 'idempotency-key': 'crm-case-882' })
    expect(expectErrors(other, 'json', 400)[0]).toContain('crm-case-882')
  })

  test('for an identical report from the same client within 10 minutes', async () => {
    const a = json(await postForm(s.url('/requests.json'), report('2024-02-19')))[0]!.service_request_id
    const b = json(await postForm(s.url('/requests.json'), report('2024-02-19')))[0]!.service_request_id
    expect(b).toBe(a)
    // Another collection, or another client, is another report.
    const otherDay = json(await postForm(s.url('/requests.json'), report('2024-02-26')))[0]!.service_request_id
    const otherClient = json(await postForm(s.url('/requests.json'), { ...report('2024-02-19'), api_key: s.t.adminKey }))[0]!.service_request_id
    expect(new Set([a, otherDay, otherClient]).size).toBe(3)
  })

  test('when retries arrive at once, one report is filed', async () => {
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => postForm(s.url('/requests.json'), report('2024-01-22'))))
    expect(new Set(answers.map((a) => json(a)[0]!.service_request_id)).size).toBe(1)
    const keyed = await Promise.all([1, 2, 3].map((n) => postForm(s.url('/requests.json'), { ...report('2024-01-29'), description: `try ${n}` }, { 'idempotency-key': 'crm-case-990' })))
    expect(new Set(keyed.map((a) => json(a)[0]!.service_request_id)).size).toBe(1)
    expect((await s.t.db.query(`SELECT 1 FROM missed_reports WHERE collection_date IN ('2024-01-22', '2024-01-29')`)).rowCount).toBe(2)
  })

  test('but not for one made more than 10 minutes before', async () => {
    const { key: crm2, info } = await createApiKey(s.t.db, 'second crm', 'crm')
    const earlier = await createReport(s.t.db, { serviceCode: 'missed_residual', stream: 'residual', uprn: UPRN_1, collectionDate: '2024-01-08', locatedBy: 'uprn', source: info.keyId, requestedAt: new Date(Date.now() - 11 * 60_000) })
    const now = json(await postForm(s.url('/requests.json'), { ...report('2024-01-08'), api_key: crm2 }))[0]!.service_request_id
    expect(now).not.toBe(String(earlier.report.id))
  })
})

describe.each(FORMATS)('invalid requests, answered in %s', (format) => {
  const post = (fields: Record<string, string>, headers: Record<string, string> = {}) => postForm(s.url(`/requests.${format}`), fields, headers)
  const valid = () => ({ api_key: s.keys.crm, service_code: 'missed_residual', address_id: String(UPRN_1) })

  test('a missing api_key is 403', async () => {
    const { api_key: _k, ...rest } = valid()
    expect(expectErrors(await post(rest), format, 403)[0]).toContain('Missing api_key')
  })

  test('an invalid api_key is 403', async () => {
    expect(expectErrors(await post({ ...valid(), api_key: 'ks_nosuchkey0000_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' }), format, 403)[0]).toContain('Invalid api_key')
  })

  test('a key without the crm role is 403', async () => {
    for (const role of ['viewer', 'contract_manager', 'provisioning'] as const) {
      expect(expectErrors(await post({ ...valid(), api_key: s.keys[role] }), format, 403)[0]).toContain(`role ${role}`)
    }
  })

  test('an unknown service_code is 404', async () => {
    expect(expectErrors(await post({ ...valid(), service_code: 'missed_sofa' }), format, 404)[0]).toContain('missed_sofa')
  })

  test.each([
    ['no service_code', { service_code: '' }, 'service_code was not provided'],
    ['an unknown UPRN', { address_id: '999999999999' }, 'not a property on our collection register'],
    ['a UPRN that is not one', { address_id: '12ab' }, 'must be a UPRN'],
    ['a UPRN of 13 digits', { address_id: '1000000000001' }, 'must be a UPRN'],
    ['two different UPRNs', { 'attribute[uprn]': String(UPRN_2) }, 'name different properties'],
    ['no location', { address_id: '' }, 'A location is required'],
    ['only address_string', { address_id: '', address_string: '1 Test Street, Liverpool' }, 'address_string alone'],
    ['lat without long', { address_id: '', lat: '53.4' }, 'lat and long must be sent together'],
    ['a latitude out of range', { address_id: '', lat: '95', long: '-2.99' }, 'lat must be a WGS84 coordinate'],
    ['nobody within 50 m', { address_id: '', lat: '53.4200', long: '-2.9900' }, 'within 50 m'],
    ['an impossible collection date', { 'attribute[collection_date]': '2024-02-30' }, 'YYYY-MM-DD'],
    ['a collection date in another format', { 'attribute[collection_date]': '14/05/2024' }, 'YYYY-MM-DD'],
    ['a description over 4,000 characters', { description: 'x'.repeat(4001) }, '4,000 characters'],
    ['a bin location note over 200 characters', { 'attribute[bin_location_note]': 'y'.repeat(201) }, '200 characters'],
    ['a media_url that is not http(s)', { media_url: 'javascript:alert(1)' }, 'media_url'],
    ['an email that is not one', { email: 'not-an-email' }, 'email is not an email address'],
    ['a phone number with letters', { phone: 'call me maybe' }, 'phone may hold only'],
  ])('%s is 400', async (_name, change, message) => {
    const [description] = expectErrors(await post({ ...valid(), ...change }), format, 400)
    expect(description).toContain(message)
  })

  test('a bad Idempotency-Key is 400', async () => {
    expect(expectErrors(await post(valid(), { 'idempotency-key': 'has spaces in it' }), format, 400)[0]).toContain('Idempotency-Key')
  })

  test('a JSON body that is not JSON is 400', async () => {
    const a = await fetch(s.url(`/requests.${format}`), { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${s.keys.crm}` }, body: '{"service_code": ' })
    expectErrors({ status: a.status, contentType: a.headers.get('content-type') ?? '', text: await a.text(), headers: a.headers }, format, 400)
  })

  test('a body of another media type is 400', async () => {
    const a = await fetch(s.url(`/requests.${format}`), { method: 'POST', headers: { 'content-type': 'text/csv', authorization: `Bearer ${s.keys.crm}` }, body: 'service_code,address_id' })
    expectErrors({ status: a.status, contentType: a.headers.get('content-type') ?? '', text: await a.text(), headers: a.headers }, format, 400)
  })
})

test('an unsupported format is refused before anything is filed', async () => {
  const before = (await s.t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM missed_reports')).rows[0]!.n
  expectErrors(await postForm(s.url('/requests.csv'), { api_key: s.keys.crm, service_code: 'missed_residual', address_id: String(UPRN_1) }), 'xml', 400)
  expect((await s.t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM missed_reports')).rows[0]!.n).toBe(before)
})

test('answers never carry the reporter\'s personal data, in either format', async () => {
  for (const format of FORMATS) {
    const a = await postForm(s.url(`/requests.${format}`), { api_key: s.keys.crm, service_code: 'missed_food', address_id: String(UPRN_2), 'attribute[collection_date]': `2024-01-1${format === 'json' ? 1 : 2}`, ...PERSONAL })
    expect(a.status, a.text).toBe(200)
    expect(items(a, format, 'service_requests', 'request')).toHaveLength(1)
    expectNoPersonalData(a.text)
  }
})
