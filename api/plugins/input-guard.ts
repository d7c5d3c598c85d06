// Values that pass a JSON schema but that no route can use, refused with a 400 before any handler
// sees them. ajv coerces the query string "Infinity" or "1e309" to Infinity and lets it through
// `type: integer` (Infinity % 1 is NaN, which its check reads as "no fraction"); "1e23" is an
// integer beyond 2^53 that PostgreSQL's bigint cannot take; and PostgreSQL text cannot hold the NUL
// character at all. Each of these used to reach the database and come back as a 500 (found by
// tests/hostile/api-openapi.test.ts).
import fp from 'fastify-plugin'
import { httpError } from '../errors.ts'

/** Bodies bigger than this are left to their route (the registry import checks every row itself). */
const MAX_WALKED_BODY = 1024 * 1024
const MAX_DEPTH = 32

/** The first unusable value in `value`, as a path and a reason; null when there is none. */
export function unusableValue(value: unknown, path: string, depth = 0): string | null {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return `${path} must be a finite number`
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) return `${path} is too large (beyond ±2^53)`
    return null
  }
  if (typeof value === 'string') return value.includes('\u0000') ? `${path} must not contain the NUL character` : null
  if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH) return null
  for (const [k, v] of Object.entries(value)) {
    if (k.includes('\u0000')) return `${path} has a field name with the NUL character`
    const found = unusableValue(v, `${path}/${k}`, depth + 1)
    if (found) return found
  }
  return null
}

export const inputGuardPlugin = fp(async (app) => {
  app.addHook('preHandler', async (req) => {
    const size = Number(req.headers['content-length'] ?? 0)
    const problem = unusableValue(req.params, 'params') ?? unusableValue(req.query, 'querystring') ?? (size <= MAX_WALKED_BODY ? unusableValue(req.body, 'body') : null)
    if (problem) throw httpError(400, 'KERBSIDE_ERR_BAD_VALUE', `${problem}.`)
  })
}, { name: 'kerbside-input-guard' })
