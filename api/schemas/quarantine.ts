// Refused input as an operator browses it (api/routes/quarantine.ts): the list with its paging and
// counts by reason, and one entry with its raw payload. Declared once: fastify validates and
// serialises with it, the OpenAPI document shows it, the dashboard imports the types.
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { DateTime, Ref } from './common.ts'

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])

export const QuarantineQuery = Type.Object({
  deviceId: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Only input from this device' })),
  reason: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$', description: 'Only this reason, e.g. schema, bad_json, unknown_dev_eui' })),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'Last refused at or after' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'Last refused before' })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  offset: Type.Integer({ minimum: 0, maximum: 10_000_000, default: 0 }),
})
export type QuarantineQuery = Static<typeof QuarantineQuery>

const entryFields = {
  id: Type.Integer(),
  topic: Type.String({ description: 'MQTT topic, or lorawan/{server}/{DevEUI}/{event} for a network server' }),
  deviceId: Nullable(Type.String()),
  reason: Type.String({ description: 'Why it was refused (a stable name)' }),
  detail: Nullable(Type.String({ description: 'What was wrong, in words' })),
  payloadBytes: Type.Integer({ description: 'Size of the whole payload' }),
  timesSeen: Type.Integer({ description: 'How often this same payload came on this topic' }),
  firstSeen: DateTime,
  lastSeen: DateTime,
}

export const QuarantineEntry = Type.Object(entryFields, { $id: 'QuarantineEntry' })
export type QuarantineEntry = Static<typeof QuarantineEntry>

export const QuarantineReasonCount = Type.Object({
  reason: Type.String(),
  entries: Type.Integer({ description: 'Distinct payloads' }),
  messages: Type.Integer({ description: 'Messages refused, repeats included' }),
  lastSeen: DateTime,
})
export type QuarantineReasonCount = Static<typeof QuarantineReasonCount>

export const QuarantinePage = Type.Object({
  total: Type.Integer({ description: 'Entries matching the filter' }),
  limit: Type.Integer(),
  offset: Type.Integer(),
  entries: Type.Array(Ref(QuarantineEntry)),
  byReason: Type.Array(QuarantineReasonCount, { description: 'Counts by reason under the device and time filter (every reason, whatever `reason` asks)' }),
})
export type QuarantinePage = Static<typeof QuarantinePage>

export const QuarantinedPayload = Type.Object({
  ...entryFields,
  payloadTruncated: Type.Boolean({ description: 'Only the first 4,096 bytes are kept' }),
  payloadText: Type.Optional(Nullable(Type.String({ description: 'The payload as UTF-8 text, when it is text (JSON); null for binary (CBOR, LoRaWAN frames). Roles contract_manager and admin only: a lift carries a bin tag and a position' }))),
  payloadHex: Type.Optional(Type.String({ description: 'The kept bytes in hex. Roles contract_manager and admin only' })),
}, { $id: 'QuarantinedPayload' })
export type QuarantinedPayload = Static<typeof QuarantinedPayload>
