// Invalid API requests generated from the API's own OpenAPI document (GET /docs/json of the running
// API): for every operation, path and query parameters of the wrong type, extreme, oversized,
// repeated or carrying injection attempts; bodies missing, malformed, of the wrong type, with every
// property of the wrong type or oversized, over the size limit, with the wrong content type or a
// prototype-pollution key; no credentials and forged ones. Never a 5xx: each is answered 4xx with
// a reason in the body and counted in /metrics (kerbside_http_errors_total by status and code),
// or, where the input is merely odd, answered normally. Stored data is unchanged.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { delta, fingerprint, startHostileStack, Tally, type HostileStack } from './harness.ts'

let h: HostileStack
beforeAll(async () => { h = await startHostileStack({ HTTP_RATE_LIMIT_PER_MINUTE: 10_000_000 }) })
afterAll(async () => h?.close())

interface Schema { type?: string | string[]; enum?: unknown[]; const?: unknown; format?: string; properties?: Record<string, Schema>; required?: string[]; items?: Schema; $ref?: string; anyOf?: Schema[]; oneOf?: Schema[] }
interface Parameter { name: string; in: 'path' | 'query' | 'header'; required?: boolean; schema?: Schema }
interface Operation { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema?: Schema }> } }
interface Doc { paths: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, Schema> } }

const INJECTIONS = [
  "' OR '1'='1' --", '1; DROP TABLE households; --', "x' UNION SELECT secret_hash FROM devices --",
  '<script>alert(document.cookie)</script>', '"><img src=x onerror=alert(1)>',
  '../../../../etc/passwd', '..%2f..%2f..%2fetc%2fpasswd', '..\\..\\windows\\win.ini',
  'x\r\nSet-Cookie: pwned=1', 'x%0d%0aX-Injected: 1', '${jndi:ldap://127.0.0.1/a}', '{{7*7}}', '{"$gt":""}',
  '\u202eevil', 'nul\u0000byte', '\u{1F5D1}\u{FE0F}'.repeat(50),
]
const WRONG_NUMBERS = ['abc', 'NaN', 'Infinity', '1e309', '-1', '1.5', '0x10', '99999999999999999999999', '-0', ' ', '']
const WRONG_BOOLEANS = ['maybe', '2', 'yes please']
const OVERSIZED = 'x'.repeat(10_000)

function resolve(doc: Doc, s: Schema | undefined): Schema {
  if (!s) return {}
  if (s.$ref) return resolve(doc, doc.components?.schemas?.[s.$ref.split('/').pop()!])
  return s
}
const typeOf = (s: Schema): string => {
  const t = Array.isArray(s.type) ? s.type.find((x) => x !== 'null') : s.type
  if (t) return t
  const alt = (s.anyOf ?? s.oneOf)?.[0]
  return alt ? typeOf(alt) : s.enum || s.const !== undefined ? 'string' : 'string'
}

/** A plausible value for a parameter, so that one bad parameter at a time is what the API sees. */
function plausible(p: Parameter, s: Schema): string {
  if (p.name === 'format') return 'json'
  if (s.enum?.length) return String(s.enum[0])
  const alt = s.anyOf ?? s.oneOf
  if (alt?.[0]?.const !== undefined) return String(alt[0].const)
  switch (typeOf(s)) {
    case 'integer': case 'number': return '1'
    case 'boolean': return 'false'
    default: return s.format === 'date' ? '2026-03-02' : s.format === 'date-time' ? '2026-03-02T10:00:00Z' : 'x'
  }
}

function badValues(s: Schema): string[] {
  const t = typeOf(s)
  const typed = t === 'integer' || t === 'number' ? WRONG_NUMBERS : t === 'boolean' ? WRONG_BOOLEANS : []
  return [...typed, OVERSIZED, ...INJECTIONS]
}

const allowsNull = (s: Schema): boolean =>
  (Array.isArray(s.type) && s.type.includes('null')) || s.type === 'null' || (s.anyOf ?? s.oneOf ?? []).some(allowsNull)

/** Wrong values for a body property of this schema (null only where the schema does not allow it). */
function wrongTyped(s: Schema): unknown[] {
  return wrongForType(s).filter((v) => v !== null || !allowsNull(s))
}
function wrongForType(s: Schema): unknown[] {
  switch (typeOf(s)) {
    case 'integer': case 'number': return ['12', 1e308, -1e308, 1.5, null, true, [], {}]
    case 'boolean': return ['true', 1, null]
    case 'array': return ['not an array', { 0: 'x' }, Array(10_000).fill('x')]
    case 'object': return ['not an object', [], 42]
    default: return [42, true, null, [], { $ne: null }, 'x'.repeat(100_000), ...INJECTIONS]
  }
}

interface Req { method: string; url: string; headers: Record<string, string>; body?: string | Buffer; label: string }

function requestsFor(doc: Doc, path: string, method: string, op: Operation, auth: Record<string, string>): Req[] {
  const params = (op.parameters ?? []).filter((p) => p.in === 'path' || p.in === 'query')
  const base: Record<string, string> = {}
  for (const p of params) if (p.in === 'path' || p.required) base[`${p.in}:${p.name}`] = plausible(p, resolve(doc, p.schema))
  const build = (values: Record<string, string | string[]>) => {
    let url = path
    const q = new URLSearchParams()
    for (const [k, v] of Object.entries(values)) {
      const [where, name] = k.split(':') as [string, string]
      if (where === 'path') url = url.replace(`{${name}}`, encodeURIComponent(String(v)))
      else for (const one of Array.isArray(v) ? v : [v]) q.append(name, one)
    }
    return `${url}${q.size ? `?${q}` : ''}`
  }
  const jsonBody = op.requestBody?.content['application/json'] ? resolve(doc, op.requestBody.content['application/json'].schema) : null
  const formBody = op.requestBody?.content['application/x-www-form-urlencoded']
  const headers = { ...auth, ...(jsonBody ? { 'content-type': 'application/json' } : {}) }
  const minimal = jsonBody ? JSON.stringify(Object.fromEntries((jsonBody.required ?? []).map((k) => [k, 'x']))) : formBody ? '' : undefined
  const out: Req[] = []
  const add = (label: string, values: Record<string, string | string[]>, body = minimal, h2: Record<string, string> = headers) =>
    out.push({ method: method.toUpperCase(), url: build(values), headers: h2, body: method === 'get' || method === 'delete' ? undefined : body, label })

  for (const p of params) {
    const key = `${p.in}:${p.name}`
    for (const v of badValues(resolve(doc, p.schema))) add(`${key} = ${JSON.stringify(v.slice(0, 30))}`, { ...base, [key]: v })
    if (p.in === 'query') add(`${key} repeated`, { ...base, [key]: ['1', 'x', '2'] })
    if (p.required && p.in === 'query') add(`${key} missing`, Object.fromEntries(Object.entries(base).filter(([k]) => k !== key)))
  }
  if (jsonBody || formBody) {
    const ct = jsonBody ? 'application/json' : 'application/x-www-form-urlencoded'
    const raw = (label: string, body: string | Buffer, contentType = ct) => add(label, base, body as string, { ...auth, 'content-type': contentType })
    raw('empty body', '')
    raw('truncated JSON', '{"a":', 'application/json')
    for (const v of ['null', '[]', '"text"', '123', 'true']) raw(`body ${v}`, v, 'application/json')
    raw('body of 2 MB', Buffer.alloc(2 * 1024 * 1024, 0x61), ct)
    raw('JSON nested 20,000 deep', `${'['.repeat(20_000)}${']'.repeat(20_000)}`, 'application/json')
    raw('__proto__ key', '{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"isAdmin":true}}}', 'application/json')
    raw('wrong content type', '{}', 'text/plain')
    raw('XML body', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', 'application/xml')
    if (formBody) for (const v of INJECTIONS) raw(`form with ${JSON.stringify(v.slice(0, 20))} everywhere`, new URLSearchParams({ service_code: v, address_id: v, lat: v, long: v, description: v, email: v }).toString())
    if (jsonBody?.properties) {
      for (const [name, prop] of Object.entries(jsonBody.properties)) {
        for (const v of wrongTyped(resolve(doc, prop))) raw(`body.${name} = ${JSON.stringify(v)?.slice(0, 30)}`, JSON.stringify({ ...JSON.parse(minimal ?? '{}'), [name]: v }), 'application/json')
      }
    }
  }
  // No credentials, and forged ones.
  add('no credentials', base, minimal, jsonBody ? { 'content-type': 'application/json' } : {})
  add('forged API key', base, minimal, { ...headers, authorization: `Bearer ks_${'a'.repeat(12)}_${'b'.repeat(43)}` })
  add('forged session', base, minimal, { ...headers, authorization: `Bearer kss_${'c'.repeat(40)}` })
  return out
}

/** The reason an error body gives: Kerbside's message, Open311's description, NGSI-LD's detail. */
function reasonOf(status: number, contentType: string, body: string): string | null {
  if (contentType.includes('json')) {
    try {
      const b = JSON.parse(body) as { message?: string; detail?: string; description?: string; errors?: { message?: string }[] } | { description?: string }[]
      // Kerbside's message, NGSI-LD's detail, Open311's description, the registry import's error list
      const r = Array.isArray(b) ? b[0]?.description : b.message ?? b.detail ?? b.description ?? b.errors?.[0]?.message
      return r && r.length > 0 ? r : null
    } catch {
      return null
    }
  }
  if (contentType.includes('xml')) return /<description>([^<]+)<\/description>/.exec(body)?.[1] ?? null
  return status >= 400 ? null : ''
}

test('invalid requests for every operation of the OpenAPI document: never a 5xx, each 4xx with a reason and counted', async () => {
  const tally = new Tally('API from the OpenAPI document')
  const doc = await (await fetch(`${h.httpUrl}/docs/json`)).json() as Doc
  const auth = { authorization: `Bearer ${h.adminKey}` }
  const requests: Req[] = []
  let operations = 0
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (!['get', 'post', 'put', 'delete', 'patch'].includes(method)) continue
      if (path === '/api/v1/live' || path.startsWith('/docs')) continue // WebSocket upgrade; the docs UI
      operations++
      requests.push(...requestsFor(doc, path, method, op, auth))
    }
  }
  const before = await fingerprint(h.db, { excludeDevices: [h.probe.deviceId] })
  const countedBefore = await h.byLabel('kerbside_http_errors_total', 'code')
  const failures: string[] = []
  const accepted: string[] = []
  let next = 0
  const worker = async () => {
    while (next < requests.length) {
      const r = requests[next++]!
      tally.tried++
      let res: Response
      try {
        res = await fetch(`${h.httpUrl}${r.url}`, { method: r.method, headers: r.headers, body: r.body })
      } catch (err) {
        failures.push(`${r.method} ${r.url.slice(0, 120)} [${r.label}]: no answer (${(err as Error).message})`)
        continue
      }
      const body = await res.text()
      if (res.headers.get('set-cookie')?.includes('pwned') || res.headers.get('x-injected')) failures.push(`${r.method} ${r.url.slice(0, 120)} [${r.label}]: header injected`)
      if (res.status >= 500) {
        tally.serverErrors++
        failures.push(`${r.method} ${r.url.slice(0, 120)} [${r.label}]: ${res.status} ${body.slice(0, 200)}`)
      } else if (res.status >= 400) {
        const reason = reasonOf(res.status, res.headers.get('content-type') ?? '', body)
        if (!reason) failures.push(`${r.method} ${r.url.slice(0, 120)} [${r.label}]: ${res.status} without a reason: ${body.slice(0, 200)}`)
        tally.reject(String(res.status))
      } else if (r.method !== 'GET') accepted.push(`${r.method} ${r.url.slice(0, 100)} [${r.label}] -> ${res.status}`)
      else tally.reject('2xx (odd but harmless input, answered normally)')
    }
  }
  await Promise.all(Array.from({ length: 6 }, worker))
  await h.stillUp()

  const counted = delta(await h.byLabel('kerbside_http_errors_total', 'code'), countedBefore)
  const counted4xx = Object.values(counted).reduce((s, n) => s + n, 0)
  const probe = await h.probeStored()
  tally.lost = h.probe.sent - probe.distinct
  tally.duplicates = probe.stored - probe.distinct
  tally.print(`operations ${operations}, errors counted in /metrics by code ${JSON.stringify(counted)}, writes accepted ${accepted.length}`)
  for (const a of accepted) console.error(`  accepted: ${a}`)

  expect(failures).toEqual([])
  expect(tally.serverErrors).toBe(0)
  const refused = Object.entries(tally.rejected).filter(([k]) => /^4\d\d$/.test(k)).reduce((s, [, n]) => s + n, 0)
  expect(counted4xx).toBeGreaterThanOrEqual(refused)
  expect(counted.KERBSIDE_ERR_INTERNAL ?? 0).toBe(0)
  expect(await fingerprint(h.db, { excludeDevices: [h.probe.deviceId] })).toEqual(before)
})
