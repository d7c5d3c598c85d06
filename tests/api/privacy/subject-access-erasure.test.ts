// Subject-access export and erasure on request, end to end through the API on the embedded
// TimescaleDB, over the hand-computed contract of tests/analysis/performance (March 2026). The
// resident of h9 (assisted collection, two valid reports) asks for their data and then for its erasure:
// the export holds everything and says what each part is; after the erasure it holds no personal data,
// while the contract's performance figures and every count stay exactly as they were.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Registry } from 'prom-client'
import ajvModule from 'ajv'
import ajvFormats from 'ajv-formats'
import { buildApi, type Api } from '../../../api/build-api.ts'
import { refreshRollup } from '../../../analysis/performance/rollup.ts'
import { ErasureRecord, SubjectAccessExport } from '../../../core/contract/privacy.ts'
import { silentLogger } from '../../../core/log.ts'
import { createApiKey } from '../../../storage/api-keys.ts'
import { emitCrmEvent } from '../../../storage/crm-outbox.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { MARCH, seedScenario, uprn } from '../../analysis/performance/scenario.ts'

const ADMIN = 'admin-key-of-the-privacy-tests-000'
const H9 = uprn(9)
const H4 = uprn(4)
const HOUR = 3_600_000
const PERSONAL = ['Philippa', 'Quartermaine', 'pq.resident@example.org', '07700 900461', 'CRM-ACC-7731', 'CUS00000009', 'housebound', 'behind the blue gate', 'photos.example.org']
const Ajv = ajvModule.default
const addFormats = ajvFormats.default

let db: Database
let app: Api
let crm: string
const admin = { authorization: `Bearer ${ADMIN}` }
const exportOf = async (uprnOf: number, query = '') => app.inject({ method: 'GET', url: `/api/v1/households/${uprnOf}/subject-access${query}`, headers: admin })
/** The contract's March figures, and how many days came from the roll-up and how many were computed live. */
const performance = async () => {
  const res = await app.inject({ method: 'GET', url: `/api/v1/contracts/K/performance?from=${MARCH.from}&to=${MARCH.to}`, headers: admin })
  expect(res.statusCode).toBe(200)
  const { asOf: _asOf, source, ...figures } = res.json()
  return { figures: figures as Record<string, unknown>, source: source as { rolledUpDays: number; liveDays: number } }
}
const counts = async () => (await db.query(`SELECT
    (SELECT json_object_agg(outcome, n) FROM (SELECT outcome, count(*)::int AS n FROM collection_outcomes GROUP BY outcome) o) AS outcomes,
    (SELECT count(*)::int FROM missed_reports) AS reports, (SELECT json_object_agg(validity, n) FROM (SELECT validity, count(*)::int AS n FROM missed_reports GROUP BY validity) v) AS validity,
    (SELECT count(*)::int FROM bin_readings) AS readings, (SELECT count(*)::int FROM lift_events) AS lifts,
    (SELECT coalesce(sum(points), 0)::int FROM reward_ledger) AS points, (SELECT count(*)::int FROM crm_outbox) AS events`)).rows[0]

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN })
  await seedScenario(db, 'K')
  crm = (await createApiKey(db, 'council CRM', 'crm')).key
  const now = Date.now()

  // Who reported h9's misses, what they wrote, and a report they made about h4 (their neighbour).
  const reports = (await db.query<{ id: number; uprn: number }>(`SELECT report_id AS id, uprn FROM missed_reports WHERE uprn IN ($1, $2) ORDER BY report_id`, [H9, H4])).rows
  for (const r of reports) {
    await db.query(`INSERT INTO report_contacts (report_id, first_name, last_name, email, phone, account_id) VALUES ($1, 'Philippa', 'Quartermaine', 'pq.resident@example.org', '07700 900461', 'CRM-ACC-7731')`, [r.id])
    if (r.uprn === H9) {
      await db.query(`UPDATE missed_reports SET description = 'Left again; my mother is housebound', bin_location_note = 'behind the blue gate', media_url = 'https://photos.example.org/p/1.jpg' WHERE report_id = $1`, [r.id])
    }
  }
  await db.query(`UPDATE households SET crm_ref = 'CUS00000009' WHERE uprn = $1`, [H9])

  // Bins, a sensor and its readings (one 100 days old, one 40, three recent), lifts, reward points, a CRM event.
  await db.query(`INSERT INTO bins (bin_id, uprn, stream, rfid_tag, capacity_l, colour) VALUES ('h9-res', $1, 'residual', 'TAG-H9-R', 240, 'black'), ('h9-rec', $1, 'recycling', 'TAG-H9-C', 240, 'blue')`, [H9])
  await db.query(`INSERT INTO devices (device_id, kind, secret_hash, bin_id, online) VALUES ('s-h9', 'bin', 'scrypt$secret-hash', 'h9-res', true)`)
  for (const [i, ago] of [100 * 24, 40 * 24, 5 * 24, 2, 1].entries()) {
    await db.query(`INSERT INTO bin_readings (ts, device_id, seq, bin_id, uprn, fill_pct, temp_c, battery_v, status) VALUES ($1, 's-h9', $2, 'h9-res', $3, $4, 12.5, 3.6, 'ok')`,
      [new Date(now - ago * HOUR).toISOString(), i + 1, H9, 20 + i * 10])
  }
  await db.query(`INSERT INTO lift_events (ts, device_id, seq, vehicle_id, tag, bin_id, uprn, weight_kg, lat, lon, outcome) VALUES
    ('2026-03-12T10:00:00Z', 'u-spare', 1, 'spare', 'TAG-H9-R', 'h9-res', $1, 21.5, 53.409, -2.99, 'collected')`, [H9])
  await db.query(`INSERT INTO reward_ledger (uprn, period, rule, kind, points, reason) VALUES ($1, '2026-03-01', 'recycled_weight', 'award', 40, '16 kg recycled in March'), ($1, '2026-03-01', 'contamination', 'award', -5, 'Contaminated recycling on 3 March')`, [H9])
  await db.transaction((tx) => emitCrmEvent(tx, {
    type: 'collection.missed_confirmed', idempotencyKey: 'missed:K-A:h9:2026-03-02', uprn: H9,
    data: { collectionId: 1, stream: 'residual', dueDate: '2026-03-02', roundId: 'K-A', contractId: 'K', missedAt: '2026-03-02T17:00:00.000Z', reportId: null, rectifyDeadline: null },
  }))
  // The contact centre reads the record: that read belongs in the export.
  expect((await app.inject({ method: 'GET', url: `/api/v1/households/${H9}`, headers: { authorization: `Bearer ${crm}` } })).statusCode).toBe(200)
  await refreshRollup(db, { now: new Date(), ensure: MARCH })
})
afterAll(async () => { await app?.close(); await db?.close() })

describe('subject-access export', () => {
  test('admin only; unknown household 404', async () => {
    expect((await app.inject({ method: 'GET', url: `/api/v1/households/${H9}/subject-access`, headers: { authorization: `Bearer ${crm}` } })).statusCode).toBe(403)
    expect((await app.inject({ method: 'GET', url: `/api/v1/households/${H9}/subject-access` })).statusCode).toBe(401)
    expect((await exportOf(999_999_999_999)).statusCode).toBe(404)
  })

  test('everything held about the household, each part saying what it is, valid against its declared schema', async () => {
    const res = await exportOf(H9)
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-disposition']).toMatch(new RegExp(`^attachment; filename="subject-access-${H9}-\\d{4}-\\d{2}-\\d{2}\\.json"$`))
    const doc = res.json<SubjectAccessExport>()
    const ajv = new Ajv({ strict: false, allErrors: true })
    addFormats(ajv)
    ajv.addSchema(ErasureRecord)
    const validate = ajv.compile(SubjectAccessExport)
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true)

    expect(doc.about).toMatchObject({ uprn: H9, generatedBy: { actor: 'bootstrap', role: 'admin' }, timeZone: 'Europe/London' })
    for (const part of ['household', 'bins', 'devices', 'rounds', 'subscriptions', 'sensorReadings', 'lifts', 'collections', 'missedReports', 'rewards', 'crmEvents', 'erasures', 'accessLog'] as const) {
      expect((doc[part] as { about: string }).about.length, part).toBeGreaterThan(40)
    }
    expect(doc.household.record).toMatchObject({ uprn: H9, address: '9 Park Road', assisted: true, crmRef: 'CUS00000009', ward: 'South' })
    expect(doc.bins.items.map((b) => [b.binId, b.rfidTag])).toEqual([['h9-rec', 'TAG-H9-C'], ['h9-res', 'TAG-H9-R']])
    expect(doc.devices.items).toEqual([expect.objectContaining({ deviceId: 's-h9', binId: 'h9-res', online: true })])
    expect(JSON.stringify(doc)).not.toContain('scrypt$secret-hash')
    expect(doc.rounds.items.map((r) => [r.roundId, r.position])).toEqual([['K-A', 9], ['K-B', 9]])

    // Readings: all five summarised by day; only the recent ones raw by default.
    expect(doc.sensorReadings.total).toBe(5)
    expect(doc.sensorReadings.daily.reduce((n, d) => n + d.readings, 0)).toBe(5)
    expect(doc.sensorReadings.daily[0]).toMatchObject({ deviceId: 's-h9', binId: 'h9-res', readings: 1, fillAvgPct: 20, tempMaxC: 12.5, statuses: ['ok'] })
    expect(doc.sensorReadings.raw).toMatchObject({ included: 'recent', count: 3 })
    expect(doc.sensorReadings.raw.readings.map((r) => r.fillPct)).toEqual([40, 50, 60])

    expect(doc.lifts.items).toEqual([expect.objectContaining({ tag: 'TAG-H9-R', weightKg: 21.5, outcome: 'collected', vehicleId: 'spare' })])
    expect(doc.collections.items.map((c) => [c.dueDate, c.stream, c.outcome])).toEqual([
      ['2026-03-02', 'residual', 'missed'], ['2026-03-03', 'recycling', 'missed'], ['2026-03-09', 'residual', 'rectified_late'],
    ])
    expect(doc.missedReports.items).toHaveLength(2)
    for (const r of doc.missedReports.items) {
      expect(r.contact).toMatchObject({ firstName: 'Philippa', lastName: 'Quartermaine', email: 'pq.resident@example.org', phone: '07700 900461', accountId: 'CRM-ACC-7731' })
      expect(r).toMatchObject({ validity: 'valid', description: 'Left again; my mother is housebound', binLocationNote: 'behind the blue gate' })
    }
    expect(doc.rewards).toMatchObject({ held: true, balance: 35 })
    expect(doc.rewards.ledger.map((e) => e.points)).toEqual([40, -5])
    expect(doc.crmEvents.held).toBe(true)
    expect(doc.crmEvents.items).toEqual([expect.objectContaining({ type: 'collection.missed_confirmed', crmRef: 'CUS00000009', deliveries: [] })])
    expect(doc.accessLog.items).toEqual([expect.objectContaining({ role: 'crm', actorName: 'council CRM', action: 'GET /api/v1/households/:uprn', status: 200 })])
    expect(doc.accessLog.items[0]).not.toHaveProperty('ip')
    expect(doc.notIncluded.map((n) => n.what)).toContain('Sensor secrets')
  })

  test('raw readings: all of them, or none (the daily summary stays complete)', async () => {
    const all = (await exportOf(H9, '?rawReadings=all')).json<SubjectAccessExport>()
    expect([all.sensorReadings.raw.count, all.sensorReadings.raw.from]).toEqual([5, null])
    const none = (await exportOf(H9, '?rawReadings=none')).json<SubjectAccessExport>()
    expect([none.sensorReadings.raw.count, none.sensorReadings.total]).toEqual([0, 5])
    const week = (await exportOf(H9, '?rawDays=7')).json<SubjectAccessExport>()
    expect(week.sensorReadings.raw.count).toBe(3)
    expect((await exportOf(H9, '?rawReadings=some')).statusCode).toBe(400)
  })

  test('the export itself is written to the audit log', async () => {
    const { rows } = await db.query<{ action: string }>(`SELECT action FROM audit_log WHERE uprn = $1 ORDER BY id`, [H9])
    expect(rows.map((r) => r.action)).toContain('GET /api/v1/households/:uprn/subject-access')
  })
})

describe('erasure on request', () => {
  test('refuses what it cannot take: wrong role, unknown household, a case reference with free text', async () => {
    const post = (uprnOf: number, payload: unknown, headers = admin) => app.inject({ method: 'POST', url: `/api/v1/households/${uprnOf}/erasure`, headers, payload: payload as object })
    expect((await post(H9, {}, { authorization: `Bearer ${crm}` })).statusCode).toBe(403)
    expect((await post(999_999_999_999, {})).statusCode).toBe(404)
    expect((await post(H9, { requestRef: 'Mrs Quartermaine asked' })).statusCode).toBe(400)
    expect((await post(H9, { reason: 'x' })).statusCode).toBe(400)
    expect(await counts()).toMatchObject({ reports: 8 })
    expect((await db.query(`SELECT count(*)::int AS n FROM erasure_records`)).rows[0]).toEqual({ n: 0 })
  })

  test('erases the personal data, keeps a record without it, and leaves performance figures and counts unchanged', async () => {
    const before = { performance: await performance(), counts: await counts() }
    expect(before.counts).toMatchObject({ reports: 8, readings: 5, lifts: 1, points: 35, events: 1 })
    expect(before.performance.figures.contract).toMatchObject({ contractId: 'K' })
    expect(before.performance.source.liveDays).toBe(0)

    const res = await app.inject({
      method: 'POST', url: `/api/v1/households/${H9}/erasure`, headers: admin,
      payload: { requestRef: 'DSR-2026-0042', includeAssistedCollection: true, contact: { email: 'PQ.Resident@example.org' } },
    })
    expect(res.statusCode).toBe(200)
    const result = res.json()
    expect(result.record).toMatchObject({
      uprn: H9, actor: 'bootstrap', role: 'admin', requestRef: 'DSR-2026-0042',
      erased: { reportContacts: 2, contactsOnOtherReports: 1, reportFreeText: 2, crmReference: 1, crmEventReferences: 1, assistedCollection: 1 },
    })
    expect(result.kept.length).toBeGreaterThan(0)
    expect(result.notes.join(' ')).toMatch(/registry import/)
    // The record of the erasure holds none of what was erased.
    const stored = JSON.stringify((await db.query(`SELECT * FROM erasure_records`)).rows)
    for (const value of [...PERSONAL, 'PQ.Resident']) expect(stored).not.toContain(value)

    // The export now holds no personal data: no reporter, no free text, no CRM reference.
    const after = (await exportOf(H9, '?rawReadings=all')).json<SubjectAccessExport>()
    const text = JSON.stringify(after)
    for (const value of PERSONAL) expect(text).not.toContain(value)
    expect(after.missedReports.items.map((r) => [r.contact, r.description, r.binLocationNote, r.mediaUrl])).toEqual([[null, null, null, null], [null, null, null, null]])
    expect(after.household.record).toMatchObject({ crmRef: null, assisted: false })
    expect(after.crmEvents.items[0]!.crmRef).toBeNull()
    expect(after.erasures.items).toEqual([result.record])
    expect(after.accessLog.items.map((e) => e.action)).toContain('POST /api/v1/households/:uprn/erasure')
    // …nor about the neighbour's report that the same person made.
    const neighbour = (await exportOf(H4)).json<SubjectAccessExport>()
    expect(neighbour.missedReports.items.map((r) => r.contact)).toEqual([null])

    // What describes the property and its service is whole: the same KPIs, points and deduction,
    // live over the days the erasure touched and again once they are rolled up.
    expect(await counts()).toEqual(before.counts)
    const live = await performance()
    expect(live.source.liveDays).toBeGreaterThan(0) // the reports' days were marked for recomputation
    expect(live.figures).toEqual(before.performance.figures)
    await refreshRollup(db, { now: new Date(), ensure: MARCH })
    expect(await performance()).toEqual(before.performance)
    expect(after.sensorReadings.total).toBe(5)
    expect(after.collections.items).toHaveLength(3)
    expect(after.rewards.balance).toBe(35)
  })

  test('erasing again finds nothing more, and both erasures are listed for re-applying after a restore', async () => {
    const again = (await app.inject({ method: 'POST', url: `/api/v1/households/${H9}/erasure`, headers: admin, payload: {} })).json()
    expect(again.record.erased).toEqual({ reportContacts: 0, reportFreeText: 0, crmReference: 0, crmEventReferences: 0 })
    const list = (await app.inject({ method: 'GET', url: `/api/v1/privacy/erasures?uprn=${H9}`, headers: admin })).json<{ erasureId: number }[]>()
    expect(list.map((e) => e.erasureId)).toEqual([again.record.erasureId - 1, again.record.erasureId])
  })
})
