// Regression: values that passed the schema but not the database were 500s (found by the hostile
// suite, tests/hostile/api-openapi.test.ts): "Infinity" and "1e309" coerced by ajv to Infinity and
// accepted as integers, integers beyond 2^53 that bigint cannot hold, and the NUL character that
// PostgreSQL text cannot hold. Now each is a 400 with a reason, counted in /metrics.
import { Registry } from 'prom-client'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { buildApi, type Api } from '../../api/build-api.ts'
import { unusableValue } from '../../api/plugins/input-guard.ts'
import { silentLogger } from '../../core/log.ts'
import type { Database } from '../../storage/database.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { seedMinimalRegistry } from '../helpers/stack.ts'

const ADMIN = 'admin-key-of-the-input-guard-test-0123'
const registry = new Registry()
let db: Database
let app: Api
beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  await seedMinimalRegistry(db)
  app = await buildApi({ db, logger: silentLogger, registry, adminKey: ADMIN })
})
afterAll(async () => { await app?.close(); await db?.close() })

const auth = { authorization: `Bearer ${ADMIN}` }

test.each([
  ['GET', '/api/v1/devices?limit=Infinity', 'querystring/limit must be a finite number'],
  ['GET', '/api/v1/devices?offset=1e309', 'querystring/offset must be a finite number'],
  ['GET', '/api/v1/households/Infinity', 'params/uprn must be a finite number'],
  ['GET', '/api/v1/events?after=99999999999999999999999', 'querystring/after is too large'],
  ['GET', '/api/v1/households?q=nul%00byte', 'querystring/q must not contain the NUL character'],
  ['DELETE', '/api/v1/keys/nul%00byte', 'params/keyId must not contain the NUL character'],
  ['GET', '/api/v1/rounds/nul%00byte', 'params/roundId must not contain the NUL character'],
] as const)('%s %s is a 400, not a 500', async (method, url, reason) => {
  const res = await app.inject({ method, url, headers: auth })
  expect(res.statusCode).toBe(400)
  expect(res.json()).toMatchObject({ code: 'KERBSIDE_ERR_BAD_VALUE' })
  expect(res.json<{ message: string }>().message).toContain(reason)
})

test('a NUL in a missed-bin report is refused in the Open311 format, not stored and not a 500', async () => {
  const form = new URLSearchParams({ service_code: 'missed_residual', address_id: '100000000001', description: 'gate\u0000open' })
  const res = await app.inject({ method: 'POST', url: '/open311/v2/requests.json', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, payload: form.toString() })
  expect(res.statusCode).toBe(400)
  expect(res.json<{ description: string }[]>()[0]!.description).toContain('NUL')
})

test('refusals are counted by status and code, router refusals too', async () => {
  expect((await app.inject({ method: 'GET', url: `/api/v1/rounds/${'r'.repeat(200)}`, headers: auth })).statusCode).toBe(414)
  const text = await registry.metrics()
  expect(text).toMatch(/kerbside_http_errors_total\{status="400",code="KERBSIDE_ERR_BAD_VALUE"\} [1-9]/)
  expect(text).toMatch(/kerbside_http_errors_total\{status="414",code="FST_ERR_MAX_PARAM_LENGTH"\} 1/)
})

test('unusableValue', () => {
  expect(unusableValue({ a: [1, 2.5, 'x'] }, 'body')).toBeNull()
  expect(unusableValue({ a: [1, Infinity] }, 'body')).toBe('body/a/1 must be a finite number')
  expect(unusableValue({ n: 2 ** 60 }, 'body')).toBe('body/n is too large (beyond ±2^53)')
  expect(unusableValue({ 'k\u0000': 1 }, 'body')).toBe('body has a field name with the NUL character')
})
