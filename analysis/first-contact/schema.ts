// The first-contact check's request and answer, declared once: the API validates and serialises with
// these schemas, the OpenAPI document shows them, and the dashboard imports their static types.
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { COLLECTION_OUTCOMES, WASTE_STREAMS } from '../../core/contract/domain.ts'
import { CREW_EXCEPTIONS } from '../../core/contract/messages.ts'

// A plain string enum (one check when serialising, where a union of literals is tried branch by branch).
const literals = <T extends readonly string[]>(values: T, description?: string) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...(description ? { description } : {}) })
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])
const DateTime = Type.String({ format: 'date-time' })
const IsoDate = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD' })

/** What the evidence says about a resident's "my bin was not emptied", in the order the check decides. */
export const FIRST_CONTACT_VERDICTS = ['not_scheduled', 'collected', 'crew_exception', 'round_in_progress', 'outside_reporting_window', 'genuine_miss'] as const
export type FirstContactVerdict = (typeof FIRST_CONTACT_VERDICTS)[number]

/** What to do next: send a crew back, nothing, wait (the round or the window), or the resident's part. */
export const NEXT_ACTIONS = ['return_visit', 'none', 'wait', 'resident_action', 'next_collection'] as const
export type NextAction = (typeof NEXT_ACTIONS)[number]

export const TIMELINE_KINDS = ['scheduled', 'window_opens', 'window_closes', 'vehicle_nearest', 'lift', 'exception', 'reading', 'report', 'miss_detected'] as const
export type TimelineKind = (typeof TIMELINE_KINDS)[number]

export const FirstContactParams = Type.Object({
  uprn: Type.Integer({ minimum: 1, maximum: 999_999_999_999, description: 'Unique Property Reference Number' }),
})
export type FirstContactParams = Static<typeof FirstContactParams>

export const FirstContactQuery = Type.Object({
  stream: literals(WASTE_STREAMS, 'The waste stream the resident is calling about'),
  date: Type.Optional(Type.String({ ...IsoDate, description: 'The collection day the resident means (YYYY-MM-DD); default the latest collection due on or before today' })),
  at: Type.Optional(Type.String({ format: 'date-time', description: 'Check as the evidence stood at this instant (re-examining an earlier call); default now' })),
})
export type FirstContactQuery = Static<typeof FirstContactQuery>

export const FirstContactLift = Type.Object({
  at: DateTime,
  vehicleId: Nullable(Type.String()),
  registration: Nullable(Type.String()),
  weightKg: Nullable(Type.Number()),
  distanceM: Nullable(Type.Number({ description: 'From the property to where the lift was recorded' })),
  onDueDate: Type.Boolean({ description: 'False for a late lift or a return visit' }),
})
export type FirstContactLift = Static<typeof FirstContactLift>

export const FirstContactException = Type.Object({
  code: literals(CREW_EXCEPTIONS),
  at: DateTime,
  vehicleId: Nullable(Type.String()),
  registration: Nullable(Type.String()),
  distanceM: Nullable(Type.Number()),
})
export type FirstContactException = Static<typeof FirstContactException>

export const RoundProgress = Type.Object({
  vehicleId: Nullable(Type.String()),
  registration: Nullable(Type.String()),
  /** Where the round's vehicle was last seen today, and how far from the property. */
  lastSeen: Nullable(Type.Object({ at: DateTime, lat: Type.Number(), lon: Type.Number(), distanceM: Type.Number() })),
  lastLiftAt: Nullable(DateTime),
  liftsToday: Type.Integer({ minimum: 0 }),
  stopsBefore: Nullable(Type.Integer({ minimum: 0, description: 'Households on the round between the last one lifted and this one' })),
  passed: Type.Boolean({ description: 'The crew has already lifted bins further along the round' }),
  plannedEnd: DateTime,
})
export type RoundProgress = Static<typeof RoundProgress>

export const TimelineEntry = Type.Object({
  at: DateTime,
  kind: literals(TIMELINE_KINDS),
  summary: Type.String(),
})
export type TimelineEntry = Static<typeof TimelineEntry>

export const ProactiveKnown = Type.Object({
  status: literals(['suspected', 'confirmed', 'withdrawn', 'resolved'] as const),
  confidence: Type.Number({ minimum: 0, maximum: 1 }),
  basis: Type.String(),
  raisedAt: DateTime,
  confirmedAt: Nullable(DateTime),
  /** The return collection opened when the miss was confirmed: due by this time. */
  returnDue: Nullable(DateTime),
  withdrawnAt: Nullable(DateTime),
  withdrawnReason: Nullable(Type.String()),
  resolvedAt: Nullable(DateTime),
})
export type ProactiveKnown = Static<typeof ProactiveKnown>

export const FirstContactAnswer = Type.Object({
  uprn: Type.Integer(),
  stream: literals(WASTE_STREAMS),
  address: Type.String(),
  asOf: DateTime,
  verdict: literals(FIRST_CONTACT_VERDICTS),
  /** Would a missed-bin report now be a valid miss (a genuine miss, within the window)? */
  valid: Type.Boolean(),
  reason: Type.String({ description: 'Why, in one sentence, for the agent and for the report\'s record' }),
  windowSide: Nullable(literals(['too_early', 'too_late'] as const)),
  collection: Nullable(Type.Object({
    collectionId: Type.Integer(),
    roundId: Type.String(),
    roundName: Type.String(),
    scheduledDate: IsoDate,
    dueDate: IsoDate,
    plannedStart: DateTime,
    plannedEnd: DateTime,
    /** The outcome as last classified by the hourly outcomes job (analysis/outcomes); null before it ran. */
    outcome: Nullable(literals(COLLECTION_OUTCOMES)),
    /** The collection was moved from the day asked about (bank holiday, council override). */
    movedFrom: Nullable(IsoDate),
  })),
  window: Nullable(Type.Object({ opensAt: DateTime, closesAt: DateTime })),
  collected: Nullable(FirstContactLift),
  exception: Nullable(FirstContactException),
  progress: Nullable(RoundProgress),
  /** The household's next collection of the stream: the first due after the day in question and on or after today. */
  nextCollection: Nullable(IsoDate),
  /**
   * For a bin emptied after its due day: the collection was missed first, and how it was put right, as
   * the outcome rules decide it (rectified / rectified_late after a valid report, collected_late when the
   * crew came back unasked). Null otherwise.
   */
  rectified: Type.Optional(Nullable(Type.Object({
    outcome: literals(['rectified', 'rectified_late', 'collected_late'] as const),
    reportedAt: Nullable(DateTime),
    deadline: Nullable(DateTime),
    returnedAt: DateTime,
  }))),
  previousReports: Type.Array(Type.Object({
    id: Type.Integer(), at: DateTime, collectionDate: Nullable(IsoDate), validity: Type.String(), status: Type.String(),
  })),
  timeline: Type.Array(TimelineEntry),
  /** What proactive miss detection (analysis/proactive) knew of this collection; absent when it raised nothing. */
  proactive: Type.Optional(ProactiveKnown),
  nextAction: Type.Object({
    action: literals(NEXT_ACTIONS),
    /** What to tell the resident, in plain English. */
    tell: Type.String(),
    /** By when: the return visit, the window opening, or the next collection. */
    deadline: Nullable(DateTime),
  }),
}, { $id: 'FirstContactAnswer' })
export type FirstContactAnswer = Static<typeof FirstContactAnswer>
