// Operations endpoints: liveness, readiness (each dependency checked) and Prometheus metrics.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Registry } from 'prom-client'

/** A dependency's readiness: a boolean, or with the reason it is not ready (shown to the operator). */
export type ReadinessCheck = () => Promise<boolean | { ok: boolean; reason?: string | null }> | boolean | { ok: boolean; reason?: string | null }

export const opsRoutes: FastifyPluginAsyncTypebox<{ registry: Registry; checks: Record<string, ReadinessCheck> }> = async (app, { registry, checks }) => {
  app.get('/healthz', { schema: { tags: ['ops'], summary: 'Liveness: the process is up', response: { 200: Type.Object({ status: Type.Literal('ok') }) } } }, async () => ({ status: 'ok' as const }))

  const Readiness = Type.Object({
    status: Type.String(),
    checks: Type.Record(Type.String(), Type.Boolean()),
    problems: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Why a dependency is not ready, and what to do' })),
  })
  app.get('/readyz', {
    schema: { tags: ['ops'], summary: 'Readiness: every dependency answers', response: { 200: Readiness, 503: Readiness } },
  }, async (_req, reply) => {
    const results: Record<string, boolean> = {}
    const problems: Record<string, string> = {}
    await Promise.all(Object.entries(checks).map(async ([name, check]) => {
      const r = await Promise.resolve().then(check).catch((err: Error) => ({ ok: false, reason: err.message }))
      results[name] = typeof r === 'boolean' ? r : r.ok
      if (typeof r !== 'boolean' && !r.ok && r.reason) problems[name] = r.reason
    }))
    const ok = Object.values(results).every(Boolean)
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', checks: results, ...(Object.keys(problems).length > 0 ? { problems } : {}) })
  })

  app.get('/metrics', { schema: { tags: ['ops'], summary: 'Prometheus metrics', hide: false } }, async (_req, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics())
  })
}
