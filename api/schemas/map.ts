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

// The map for a city of any size (api/map/city-index.ts): a small overview for the first screen and
// its side panel, households in vector tiles (clustered below street zoom), and one household's bins
// on demand. Every answer is from the same snapshot of the city (`generatedAt`).

const Nul = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
const BandCounts = Type.Array(Type.Integer({ minimum: 0 }), { minItems: 5, maxItems: 5, description: 'Households by fill band: no reading, under 50 %, 50–75 %, 75–90 %, at or over the overflow threshold' })

export const MapAlertRow = Type.Object({
  kind: literals(ALERT_KINDS),
  value: Nul(Type.Number({ description: 'The figure behind it: °C, fill %, hours silent (null: never reported), or volts' })),
  uprn: Type.Integer(),
  street: Nul(Type.String()),
  stream: Type.String(),
  binId: Type.String(),
  deviceId: Type.String(),
  lat: Type.Number(),
  lon: Type.Number(),
}, { additionalProperties: false })
export type MapAlertRow = Static<typeof MapAlertRow>

export const MapLiftRow = Type.Object({
  ts: Type.Integer({ description: 'Device time, epoch seconds' }),
  vehicleId: Nul(Type.String()),
  binId: Nul(Type.String()),
  uprn: Nul(Type.Integer()),
  street: Nul(Type.String({ description: "The household's street" })),
  lat: Type.Number(),
  lon: Type.Number(),
  outcome: literals(LIFT_OUTCOMES),
  weightKg: Nul(Type.Number()),
})
export type MapLiftRow = Static<typeof MapLiftRow>

export const MapOverview = Type.Object({
  generatedAt: DateTime,
  generation: Type.String({ description: 'Names the snapshot; tiles asked for with it (`v`) may be cached' }),
  hours: Type.Integer({ description: 'Window of `lifts`, hours before generatedAt' }),
  bounds: CityMap.properties.bounds,
  streams: Type.Array(Type.String()),
  counts: Type.Object({ households: Type.Integer(), bins: Type.Integer(), vehicles: Type.Integer() }),
  bands: Type.Object({
    all: BandCounts,
    byStream: Type.Array(BandCounts, { description: 'The same counted on the bins of one stream (index into `streams`)' }),
  }, { description: 'Households by the band of their fullest bin' }),
  alerts: Type.Object({
    counts: Type.Object(Object.fromEntries(ALERT_KINDS.map((k) => [k, Type.Integer({ minimum: 0 })])) as Record<(typeof ALERT_KINDS)[number], ReturnType<typeof Type.Integer>>),
    rows: Type.Array(MapAlertRow, { description: 'Most urgent kind first, at most `perKind` of each kind' }),
    perKind: Type.Integer(),
  }),
  vehicles: Type.Array(MapVehicle),
  lifts: Type.Array(MapLiftRow, { description: 'The latest lifts and crew exceptions, newest first' }),
  thresholds: MapThresholds,
  baseMap: Type.Union([BaseMapSettings, Type.Null()]),
}, { $id: 'MapOverview' })
export type MapOverview = Static<typeof MapOverview>

export const MapHouseholdBin = Type.Object({
  binId: Type.String(),
  stream: Type.String(),
  deviceId: Nul(Type.String()),
  online: Nul(Type.Boolean()),
  fillPct: Nul(Type.Number()),
  readingAt: Nul(Type.Integer({ description: 'Device time of the last reading, epoch seconds' })),
  status: Nul(Type.String()),
  tempC: Nul(Type.Number()),
  batteryV: Nul(Type.Number()),
  alerts: Type.Array(literals(ALERT_KINDS)),
})
export const MapHousehold = Type.Object({
  generatedAt: DateTime,
  uprn: Type.Integer(),
  street: Nul(Type.String()),
  ward: Nul(Type.String()),
  lat: Type.Number(),
  lon: Type.Number(),
  bins: Type.Array(MapHouseholdBin),
}, { $id: 'MapHousehold' })
export type MapHousehold = Static<typeof MapHousehold>

export const MapTileParams = Type.Object({
  z: Type.Integer({ minimum: 0, maximum: 22 }),
  x: Type.Integer({ minimum: 0 }),
  y: Type.Integer({ minimum: 0 }),
})
export const MapTileQuery = Type.Object({
  colour: Type.Union([Type.Literal('all'), Type.Integer({ minimum: 0, maximum: 31 })], { default: 'all', description: "Colour households by their fullest bin (all) or by one stream's bins (index into the overview's streams)" }),
  v: Type.Optional(Type.String({ description: "The overview's generation: with the current one the tile may be cached" })),
})
export const MapNearestQuery = Type.Object({
  lat: Type.Number({ minimum: -90, maximum: 90 }),
  lon: Type.Number({ minimum: -180, maximum: 180 }),
  withinM: Type.Number({ minimum: 1, maximum: 1000, default: 60 }),
})
