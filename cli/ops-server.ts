// A small HTTP server for services that run without the API (broker, ingest in distributed mode):
// /healthz, /readyz and /metrics for the orchestrator and Prometheus, on HTTP_PORT.
import Fastify, { type FastifyBaseLogger } from 'fastify'
import { opsRoutes, type ReadinessCheck } from '../api/routes/ops.ts'
import type { Context } from './stack.ts'

export async function startOpsServer(ctx: Context, checks: Record<string, ReadinessCheck>) {
  const app = Fastify({ loggerInstance: ctx.logger.child({ component: 'ops' }) as FastifyBaseLogger })
  await app.register(opsRoutes, { registry: ctx.registry, checks })
  const url = await app.listen({ host: ctx.config.HTTP_HOST, port: ctx.config.HTTP_PORT })
  ctx.logger.info({ url }, 'health and metrics endpoints listening')
  return { close: () => app.close() }
}
