// Operations endpoints: liveness, readiness (each dependency checked) and Prometheus metrics.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Registry } from 'prom-client'

export type ReadinessCheck = () => Promise<boolean> | boolean

export const opsRoutes: FastifyPluginAsyncTypebox<{ registry: Registry; checks: Record<string, ReadinessCheck> }> = async (app, { registry, checks }) => {
  app.get('/healthz', { schema: { tags: ['ops'], summary: 'Liveness: the process is up', response: { 200: Type.Object({ status: Type.Literal('ok') }) } } }, async () => ({ status: 'ok' as const }))

  app.get('/readyz', {
    schema: { tags: ['ops'], summary: 'Readiness: every dependency answers', response: { 200: Type.Object({ status: Type.String(), checks: Type.Record(Type.String(), Type.Boolean()) }), 503: Type.Object({ status: Type.String(), checks: Type.Record(Type.String(), Type.Boolean()) }) } },
  }, async (_req, reply) => {
    const results: Record<string, boolean> = {}
    await Promise.all(Object.entries(checks).map(async ([name, check]) => {
      results[name] = await Promise.resolve().then(check).catch(() => false)
    }))
    const ok = Object.values(results).every(Boolean)
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', checks: results })
  })

  app.get('/metrics', { schema: { tags: ['ops'], summary: 'Prometheus metrics', hide: false } }, async (_req, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics())
  })
}
