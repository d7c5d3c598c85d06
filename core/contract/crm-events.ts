// The contract with the council's CRM: the events Kerbside writes into the customer record, as
// webhook bodies and as items of the pull API (GET /api/v1/events). Declared once: the outbox checks
// what it stores against it, fastify serialises and documents it, CRMs and the dashboard import the types.
// docs/crm-integration.md describes each event.
import { FormatRegistry, Type, type Static, type TSchema } from '@sinclair/typebox'
import { WASTE_STREAMS } from './domain.ts'

// TypeBox's Value.Check knows no formats until they are registered (fastify's ajv has its own).
const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/
const realDay = (v: string) => {
  const m = ISO_DAY.exec(v)
  return !!m && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v)
}
if (!FormatRegistry.Has('date')) FormatRegistry.Set('date', realDay)
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => ISO_DATE_TIME.test(v) && realDay(v.slice(0, 10)) && Number.isFinite(Date.parse(v)))

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
const Stream = Type.Union(WASTE_STREAMS.map((s) => Type.Literal(s)))
const DateTime = Type.String({ format: 'date-time' })
const Day = Type.String({ format: 'date', description: 'YYYY-MM-DD' })
const Month = Type.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2])$', description: 'YYYY-MM' })

export const CRM_EVENT_TYPES = ['reward.points_posted', 'collection.missed_confirmed', 'collection.miss_withdrawn', 'report.closed'] as const
export type CrmEventType = (typeof CRM_EVENT_TYPES)[number]

export const RewardPostedData = Type.Object({
  period: Month,
  points: Type.Integer({ description: 'Net points of the entries in this event (negative when an adjustment took points away)' }),
  periodPoints: Type.Integer({ description: "The household's total for the period after these entries" }),
  balance: Type.Integer({ description: "The household's balance after these entries" }),
  entries: Type.Array(Type.Object({
    entryId: Type.Integer(),
    rule: Type.String(),
    kind: Type.Union([Type.Literal('award'), Type.Literal('adjustment')]),
    points: Type.Integer(),
    reason: Type.String(),
  })),
}, { additionalProperties: false })
export type RewardPostedData = Static<typeof RewardPostedData>

export const MissedCollectionData = Type.Object({
  collectionId: Type.Integer({ description: 'Kerbside id of the scheduled collection' }),
  stream: Stream,
  dueDate: Day,
  roundId: Type.String(),
  contractId: Type.String(),
  missedAt: Nullable(Type.String({ format: 'date-time', description: 'When the round was over (or the valid report that established the miss, if earlier); from proactive detection, when the crew passed the bin or the round ended before it' })),
  reportId: Nullable(Type.Integer({ description: 'The first valid missed-bin report (Open311 service_request_id), if there was one when the miss was confirmed' })),
  rectifyDeadline: Nullable(Type.String({ format: 'date-time', description: "That report's rectification deadline, or the return visit proactive detection booked; null for a miss nobody reported" })),
}, { additionalProperties: false })
export type MissedCollectionData = Static<typeof MissedCollectionData>

export const MissWithdrawnData = Type.Object({
  collectionId: Type.Integer({ description: 'Kerbside id of the scheduled collection an earlier collection.missed_confirmed was about' }),
  stream: Stream,
  dueDate: Day,
  roundId: Type.String(),
  contractId: Type.String(),
  reason: Type.String({ description: 'The evidence that contradicted the miss, e.g. a lift of the bin that arrived late' }),
  withdrawnAt: DateTime,
}, { additionalProperties: false })
export type MissWithdrawnData = Static<typeof MissWithdrawnData>

export const ReportClosedData = Type.Object({
  reportId: Type.Integer(),
  serviceRequestId: Type.String({ description: 'The Open311 service_request_id' }),
  stream: Stream,
  collectionDate: Nullable(Day),
  validity: Type.Union([Type.Literal('pending'), Type.Literal('valid'), Type.Literal('invalid')]),
  statusNotes: Nullable(Type.String()),
  closedAt: DateTime,
}, { additionalProperties: false })
export type ReportClosedData = Static<typeof ReportClosedData>

const envelope = <K extends CrmEventType, D extends TSchema>(type: K, data: D, description: string) => Type.Object({
  id: Type.Integer({ description: 'Position in the event stream: strictly increasing; the pull API cursor' }),
  idempotencyKey: Type.String({ description: 'Stable key of this event: the same event always has the same key (also sent as the Idempotency-Key header)' }),
  type: Type.Literal(type),
  occurredAt: DateTime,
  uprn: Nullable(Type.Integer({ minimum: 1, maximum: 999_999_999_999 })),
  crmRef: Nullable(Type.String({ description: "The household's reference in the CRM, when the registry has one" })),
  data,
}, { description })

export const RewardPostedEvent = envelope('reward.points_posted', RewardPostedData, 'Reward points were posted to a household for a period (first award, or an adjustment after late data)')
export const MissedCollectionEvent = envelope('collection.missed_confirmed', MissedCollectionData, 'A scheduled collection was confirmed as missed by the contractor, by the collection-outcome analysis (missed, or a miss put right) or by proactive miss detection, whichever first: one event per collection (key missed-collection:<collectionId>)')
export const MissWithdrawnEvent = envelope('collection.miss_withdrawn', MissWithdrawnData, 'A miss the CRM was told of (collection.missed_confirmed) was withdrawn: later evidence shows it was not a miss (a lift or a crew exception of the due day, or the sensor on the bin: emptied, or never put out); a return visit booked for it is cancelled. Final: the collection is not announced as missed again')
export const ReportClosedEvent = envelope('report.closed', ReportClosedData, 'A missed-bin report was closed')

export const CrmEvent = Type.Union([RewardPostedEvent, MissedCollectionEvent, MissWithdrawnEvent, ReportClosedEvent], { $id: 'CrmEvent' })
export type CrmEvent = Static<typeof CrmEvent>

/** The data schema of each event type, to check what is written to the outbox. */
export const CRM_EVENT_DATA: Record<CrmEventType, TSchema> = {
  'reward.points_posted': RewardPostedData,
  'collection.missed_confirmed': MissedCollectionData,
  'collection.miss_withdrawn': MissWithdrawnData,
  'report.closed': ReportClosedData,
}

/** What a module hands to emitCrmEvent: the envelope without the id and CRM reference the outbox adds. */
export type NewCrmEvent = {
  [K in CrmEventType]: {
    type: K
    idempotencyKey: string
    uprn: number | null
    occurredAt?: Date
    data: Extract<CrmEvent, { type: K }>['data']
  }
}[CrmEventType]
