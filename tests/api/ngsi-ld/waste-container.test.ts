// Bins as FIWARE WasteContainer entities through the NGSI-LD API, on the real embedded database:
// real output checked against the published schema, the units and status mapping, both
// representations, content negotiation, paging, q and geo-queries, ProblemDetails errors and roles.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Registry } from 'prom-client'
import { buildApi, type Api } from '../../../api/build-api.ts'
import { containerStatus, fillingLevel } from '../../../api/ngsi/waste-container.ts'
import { BIN_STATUSES } from '../../../core/contract/messages.ts'
import { silentLogger } from '../../../core/log.ts'
import { createApiKey } from '../../../storage/api-keys.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { seedMinimalRegistry } from '../../helpers/stack.ts'
import { publishedExample, wasteContainerValidator } from './published-schema.ts'

const ADMIN = 'admin-key-of-this-test-0123456789'
const CONTEXT = 'https://raw.githubusercontent.com/smart-data-models/dataModel.WasteManagement/master/context.jsonld'
/** Entity ids are opaque (bins.public_id), never the bin id, which may embed the UPRN: looked up once the bins exist. */
const publicIds = new Map<string, string>()
const ID = (bin: string) => `urn:ngsi-ld:WasteContainer:${publicIds.get(bin) ?? bin}`
/** The fitted sensor, named by its container's opaque id: device ids may embed the UPRN too. */
const DEVICE = (bin: string) => `urn:ngsi-ld:Device:${publicIds.get(bin) ?? bin}`
const READING_AT = '2026-11-20T08:15:00.000Z'
const EMPTIED_AT = '2026-11-16T09:42:00.000Z'
type Entity = Record<string, unknown> & { id: string }

let db: Database
let app: Api
let viewer: string
let provisioning: string
const validate = wasteContainerValidator()
const get = (url: string, headers: Record<string, string> = {}, key: string | null = viewer) =>
  app.inject({ method: 'GET', url: `/ngsi-ld/v1${url}`, headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers } })
const ids = (body: Entity[]) => body.map((e) => e.id)

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN })
  await seedMinimalRegistry(db) // bin-1 residual at 100000000001, bin-2 recycling at 100000000002, ward Central
  await db.query(`INSERT INTO households (uprn, address, street, postcode, ward, lat, lon) VALUES
    (100000000003, '3 Far Lane', 'Far Lane', 'L9 9ZZ', 'North', 53.4500, -2.9500),
    (100000000004, 'Flat 4, Unmapped House', NULL, NULL, 'North', NULL, NULL)`)
  await db.query(`INSERT INTO bins (bin_id, uprn, stream, rfid_tag, capacity_l, colour, active) VALUES
    ('bin-3', 100000000003, 'food', 'TAG-0003', 23, 'green', true),
    ('bin-4', 100000000004, 'residual', 'TAG-0004', 240, NULL, true),
    ('bin-5', 100000000003, 'garden', 'TAG-0005', 240, NULL, false)`)
  await db.query(`UPDATE bins SET created_at = '2026-01-05T10:00:00Z' WHERE bin_id = 'bin-1'`)
  await db.query(`INSERT INTO devices (device_id, kind, secret_hash, bin_id, online) VALUES ('s-1', 'bin', '!', 'bin-1', true), ('s-3', 'bin', '!', 'bin-3', false)`)
  await db.query(`INSERT INTO latest_readings (device_id, bin_id, uprn, ts, seq, fill_pct, temp_c, battery_v, status) VALUES
    ('s-1', 'bin-1', 100000000001, $1, 7, 64.5, 18.25, 3.61, 'lidOpen'),
    ('s-3', 'bin-3', 100000000003, $1, 3, 100, NULL, 3.5, NULL)`, [READING_AT])
  // The last *emptying* is the last lift recorded as collected, not a later crew exception.
  await db.query(`INSERT INTO lift_events (ts, device_id, seq, vehicle_id, tag, bin_id, uprn, weight_kg, lat, lon, outcome) VALUES
    ($1, 'u-1', 1, 'rcv-1', 'TAG-0001', 'bin-1', 100000000001, 17.5, 53.4084, -2.9916, 'collected'),
    ($2, 'u-1', 2, 'rcv-1', 'TAG-0001', 'bin-1', 100000000001, NULL, 53.4084, -2.9916, 'not_presented')`, [EMPTIED_AT, '2026-11-18T09:40:00Z'])
  await db.query(`INSERT INTO contracts (contract_id, contractor_id, name, starts_on) VALUES ('k1', 'c1', 'Test contract', '2026-01-01')`)
  await db.query(`INSERT INTO rounds (round_id, contract_id, name, stream, vehicle_id, weekday, frequency, anchor_date, ends_at) VALUES ('r1', 'k1', 'Mon residual', 'residual', 'rcv-1', 1, 'weekly', '2099-01-05', '15:30')`)
  await db.query(`INSERT INTO round_households (round_id, uprn, position) VALUES ('r1', 100000000001, 0)`)
  await db.query(`INSERT INTO scheduled_collections (uprn, stream, round_id, scheduled_date, due_date) VALUES (100000000001, 'residual', 'r1', '2099-01-05', '2099-01-05'), (100000000001, 'residual', 'r1', '2099-01-12', '2099-01-12')`)
  for (const r of (await db.query<{ binId: string; publicId: string }>(`SELECT bin_id AS "binId", public_id AS "publicId" FROM bins`)).rows) publicIds.set(r.binId, r.publicId)
  viewer = (await createApiKey(db, 'smart-city platform', 'viewer')).key
  provisioning = (await createApiKey(db, 'installer', 'provisioning')).key
})
afterAll(async () => { await app?.close(); await db?.close() })

describe('the published schema', () => {
  test('the validator accepts the model\'s own example and refuses a percentage and an unknown status', () => {
    expect(validate(publishedExample('example.json'))).toEqual([])
    expect(validate({ ...publishedExample('example.json'), fillingLevel: 64.5, status: 'full' })).toEqual(['/fillingLevel must be <= 1', '/status must be equal to one of the allowed values'])
  })

  test('every entity, with a sensor and without, is valid against schema.json in the simplified form', async () => {
    const res = await get('/entities?type=WasteContainer&options=keyValues')
    expect(res.statusCode).toBe(200)
    const body = res.json<Entity[]>()
    expect(ids(body)).toEqual([ID('bin-1'), ID('bin-2'), ID('bin-3')]) // bin-4 has no coordinates, bin-5 is inactive
    for (const e of body) expect({ id: e.id, errors: validate(e) }).toEqual({ id: e.id, errors: [] })
    // In application/ld+json too, where the body carries its @context.
    for (const e of (await get('/entities?type=WasteContainer&options=keyValues', { accept: 'application/ld+json' })).json<Entity[]>()) expect(validate(e)).toEqual([])
  })
})

describe('mapping', () => {
  test('a bin with a sensor: fill % to 0–1, temperature, status, device, emptying, next deadline, contractor', async () => {
    const e = (await get(`/entities/${ID('bin-1')}?options=keyValues`)).json<Entity>()
    expect(e).toEqual({
      id: ID('bin-1'), type: 'WasteContainer',
      location: { type: 'Point', coordinates: [-2.9916, 53.4084] },
      address: { streetAddress: 'Test Street', postalCode: 'L1 1AA' }, wardId: 'Central',
      category: ['portable'], storedWasteKind: 'other', storedWasteCode: '20 03 01', storedWasteOrigin: 'household',
      binCapacity: 240, fillingLevel: 0.645, temperature: 18.25, status: 'lidOpen',
      refDevice: [DEVICE('bin-1')],
      dateLastEmptying: EMPTIED_AT,
      nextActuationDeadline: '2099-01-05T15:30:00.000Z', // the round's end, London time (GMT in January)
      responsible: 'Test Contractor',
      dateCreated: '2026-01-05T10:00:00.000Z', dateModified: READING_AT, // the newest of creation, reading and emptying
    })
  })

  test('a bin without a sensor has no filling level and its status is unknown; a full bin is 1; a reading without status is unknown', async () => {
    const [two, three] = (await get(`/entities?id=${ID('bin-2')},${ID('bin-3')}&options=keyValues`)).json<Entity[]>()
    expect(two).not.toHaveProperty('fillingLevel')
    expect(two).not.toHaveProperty('refDevice')
    expect(two).toMatchObject({ status: 'unknown', storedWasteKind: 'other', binCapacity: 240 })
    expect(two).not.toHaveProperty('storedWasteCode') // mixed dry recycling has no single code
    expect(three).toMatchObject({ fillingLevel: 1, status: 'unknown', storedWasteKind: 'organic', storedWasteCode: '20 01 08', binColor: 'green', binCapacity: 23, wardId: 'North' })
    expect(three).not.toHaveProperty('temperature')
  })

  test('unit and status conversions', () => {
    expect([0, 0.5, 37.5, 64.5, 99.99, 100].map(fillingLevel)).toEqual([0, 0.005, 0.375, 0.645, 0.9999, 1])
    for (const s of BIN_STATUSES) expect(containerStatus({ deviceId: 's', readingStatus: s })).toBe(s)
    expect(containerStatus({ deviceId: 's', readingStatus: null })).toBe('unknown')
    expect(containerStatus({ deviceId: 's', readingStatus: 'exploded' })).toBe('unknown')
    expect(containerStatus({ deviceId: null, readingStatus: 'ok' })).toBe('unknown')
  })

  test('no UPRN, house number, RFID tag or inactive bin leaves through the view', async () => {
    const text = (await get('/entities?type=WasteContainer&limit=1000')).body
    for (const secret of ['100000000001', '1 Test Street', 'TAG-0001', 'TAG-0003', 'bin-5', 'Unmapped']) expect(text).not.toContain(secret)
  })
})

describe('normalized representation', () => {
  test('Property, GeoProperty and Relationship with observedAt and unitCode; simplifying it gives the keyValues form', async () => {
    const n = (await get(`/entities/${ID('bin-1')}`)).json<Record<string, Record<string, unknown>>>()
    expect(n.location).toEqual({ type: 'GeoProperty', value: { type: 'Point', coordinates: [-2.9916, 53.4084] } })
    expect(n.fillingLevel).toEqual({ type: 'Property', value: 0.645, unitCode: 'C62', observedAt: READING_AT })
    expect(n.temperature).toEqual({ type: 'Property', value: 18.25, unitCode: 'CEL', observedAt: READING_AT })
    expect(n.binCapacity).toEqual({ type: 'Property', value: 240, unitCode: 'LTR' })
    expect(n.status).toEqual({ type: 'Property', value: 'lidOpen', observedAt: READING_AT })
    expect(n.dateLastEmptying).toEqual({ type: 'Property', value: { '@type': 'DateTime', '@value': EMPTIED_AT } })
    expect(n.refDevice).toEqual({ type: 'Relationship', object: DEVICE('bin-1') })
    const simplified: Record<string, unknown> = { id: n.id, type: n.type }
    for (const [name, a] of Object.entries(n)) {
      if (name === 'id' || name === 'type') continue
      if (a.type === 'Relationship') simplified[name] = [a.object] // the model types refDevice as a list
      else simplified[name] = (a.value as { '@value'?: string })['@value'] ?? a.value
    }
    expect(simplified).toEqual((await get(`/entities/${ID('bin-1')}?options=keyValues`)).json())
    expect(validate(simplified)).toEqual([])
  })
})

describe('NGSI-LD HTTP binding', () => {
  test('application/json by default with the @context in a Link header; application/ld+json carries it in the body', async () => {
    const json = await get(`/entities/${ID('bin-2')}`)
    expect(json.headers['content-type']).toMatch(/^application\/json/)
    expect(json.headers.link).toBe(`<${CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`)
    expect(json.json()).not.toHaveProperty('@context')
    const ld = await get(`/entities/${ID('bin-2')}`, { accept: 'application/ld+json' })
    expect(ld.headers['content-type']).toMatch(/^application\/ld\+json/)
    expect(ld.headers.link).toBeUndefined()
    expect(ld.json()['@context']).toEqual([CONTEXT, 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld'])
    expect((await get(`/entities/${ID('bin-2')}`, { accept: 'application/json;q=0.5, application/ld+json' })).headers['content-type']).toMatch(/ld\+json/)
    const refused = await get(`/entities/${ID('bin-2')}`, { accept: 'text/html' })
    expect(refused.statusCode).toBe(406)
    expect(refused.json()).toMatchObject({ type: 'about:blank', title: 'Not Acceptable' })
  })

  test('paging by limit and offset with a next link; count=true gives NGSILD-Results-Count; over the maximum is TooManyResults', async () => {
    const first = await get('/entities?type=WasteContainer&limit=2&count=true')
    expect(ids(first.json())).toEqual([ID('bin-1'), ID('bin-2')])
    expect(first.headers['ngsild-results-count']).toBe('3')
    expect(first.headers.link).toContain('</ngsi-ld/v1/entities?type=WasteContainer&limit=2&count=true&offset=2>; rel="next"')
    const second = await get('/entities?type=WasteContainer&limit=2&offset=2')
    expect(ids(second.json())).toEqual([ID('bin-3')])
    expect(second.headers.link).not.toContain('rel="next"')
    const onlyCount = await get('/entities?type=WasteContainer&limit=0&options=count')
    expect([onlyCount.json(), onlyCount.headers['ngsild-results-count']]).toEqual([[], '3'])
    const tooMany = await get('/entities?type=WasteContainer&limit=5000')
    expect(tooMany.statusCode).toBe(403)
    expect(tooMany.json()).toEqual({ type: 'https://uri.etsi.org/ngsi-ld/errors/TooManyResults', title: 'TooManyResults', status: 403, detail: expect.any(String) })
  })

  test('types other than WasteContainer match nothing; the expanded type name matches; a query needs some filter', async () => {
    expect((await get('/entities?type=Vehicle')).json()).toEqual([])
    expect(ids((await get(`/entities?type=${encodeURIComponent('https://smartdatamodels.org/dataModel.WasteManagement/WasteContainer')}`)).json())).toHaveLength(3)
    const none = await get('/entities')
    expect(none.statusCode).toBe(400)
    expect(none.json().type).toBe('https://uri.etsi.org/ngsi-ld/errors/BadRequestData')
  })

  test('attrs keeps only the named attributes and leaves out entities that have none of them', async () => {
    const body = (await get('/entities?type=WasteContainer&attrs=fillingLevel,temperature&options=keyValues')).json<Entity[]>()
    expect(body).toEqual([
      { id: ID('bin-1'), type: 'WasteContainer', fillingLevel: 0.645, temperature: 18.25 },
      { id: ID('bin-3'), type: 'WasteContainer', fillingLevel: 1 },
    ])
  })
})

describe('q and geo-queries', () => {
  const q = async (query: string) => ids((await get(`/entities?type=WasteContainer&q=${encodeURIComponent(query)}`)).json())

  test('by ward, fill, status, kind, capacity, existence, lists, ranges, AND and OR', async () => {
    expect(await q('wardId=="North"')).toEqual([ID('bin-3')])
    expect(await q('wardId=="Central";fillingLevel>0.6')).toEqual([ID('bin-1')])
    expect(await q('fillingLevel>=0.645')).toEqual([ID('bin-1'), ID('bin-3')])
    expect(await q('fillingLevel==0.5..0.7')).toEqual([ID('bin-1')])
    expect(await q('status=="unknown"')).toEqual([ID('bin-2'), ID('bin-3')])
    expect(await q('status=="lidOpen"|storedWasteKind=="organic"')).toEqual([ID('bin-1'), ID('bin-3')])
    expect(await q('storedWasteKind=="other";(binCapacity<100|refDevice)')).toEqual([ID('bin-1')])
    expect(await q('binId=="bin-2","bin-3"')).toEqual([]) // bin ids are not in the view (they may embed the UPRN)
    expect(await q('temperature')).toEqual([ID('bin-1')])
    expect(await q('wardId!="Central"')).toEqual([ID('bin-3')])
    expect(await q('noSuchAttribute=="x"')).toEqual([])
  })

  test('a bad query is BadRequestData with what is wrong', async () => {
    for (const bad of ['fillingLevel>"high"', 'wardId>>1', 'wardId=="North', 'name~="x.*"', '(status=="ok"']) {
      const res = await get(`/entities?type=WasteContainer&q=${encodeURIComponent(bad)}`)
      expect(res.statusCode).toBe(400)
      expect(res.json()).toMatchObject({ type: 'https://uri.etsi.org/ngsi-ld/errors/BadRequestData', title: 'BadRequestData', detail: expect.any(String) })
    }
  })

  test('within a bounding box (a Polygon), disjoint from it, and near a point', async () => {
    const box = JSON.stringify([[[-3.0, 53.40], [-2.98, 53.40], [-2.98, 53.42], [-3.0, 53.42], [-3.0, 53.40]]])
    const geo = async (georel: string, geometry: string, coordinates: string) =>
      ids((await get(`/entities?type=WasteContainer&georel=${encodeURIComponent(georel)}&geometry=${geometry}&coordinates=${encodeURIComponent(coordinates)}`)).json())
    expect(await geo('within', 'Polygon', box)).toEqual([ID('bin-1'), ID('bin-2')])
    expect(await geo('disjoint', 'Polygon', box)).toEqual([ID('bin-3')])
    expect(await geo('near;maxDistance==50', 'Point', '[-2.9501,53.4501]')).toEqual([ID('bin-3')])
    expect(await geo('near;maxDistance==5', 'Point', '[-2.9916,53.4084]')).toEqual([ID('bin-1')])
    const open = await get(`/entities?type=WasteContainer&georel=within&geometry=Polygon&coordinates=${encodeURIComponent('[[[-3,53],[-2,53],[-2,54]]]')}`)
    expect(open.statusCode).toBe(400)
  })
})

describe('errors and access', () => {
  test('an id that is not a URI is BadRequestData (ETSI GS CIM 009), in Retrieve Entity and in Query Entities', async () => {
    for (const id of ['not-a-uri', 'bin-1', '1234', ':no-scheme', 'urn:ngsi-ld:WasteContainer:has space']) {
      const res = await get(`/entities/${encodeURIComponent(id)}`)
      expect(res.statusCode, id).toBe(400)
      expect(res.json()).toMatchObject({ type: 'https://uri.etsi.org/ngsi-ld/errors/BadRequestData', title: 'BadRequestData', detail: expect.stringContaining('not a URI') })
    }
    const query = await get(`/entities?type=WasteContainer&id=${encodeURIComponent(`${ID('bin-1')},not-a-uri`)}`)
    expect(query.statusCode).toBe(400)
    expect(query.json()).toMatchObject({ title: 'BadRequestData', detail: expect.stringContaining('id=not-a-uri') })
  })

  test('unknown, inactive or unmapped bins are ResourceNotFound; writes are not offered', async () => {
    for (const id of [ID('nope'), ID('bin-4'), ID('bin-5'), 'urn:ngsi-ld:Vehicle:bin-1']) {
      const res = await get(`/entities/${encodeURIComponent(id)}`)
      expect(res.statusCode).toBe(404)
      expect(res.json()).toMatchObject({ type: 'https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound', title: 'ResourceNotFound' })
    }
    const write = await app.inject({ method: 'POST', url: '/ngsi-ld/v1/entities', headers: { authorization: `Bearer ${viewer}` }, payload: {} })
    expect(write.statusCode).toBe(404)
    expect(write.json().detail).toMatch(/read-only/)
  })

  test('viewer, contract manager, CRM and admin may read; no key is 401 and a provisioning key 403, as ProblemDetails', async () => {
    const cm = (await createApiKey(db, 'cm', 'contract_manager')).key
    const crm = (await createApiKey(db, 'crm', 'crm')).key
    for (const key of [viewer, cm, crm, ADMIN]) expect((await get('/entities?type=WasteContainer', {}, key)).statusCode).toBe(200)
    const anonymous = await get('/entities?type=WasteContainer', {}, null)
    expect(anonymous.statusCode).toBe(401)
    expect(anonymous.json()).toMatchObject({ type: 'about:blank', title: 'Unauthorized', status: 401 })
    expect((await get('/entities?type=WasteContainer', {}, provisioning)).json()).toMatchObject({ type: 'about:blank', title: 'Forbidden', status: 403 })
  })
})

describe('identifiers without UPRNs (issue 19)', () => {
  test('entity ids are opaque and stable; neither the UPRN nor the bin id nor the device id appears anywhere in the view', async () => {
    await db.query(`INSERT INTO bins (bin_id, uprn, stream, capacity_l, active) VALUES ('bin-100000000003-rec', 100000000003, 'recycling', 240, true)`)
    // A sensor named as docs/import-columns.md's example names them (sensor-<uprn>-<stream>): refDevice named it.
    await db.query(`INSERT INTO devices (device_id, kind, secret_hash, bin_id) VALUES ('sensor-100000000003-rec', 'bin', '!', 'bin-100000000003-rec')`)
    const all = (await get('/entities?type=WasteContainer&limit=100')).json<Entity[]>()
    const text = JSON.stringify(all)
    expect(all.length).toBeGreaterThanOrEqual(4)
    for (const e of all) expect(e.id).toMatch(/^urn:ngsi-ld:WasteContainer:[0-9a-f]{20}$/)
    expect(text).not.toMatch(/10000000000\d/)
    expect(text).not.toMatch(/bin-\d/)
    const again = (await get('/entities?type=WasteContainer&limit=100')).json<Entity[]>()
    expect(ids(again)).toEqual(ids(all))
    expect((await get(`/entities/${all[0]!.id}`)).statusCode).toBe(200)
    expect((await get('/entities/urn:ngsi-ld:WasteContainer:bin-1')).statusCode).toBe(404) // the old form names nothing
    expect(all.some((e) => 'refDevice' in e)).toBe(true)
    expect(text).not.toContain('sensor-')
    await db.query(`DELETE FROM devices WHERE device_id = 'sensor-100000000003-rec'`)
    await db.query(`DELETE FROM bins WHERE bin_id = 'bin-100000000003-rec'`)
  })
})
