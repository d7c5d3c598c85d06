// The device contract v1 (DESIGN.md "Device contract"): one declaration per message shape.
// Types, runtime validation (ingest), the OpenAPI document (api) and the dashboard all come from here.
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { FormatRegistry } from '@sinclair/typebox'

/** Bin status values, as in the FIWARE WasteContainer model's `status` enum. */
export const BIN_STATUSES = ['ok', 'lidOpen', 'dropped', 'moved', 'vandalized', 'burning'] as const
export type BinStatus = (typeof BIN_STATUSES)[number]

/** Crew exception codes a vehicle unit may log instead of `collected`. */
export const CREW_EXCEPTIONS = ['not_presented', 'contaminated', 'no_access', 'excess_waste', 'overweight', 'wrong_bin'] as const
export type CrewException = (typeof CREW_EXCEPTIONS)[number]
export const LIFT_OUTCOMES = ['collected', ...CREW_EXCEPTIONS] as const
export type LiftOutcome = (typeof LIFT_OUTCOMES)[number]

const literals = <T extends readonly string[]>(values: T) => Type.Union(values.map((v) => Type.Literal(v)))

// seq: per-device monotonic counter, the idempotency key with the device id (and ts, see migrations).
const Seq = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Per-device monotonic sequence number' })
const Ts = Type.String({ format: 'date-time', maxLength: 40, description: "Device's own timestamp, ISO 8601 with zone" })
const Lat = Type.Number({ minimum: -90, maximum: 90 })
const Lon = Type.Number({ minimum: -180, maximum: 180 })

export const BinReading = Type.Object({
  seq: Seq,
  ts: Ts,
  fillPct: Type.Number({ minimum: 0, maximum: 100 }),
  tempC: Type.Optional(Type.Number({ minimum: -60, maximum: 1000 })),
  batteryV: Type.Optional(Type.Number({ minimum: 0, maximum: 30 })),
  status: Type.Optional(literals(BIN_STATUSES)),
}, { additionalProperties: false, $id: 'BinReading' })
export type BinReading = Static<typeof BinReading>

export const LiftEvent = Type.Object({
  seq: Seq,
  ts: Ts,
  tag: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9:_-]+$', description: 'RFID tag of the lifted bin' }),
  weightKg: Type.Optional(Type.Number({ minimum: 0, maximum: 2000 })),
  lat: Lat,
  lon: Lon,
  outcome: literals(LIFT_OUTCOMES),
}, { additionalProperties: false, $id: 'LiftEvent' })
export type LiftEvent = Static<typeof LiftEvent>

export const VehiclePosition = Type.Object({
  seq: Seq,
  ts: Ts,
  lat: Lat,
  lon: Lon,
  speedKmh: Type.Optional(Type.Number({ minimum: 0, maximum: 250 })),
  heading: Type.Optional(Type.Number({ minimum: 0, maximum: 360 })),
}, { additionalProperties: false, $id: 'VehiclePosition' })
export type VehiclePosition = Static<typeof VehiclePosition>

/** Online/offline status: published retained by the device on connect and as its MQTT last will. */
export const DeviceStatus = Type.Object({
  online: Type.Boolean(),
  ts: Type.Optional(Ts),
}, { additionalProperties: false, $id: 'DeviceStatus' })
export type DeviceStatus = Static<typeof DeviceStatus>

export const MESSAGE_SCHEMAS = { reading: BinReading, lift: LiftEvent, position: VehiclePosition, status: DeviceStatus } satisfies Record<string, TSchema>
export type MessageKind = keyof typeof MESSAGE_SCHEMAS

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/
// TypeBox checks formats only once they are registered; the range check is parseDeviceTime's.
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => ISO_8601.test(v) && Number.isFinite(Date.parse(v)) && isRealCalendarTime(v))

// Compiled once: TypeBox's compiler checks a payload in well under a microsecond.
// The `date-time` format is checked separately (parseDeviceTime) because it needs a real date.
const compiled = {
  reading: TypeCompiler.Compile(BinReading),
  lift: TypeCompiler.Compile(LiftEvent),
  position: TypeCompiler.Compile(VehiclePosition),
  status: TypeCompiler.Compile(DeviceStatus),
}

export type ContractMessage =
  | { kind: 'reading'; body: BinReading }
  | { kind: 'lift'; body: LiftEvent }
  | { kind: 'position'; body: VehiclePosition }
  | { kind: 'status'; body: DeviceStatus }

export type ValidationResult = { ok: true; message: ContractMessage } | { ok: false; reason: RejectReason; detail: string }

/** Every reason a message can be refused for; each has a counter in /metrics. */
export const REJECT_REASONS = [
  'payload_too_large', 'bad_encoding', 'bad_json', 'schema', 'bad_timestamp', 'timestamp_out_of_range',
  'unknown_topic', 'unknown_device', 'wrong_device_kind', 'duplicate', 'seq_regression',
] as const
export type RejectReason = (typeof REJECT_REASONS)[number]

/** How far a device clock may run ahead of ours, and how old a message may be, before it is refused. */
export const MAX_FUTURE_MS = 10 * 60_000
export const MAX_AGE_MS = 400 * 24 * 3_600_000

export function parseDeviceTime(ts: string, now = Date.now()): { ok: true; date: Date } | { ok: false; reason: RejectReason; detail: string } {
  // ISO 8601 with an explicit zone; Date.parse alone accepts far too much.
  if (!ISO_8601.test(ts)) {
    return { ok: false, reason: 'bad_timestamp', detail: `ts ${JSON.stringify(ts.slice(0, 40))} is not ISO 8601 with a zone` }
  }
  const ms = Date.parse(ts)
  if (!Number.isFinite(ms) || !isRealCalendarTime(ts)) return { ok: false, reason: 'bad_timestamp', detail: `ts ${JSON.stringify(ts)} is not a real date` }
  if (ms > now + MAX_FUTURE_MS) return { ok: false, reason: 'timestamp_out_of_range', detail: `ts ${ts} is more than ${MAX_FUTURE_MS / 60_000} min in the future` }
  if (ms < now - MAX_AGE_MS) return { ok: false, reason: 'timestamp_out_of_range', detail: `ts ${ts} is older than ${MAX_AGE_MS / 86_400_000} days` }
  return { ok: true, date: new Date(ms) }
}

// Date.parse rolls 30 February over into March; a device clock that says so is broken, not early.
function isRealCalendarTime(ts: string): boolean {
  const [y, mo, d, h, mi, se] = [ts.slice(0, 4), ts.slice(5, 7), ts.slice(8, 10), ts.slice(11, 13), ts.slice(14, 16), ts.slice(17, 19)].map(Number) as [number, number, number, number, number, number]
  return new Date(Date.UTC(y, mo - 1, d)).getUTCDate() === d && mo >= 1 && mo <= 12 && h < 24 && mi < 60 && se < 60
}

/** Validate a decoded payload against the schema of its kind; the first error is reported. */
export function validateMessage(kind: MessageKind, body: unknown, now = Date.now()): ValidationResult {
  const check = compiled[kind]
  if (!check.Check(body)) {
    const first = check.Errors(body).First()
    const detail = first ? `${first.path || '/'}: ${first.message}` : 'does not match the schema'
    return { ok: false, reason: 'schema', detail }
  }
  const ts = (body as { ts?: string }).ts
  if (ts !== undefined) {
    const parsed = parseDeviceTime(ts, now)
    if (!parsed.ok) return parsed
  }
  return { ok: true, message: { kind, body } as ContractMessage }
}
