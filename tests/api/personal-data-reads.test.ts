// Regression for issue 19 (MEDIUM, personal data outside the audited reads): a round's stops, an
// Open311 report's free text, reports by UPRN, a sensor's readings, a household search and the CRM
// events read personal data with no audit entry (28 entries before and after 8 such reads), and the
// wallboard's viewer key got the reporter's words and the stops' UPRN, address and assisted flag.
// Each read below by a role that may see the data writes one entry (who, route, subject, rows);
// the viewer gets the same answers without the personal fields. GET /api/v1/audit shows them.
import { Registry } from 'prom-client'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { buildApi, type Api } from '../../api/build-api.ts'
import { silentLogger } from '../../core/log.ts'
import { createApiKey } from '../../storage/api-keys.ts'
import { emitReportClosed } from '../../storage/crm-outbox.ts'
import type { Database } from '../../storage/database.ts'
import { provisionDevice } from '../../storage/devices.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { importRegistry } from '../../storage/registry/import.ts'
import { smallCity, UPRN0 } from '../storage/registry/fixture.ts'

const ADMIN = 'admin-key-for-personal-data-reads-0'
let db: Database
let app: Api
const keys: Record<string, string> = {}
let reportId: string
const from = new Date(Date.now() - 86_400_000).toISOString()
const to = new Date(Date.now() + 60_000).toISOString()

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN })
  expect((await importRegistry(db, smallCity(6))).ok).toBe(true)
  for (const role of ['crm', 'viewer'] as const) keys[role] = (await createApiKey(db, role, role)).key
  await provisionDevice(db, { deviceId: 'sensor-1', kind: 'bin', binId: 'b-1-r' })
  await db.query(`INSERT INTO bin_readings (ts, device_id, seq, bin_id, uprn, fill_pct) VALUES ($1, 'sensor-1', 1, 'b-1-r', $2, 55)`, [new Date(Date.now() - 3_600_000).toISOString(), UPRN0])
  const filed = await app.inject({
    method: 'POST', url: '/open311/v2/requests.json', headers: { authorization: `Bearer ${keys.crm}`, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ service_code: 'missed_residual', address_id: String(UPRN0), description: 'my neighbour Bob at number 6, key safe code 4455', media_url: 'https://example.org/bin.jpg' }).toString(),
  })
  reportId = (filed.json() as { service_request_id: string }[])[0]!.service_request_id
  await db.query(`UPDATE missed_reports SET status = 'closed', closed_at = now() WHERE report_id = $1`, [Number(reportId)])
  await emitReportClosed(db, Number(reportId))
})
afterAll(async () => { await app?.close(); await db?.close() })

const READS = () => [
  { url: '/api/v1/rounds/mon-res', subject: 'roundId=mon-res', uprn: null, rows: 6 },
  { url: `/open311/v2/requests/${reportId}.json`, subject: `service_request_id=${reportId}`, uprn: null, rows: 1 },
  { url: `/open311/v2/requests.json?service_request_id=${reportId}`, subject: `service_request_id=${reportId}`, uprn: null, rows: 1 },
  { url: `/api/v1/reports?uprn=${UPRN0}`, subject: `uprn=${UPRN0}`, uprn: UPRN0, rows: 1 },
  { url: `/api/v1/devices/sensor-1/readings?from=${from}&to=${to}`, subject: 'deviceId=sensor-1', uprn: null, rows: 1 },
  { url: '/api/v1/households?q=Test%20Street', subject: 'q=Test Street', uprn: null, rows: 6 },
  { url: '/api/v1/events', subject: null, uprn: null, rows: 1 },
]

const get = (url: string, key: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } })

test('each read of personal data by the CRM writes one audit entry with its route, subject and rows', async () => {
  const crmKeyId = keys.crm!.split('_')[1]
  for (const read of READS()) {
    const before = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log`)).rows[0]!.n
    const res = await get(read.url, keys.crm!)
    expect(res.statusCode, read.url).toBe(200)
    const entries = (await db.query<{ actor: string; role: string; action: string; subject: string | null; uprn: number | null; row_count: number | null; ip: string }>(
      `SELECT actor, role, action, subject, uprn, row_count, ip FROM audit_log ORDER BY id DESC LIMIT 2`)).rows
    expect((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log`)).rows[0]!.n, read.url).toBe(before + 1)
    expect(entries[0], read.url).toMatchObject({ actor: crmKeyId, role: 'crm', subject: read.subject, uprn: read.uprn, row_count: read.rows, ip: '127.0.0.1' })
  }
  const listed = await app.inject({ method: 'GET', url: `/api/v1/audit?from=${from}&to=${new Date(Date.now() + 60_000).toISOString()}&limit=100`, headers: { authorization: `Bearer ${ADMIN}` } })
  expect(listed.json()).toContainEqual(expect.objectContaining({ action: 'GET /api/v1/rounds/:roundId', subject: 'roundId=mon-res', rows: 6 }))
})

test('the viewer gets rounds, reports and readings without the personal fields, refused by UPRN, and writes no entry', async () => {
  const before = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log`)).rows[0]!.n
  const round = (await get('/api/v1/rounds/mon-res', keys.viewer!)).json() as { stops: Record<string, unknown>[] }
  expect(round.stops).toHaveLength(6)
  for (const stop of round.stops) expect(Object.keys(stop).sort()).toEqual(['position', 'postcode'])
  const report = await get(`/open311/v2/requests/${reportId}.json`, keys.viewer!)
  expect(report.statusCode).toBe(200)
  expect(report.body).not.toContain('4455')
  expect(report.body).not.toContain('example.org')
  expect(report.body).not.toContain(String(UPRN0))
  const xml = await get(`/open311/v2/requests/${reportId}.xml`, keys.viewer!)
  expect(xml.body).not.toContain('4455')
  expect((await get(`/api/v1/reports?uprn=${UPRN0}`, keys.viewer!)).statusCode).toBe(403)
  const readings = (await get(`/api/v1/devices/sensor-1/readings?from=${from}&to=${to}`, keys.viewer!)).json() as Record<string, unknown>[]
  expect(readings).toHaveLength(1)
  expect(readings[0]).not.toHaveProperty('uprn')
  expect((await get('/api/v1/households?q=Test%20Street', keys.viewer!)).statusCode).toBe(403)
  expect((await get('/api/v1/events', keys.viewer!)).statusCode).toBe(403)
  expect((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log`)).rows[0]!.n).toBe(before)
})
