// The data-protection documents Kerbside gives out, declared once: the subject-access export of
// everything held about a household (UK GDPR Art. 15) and the record of an erasure (Art. 17).
// storage/privacy builds them, the API validates and documents them, a council's tooling imports
// the types. docs/data-protection.md explains each part.
import { Type, type Static, type TSchema } from '@sinclair/typebox'

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
const DateTime = Type.String({ format: 'date-time' })
const Day = Type.String({ format: 'date', description: 'YYYY-MM-DD' })
const Uprn = Type.Integer({ minimum: 1, maximum: 999_999_999_999 })
const About = Type.String({ description: 'What this part is, where it comes from and how long it is kept' })
const section = <T extends TSchema>(items: T) => Type.Object({ about: About, items: Type.Array(items) })

export const ERASURE_CATEGORIES = ['reportContacts', 'reportFreeText', 'crmReference', 'crmEventReferences', 'contactsOnOtherReports', 'assistedCollection'] as const
export type ErasureCategory = (typeof ERASURE_CATEGORIES)[number]

export const ErasureRecord = Type.Object({
  erasureId: Type.Integer(),
  at: DateTime,
  uprn: Uprn,
  actor: Type.String(),
  actorName: Type.String(),
  role: Type.String(),
  requestRef: Nullable(Type.String()),
  erased: Type.Record(Type.String(), Type.Integer(), { description: 'Items erased in each category; never their content' }),
}, { $id: 'ErasureRecord' })
export type ErasureRecord = Static<typeof ErasureRecord>

export const ErasureResult = Type.Object({
  record: Type.Ref('ErasureRecord'),
  kept: Type.Array(Type.String(), { description: 'What stays, and why' }),
  notes: Type.Array(Type.String(), { description: 'What the council has to do beyond Kerbside' }),
}, { $id: 'ErasureResult' })
export type ErasureResult = Static<typeof ErasureResult> & { record: ErasureRecord }

export const RawReadings = Type.Union([Type.Literal('recent'), Type.Literal('all'), Type.Literal('none')], {
  description: 'Raw sensor readings in the export: those of the last rawDays days (default), all held, or none (the daily summary covers every reading either way)',
})
export type RawReadings = Static<typeof RawReadings>

const Reading = Type.Object({
  ts: DateTime, deviceId: Type.String(), seq: Type.Integer(), binId: Nullable(Type.String()), fillPct: Type.Number(),
  tempC: Nullable(Type.Number()), batteryV: Nullable(Type.Number()), status: Nullable(Type.String()), receivedAt: DateTime,
})
export type ExportReading = Static<typeof Reading>

const ReadingDay = Type.Object({
  day: Day, deviceId: Type.String(), binId: Nullable(Type.String()), readings: Type.Integer(),
  fillAvgPct: Type.Number(), fillMinPct: Type.Number(), fillMaxPct: Type.Number(),
  tempMaxC: Nullable(Type.Number()), batteryMinV: Nullable(Type.Number()), statuses: Type.Array(Type.String()),
})
export type ExportReadingDay = Static<typeof ReadingDay>

const ReportContact = Type.Object({
  firstName: Nullable(Type.String()), lastName: Nullable(Type.String()), email: Nullable(Type.String()), phone: Nullable(Type.String()),
  accountId: Nullable(Type.String()), deviceId: Nullable(Type.String()), createdAt: DateTime,
})

const Report = Type.Object({
  reportId: Type.Integer(), serviceCode: Type.String(), stream: Type.String(), collectionDate: Nullable(Day), collectionDateInferred: Type.Boolean(),
  locatedBy: Type.String(), locatedDistanceM: Nullable(Type.Number()), description: Nullable(Type.String()), binLocationNote: Nullable(Type.String()),
  mediaUrl: Nullable(Type.String()), agencyResponsible: Nullable(Type.String()), status: Type.String(), statusNotes: Nullable(Type.String()),
  serviceNotice: Nullable(Type.String()), expectedDatetime: Nullable(DateTime), validity: Type.String(), invalidReason: Nullable(Type.String()),
  verdict: Type.Unknown(), assessedAt: Nullable(DateTime), source: Type.String(), idempotencyKey: Nullable(Type.String()),
  requestedAt: DateTime, updatedAt: DateTime, closedAt: Nullable(DateTime),
  contact: Nullable(ReportContact),
  updates: Type.Array(Type.Object({ status: Type.String(), notes: Nullable(Type.String()), at: DateTime })),
})
export type ExportReport = Static<typeof Report>

export const SubjectAccessExport = Type.Object({
  about: Type.Object({
    uprn: Uprn,
    generatedAt: DateTime,
    generatedBy: Type.Object({ actor: Type.String(), role: Type.String() }),
    timeZone: Type.String({ description: 'Days in this document are local days of this zone' }),
    summary: Type.String(),
    retention: Type.Object({
      about: About,
      lastRun: Nullable(DateTime),
      days: Nullable(Type.Record(Type.String(), Type.Integer(), { description: 'Days each kind of data is kept (0 = without limit), as the last retention run applied them' })),
    }),
  }),
  household: Type.Object({
    about: About,
    record: Type.Object({
      uprn: Uprn, address: Type.String(), street: Nullable(Type.String()), postcode: Nullable(Type.String()), ward: Nullable(Type.String()),
      lat: Nullable(Type.Number()), lon: Nullable(Type.Number()), assisted: Type.Boolean(), crmRef: Nullable(Type.String()), createdAt: DateTime, updatedAt: DateTime,
    }),
  }),
  bins: section(Type.Object({
    binId: Type.String(), stream: Type.String(), rfidTag: Nullable(Type.String()), capacityL: Nullable(Type.Integer()), colour: Nullable(Type.String()),
    communal: Type.Boolean(), active: Type.Boolean(), createdAt: DateTime,
  })),
  devices: section(Type.Object({
    deviceId: Type.String(), binId: Nullable(Type.String()), createdAt: DateTime, revokedAt: Nullable(DateTime), online: Nullable(Type.Boolean()),
    onlineSince: Nullable(DateTime), lastSeq: Nullable(Type.Integer()), lastTs: Nullable(DateTime),
  })),
  rounds: section(Type.Object({ roundId: Type.String(), name: Type.String(), stream: Type.String(), weekday: Type.Integer(), frequency: Type.String(), position: Type.Integer(), active: Type.Boolean() })),
  subscriptions: section(Type.Object({ stream: Type.String(), startsOn: Day, endsOn: Nullable(Day) })),
  sensorReadings: Type.Object({
    about: About,
    total: Type.Integer({ description: 'Every raw reading held for this household' }),
    first: Nullable(DateTime),
    last: Nullable(DateTime),
    daily: Type.Array(ReadingDay, { description: 'Every reading held, summarised per local day and sensor' }),
    raw: Type.Object({
      about: About,
      included: RawReadings,
      from: Nullable(DateTime),
      count: Type.Integer(),
      readings: Type.Array(Reading),
    }),
  }),
  lifts: section(Type.Object({
    ts: DateTime, deviceId: Type.String(), seq: Type.Integer(), vehicleId: Nullable(Type.String()), tag: Type.String(), binId: Nullable(Type.String()),
    weightKg: Nullable(Type.Number()), lat: Type.Number(), lon: Type.Number(), outcome: Type.String(), receivedAt: DateTime,
  })),
  collections: section(Type.Object({
    collectionId: Type.Integer(), stream: Type.String(), roundId: Type.String(), scheduledDate: Day, dueDate: Day, cancelled: Type.Boolean(),
    outcome: Nullable(Type.String()), exceptionCode: Nullable(Type.String()), liftTs: Nullable(DateTime), liftWeightKg: Nullable(Type.Number()),
    liftDistanceM: Nullable(Type.Number()), missedAt: Nullable(DateTime), reportedAt: Nullable(DateTime), rectifyDeadline: Nullable(DateTime),
    rectifiedAt: Nullable(DateTime), evidence: Type.Unknown(), decidedAt: Nullable(DateTime),
  })),
  missedReports: section(Report),
  rewards: Type.Object({
    about: About,
    held: Type.Boolean({ description: 'False when this installation has no reward scheme' }),
    balance: Nullable(Type.Integer()),
    ledger: Type.Array(Type.Object({
      entryId: Type.Integer(), period: Day, rule: Type.String(), kind: Type.String(), points: Type.Integer(), reason: Type.String(), evidence: Type.Unknown(), postedAt: DateTime,
    })),
  }),
  crmEvents: Type.Object({
    about: About,
    held: Type.Boolean({ description: 'False when this installation has no CRM outbox' }),
    items: Type.Array(Type.Object({
      eventId: Type.Integer(), idempotencyKey: Type.String(), type: Type.String(), occurredAt: DateTime, crmRef: Nullable(Type.String()), data: Type.Unknown(), createdAt: DateTime,
      deliveries: Type.Array(Type.Object({ endpointId: Type.String(), status: Type.String(), deliveredAt: Nullable(DateTime) })),
    })),
  }),
  erasures: section(Type.Ref('ErasureRecord')),
  accessLog: section(Type.Object({ at: DateTime, actor: Type.String(), actorName: Type.String(), role: Type.String(), action: Type.String(), status: Type.Integer() })),
  notIncluded: Type.Array(Type.Object({ what: Type.String(), why: Type.String() }), { description: 'Held, but not in this document, and why' }),
}, { $id: 'SubjectAccessExport' })
export type SubjectAccessExport = Static<typeof SubjectAccessExport>
