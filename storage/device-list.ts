// The devices list of the dashboard and the API at city scale (500,000 bins): a page of devices with
// the household each sensor's bin belongs to, found by device id, DevEUI, UPRN, postcode or the
// start of an address or street, filtered by kind and state; and the fleet's counts by state.
// Every search term is answered from an index (migration 127); the list pages by device id.
import { ALERT_THRESHOLDS } from '../core/bin-alerts.ts'
import type { DeviceKind } from '../core/contract/topics.ts'
import type { Queryable } from './database.ts'
import type { DeviceRecord } from './devices.ts'

export const DEVICE_STATES = ['online', 'silent', 'low_battery', 'quarantined', 'revoked'] as const
export type DeviceState = (typeof DEVICE_STATES)[number]

/** A device "quarantined recently" had a message refused within this window. */
export const RECENT_QUARANTINE_MS = 24 * 3_600_000

export interface DeviceListRow extends DeviceRecord {
  devEui: string | null
  uprn: number | null
  address: string | null
  postcode: string | null
  /** The battery of the last reading (or of a LoRaWAN status frame when newer readings carry none), volts. */
  batteryV: number | null
  /** When a message of this device was last refused (quarantine), within RECENT_QUARANTINE_MS; else null. */
  quarantinedAt: Date | null
}

export interface DeviceListQuery {
  /** Device id (exact or its start), DevEUI, UPRN, postcode, or the start of an address or street. */
  q?: string
  kind?: DeviceKind
  state?: DeviceState
  limit: number
  offset: number
  /** Keyset paging: only devices whose id sorts after this one (cheaper than a deep offset). */
  after?: string
  /** May the search match households (UPRN, postcode, address)? Not for roles that may not see them. */
  householdSearch: boolean
  now: Date
}

/** What a search term can be: each kind of term has its own index. */
export interface SearchTerms {
  text: string
  /** Escaped for LIKE, lower case: the start of an address or street. */
  addressPrefix: string | null
  /** Escaped for LIKE: the start of a device id (ids are case-sensitive). */
  idPrefix: string
  devEui: string | null
  uprn: number | null
  /** Upper case without spaces: a full postcode or its start (outward code and more). */
  postcode: string | null
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`)
// A UK postcode or a leading part of one (outward code, with or without the sector digit).
const POSTCODE_START = /^[A-Z]{1,2}\d[A-Z\d]?(\d[A-Z]{0,2})?$/

export function searchTerms(q: string): SearchTerms {
  const text = q.trim()
  const compact = text.toUpperCase().replace(/\s+/g, '')
  return {
    text,
    addressPrefix: text.length >= 2 ? `${escapeLike(text.toLowerCase())}%` : null,
    idPrefix: `${escapeLike(text)}%`,
    devEui: /^[0-9A-F]{16}$/.test(compact.replace(/[-:]/g, '')) ? compact.replace(/[-:]/g, '') : null,
    uprn: /^\d{1,12}$/.test(text) ? Number(text) : null,
    postcode: POSTCODE_START.test(compact) ? compact : null,
  }
}

const SILENT_MS = ALERT_THRESHOLDS.offlineAfterMs

/**
 * SQL conditions of each state, on `d` (devices), `lr` (latest_readings) and `ld` (lorawan_devices).
 * $1 is the instant the states are judged at. Silent is the map's offline rule (core/bin-alerts.ts):
 * nothing heard for three hours, or never heard and not connected.
 */
const STATE_SQL: Record<DeviceState, string> = {
  online: `d.revoked_at IS NULL AND d.online`,
  silent: `d.revoked_at IS NULL AND (d.last_ts < $1::timestamptz - make_interval(secs => ${SILENT_MS / 1000}) OR (d.last_ts IS NULL AND d.online IS NOT TRUE))`,
  low_battery: `d.revoked_at IS NULL AND coalesce(lr.battery_v, ld.battery_v) < ${ALERT_THRESHOLDS.lowBatteryV}`,
  quarantined: `EXISTS (SELECT 1 FROM quarantine qu WHERE qu.device_id = d.device_id AND qu.last_seen > $1::timestamptz - make_interval(secs => ${RECENT_QUARANTINE_MS / 1000}))`,
  revoked: `d.revoked_at IS NOT NULL`,
}

/**
 * The ids matching a search, each kind of term through its own index: device id (exact and
 * prefix), DevEUI, and, when allowed, the bins of households by UPRN, postcode (full or its start),
 * or address or street start. Parameters from `params`, numbered after the ones already there.
 */
function matchingIds(t: SearchTerms, householdSearch: boolean, params: unknown[]): string {
  const p = (v: unknown) => `$${params.push(v)}`
  const branches = [`SELECT device_id FROM devices WHERE device_id LIKE ${p(t.idPrefix)}`]
  if (t.devEui) branches.push(`SELECT device_id FROM lorawan_devices WHERE dev_eui = ${p(t.devEui)}`)
  if (householdSearch) {
    const viaHouseholds = (where: string) =>
      `SELECT d.device_id FROM households h JOIN bins b ON b.uprn = h.uprn JOIN devices d ON d.bin_id = b.bin_id WHERE ${where}`
    if (t.uprn !== null) branches.push(viaHouseholds(`h.uprn = ${p(t.uprn)}`))
    if (t.postcode) branches.push(viaHouseholds(`replace(upper(h.postcode), ' ', '') LIKE ${p(`${t.postcode}%`)}`))
    if (t.addressPrefix) {
      const a = p(t.addressPrefix)
      branches.push(viaHouseholds(`lower(h.address) LIKE ${a}`), viaHouseholds(`lower(h.street) LIKE ${a}`))
    }
  }
  return branches.join('\n  UNION\n  ')
}

const SELECT_ROW = `
SELECT d.device_id AS "deviceId", d.kind, d.bin_id AS "binId", d.vehicle_id AS "vehicleId", d.created_at AS "createdAt",
       d.revoked_at AS "revokedAt", d.last_seq AS "lastSeq", d.last_ts AS "lastTs", d.online, d.online_since AS "onlineSince",
       ld.dev_eui AS "devEui", h.uprn, h.address, h.postcode,
       round(coalesce(lr.battery_v, ld.battery_v)::numeric, 3)::float8 AS "batteryV",
       (SELECT max(qu.last_seen) FROM quarantine qu
         WHERE qu.device_id = d.device_id AND qu.last_seen > $1::timestamptz - make_interval(secs => ${RECENT_QUARANTINE_MS / 1000})) AS "quarantinedAt"`

const FROM_JOINS = `
  LEFT JOIN bins b ON b.bin_id = d.bin_id
  LEFT JOIN households h ON h.uprn = b.uprn
  LEFT JOIN latest_readings lr ON lr.device_id = d.device_id
  LEFT JOIN lorawan_devices ld ON ld.device_id = d.device_id`

/** A page of devices, by device id, with `limit + 1` read to tell whether there is more. */
export async function listDeviceRows(db: Queryable, f: DeviceListQuery): Promise<{ items: DeviceListRow[]; hasMore: boolean }> {
  const params: unknown[] = [f.now.toISOString()]
  const where: string[] = []
  let from = 'devices d'
  const text = f.q?.trim()
  if (text) from = `(${matchingIds(searchTerms(text), f.householdSearch, params)}) m JOIN devices d ON d.device_id = m.device_id`
  if (f.kind) where.push(`d.kind = $${params.push(f.kind)}`)
  if (f.state) where.push(STATE_SQL[f.state])
  if (f.after !== undefined) where.push(`d.device_id > $${params.push(f.after)}`)
  const sql = `${SELECT_ROW}
  FROM ${from}${FROM_JOINS}
 ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
 ORDER BY d.device_id LIMIT $${params.push(f.limit + 1)} OFFSET $${params.push(f.offset)}`
  const { rows } = await db.query<DeviceListRow>(sql, params)
  const hasMore = rows.length > f.limit
  return { items: hasMore ? rows.slice(0, f.limit) : rows, hasMore }
}

export interface StateCounts { total: number; online: number; silent: number; lowBattery: number; quarantined: number; revoked: number }
export interface DeviceSummary { asOf: Date; bin: StateCounts; vehicle: StateCounts }

/**
 * The fleet's counts by kind and state, each from its own index rather than one pass over every
 * device: the total by kind, online (partial index), silent (last heard), low battery (the last
 * reading's battery), quarantined recently, revoked (partial index).
 */
export async function deviceSummary(db: Queryable, now: Date): Promise<DeviceSummary> {
  const { rows } = await db.query<{ kind: DeviceKind; state: string; n: number }>(`
    SELECT kind, 'total' AS state, count(*)::int AS n FROM devices d WHERE d.revoked_at IS NULL GROUP BY kind
    UNION ALL
    SELECT kind, 'online', count(*)::int FROM devices d WHERE ${STATE_SQL.online} GROUP BY kind
    UNION ALL
    SELECT kind, 'silent', count(*)::int FROM devices d WHERE ${STATE_SQL.silent} GROUP BY kind
    UNION ALL
    SELECT d.kind, 'lowBattery', count(*)::int FROM devices d
      JOIN (SELECT device_id FROM latest_readings WHERE battery_v < ${ALERT_THRESHOLDS.lowBatteryV}
            UNION SELECT device_id FROM lorawan_devices WHERE battery_v < ${ALERT_THRESHOLDS.lowBatteryV}) low ON low.device_id = d.device_id
      LEFT JOIN latest_readings lr ON lr.device_id = d.device_id
      LEFT JOIN lorawan_devices ld ON ld.device_id = d.device_id
     WHERE ${STATE_SQL.low_battery} GROUP BY d.kind
    UNION ALL
    SELECT d.kind, 'quarantined', count(*)::int FROM devices d
     WHERE d.device_id IN (SELECT device_id FROM quarantine WHERE device_id IS NOT NULL AND last_seen > $1::timestamptz - make_interval(secs => ${RECENT_QUARANTINE_MS / 1000}))
     GROUP BY d.kind
    UNION ALL
    SELECT kind, 'revoked', count(*)::int FROM devices d WHERE ${STATE_SQL.revoked} GROUP BY kind`, [now.toISOString()])
  const empty = (): StateCounts => ({ total: 0, online: 0, silent: 0, lowBattery: 0, quarantined: 0, revoked: 0 })
  const out: DeviceSummary = { asOf: now, bin: empty(), vehicle: empty() }
  for (const r of rows) out[r.kind][r.state as keyof StateCounts] = r.n
  return out
}
