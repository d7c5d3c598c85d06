// The pull API of CRM events and the webhook delivery state, as the API returns them. The events
// themselves are declared in core/contract/crm-events.ts (the same shape a webhook body has).
import { Type, type TSchema } from '@sinclair/typebox'
import { DateTime } from './common.ts'

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])

export const EventsQuery = Type.Object({
  after: Type.Integer({ minimum: 0, default: 0, description: 'Cursor: the id of the last event already received (0 = from the start)' }),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
})

export const EventPage = Type.Object({
  events: Type.Array(Type.Ref('CrmEvent'), { description: 'Oldest first' }),
  nextAfter: Type.Integer({ description: 'Pass as `after` for the next page (unchanged when there was nothing new)' }),
  hasMore: Type.Boolean({ description: 'True when more events are waiting: ask again at once' }),
}, { $id: 'CrmEventPage' })

export const WebhookEndpointState = Type.Object({
  endpointId: Type.String({ description: 'Hash of the configured URL; the label of its metrics' }),
  url: Type.String({ description: 'Scheme, host and path (credentials and query are never shown)' }),
  undelivered: Type.Integer(), oldestUndeliveredAt: Nullable(DateTime), delivered: Type.Integer(), dead: Type.Integer(),
  consecutiveFailures: Type.Integer(), pausedUntil: Nullable(DateTime),
}, { $id: 'WebhookEndpointState' })

export const DeadLetter = Type.Object({
  endpointId: Type.String(), eventId: Type.Integer(), idempotencyKey: Type.String(), type: Type.String(), attempts: Type.Integer(),
  lastStatusCode: Nullable(Type.Integer()), lastError: Nullable(Type.String()), deadAt: DateTime,
}, { $id: 'WebhookDeadLetter' })
