// The live city map's data, declared once: fastify validates and serialises with these schemas,
// the OpenAPI document shows them, and the dashboard imports their static types.
//
// Large collections (households, bins, recent lifts) are columnar: one array per field, all of the
// same length, so that a 20,000-household city costs a few bytes per value instead of repeating
// every key per row. Times in columns are epoch seconds; repeated strings are indexes into small
// dictionaries (`streets`, `wards`, `streams`).
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { ALERT_KINDS } from '../../core/bin-alerts.ts'
import { LIFT_OUTCOMES } from '../../core/contract/messages.ts'
import { DateTime } from './common.ts'

// `type: [t, 'null']` rather than anyOf: fast-json-stringify serialises it with a typeof check,
// where anyOf would validate each of tens of thousands of items to pick a branch.
const Nullable = <T extends TSchema & { type: string }>(schema: T) =>
  Type.Unsafe<Static<T> | null>({ ...schema, type: [schema.type, 'null'] })
const Column = <T extends TSchema>(item: T, description: string) => Type.Array(item, { description })
// A plain string enum: serialised as a string, where a union of literals would be tried item by item.
const literals = <T extends readonly string[]>(values: T) => Type.Unsafe<T[number]>({ type: 'string', enum: [...values] })

export const MapQuery = Type.Object({
  hours: Type.Integer({ minimum: 1, maximum: 72, default: 6, description: 'Recent lifts and exceptions from the last this many hours' }),
  liftLimit: Type.Integer({ minimum: 0, maximum: 50_000, default: 5000, description: 'At most this many recent lifts, newest first' }),
})
export type MapQuery = Static<typeof MapQuery>

export const MapStreet = Type.Object({
  name: Type.String(),
  ward: Type.Union([Type.String(), Type.Null()]),
  path: Type.Array(Type.Number(), { description: 'Polyline along the street, flattened [lon, lat, lon, lat, …]; derived from its households in order along the street' }),
})
export type MapStreet = Static<typeof MapStreet>

export const MapHouseholds = Type.Object({
  uprn: Column(Type.Integer(), 'UPRN'),
  lat: Column(Type.Number(), 'Latitude (WGS 84), 5 decimals'),
  lon: Column(Type.Number(), 'Longitude (WGS 84), 5 decimals'),
  street: Column(Type.Integer({ minimum: -1 }), 'Index into `streets`; -1 when the household has no street'),
  ward: Column(Type.Integer({ minimum: -1 }), 'Index into `wards`; -1 when unknown'),
})
export type MapHouseholds = Static<typeof MapHouseholds>

export const MapBins = Type.Object({
  household: Column(Type.Integer({ minimum: 0 }), 'Index into `households` of the household the bin belongs to'),
  binId: Column(Type.String(), 'Bin id'),
  stream: Column(Type.Integer({ minimum: 0 }), 'Index into `streams`'),
  deviceId: Column(Nullable(Type.String()), 'Fitted sensor (the deviceId of live events); null when the bin has none'),
  online: Column(Nullable(Type.Boolean()), 'Sensor connected to the broker (MQTT status); null when unknown'),
  fillPct: Column(Nullable(Type.Number()), 'Last reported fill, %'),
  readingAt: Column(Nullable(Type.Integer()), 'Device time of the last reading, epoch seconds'),
  status: Column(Nullable(Type.String()), 'Last reported status (FIWARE WasteContainer: ok, lidOpen, dropped, moved, vandalized, burning)'),
  tempC: Column(Nullable(Type.Number()), 'Last reported temperature, °C'),
  batteryV: Column(Nullable(Type.Number()), 'Last reported battery voltage'),
})
export type MapBins = Static<typeof MapBins>

export const MapVehicle = Type.Object({
  vehicleId: Type.String(),
  registration: Type.Union([Type.String(), Type.Null()]),
  deviceId: Type.Union([Type.String(), Type.Null()], { description: 'Fitted vehicle unit (the deviceId of live events)' }),
  online: Type.Union([Type.Boolean(), Type.Null()]),
  lat: Type.Union([Type.Number(), Type.Null()]),
  lon: Type.Union([Type.Number(), Type.Null()]),
  speedKmh: Type.Union([Type.Number(), Type.Null()]),
  heading: Type.Union([Type.Number(), Type.Null()]),
  positionAt: Type.Union([DateTime, Type.Null()], { description: 'Device time of the last position' }),
})
export type MapVehicle = Static<typeof MapVehicle>

export const MapLifts = Type.Object({
  ts: Column(Type.Integer(), 'Device time of the lift, epoch seconds; newest first'),
  vehicleId: Column(Nullable(Type.String()), 'Vehicle'),
  binId: Column(Nullable(Type.String()), 'Bin identified by its RFID tag; null for an unknown tag'),
  uprn: Column(Nullable(Type.Integer()), 'Household of the bin'),
  lat: Column(Type.Number(), 'Where the lift happened'),
  lon: Column(Type.Number(), 'Where the lift happened'),
  outcome: Column(literals(LIFT_OUTCOMES), '`collected` or a crew exception code'),
  weightKg: Column(Nullable(Type.Number()), 'Weighed lift, kg'),
})
export type MapLifts = Static<typeof MapLifts>

export const MapAlert = Type.Object({
  kind: literals(ALERT_KINDS),
  bin: Type.Integer({ minimum: 0, description: 'Index into `bins` of the bin raising it (its binId, household, sensor and reading are there)' }),
  value: Type.Union([Type.Number(), Type.Null()], { description: 'The figure behind it: °C, fill %, hours silent (null: never reported), or volts' }),
}, { additionalProperties: false })
export type MapAlert = Static<typeof MapAlert>

export const MapThresholds = Type.Object({
  fireTempC: Type.Number(),
  overflowPct: Type.Number(),
  offlineAfterMs: Type.Integer(),
  lowBatteryV: Type.Number(),
})

export const BaseMapSettings = Type.Object({
  url: Type.String({ description: 'Tile URL template ({z}/{x}/{y}, optionally {s}, {r})' }),
  attribution: Type.String({ description: 'To be shown on the map' }),
  maxZoom: Type.Integer(),
}, { description: "The operator's tile server (MAP_TILE_URL); null: draw the registry's streets with their names" })

export const CityMap = Type.Object({
  generatedAt: DateTime,
  hours: Type.Integer({ description: 'Window of `lifts`, hours before generatedAt' }),
  bounds: Type.Union([Type.Tuple([Type.Number(), Type.Number(), Type.Number(), Type.Number()]), Type.Null()], { description: '[west, south, east, north] of the households; null when none are placed' }),
  wards: Type.Array(Type.String()),
  streams: Type.Array(Type.String()),
  streets: Type.Array(MapStreet),
  households: MapHouseholds,
  bins: MapBins,
  vehicles: Type.Array(MapVehicle),
  lifts: MapLifts,
  alerts: Type.Array(MapAlert, { description: 'Bins raising alerts now, most urgent kind first (fire, overflow, offline, low_battery)' }),
  thresholds: MapThresholds,
  baseMap: Type.Union([BaseMapSettings, Type.Null()]),
}, { $id: 'CityMap' })
export type CityMap = Static<typeof CityMap>

export const MapSummary = Type.Object({
  caller: Type.Object({ name: Type.String(), role: Type.String() }),
  households: Type.Integer(),
  placedHouseholds: Type.Integer({ description: 'Households with coordinates (shown on the map)' }),
  bins: Type.Integer(),
  vehicles: Type.Integer(),
}, { $id: 'MapSummary' })
export type MapSummary = Static<typeof MapSummary>
