// Contractor performance and "why bins are missed": request and response shapes, declared once.
// Fastify validates and serialises with them, the OpenAPI document lists them, and the dashboard
// imports their static types. docs/kpis.md defines every figure.
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { DRILL_KPIS } from '../../analysis/performance/drill-down.ts'
import { LEAGUE_SORTS } from '../../analysis/performance/performance.ts'
import { MAX_RANGE_DAYS } from '../../analysis/performance/periods.ts'
import { DateTime, Paging, Ref, Uprn } from './common.ts'

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
const Day = Type.String({ format: 'date', description: 'YYYY-MM-DD (local day of the council)' })
const Count = Type.Integer({ minimum: 0 })
const Money = Type.Number({ description: 'Pounds sterling' })

export const ContractParams = Type.Object({ contractId: Type.String({ minLength: 1, maxLength: 64 }) })

export const RangeQuery = Type.Object({
  from: Type.String({ format: 'date', description: 'First day, YYYY-MM-DD (by due date)' }),
  to: Type.String({ format: 'date', description: `Last day, included; at most ${MAX_RANGE_DAYS} days after from` }),
})
export type RangeQuery = Static<typeof RangeQuery>

export const TrendsQuery = Type.Composite([RangeQuery, Type.Object({
  granularity: Type.Union([Type.Literal('day'), Type.Literal('week'), Type.Literal('month')], { default: 'week', description: 'Days, ISO weeks (Monday–Sunday, e.g. 2026-W10) or calendar months' }),
})])
export type TrendsQuery = Static<typeof TrendsQuery>

export const WhyMissedQuery = Type.Composite([RangeQuery, Type.Object({
  cellM: Type.Integer({ minimum: 50, maximum: 5000, default: 250, description: 'Side of a hotspot grid cell, metres' }),
  minScheduled: Type.Integer({ minimum: 1, maximum: 100_000, default: 20, description: 'Streets and cells with fewer decided collections are not hotspots' }),
  hotspots: Type.Integer({ minimum: 1, maximum: 500, default: 25 }),
  households: Type.Integer({ minimum: 1, maximum: 1000, default: 50, description: 'Repeat households listed' }),
  rows: Type.Integer({ minimum: 1, maximum: 100_000, default: 100, description: 'Rows of each breakdown: those with the most misses (then the highest rate), in the breakdown\'s own order; rowCounts gives how many there are in all (a city has thousands of streets)' }),
})])
export type WhyMissedQuery = Static<typeof WhyMissedQuery>

export const LeagueQuery = Type.Composite([RangeQuery, Type.Object({
  sort: Type.Union(LEAGUE_SORTS.map((k) => Type.Literal(k)), { default: 'rank', description: 'rank (the league\'s own order: score, then fewer misses per 100,000), the round\'s name or stream, or a figure: scheduled, missed, missedPer100k, onDayPct, rectifiedInTimePct, points, score. Rounds without the figure come last either way; ties in rank order' }),
  order: Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'asc' }),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'Rounds in the page; without it, every round from offset (the whole league)' })),
  offset: Type.Integer({ minimum: 0, maximum: 10_000, default: 0 }),
})])
export type LeagueQuery = Static<typeof LeagueQuery>

export const CollectionsQuery = Type.Composite([RangeQuery, Paging, Type.Object({
  kpi: Type.Union(DRILL_KPIS.map((k) => Type.Literal(k)), { description: 'missed, late (collected after the due date), exceptions (crew exceptions), not_rectified (not put right in time), repeat (repeat misses)' }),
  round: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Only this round' })),
  code: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'Only crew exceptions with this code' })),
})])
export type CollectionsQuery = Static<typeof CollectionsQuery>

export const ExceptionsByCode = Type.Object({
  not_presented: Count, contaminated: Count, no_access: Count, excess_waste: Count, overweight: Count, wrong_bin: Count, other: Count,
}, { $id: 'ExceptionsByCode' })

export const KpiFigures = Type.Object({
  scheduled: Type.Integer({ description: 'Due in the period, not cancelled, decided (pending ones are not counted)' }),
  pending: Type.Integer({ description: 'Due in the period and not decided yet (day or round not over); counted in no KPI' }),
  collected: Count, collectedLate: Count, crewExceptions: Count,
  missed: Type.Integer({ description: 'Outcomes missed + rectified + rectified_late' }),
  missedReported: Count, rectified: Count, rectifiedLate: Count,
  outstanding: Type.Integer({ description: 'Misses not returned to yet' }),
  awaitingRectification: Type.Integer({ description: 'Outstanding misses whose deadline is still ahead' }),
  notRectifiedInTime: Type.Integer({ description: 'Rectified late, or outstanding with the deadline passed' }),
  repeatMisses: Count,
  returnVisits: Type.Integer({ description: 'Rectification visits (rectified + rectified late)' }),
  missedPer100k: Nullable(Type.Number({ description: 'missed / scheduled × 100,000' })),
  onDayPct: Nullable(Type.Number({ description: 'collected / (scheduled − crew exceptions) × 100' })),
  rectifiedInTimePct: Nullable(Type.Number({ description: 'rectified / (rectified + not rectified in time) × 100' })),
  invalidReportPct: Nullable(Type.Number({ description: 'invalid / (valid + invalid) reports × 100' })),
  reports: Type.Object({ total: Count, valid: Count, invalid: Count, pending: Count }),
  exceptionsByCode: Ref(ExceptionsByCode),
}, { $id: 'KpiFigures' })
export type KpiFigures = Static<typeof KpiFigures>

export const Points = Type.Object({
  misses: Type.Number({ description: 'points_per_miss × misses' }),
  notRectified: Type.Number({ description: 'points_not_rectified × misses not rectified in time' }),
  repeats: Type.Number({ description: 'What the repeat multiplier adds for repeat misses' }),
  total: Type.Number(),
}, { $id: 'Points' })
export type Points = Static<typeof Points>

export const ScoreComponent = Type.Object({
  kpi: Type.Union([Type.Literal('missedPer100k'), Type.Literal('onDayPct'), Type.Literal('rectifiedInTimePct')]),
  value: Nullable(Type.Number()),
  target: Type.Number(),
  met: Nullable(Type.Boolean()),
  score: Nullable(Type.Number({ minimum: 0, maximum: 100 })),
  weight: Type.Number(),
}, { $id: 'ScoreComponent' })
export type ScoreComponent = Static<typeof ScoreComponent>

/** What every period, round or contract is assessed with. */
const Assessment = {
  figures: Ref(KpiFigures),
  points: Ref(Points),
  score: Nullable(Type.Number({ minimum: 0, maximum: 100, description: '0–100; see docs/kpis.md' })),
  targets: Type.Array(Ref(ScoreComponent)),
}

export const MonthDeduction = Type.Object({
  month: Type.String({ description: 'YYYY-MM' }), from: Day, to: Day,
  points: Type.Number(), value: Money, cap: Money, deduction: Money, capped: Type.Boolean(),
}, { $id: 'MonthDeduction' })
export type MonthDeduction = Static<typeof MonthDeduction>

export const ContractPerformance = Type.Object({
  contract: Type.Object({ contractId: Type.String(), name: Type.String(), contractorId: Type.String() }),
  terms: Type.Object({
    monthlyPayment: Money, targetMissedPer100k: Type.Number(), targetOnDayPct: Type.Number(), targetRectifiedPct: Type.Number(),
    pointsPerMiss: Type.Number(), pointsNotRectified: Type.Number(), repeatMultiplier: Type.Number(), repeatWindowDays: Type.Integer(),
    pointValue: Money, deductionCapPct: Type.Number(), rectifyWorkingDays: Type.Integer(),
  }),
  from: Day, to: Day,
  asOf: Type.String({ format: 'date-time', description: 'Deadlines are judged as of this instant' }),
  ...Assessment,
  deduction: Type.Object({ months: Type.Array(Ref(MonthDeduction)), total: Money }),
  source: Type.Object({ rolledUpDays: Count, liveDays: Count }, { description: 'Days read from the KPI roll-up, and days computed live' }),
}, { $id: 'ContractPerformance' })
export type ContractPerformance = Static<typeof ContractPerformance>

export const LeagueRow = Type.Object({
  rank: Type.Integer({ minimum: 1 }), roundId: Type.String(), name: Type.String(), stream: Type.String(), vehicleId: Nullable(Type.String()),
  ...Assessment,
}, { $id: 'LeagueRow' })
export const League = Type.Object({
  from: Day, to: Day, asOf: DateTime,
  total: Type.Integer({ minimum: 0, description: 'Rounds in the league (with decided collections in the range): what the pages add up to' }),
  sort: Type.Union(LEAGUE_SORTS.map((k) => Type.Literal(k))), order: Type.Union([Type.Literal('asc'), Type.Literal('desc')]),
  offset: Type.Integer({ minimum: 0 }), limit: Nullable(Type.Integer({ minimum: 1, description: 'null: every round from offset' })),
  totals: Type.Object(Assessment, { description: 'The whole contract, every round summed (the same figures as /performance)' }),
  rounds: Type.Array(Ref(LeagueRow), { description: 'This page of the league, in the order asked for' }),
}, { $id: 'League' })
export type LeagueRow = Static<typeof LeagueRow>
export type League = Static<typeof League>

export const TrendPoint = Type.Object({ period: Type.String({ description: 'YYYY-MM-DD, YYYY-Www or YYYY-MM' }), from: Day, to: Day, ...Assessment }, { $id: 'TrendPoint' })
export const Trends = Type.Object({
  from: Day, to: Day, asOf: DateTime, granularity: Type.String(), points: Type.Array(Ref(TrendPoint)),
}, { $id: 'Trends' })
export type TrendPoint = Static<typeof TrendPoint>
export type Trends = Static<typeof Trends>

const breakdownFields = {
  key: Type.String(),
  scheduled: Count, missed: Count, collectedLate: Count, crewExceptions: Count, returnVisits: Count,
  exceptionsByCode: Ref(ExceptionsByCode),
  missedPer100k: Nullable(Type.Number()),
}
export const Breakdown = Type.Object({ ...breakdownFields, name: Type.Optional(Type.String({ description: "Rounds: the round's name in the registry" })) }, { $id: 'Breakdown' })
export const StreetBreakdown = Type.Object({ ...breakdownFields, ward: Nullable(Type.String()) }, { $id: 'StreetBreakdown' })
export const Hotspot = Type.Object({
  ...breakdownFields, kind: Type.Union([Type.Literal('street'), Type.Literal('cell')]),
  name: Type.String({ description: 'The street, or for a cell "Around" the street most of its collections are on' }),
  ward: Nullable(Type.String({ description: "The street's ward, or the ward most of a cell's collections are in" })),
  lat: Type.Number(), lon: Type.Number(),
}, { $id: 'Hotspot' })
export const RepeatHousehold = Type.Object({
  uprn: Type.Optional(Uprn), address: Type.Optional(Type.String({ description: 'UPRN, address and assisted flag: role contract_manager and admin only' })), street: Nullable(Type.String()), ward: Nullable(Type.String()), lat: Nullable(Type.Number()), lon: Nullable(Type.Number()),
  assisted: Type.Optional(Type.Boolean()), misses: Count, missesInPeriod: Count, repeatMisses: Count, reported: Count, streams: Type.Array(Type.String()),
  firstMissed: Day, lastMissed: Day, crewExceptions: Count, exceptionCodes: Type.Array(Type.String()),
  suggestion: Type.Union([Type.Literal('access_fix'), Type.Literal('assisted_collection'), Type.Literal('review_assisted_collection')]),
}, { $id: 'RepeatHousehold' })
export const WhyMissed = Type.Object({
  contractId: Type.String(), from: Day, to: Day,
  total: Ref(Breakdown),
  by: Type.Object({
    round: Type.Array(Ref(Breakdown)), street: Type.Array(Ref(StreetBreakdown)), ward: Type.Array(Ref(Breakdown)),
    vehicle: Type.Array(Ref(Breakdown)), stream: Type.Array(Ref(Breakdown)),
    weekday: Type.Array(Ref(Breakdown), { description: 'Key: ISO weekday of the due date, 1 = Monday' }),
    hour: Type.Array(Ref(Breakdown), { description: 'Key: local hour the round passed the property, or not_passed' }),
    window: Type.Array(Ref(Breakdown), { description: 'Key: before, within or after the round\'s scheduled hours, or not_passed' }),
  }, { description: 'At most `rows` rows each (query `rows`)' }),
  rowCounts: Type.Object(Object.fromEntries(['round', 'street', 'ward', 'vehicle', 'stream', 'weekday', 'hour', 'window'].map((d) => [d, Count])), { description: 'How many rows each breakdown has in all' }),
  hotspots: Type.Object({ cellM: Type.Integer(), minScheduled: Type.Integer(), streets: Type.Array(Ref(Hotspot)), cells: Type.Array(Ref(Hotspot)) }),
  repeatHouseholds: Type.Object({ total: Count, households: Type.Array(Ref(RepeatHousehold)) }),
  returnTrips: Type.Object({
    visits: Count, costPerVisit: Money, costPerKm: Money, kmPerVisit: Type.Number(), km: Type.Number(), cost: Money,
    collectedLateVisits: Type.Integer({ description: 'Late collections: counted, not costed' }),
  }),
}, { $id: 'WhyMissed' })
export type Breakdown = Static<typeof Breakdown>
export type Hotspot = Static<typeof Hotspot>
export type RepeatHousehold = Static<typeof RepeatHousehold>
export type WhyMissed = Static<typeof WhyMissed>

export const KpiCollection = Type.Object({
  collectionId: Type.Integer(), uprn: Type.Optional(Uprn), address: Type.Optional(Type.String({ description: 'UPRN and address: role contract_manager and admin only' })), street: Nullable(Type.String()), ward: Nullable(Type.String()),
  stream: Type.String(), roundId: Type.String(), dueDate: Day, outcome: Type.String(), exceptionCode: Nullable(Type.String()),
  liftTs: Nullable(DateTime), liftVehicleId: Nullable(Type.String()),
  reportedAt: Nullable(DateTime), rectifyDeadline: Nullable(DateTime), rectifiedAt: Nullable(DateTime),
  repeat: Type.Boolean(), notRectifiedInTime: Type.Boolean(), points: Type.Number({ description: 'Default points this miss earned' }),
}, { $id: 'KpiCollection' })
export const KpiCollectionPage = Type.Object({ total: Count, limit: Type.Integer(), offset: Type.Integer(), items: Type.Array(Ref(KpiCollection)) }, { $id: 'KpiCollectionPage' })
export type KpiCollection = Static<typeof KpiCollection>
export type KpiCollectionPage = Static<typeof KpiCollectionPage>

/** Every named schema, in dependency order, for `app.addSchema`. */
export const PERFORMANCE_SCHEMAS = [
  ExceptionsByCode, KpiFigures, Points, ScoreComponent, MonthDeduction, ContractPerformance, LeagueRow, League, TrendPoint, Trends,
  Breakdown, StreetBreakdown, Hotspot, RepeatHousehold, WhyMissed, KpiCollection, KpiCollectionPage,
]
