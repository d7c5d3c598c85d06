// GeoReport v2 GET Service List and GET Service Definition, in both formats.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { WASTE_STREAMS } from '../../../core/contract/domain.ts'
import { FORMATS, expectErrors, get, items, json, startOpen311Stack, xmlRoot, type Open311Stack } from './open311-client.ts'

let s: Open311Stack
beforeAll(async () => { s = await startOpen311Stack() })
afterAll(async () => s?.close())

const SERVICE_FIELDS = ['description', 'group', 'keywords', 'metadata', 'service_code', 'service_name', 'type']

describe.each(FORMATS)('GET services.%s', (format) => {
  test('lists one realtime missed-bin service per waste stream, without a key', async () => {
    const a = await get(s.url(`/services.${format}`))
    expect(a.status).toBe(200)
    const services = items(a, format, 'services', 'service')
    expect(services.map((x) => x.service_code)).toEqual(WASTE_STREAMS.map((w) => `missed_${w}`))
    for (const service of services) {
      expect(Object.keys(service).sort()).toEqual(SERVICE_FIELDS)
      expect(String(service.metadata)).toBe('true')
      expect(service.type).toBe('realtime')
      expect(service.group).toBe('waste')
      expect(String(service.keywords)).toContain('missed bin')
      expect(String(service.service_name)).toMatch(/^Missed bin: /)
    }
  })

  test('defines the uprn, collection_date and bin_location_note attributes of a service', async () => {
    const a = await get(s.url(`/services/missed_residual.${format}`))
    expect(a.status).toBe(200)
    const def = format === 'json' ? json<Record<string, unknown>>(a) : xmlRoot(a, 'service_definition')
    expect(def.service_code).toBe('missed_residual')
    const attributes = (format === 'json' ? def.attributes : (def.attributes as { attribute: unknown[] }).attribute) as Record<string, unknown>[]
    expect(attributes.map((x) => [x.code, String(x.datatype), String(x.required), String(x.order), String(x.variable)])).toEqual([
      ['uprn', 'number', 'true', '1', 'true'],
      ['collection_date', 'datetime', 'false', '2', 'true'],
      ['bin_location_note', 'string', 'false', '3', 'true'],
      ['contacted_at', 'datetime', 'false', '4', 'true'],
    ])
    for (const attribute of attributes) {
      expect(Object.keys(attribute).sort()).toEqual(['code', 'datatype', 'datatype_description', 'description', 'order', 'required', 'variable'])
    }
  })

  test('Service Discovery names this GeoReport v2 endpoint and both formats', async () => {
    const a = await get(s.url(`/discovery.${format}`))
    expect(a.status).toBe(200)
    const doc = format === 'json' ? json<Record<string, unknown>>(a) : xmlRoot(a, 'discovery')
    expect(Object.keys(doc).sort()).toEqual(['changeset', 'contact', 'endpoints', 'key_service'])
    const endpoints = (format === 'json' ? doc.endpoints : (doc.endpoints as { endpoint: unknown[] }).endpoint) as Record<string, unknown>[]
    expect(endpoints).toHaveLength(1)
    const formats = format === 'json' ? endpoints[0]!.formats : (endpoints[0]!.formats as { format: unknown }).format
    expect(endpoints[0]).toMatchObject({ specification: 'http://wiki.open311.org/GeoReport_v2', url: s.url(''), type: 'production' })
    expect(formats).toEqual(['application/json', 'text/xml'])
  })

  test('answers an unknown service_code with 404 in the spec\'s error format', async () => {
    const [description] = expectErrors(await get(s.url(`/services/missed_asbestos.${format}`)), format, 404)
    expect(description).toContain('missed_asbestos')
  })
})

test('an unsupported format is a 400 error, in XML (the format every client reads)', async () => {
  for (const path of ['/services.csv', '/services/missed_food.html']) {
    const [description] = expectErrors(await get(s.url(path)), 'xml', 400)
    expect(description).toContain('.json or .xml')
  }
})

test('an Open311 path without a resource is a 404 in the Open311 format, not the API\'s own', async () => {
  expectErrors(await get(s.url('/services')), 'xml', 404)
  expectErrors(await get(s.url('/tokens/123.json')), 'json', 404)
  expectErrors(await get(s.url('/nothing.xml')), 'xml', 404)
  // The rest of the API keeps its own not-found body.
  const other = await get(`${s.t.httpUrl}/api/v1/nothing`)
  expect(other.status).toBe(404)
  expect(JSON.parse(other.text)).toMatchObject({ code: 'KERBSIDE_ERR_NOT_FOUND' })
})

test('the endpoints are documented in the OpenAPI file under the open311 tag', async () => {
  const doc = JSON.parse((await get(`${s.t.httpUrl}/docs/json`)).text) as { paths: Record<string, Record<string, { tags?: string[] }>> }
  const open311 = Object.entries(doc.paths).filter(([p]) => p.startsWith('/open311/v2/'))
  expect(open311.map(([p, ops]) => `${Object.keys(ops).sort().join(',')} ${p}`).sort()).toEqual([
    'get /open311/v2/discovery.{format}',
    'get /open311/v2/requests/{service_request_id}.{format}',
    'get /open311/v2/services.{format}',
    'get /open311/v2/services/{service_code}.{format}',
    'get,post /open311/v2/requests.{format}',
    'get,post /open311/v2/servicerequestupdates.{format}',
  ])
  for (const [, ops] of open311) for (const op of Object.values(ops)) expect(op.tags).toEqual(['open311'])
})
