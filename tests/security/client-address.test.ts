// Regression for issue 19 (MEDIUM, client address chosen by the caller): with `trustProxy: true`
// the leftmost X-Forwarded-For was request.ip, so 20 made-up keys "from" an address locked that
// address's real users out, and the audit log recorded a forged address. Now only the proxies
// listed in HTTP_TRUSTED_PROXIES are believed (none by default).
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { buildApi, type Api } from '../../api/build-api.ts'
import { UNKNOWN_CREDENTIALS_PER_MINUTE } from '../../api/plugins/auth.ts'
import { silentLogger } from '../../core/log.ts'
import { loadConfig } from '../../core/config.ts'
import { createApiKey } from '../../storage/api-keys.ts'
import type { Database } from '../../storage/database.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { importRegistry } from '../../storage/registry/import.ts'
import { smallCity, UPRN0 } from '../storage/registry/fixture.ts'

const ADMIN = 'admin-key-for-client-address-tests-0'
const VICTIM = '10.124.0.1'
let db: Database

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  expect((await importRegistry(db, smallCity(2))).ok).toBe(true)
})
afterAll(async () => db?.close())

const build = (trustedProxies?: string[]) => buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN, trustedProxies })
const lastAuditIp = async () => (await db.query<{ ip: string }>(`SELECT ip FROM audit_log ORDER BY id DESC LIMIT 1`)).rows[0]?.ip

describe('no trusted proxy (the default)', () => {
  let app: Api
  beforeAll(async () => { app = await build() })
  afterAll(async () => app?.close())

  test('a forged X-Forwarded-For changes neither request.ip nor the audit entry', async () => {
    const { key } = await createApiKey(db, 'contact centre', 'crm')
    const res = await app.inject({ method: 'GET', url: `/api/v1/households/${UPRN0}`, remoteAddress: '192.0.2.10', headers: { authorization: `Bearer ${key}`, 'x-forwarded-for': '203.0.113.99' } })
    expect(res.statusCode).toBe(200)
    expect(await lastAuditIp()).toBe('192.0.2.10')
  })

  test(`${UNKNOWN_CREDENTIALS_PER_MINUTE} made-up keys "from" another address lock out the sender, not that address's users`, async () => {
    const attacker = '192.0.2.66'
    const codes: number[] = []
    for (let i = 0; i <= UNKNOWN_CREDENTIALS_PER_MINUTE; i++) {
      codes.push((await app.inject({ method: 'GET', url: '/api/v1/devices', remoteAddress: attacker, headers: { authorization: `Bearer ks_made_up_${i}`, 'x-forwarded-for': VICTIM } })).statusCode)
    }
    expect(codes.slice(0, UNKNOWN_CREDENTIALS_PER_MINUTE).every((c) => c === 401)).toBe(true)
    expect(codes.at(-1)).toBe(429) // the sender's own address is the one throttled
    // A user at the forged address, with a key this process has not seen yet (so the throttle is consulted).
    const { key } = await createApiKey(db, 'depot wallboard', 'viewer')
    expect((await app.inject({ method: 'GET', url: '/api/v1/devices', remoteAddress: VICTIM, headers: { authorization: `Bearer ${key}` } })).statusCode).toBe(200)
    expect((await app.inject({ method: 'GET', url: '/api/v1/devices', remoteAddress: VICTIM, headers: { authorization: `Bearer ${ADMIN}` } })).statusCode).toBe(200)
  })
})

test('an address throttled for unknown keys still lets the bootstrap admin key in (it needs no lookup)', async () => {
  const app = await build()
  try {
    const shared = '192.0.2.77' // e.g. a proxy not listed in HTTP_TRUSTED_PROXIES: everyone behind it has this address
    for (let i = 0; i <= UNKNOWN_CREDENTIALS_PER_MINUTE; i++) await app.inject({ method: 'GET', url: '/api/v1/devices', remoteAddress: shared, headers: { authorization: `Bearer ks_made_up_${i}` } })
    expect((await app.inject({ method: 'GET', url: '/api/v1/devices', remoteAddress: shared, headers: { authorization: 'Bearer ks_made_up_again' } })).statusCode).toBe(429)
    expect((await app.inject({ method: 'GET', url: '/api/v1/devices', remoteAddress: shared, headers: { authorization: `Bearer ${ADMIN}` } })).statusCode).toBe(200)
  } finally {
    await app.close()
  }
})

describe('127.0.0.1 trusted', () => {
  let app: Api
  beforeAll(async () => { app = await build(['127.0.0.1']) })
  afterAll(async () => app?.close())

  test('the trusted proxy\'s X-Forwarded-For is the client; anyone else\'s is ignored', async () => {
    const { key } = await createApiKey(db, 'contact centre 2', 'crm')
    const headers = { authorization: `Bearer ${key}`, 'x-forwarded-for': '203.0.113.5' }
    expect((await app.inject({ method: 'GET', url: `/api/v1/households/${UPRN0}`, remoteAddress: '127.0.0.1', headers })).statusCode).toBe(200)
    expect(await lastAuditIp()).toBe('203.0.113.5')
    expect((await app.inject({ method: 'GET', url: `/api/v1/households/${UPRN0}`, remoteAddress: '192.0.2.10', headers })).statusCode).toBe(200)
    expect(await lastAuditIp()).toBe('192.0.2.10')
  })
})

test('HTTP_TRUSTED_PROXIES is read from the environment, empty by default', () => {
  expect(loadConfig({}).HTTP_TRUSTED_PROXIES).toBe('')
  expect(loadConfig({ HTTP_TRUSTED_PROXIES: '10.0.0.5,10.1.0.0/16' }).HTTP_TRUSTED_PROXIES).toBe('10.0.0.5,10.1.0.0/16')
})
