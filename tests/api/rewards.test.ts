// The reward scheme's API: roles (401 without a key, 403 for the wrong role), a household's balance
// and ledger (an audited household read), the ward leaderboard, the rules and a manual posting.
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { buildApi, type Api } from '../../api/build-api.ts'
import { silentLogger } from '../../core/log.ts'
import { createApiKey } from '../../storage/api-keys.ts'
import type { Database } from '../../storage/database.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { postRewards } from '../../analysis/rewards/ledger.ts'
import { DEFAULT_REWARD_RULES } from '../../analysis/rewards/rules.ts'
import { COUNCIL_RULES, seedTown, U } from '../analysis/rewards/fixture.ts'

const ADMIN = 'admin-key-of-the-rewards-test-0123'
let db: Database
let app: Api
const keys: Record<string, string> = {}
const call = (method: 'GET' | 'PUT' | 'POST', url: string, key?: string, body?: unknown) =>
  app.inject({ method, url, headers: key ? { authorization: `Bearer ${key}` } : {}, ...(body === undefined ? {} : { payload: body as object }) })
const audited = async (uprn: number) => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log WHERE uprn = $1`, [uprn])).rows[0]!.n

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN })
  await seedTown(db)
  await postRewards(db, { from: '2026-01', now: new Date('2026-04-10T09:00:00Z') })
  for (const role of ['crm', 'contract_manager', 'viewer', 'provisioning'] as const) keys[role] = (await createApiKey(db, `${role} system`, role)).key
  keys.admin = ADMIN
})
afterAll(async () => { await app?.close(); await db?.close() })

describe('a household\'s rewards', () => {
  test('balance, points per month and the ledger, newest first and paged; the read is audited', async () => {
    const before = await audited(U.E)
    const res = await call('GET', `/api/v1/households/${U.E}/rewards?limit=2`, keys.crm)
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body).toMatchObject({ uprn: U.E, balance: 1000, total: 10, limit: 2, offset: 0 })
    expect(body.periods).toEqual([{ period: '2026-03', points: 200 }, { period: '2026-02', points: 400 }, { period: '2026-01', points: 400 }])
    expect(body.entries.map((e: { rule: string; points: number }) => [e.rule, e.points])).toEqual([['yearly_cap', -200], ['monthly_cap', -158]])
    expect(body.entries[0]).toMatchObject({ period: '2026-03', kind: 'award', ruleSetVersion: expect.any(Number), evidence: { cap: 1000, earnedEarlierInYear: 800 } })
    expect(await audited(U.E)).toBe(before + 1)

    const page2 = (await call('GET', `/api/v1/households/${U.E}/rewards?limit=2&offset=2&period=2026-03`, keys.contract_manager)).json()
    expect(page2).toMatchObject({ total: 4, offset: 2 })
    expect(page2.entries.map((e: { rule: string }) => e.rule)).toEqual(['presentation', 'recycled_weight'])
  })

  test('401 without a key, 403 for other roles, 404 for an unknown household', async () => {
    expect((await call('GET', `/api/v1/households/${U.A}/rewards`)).statusCode).toBe(401)
    for (const role of ['viewer', 'provisioning']) {
      const res = await call('GET', `/api/v1/households/${U.A}/rewards`, keys[role])
      expect(res.statusCode).toBe(403)
      expect(res.json().code).toBe('KERBSIDE_ERR_FORBIDDEN')
    }
    expect((await call('GET', `/api/v1/households/${U.A}/rewards`, keys.admin)).statusCode).toBe(200)
    expect((await call('GET', '/api/v1/households/999999999999/rewards', keys.crm)).statusCode).toBe(404)
  })
})

describe('ward leaderboard', () => {
  test('for viewers, contract managers and the CRM; wards only, no personal data', async () => {
    for (const role of ['viewer', 'contract_manager', 'crm', 'admin']) {
      const res = await call('GET', '/api/v1/rewards/leaderboard?period=2026-03', keys[role])
      expect(res.statusCode).toBe(200)
      const body = res.json()
      expect(body.wards.map((w: { ward: string; totalPoints: number }) => [w.ward, w.totalPoints])).toEqual([['South', 200], ['North', 458]])
      expect(res.body).not.toMatch(/2000000000\d\d|Test Road|CRM-/)
    }
    expect((await call('GET', '/api/v1/rewards/leaderboard?period=2026-03', keys.provisioning)).statusCode).toBe(403)
    expect((await call('GET', '/api/v1/rewards/leaderboard')).statusCode).toBe(401)
    expect((await call('GET', '/api/v1/rewards/leaderboard?period=2026-13', keys.viewer)).statusCode).toBe(400)
  })
})

describe('rules', () => {
  test('admin only; shows the rules in force for a month and contract, and every version', async () => {
    expect((await call('GET', '/api/v1/rewards/rules', keys.crm)).statusCode).toBe(403)
    const council = (await call('GET', '/api/v1/rewards/rules?period=2026-03', keys.admin)).json()
    expect(council.inForce).toMatchObject({ period: '2026-03', source: 'council', contractId: null, effectiveFrom: '2026-01', rules: COUNCIL_RULES })
    expect(council.defaults).toEqual(DEFAULT_REWARD_RULES)
    expect(council.versions).toHaveLength(2)
    const k2 = (await call('GET', '/api/v1/rewards/rules?period=2026-03&contractId=K2', keys.admin)).json()
    expect(k2.inForce).toMatchObject({ source: 'contract', contractId: 'K2', rules: { caps: { yearly: 1000 } } })
    const old = (await call('GET', '/api/v1/rewards/rules?period=2025-12', keys.admin)).json()
    expect(old.inForce).toMatchObject({ source: 'default', versionId: null })
  })

  test('PUT records a new version from a month; invalid rules and unknown contracts are refused', async () => {
    const rules = { ...COUNCIL_RULES, recycling: { streams: ['recycling', 'glass', 'food'], pointsPerKg: 4 } }
    const res = await call('PUT', '/api/v1/rewards/rules', keys.admin, { effectiveFrom: '2026-06', rules })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ contractId: null, effectiveFrom: '2026-06', rules, createdBy: 'bootstrap' })
    expect((await call('GET', '/api/v1/rewards/rules?period=2026-06', keys.admin)).json().inForce.rules.recycling.pointsPerKg).toBe(4)
    expect((await call('GET', '/api/v1/rewards/rules?period=2026-05', keys.admin)).json().inForce.rules.recycling.pointsPerKg).toBe(5.5)

    expect((await call('PUT', '/api/v1/rewards/rules', keys.admin, { rules: { ...rules, caps: { monthly: -1, yearly: 10, yearStartsInMonth: 4 } } })).statusCode).toBe(400)
    expect((await call('PUT', '/api/v1/rewards/rules', keys.admin, { rules: { ...rules, surprise: true } })).statusCode).toBe(400)
    const unknown = await call('PUT', '/api/v1/rewards/rules', keys.admin, { contractId: 'NOPE', rules })
    expect(unknown.statusCode).toBe(400)
    expect(unknown.json().message).toMatch(/No contract NOPE/)
    expect((await call('PUT', '/api/v1/rewards/rules', keys.contract_manager, { rules })).statusCode).toBe(403)
  })

  test('posting a month by hand adds nothing when nothing changed; a month not over is refused', async () => {
    const res = await call('POST', '/api/v1/rewards/periods/2026-03/post', keys.admin)
    expect(res.statusCode).toBe(200)
    expect(res.json()[0]).toMatchObject({ period: '2026-03', entries: 0, events: 0 })
    const future = await call('POST', '/api/v1/rewards/periods/2099-01/post', keys.admin)
    expect(future.statusCode).toBe(409)
    expect(future.json().code).toBe('KERBSIDE_ERR_REWARD_PERIOD')
    expect((await call('POST', '/api/v1/rewards/periods/2026-03/post', keys.crm)).statusCode).toBe(403)
  })
})

test('the OpenAPI document lists the routes and their schemas', async () => {
  const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } }
  expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/households/{uprn}/rewards', '/api/v1/rewards/leaderboard', '/api/v1/rewards/rules', '/api/v1/events']))
  expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['RewardRules', 'HouseholdRewards', 'RewardLedgerEntry', 'RewardLeaderboard', 'CrmEvent', 'CrmEventPage']))
})
