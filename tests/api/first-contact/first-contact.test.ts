// GET /api/v1/households/{uprn}/first-contact on hand-made cases: every verdict, the reporting
// window's edges (GMT, BST, across Easter), the evidence timeline and what to tell the resident.
// `at` pins the instant, so the answers do not depend on today's date.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Registry } from 'prom-client'
import { silentLogger } from '../../../core/log.ts'
import { buildApi, type Api } from '../../../api/build-api.ts'
import type { FirstContactAnswer } from '../../../analysis/first-contact/schema.ts'
import { createApiKey } from '../../../storage/api-keys.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { lifts, position, reading, REGISTRATION, schedule, seedStreet, UPRNS } from '../../analysis/outcomes/fixture.ts'
import { answerSchema, type OpenApiDoc } from '../../helpers/openapi.ts'

const ADMIN = 'ks_admin000000_FCFCFCFCFCFCFCFCFCFCFCFCFCFCFCFCFCFCFCFCFCF'
let db: Database
let app: Api
let crm: string
let viewer: string

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  await seedStreet(db)
  app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN })
  crm = (await createApiKey(db, 'contact centre', 'crm')).key
  viewer = (await createApiKey(db, 'wallboard', 'viewer')).key
  // Monday 16 March 2026 (GMT): number 1 emptied, 3 not put out, 5 emptied at noon; 2 and 4 passed by.
  await schedule(db, '2026-03-16')
  await schedule(db, '2026-03-23')
  await lifts(db, [
    { at: '2026-03-16T08:00:00Z', household: 0, weightKg: 12.5, metresAway: 6 },
    { at: '2026-03-16T08:10:00Z', household: 2, outcome: 'not_presented' },
    { at: '2026-03-16T12:00:00Z', household: 4 },
  ])
  await position(db, '2026-03-16T07:59:00Z', 2)
  await position(db, '2026-03-16T08:50:00Z', 100)
  await reading(db, '2026-03-16T06:00:00Z', 81)
  await reading(db, '2026-03-16T09:00:00Z', 3)
  // Thursday 2 April 2026 (BST, before Easter), and Easter Monday's collection moved to Tuesday 7 April.
  await schedule(db, '2026-04-02')
  await schedule(db, '2026-04-07', '2026-04-06')
})
afterAll(async () => {
  await app?.close()
  await db?.close()
})

async function check(uprn: number, query: Record<string, string>, key = crm): Promise<FirstContactAnswer> {
  const res = await app.inject({ url: `/api/v1/households/${uprn}/first-contact?${new URLSearchParams({ stream: 'residual', ...query })}`, headers: { authorization: `Bearer ${key}` } })
  expect(res.statusCode, res.body).toBe(200)
  return res.json() as FirstContactAnswer
}

describe('verdicts', () => {
  test('collected: when, weight, distance, which vehicle; the timeline shows the sensor emptied', async () => {
    const a = await check(UPRNS[0], { date: '2026-03-16', at: '2026-03-16T18:00:00Z' })
    expect(a).toMatchObject({ verdict: 'collected', valid: false, windowSide: null, nextCollection: '2026-03-23' })
    expect(a.collected).toEqual({ at: '2026-03-16T08:00:00.000Z', vehicleId: 'rcv-t1', registration: REGISTRATION, weightKg: 12.5, distanceM: expect.closeTo(6, 0), onDueDate: true })
    expect(a.reason).toBe(`the bin was emptied at 08:00 on Mon 16 Mar by ${REGISTRATION}, 6 m from the property`)
    expect(a.nextAction).toEqual({ action: 'none', deadline: null, tell: expect.stringContaining('emptied at 08:00 on Mon 16 Mar by vehicle KB26 TST, 6 m from your property') })
    const kinds = a.timeline.map((e) => e.kind)
    expect(kinds).toEqual(expect.arrayContaining(['scheduled', 'vehicle_nearest', 'lift', 'reading', 'window_opens', 'window_closes']))
    expect(a.timeline.filter((e) => e.kind === 'reading').map((e) => e.summary)).toEqual(['Bin sensor: 81% full', 'Bin sensor: 3% full'])
    expect(a.timeline.map((e) => e.at)).toEqual([...a.timeline.map((e) => e.at)].sort())
  })

  test('crew exception: which code and when; the resident is told to put it out for the next collection', async () => {
    const a = await check(UPRNS[2], { date: '2026-03-16', at: '2026-03-16T18:00:00Z' })
    expect(a).toMatchObject({ verdict: 'crew_exception', valid: false, exception: { code: 'not_presented', at: '2026-03-16T08:10:00.000Z', registration: REGISTRATION } })
    expect(a.nextAction).toMatchObject({ action: 'resident_action', deadline: '2026-03-23T07:00:00.000Z' })
    expect(a.nextAction.tell).toContain('recorded that the bin was not put out')
  })

  test('genuine miss: valid, with the return visit due by 17:00 on the next working day', async () => {
    const a = await check(UPRNS[1], { date: '2026-03-16', at: '2026-03-16T18:00:00Z' })
    expect(a).toMatchObject({ verdict: 'genuine_miss', valid: true, collected: null, exception: null })
    expect(a.nextAction).toEqual({ action: 'return_visit', deadline: '2026-03-17T17:00:00.000Z', tell: expect.stringContaining('A crew will return to empty it by Tue 17 Mar 17:00') })
  })

  test('round in progress: where the vehicle is, and how many stops before this household', async () => {
    const a = await check(UPRNS[4], { date: '2026-03-16', at: '2026-03-16T09:00:00Z' })
    expect(a).toMatchObject({ verdict: 'round_in_progress', valid: false, windowSide: null })
    expect(a.progress).toMatchObject({ vehicleId: 'rcv-t1', registration: REGISTRATION, liftsToday: 2, stopsBefore: 1, passed: false, lastLiftAt: '2026-03-16T08:10:00.000Z' })
    expect(a.progress!.lastSeen).toMatchObject({ at: '2026-03-16T08:50:00.000Z', distanceM: 100 })
    expect(a.nextAction).toMatchObject({ action: 'wait', deadline: '2026-03-16T16:00:00.000Z' })
  })

  test('a household the crew has passed is not "in progress": before 16:00 the report is too early', async () => {
    const a = await check(UPRNS[1], { date: '2026-03-16', at: '2026-03-16T09:00:00Z' })
    expect(a).toMatchObject({ verdict: 'outside_reporting_window', windowSide: 'too_early', valid: false })
    expect(a.nextAction).toMatchObject({ action: 'wait', deadline: '2026-03-16T16:00:00.000Z' })
  })

  test('not scheduled: no collection that day, and when the next one is', async () => {
    const a = await check(UPRNS[1], { date: '2026-03-17', at: '2026-03-17T18:00:00Z' })
    expect(a).toMatchObject({ verdict: 'not_scheduled', valid: false, collection: null, nextCollection: '2026-03-23' })
    expect(a.nextAction.tell).toBe('There was no general waste collection due at this address on Tue 17 Mar; your next collection is on Mon 23 Mar.')
    const garden = await check(UPRNS[1], { stream: 'garden', at: '2026-03-17T18:00:00Z' })
    expect(garden).toMatchObject({ verdict: 'not_scheduled', nextCollection: null })
  })

  test('without a date: the latest collection due on or before the day', async () => {
    const a = await check(UPRNS[1], { at: '2026-03-18T09:00:00Z' })
    expect(a.collection).toMatchObject({ dueDate: '2026-03-16', roundId: 'res-mon-t' })
    expect(a.verdict).toBe('genuine_miss')
  })

  test('a collection moved by a bank holiday is found by the day the resident knows', async () => {
    const a = await check(UPRNS[1], { date: '2026-04-06', at: '2026-04-06T18:00:00Z' })
    expect(a.collection).toMatchObject({ scheduledDate: '2026-04-06', dueDate: '2026-04-07', movedFrom: '2026-04-06' })
    expect(a).toMatchObject({ verdict: 'outside_reporting_window', windowSide: 'too_early' })
  })
})

describe('the reporting window', () => {
  test('opens at 16:00 on the collection day (GMT)', async () => {
    expect((await check(UPRNS[1], { date: '2026-03-16', at: '2026-03-16T15:59:59Z' })).windowSide).toBe('too_early')
    expect((await check(UPRNS[1], { date: '2026-03-16', at: '2026-03-16T16:00:00Z' })).verdict).toBe('genuine_miss')
  })

  test('closes at the end of the third working day after it', async () => {
    const open = await check(UPRNS[1], { date: '2026-03-16', at: '2026-03-20T00:00:00Z' })
    expect(open).toMatchObject({ verdict: 'genuine_miss', window: { opensAt: '2026-03-16T16:00:00.000Z', closesAt: '2026-03-20T00:00:00.000Z' } })
    const late = await check(UPRNS[1], { date: '2026-03-16', at: '2026-03-20T00:00:01Z' })
    expect(late).toMatchObject({ verdict: 'outside_reporting_window', windowSide: 'too_late', valid: false })
    expect(late.nextAction).toMatchObject({ action: 'next_collection', deadline: '2026-03-23T07:00:00.000Z' })
    expect(late.nextAction.tell).toContain('by the end of Thu 19 Mar')
  })

  test('in BST and across Easter: Thursday 2 April\'s window opens 16:00 BST and closes at midnight BST after Thursday 9 April', async () => {
    const a = await check(UPRNS[1], { date: '2026-04-02', at: '2026-04-09T22:59:00Z' })
    expect(a.window).toEqual({ opensAt: '2026-04-02T15:00:00.000Z', closesAt: '2026-04-09T23:00:00.000Z' })
    expect(a.verdict).toBe('genuine_miss')
    expect((await check(UPRNS[1], { date: '2026-04-02', at: '2026-04-09T23:00:01Z' })).windowSide).toBe('too_late')
    expect((await check(UPRNS[1], { date: '2026-04-02', at: '2026-04-02T14:59:00Z' })).windowSide).toBe('too_early')
    // Reported on the Thursday evening: back by Tuesday 7 April, 17:00 BST (Good Friday to Easter Monday are not working days).
    expect((await check(UPRNS[1], { date: '2026-04-02', at: '2026-04-02T18:00:00Z' })).nextAction.deadline).toBe('2026-04-07T16:00:00.000Z')
  })
})

describe('access and input', () => {
  test('roles crm, contract_manager and admin; others are refused', async () => {
    const manager = (await createApiKey(db, 'manager', 'contract_manager')).key
    await check(UPRNS[0], { at: '2026-03-16T18:00:00Z' }, manager)
    await check(UPRNS[0], { at: '2026-03-16T18:00:00Z' }, ADMIN)
    const refused = await app.inject({ url: `/api/v1/households/${UPRNS[0]}/first-contact?stream=residual`, headers: { authorization: `Bearer ${viewer}` } })
    expect(refused.statusCode).toBe(403)
    expect((await app.inject({ url: `/api/v1/households/${UPRNS[0]}/first-contact?stream=residual` })).statusCode).toBe(401)
  })

  test('unknown UPRN is 404; a bad stream or date is 400', async () => {
    const get = (path: string) => app.inject({ url: path, headers: { authorization: `Bearer ${crm}` } })
    const missing = await get('/api/v1/households/999999999999/first-contact?stream=residual')
    expect(missing.statusCode).toBe(404)
    expect(missing.json()).toMatchObject({ code: 'KERBSIDE_ERR_NOT_FOUND' })
    expect((await get(`/api/v1/households/${UPRNS[0]}/first-contact?stream=paper`)).statusCode).toBe(400)
    expect((await get(`/api/v1/households/${UPRNS[0]}/first-contact?stream=residual&date=2026-02-30`)).statusCode).toBe(400)
  })

  test('every check is written to the household audit log', async () => {
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log WHERE action LIKE '%first-contact%' AND uprn = $1`, [UPRNS[2]])
    expect(rows[0]!.n).toBeGreaterThanOrEqual(1)
  })

  // The schema may sit in the operation or in components (unused components are dropped, api/openapi-document.ts).
  test('the answer\'s schema is in the OpenAPI document', async () => {
    const doc = (await app.inject({ url: '/docs/json' })).json() as OpenApiDoc
    expect(Object.keys(answerSchema(doc, '/api/v1/households/{uprn}/first-contact').properties ?? {})).toEqual(expect.arrayContaining(['verdict']))
  })
})
