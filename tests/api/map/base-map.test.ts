// The operator's base map (MAP_TILE_URL, MAP_TILE_ATTRIBUTION): checked at boot, handed to the
// dashboard with the map, and the only outside origin the content security policy lets images come from.
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { buildApi, type Api } from '../../../api/build-api.ts'
import { BaseMapConfigError, baseMapImageSource, parseBaseMap } from '../../../core/base-map.ts'
import type { CityMap } from '../../../api/schemas/map.ts'
import { silentLogger } from '../../../core/log.ts'
import { createApiKey } from '../../../storage/api-keys.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { seedCity } from '../../helpers/seed-city.ts'

const OSM = { url: 'https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png', attribution: '© OpenStreetMap contributors' }

describe('parseBaseMap', () => {
  test('unset: no base map (the registry streets are drawn)', () => {
    expect(parseBaseMap({})).toBeNull()
    expect(parseBaseMap({ url: '  ' })).toBeNull()
  })
  test('a template with its attribution', () => {
    expect(parseBaseMap({ ...OSM, maxZoom: 18 })).toEqual({ ...OSM, maxZoom: 18 })
    expect(parseBaseMap({ url: 'https://maps.council.example/tiles/{z}/{x}/{y}.png', attribution: 'Council' })!.maxZoom).toBe(19)
  })
  test('what cannot work is refused with the fix', () => {
    expect(() => parseBaseMap({ url: 'https://tile.example.org/{z}/{x}.png', attribution: 'x' })).toThrow(/must contain \{y\}/)
    expect(() => parseBaseMap({ url: 'ftp://tile.example.org/{z}/{x}/{y}.png', attribution: 'x' })).toThrow(/http\(s\)/)
    expect(() => parseBaseMap({ url: OSM.url })).toThrow(BaseMapConfigError)
    expect(() => parseBaseMap({ url: OSM.url })).toThrow(/MAP_TILE_ATTRIBUTION must be set/)
  })
  test('the image origin for the content security policy: {s} becomes a wildcard label', () => {
    expect(baseMapImageSource(parseBaseMap(OSM)!)).toBe('https://*.tile.openstreetmap.org')
    expect(baseMapImageSource(parseBaseMap({ url: 'http://127.0.0.1:8090/osm/{z}/{x}/{y}.png', attribution: 'x' })!)).toBe('http://127.0.0.1:8090')
  })
})

describe('the API with and without a base map', () => {
  let db: Database
  const apps: Api[] = []
  let key: string
  beforeAll(async () => {
    db = await openDatabase({ logger: silentLogger })
    await seedCity(db, { households: 20, perStreet: 10, vehicles: 1, recentLifts: 0 })
    key = (await createApiKey(db, 'viewer', 'viewer')).key
  })
  afterAll(async () => {
    for (const app of apps) await app.close()
    await db?.close()
  })
  const build = async (baseMap: ReturnType<typeof parseBaseMap>) => {
    const app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: 'admin-key-for-base-map-tests-0', baseMap })
    apps.push(app)
    return app
  }

  test('unset: the map says null and images come from Kerbside only', async () => {
    const app = await build(null)
    const res = await app.inject({ method: 'GET', url: '/api/v1/map', headers: { authorization: `Bearer ${key}` } })
    expect((res.json() as CityMap).baseMap).toBeNull()
    expect(res.headers['content-security-policy']).toMatch(/img-src 'self' data: blob:;/)
  })

  test('set: the map carries the template and attribution, and the tile server is allowed for images', async () => {
    const app = await build(parseBaseMap(OSM))
    const res = await app.inject({ method: 'GET', url: '/api/v1/map', headers: { authorization: `Bearer ${key}` } })
    expect((res.json() as CityMap).baseMap).toEqual({ ...OSM, maxZoom: 19 })
    expect(res.headers['content-security-policy']).toMatch(/img-src 'self' data: blob: https:\/\/\*\.tile\.openstreetmap\.org;/)
    expect(res.headers['content-security-policy']).toMatch(/default-src 'self';/)
  })
})
