// The map for a city of any size: GET /api/v1/map/overview, /map/tiles/{z}/{x}/{y} (Mapbox vector
// tiles, decoded here with @mapbox/vector-tile as a browser would), /map/households/{uprn},
// /map/devices/{id}/household and /map/nearest, on the real app and the embedded TimescaleDB; every
// answer agrees with the whole-city answer of GET /api/v1/map.
import { gunzipSync } from 'node:zlib'
import { Registry } from 'prom-client'
import { VectorTile } from '@mapbox/vector-tile'
import { PbfReader } from 'pbf'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { buildApi, type Api } from '../../../api/build-api.ts'
import type { CityMap, MapHousehold, MapOverview } from '../../../api/schemas/map.ts'
import { silentLogger } from '../../../core/log.ts'
import { createApiKey } from '../../../storage/api-keys.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { rebuildLatestState } from '../../../storage/latest-state.ts'
import { seedCity, type SeededCity } from '../../helpers/seed-city.ts'

let db: Database
let app: Api
let city: SeededCity
const keys: Record<string, string> = {}
let whole: CityMap

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: 'admin-key-for-tile-tests-000000', mapSnapshotSeconds: 60 })
  city = await seedCity(db, { households: 400, perStreet: 20, vehicles: 2, recentLifts: 30 })
  await rebuildLatestState(db)
  for (const role of ['contract_manager', 'viewer', 'provisioning'] as const) keys[role] = (await createApiKey(db, role, role)).key
  whole = (await get('/api/v1/map')).json<CityMap>()
})
afterAll(async () => {
  await app?.close()
  await db?.close()
})

const get = (url: string, key = keys.viewer) => app.inject({ method: 'GET', url, headers: key ? { authorization: `Bearer ${key}` } : {} })

/** Slippy-map tile of a point. */
function tileOf(lat: number, lon: number, z: number): { x: number; y: number } {
  const n = 2 ** z
  const r = (lat * Math.PI) / 180
  return { x: Math.floor(((lon + 180) / 360) * n), y: Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n) }
}

async function tile(z: number, x: number, y: number, query = '') {
  const res = await get(`/api/v1/map/tiles/${z}/${x}/${y}${query}`)
  expect(res.statusCode).toBe(200)
  expect(res.headers['content-type']).toBe('application/vnd.mapbox-vector-tile')
  const t = new VectorTile(new PbfReader(res.rawPayload))
  const features = (name: string) => {
    const layer = t.layers[name]
    return layer ? Array.from({ length: layer.length }, (_, i) => layer.feature(i)) : []
  }
  return { res, households: features('households'), streets: features('streets') }
}

describe('the overview', () => {
  test('needs a map role; counts, bands and alerts agree with the whole-city answer', async () => {
    expect((await get('/api/v1/map/overview', '')).statusCode).toBe(401)
    expect((await get('/api/v1/map/overview', keys.provisioning)).statusCode).toBe(403)
    const o = (await get('/api/v1/map/overview')).json<MapOverview>()
    expect(o.generatedAt).toBe(whole.generatedAt) // one snapshot behind both
    expect(o.counts).toEqual({ households: 400, bins: 800, vehicles: whole.vehicles.length })
    expect(o.bands.all.reduce((a, b) => a + b, 0)).toBe(400)
    for (const byStream of o.bands.byStream) expect(byStream.reduce((a, b) => a + b, 0)).toBe(400)
    const total = Object.values(o.alerts.counts).reduce((a, b) => a + b, 0)
    expect(total).toBe(whole.alerts.length)
    expect(total).toBeGreaterThan(0)
    expect(o.alerts.rows).toHaveLength(whole.alerts.length) // fewer than perKind of each kind here
    const first = o.alerts.rows[0]!
    const bin = whole.alerts[0]!.bin
    expect(first).toMatchObject({ kind: whole.alerts[0]!.kind, binId: whole.bins.binId[bin], uprn: whole.households.uprn[whole.bins.household[bin]!] })
    expect(first.street).toMatch(/\S/)
    expect(o.lifts).toHaveLength(30)
    expect(o.lifts[0]!.street).toMatch(/\S/)
    expect(JSON.stringify(o).length).toBeLessThan(JSON.stringify(whole).length / 3)
  })
})

describe('vector tiles', () => {
  test('at city zoom the households come as clusters whose band counts add up to every household', async () => {
    const o = (await get('/api/v1/map/overview')).json<MapOverview>()
    const [w, s, e, n] = o.bounds!
    const z = 11
    const a = tileOf(n, w, z), b = tileOf(s, e, z)
    const bands = [0, 0, 0, 0, 0]
    let households = 0
    for (let x = a.x; x <= b.x; x++) {
      for (let y = a.y; y <= b.y; y++) {
        const t = await tile(z, x, y, `?v=${o.generation}`)
        expect(t.res.headers['cache-control']).toBe('private, max-age=3600, immutable')
        for (const f of t.households) {
          const p = f.properties as Record<string, number>
          if (p.cluster) {
            const counts = [p.n0!, p.n1!, p.n2!, p.n3!, p.n4!]
            expect(counts.reduce((q, r) => q + r, 0)).toBe(p.point_count)
            counts.forEach((c, i) => { bands[i]! += c })
            households += p.point_count!
          } else {
            bands[p.b!]!++
            households++
          }
        }
      }
    }
    // Features in a tile's buffer appear in two tiles: at least every household, and the bands' shape holds.
    expect(households).toBeGreaterThanOrEqual(400)
    expect(bands.reduce((q, r) => q + r, 0)).toBe(households)
  })

  test('at street zoom one point per household with its UPRN, band and alert; streets with their names', async () => {
    const h = 0
    const { x, y } = tileOf(whole.households.lat[h]!, whole.households.lon[h]!, 17)
    const t = await tile(17, x, y)
    expect(t.res.headers['cache-control']).toBe('no-store') // asked for without the generation
    const point = t.households.find((f) => f.properties.u === whole.households.uprn[h])
    expect(point).toBeDefined()
    expect(point!.properties.cluster).toBeUndefined()
    expect(t.streets.length).toBeGreaterThan(0)
    expect(t.streets.map((f) => f.properties.name)).toContain(whole.streets[whole.households.street[h]!]!.name)
    // Coloured by one stream's bins instead: the same points, the band of that stream.
    const residual = whole.streams.indexOf('residual')
    const byStream = await tile(17, x, y, `?colour=${residual}`)
    expect(byStream.households.length).toBe(t.households.length)
  })

  test('overview and tiles come gzipped to a client that takes it, and decode to the same', async () => {
    const o = (await get('/api/v1/map/overview')).json<MapOverview>()
    const zipped = await app.inject({ method: 'GET', url: '/api/v1/map/overview', headers: { authorization: `Bearer ${keys.viewer}`, 'accept-encoding': 'gzip, deflate' } })
    expect(zipped.headers['content-encoding']).toBe('gzip')
    expect(JSON.parse(gunzipSync(zipped.rawPayload).toString())).toEqual(o)
    const [w, , , n] = o.bounds!
    const { x, y } = tileOf(n, w, 12)
    const plain = await get(`/api/v1/map/tiles/12/${x}/${y}`)
    const tile = await app.inject({ method: 'GET', url: `/api/v1/map/tiles/12/${x}/${y}`, headers: { authorization: `Bearer ${keys.viewer}`, 'accept-encoding': 'gzip' } })
    if (plain.rawPayload.length >= 1024) {
      expect(tile.headers['content-encoding']).toBe('gzip')
      expect(gunzipSync(tile.rawPayload)).toEqual(plain.rawPayload)
    } else expect(tile.rawPayload).toEqual(plain.rawPayload)
  })

  test('tiles that cannot exist, and colours that are no stream, are refused in words', async () => {
    const bad = await get('/api/v1/map/tiles/3/8/0')
    expect(bad.statusCode).toBe(400)
    expect(bad.json().message).toContain('does not exist')
    expect((await get('/api/v1/map/tiles/3/1/1?colour=9')).json().message).toContain('not a stream')
    expect((await get('/api/v1/map/tiles/3/1/1?colour=red')).statusCode).toBe(400)
  })
})

describe('one household', () => {
  test('by UPRN, by its sensor, and nearest to a point: bins, readings and alerts as in the whole-city answer', async () => {
    const bin = whole.alerts[0]!.bin
    const h = whole.bins.household[bin]!
    const uprn = whole.households.uprn[h]!
    const byUprn = (await get(`/api/v1/map/households/${uprn}`)).json<MapHousehold>()
    expect(byUprn).toMatchObject({ uprn, lat: whole.households.lat[h], lon: whole.households.lon[h], street: whole.streets[whole.households.street[h]!]!.name })
    const mine = byUprn.bins.find((b) => b.binId === whole.bins.binId[bin])!
    expect(mine.alerts).toContain(whole.alerts[0]!.kind)
    expect(mine.fillPct).toBe(whole.bins.fillPct[bin])
    expect((await get(`/api/v1/map/devices/${encodeURIComponent(whole.bins.deviceId[bin]!)}/household`)).json<MapHousehold>().uprn).toBe(uprn)
    expect((await get(`/api/v1/map/nearest?lat=${whole.households.lat[h]! + 0.00001}&lon=${whole.households.lon[h]}`)).json<MapHousehold>().uprn).toBe(uprn)
  })

  test('the street lines alone (the why-missed hotspot map), as in the whole-city answer', async () => {
    const res = (await get('/api/v1/map/streets')).json<{ generatedAt: string; streets: CityMap['streets'] }>()
    expect(res.streets).toEqual(whole.streets)
  })

  test('what is not on the map is 404 in words', async () => {
    const none = await get('/api/v1/map/households/999999999999')
    expect(none.statusCode).toBe(404)
    expect(none.json()).toMatchObject({ code: 'KERBSIDE_ERR_NOT_ON_MAP' })
    expect((await get('/api/v1/map/devices/nobody/household')).statusCode).toBe(404)
    expect((await get('/api/v1/map/nearest?lat=10&lon=10')).statusCode).toBe(404)
    expect(city.households).toBe(400)
  })
})
