// The registry as data: one shape per entity, used by import/export (CSV and JSON), by the API, by
// the city generator and by the dashboard. Column names in CSV files are these property names.
// Mirrors storage/migrations/001_registry.sql and 008_rounds_and_calendar.sql.
import { Type, type Static } from '@sinclair/typebox'
import { WASTE_STREAMS } from './domain.ts'
import { DEVICE_ID_PATTERN } from './topics.ts'

const Stream = Type.Union(WASTE_STREAMS.map((s) => Type.Literal(s)))
const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]*$' })
const IsoDate = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD' })
const Time = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'HH:MM' })
const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Number> | ReturnType<typeof Type.Integer>>(t: T) => Type.Optional(Type.Union([t, Type.Null()]))

export const HouseholdRow = Type.Object({
  uprn: Type.Integer({ minimum: 1, maximum: 999_999_999_999 }),
  address: Type.String({ minLength: 1, maxLength: 300 }),
  street: Nullable(Type.String({ maxLength: 200 })),
  postcode: Nullable(Type.String({ maxLength: 10, pattern: '^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$' })),
  ward: Nullable(Type.String({ maxLength: 100 })),
  lat: Nullable(Type.Number({ minimum: -90, maximum: 90 })),
  lon: Nullable(Type.Number({ minimum: -180, maximum: 180 })),
  assisted: Type.Optional(Type.Boolean()),
  crmRef: Nullable(Type.String({ maxLength: 64 })),
}, { additionalProperties: false, $id: 'HouseholdRow' })
export type HouseholdRow = Static<typeof HouseholdRow>

export const BinRow = Type.Object({
  binId: Id,
  uprn: Type.Integer({ minimum: 1, maximum: 999_999_999_999 }),
  stream: Stream,
  rfidTag: Nullable(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9:_-]+$' })),
  capacityL: Nullable(Type.Integer({ minimum: 1, maximum: 5000 })),
  colour: Nullable(Type.String({ maxLength: 30 })),
  communal: Type.Optional(Type.Boolean()),
  sensorDeviceId: Nullable(Type.String({ pattern: DEVICE_ID_PATTERN })),
  // A LoRaWAN sensor on the bin, registered by the import itself (docs/lorawan.md); calibration overrides the bin's default geometry.
  sensorDevEui: Type.Optional(Nullable(Type.String({ pattern: '^[0-9A-Fa-f]{16}$', description: 'DevEUI of the LoRaWAN sensor on this bin' }))),
  sensorModel: Type.Optional(Nullable(Type.String({ maxLength: 64, description: 'Its model: milesight-em310-udl, milesight-em400-udl, dragino-ldds75, decentlab-dl-mbx' }))),
  sensorInnerDepthMm: Type.Optional(Nullable(Type.Integer({ minimum: 100, maximum: 3000 }))),
  sensorMountOffsetMm: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 500 }))),
  sensorBlindZoneMm: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 1000 }))),
}, { additionalProperties: false, $id: 'BinRow' })
export type BinRow = Static<typeof BinRow>

export const ContractorRow = Type.Object({
  contractorId: Id,
  name: Type.String({ minLength: 1, maxLength: 200 }),
}, { additionalProperties: false, $id: 'ContractorRow' })
export type ContractorRow = Static<typeof ContractorRow>

export const VehicleRow = Type.Object({
  vehicleId: Id,
  registration: Nullable(Type.String({ maxLength: 16 })),
  contractorId: Nullable(Id),
  capacityKg: Nullable(Type.Integer({ minimum: 1 })),
  unitDeviceId: Nullable(Type.String({ pattern: DEVICE_ID_PATTERN })),
}, { additionalProperties: false, $id: 'VehicleRow' })
export type VehicleRow = Static<typeof VehicleRow>

export const ContractRow = Type.Object({
  contractId: Id,
  contractorId: Id,
  name: Type.String({ minLength: 1, maxLength: 200 }),
  startsOn: IsoDate,
  endsOn: Nullable(IsoDate),
  monthlyPayment: Type.Optional(Type.Number({ minimum: 0 })),
  targetMissedPer100k: Type.Optional(Type.Number({ minimum: 0 })),
  targetOnDayPct: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
  targetRectifiedPct: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
  pointsPerMiss: Type.Optional(Type.Number({ minimum: 0 })),
  pointsNotRectified: Type.Optional(Type.Number({ minimum: 0 })),
  repeatMultiplier: Type.Optional(Type.Number({ minimum: 1 })),
  repeatWindowDays: Type.Optional(Type.Integer({ minimum: 1 })),
  pointValue: Type.Optional(Type.Number({ minimum: 0 })),
  deductionCapPct: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
  rectifyWorkingDays: Type.Optional(Type.Integer({ minimum: 0 })),
  reportOpensHour: Type.Optional(Type.Integer({ minimum: 0, maximum: 23 })),
  reportWindowWorkingDays: Type.Optional(Type.Integer({ minimum: 1 })),
}, { additionalProperties: false, $id: 'ContractRow' })
export type ContractRow = Static<typeof ContractRow>

export const RoundRow = Type.Object({
  roundId: Id,
  contractId: Id,
  name: Type.String({ minLength: 1, maxLength: 200 }),
  stream: Stream,
  vehicleId: Nullable(Id),
  weekday: Type.Integer({ minimum: 1, maximum: 7, description: 'ISO weekday, 1 = Monday' }),
  frequency: Type.Union([Type.Literal('weekly'), Type.Literal('fortnightly')]),
  anchorDate: IsoDate,
  startsAt: Type.Optional(Time),
  endsAt: Type.Optional(Time),
  subscription: Type.Optional(Type.Boolean()),
  active: Type.Optional(Type.Boolean()),
}, { additionalProperties: false, $id: 'RoundRow' })
export type RoundRow = Static<typeof RoundRow>

/** One household on a round, at its position in driving order. */
export const RoundStopRow = Type.Object({
  roundId: Id,
  uprn: Type.Integer({ minimum: 1, maximum: 999_999_999_999 }),
  position: Type.Integer({ minimum: 0 }),
}, { additionalProperties: false, $id: 'RoundStopRow' })
export type RoundStopRow = Static<typeof RoundStopRow>

export const SubscriptionRow = Type.Object({
  uprn: Type.Integer({ minimum: 1, maximum: 999_999_999_999 }),
  stream: Stream,
  startsOn: IsoDate,
  endsOn: Nullable(IsoDate),
}, { additionalProperties: false, $id: 'SubscriptionRow' })
export type SubscriptionRow = Static<typeof SubscriptionRow>

/** The whole registry, as the JSON import/export format (CSV: one file per key). */
export const RegistryDataset = Type.Object({
  contractors: Type.Optional(Type.Array(ContractorRow)),
  households: Type.Optional(Type.Array(HouseholdRow)),
  bins: Type.Optional(Type.Array(BinRow)),
  vehicles: Type.Optional(Type.Array(VehicleRow)),
  contracts: Type.Optional(Type.Array(ContractRow)),
  rounds: Type.Optional(Type.Array(RoundRow)),
  roundStops: Type.Optional(Type.Array(RoundStopRow)),
  subscriptions: Type.Optional(Type.Array(SubscriptionRow)),
}, { additionalProperties: false, $id: 'RegistryDataset' })
export type RegistryDataset = Static<typeof RegistryDataset>

/** Import order: each entity only refers to entities earlier in this list. */
export const REGISTRY_ENTITIES = ['contractors', 'households', 'bins', 'vehicles', 'contracts', 'rounds', 'roundStops', 'subscriptions'] as const
export type RegistryEntity = (typeof REGISTRY_ENTITIES)[number]
