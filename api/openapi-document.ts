// The OpenAPI document as other people's tools read it (redocly lint, generators): fastify-swagger
// builds it from the routes' schemas, and this pass finishes it in one place rather than in every
// route: a stable operationId from method and path, `security: []` on the operations the access
// model makes public, a 4xx answer on every operation, JSON Schema 2020-12 tuples (TypeBox's
// `Type.Tuple` still writes the draft-07 `items: [...]` + `additionalItems`, which OAS 3.1 forbids).
import { ACCESS_MODEL } from './access-model.ts'

type Json = Record<string, unknown>
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

/** `GET /api/v1/devices/{deviceId}/readings` → `getApiV1DevicesByDeviceIdReadings`; `.{format}` → `ByFormat`. */
export function operationIdOf(method: string, path: string): string {
  const words = path.split(/[/.]/).filter(Boolean).map((seg) => {
    const param = /^\{(.+)\}$/.exec(seg)
    return param ? `by-${param[1]}` : seg
  })
  const camel = words.join('-').split(/[-_:]+/).filter(Boolean).map((w) => w[0]!.toUpperCase() + w.slice(1)).join('')
  return method.toLowerCase() + camel
}

/** Draft-07 tuples anywhere in a schema as 2020-12 `prefixItems` (in place). */
function tuplesTo2020(value: unknown, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 64) return
  if (Array.isArray(value)) { for (const v of value) tuplesTo2020(v, depth + 1); return }
  const schema = value as Json
  if (Array.isArray(schema.items)) {
    schema.prefixItems = schema.items
    if ('additionalItems' in schema) schema.items = schema.additionalItems
    else delete schema.items
    delete schema.additionalItems
  }
  for (const v of Object.values(schema)) tuplesTo2020(v, depth + 1)
}

/**
 * A query parameter with a default need not be sent (the server fills it in), but TypeBox lists every
 * non-Optional property as required, so generated clients would demand it; OAS 3.1 §4.8.12.1.
 */
function optionalWhenDefaulted(parameters: unknown): void {
  if (!Array.isArray(parameters)) return
  for (const p of parameters as Json[]) {
    if (p.in === 'query' && p.required === true && (p.schema as Json | undefined)?.default !== undefined) delete p.required
  }
}

const ERROR_ANSWER = { description: 'The request was refused: what is wrong with it', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }

export function finishDocument<T extends object>(doc: T): T {
  const d = doc as Json
  const paths = (d.paths ?? {}) as Record<string, Record<string, Json>>
  for (const [path, ops] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (!METHODS.includes(method)) continue
      op.operationId ??= operationIdOf(method, path)
      optionalWhenDefaulted(op.parameters)
      const access = ACCESS_MODEL[`${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`]
      if (access?.roles === 'public' || (access === undefined && op.security === undefined)) op.security = []
      if (access?.roles === 'webhook') op.security = [{ webhookSecret: [] }]
      const responses = (op.responses ??= {}) as Json
      if (!Object.keys(responses).some((code) => /^4(\d\d|XX)$/.test(code))) responses['4XX'] = ERROR_ANSWER
    }
  }
  const components = (d.components ??= {}) as Json
  const schemes = (components.securitySchemes ??= {}) as Json
  schemes.webhookSecret = { type: 'apiKey', in: 'header', name: 'x-kerbside-secret', description: 'A LoRaWAN network server\'s own shared secret (KERBSIDE_LORAWAN_*_SECRET), never an API key' }
  dropUnused(components, d.paths)
  tuplesTo2020(d.components)
  tuplesTo2020(d.paths)
  return doc
}

function refsIn(value: unknown, into: Set<string>, depth = 0): Set<string> {
  if (value === null || typeof value !== 'object' || depth > 64) return into
  for (const [k, v] of Object.entries(value)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')) into.add(v.slice('#/components/schemas/'.length))
    else refsIn(v, into, depth + 1)
  }
  return into
}

/**
 * Schemas no operation reaches: routes register some for the validator only (e.g. the registry
 * import's row shapes), and fastify-swagger lists every registered one.
 */
function dropUnused(components: Json, paths: unknown): void {
  const schemas = components.schemas as Record<string, unknown> | undefined
  if (!schemas) return
  // What the operations (and other components) name, then what those schemas name in turn.
  const reached = refsIn(paths, refsIn({ ...components, schemas: undefined }, new Set()))
  const queue = [...reached]
  while (queue.length > 0) {
    for (const r of refsIn(schemas[queue.pop()!], new Set())) if (!reached.has(r)) { reached.add(r); queue.push(r) }
  }
  for (const name of Object.keys(schemas)) if (!reached.has(name)) delete schemas[name]
}

