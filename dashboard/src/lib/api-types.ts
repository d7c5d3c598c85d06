// The API's own declared types (TypeBox schemas on the server), imported rather than retyped.
// Device is declared in its route module, so the checker follows that module's server imports;
// the auth plugin is named here for the fastify declarations (requireRole, caller) those use, and
// the rate limiter for the route option the sign-in route declares.
import type {} from '../../../api/plugins/auth.ts'
import type {} from '@fastify/rate-limit'
export type { CityMap, MapSummary, MapAlert, MapVehicle, MapOverview, MapHousehold, MapStreet } from '../../../api/schemas/map.ts'
export type { Device, DeviceListItem, DeviceSummary } from '../../../api/routes/devices.ts'
export type { ErrorBody } from '../../../api/schemas/common.ts'
export type { LiveEvent } from '../../../api/live-feed.ts'
export type { BinReading, LiftEvent, VehiclePosition, DeviceStatus, LiftOutcome } from '../../../core/contract/messages.ts'
export type { AlertKind } from '../../../core/bin-alerts.ts'
export type {
  Breakdown, ContractPerformance, Hotspot, KpiCollection, KpiCollectionPage, KpiFigures, League, LeagueRow, MonthDeduction, Points,
  RepeatHousehold, ScoreComponent, TrendPoint, Trends, WhyMissed,
} from '../../../api/schemas/performance.ts'
export type { DrillKpi } from '../../../analysis/performance/drill-down.ts'
export type { ContractSummary } from '../../../api/schemas/contracts.ts'
export type { ReportRow } from '../../../api/schemas/reports.ts'
export type { QuarantineEntry, QuarantinedPayload, QuarantinePage, QuarantineReasonCount } from '../../../api/schemas/quarantine.ts'
export type { CollectionHistory, CollectionRecord, HouseholdMatch, HouseholdSummary } from '../../../api/schemas/households.ts'
export type { FirstContactAnswer, FirstContactVerdict, NextAction, TimelineEntry } from '../../../analysis/first-contact/schema.ts'
export type { RewardLeaderboard } from '../../../api/schemas/rewards.ts'
export type { WasteStream } from '../../../core/contract/domain.ts'
export type { Role } from '../../../storage/api-keys.ts'
/** What decided a collection's outcome (collection_outcomes.evidence); the API declares it as unknown JSON. */
export type OutcomeEvidence = import('../../../analysis/outcomes/decide.ts').DecidedOutcome['evidence']
export type { LoginResponse } from '../../../api/routes/users.ts'
