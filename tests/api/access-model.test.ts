// The access model (api/access-model.ts) against the running API, for issue 19: every operation of
// the OpenAPI document is called with every kind of credential — none, a made-up key, admin, each
// role's API key, and dashboard sessions — and each answer is compared with the model: the status
// (401/403 where the model refuses, never where it allows) and which personal fields are present
// (none the role may not see; every one it may see, where the seeded city has them). Every answer
// that carries personal data must have written an audit entry. Any difference fails, with all of
// them listed.
import { Registry } from 'prom-client'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { buildApi, type Api } from '../../api/build-api.ts'
import { ACCESS_MODEL, carriesPersonalData, keylessHiddenFields, mayCall, personalFieldsFor } from '../../api/access-model.ts'
import { silentLogger } from '../../core/log.ts'
import { createApiKey, type Role } from '../../storage/api-keys.ts'
import { emitReportClosed } from '../../storage/crm-outbox.ts'
import type { Database } from '../../storage/database.ts'
import { provisionDevice } from '../../storage/devices.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { importRegistry } from '../../storage/registry/import.ts'
import { createUser } from '../../storage/users.ts'
import { smallCity, UPRN0 } from '../storage/registry/fixture.ts'

const ADMIN = 'admin-key-for-the-access-model-test-0'
const ROLES = ['contract_manager', 'crm', 'provisioning', 'viewer'] as const
/** Names that are personal data wherever they appear: an answer carrying one the model does not list for the route fails. */
const ALWAYS_PERSONAL = ['uprn', 'crmRef', 'assisted', 'rfidTag', 'address_id', 'media_url', 'account_id', 'email', 'phone', 'first_name', 'last_name']
/** A household the mutating calls may name (they are made to fail after the access check, but just in case). */
const SPARE_UPRN = UPRN0 + 5

interface Credential { name: string; role: Role | null; headers: Record<string, string>; valid: boolean }
interface Parameter { name: string; in: string; required?: boolean; schema?: { format?: string; type?: string } }
interface Operation { parameters?: Parameter[]; requestBody?: { content: Record<string, unknown> } }

let db: Database
let app: Api
const credentials: Credential[] = []
const fixture: Record<string, string> = {}

async function login(role: Role): Promise<string> {
  const { password } = await createUser(db, { username: `user-${role}`, displayName: `Test ${role}`, role })
  const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: `user-${role}`, password } })
  return (res.json() as { token: string }).token
}

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN, rateLimitPerMinute: 1_000_000 })
  expect((await importRegistry(db, smallCity(6))).ok).toBe(true)
  await provisionDevice(db, { deviceId: 'sensor-1', kind: 'bin', binId: 'b-1-r' })
  const now = Date.now()
  for (let i = 0; i < 3; i++) {
    await db.query(`INSERT INTO bin_readings (ts, device_id, seq, bin_id, uprn, fill_pct) VALUES ($1, 'sensor-1', $2, 'b-1-r', $3, 40)`, [new Date(now - (i + 1) * 3_600_000).toISOString(), i + 1, UPRN0])
  }
  credentials.push({ name: 'no credentials', role: null, headers: {}, valid: false })
  credentials.push({ name: 'made-up key', role: null, headers: { authorization: `Bearer ks_${'a'.repeat(12)}_${'b'.repeat(43)}` }, valid: false })
  credentials.push({ name: 'admin', role: 'admin', headers: { authorization: `Bearer ${ADMIN}` }, valid: true })
  for (const role of ROLES) credentials.push({ name: `${role} key`, role, headers: { authorization: `Bearer ${(await createApiKey(db, role, role)).key}` }, valid: true })
  for (const role of ['crm', 'viewer'] as const) credentials.push({ name: `${role} session`, role, headers: { authorization: `Bearer ${await login(role)}` }, valid: true })

  // A missed-bin report with the reporter's words and photo, closed, so that the CRM has an event.
  const crm = credentials.find((c) => c.name === 'crm key')!
  const filed = await app.inject({
    method: 'POST', url: '/open311/v2/requests.json', headers: { ...crm.headers, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ service_code: 'missed_residual', address_id: String(UPRN0), description: 'my neighbour at number 6 has the key safe code', media_url: 'https://example.org/bin.jpg', email: 'resident@example.org' }).toString(),
  })
  expect(filed.statusCode, filed.body).toBe(200)
  const reportId = Number((filed.json() as { service_request_id: string }[])[0]!.service_request_id)
  await db.query(`UPDATE missed_reports SET status = 'closed', closed_at = now() WHERE report_id = $1`, [reportId])
  await emitReportClosed(db, reportId)

  const entities = await app.inject({ method: 'GET', url: '/ngsi-ld/v1/entities?type=WasteContainer&limit=1', headers: { authorization: `Bearer ${ADMIN}` } })
  Object.assign(fixture, {
    deviceId: 'sensor-1', uprn: String(UPRN0), roundId: 'mon-res', contractId: 'k1', binId: 'b-1-r', service_code: 'missed_residual',
    service_request_id: String(reportId), entityId: (entities.json() as { id: string }[])[0]!.id, format: 'json', collectionId: '999999',
    keyId: 'nosuchkey', username: 'nobody', originalDate: '2030-01-07', period: '2020-01', id: '999999',
  })
})
afterAll(async () => { await app?.close(); await db?.close() })

/** A value for a required query parameter, so that allowed calls get past validation. */
function queryValue(route: string, p: Parameter): string {
  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000)
  if (p.name === 'from') return p.schema?.format === 'date' ? day(-30).toISOString().slice(0, 10) : day(-30).toISOString()
  if (p.name === 'to') return p.schema?.format === 'date' ? day(1).toISOString().slice(0, 10) : day(1).toISOString()
  if (p.name === 'q') return route.includes('households') ? 'Test Street' : 'x'
  if (p.name === 'type') return 'WasteContainer'
  if (p.name === 'after') return '0'
  if (p.name === 'month' || p.name === 'period') return new Date().toISOString().slice(0, 7)
  if (p.schema?.type === 'integer' || p.schema?.type === 'number') return '1'
  return 'x'
}

function requestFor(path: string, method: string, op: Operation): { url: string; body?: string; contentType?: string } {
  const mutating = method !== 'get'
  let url = path.replace(/\{([^}]+)\}/g, (_m, name: string) => encodeURIComponent(name === 'uprn' && mutating ? String(SPARE_UPRN) : fixture[name] ?? 'x'))
  const q = new URLSearchParams()
  for (const p of op.parameters ?? []) if (p.in === 'query' && p.required) q.set(p.name, queryValue(path, p))
  if (path === '/ngsi-ld/v1/entities') q.set('type', 'WasteContainer')
  if (q.size > 0) url += `?${q}`
  if (!mutating) return { url }
  const form = op.requestBody?.content['application/x-www-form-urlencoded']
  return form ? { url, body: '', contentType: 'application/x-www-form-urlencoded' } : { url, body: '{}', contentType: 'application/json' }
}

/** Every property name in a JSON value that has a value (a null gives nothing away). */
function keysIn(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) keysIn(v, into)
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (v !== null) into.add(k)
      keysIn(v, into)
    }
  }
  return into
}

const auditCount = async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log`)).rows[0]!.n

/** (route, role) pairs whose personal fields the seeded city cannot show, with the reason. */
const NO_ROWS_IN_FIXTURE: Record<string, string> = {
  'GET /api/v1/map/overview': 'the fixture has no bin raising an alert and no recent lift',
  'GET /api/v1/audit': 'empty until something is read, and the walk reads it early',
  'GET /api/v1/privacy/erasures': 'no erasure has been made',
  'GET /api/v1/events/webhooks/dead-letters': 'no webhook is configured',
  'GET /api/v1/contracts/:contractId/why-missed': 'no collection has an outcome yet',
  'GET /api/v1/contracts/:contractId/collections': 'no collection has an outcome yet',
  'GET /api/v1/proactive/misses': 'no proactive miss has been raised',
  'GET /api/v1/proactive/misses/:collectionId': 'no proactive miss has been raised',
  'POST /api/v1/proactive/misses/:collectionId/confirm': 'called with a collection that does not exist',
  'POST /api/v1/proactive/misses/:collectionId/withdraw': 'called with a collection that does not exist',
  'GET /api/v1/returns': 'no return collection is open',
  'GET /api/v1/proactive/patterns': 'no misses',
  'GET /api/v1/forecasts/bins': 'no forecast has been computed',
  'GET /api/v1/forecasts/bins/:binId': 'no forecast has been computed',
  'POST /open311/v2/requests.:format': 'called with an empty form (400)',
  'GET /api/v1/households/:uprn/rewards': 'the UPRN is in the path; the answer has it only once a ledger entry exists',
}

test('every operation × every credential answers as the access model says, and every personal-data read is audited', async () => {
  const doc = app.swagger() as { paths: Record<string, Record<string, Operation>> }
  const differences: string[] = []
  let calls = 0
  let audited = 0
  const unmodelled: string[] = []
  // Signing out last: it ends the sessions the other calls use.
  const paths = Object.entries(doc.paths).sort(([a], [b]) => Number(a === '/api/v1/auth/logout') - Number(b === '/api/v1/auth/logout'))
  for (const [path, ops] of paths) {
    for (const [method, op] of Object.entries(ops)) {
      const key = `${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`
      const model = ACCESS_MODEL[key]
      if (!model) { unmodelled.push(key); continue }
      const refusal = path.startsWith('/open311/') ? [403] : [401]
      for (const [i, cred] of credentials.entries()) {
        const r = requestFor(path, method, op)
        const before = await auditCount()
        const res = await app.inject({
          method: method.toUpperCase() as 'GET', url: r.url, payload: r.body,
          // a made-up key from its own address each time, so the unknown-key throttle never answers instead
          remoteAddress: cred.name === 'made-up key' ? `198.51.100.${(calls % 250) + 1}` : `192.0.2.${i + 1}`,
          headers: { ...cred.headers, ...(r.contentType ? { 'content-type': r.contentType } : {}) },
        })
        calls++
        const label = `${key} as ${cred.name}: ${res.statusCode}`
        const keyless = model.keyless === true && cred.name === 'no credentials'
        const allowed = model.roles === 'public' || keyless || (cred.valid && mayCall(model, cred.role))
        if (allowed && (res.statusCode === 401 || res.statusCode === 403)) differences.push(`${label}, but the model allows it`)
        if (!allowed) {
          const expected = model.roles === 'webhook' ? [401] : cred.valid ? [403] : refusal
          if (!expected.includes(res.statusCode)) differences.push(`${label}, the model refuses it (expected ${expected.join('/')})`)
        }
        if (res.statusCode >= 500) differences.push(`${label}: a server error`)
        if (keyless && res.statusCode < 300) {
          const present = keysIn(res.json())
          for (const f of [...keylessHiddenFields(model), ...ALWAYS_PERSONAL]) if (present.has(f)) differences.push(`${label}: carries ${f} without a key`)
        }
        if (!allowed || res.statusCode >= 300 || !cred.role || !String(res.headers['content-type'] ?? '').includes('json')) continue

        const present = keysIn(res.json())
        const { shown, hidden } = personalFieldsFor(model, cred.role)
        for (const f of hidden) if (present.has(f)) differences.push(`${label}: carries ${f}, which the model hides from ${cred.role}`)
        for (const f of ALWAYS_PERSONAL) if (present.has(f) && !shown.includes(f)) differences.push(`${label}: carries ${f}, which the model does not list for this route and role`)
        if (!NO_ROWS_IN_FIXTURE[key]) for (const f of shown) if (!present.has(f)) differences.push(`${label}: lacks ${f}, which the model gives ${cred.role}`)

        if (carriesPersonalData(model, cred.role)) {
          audited++
          const written = (await auditCount()) - before
          if (written === 0) differences.push(`${label}: personal data read without an audit entry`)
          // One read, one entry (a registry export wrote two, the first without its row count).
          if (written > 1) differences.push(`${label}: ${written} audit entries for one read`)
          const last = (await db.query<{ rows: number | null }>(`SELECT row_count AS rows FROM audit_log ORDER BY id DESC LIMIT 1`)).rows[0]
          if (model.bulk && written > 0 && last?.rows == null) differences.push(`${label}: a bulk read audited without its row count`)
        }
      }
    }
  }
  console.error(`access model: ${Object.keys(doc.paths).length} paths, ${calls} calls with ${credentials.length} credentials, ${audited} personal-data reads checked for an audit entry, ${differences.length} differences`)
  expect(unmodelled, 'operations missing from api/access-model.ts').toEqual([])
  expect(differences).toEqual([])
  expect(audited).toBeGreaterThan(20)
}, 300_000)

test('the model covers the live feed, which the OpenAPI document does not list as an operation', async () => {
  expect(ACCESS_MODEL['GET /api/v1/live']).toBeDefined()
  // (the sessions were signed out by the walk above)
  for (const cred of credentials.filter((c) => !c.name.endsWith('session'))) {
    const res = await app.inject({ method: 'GET', url: '/api/v1/live', headers: cred.headers, remoteAddress: '192.0.2.200' })
    // Without a WebSocket upgrade an allowed caller gets a 4xx other than 401/403; a refused one 401/403.
    const allowed = cred.valid && mayCall(ACCESS_MODEL['GET /api/v1/live']!, cred.role)
    if (allowed) expect([401, 403], cred.name).not.toContain(res.statusCode)
    else expect(res.statusCode, cred.name).toBe(cred.valid ? 403 : 401)
  }
})
