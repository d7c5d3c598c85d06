// Refused input, as an operator browses it: the quarantine table (written by ingest/write-batch.ts
// for MQTT messages and storage/lorawan-devices.ts for network-server uplinks) listed newest first,
// filtered by device, reason and time, with counts by reason, and one entry with its raw payload.
// "Time" is when the input was last refused (last_seen): a flood of the same bad message stays one
// row whose last_seen moves and whose times_seen grows.
import type { Queryable } from './database.ts'

export interface QuarantineFilter {
  deviceId?: string
  reason?: string
  /** Last refused at or after this instant. */
  from?: Date
  /** Last refused before this instant. */
  to?: Date
}

export interface QuarantineEntry {
  id: number
  topic: string
  deviceId: string | null
  reason: string
  detail: string | null
  payloadBytes: number
  timesSeen: number
  firstSeen: Date
  lastSeen: Date
}

export interface QuarantineReasonCount {
  reason: string
  /** Distinct payloads (rows). */
  entries: number
  /** Messages refused, repeats included. */
  messages: number
  lastSeen: Date
}

/** One entry with the payload as kept (its first 4,096 bytes; payloadBytes is the whole size). */
export interface QuarantinedPayload extends QuarantineEntry {
  payload: Buffer
}

const COLUMNS = `id::float8 AS id, topic, device_id AS "deviceId", reason, detail, payload_bytes AS "payloadBytes", times_seen AS "timesSeen",
  first_seen AS "firstSeen", last_seen AS "lastSeen"`

/** WHERE clause and parameters for a filter; `skipReason` for the counts by reason, which show every reason. */
function where(f: QuarantineFilter, skipReason = false): { sql: string; params: unknown[] } {
  const parts: string[] = []
  const params: unknown[] = []
  if (f.deviceId !== undefined) { params.push(f.deviceId); parts.push(`device_id = $${params.length}`) }
  if (f.reason !== undefined && !skipReason) { params.push(f.reason); parts.push(`reason = $${params.length}`) }
  if (f.from) { params.push(f.from.toISOString()); parts.push(`last_seen >= $${params.length}`) }
  if (f.to) { params.push(f.to.toISOString()); parts.push(`last_seen < $${params.length}`) }
  return { sql: parts.length > 0 ? `WHERE ${parts.join(' AND ')}` : '', params }
}

/** A page of entries, newest first, and how many match in all. */
export async function listQuarantine(db: Queryable, f: QuarantineFilter, page: { limit: number; offset: number }): Promise<{ total: number; entries: QuarantineEntry[] }> {
  const w = where(f)
  const total = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM quarantine ${w.sql}`, w.params)
  const rows = await db.query<QuarantineEntry>(
    `SELECT ${COLUMNS} FROM quarantine ${w.sql} ORDER BY last_seen DESC, id DESC LIMIT $${w.params.length + 1} OFFSET $${w.params.length + 2}`,
    [...w.params, page.limit, page.offset],
  )
  return { total: total.rows[0]?.n ?? 0, entries: rows.rows }
}

/** Entries and messages by reason under the same device and time filter (any reason), most messages first. */
export async function quarantineCountsByReason(db: Queryable, f: QuarantineFilter): Promise<QuarantineReasonCount[]> {
  const w = where(f, true)
  const res = await db.query<QuarantineReasonCount>(
    `SELECT reason, count(*)::int AS entries, sum(times_seen)::int AS messages, max(last_seen) AS "lastSeen"
       FROM quarantine ${w.sql} GROUP BY reason ORDER BY messages DESC, reason`,
    w.params,
  )
  return res.rows
}

/** One entry with its kept payload, or null. */
export async function getQuarantined(db: Queryable, id: number): Promise<QuarantinedPayload | null> {
  const res = await db.query<QuarantineEntry & { payloadBase64: string }>(`SELECT ${COLUMNS}, encode(payload, 'base64') AS "payloadBase64" FROM quarantine WHERE id = $1`, [id])
  const row = res.rows[0]
  if (!row) return null
  const { payloadBase64, ...entry } = row
  return { ...entry, payload: Buffer.from(payloadBase64.replace(/\s/g, ''), 'base64') }
}
