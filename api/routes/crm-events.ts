// Events for the council's CRM (docs/crm-integration.md): the pull API for CRMs that poll, and the
// state of webhook delivery with its dead letters for administrators.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { CrmEvent } from '../../core/contract/crm-events.ts'
import { endpointStats, listDeadLetters, requeueDeadLetters } from '../../storage/crm-deliveries.ts'
import { listCrmEvents } from '../../storage/crm-outbox.ts'
import type { Database } from '../../storage/database.ts'
import { Errors } from '../schemas/common.ts'
import { DeadLetter, EventPage, EventsQuery, WebhookEndpointState } from '../schemas/crm-events.ts'

const EndpointId = Type.String({ pattern: '^[0-9a-f]{16}$' })

export const crmEventRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  for (const s of [CrmEvent, EventPage, WebhookEndpointState, DeadLetter]) app.addSchema(s)

  app.get('/events', {
    onRequest: app.requireRole('crm'),
    schema: {
      tags: ['crm'], summary: 'Events for the customer record after a cursor, oldest first (the same events the webhooks send)', security: [{ apiKey: [] }],
      description: 'Keep the nextAfter of each page and pass it as after; an event is never inserted behind a cursor already handed out. Events carry the same idempotencyKey as their webhook.',
      querystring: EventsQuery,
      response: { 200: Type.Ref('CrmEventPage'), ...Errors },
    },
  }, async (req) => {
    const { after, limit } = req.query
    const page = await listCrmEvents(db, { after, limit: limit + 1 })
    const events = page.slice(0, limit)
    return { events, nextAfter: events.at(-1)?.id ?? after, hasMore: page.length > limit }
  })

  app.get('/events/webhooks', {
    onRequest: app.requireRole('admin'),
    schema: {
      tags: ['crm'], summary: 'Webhook endpoints: undelivered events, oldest undelivered, delivered, dead letters, whether failing', security: [{ apiKey: [] }],
      response: { 200: Type.Array(Type.Ref('WebhookEndpointState')), ...Errors },
    },
  }, async () => endpointStats(db))

  app.get('/events/webhooks/dead-letters', {
    onRequest: app.requireRole('admin'),
    schema: {
      tags: ['crm'], summary: 'Events the webhooks gave up on, with the last error', security: [{ apiKey: [] }],
      querystring: Type.Object({ endpointId: Type.Optional(EndpointId), after: Type.Integer({ minimum: 0, default: 0 }), limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }) }),
      response: { 200: Type.Array(Type.Ref('WebhookDeadLetter')), ...Errors },
    },
  }, async (req) => listDeadLetters(db, req.query))

  app.post('/events/webhooks/dead-letters/requeue', {
    onRequest: app.requireRole('admin'),
    schema: {
      tags: ['crm'], summary: 'Send dead letters again (all, one endpoint\'s, or given events), attempts counted from zero', security: [{ apiKey: [] }],
      body: Type.Object({ endpointId: Type.Optional(EndpointId), eventIds: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { maxItems: 10_000 })) }, { additionalProperties: false }),
      response: { 200: Type.Object({ requeued: Type.Integer() }), ...Errors },
    },
  }, async (req) => {
    const requeued = await requeueDeadLetters(db, req.body)
    req.log.info({ requeued, ...req.body, by: req.caller?.keyId }, 'webhook dead letters requeued')
    return { requeued }
  })
}
