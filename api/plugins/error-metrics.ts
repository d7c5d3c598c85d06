// Every request the API refused (4xx) or failed (5xx) is counted by status and error code, so that
// an operator can see what clients get wrong and what attackers try: validation failures, unknown
// routes, missing credentials, rate limits. The code is the one in the error body: Kerbside's
// `code`, NGSI-LD's problem `title`, or OPEN311_ERROR for GeoReport's own error list.
import fp from 'fastify-plugin'
import { Counter, type Registry } from 'prom-client'

export const HTTP_ERRORS_METRIC = 'kerbside_http_errors_total'

export function errorCodeOf(url: string, status: number, payload: unknown): string {
  const text = typeof payload === 'string' ? payload.slice(0, 2000) : Buffer.isBuffer(payload) ? payload.subarray(0, 2000).toString('utf8') : ''
  const kerbside = /"code"\s*:\s*"([A-Za-z0-9_]{1,64})"/.exec(text)
  if (kerbside) return kerbside[1]!
  const ngsi = /"type"\s*:\s*"https:\/\/uri\.etsi\.org\/ngsi-ld\/errors\/([A-Za-z]{1,64})"/.exec(text)
  if (ngsi) return `NGSI_${ngsi[1]}`
  if (url.startsWith('/open311/')) return 'OPEN311_ERROR'
  return `HTTP_${status}`
}

/** The counter, on the registry (reused when the API is built again on the same registry). */
export function httpErrorsCounter(registry: Registry): Counter<'status' | 'code'> {
  return (registry.getSingleMetric(HTTP_ERRORS_METRIC) as Counter<'status' | 'code'> | undefined)
    ?? new Counter({ name: HTTP_ERRORS_METRIC, help: 'API requests answered 4xx or 5xx, by status and error code', labelNames: ['status', 'code'] as const, registers: [registry] })
}

export const errorMetricsPlugin = fp<{ registry: Registry }>(async (app, { registry }) => {
  const counter = httpErrorsCounter(registry)
  app.addHook('onSend', async (req, reply, payload) => {
    if (reply.statusCode >= 400) counter.inc({ status: String(reply.statusCode), code: errorCodeOf(req.url, reply.statusCode, payload) })
    return payload
  })
}, { name: 'kerbside-error-metrics' })
