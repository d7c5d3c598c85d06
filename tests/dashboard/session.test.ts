// Routes and the session's own bookkeeping (sign-in against the API is in api-state.test.ts).
import { beforeEach, expect, test } from 'vitest'
import { Session } from '../../dashboard/src/lib/session.svelte.ts'
import { hrefOf, parseHash, parseLocation, ROUTES, routesFor, type RouteId } from '../../dashboard/src/lib/router.svelte.ts'
import { ACCESS_MODEL } from '../../api/access-model.ts'

beforeEach(() => sessionStorage.clear())

test('hash routes, with a path and a query', () => {
  expect(parseHash('#/devices')).toBe('devices')
  expect(parseHash('#/why-missed?x=1')).toBe('why-missed')
  expect(parseHash('')).toBe('map')
  expect(parseHash('#/nowhere')).toBe('map')
  expect(parseLocation('#/households/100000000009')).toEqual({ id: 'households', params: ['100000000009'], query: {} })
  expect(parseLocation('#/reports?validity=invalid&from=2026-03-01')).toEqual({ id: 'reports', params: [], query: { validity: 'invalid', from: '2026-03-01' } })
  expect(parseLocation('#/nowhere/1')).toEqual({ id: 'map', params: [], query: {} })
  expect(hrefOf('households', [100000000009])).toBe('#/households/100000000009')
  expect(hrefOf('reports', [], { validity: 'invalid', stream: null })).toBe('#/reports?validity=invalid')
})

test('each role sees the screens whose data it may read', () => {
  expect(routesFor('crm').map((r) => r.id)).toEqual(['map', 'households', 'reports', 'rewards'])
  expect(routesFor('viewer').map((r) => r.id)).toEqual(['map', 'performance', 'why-missed', 'reports', 'rewards', 'devices'])
  expect(routesFor('contract_manager')).toHaveLength(8)
  expect(routesFor('provisioning').map((r) => r.id)).toEqual(['quarantine'])
  expect(routesFor('admin')).toHaveLength(8)
  expect(routesFor(null)).toHaveLength(8)
})

test('a screen is offered to a dashboard role only if the API lets that role read what the screen first asks for', () => {
  // The operation each screen opens with (dashboard/src/pages), as api/access-model.ts names it.
  const opens: Record<RouteId, string> = {
    map: 'GET /api/v1/map/overview', performance: 'GET /api/v1/contracts/:contractId/performance', 'why-missed': 'GET /api/v1/contracts/:contractId/why-missed',
    households: 'GET /api/v1/households', reports: 'GET /api/v1/reports', rewards: 'GET /api/v1/rewards/leaderboard', devices: 'GET /api/v1/devices',
    quarantine: 'GET /api/v1/quarantine',
  }
  for (const route of ROUTES) {
    const allowed = ACCESS_MODEL[opens[route.id]]!.roles
    for (const role of ['contract_manager', 'crm', 'viewer', 'provisioning'] as const) {
      if ((route.roles as readonly string[]).includes(role)) expect(allowed, `${route.id} offered to ${role}, which ${opens[route.id]} refuses`).toContain(role)
    }
  }
})

test('a kept password session that has expired is forgotten at once, with the reason', () => {
  sessionStorage.setItem('kerbside.apiKey', 'kss_expired')
  sessionStorage.setItem('kerbside.session', JSON.stringify({ kind: 'password', expiresAt: new Date(Date.now() - 1000).toISOString(), caller: { name: 'M', role: 'crm' } }))
  const session = new Session()
  expect(session.key).toBeNull()
  expect(session.error).toBe('Your session has ended. Sign in again.')
  expect(sessionStorage.getItem('kerbside.apiKey')).toBeNull()
})

test('a kept key without bookkeeping (an older tab) is taken as an API key', () => {
  sessionStorage.setItem('kerbside.apiKey', 'ks_kept')
  sessionStorage.setItem('kerbside.session', '{not json')
  const session = new Session()
  expect(session.key).toBe('ks_kept')
  expect(session.kind).toBe('key')
  expect(session.expiresAt).toBeNull()
})
