// The household record as the CRM and the contact centre's dashboard receive it. Declared once;
// the dashboard imports the static types.
import { Type, type Static } from '@sinclair/typebox'
import { COLLECTION_OUTCOMES, WASTE_STREAMS } from '../../core/contract/domain.ts'
import { DateTime, Ref, Uprn } from './common.ts'
import { OPEN_REPORT_STATES } from '../../analysis/first-contact/open-reports.ts'

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])
const IsoDay = Type.String({ format: 'date', description: 'YYYY-MM-DD' })
export const Stream = Type.Union(WASTE_STREAMS.map((s) => Type.Literal(s)))

export const HouseholdSummary = Type.Object({
  household: Type.Object({
    uprn: Uprn, address: Type.String(), street: Nullable(Type.String()), postcode: Nullable(Type.String()), ward: Nullable(Type.String()),
    lat: Nullable(Type.Number()), lon: Nullable(Type.Number()), assisted: Type.Boolean(), crmRef: Type.Optional(Nullable(Type.String({ description: 'Roles crm and admin only' }))),
  }),
  bins: Type.Array(Type.Object({
    binId: Type.String(), stream: Type.String(), rfidTag: Nullable(Type.String()), capacityL: Nullable(Type.Integer()), colour: Nullable(Type.String()),
    communal: Type.Boolean(), active: Type.Boolean(),
    sensor: Nullable(Type.Object({
      deviceId: Type.String(), online: Nullable(Type.Boolean()), onlineSince: Nullable(DateTime), lastReadingAt: Nullable(DateTime),
      fillPct: Nullable(Type.Number()), status: Nullable(Type.String()), batteryV: Nullable(Type.Number()), tempC: Nullable(Type.Number()),
    })),
    lastLift: Nullable(Type.Object({ ts: DateTime, outcome: Type.String(), weightKg: Nullable(Type.Number()), vehicleId: Nullable(Type.String()) })),
  })),
  nextCollections: Type.Array(Type.Object({ stream: Type.String(), dueDate: IsoDay, scheduledDate: IsoDay, roundId: Type.String(), roundName: Type.String() })),
  openReports: Type.Array(Type.Object({
    reportId: Type.Integer(), stream: Type.String(), collectionDate: Nullable(IsoDay), requestedAt: DateTime, validity: Type.String(),
    expectedDatetime: Nullable(DateTime), statusNotes: Nullable(Type.String()),
    state: Type.Union(OPEN_REPORT_STATES.map((s) => Type.Literal(s)), {
      description: 'As the evidence stands now, the same the first-contact check reads: being_checked, not_a_miss, awaiting_return (a miss, the return visit not made yet), put_right (emptied on the return visit; the hourly job closes it), no_miss (the records now show it emptied or refused on the day, or before the report)',
    }),
    evidenceAt: Nullable(Type.String({ format: 'date-time', description: 'The lift or exception behind put_right or no_miss' })),
    evidenceBy: Nullable(Type.String({ description: "The vehicle's registration, when known" })),
  })),
  rewardBalance: Type.Integer({ description: 'Points in the reward scheme ledger (GET …/rewards for the entries)' }),
}, { $id: 'HouseholdSummary' })
export type HouseholdSummary = Static<typeof HouseholdSummary>

export const CollectionRecord = Type.Object({
  collectionId: Type.Integer(), stream: Type.String(), roundId: Type.String(), roundName: Type.String({ description: 'The round\'s name in the registry' }), scheduledDate: IsoDay, dueDate: IsoDay, cancelled: Type.Boolean(),
  outcome: Nullable(Type.Union(COLLECTION_OUTCOMES.map((o) => Type.Literal(o)), { description: 'null until the outcome analysis has looked at it' })),
  exceptionCode: Nullable(Type.String()), liftTs: Nullable(DateTime), liftWeightKg: Nullable(Type.Number()), liftDistanceM: Nullable(Type.Number()),
  liftVehicleId: Nullable(Type.String()), reportedAt: Nullable(DateTime), rectifyDeadline: Nullable(DateTime), rectifiedAt: Nullable(DateTime),
  evidence: Type.Unknown({ description: 'What decided the outcome' }),
}, { $id: 'CollectionRecord' })
export type CollectionRecord = Static<typeof CollectionRecord>

export const CollectionHistory = Type.Object({
  total: Type.Integer({ description: 'Collections due today or before (the history), for paging' }),
  items: Type.Array(Ref(CollectionRecord), { description: 'The history: due today or before, newest first' }),
  upcoming: Type.Array(Ref(CollectionRecord), { description: 'Collections still to come, apart from the history: soonest first, not cancelled, at most 12' }),
}, { $id: 'CollectionHistory' })
export type CollectionHistory = Static<typeof CollectionHistory>

export const HouseholdMatch = Type.Object({ uprn: Uprn, address: Type.String(), postcode: Nullable(Type.String()), ward: Nullable(Type.String()) }, { $id: 'HouseholdMatch' })
export type HouseholdMatch = Static<typeof HouseholdMatch>
