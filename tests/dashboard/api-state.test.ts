// The dashboard's state classes against the real Kerbside API (tests/dashboard/api-server.ts: the
// hand-computed performance scenario, contract K in March 2026): what each screen loads, how it
// pages, sorts and filters, and what people are told when the API refuses.
import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest'
import { CityState } from '../../dashboard/src/lib/city-state.svelte.ts'
import { ContractScope } from '../../dashboard/src/lib/contract-scope.svelte.ts'
import { DevicesState } from '../../dashboard/src/lib/devices-state.svelte.ts'
import { DrillDownState } from '../../dashboard/src/lib/drill-down-state.svelte.ts'
import { HouseholdState } from '../../dashboard/src/lib/household-state.svelte.ts'
import { PerformanceState } from '../../dashboard/src/lib/performance-state.svelte.ts'
import { ReportsState } from '../../dashboard/src/lib/reports-state.svelte.ts'
import { RewardsState } from '../../dashboard/src/lib/rewards-state.svelte.ts'
import { Session } from '../../dashboard/src/lib/session.svelte.ts'
import { WhyMissedState } from '../../dashboard/src/lib/why-missed-state.svelte.ts'
import type { Resource } from '../../dashboard/src/lib/resource.svelte.ts'
import { startTestApi, useOrigin, type TestApi } from './api.ts'

let api: TestApi
beforeAll(async () => {
  api = await startTestApi()
  useOrigin(api.url)
}, 120_000)
afterAll(() => api?.stop())
beforeEach(() => sessionStorage.clear())

/** Wait for a resource's answer (the API's, over HTTP). */
async function settled<T>(r: Resource<T>): Promise<void> {
  while (r.status === 'loading' || r.status === 'idle') await new Promise((res) => setTimeout(res, 5))
}

/** Contract K, March 2026: the scenario's period. */
async function marchScope(key: string): Promise<ContractScope> {
  const scope = new ContractScope(() => '2026-03-20')
  await scope.loadContracts(key)
  scope.setDays('2026-03-01', '2026-03-31')
  return scope
}

describe('sign-in', () => {
  test('username and password: a session token is kept for the tab, restored, and ended on sign-out', async () => {
    const session = new Session()
    expect(await session.signInWithPassword(' morgan ', 'correct horse battery staple')).toBe(true)
    expect(session.key).toMatch(/^kss_/)
    expect(session.kind).toBe('password')
    expect(session.caller).toEqual({ name: 'Morgan Manager', role: 'contract_manager' })
    expect(Date.parse(session.expiresAt!)).toBeGreaterThan(Date.now())
    const token = session.key!

    const reloaded = new Session()
    expect(reloaded.key).toBe(token)
    expect(reloaded.caller?.role).toBe('contract_manager')
    await reloaded.restore()
    expect(reloaded.key).toBe(token)

    await reloaded.signOut()
    expect(sessionStorage.getItem('kerbside.apiKey')).toBeNull()
    // The server ended the session too: the old token is refused.
    sessionStorage.setItem('kerbside.apiKey', token)
    const again = new Session()
    await again.restore()
    expect(again.key).toBeNull()
    expect(again.error).toContain('401')
  })

  test("a browser whose clock is hours ahead of the server's stays signed in for the session's length", async () => {
    // The server runs on the real clock (its own process); this browser's clock is 13 hours ahead
    // (the demo under libfaketime at 01:15 met by a browser at 14:15 signed out at once).
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 13 * 3_600_000 })
    try {
      const session = new Session()
      expect(await session.signInWithPassword('morgan', 'correct horse battery staple')).toBe(true)
      await new Promise((r) => setTimeout(r, 50)) // an expiry timer armed in the past would have fired
      expect(session.key).toMatch(/^kss_/)
      expect(session.error).toBeNull()
      const hoursLeft = (Date.parse(session.expiresAt!) - Date.now()) / 3_600_000
      expect(hoursLeft).toBeGreaterThan(11.9)
      expect(hoursLeft).toBeLessThanOrEqual(12)
      const reloaded = new Session()
      expect(reloaded.key).toBe(session.key)
      await session.signOut()
    } finally {
      vi.useRealTimers()
    }
  })

  test('a wrong password, an empty form and a provisioning user are refused with a clear message', async () => {
    const session = new Session()
    expect(await session.signInWithPassword('morgan', 'wrong')).toBe(false)
    expect(session.error).toContain('wrong password (401)')
    expect(session.key).toBeNull()
    expect(await session.signInWithPassword('', '')).toBe(false)
    expect(session.error).toBe('Enter your username and password.')
    expect(await session.signInWithPassword('pat', 'correct horse battery staple')).toBe(false)
    expect(session.error).toContain('(403)')
    expect(sessionStorage.getItem('kerbside.apiKey')).toBeNull()
  })

  test('API keys (kiosks): refused keys are not kept; an accepted one is restored after a reload', async () => {
    const session = new Session()
    expect(await session.signIn('ks_notarealkey')).toBe(false)
    expect(session.error).toContain('not accepted (401)')
    expect(await session.signIn(api.keys.provisioning)).toBe(false)
    expect(session.error).toContain('(403)')
    expect(await session.signIn('   ')).toBe(false)
    expect(session.error).toBe('Enter your API key.')
    expect(await session.signIn(` ${api.keys.viewer} `)).toBe(true)
    expect(session.kind).toBe('key')
    expect(session.caller).toEqual({ name: 'viewer', role: 'viewer' })
    const reloaded = new Session()
    await reloaded.restore()
    expect(reloaded.caller?.role).toBe('viewer')
    await reloaded.signOut()
    expect(sessionStorage.getItem('kerbside.apiKey')).toBeNull()
  })
})

describe('contract performance', () => {
  test('the contracts list chooses the first contract; presets and chosen days make the question', async () => {
    const scope = new ContractScope(() => '2026-03-20')
    expect(scope.range).toEqual({ from: '2026-03-01', to: '2026-03-20' })
    await scope.loadContracts(api.keys.viewer)
    expect(scope.contracts.data).toEqual([{ contractId: 'K', name: 'Contract K', contractorId: 'fx-contractor', startsOn: '2025-01-01', endsOn: null, targets: { missedPer100k: 30, onDayPct: 99.76, rectifiedPct: 98 } }])
    expect(scope.contractId).toBe('K')
    expect(scope.question).toBe('K|2026-03-01|2026-03-20')
    scope.setPreset('last-month')
    expect(scope.range).toEqual({ from: '2026-02-01', to: '2026-02-28' })
    scope.setDays('2026-03-31', '2026-03-01')
    expect(scope.problem).toBe('The last day is before the first.')
    expect(scope.question).toBeNull()
  })

  test('KPIs, points, deduction and score; the league a page at a time, sorted by the server by any column; trends by day', async () => {
    const scope = await marchScope(api.keys.contract_manager)
    const perf = new PerformanceState(1)
    perf.sync(api.keys.contract_manager, scope)
    await Promise.all([settled(perf.performance), settled(perf.league), settled(perf.trends)])
    const p = perf.performance.data!
    expect(p.figures).toMatchObject({ scheduled: 26, pending: 1, missed: 9, repeatMisses: 5, notRectifiedInTime: 4 })
    expect(p.points.total).toBe(26)
    expect(p.deduction.total).toBe(1300)
    // One round a page: the first, the number of rounds, and the contract's totals beside it.
    expect(perf.rounds.map((r) => r.roundId)).toEqual(['K-A'])
    expect(perf.total).toBe(2)
    expect(perf.league.data!.totals.figures).toEqual(p.figures)
    perf.turn(1)
    await settled(perf.league)
    expect(perf.rounds.map((r) => [r.rank, r.roundId])).toEqual([[2, 'K-B']])
    perf.turn(1) // past the last page: nothing asked
    expect(perf.league.status).toBe('ready')
    expect(perf.offset).toBe(1)
    // A column sorts from the first page, numbers the largest first; again, the other way.
    perf.sortBy('missed')
    expect(perf.sortDir).toBe('descending')
    expect(perf.offset).toBe(0)
    await settled(perf.league)
    const most = perf.rounds[0]!
    perf.turn(1)
    await settled(perf.league)
    const least = perf.rounds[0]!
    expect(most.figures.missed).toBeGreaterThan(least.figures.missed)
    perf.sortBy('missed')
    await settled(perf.league)
    expect(perf.sortDir).toBe('ascending')
    expect(perf.rounds.map((r) => r.roundId)).toEqual([least.roundId])
    perf.sortBy('name')
    expect(perf.sortDir).toBe('ascending')
    await settled(perf.league)
    expect(perf.league.data).toMatchObject({ sort: 'name', order: 'asc', offset: 0, limit: 1 })
    expect(perf.trends.data!.granularity).toBe('day')
    expect(perf.trends.data!.points).toHaveLength(31)
    // The same question again does not reload.
    perf.sync(api.keys.contract_manager, scope)
    expect(perf.performance.status).toBe('ready')
  })

  test('an unknown contract and a CRM key are explained, not shown as empty', async () => {
    const scope = await marchScope(api.keys.viewer)
    scope.contractId = 'nope'
    const perf = new PerformanceState()
    perf.sync(api.keys.viewer, scope)
    await settled(perf.performance)
    expect(perf.performance.status).toBe('error')
    expect(perf.performance.errorStatus).toBe(404)
    expect(perf.performance.error).toBe('No contract nope.')
    scope.contractId = 'K'
    perf.sync(api.keys.crm, scope)
    await settled(perf.performance)
    expect(perf.performance.errorStatus).toBe(403)
    expect(perf.performance.error).toMatch(/^Your role cannot open this\./)
  })

  test('drill-down: the missed collections, a page at a time, for the contract or one round', async () => {
    const scope = await marchScope(api.keys.viewer)
    const drill = new DrillDownState(4)
    drill.open(api.keys.viewer, scope, { kpi: 'missed' })
    await settled(drill.page)
    expect(drill.title).toBe('Missed collections')
    expect(drill.total).toBe(9)
    expect(drill.page.data!.items).toHaveLength(4)
    const first = drill.page.data!.items.map((c) => c.collectionId)
    drill.turn(api.keys.viewer, 1)
    await settled(drill.page)
    expect(drill.offset).toBe(4)
    expect(drill.page.data!.items.map((c) => c.collectionId)).not.toEqual(first)
    drill.turn(api.keys.viewer, 1)
    await settled(drill.page)
    expect(drill.page.data!.items).toHaveLength(1)
    drill.turn(api.keys.viewer, 1) // past the end: stays
    expect(drill.offset).toBe(8)
    drill.open(api.keys.viewer, scope, { kpi: 'exceptions', code: 'no_access' })
    await settled(drill.page)
    expect(drill.title).toBe('Crew exceptions — no access')
    expect(drill.page.data!.items.map((c) => c.exceptionCode)).toEqual(['no_access'])
    drill.open(api.keys.viewer, scope, { kpi: 'missed', round: 'K-B' })
    await settled(drill.page)
    expect(drill.page.data!.items.every((c) => c.roundId === 'K-B')).toBe(true)
    drill.close()
    expect(drill.question).toBeNull()
  })

  test('why bins are missed: breakdowns in reading order, hotspots, repeat households, return trips', async () => {
    const scope = await marchScope(api.keys.viewer)
    const why = new WhyMissedState()
    why.sync(api.keys.viewer, scope)
    await settled(why.result)
    const w = why.result.data!
    expect(w.total).toMatchObject({ scheduled: 26, missed: 9 })
    expect(why.rows.map((r) => r.key).sort()).toEqual(['K-A', 'K-B'])
    // Rounds by name in the breakdown, not by id (the names come from the registry).
    await vi.waitFor(() => expect(Object.keys(why.roundNames)).toEqual(expect.arrayContaining(['K-A', 'K-B'])))
    expect(why.roundNames['K-A']).not.toBe('K-A')
    why.dimension = 'street'
    expect(why.rows.map((r) => r.missed)).toEqual([...why.rows.map((r) => r.missed)].sort((a, b) => b - a))
    why.dimension = 'weekday'
    expect(why.rows.map((r) => Number(r.key))).toEqual([...why.rows.map((r) => Number(r.key))].sort((a, b) => a - b))
    expect(why.rowCount).toBe(why.rows.length) // all of them: the answer gives up to 100 of each
    // Rows about one household go only to roles that may see households (api/access-model.ts): the viewer gets their count.
    expect(w.repeatHouseholds.households).toEqual([])
    expect(w.repeatHouseholds.total).toBeGreaterThan(0)
    expect(w.returnTrips.visits).toBe(3)
    why.hotspotKind = 'streets'
    expect(why.hotspots).toBe(w.hotspots.streets)
  })
})

describe('households', () => {
  test('search by street and by exact UPRN; the summary, the history a page at a time, and the first-contact check', async () => {
    const key = api.keys.crm
    const h = new HouseholdState(2)
    h.q = 'Park Road'
    expect(await h.search(key)).toBeNull()
    expect(h.results.data!.length).toBe(6)
    h.q = String(api.household)
    expect(await h.search(key)).toBe(api.household)

    h.open(key, api.household)
    await Promise.all([settled(h.summary), settled(h.history)])
    expect(h.summary.data!.household.uprn).toBe(api.household)
    expect(h.summary.data!.household.assisted).toBe(true)
    const total = h.history.data!.total
    expect(total).toBe(3) // residual on 2 and 9 March, recycling on 3 March
    expect(h.history.data!.items.map((c) => c.dueDate)).toEqual(['2026-03-09', '2026-03-03'])
    h.turnHistory(key, 1)
    await settled(h.history)
    expect(h.historyOffset).toBe(2)
    expect(h.history.data!.items.map((c) => c.dueDate)).toEqual(['2026-03-02'])

    h.stream = ''
    await h.runCheck(key)
    expect(h.checkProblem).toBe('Choose the bin the resident is calling about.')
    h.stream = 'residual'
    h.date = '02/03/2026'
    await h.runCheck(key)
    expect(h.checkProblem).toContain('as a date')
    h.date = '2026-03-02'
    await h.runCheck(key)
    const a = h.check.data!
    expect(a.uprn).toBe(api.household)
    expect(a.collection?.dueDate).toBe('2026-03-02')
    expect(a.nextAction.tell.length).toBeGreaterThan(20)
    expect(a.timeline.length).toBeGreaterThan(0)
  })

  test('an unknown household is a 404 with the API’s words; a viewer may not read households', async () => {
    const h = new HouseholdState()
    h.open(api.keys.crm, 999_999_999_999)
    await settled(h.summary)
    expect(h.summary.errorStatus).toBe(404)
    expect(h.summary.error).toBe('No household with UPRN 999999999999.')
    const v = new HouseholdState()
    v.open(api.keys.viewer, api.household)
    await settled(v.summary)
    expect(v.summary.errorStatus).toBe(403)
  })
})

describe('reports and rewards', () => {
  test('reports in March with validity and filters; filters from a link', async () => {
    const r = new ReportsState('2026-03-20')
    expect(r.filters).toMatchObject({ from: '2026-02-19', to: '2026-03-20' })
    r.applyQuery({ from: '2026-03-01', to: '2026-03-31', validity: 'bogus' })
    expect(r.filters.validity).toBe('')
    await r.load(api.keys.viewer)
    // Six reports in March (London days); the two just outside it are not listed.
    expect(r.list.data!.reports.map((x) => x.validity).sort()).toEqual(['invalid', 'invalid', 'pending', 'valid', 'valid', 'valid'])
    expect([r.hasNewer, r.hasOlder]).toEqual([false, false])
    r.applyQuery({ validity: 'invalid' })
    await r.load(api.keys.viewer)
    expect(r.list.data!.reports.map((x) => x.invalidReason)).toEqual(['collected', 'collected'])
    r.filters.to = '2026-02-01'
    expect(r.problem).toBe('The last day is before the first.')
  })

  test('reports a page at a time: older and newer pages add up to the whole list, with the filters they were asked with', async () => {
    const whole = new ReportsState('2026-03-20')
    whole.applyQuery({ from: '2026-03-01', to: '2026-03-31' })
    await whole.load(api.keys.viewer)
    const ids = whole.list.data!.reports.map((x) => x.reportId)
    expect(ids).toHaveLength(6)

    const r = new ReportsState('2026-03-20', 4)
    r.applyQuery({ from: '2026-03-01', to: '2026-03-31' })
    await r.load(api.keys.viewer)
    expect(r.list.data!.reports.map((x) => x.reportId)).toEqual(ids.slice(0, 4))
    expect([r.firstShown, r.hasNewer, r.hasOlder]).toEqual([1, false, true])
    // The form changed but not submitted: the next page keeps the filters of the first.
    r.filters.validity = 'invalid'
    await r.older(api.keys.viewer)
    expect(r.list.data!.reports.map((x) => x.reportId)).toEqual(ids.slice(4))
    expect([r.firstShown, r.hasNewer, r.hasOlder]).toEqual([5, true, false])
    await r.older(api.keys.viewer) // no older page: nothing asked
    expect(r.firstShown).toBe(5)
    await r.newer(api.keys.viewer)
    expect(r.list.data!.reports.map((x) => x.reportId)).toEqual(ids.slice(0, 4))
    expect([r.firstShown, r.hasNewer, r.hasOlder]).toEqual([1, false, true])
    // Submitting the form: its filters, from the newest page.
    await r.load(api.keys.viewer)
    expect(r.list.data!.reports.map((x) => x.validity)).toEqual(['invalid', 'invalid'])
    expect([r.firstShown, r.hasNewer, r.hasOlder]).toEqual([1, false, false])
  })

  test('the ward leaderboard for a closed month', async () => {
    const rw = new RewardsState('2026-03-20')
    expect(rw.months[0]).toBe('2026-02')
    await rw.load(api.keys.viewer)
    expect(rw.board.status).toBe('ready')
    expect(rw.board.data!.period).toBe('2026-02')
  })
})

describe('the city map', () => {
  const path = '/api/v1/map/overview'
  const early = (key: string) => fetch(path, { headers: { authorization: `Bearer ${key}`, accept: 'application/json' } })

  test('takes the request the page started before the application loaded: once, and only for the signed-in credential', async () => {
    // Started for another credential (signed out meanwhile): not read — it would never settle — and the dashboard asks itself.
    window.kerbsideEarly = { path, key: 'someone-else', response: new Promise<Response>(() => {}) }
    const asked = new CityState()
    await asked.load(api.keys.viewer)
    expect(asked.status).toBe('ready')
    expect(window.kerbsideEarly?.key).toBe('someone-else')

    window.kerbsideEarly = { path, key: api.keys.viewer, response: early(api.keys.viewer) }
    const taken = new CityState()
    let snapshotAt: number | null = null
    taken.onSnapshot = (at) => { snapshotAt = at }
    await taken.load(api.keys.viewer)
    expect(snapshotAt).toBe(Date.parse(taken.overview!.generatedAt)) // the live connection replays from here
    expect(window.kerbsideEarly).toBeUndefined()
    expect(taken.status).toBe('ready')
    expect(taken.overview!.counts).toEqual(asked.overview!.counts)
    expect(taken.overview!.counts.households).toBeGreaterThan(0)

    // An early request the API refused is reported as any other refusal.
    window.kerbsideEarly = { path, key: 'not-a-key', response: early('not-a-key') }
    const refused = new CityState()
    await expect(refused.load('not-a-key')).rejects.toThrow()
    expect(refused.status).toBe('error')
    expect(refused.error).toMatch(/no longer signed in/)
    window.kerbsideEarly = undefined
  })
})

describe('devices', () => {
  test('a page at a time by device id, back and forth; searched by postcode; the fleet counted by state', async () => {
    const key = api.keys.contract_manager
    const devices = new DevicesState(2)
    await devices.load(key)
    expect(devices.status).toBe('ready')
    expect(devices.devices.map((d) => d.deviceId)).toEqual(['dash-s-1', 'dash-s-2'])
    expect(devices.devices[0]!.address).toMatch(/\S/)
    expect(devices.hasMore).toBe(true)
    expect(devices.hasPrevious).toBe(false)
    await devices.next(key)
    expect(devices.devices.map((d) => d.deviceId)).toEqual(['dash-unit-1'])
    expect([devices.offset, devices.hasMore, devices.hasPrevious]).toEqual([2, false, true])
    await devices.previous(key)
    expect(devices.devices.map((d) => d.deviceId)).toEqual(['dash-s-1', 'dash-s-2'])
    expect(devices.offset).toBe(0)

    await devices.restart(key, { search: 'l1 1aa', kind: 'bin' })
    expect(devices.devices.map((d) => d.deviceId)).toEqual(['dash-s-1', 'dash-s-2'])
    await devices.restart(key, { search: '', kind: 'all', deviceState: 'silent' })
    expect(devices.devices.map((d) => d.deviceId)).toEqual(['dash-s-2'])
    await devices.restart(key, { search: 'no such device', deviceState: 'all' })
    expect([devices.status, devices.devices.length]).toEqual(['ready', 0])

    await devices.loadSummary(key)
    expect(devices.summary.data?.bin).toMatchObject({ total: 2, online: 1, silent: 1 })
    expect(devices.summary.data?.vehicle).toMatchObject({ total: 1, online: 1 })
  })

  test('a role that may not list devices is told so', async () => {
    const devices = new DevicesState()
    await devices.load(api.keys.crm)
    expect(devices.status).toBe('error')
    expect(devices.error).toMatch(/role/)
  })
})
