// The session keeps the key per tab (sessionStorage) and checks it with a real HTTP server.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest'
import { Session } from '../../dashboard/src/lib/session.svelte.ts'
import { parseHash } from '../../dashboard/src/lib/router.svelte.ts'

let server: Server
beforeAll(async () => {
  // Answers as the Kerbside API does: 200 for the good key, 403 for a provisioning key, 401 otherwise.
  server = createServer((req, res) => {
    const key = req.headers.authorization?.replace('Bearer ', '')
    res.setHeader('content-type', 'application/json')
    if (req.url !== '/api/v1/map/summary') { res.statusCode = 404; res.end('{}'); return }
    if (key === 'ks_good') res.end(JSON.stringify({ caller: { name: 'ops', role: 'viewer' }, households: 1, placedHouseholds: 1, bins: 1, vehicles: 0 }))
    else if (key === 'ks_provisioning') { res.statusCode = 403; res.end(JSON.stringify({ statusCode: 403, code: 'KERBSIDE_ERR_FORBIDDEN', error: 'Forbidden', message: 'role' })) }
    else { res.statusCode = 401; res.end(JSON.stringify({ statusCode: 401, code: 'KERBSIDE_ERR_UNAUTHENTICATED', error: 'Unauthorized', message: 'key' })) }
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const happyDOM = (window as unknown as { happyDOM: { setURL(url: string): void } }).happyDOM
  happyDOM.setURL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
})
afterAll(() => new Promise<void>((r) => server.close(() => r())))
beforeEach(() => sessionStorage.clear())

test('a refused key gives a clear 401 message and is not kept', async () => {
  const session = new Session()
  expect(await session.signIn('ks_wrong')).toBe(false)
  expect(session.error).toContain('not accepted (401)')
  expect(session.key).toBeNull()
  expect(sessionStorage.getItem('kerbside.apiKey')).toBeNull()
  expect(await session.signIn('ks_provisioning')).toBe(false)
  expect(session.error).toContain('role cannot view the dashboard (403)')
  expect(await session.signIn('   ')).toBe(false)
  expect(session.error).toBe('Enter your API key.')
})

test('an accepted key is kept for the tab, restored on reload, and forgotten on sign-out', async () => {
  const session = new Session()
  expect(await session.signIn(' ks_good ')).toBe(true)
  expect(session.caller).toEqual({ name: 'ops', role: 'viewer' })
  expect(sessionStorage.getItem('kerbside.apiKey')).toBe('ks_good')
  const reloaded = new Session()
  expect(reloaded.key).toBe('ks_good')
  await reloaded.restore()
  expect(reloaded.caller?.role).toBe('viewer')
  reloaded.signOut()
  expect(sessionStorage.getItem('kerbside.apiKey')).toBeNull()
})

test('a kept key that the API now refuses signs the tab out with the reason', async () => {
  sessionStorage.setItem('kerbside.apiKey', 'ks_revoked')
  const session = new Session()
  await session.restore()
  expect(session.key).toBeNull()
  expect(session.error).toContain('401')
})

test('hash routes', () => {
  expect(parseHash('#/devices')).toBe('devices')
  expect(parseHash('#/why-missed?x=1')).toBe('why-missed')
  expect(parseHash('')).toBe('map')
  expect(parseHash('#/nowhere')).toBe('map')
})
