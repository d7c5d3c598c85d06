// The access model where the small city of tests/api/access-model.test.ts has no rows to show
// (NO_ROWS_IN_FIXTURE there): repeat misses, an assisted household, a return collection. Regression
// for issue 19 (personal data outside the audited reads): the wallboard's viewer key got, for each
// repeatedly missed household (why-missed) and each return collection, the property's position,
// and for each repeat property (patterns) its assisted flag. Rows about one household now go only
// to the roles that may see households, which get all of their fields (and are audited).
import { Registry } from 'prom-client'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { buildApi, type Api } from '../../api/build-api.ts'
import { silentLogger } from '../../core/log.ts'
import { createApiKey } from '../../storage/api-keys.ts'
import type { Database } from '../../storage/database.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { addCollection, createContract, createHousehold, createRound } from '../helpers/outcome-fixture.ts'

const ADMIN = 'admin-key-for-access-model-outcomes-0'
const K = 'K-ACC'
const MONDAYS = ['2026-03-02', '2026-03-09', '2026-03-16', '2026-03-23']
let db: Database
let app: Api
const keys: Record<string, string> = {}

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN, rateLimitPerMinute: 1_000_000 })
  await createContract(db, K)
  await createRound(db, { roundId: 'RA', contractId: K })
  for (let i = 1; i <= 4; i++) await createHousehold(db, { uprn: 7700 + i, street: 'Acacia Avenue', lat: 53.41 + i / 1000, lon: -2.99, assisted: i === 2, rounds: { RA: i } })
  for (const uprn of [7701, 7702]) for (const due of MONDAYS.slice(0, 3)) await addCollection(db, { uprn, roundId: 'RA', contractId: K, due, outcome: 'missed' })
  const cid = await addCollection(db, { uprn: 7702, roundId: 'RA', contractId: K, due: MONDAYS[3]!, outcome: 'missed' })
  await db.query(
    `INSERT INTO return_collections (collection_id, uprn, stream, bin_id, round_id, contract_id, due_date, source, status, due_by, opened_at)
     VALUES ($1, 7702, 'residual', NULL, 'RA', $2, $3, 'manual', 'open', now() + interval '1 day', now())`, [cid, K, MONDAYS[3]])
  for (const role of ['viewer', 'contract_manager', 'crm'] as const) keys[role] = (await createApiKey(db, role, role)).key
}, 120_000)
afterAll(async () => { await app?.close(); await db?.close() })

const get = async (role: string, url: string) => {
  const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${keys[role]}` } })
  expect(res.statusCode, `${url} as ${role}: ${res.body.slice(0, 300)}`).toBe(200)
  return res.json() as unknown
}

/** Property names with a value in the objects at `at` (a path of property names; arrays are walked through). */
function fieldsAt(value: unknown, at: string[]): Set<string> {
  const out = new Set<string>()
  const walk = (v: unknown, rest: string[]) => {
    if (Array.isArray(v)) { for (const x of v) walk(x, rest); return }
    if (v === null || typeof v !== 'object') return
    const obj = v as Record<string, unknown>
    if (rest.length === 0) { for (const [k, x] of Object.entries(obj)) if (x !== null && x !== undefined) out.add(k); return }
    walk(obj[rest[0]!], rest.slice(1))
  }
  walk(value, at)
  return out
}

const HOUSEHOLD = ['uprn', 'address', 'lat', 'lon', 'assisted']
const range = 'from=2026-03-01&to=2026-03-31'
/** Each read, where its rows about one household are, and which of them (patterns: the property ones, not the streets'). */
const reads: { url: string; at: string[]; fields: string[]; about?: (row: Record<string, unknown>) => boolean }[] = [
  { url: `/api/v1/contracts/${K}/why-missed?${range}`, at: ['repeatHouseholds', 'households'], fields: HOUSEHOLD },
  { url: `/api/v1/proactive/patterns?${range}&contractId=${K}`, at: [], fields: ['uprn', 'address', 'assisted'], about: (row) => row.scope === 'property' },
  { url: `/api/v1/returns?contractId=${K}`, at: [], fields: ['uprn', 'address', 'lat', 'lon'] },
  { url: `/api/v1/contracts/${K}/collections?${range}&kpi=missed`, at: ['items'], fields: ['uprn', 'address'] },
]

function rowsAt(value: unknown, at: string[]): Record<string, unknown>[] {
  let v = value
  for (const k of at) v = (v as Record<string, unknown>)[k]
  return v as Record<string, unknown>[]
}

for (const r of reads) {
  test(`${r.url.split('?')[0]}: no household field for viewer; all of them for contract_manager`, async () => {
    const pick = (answer: unknown) => rowsAt(answer, r.at).filter(r.about ?? (() => true))
    const manager = pick(await get('contract_manager', r.url))
    expect(manager.length).toBeGreaterThan(0)
    const managerFields = fieldsAt(manager, [])
    for (const f of r.fields) expect(managerFields.has(f), `contract_manager lacks ${f}: ${[...managerFields].join(', ')}`).toBe(true)
    const viewer = fieldsAt(pick(await get('viewer', r.url)), [])
    expect(r.fields.filter((f) => viewer.has(f))).toEqual([])
  })
}
