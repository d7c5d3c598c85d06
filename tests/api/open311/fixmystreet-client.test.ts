// Kerbside's Open311 endpoint driven the way FixMyStreet's own client (mySociety's perllib/Open311.pm,
// as on its master branch, 2026-08) drives it. The `Open311Pm` class below writes each call from the
// module: the `.xml` endpoints, jurisdiction_id on every call, api_key on POST only (and in the query
// of the updates feed), the form fields _populate_service_request_params and
// _populate_service_request_update_params send, W3CDTF dates without fractions, and XML read as its
// _get_xml_object reads it (XML::Simple, ForceArray on the group tags). Then both formats for the
// calls other GeoReport v2 clients make, and personal data absent from every keyless answer.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createReport } from '../../../storage/reports.ts'
import { FORMATS, PERSONAL, UPRN_1, expectErrors, expectNoPersonalData, get, items, postForm, startOpen311Stack, xmlItems, xmlRoot, type Answer, type Open311Stack } from './open311-client.ts'

let s: Open311Stack
const WORDS = 'Bin left at number 1 again, ring me on 07700 900461'
const PHOTO = 'https://photos.example.org/bin-1.jpg'

async function fileReport(): Promise<string> {
  const a = await postForm(s.url('/requests.xml'), {
    api_key: s.keys.crm, service_code: 'missed_residual', address_id: String(UPRN_1), description: WORDS, media_url: PHOTO,
    first_name: PERSONAL.first_name, last_name: PERSONAL.last_name, email: PERSONAL.email, phone: PERSONAL.phone, account_id: 'CRM-ACCOUNT-991',
  })
  expect(a.status, a.text).toBe(200)
  return String(items(a, 'xml', 'service_requests', 'request')[0]!.service_request_id)
}

beforeAll(async () => { s = await startOpen311Stack() })
afterAll(async () => s?.close())

const WITHHELD = ['address', 'address_id', 'lat', 'long', 'description', 'media_url']

describe.each(FORMATS)('as FixMyStreet, %s', (format) => {
  test('status fetch by ids and by dates without a key: the public representation, nothing personal, and what needs a key', async () => {
    const id = await fileReport()
    const start = encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())
    const end = encodeURIComponent(new Date(Date.now() + 60_000).toISOString())
    for (const path of [`/requests.${format}?service_request_id=${id}`, `/requests.${format}?start_date=${start}&end_date=${end}`, `/requests/${id}.${format}`]) {
      const a = await get(s.url(path))
      expect(a.status, `${path}: ${a.text}`).toBe(200)
      const [r] = items(a, format, 'service_requests', 'request').filter((x) => String(x.service_request_id) === id)
      expect(r, path).toBeDefined()
      expect(r).toMatchObject({ service_request_id: id, status: expect.stringMatching(/^(open|closed)$/), service_code: 'missed_residual', requested_datetime: expect.any(String) })
      for (const f of WITHHELD) expect(Object.keys(r!), `${path} ${f}`).not.toContain(f)
      expect(a.headers.get('open311-fields-needing-key')?.split(', ').sort()).toEqual([...WITHHELD].sort())
      expectNoPersonalData(a.text)
      for (const secret of [WORDS, PHOTO, 'CRM-ACCOUNT-991', '1 Test Street', String(UPRN_1)]) expect(a.text, path).not.toContain(secret)
    }
  })

  test('a key still shows what its role may see, and a wrong key is refused', async () => {
    const id = await fileReport()
    const crm = items(await get(s.url(`/requests/${id}.${format}?api_key=${s.keys.crm}`)), format, 'service_requests', 'request')[0]!
    expect(crm).toMatchObject({ address_id: String(UPRN_1), description: expect.stringContaining('Bin left') })
    expectErrors(await get(s.url(`/requests/${id}.${format}?api_key=not-a-key`)), format, 403)
    expectErrors(await get(s.url(`/requests/${id}.${format}`), { authorization: `Bearer ${s.keys.provisioning}` }), format, 403)
  })

  test('POST servicerequestupdates: a resident\'s comment, its repeat, then the CRM closing it; nothing personal kept', async () => {
    // Filed without the stack's assessment, so that it is still open when the updates arrive.
    const id = String((await createReport(s.t.db, { serviceCode: 'missed_residual', stream: 'residual', uprn: UPRN_1, locatedBy: 'uprn', source: 'test', serviceNotice: 'Report received.', description: WORDS })).report.id)
    // The fields the module sent before 2020 (update_id_ext, service_request_id_ext, public_anonymity_required), which
    // other senders still use; Open311Pm below sends today's (update_id).
    const update = (fields: Record<string, string>) => postForm(s.url(`/servicerequestupdates.${format}`), { api_key: s.keys.crm, service_request_id: id, service_request_id_ext: '7001', ...fields })
    const comment = {
      update_id_ext: '9001', status: 'OPEN', updated_datetime: new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z'),
      description: WORDS, email: PERSONAL.email, first_name: PERSONAL.first_name, last_name: PERSONAL.last_name, public_anonymity_required: 'FALSE', email_alerts_requested: 'TRUE', title: 'MS',
    }
    const first = await update(comment)
    expect(first.status, first.text).toBe(200)
    const updateId = String(items(first, format, 'service_request_updates', 'request_update')[0]!.update_id)
    expect(updateId).toMatch(/^\d+$/)
    expectNoPersonalData(first.text)
    const again = await update(comment)
    expect(String(items(again, format, 'service_request_updates', 'request_update')[0]!.update_id)).toBe(updateId)

    const closed = await update({ update_id_ext: '9002', status: 'FIXED', description: 'Emptied on the return visit.' })
    expect(closed.status, closed.text).toBe(200)
    expect(String(items(closed, format, 'service_request_updates', 'request_update')[0]!.update_id)).not.toBe(updateId)
    const now = items(await get(s.url(`/requests.${format}?service_request_id=${id}`)), format, 'service_requests', 'request')[0]!
    expect(now.status).toBe('closed')

    const feed = await get(s.url(`/servicerequestupdates.${format}?api_key=${s.keys.crm}`))
    const mine = items(feed, format, 'service_request_updates', 'request_update').filter((u) => String(u.service_request_id) === id)
    expect(mine.map((u) => u.status)).toEqual(['open', 'open', 'closed'])
    expect(mine.filter((u) => String(u.update_id) === updateId)).toHaveLength(1)
    expect(feed.text).not.toContain(WORDS)
    expectNoPersonalData(feed.text)
  })

  test('POST servicerequestupdates refuses what it cannot take, in the Open311 error format', async () => {
    const id = await fileReport()
    const post = (fields: Record<string, string>) => postForm(s.url(`/servicerequestupdates.${format}`), fields)
    expectErrors(await post({ service_request_id: id, update_id_ext: '1', status: 'OPEN' }), format, 403)
    expectErrors(await post({ api_key: s.keys.viewer, service_request_id: id, update_id_ext: '1', status: 'OPEN' }), format, 403)
    expect(expectErrors(await post({ api_key: s.keys.crm, service_request_id: id }), format, 400)[0]).toContain('update_id_ext, status are required')
    expect(expectErrors(await post({ api_key: s.keys.crm, service_request_id: id, update_id_ext: '1', status: 'MAYBE' }), format, 400)[0]).toContain('not one of')
    expectErrors(await post({ api_key: s.keys.crm, service_request_id: id, update_id_ext: '1', status: 'OPEN', updated_datetime: 'yesterday' }), format, 400)
    expectErrors(await post({ api_key: s.keys.crm, service_request_id: '999999', update_id_ext: '1', status: 'OPEN' }), format, 404)
  })
})

// ---------------------------------------------------------------------------------------------
// perllib/Open311.pm, call by call.

const JURISDICTION = 'kerbside.example.gov.uk'
// _get_xml_object: ForceArray on the group tags' items, KeyAttr {}, SuppressEmpty undef.
const GROUP_ITEMS: Record<string, string> = { services: 'service', attributes: 'attribute', values: 'value', service_requests: 'request', errors: 'error', service_request_updates: 'request_update', groups: 'group' }

/** DateTime::Format::W3CDTF->format_datetime: seconds, no fraction; Z in UTC, else the offset. */
function w3cdtf(d: Date, offsetMinutes = 0): string {
  const local = new Date(d.getTime() + offsetMinutes * 60_000).toISOString().replace(/\.\d+Z$/, '')
  if (offsetMinutes === 0) return `${local}Z`
  const sign = offsetMinutes < 0 ? '-' : '+'
  const m = Math.abs(offsetMinutes)
  return `${local}${sign}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`
}

/** Utils::truncate_coordinate: six decimals, trailing zeros dropped. */
const truncateCoordinate = (n: number) => n.toFixed(6).replace(/\.?0+$/, '')

/** split_name: the first word, and the rest. */
function splitName(name: string): [string, string] {
  const m = /(\S+)(?:\.?\s+(.+))?/.exec(name)
  return [m?.[1] ?? '', m?.[2] ?? '']
}

class Open311Pm {
  constructor(private readonly endpoint: string, private readonly apiKey: string) {}

  /** _request: jurisdiction_id always, api_key on POST only; GET as a query, POST as a form. */
  private async request(method: 'GET' | 'POST', path: string, params: Record<string, string> = {}): Promise<Answer> {
    const all: Record<string, string> = { ...params, jurisdiction_id: JURISDICTION }
    if (method === 'POST' && this.apiKey) all.api_key = this.apiKey
    if (method === 'GET') return get(`${this.endpoint}${path}?${new URLSearchParams(all)}`)
    return postForm(`${this.endpoint}${path}`, all)
  }

  /** _get_xml_object, on a successful answer only (_request returns nothing otherwise). */
  private xml(a: Answer, root: string): Record<string, unknown>[] {
    expect(a.status, a.text).toBe(200)
    return xmlItems(a, root, GROUP_ITEMS[root]!)
  }

  async getServiceList() { return this.xml(await this.request('GET', 'services.xml'), 'services') }

  async getServiceMetaInfo(serviceId: string) {
    const a = await this.request('GET', `services/${serviceId}.xml`)
    expect(a.status, a.text).toBe(200)
    return a
  }

  /** send_service_request with _populate_service_request_params' fields (UK cobrand, always_send_latlong). */
  async sendServiceRequest(problem: { title: string; detail: string; name: string; email: string; phone: string; lat: number; lon: number; uprn: number; url: string; imageUrl: string; extra: Record<string, string> }, serviceCode: string): Promise<string> {
    const [first, last] = splitName(problem.name)
    const params: Record<string, string> = {
      description: `title: ${problem.title}\n\ndetail: ${problem.detail}\n\nurl: ${problem.url}\n\nSubmitted via FixMyStreet\n`,
      service_code: serviceCode, first_name: first, last_name: last,
      phone: problem.phone, email: problem.email,
      lat: truncateCoordinate(problem.lat), long: truncateCoordinate(problem.lon),
      media_url: problem.imageUrl,
    }
    for (const [name, value] of Object.entries(problem.extra)) params[`attribute[${name}]`] = value
    params['attribute[uprn]'] = String(problem.uprn)
    const request = this.xml(await this.request('POST', 'requests.xml', params), 'service_requests')
    const id = request[0]?.service_request_id
    expect(typeof id, 'service_request_id as a text element').toBe('string')
    return id as string
  }

  /** get_service_requests({ report_ids } or { start_date, end_date }): the request list. */
  async getServiceRequests(args: { report_ids?: string[]; start_date?: string; end_date?: string }): Promise<{ answer: Answer; requests: Record<string, unknown>[] }> {
    const params: Record<string, string> = {}
    if (args.report_ids) params.service_request_id = args.report_ids.join(',')
    if (args.start_date) params.start_date = args.start_date
    if (args.end_date) params.end_date = args.end_date
    const answer = await this.request('GET', 'requests.xml', params)
    return { answer, requests: this.xml(answer, 'service_requests') }
  }

  /** get_service_request_updates(start, end): api_key goes in the query here ('' without one). */
  async getServiceRequestUpdates(start: string, end: string) {
    return this.xml(await this.request('GET', 'servicerequestupdates.xml', { api_key: this.apiKey || '', start_date: start, end_date: end }), 'service_request_updates')
  }

  /** post_service_request_update with _populate_service_request_update_params' fields; the update_id it answers. */
  async postServiceRequestUpdate(comment: { id: number; confirmed: Date; externalId: string; status: string; text: string; name: string; email?: string; phone?: string }): Promise<Answer & { updateId?: string }> {
    const [first, last] = splitName(comment.name)
    const params: Record<string, string> = {
      updated_datetime: w3cdtf(comment.confirmed, 0), service_request_id: comment.externalId, status: comment.status,
      description: comment.text, last_name: last || '-', first_name: first, update_id: String(comment.id),
    }
    if (comment.phone) params.phone = comment.phone
    if (comment.email) params.email = comment.email
    const a = await this.request('POST', 'servicerequestupdates.xml', params)
    if (a.status !== 200) return a
    const updateId = this.xml(a, 'service_request_updates')[0]?.update_id
    return { ...a, updateId: typeof updateId === 'string' ? updateId : undefined }
  }
}

describe('as perllib/Open311.pm does it (xml, jurisdiction_id, key on POST only)', () => {
  let fms: Open311Pm
  let keyless: Open311Pm
  beforeAll(() => {
    fms = new Open311Pm(s.url('/'), s.keys.crm)
    keyless = new Open311Pm(s.url('/'), '')
  })

  test('service list and service definition (PopulateServiceList)', async () => {
    const services = await fms.getServiceList()
    expect(services.map((x) => x.service_code)).toContain('missed_residual')
    for (const x of services) expect(x).toMatchObject({ service_code: expect.any(String), service_name: expect.any(String), metadata: 'true', type: 'realtime' })
    const definition = xmlRoot(await fms.getServiceMetaInfo('missed_residual'), 'service_definition') as { service_code: string; attributes: { attribute: Record<string, unknown>[] } }
    expect(definition.service_code).toBe('missed_residual')
    const attributes = definition.attributes.attribute
    expect(attributes.map((a) => a.code)).toEqual(expect.arrayContaining(['uprn', 'collection_date']))
  })

  test('a report sent, sent again (the same request), its status fetched by ids and by dates without a key', async () => {
    const problem = {
      title: 'Bin not emptied', detail: WORDS, name: `${PERSONAL.first_name} ${PERSONAL.last_name}`, email: PERSONAL.email, phone: PERSONAL.phone,
      lat: 53.4084, lon: -2.9916, uprn: UPRN_1, url: 'https://fixmystreet.example/report/4242', imageUrl: PHOTO, extra: {},
    }
    const id = await fms.sendServiceRequest(problem, 'missed_residual')
    expect(id).toMatch(/^\d+$/)
    expect(await fms.sendServiceRequest(problem, 'missed_residual'), 'a repeat is the same request').toBe(id)
    const other = await fms.sendServiceRequest({ ...problem, uprn: UPRN_1 + 1, lat: 53.4085, lon: -2.9915 }, 'missed_recycling')

    // GetUpdates: report_ids joined with commas; GetServiceRequests: the last hour, W3CDTF.
    const byIds = await keyless.getServiceRequests({ report_ids: [id, other] })
    expect(byIds.requests.map((r) => r.service_request_id).sort()).toEqual([id, other].sort())
    const now = new Date()
    const byDates = await keyless.getServiceRequests({ start_date: w3cdtf(new Date(now.getTime() - 3_600_000)), end_date: w3cdtf(new Date(now.getTime() + 60_000), 60) })
    expect(byDates.requests.map((r) => r.service_request_id)).toEqual(expect.arrayContaining([id, other]))
    for (const { answer, requests } of [byIds, byDates]) {
      for (const r of requests) {
        expect(r).toMatchObject({ status: expect.stringMatching(/^(open|closed)$/), service_code: expect.any(String), requested_datetime: expect.any(String), updated_datetime: expect.any(String) })
        for (const f of WITHHELD) expect(Object.keys(r), f).not.toContain(f)
      }
      expectNoPersonalData(answer.text)
      for (const secret of [WORDS, PHOTO, '1 Test Street', String(UPRN_1), problem.url]) expect(answer.text).not.toContain(secret)
    }
  })

  test('a resident\'s update posted (and repeated), then the council\'s fixed, read back from the updates feed', async () => {
    const filed = new Date(Date.now() - 120_000)
    const id = String((await createReport(s.t.db, { serviceCode: 'missed_residual', stream: 'residual', uprn: UPRN_1, locatedBy: 'uprn', source: 'test', serviceNotice: 'Report received.', description: WORDS, requestedAt: filed })).report.id)
    const started = new Date(filed.getTime() - 60_000)
    const comment = { id: 55001, confirmed: new Date(Date.now() - 60_000), externalId: id, status: 'OPEN', text: 'Still not emptied this morning.', name: `${PERSONAL.first_name} ${PERSONAL.last_name}`, email: PERSONAL.email, phone: PERSONAL.phone }
    const first = await fms.postServiceRequestUpdate(comment)
    expect(first.status, first.text).toBe(200)
    expect(first.updateId).toMatch(/^\d+$/)
    expectNoPersonalData(first.text)
    expect((await fms.postServiceRequestUpdate(comment)).updateId, 'a repeat answers the same update_id').toBe(first.updateId)
    // extended_statuses: FIXED for a fixed state; a name with no surname goes as last_name '-'.
    const fixed = await fms.postServiceRequestUpdate({ id: 55002, confirmed: new Date(), externalId: id, status: 'FIXED', text: 'Emptied on the return visit.', name: 'Contractor' })
    expect(fixed.status, fixed.text).toBe(200)
    expect(fixed.updateId).not.toBe(first.updateId)

    // The rest of its extended statuses are taken too; REOPEN (mark_reopen) is recorded and leaves it closed.
    for (const [n, status] of ['FOR_TRIAGE', 'REOPEN'].entries()) {
      const a = await fms.postServiceRequestUpdate({ id: 55010 + n, confirmed: new Date(), externalId: id, status, text: 'Later update.', name: 'Contractor' })
      expect(a.status, `${status}: ${a.text}`).toBe(200)
    }

    const updates = await fms.getServiceRequestUpdates(w3cdtf(started), w3cdtf(new Date(Date.now() + 60_000)))
    const mine = updates.filter((u) => u.service_request_id === id)
    expect(mine.map((u) => u.status)).toEqual(['open', 'open', 'closed', 'closed', 'closed'])
    for (const u of mine) expect(u).toMatchObject({ update_id: expect.any(String), updated_datetime: expect.any(String) })
    const { requests } = await keyless.getServiceRequests({ report_ids: [id] })
    expect(requests[0]?.status).toBe('closed')

    // Without a key the POST is refused, in the Open311 error format the module reads (_process_error).
    const refused = await keyless.postServiceRequestUpdate({ ...comment, id: 55003 })
    expect(xmlItems(refused, 'errors', 'error')[0]).toMatchObject({ code: '403', description: expect.stringContaining('api_key') })
  })
})
