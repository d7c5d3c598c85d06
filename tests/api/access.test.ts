// Access control: dashboard users and sessions, API keys by role, rate limits.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Registry } from 'prom-client'
import { buildApi, type Api } from '../../api/build-api.ts'
import { silentLogger } from '../../core/log.ts'
import type { Database } from '../../storage/database.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { createApiKey, revokeApiKey } from '../../storage/api-keys.ts'
import { createUser } from '../../storage/users.ts'
import { UNKNOWN_CREDENTIALS_PER_MINUTE } from '../../api/plugins/auth.ts'

const ADMIN = 'admin-key-of-this-test-0123456789'
let db: Database
let app: Api
const req = (method: 'GET' | 'POST' | 'DELETE', url: string, opts: { key?: string; body?: unknown; ip?: string } = {}) =>
  app.inject({ method, url, headers: opts.key ? { authorization: `Bearer ${opts.key}` } : {}, payload: opts.body as object, remoteAddress: opts.ip })

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN, rateLimitPerMinute: 30 })
})
afterAll(async () => { await app?.close(); await db?.close() })

describe('dashboard users', () => {
  test('sign in with a password, use the session with its role, sign out', async () => {
    const { password } = await createUser(db, { username: 'alice', displayName: 'Alice Contract', role: 'contract_manager' })
    const bad = await req('POST', '/api/v1/auth/login', { body: { username: 'alice', password: 'nope' } })
    expect(bad.statusCode).toBe(401)
    expect(bad.json()).toMatchObject({ code: 'KERBSIDE_ERR_BAD_LOGIN' })
    expect((await req('POST', '/api/v1/auth/login', { body: { username: 'nobody', password: 'x' } })).statusCode).toBe(401)
    const ok = await req('POST', '/api/v1/auth/login', { body: { username: 'alice', password } })
    expect(ok.statusCode).toBe(200)
    const { token, user } = ok.json()
    expect(user).toMatchObject({ username: 'alice', role: 'contract_manager' })
    expect((await req('GET', '/api/v1/devices', { key: token })).statusCode).toBe(200)      // contract_manager may
    expect((await req('POST', '/api/v1/keys', { key: token, body: { name: 'x', role: 'crm' } })).statusCode).toBe(403) // admin only
    expect((await req('POST', '/api/v1/auth/logout', { key: token })).statusCode).toBe(204)
    expect((await req('GET', '/api/v1/devices', { key: token })).statusCode).toBe(401)
    const stored = (await db.query<{ password_hash: string }>(`SELECT password_hash FROM users WHERE username = 'alice'`)).rows[0]!.password_hash
    expect(stored).toMatch(/^scrypt\$/)
    expect(stored).not.toContain(password)
  })

  test('disabling a user ends their sessions at once', async () => {
    const created = await req('POST', '/api/v1/users', { key: ADMIN, body: { username: 'bob', displayName: 'Bob Agent', role: 'crm' } })
    expect(created.statusCode).toBe(201)
    const { token } = (await req('POST', '/api/v1/auth/login', { body: { username: 'bob', password: created.json().password } })).json()
    expect((await req('GET', '/api/v1/devices/none', { key: token })).statusCode).toBe(404)
    expect((await req('DELETE', '/api/v1/users/bob', { key: ADMIN })).statusCode).toBe(204)
    expect((await req('GET', '/api/v1/devices/none', { key: token })).statusCode).toBe(401)
    expect((await req('POST', '/api/v1/users', { key: ADMIN, body: { username: 'alice', displayName: 'A', role: 'crm' } })).statusCode).toBe(409)
  })

  test('password guessing is limited per address', async () => {
    const codes: number[] = []
    for (let i = 0; i < 12; i++) codes.push((await req('POST', '/api/v1/auth/login', { body: { username: 'alice', password: `guess${i}` }, ip: '203.0.113.9' })).statusCode)
    expect(codes.slice(0, 10).every((c) => c === 401)).toBe(true)
    expect(codes.slice(10)).toEqual([429, 429])
  })
})

describe('API keys and roles', () => {
  test('missing key 401, wrong role 403, revoked key 401 (after the 30 s cache for keys)', async () => {
    const { key, info } = await createApiKey(db, 'provisioning tool', 'provisioning')
    expect((await req('GET', '/api/v1/devices')).statusCode).toBe(401)
    expect((await req('GET', '/api/v1/households/100000000001', { key })).statusCode).toBe(403)
    expect((await req('GET', '/api/v1/devices', { key })).statusCode).toBe(200)
    await revokeApiKey(db, info.keyId)
    const fresh = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN })
    expect((await fresh.inject({ method: 'GET', url: '/api/v1/devices', headers: { authorization: `Bearer ${key}` } })).statusCode).toBe(401)
    await fresh.close()
  })

  test('the general rate limit answers 429 with a retry hint', async () => {
    const { key } = await createApiKey(db, 'noisy', 'viewer')
    let last = 0
    let body: { code?: string; message?: string } = {}
    for (let i = 0; i < 35; i++) {
      const res = await req('GET', '/api/v1/devices', { key })
      last = res.statusCode
      if (last === 429) { body = res.json(); break }
    }
    expect(last).toBe(429)
    expect(body.code).toBe('KERBSIDE_ERR_RATE_LIMITED')
    expect(body.message).toMatch(/retry in \d+ s/)
  })
})

describe('made-up credentials', () => {
  test('an address sending unknown keys is answered 429 after the limit, without a lookup; known keys and other addresses are unaffected', async () => {
    const { key } = await createApiKey(db, 'honest client', 'viewer')
    const attacker = '198.51.100.7'
    expect((await req('GET', '/api/v1/devices', { key, ip: attacker })).statusCode).toBe(200) // known from now on
    const codes: number[] = []
    // a new made-up key every time, so the per-credential limit never applies
    for (let i = 0; i < UNKNOWN_CREDENTIALS_PER_MINUTE + 3; i++) codes.push((await req('GET', '/api/v1/devices', { key: `kb_made_up_${i}`, ip: attacker })).statusCode)
    expect(codes.slice(0, UNKNOWN_CREDENTIALS_PER_MINUTE).every((c) => c === 401)).toBe(true)
    expect(codes.slice(UNKNOWN_CREDENTIALS_PER_MINUTE)).toEqual([429, 429, 429])
    const refused = await req('GET', '/api/v1/devices', { key: 'kb_made_up_again', ip: attacker })
    expect(refused.json()).toMatchObject({ code: 'KERBSIDE_ERR_RATE_LIMITED', message: expect.stringMatching(/retry in \d+ s/) })
    expect((await req('GET', '/api/v1/devices', { key, ip: attacker })).statusCode).toBe(200)
    expect((await req('GET', '/api/v1/devices', { key: 'kb_made_up_elsewhere', ip: '192.0.2.44' })).statusCode).toBe(401)
  })
})
