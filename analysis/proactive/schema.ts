// The proactive-miss, return-collection, pattern and fill-forecast shapes of the API, declared once:
// fastify validates and serialises with them, the OpenAPI document shows them, the dashboard imports the types.
import { Type, type Static, type TSchema } from '@sinclair/typebox'

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
const DateTime = Type.String({ format: 'date-time' })
const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD' })
const literals = <T extends readonly string[]>(values: T) => Type.Unsafe<T[number]>({ type: 'string', enum: [...values] })

export const MISS_STATUS_VALUES = ['suspected', 'confirmed', 'withdrawn', 'resolved'] as const
export const RETURN_STATUS_VALUES = ['open', 'done', 'cancelled'] as const

export const ProactiveMiss = Type.Object({
  collectionId: Type.Integer(),
  uprn: Type.Optional(Type.Integer({ description: 'roles contract_manager, crm and admin only (api/access-model.ts)' })),
  stream: Type.String(),
  roundId: Type.String(),
  contractId: Type.String(),
  dueDate: Day,
  binId: Nullable(Type.String()),
  status: literals(MISS_STATUS_VALUES),
  basis: Type.String({ description: 'round_not_reached, section_skipped or passed_by' }),
  sensor: Type.String({ description: 'What the bin\'s sensor says: out_and_full, awaiting, unknown or none (not_out and emptied withdraw a miss)' }),
  confidence: Type.Number({ minimum: 0, maximum: 1 }),
  evidence: Type.Record(Type.String(), Type.Unknown()),
  raisedAt: DateTime,
  confirmedAt: Nullable(DateTime),
  returnDue: Nullable(DateTime),
  crmEventId: Nullable(Type.Integer()),
  withdrawnAt: Nullable(DateTime),
  withdrawnReason: Nullable(Type.String()),
  resolvedAt: Nullable(DateTime),
  updatedAt: DateTime,
  revision: Type.Integer(),
  returnId: Nullable(Type.Integer()),
  returnStatus: Nullable(literals(RETURN_STATUS_VALUES)),
}, { $id: 'ProactiveMiss' })
export type ProactiveMissBody = Static<typeof ProactiveMiss>

export const ReturnCollection = Type.Object({
  returnId: Type.Integer(),
  collectionId: Type.Integer(),
  uprn: Type.Optional(Type.Integer({ description: 'roles contract_manager, crm and admin only (api/access-model.ts)' })),
  address: Type.Optional(Type.String({ description: 'roles contract_manager, crm and admin only (api/access-model.ts)' })),
  postcode: Nullable(Type.String()),
  lat: Nullable(Type.Number()),
  lon: Nullable(Type.Number()),
  stream: Type.String(),
  binId: Nullable(Type.String()),
  roundId: Type.String(),
  contractId: Type.String(),
  dueDate: Day,
  source: literals(['proactive', 'manual'] as const),
  status: literals(RETURN_STATUS_VALUES),
  dueBy: DateTime,
  openedAt: DateTime,
  closedAt: Nullable(DateTime),
  closeReason: Nullable(Type.String()),
}, { $id: 'ReturnCollection' })

export const RepeatPlace = Type.Object({
  scope: literals(['property', 'street'] as const),
  uprn: Type.Optional(Nullable(Type.Integer({ description: 'roles contract_manager, crm and admin only (api/access-model.ts)' }))),
  street: Nullable(Type.String()),
  roundId: Nullable(Type.String()),
  address: Type.Optional(Type.String({ description: 'roles contract_manager, crm and admin only (api/access-model.ts)' })),
  assisted: Type.Boolean(),
  failures: Type.Integer(),
  days: Type.Integer(),
  streams: Type.Array(Type.String()),
  first: Day,
  last: Day,
  patterns: Type.Array(Type.Object({ kind: Type.String(), detail: Type.String(), occurrences: Type.Integer() })),
  action: literals(['access_note', 'assisted_collection', 'review_assisted_collection', 'round_change', 'crew_briefing', 'monitor'] as const),
  why: Type.String(),
}, { $id: 'RepeatPlace' })

export const BinForecast = Type.Object({
  binId: Type.String(),
  uprn: Type.Optional(Type.Integer({ description: 'roles contract_manager, crm and admin only (api/access-model.ts)' })),
  address: Type.Optional(Type.String({ description: 'roles contract_manager, crm and admin only (api/access-model.ts)' })),
  stream: Type.String(),
  capacityL: Nullable(Type.Integer()),
  communal: Type.Boolean(),
  highUse: Type.Boolean(),
  fillPct: Type.Number({ description: 'Fill now (the fitted level at the last reading)' }),
  readAt: DateTime,
  lastEmptiedAt: Nullable(DateTime),
  ratePctPerDay: Nullable(Type.Number()),
  fullAt: Nullable(DateTime),
  nextDueDate: Nullable(Day),
  nextCollectionAt: Nullable(DateTime),
  fillAtNextPct: Nullable(Type.Number({ description: 'Expected fill when the next collection\'s round starts (over 100: overflowing)' })),
  overflow: Type.Boolean({ description: 'Forecast to be full before the next collection' }),
  cycles: Type.Integer(),
  basis: Type.String(),
  priority: Type.Integer({ description: '1 communal, 2 high use, 3 the rest' }),
  forecastAt: DateTime,
}, { $id: 'BinForecast' })
