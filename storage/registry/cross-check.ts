// Checks across rows, files and the database, run on rows that passed their schema: duplicate
// keys, duplicate RFID tags and sensors, references that exist neither in the file nor in the
// registry, devices that are not provisioned, and rules between fields (a round's anchor day must
// fall on its weekday). Their result is the write plan; any error means nothing is written.
import type { BinRow, ContractRow, RoundRow, RoundStopRow, SubscriptionRow, VehicleRow } from '../../core/contract/registry.ts'
import { isoWeekday } from '../../analysis/calendar/dates.ts'
import type { Queryable } from '../database.ts'
import { ENTITY_KEYS, REGISTRY_ENTITIES, type Entries, type Entry, type EntityRow, type RegistryEntity } from './entities.ts'
import type { ImportError } from './report.ts'
import { RESERVED_DEVICE_PREFIX } from '../devices.ts'
import { checkImportSensors } from '../lorawan-devices.ts'
import { SENSOR_MODELS } from '../../ingest/codecs/index.ts'

export type ValidRows = { [E in RegistryEntity]: Entry<EntityRow<E>>[] }

export interface WritePlan {
  rows: ValidRows
  /** Bins whose current RFID tag passes to another bin in the file: cleared before the bins are written. */
  tagReleases: string[]
}

const LOOKUP_CHUNK = 10_000
const DAY_NAMES = ['', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']

type Key = string | number

/** The key fields of a raw row, or null when one is missing or not a scalar. */
function keyOf(fields: readonly string[], value: unknown): Key[] | null {
  if (typeof value !== 'object' || value === null) return null
  const out: Key[] = []
  for (const f of fields) {
    const v = (value as Record<string, unknown>)[f]
    if (typeof v !== 'string' && typeof v !== 'number') return null
    out.push(v)
  }
  return out
}

/**
 * First row of each key, in maps nested by key field: no string is built per row (a city has
 * a million rows). Returns the earlier row when the key was seen already.
 */
class FirstRows {
  readonly root = new Map<Key, unknown>()
  add(key: Key[], row: number): number | undefined {
    let level = this.root
    for (let i = 0; i < key.length - 1; i++) {
      let next = level.get(key[i]!) as Map<Key, unknown> | undefined
      if (!next) level.set(key[i]!, (next = new Map()))
      level = next
    }
    const last = key[key.length - 1]!
    const seen = level.get(last) as number | undefined
    if (seen === undefined) level.set(last, row)
    return seen
  }
}

/**
 * One pass over each entity's rows, valid or not: duplicate keys are reported, and the keys found
 * are what references may point at. (A bin that refers to a household whose row has a bad postcode
 * is not also reported as referring to an unknown household.) References only point at entities
 * with one-field keys, whose first level is the set of keys.
 */
function fileKeys(entries: Entries, errors: ImportError[]): Record<RegistryEntity, ReadonlyMap<Key, unknown>> {
  const out = {} as Record<RegistryEntity, ReadonlyMap<Key, unknown>>
  for (const entity of REGISTRY_ENTITIES) {
    const fields = ENTITY_KEYS[entity]
    const first = new FirstRows()
    for (const { row, value } of entries[entity] ?? []) {
      const k = keyOf(fields, value)
      if (k === null) continue
      const at = first.add(k, row)
      if (at !== undefined) errors.push({ entity, row, field: fields.length === 1 ? fields[0] : undefined, message: `duplicate ${fields.join(' + ')} ${k.join(' + ')} (first at row ${at})` })
    }
    out[entity] = first.root
  }
  return out
}

/** Which of `values` exist in `table.column`, asked in chunks. Table and column names are constants of this file. */
async function existing(db: Queryable, table: string, column: string, type: 'text' | 'bigint', values: string[]): Promise<Set<string>> {
  const found = new Set<string>()
  for (let i = 0; i < values.length; i += LOOKUP_CHUNK) {
    const chunk = values.slice(i, i + LOOKUP_CHUNK)
    const { rows } = await db.query<{ k: string }>(`SELECT ${column}::text AS k FROM ${table} WHERE ${column} = ANY($1::${type}[])`, [type === 'bigint' ? chunk.map(Number) : chunk])
    for (const r of rows) found.add(r.k)
  }
  return found
}

interface Reference {
  entity: RegistryEntity
  field: string
  target: RegistryEntity
  table: string
  column: string
  type: 'text' | 'bigint'
  label: string
}

const REFERENCES: Reference[] = [
  { entity: 'bins', field: 'uprn', target: 'households', table: 'households', column: 'uprn', type: 'bigint', label: 'household with UPRN' },
  { entity: 'vehicles', field: 'contractorId', target: 'contractors', table: 'contractors', column: 'contractor_id', type: 'text', label: 'contractor' },
  { entity: 'contracts', field: 'contractorId', target: 'contractors', table: 'contractors', column: 'contractor_id', type: 'text', label: 'contractor' },
  { entity: 'rounds', field: 'contractId', target: 'contracts', table: 'contracts', column: 'contract_id', type: 'text', label: 'contract' },
  { entity: 'rounds', field: 'vehicleId', target: 'vehicles', table: 'vehicles', column: 'vehicle_id', type: 'text', label: 'vehicle' },
  { entity: 'roundStops', field: 'roundId', target: 'rounds', table: 'rounds', column: 'round_id', type: 'text', label: 'round' },
  { entity: 'roundStops', field: 'uprn', target: 'households', table: 'households', column: 'uprn', type: 'bigint', label: 'household with UPRN' },
  { entity: 'subscriptions', field: 'uprn', target: 'households', table: 'households', column: 'uprn', type: 'bigint', label: 'household with UPRN' },
]

async function checkReference(db: Queryable, ref: Reference, rows: Entry[], keys: ReadonlyMap<Key, unknown>, errors: ImportError[]): Promise<void> {
  const outside = new Set<Key>()
  for (const { value } of rows) {
    const v = (value as Record<string, Key | null | undefined>)[ref.field]
    if (v !== undefined && v !== null && !keys.has(v)) outside.add(v)
  }
  if (outside.size === 0) return
  const known = await existing(db, ref.table, ref.column, ref.type, [...outside].map(String))
  for (const { row, value } of rows) {
    const v = (value as Record<string, Key | null | undefined>)[ref.field]
    if (v !== undefined && v !== null && outside.has(v) && !known.has(String(v))) {
      errors.push({ entity: ref.entity, row, field: ref.field, message: `no ${ref.label} ${v} in the file or in the registry` })
    }
  }
}

/** RFID tags: unique within the file, and not on a bin of the registry that keeps it. */
async function checkTags(db: Queryable, bins: Entry<BinRow>[], errors: ImportError[]): Promise<string[]> {
  const tagOf = new Map<string, string | null>() // bin in file -> its new tag
  const firstRow = new Map<string, { row: number; binId: string }>()
  for (const { row, value: b } of bins) {
    tagOf.set(b.binId, b.rfidTag ?? null)
    if (!b.rfidTag) continue
    const seen = firstRow.get(b.rfidTag)
    if (seen) errors.push({ entity: 'bins', row, field: 'rfidTag', message: `RFID tag ${b.rfidTag} is also given to bin ${seen.binId} (row ${seen.row})` })
    else firstRow.set(b.rfidTag, { row, binId: b.binId })
  }
  const tags = [...firstRow.keys()]
  const releases: string[] = []
  for (let i = 0; i < tags.length; i += LOOKUP_CHUNK) {
    const { rows } = await db.query<{ tag: string; binId: string }>(`SELECT rfid_tag AS tag, bin_id AS "binId" FROM bins WHERE rfid_tag = ANY($1::text[])`, [tags.slice(i, i + LOOKUP_CHUNK)])
    for (const { tag, binId: owner } of rows) {
      const claim = firstRow.get(tag)!
      if (owner === claim.binId) continue
      // The tag moves from one bin of the file to another: clear it from its old bin first.
      if (tagOf.has(owner) && tagOf.get(owner) !== tag) releases.push(owner)
      else errors.push({ entity: 'bins', row: claim.row, field: 'rfidTag', message: `RFID tag ${tag} is on bin ${owner} in the registry` })
    }
  }
  return releases
}

/** Sensors and vehicle units: provisioned, of the right kind, not revoked, each on one bin or vehicle. */
async function checkDevices(db: Queryable, entity: 'bins' | 'vehicles', links: { row: number; deviceId: string; target: string }[], errors: ImportError[]): Promise<void> {
  const kind = entity === 'bins' ? 'bin' : 'vehicle'
  const field = entity === 'bins' ? 'sensorDeviceId' : 'unitDeviceId'
  const first = new Map<string, { row: number; target: string }>()
  for (const l of links) {
    const seen = first.get(l.deviceId)
    if (seen) errors.push({ entity, row: l.row, field, message: `device ${l.deviceId} is also fitted to ${kind} ${seen.target} (row ${seen.row})` })
    else first.set(l.deviceId, l)
  }
  const ids = [...first.keys()]
  const found = new Map<string, { kind: string; revoked: boolean; current: string | null }>()
  for (let i = 0; i < ids.length; i += LOOKUP_CHUNK) {
    const { rows } = await db.query<{ deviceId: string; kind: string; revoked: boolean; current: string | null }>(
      `SELECT device_id AS "deviceId", kind, revoked_at IS NOT NULL AS revoked, coalesce(bin_id, vehicle_id) AS current FROM devices WHERE device_id = ANY($1::text[])`,
      [ids.slice(i, i + LOOKUP_CHUNK)],
    )
    for (const r of rows) found.set(r.deviceId, r)
  }
  for (const [deviceId, l] of first) {
    const d = found.get(deviceId)
    if (deviceId.toLowerCase().startsWith(RESERVED_DEVICE_PREFIX)) errors.push({ entity, row: l.row, field, message: `device id ${deviceId} starts with "${RESERVED_DEVICE_PREFIX}", which is reserved for Kerbside's own services on the broker` })
    else if (!d) errors.push({ entity, row: l.row, field, message: `device ${deviceId} is not registered; provision it first (kerbside devices add, or POST /api/v1/devices)` })
    else if (d.kind !== kind) errors.push({ entity, row: l.row, field, message: `device ${deviceId} is a ${d.kind} device, not a ${kind} device` })
    else if (d.revoked && d.current !== l.target) errors.push({ entity, row: l.row, field, message: `device ${deviceId} is revoked` })
  }
}

function checkFieldRules(valid: ValidRows, errors: ImportError[]): void {
  for (const { row, value: c } of valid.contracts as Entry<ContractRow>[]) {
    if (c.endsOn && c.endsOn < c.startsOn) errors.push({ entity: 'contracts', row, field: 'endsOn', message: `ends (${c.endsOn}) before it starts (${c.startsOn})` })
  }
  for (const { row, value: s } of valid.subscriptions as Entry<SubscriptionRow>[]) {
    if (s.endsOn && s.endsOn < s.startsOn) errors.push({ entity: 'subscriptions', row, field: 'endsOn', message: `ends (${s.endsOn}) before it starts (${s.startsOn})` })
  }
  for (const { row, value: r } of valid.rounds as Entry<RoundRow>[]) {
    const day = isoWeekday(r.anchorDate)
    if (day !== r.weekday) errors.push({ entity: 'rounds', row, field: 'anchorDate', message: `${r.anchorDate} is a ${DAY_NAMES[day]}, but the round's weekday is ${r.weekday} (${DAY_NAMES[r.weekday]})` })
    if ((r.startsAt ?? '07:00') >= (r.endsAt ?? '15:00')) errors.push({ entity: 'rounds', row, field: 'endsAt', message: `the round ends (${r.endsAt ?? '15:00'}) before it starts (${r.startsAt ?? '07:00'})` })
  }
  // Driving order: one household per position on a round.
  const positions = new Map<string, Map<number, { row: number; uprn: number }>>()
  for (const { row, value: s } of valid.roundStops as Entry<RoundStopRow>[]) {
    let onRound = positions.get(s.roundId)
    if (!onRound) positions.set(s.roundId, (onRound = new Map()))
    const seen = onRound.get(s.position)
    if (seen) errors.push({ entity: 'roundStops', row, field: 'position', message: `position ${s.position} on round ${s.roundId} is already UPRN ${seen.uprn} (row ${seen.row})` })
    else onRound.set(s.position, { row, uprn: s.uprn })
  }
}

export async function crossCheck(db: Queryable, entries: Entries, valid: ValidRows, errors: ImportError[]): Promise<WritePlan> {
  const keys = fileKeys(entries, errors)
  for (const ref of REFERENCES) await checkReference(db, ref, valid[ref.entity], keys[ref.target], errors)
  checkFieldRules(valid, errors)
  const bins = valid.bins as Entry<BinRow>[]
  const vehicles = valid.vehicles as Entry<VehicleRow>[]
  const tagReleases = await checkTags(db, bins, errors)
  // A LoRaWAN sensor's device is created by the import itself (storage/lorawan-devices.ts).
  const lorawan = bins.filter((b) => b.value.sensorDevEui)
  await checkImportSensors(db, lorawan, SENSOR_MODELS, errors)
  await checkDevices(db, 'bins', bins.filter((b) => b.value.sensorDeviceId && !b.value.sensorDevEui).map((b) => ({ row: b.row, deviceId: b.value.sensorDeviceId!, target: b.value.binId })), errors)
  await checkDevices(db, 'vehicles', vehicles.filter((v) => v.value.unitDeviceId).map((v) => ({ row: v.row, deviceId: v.value.unitDeviceId!, target: v.value.vehicleId })), errors)
  return { rows: valid, tagReleases }
}
