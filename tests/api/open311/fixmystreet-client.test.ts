// Kerbside's Open311 endpoint driven the way FixMyStreet's own client (mySociety's perllib/Open311.pm)
// drives it: requests fetched by service_request_id and by start_date/end_date with no api_key (the
// module sends the key on POST only), and updates posted with the fields
// _populate_service_request_update_params sends (update_id_ext, service_request_id(_ext), status in
// capitals, updated_datetime, description, email, first_name, last_name, public_anonymity_required),
// the answer read as service_request_updates/request_update/update_id. In both formats.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createReport } from '../../../storage/reports.ts'
import { FORMATS, PERSONAL, UPRN_1, expectErrors, expectNoPersonalData, get, items, postForm, startOpen311Stack, type Open311Stack } from './open311-client.ts'

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
