// The API's security headers (helmet), CORS (only the configured origins) and rate limits (per
// credential, 429 with a retry hint), as configured in api/build-api.ts.
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { buildApi, type Api } from '../../api/build-api.ts'
import { silentLogger } from '../../core/log.ts'
import { createApiKey } from '../../storage/api-keys.ts'
import type { Database } from '../../storage/database.ts'
import { openDatabase } from '../../storage/open-database.ts'

const ADMIN = 'admin-key-of-the-headers-test-012345'
const CRM_ORIGIN = 'https://crm.council.example'
let db: Database
let app: Api
let closed: Api
let viewer: string

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN, corsOrigins: [CRM_ORIGIN], rateLimitPerMinute: 5 })
  closed = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN })
  viewer = (await createApiKey(db, 'dashboard viewer', 'viewer')).key
})
afterAll(async () => { await app?.close(); await closed?.close(); await db?.close() })

describe('security headers', () => {
  test('on API answers and errors alike', async () => {
    for (const url of ['/healthz', '/api/v1/devices', '/nowhere']) {
      const res = await closed.inject({ method: 'GET', url })
      expect(res.headers['content-security-policy'], url).toContain("default-src 'self'")
      expect(res.headers['content-security-policy'], url).toContain("frame-ancestors 'self'")
      expect(res.headers['x-content-type-options'], url).toBe('nosniff')
      expect(res.headers['x-frame-options'], url).toBe('SAMEORIGIN')
      expect(res.headers['strict-transport-security'], url).toMatch(/max-age=\d{6,}/)
      expect(res.headers['referrer-policy'], url).toBe('no-referrer')
      expect(res.headers['cross-origin-opener-policy'], url).toBe('same-origin')
      expect(res.headers['x-powered-by'], url).toBeUndefined()
    }
  })
})

describe('CORS', () => {
  test('a configured origin is allowed, with a preflight', async () => {
    const res = await app.inject({ method: 'GET', url: '/healthz', headers: { origin: CRM_ORIGIN } })
    expect(res.headers['access-control-allow-origin']).toBe(CRM_ORIGIN)
    const pre = await app.inject({ method: 'OPTIONS', url: '/api/v1/devices', headers: { origin: CRM_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } })
    expect(pre.statusCode).toBe(204)
    expect(pre.headers['access-control-allow-origin']).toBe(CRM_ORIGIN)
    expect(String(pre.headers['access-control-allow-methods'])).toContain('POST')
  })

  test('any other origin gets no CORS grant; with none configured, none at all', async () => {
    const other = await app.inject({ method: 'GET', url: '/healthz', headers: { origin: 'https://evil.example' } })
    expect(other.headers['access-control-allow-origin']).toBeUndefined()
    const pre = await app.inject({ method: 'OPTIONS', url: '/api/v1/devices', headers: { origin: 'https://evil.example', 'access-control-request-method': 'DELETE' } })
    expect(pre.headers['access-control-allow-origin']).toBeUndefined()
    const none = await closed.inject({ method: 'GET', url: '/healthz', headers: { origin: CRM_ORIGIN } })
    expect(none.headers['access-control-allow-origin']).toBeUndefined()
  })
})

describe('rate limits', () => {
  test('per credential: past the limit a 429 with a retry hint; another credential is unaffected; health checks are not limited', async () => {
    const codes: number[] = []
    let last = null as Awaited<ReturnType<Api['inject']>> | null
    for (let i = 0; i < 7; i++) {
      last = await app.inject({ method: 'GET', url: '/api/v1/devices', headers: { authorization: `Bearer ${viewer}` } })
      codes.push(last.statusCode)
    }
    expect(codes).toEqual([200, 200, 200, 200, 200, 429, 429])
    expect(last!.headers['retry-after']).toMatch(/^\d+$/)
    expect(last!.headers['x-ratelimit-limit']).toBe('5')
    expect(last!.json()).toMatchObject({ code: 'KERBSIDE_ERR_RATE_LIMITED' })
    expect((await app.inject({ method: 'GET', url: '/api/v1/devices', headers: { authorization: `Bearer ${ADMIN}` } })).statusCode).toBe(200)
    for (let i = 0; i < 10; i++) expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
  })
})
