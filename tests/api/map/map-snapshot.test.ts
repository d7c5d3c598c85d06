// The city map kept built ahead (api/map/snapshot.ts): the API answers from its latest snapshot, builds
// one at a time however many ask, rebuilds on its period and when the snapshot is too old, and drops it
// when the registry changes through the API. On the real app and the embedded database.
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { buildApi, type Api } from '../../../api/build-api.ts'
import { createMapSnapshots } from '../../../api/map/snapshot.ts'
import type { CityMap } from '../../../api/schemas/map.ts'
import { silentLogger } from '../../../core/log.ts'
import { createApiKey } from '../../../storage/api-keys.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { seedCity } from '../../helpers/seed-city.ts'

const ADMIN = 'admin-key-for-map-snapshot-tests-0'
let db: Database
let app: Api
let viewer: string

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN, mapSnapshotSeconds: 30 })
  await seedCity(db, { households: 40, perStreet: 10, vehicles: 1, recentLifts: 5 })
  viewer = (await createApiKey(db, 'viewer', 'viewer')).key
})
afterAll(async () => {
  await app?.close()
  await db?.close()
})

const getMap = async (query = '') => {
  const res = await app.inject({ method: 'GET', url: `/api/v1/map${query}`, headers: { authorization: `Bearer ${viewer}` } })
  expect(res.statusCode).toBe(200)
  return { body: res.body, map: res.json<CityMap>() }
}

describe('GET /api/v1/map with snapshots', () => {
  test('answers from the snapshot; another query builds its own; an import through the API drops it', async () => {
    const first = await getMap()
    expect(first.map.households.uprn).toHaveLength(40)
    await new Promise((r) => setTimeout(r, 20))
    const again = await getMap()
    expect(again.body).toBe(first.body) // the same snapshot, byte for byte
    const other = await getMap('?hours=12')
    expect(other.map.hours).toBe(12)
    expect(Date.parse(other.map.generatedAt)).toBeGreaterThan(Date.parse(first.map.generatedAt))

    // A household added behind the API's back is not in the snapshot yet (it shows at the next rebuild)…
    await db.query(`INSERT INTO households (uprn, address, postcode, lat, lon) VALUES (990000000001, '1 Behind Street', 'L1 1AA', 53.41, -2.98)`)
    expect((await getMap()).map.households.uprn).toHaveLength(40)
    // …one imported through the API is, at once.
    const res = await app.inject({ method: 'POST', url: '/api/v1/registry/import?entity=households', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'text/csv' },
      payload: 'uprn,address,postcode,lat,lon\n990000000002,2 Import Road,L1 1AB,53.42,-2.97\n' })
    expect(res.statusCode).toBe(200)
    const after = await getMap()
    expect(after.map.households.uprn).toEqual(expect.arrayContaining([990000000001, 990000000002]))
    expect(after.map.households.uprn).toHaveLength(42)
  })
})

describe('createMapSnapshots', () => {
  const fakeMap = (n: number, at: number) => ({ generatedAt: new Date(at).toISOString(), n }) as unknown as CityMap

  test('one build at a time for every caller; served while young; rebuilt when older than the limit', async () => {
    let clock = 1_000_000
    let builds = 0
    let release: () => void = () => {}
    const snapshots = createMapSnapshots({
      build: () => new Promise((resolve) => { builds++; const n = builds; release = () => resolve(fakeMap(n, clock)) }),
      refreshMs: 60_000, maxAgeMs: 10_000, logger: silentLogger, now: () => clock,
    })
    const waiting = [snapshots.get(), snapshots.get(), snapshots.get()]
    release()
    const got = await Promise.all(waiting)
    expect(builds).toBe(1)
    expect(new Set(got.map((s) => s.body)).size).toBe(1)
    clock += 9_000
    expect((await snapshots.get()).body).toBe(got[0]!.body)
    expect(builds).toBe(1)
    clock += 2_000 // 11 s old: too old to serve
    const fresh = snapshots.get()
    release()
    expect(JSON.parse((await fresh).body).n).toBe(2)
  })

  test('an import during a build: callers after it get a build started after it, and only that one is kept', async () => {
    let builds = 0
    let release: () => void = () => {}
    const snapshots = createMapSnapshots({
      build: () => new Promise((resolve) => { builds++; const n = builds; release = () => resolve(fakeMap(n, Date.now())) }),
      refreshMs: 60_000, maxAgeMs: 60_000, logger: silentLogger,
    })
    const releases: (() => void)[] = []
    const during = snapshots.get()
    releases.push(release)
    snapshots.invalidate()
    const after = snapshots.get() // asked after the import: not the build that started before it
    releases.push(release)
    expect(builds).toBe(2)
    for (const r of releases) r()
    expect(JSON.parse((await during).body).n).toBe(1) // the caller that asked before the import gets that one…
    expect(JSON.parse((await after).body).n).toBe(2) // …later callers a build that started after it
    expect(JSON.parse((await snapshots.get()).body).n).toBe(2) // and only that one is kept
  })

  test('rebuilt on its period once running, and a failed build is logged and retried', async () => {
    let builds = 0
    const warnings: string[] = []
    const logger = { ...silentLogger, warn: (o: unknown, msg?: string) => { warnings.push(String(msg ?? o)) } } as typeof silentLogger
    const snapshots = createMapSnapshots({
      build: async () => { builds++; if (builds === 2) throw new Error('database away'); return fakeMap(builds, Date.now()) },
      refreshMs: 30, maxAgeMs: 60_000, logger,
    })
    snapshots.start()
    await snapshots.get()
    for (let i = 0; i < 100 && builds < 4; i++) await new Promise((r) => setTimeout(r, 20))
    snapshots.stop()
    expect(builds).toBeGreaterThanOrEqual(4)
    expect(warnings.some((w) => /the build failed/.test(w))).toBe(true)
    const stoppedAt = builds
    await new Promise((r) => setTimeout(r, 120))
    expect(builds).toBe(stoppedAt)
  })
})
